// Package notifytest provides real protocol peers for tests: an SMTP server
// (emersion/go-smtp) that records the mail it accepts and can refuse or stall,
// a TCP server that accepts SMTP connections and never answers, and a webhook
// SMS gateway. Only tests import it.
package notifytest

import (
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Received is one mail an SMTP test server accepted.
type Received struct {
	From string
	To   []string
	Data []byte
	User string // authenticated user, if any
}

// SMTPServer is a real SMTP server (emersion/go-smtp) that records what it
// receives.
type SMTPServer struct {
	Addr     string
	User     string // when set, AUTH PLAIN with User/Pass is offered and required
	Pass     string
	srv      *smtp.Server
	mu       sync.Mutex
	messages []Received
	refuse   map[string]*smtp.SMTPError // by recipient
	stall    chan struct{}              // closed when stalled DATA may answer
	inData   int
}

// StartSMTP serves on addr ("127.0.0.1:0" for any port).
func StartSMTP(t *testing.T, addr, user, pass string) *SMTPServer {
	t.Helper()
	l, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	s := &SMTPServer{Addr: l.Addr().String(), User: user, Pass: pass}
	s.srv = smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) {
		return &session{srv: s}, nil
	}))
	s.srv.Domain = "mx.test"
	s.srv.AllowInsecureAuth = true
	s.srv.ReadTimeout = 10 * time.Second
	s.srv.WriteTimeout = 10 * time.Second
	s.srv.ErrorLog = serverLog{t}
	go s.srv.Serve(l)
	t.Cleanup(func() {
		s.Unstall()
		s.srv.Close()
	})
	return s
}

// Refuse makes the server answer RCPT TO rcpt with code and text, e.g. 550
// (a rejection) or 450 (try again later).
func (s *SMTPServer) Refuse(rcpt string, code int, text string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.refuse == nil {
		s.refuse = map[string]*smtp.SMTPError{}
	}
	s.refuse[rcpt] = &smtp.SMTPError{Code: code, Message: text}
}

// Stall makes the server read every following message and then not answer
// the end of DATA until Unstall (or the end of the test): a server that hangs
// in the middle of a delivery.
func (s *SMTPServer) Stall() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stall == nil {
		s.stall = make(chan struct{})
	}
}

// Unstall lets stalled messages be answered (and accepted).
func (s *SMTPServer) Unstall() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stall != nil {
		close(s.stall)
		s.stall = nil
	}
}

// InData returns how many messages have reached DATA, stalled or not.
func (s *SMTPServer) InData() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.inData
}

type serverLog struct{ t *testing.T }

func (l serverLog) Printf(format string, v ...any) { l.t.Logf("smtp server: "+format, v...) }
func (l serverLog) Println(v ...any)               { l.t.Log(append([]any{"smtp server:"}, v...)...) }

func (s *SMTPServer) Messages() []Received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Received(nil), s.messages...)
}

type session struct {
	srv  *SMTPServer
	user string
	cur  Received
}

func (s *session) AuthMechanisms() []string {
	if s.srv.User == "" {
		return nil
	}
	return []string{sasl.Plain}
}

func (s *session) Auth(mech string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(identity, username, password string) error {
		if username != s.srv.User || password != s.srv.Pass {
			return smtp.ErrAuthFailed
		}
		s.user = username
		return nil
	}), nil
}

func (s *session) Mail(from string, _ *smtp.MailOptions) error {
	if s.srv.User != "" && s.user == "" {
		return smtp.ErrAuthRequired
	}
	s.cur = Received{From: from, User: s.user}
	return nil
}

func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.srv.mu.Lock()
	refusal := s.srv.refuse[to]
	s.srv.mu.Unlock()
	if refusal != nil {
		return refusal
	}
	s.cur.To = append(s.cur.To, to)
	return nil
}

func (s *session) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.srv.mu.Lock()
	s.srv.inData++
	stall := s.srv.stall
	s.srv.mu.Unlock()
	if stall != nil {
		<-stall
	}
	s.cur.Data = b
	s.srv.mu.Lock()
	s.srv.messages = append(s.srv.messages, s.cur)
	s.srv.mu.Unlock()
	return nil
}

func (s *session) Reset()        { s.cur = Received{} }
func (s *session) Logout() error { return nil }

// WaitMail waits until a mail to rcpt has arrived and returns the newest
// one's raw data.
func (s *SMTPServer) WaitMail(t testing.TB, rcpt string, after int, timeout time.Duration) Received {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		var mine []Received
		for _, m := range s.Messages() {
			for _, to := range m.To {
				if to == rcpt {
					mine = append(mine, m)
				}
			}
		}
		if len(mine) > after {
			return mine[len(mine)-1]
		}
		if time.Now().After(deadline) {
			t.Fatalf("no mail to %s within %s", rcpt, timeout)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// SilentServer accepts TCP connections and never answers, not even with the
// SMTP greeting: an SMTP server that hangs.
type SilentServer struct {
	Addr     string
	mu       sync.Mutex
	accepted int
	open     []net.Conn
}

// StartSilentSMTP starts a silent server on a loopback port; it closes its
// connections when the test ends.
func StartSilentSMTP(t testing.TB) *SilentServer {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &SilentServer{Addr: l.Addr().String()}
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			s.mu.Lock()
			s.accepted++
			s.open = append(s.open, c)
			s.mu.Unlock()
			// Read and discard whatever the client sends, never answer.
			go io.Copy(io.Discard, c)
		}
	}()
	t.Cleanup(func() {
		l.Close()
		s.mu.Lock()
		defer s.mu.Unlock()
		for _, c := range s.open {
			c.Close()
		}
	})
	return s
}

// Accepted returns how many connections the server has accepted.
func (s *SilentServer) Accepted() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.accepted
}
