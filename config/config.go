// Package config reads Dialoog's configuration from DIALOOG_* environment
// variables and same-named command-line flags. It validates every value and
// names the variable at fault; it does no I/O beyond reading its inputs.
package config

import (
	"crypto/ecdh"
	"encoding/base64"
	"flag"
	"fmt"
	"io"
	"net"
	"net/mail"
	"net/url"
	"strings"
	"time"

	"dialoog/blob"
	"dialoog/netguard"
)

// Config is the validated configuration of one Dialoog process.
type Config struct {
	Addr          string
	BaseURL       *url.URL
	DataDir       string
	DatabaseURL   string
	SMTPURL       *url.URL // nil selects the dev outbox
	MailFrom      *mail.Address
	SMSURL        *url.URL // nil selects the dev outbox
	Dev           bool
	EncryptionKey []byte // nil means: generate or load the key file in DataDir
	OrgName       string
	// Blob is where attachment contents are kept: DIALOOG_BLOB_URL, or by
	// default the data dir with SQLite and the database with PostgreSQL.
	Blob blob.Location
	// MetricsAddr is where /metrics is served (DIALOOG_METRICS_ADDR); empty
	// turns metrics off. Never the public address.
	MetricsAddr string
	// VAPIDPrivateKey is the Web Push key (DIALOOG_VAPID_PRIVATE_KEY,
	// base64url); empty means: generate or load the key file in DataDir.
	VAPIDPrivateKey string
	// VAPIDSubject is the contact push services may use
	// (DIALOOG_VAPID_SUBJECT): mailto: or https:, by default a mailto: of
	// DIALOOG_MAIL_FROM's address.
	VAPIDSubject string
	// SealCertFile and SealKeyFile are the PEM files of the
	// installation-wide certificate and key that seal signed agreements
	// (DIALOOG_SEAL_CERT, DIALOOG_SEAL_KEY); both empty gives each
	// organisation a self-signed one. Read at start, not here.
	SealCertFile string
	SealKeyFile  string
	// NotifyDelay is how long the mail and push of a new message wait
	// before they go out, and go out only if the message is still unread
	// then (DIALOOG_NOTIFY_DELAY; 0 sends at once).
	NotifyDelay time.Duration
	// ShutdownWait is how long, once told to stop, the instance answers
	// 503 on /readyz while it still serves, so that a load balancer takes
	// it out before the listener closes (DIALOOG_SHUTDOWN_WAIT).
	ShutdownWait time.Duration
	// ShutdownDrain is how long requests under way (an upload, a download)
	// may take to finish once the listener closed
	// (DIALOOG_SHUTDOWN_DRAIN); what is left then is cut.
	ShutdownDrain time.Duration
	// SSONetworks are the only non-public networks where organisations'
	// SSO providers may be (DIALOOG_SSO_NETWORKS); unset, the zero value:
	// any address but a link-local or metadata one.
	SSONetworks netguard.Networks
}

// Secure reports whether the public URL is served over HTTPS.
func (c *Config) Secure() bool { return c.BaseURL.Scheme == "https" }

// Postgres reports whether DatabaseURL selects PostgreSQL.
func (c *Config) Postgres() bool { return c.DatabaseURL != "" }

type setting struct {
	env, flag, def, usage string
}

