package notify

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/mail"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	gomail "github.com/wneessen/go-mail"

	"dialoog/branding"
)

// Mailer delivers one mail. The idempotency key is the same for every
// attempt of one outbox row.
type Mailer interface {
	Name() string
	Send(ctx context.Context, idempotencyKey string, m Mail) error
}

// DevTransport is the Name of the transports that deliver nothing; the
// outbox keeps the payload of rows they "sent" for the dev outbox.
const DevTransport = "dev"

// SMTPTimeout bounds connecting to and every exchange with the SMTP server,
// and is the worker's default bound on one whole mail delivery.
const SMTPTimeout = 30 * time.Second

type devMailer struct{}

func (devMailer) Name() string                             { return DevTransport }
func (devMailer) Send(context.Context, string, Mail) error { return nil }

// NewMailer returns the mail transport for u:
//   - nil: the dev transport, which delivers nothing;
//   - smtp://[user:pass@]host[:port] (port 587 by default): STARTTLS when
//     the server offers it; ?tls=required makes it mandatory, ?tls=none
//     disables it;
//   - smtps://[user:pass@]host[:port] (port 465 by default): implicit TLS.
//
// With credentials in the URL the mailer authenticates with PLAIN or LOGIN
// (preferring PLAIN; over an unencrypted connection only to localhost). Mail
// goes out From from, as multipart/alternative plain text and HTML in UTF-8,
// with a Message-ID derived from the idempotency key, marked as generated
// by a program (Auto-Submitted) so that automatic replies stay away.
func NewMailer(u *url.URL, from *mail.Address) (Mailer, error) {
	if u == nil {
		return devMailer{}, nil
	}
	if from == nil || from.Address == "" {
		return nil, errors.New("mailer: no sender address")
	}
	s := &smtpMailer{from: from, host: u.Hostname(), timeout: SMTPTimeout}
	switch u.Scheme {
	case "smtp":
		s.port = 587
		switch t := u.Query().Get("tls"); t {
		case "", "opportunistic":
			s.policy = gomail.TLSOpportunistic
		case "required", "mandatory":
			s.policy = gomail.TLSMandatory
		case "none":
			s.policy = gomail.NoTLS
		default:
			return nil, fmt.Errorf("mailer: unknown tls=%q (use required or none)", t)
		}
	case "smtps":
		s.port = 465
		s.implicitTLS = true
		s.policy = gomail.NoTLS // the connection is TLS from the start
	default:
		return nil, fmt.Errorf("mailer: unsupported scheme %q (use smtp or smtps)", u.Scheme)
	}
	if s.host == "" {
		return nil, errors.New("mailer: no host in the SMTP URL")
	}
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return nil, fmt.Errorf("mailer: bad port %q", p)
		}
		s.port = n
	}
	if u.User != nil {
		s.user = u.User.Username()
		s.pass, _ = u.User.Password()
	}
	s.domain = "localhost"
	if at := strings.LastIndexByte(from.Address, '@'); at >= 0 && at < len(from.Address)-1 {
		s.domain = from.Address[at+1:]
	}
	s.tlsConfig = &tls.Config{ServerName: s.host, MinVersion: tls.VersionTLS12}
	return s, nil
}

type smtpMailer struct {
	host        string
	port        int
	implicitTLS bool
	policy      gomail.TLSPolicy
	tlsConfig   *tls.Config
	user, pass  string
	from        *mail.Address
	domain      string // of the sender, for Message-IDs
	timeout     time.Duration
}

func (s *smtpMailer) Name() string { return "smtp" }

// Send delivers m in one SMTP session. Cancelling ctx closes the connection.
func (s *smtpMailer) Send(ctx context.Context, idempotencyKey string, m Mail) error {
	msg, err := s.message(idempotencyKey, m)
	if err != nil {
		return err
	}

	// go-mail bounds the session by its timeout but only watches ctx while
	// dialling; closing the connection when ctx ends aborts a stuck exchange.
	var mu sync.Mutex
	var stops []func() bool
	defer func() {
		mu.Lock()
		defer mu.Unlock()
		for _, stop := range stops {
			stop()
		}
	}()
	dial := func(dctx context.Context, network, addr string) (net.Conn, error) {
		var conn net.Conn
		var err error
		d := &net.Dialer{}
		if s.implicitTLS {
			conn, err = (&tls.Dialer{NetDialer: d, Config: s.tlsConfig}).DialContext(dctx, network, addr)
		} else {
			conn, err = d.DialContext(dctx, network, addr)
		}
		if err != nil {
			return nil, err
		}
		mu.Lock()
		stops = append(stops, context.AfterFunc(ctx, func() { conn.Close() }))
		mu.Unlock()
		return conn, nil
	}

	opts := []gomail.Option{
		gomail.WithPort(s.port),
		gomail.WithTimeout(s.timeout),
		gomail.WithTLSPolicy(s.policy),
		gomail.WithTLSConfig(s.tlsConfig),
		gomail.WithDialContextFunc(dial),
	}
	if s.user != "" {
		opts = append(opts,
			gomail.WithUsername(s.user),
			gomail.WithPassword(s.pass),
			gomail.WithOpportunisticSMTPAuth(gomail.SMTPAuthPlain, gomail.SMTPAuthLogin))
	}
	c, err := gomail.NewClient(s.host, opts...)
	if err != nil {
		return fmt.Errorf("smtp: %s", s.scrub(err))
	}
	if err := c.DialAndSendWithContext(ctx, msg); err != nil {
		if msg.IsDelivered() {
			// The server accepted the message; only the session's end
			// (RSET, QUIT) failed. Sending it again would duplicate it.
			return nil
		}
		if ctx.Err() != nil {
			return fmt.Errorf("smtp %s:%d: %w", s.host, s.port, ctx.Err())
		}
		// go-mail names the refused recipient; logs never carry recipients.
		text := s.scrub(err)
		if to, perr := mail.ParseAddress(m.To); perr == nil {
			text = strings.ReplaceAll(text, to.Address, "[recipient]")
		}
		return classifySMTP(err, fmt.Errorf("smtp %s:%d: %s", s.host, s.port, text))
	}
	return nil
}

// classifySMTP wraps shown (the error text to keep) by what the server's
// reply says about the message: a 5xx reply to RCPT TO or to the message is
// a rejection, a 4xx reply there (except 421, the server closing) a
// deferral. Everything else, including replies to the greeting, STARTTLS,
// AUTH and MAIL FROM (which concern the server or its configuration, not
// this message), means the transport is unavailable.
func classifySMTP(err, shown error) error {
	var se *gomail.SendError
	if !errors.As(err, &se) {
		return shown
	}
	switch se.Reason {
	case gomail.ErrSMTPRcptTo, gomail.ErrSMTPData, gomail.ErrSMTPDataClose, gomail.ErrWriteContent:
	default:
		return shown
	}
	switch code := se.ErrorCode(); {
	case code >= 500 && code < 600:
		return &RejectedError{Err: shown}
	case code >= 400 && code < 500 && code != 421:
		return &DeferredError{Err: shown}
	}
	return shown
}

// message builds the MIME message for m.
func (s *smtpMailer) message(key string, m Mail) (*gomail.Msg, error) {
	to, err := mail.ParseAddress(m.To)
	if err != nil {
		return nil, fmt.Errorf("smtp: recipient: %w", err)
	}
	msg := gomail.NewMsg(gomail.WithCharset(gomail.CharsetUTF8), gomail.WithNoDefaultUserAgent())
	from := s.from
	// A name with an at sign reads as the sender's address in many mail
	// apps; one stored before the rule refused it is not used.
	if name := oneLineName(m.FromName); name != "" && !branding.HasAtSign(name) {
		from = &mail.Address{Name: name, Address: s.from.Address}
	}
	msg.FromMailAddress(from)
	msg.ToMailAddress(to)
	msg.Subject(m.Subject)
	msg.SetMessageIDWithValue(key + "@" + s.domain)
	msg.SetDateWithValue(time.Now())
	// Generated by a program, to a no-reply address: out-of-office and
	// other automatic replies (RFC 3834; Exchange reads its own header)
	// should not answer it.
	msg.SetGenHeader("Auto-Submitted", "auto-generated")
	msg.SetGenHeader("X-Auto-Response-Suppress", "All")
	switch {
	case m.Text != "" && m.HTML != "":
		msg.SetBodyString(gomail.TypeTextPlain, m.Text)
		msg.AddAlternativeString(gomail.TypeTextHTML, m.HTML)
	case m.HTML != "":
		msg.SetBodyString(gomail.TypeTextHTML, m.HTML)
	default:
		msg.SetBodyString(gomail.TypeTextPlain, m.Text)
	}
	return msg, nil
}

// scrub returns the text of err without the SMTP password, should a server
// or library ever echo it.
func (s *smtpMailer) scrub(err error) string {
	t := err.Error()
	if s.pass != "" {
		t = strings.ReplaceAll(t, s.pass, "[redacted]")
	}
	return t
}

// oneLineName is a sender's display name without line breaks or other
// control characters, which never belong in a header.
func oneLineName(s string) string {
	return strings.TrimSpace(strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, s))
}