var settings = []setting{
	{"DIALOOG_ADDR", "addr", "", "listen address (default :8080, or localhost:8080 while the dev outbox is on)"},
	{"DIALOOG_BASE_URL", "base-url", "http://localhost:8080", "public URL used in mail links and the WebSocket origin check"},
	{"DIALOOG_DATA_DIR", "data-dir", "./data", "directory for the SQLite file, the generated key and attachments"},
	{"DIALOOG_DATABASE_URL", "database-url", "", "postgres://... selects PostgreSQL; empty uses SQLite in the data dir"},
	{"DIALOOG_SMTP_URL", "smtp-url", "", "smtp://user:pass@host:port (STARTTLS required beyond loopback; ?tls=opportunistic relaxes it) or smtps://...; empty uses the dev outbox"},
	{"DIALOOG_MAIL_FROM", "mail-from", "Dialoog <no-reply@localhost>", "sender of all mail"},
	{"DIALOOG_SMS_URL", "sms-url", "", "webhook+https://..., webhook+http://..., twilio://SID:TOKEN@api.twilio.com?from=...; empty uses the dev outbox"},
	{"DIALOOG_DEV", "dev", "", "1 shows the dev outbox at /dev/outbox (loopback DIALOOG_ADDR and http base URL only); empty turns it on without DIALOOG_SMTP_URL and with a loopback http base URL; 0 turns it off"},
	{"DIALOOG_ENCRYPTION_KEY", "encryption-key", "", "base64 32-byte key for data at rest; empty generates one into the data dir"},
	{"DIALOOG_ORG_NAME", "org-name", "Demo", "the organisation created on first start"},
	{"DIALOOG_METRICS_ADDR", "metrics-addr", "", "listen address of /metrics (Prometheus), e.g. 127.0.0.1:9090; empty turns metrics off"},
	{"DIALOOG_VAPID_PRIVATE_KEY", "vapid-private-key", "", "Web Push VAPID private key (base64url, 32 bytes, P-256); empty generates one into the data dir"},
	{"DIALOOG_VAPID_SUBJECT", "vapid-subject", "", "contact for push services: mailto:... or https://...; empty uses a mailto: of DIALOOG_MAIL_FROM's address"},
	{"DIALOOG_SEAL_CERT", "seal-cert", "", "PEM file of the certificate (and its chain) that seals signed agreements; empty: a self-signed one per organisation"},
	{"DIALOOG_SEAL_KEY", "seal-key", "", "PEM file of the private key of DIALOOG_SEAL_CERT (unencrypted; ECDSA or RSA)"},
	{"DIALOOG_NOTIFY_DELAY", "notify-delay", "2m", "how long the mail and push of a new message wait; they are not sent if the message was read by then (0s to 1h; 0s sends at once)"},
	{"DIALOOG_SHUTDOWN_WAIT", "shutdown-wait", "", "how long the instance, told to stop, answers 503 on /readyz but still serves before its listener closes (0s to 5m); empty: 5s with PostgreSQL, 0s with SQLite or while the dev outbox is on"},
	{"DIALOOG_SHUTDOWN_DRAIN", "shutdown-drain", "1m", "how long requests under way (uploads, downloads) may take to finish once the listener closed (0s to 1h)"},
	{"DIALOOG_SSO_NETWORKS", "sso-networks", "", "the only non-public networks where organisations' SSO providers may be: comma-separated IP prefixes (10.20.0.0/16,127.0.0.1/32), or public for none; empty: any, loopback and private included (never link-local or metadata addresses)"},
	{"DIALOOG_BLOB_URL", "blob-url", "", "where attachments are kept: datadir, postgres or s3://ACCESS:SECRET@host:port/bucket?region=...; empty: the data dir with SQLite, the database with PostgreSQL"},
}

// MaxNotifyDelay bounds DIALOOG_NOTIFY_DELAY: a later notice of a new
// message tells too late.
const MaxNotifyDelay = time.Hour

// Bounds and defaults of DIALOOG_SHUTDOWN_WAIT and DIALOOG_SHUTDOWN_DRAIN.
const (
	// DefaultShutdownWait is the wait where a load balancer may send
	// requests to the instance: with PostgreSQL, which several instances
	// share. A Kubernetes Service or a reverse proxy polling /readyz
	// every second or two stops sending within a few seconds. SQLite is
	// one instance (nothing to send the requests to instead) and the dev
	// outbox is a person at a terminal: 0, Ctrl-C stops at once.
	DefaultShutdownWait = 5 * time.Second
	// MaxShutdownWait bounds the wait: a balancer that needs longer is
	// misconfigured, and the instance would serve for nothing.
	MaxShutdownWait = 5 * time.Minute
	// DefaultShutdownDrain lets a transfer under way finish: 25 MiB, the
	// largest attachment, over a line of 3.5 Mbit/s, or the rest of one
	// over a slower line. With the default wait and the workers' stop it
	// stays within systemd's 90 s before SIGKILL.
	DefaultShutdownDrain = time.Minute
	// MaxShutdownDrain bounds the drain: a deploy waits for it.
	MaxShutdownDrain = time.Hour
)

// Error is a configuration error that names the variable at fault.
type Error struct {
	Var string
	Msg string
}

func (e *Error) Error() string { return fmt.Sprintf("config: %s: %s", e.Var, e.Msg) }

// Load reads the configuration from getenv, then lets flags in args override
// it. It returns the remaining (non-flag) arguments.
func Load(getenv func(string) string, args []string, output io.Writer) (*Config, []string, error) {
	fs := flag.NewFlagSet("dialoog", flag.ContinueOnError)
	fs.SetOutput(output)
	// The flags' defaults are the built-in ones, never the environment's
	// values: the usage a mistyped flag or --help prints shows defaults,
	// and the environment holds the encryption key and passwords.
	vals := make(map[string]*string, len(settings))
	for _, s := range settings {
		vals[s.env] = fs.String(s.flag, s.def, s.usage+" ("+s.env+")")
	}
	if err := fs.Parse(args); err != nil {
		return nil, nil, fmt.Errorf("config: %w", err)
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	for _, s := range settings {
		if v := getenv(s.env); !set[s.flag] && v != "" {
			*vals[s.env] = v
		}
	}
	get := func(k string) string { return strings.TrimSpace(*vals[k]) }
	c, err := build(get)
	if err != nil {
		return nil, nil, err
	}
	return c, fs.Args(), nil
}

func build(get func(string) string) (*Config, error) {
	c := &Config{Addr: get("DIALOOG_ADDR"), DataDir: get("DIALOOG_DATA_DIR"), OrgName: get("DIALOOG_ORG_NAME")}
	addrSet := c.Addr != ""
	if !addrSet {
		c.Addr = defaultAddr // for now; localhost below when the dev outbox is on
	}
	if !strings.Contains(c.Addr, ":") {
		return nil, &Error{"DIALOOG_ADDR", "must be host:port or :port, e.g. :8080"}
	}
	if c.DataDir == "" {
		return nil, &Error{"DIALOOG_DATA_DIR", "must not be empty"}
	}
	if c.OrgName == "" || len(c.OrgName) > 200 {
		return nil, &Error{"DIALOOG_ORG_NAME", "must be 1 to 200 characters"}
	}
	base, err := url.Parse(get("DIALOOG_BASE_URL"))
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" || base.RawQuery != "" || base.Fragment != "" {
		return nil, &Error{"DIALOOG_BASE_URL", "must be an absolute http:// or https:// URL without query, e.g. https://dialoog.example.nl"}
	}
	base.Path = strings.TrimRight(base.Path, "/")
	c.BaseURL = base

	if v := get("DIALOOG_DATABASE_URL"); v != "" {
		u, err := url.Parse(v)
		if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") || u.Host == "" {
			return nil, &Error{"DIALOOG_DATABASE_URL", "must be a postgres://user@host:port/db URL, or empty for SQLite" + encodingHint(err)}
		}
		c.DatabaseURL = v
	}
	if v := get("DIALOOG_SMTP_URL"); v != "" {
		u, err := url.Parse(v)
		if err != nil || (u.Scheme != "smtp" && u.Scheme != "smtps") || u.Hostname() == "" {
			return nil, &Error{"DIALOOG_SMTP_URL", "must be smtp://user:pass@host:port or smtps://user:pass@host:port" + encodingHint(err)}
		}
		if u.Scheme == "smtp" && u.Port() == "465" {
			// 465 speaks TLS from the first byte: smtp:// there waits
			// for a greeting that never comes.
			return nil, &Error{"DIALOOG_SMTP_URL", "port 465 is for implicit TLS: use smtps://host:465, or smtp://host:587 for STARTTLS"}
		}
		q := u.Query()
		switch t := q.Get("tls"); {
		case t != "" && t != "required" && t != "opportunistic" && t != "none":
			return nil, &Error{"DIALOOG_SMTP_URL", "tls must be required, opportunistic or none"}
		case t == "" && u.Scheme == "smtp" && !LoopbackHost(u.Hostname()):
			// Beyond this machine, STARTTLS is required unless the URL
			// relaxes it: whoever sits in between could strip the offer
			// and read every mail.
			q.Set("tls", "required")
			u.RawQuery = q.Encode()
		}
		c.SMTPURL = u
	}
	from, err := mail.ParseAddress(get("DIALOOG_MAIL_FROM"))
	if err != nil {
		return nil, &Error{"DIALOOG_MAIL_FROM", "must be a mail address, e.g. Dialoog <no-reply@example.nl>"}
	}
	c.MailFrom = from
	if c.SMTPURL != nil && !LoopbackHost(c.SMTPURL.Hostname()) {
		// Beyond this machine, mail from no-reply@localhost (the
		// default) is refused or filtered as spam by the receiving side:
		// every invitation and code would be lost without a word.
		if _, domain, _ := strings.Cut(from.Address, "@"); LoopbackHost(domain) {
			return nil, &Error{"DIALOOG_MAIL_FROM", "must be an address of your own mail domain when DIALOOG_SMTP_URL is a mail server on another host, e.g. Dialoog <no-reply@example.nl>"}
		}
	}
	if v := get("DIALOOG_SMS_URL"); v != "" {
		u, err := url.Parse(v)
		if err != nil || u.Host == "" {
			return nil, &Error{"DIALOOG_SMS_URL", "must be webhook+https://host/path, webhook+http://host/path or twilio://SID:TOKEN@api.twilio.com?from=..." + encodingHint(err)}
		}
		switch u.Scheme {
		case "webhook+https", "webhook+http":
		case "twilio", "twilio+http":
			if _, ok := u.User.Password(); !ok || u.User.Username() == "" {
				return nil, &Error{"DIALOOG_SMS_URL", "twilio:// needs SID:TOKEN@ before the host"}
			}
			if u.Query().Get("from") == "" {
				return nil, &Error{"DIALOOG_SMS_URL", "twilio:// needs ?from=<sender number or messaging service>"}
			}
		default:
			return nil, &Error{"DIALOOG_SMS_URL", "scheme must be webhook+https, webhook+http, twilio or twilio+http"}
		}
		c.SMSURL = u
	}
	switch get("DIALOOG_DEV") {
	case "":
		// On this machine without a mail server (`go run .`), the mail
		// and texts Dialoog "sent" must be visible somewhere: the dev
		// outbox is on, on loopback only. Anything that may reach others
		// (a public or https base URL, a listen address beyond loopback, a
		// mail server) keeps it off.
		c.Dev = c.SMTPURL == nil && !c.Secure() && LoopbackHost(c.BaseURL.Hostname()) && (!addrSet || loopbackAddr(c.Addr))
	case "0", "false":
	case "1", "true":
		c.Dev = true
	default:
		return nil, &Error{"DIALOOG_DEV", "must be 1 or 0"}
	}
	if c.Dev && !addrSet {
		c.Addr = devAddr
	}
	if c.Dev {
		// The dev outbox shows every sign-up link and login code that was
		// "sent" to whoever opens it: only on this machine.
		if c.Secure() {
			return nil, &Error{"DIALOOG_DEV", "must be off with an https:// DIALOOG_BASE_URL: the dev outbox shows every link and code to anyone"}
		}
		if !loopbackAddr(c.Addr) {
			return nil, &Error{"DIALOOG_DEV", "needs a loopback DIALOOG_ADDR such as 127.0.0.1:8080 or localhost:8080: the dev outbox shows every link and code to anyone who can reach it"}
		}
	}
	if v := get("DIALOOG_ENCRYPTION_KEY"); v != "" {
		k, err := base64.StdEncoding.DecodeString(v)
		if err != nil || len(k) != 32 {
			return nil, &Error{"DIALOOG_ENCRYPTION_KEY", "must be 32 bytes in base64 (e.g. from: openssl rand -base64 32)"}
		}
		c.EncryptionKey = k
	}
	if v := get("DIALOOG_VAPID_PRIVATE_KEY"); v != "" {
		raw, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(v, "="))
		if err != nil || len(raw) != 32 {
			return nil, &Error{"DIALOOG_VAPID_PRIVATE_KEY", "must be a P-256 private key of 32 bytes in base64url (unset it to generate one into the data dir)"}
		}
		if _, err := ecdh.P256().NewPrivateKey(raw); err != nil {
			return nil, &Error{"DIALOOG_VAPID_PRIVATE_KEY", "is not a valid P-256 private key"}
		}
		c.VAPIDPrivateKey = v
	}
	c.VAPIDSubject = "mailto:" + c.MailFrom.Address
	if v := get("DIALOOG_VAPID_SUBJECT"); v != "" {
		u, err := url.Parse(v)
		switch {
		case err == nil && u.Scheme == "mailto" && u.Opaque != "":
			if _, err := mail.ParseAddress(u.Opaque); err != nil {
				return nil, &Error{"DIALOOG_VAPID_SUBJECT", "mailto: needs a mail address, e.g. mailto:beheer@example.nl"}
			}
		case err == nil && u.Scheme == "https" && u.Host != "":
		default:
			return nil, &Error{"DIALOOG_VAPID_SUBJECT", "must be mailto:address or an https:// URL"}
		}
		c.VAPIDSubject = v
	}
	switch v := get("DIALOOG_BLOB_URL"); {
	case v == "" && c.Postgres():
		c.Blob = blob.Location{Kind: blob.KindDatabase}
	case v == "":
		c.Blob = blob.Location{Kind: blob.KindDir}
	default:
		loc, err := blob.ParseURL(v)
		if err != nil {
			return nil, &Error{"DIALOOG_BLOB_URL", err.Error()}
		}
		if loc.Kind == blob.KindDatabase && !c.Postgres() {
			return nil, &Error{"DIALOOG_BLOB_URL", "postgres needs DIALOOG_DATABASE_URL to select PostgreSQL"}
		}
		c.Blob = loc
	}
	c.SealCertFile, c.SealKeyFile = strings.TrimSpace(get("DIALOOG_SEAL_CERT")), strings.TrimSpace(get("DIALOOG_SEAL_KEY"))
	switch {
	case c.SealCertFile != "" && c.SealKeyFile == "":
		return nil, &Error{"DIALOOG_SEAL_KEY", "is needed with DIALOOG_SEAL_CERT: the PEM file of its private key"}
	case c.SealCertFile == "" && c.SealKeyFile != "":
		return nil, &Error{"DIALOOG_SEAL_CERT", "is needed with DIALOOG_SEAL_KEY: the PEM file of its certificate"}
	}
	if c.NotifyDelay, err = duration(get, "DIALOOG_NOTIFY_DELAY", 0, MaxNotifyDelay, "must be a duration from 0s to 1h, such as 2m or 90s"); err != nil {
		return nil, err
	}
	wait := time.Duration(0)
	if c.Postgres() && !c.Dev {
		wait = DefaultShutdownWait
	}
	if c.ShutdownWait, err = duration(get, "DIALOOG_SHUTDOWN_WAIT", wait, MaxShutdownWait, "must be a duration from 0s to 5m, such as 5s; empty for the default"); err != nil {
		return nil, err
	}
	// Empty (--shutdown-drain="") is the default too.
	if c.ShutdownDrain, err = duration(get, "DIALOOG_SHUTDOWN_DRAIN", DefaultShutdownDrain, MaxShutdownDrain, "must be a duration from 0s to 1h, such as 1m or 90s"); err != nil {
		return nil, err
	}
	if v := get("DIALOOG_METRICS_ADDR"); v != "" {
		_, port, err := net.SplitHostPort(v)
		if err != nil || port == "" {
			return nil, &Error{"DIALOOG_METRICS_ADDR", "must be host:port or :port, e.g. 127.0.0.1:9090"}
		}
		if _, addrPort, err := net.SplitHostPort(c.Addr); err == nil && addrPort == port && port != "0" {
			return nil, &Error{"DIALOOG_METRICS_ADDR", "must not be the port of DIALOOG_ADDR: metrics are not for the public address"}
		}
		c.MetricsAddr = v
	}
	if c.SSONetworks, err = netguard.ParseNetworks(get("DIALOOG_SSO_NETWORKS")); err != nil {
		return nil, &Error{"DIALOOG_SSO_NETWORKS", err.Error() + " (use comma-separated IP prefixes such as 10.20.0.0/16,127.0.0.1/32, or public)"}
	}
	return c, nil
}

// encodingHint is what an error about a URL adds when the URL did not parse
// (err, nil when it did): most often a password holding a character that
// ends the user part. The URL itself is never shown: it holds the password.
func encodingHint(err error) string {
	if err == nil {
		return ""
	}
	return " (percent-encode special characters in the user name and password: %23 for #, %2F for /, %3F for ?, %40 for @, %25 for %)"
}

const (
	// defaultAddr is the listen address without DIALOOG_ADDR; devAddr the
	// one while the dev outbox is on.
	defaultAddr = ":8080"
	devAddr     = "localhost:8080"
)

// loopbackAddr reports whether the listen address addr is on loopback only.
func loopbackAddr(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	return err == nil && LoopbackHost(host)
}

// LoopbackHost reports whether host (a name or an IP address, without a
// port) is this machine only: localhost or a loopback address. An empty
// host (":8080") listens on every interface and is not.
func LoopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// duration reads the duration setting name: def when empty, else a Go
// duration from 0 to max; anything else is an *Error with problem.
func duration(get func(string) string, name string, def, max time.Duration, problem string) (time.Duration, error) {
	v := get(name)
	if v == "" {
		return def, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 || d > max {
		return 0, &Error{name, problem}
	}
	return d, nil
}
