package config

import (
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"dialoog/blob"
)

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestLoadDefaults(t *testing.T) {
	c, rest, err := Load(env(nil), []string{"invite", "--email", "a@b.nl"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.Addr != "localhost:8080" || c.BaseURL.String() != "http://localhost:8080" || c.DataDir != "./data" || c.OrgName != "Demo" {
		t.Fatalf("unexpected defaults: %+v", c)
	}
	if c.Postgres() || c.SMTPURL != nil || c.SMSURL != nil || !c.Dev || c.Secure() {
		t.Fatalf("defaults should select embedded services and the dev outbox: %+v", c)
	}
	if c.MailFrom.Address != "no-reply@localhost" || c.MailFrom.Name != "Dialoog" {
		t.Fatalf("mail from: %v", c.MailFrom)
	}
	if len(rest) != 3 || rest[0] != "invite" {
		t.Fatalf("rest args: %v", rest)
	}
}

func TestFlagOverridesEnv(t *testing.T) {
	c, _, err := Load(env(map[string]string{"DIALOOG_ADDR": ":9000", "DIALOOG_DEV": "1"}), []string{"--addr", "127.0.0.1:9100"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.Addr != "127.0.0.1:9100" || !c.Dev {
		t.Fatalf("got %+v", c)
	}
}

func TestLoadValid(t *testing.T) {
	c, _, err := Load(env(map[string]string{
		"DIALOOG_BASE_URL":       "https://dialoog.example.nl/",
		"DIALOOG_DATABASE_URL":   "postgres://u@127.0.0.1:5432/d?sslmode=disable",
		"DIALOOG_SMTP_URL":       "smtps://u:p@mail.example.nl:465",
		"DIALOOG_MAIL_FROM":      "Dialoog <no-reply@example.nl>",
		"DIALOOG_SMS_URL":        "twilio://AC1:tok@api.twilio.com?from=%2B3197010",
		"DIALOOG_ENCRYPTION_KEY": "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
	}), nil, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if !c.Secure() || !c.Postgres() || c.BaseURL.String() != "https://dialoog.example.nl" || len(c.EncryptionKey) != 32 {
		t.Fatalf("got %+v", c)
	}
}

func TestLoadErrorsNameTheVariable(t *testing.T) {
	cases := map[string]map[string]string{
		"DIALOOG_ADDR":              {"DIALOOG_ADDR": "8080"},
		"DIALOOG_BASE_URL":          {"DIALOOG_BASE_URL": "localhost:8080"},
		"DIALOOG_DATABASE_URL":      {"DIALOOG_DATABASE_URL": "mysql://x"},
		"DIALOOG_SMTP_URL":          {"DIALOOG_SMTP_URL": "http://mail"},
		"DIALOOG_MAIL_FROM":         {"DIALOOG_MAIL_FROM": "not an address"},
		"DIALOOG_SMS_URL":           {"DIALOOG_SMS_URL": "twilio://api.twilio.com"},
		"DIALOOG_DEV":               {"DIALOOG_DEV": "yes please"},
		"DIALOOG_ENCRYPTION_KEY":    {"DIALOOG_ENCRYPTION_KEY": "c2hvcnQ="},
		"DIALOOG_ORG_NAME":          {"DIALOOG_ORG_NAME": " "},
		"DIALOOG_BLOB_URL":          {"DIALOOG_BLOB_URL": "s3://AK:SK@host"},
		"DIALOOG_NOTIFY_DELAY":      {"DIALOOG_NOTIFY_DELAY": "2 minuten"},
		"DIALOOG_SHUTDOWN_WAIT":     {"DIALOOG_SHUTDOWN_WAIT": "5"},
		"DIALOOG_SHUTDOWN_DRAIN":    {"DIALOOG_SHUTDOWN_DRAIN": "een minuut"},
		"DIALOOG_VAPID_PRIVATE_KEY": {"DIALOOG_VAPID_PRIVATE_KEY": "c2hvcnQ"},
		"DIALOOG_VAPID_SUBJECT":     {"DIALOOG_VAPID_SUBJECT": "beheer@example.nl"},
		"DIALOOG_SEAL_KEY":          {"DIALOOG_SEAL_CERT": "/etc/dialoog/seal.pem"},
		"DIALOOG_SEAL_CERT":         {"DIALOOG_SEAL_KEY": "/etc/dialoog/seal.key"},
		"DIALOOG_SSO_NETWORKS":      {"DIALOOG_SSO_NETWORKS": "intern"},
	}
	for name, m := range cases {
		t.Run(name, func(t *testing.T) {
			_, _, err := Load(env(m), nil, io.Discard)
			var ce *Error
			if !errors.As(err, &ce) || ce.Var != name {
				t.Fatalf("want error naming %s, got %v", name, err)
			}
		})
	}
}

// TestBlobLocation: attachments stay in the data dir with SQLite and go to
// the database with PostgreSQL, unless DIALOOG_BLOB_URL says otherwise.
func TestBlobLocation(t *testing.T) {
	const pg = "postgres://u@127.0.0.1:5432/d"
	for _, tc := range []struct {
		env  map[string]string
		want blob.Kind
	}{
		{nil, blob.KindDir},
		{map[string]string{"DIALOOG_DATABASE_URL": pg}, blob.KindDatabase},
		{map[string]string{"DIALOOG_DATABASE_URL": pg, "DIALOOG_BLOB_URL": "datadir"}, blob.KindDir},
		{map[string]string{"DIALOOG_BLOB_URL": "s3://AK:SK@s3.example.nl/bucket?region=eu-west-1"}, blob.KindS3},
	} {
		c, _, err := Load(env(tc.env), nil, io.Discard)
		if err != nil {
			t.Fatalf("%v: %v", tc.env, err)
		}
		if c.Blob.Kind != tc.want {
			t.Errorf("%v: %s, want %s", tc.env, c.Blob.Kind, tc.want)
		}
	}
	// The database store needs PostgreSQL; the error never shows a secret.
	for _, v := range []string{"postgres", "s3://AK:GEHEIM@host/b?insecure=ja"} {
		_, _, err := Load(env(map[string]string{"DIALOOG_BLOB_URL": v}), nil, io.Discard)
		var ce *Error
		if !errors.As(err, &ce) || ce.Var != "DIALOOG_BLOB_URL" || strings.Contains(err.Error(), "GEHEIM") {
			t.Errorf("%s: %v", v, err)
		}
	}
}

// TestMetricsAddr: metrics are off by default, served on their own address
// when set, and never on the public port.
func TestMetricsAddr(t *testing.T) {
	c, _, err := Load(env(nil), nil, io.Discard)
	if err != nil || c.MetricsAddr != "" {
		t.Fatalf("default: %q, %v", c.MetricsAddr, err)
	}
	c, _, err = Load(env(map[string]string{"DIALOOG_METRICS_ADDR": "127.0.0.1:9090"}), []string{"--metrics-addr", "127.0.0.1:9191"}, io.Discard)
	if err != nil || c.MetricsAddr != "127.0.0.1:9191" {
		t.Fatalf("flag over env: %q, %v", c.MetricsAddr, err)
	}
	for _, bad := range []map[string]string{
		{"DIALOOG_METRICS_ADDR": "9090"},
		{"DIALOOG_METRICS_ADDR": "localhost"},
		{"DIALOOG_METRICS_ADDR": ":8080"},
		{"DIALOOG_METRICS_ADDR": "127.0.0.1:8443", "DIALOOG_ADDR": "0.0.0.0:8443"},
	} {
		_, _, err := Load(env(bad), nil, io.Discard)
		var ce *Error
		if !errors.As(err, &ce) || ce.Var != "DIALOOG_METRICS_ADDR" {
			t.Errorf("%v: want an error naming DIALOOG_METRICS_ADDR, got %v", bad, err)
		}
	}
}

// TestDevOutboxByDefault: without an SMTP server and with a loopback http
// base URL (the defaults of `go run .`), the dev outbox is on and the
// server listens on loopback only; anything that could reach others keeps
// it off, and an explicit DIALOOG_DEV=1 still refuses what it refused.
func TestDevOutboxByDefault(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  map[string]string
		dev  bool
		addr string
	}{
		{"defaults", nil, true, "localhost:8080"},
		{"loopback address", map[string]string{"DIALOOG_BASE_URL": "http://127.0.0.1:9000", "DIALOOG_ADDR": "127.0.0.1:9000"}, true, "127.0.0.1:9000"},
		{"switched off", map[string]string{"DIALOOG_DEV": "0"}, false, ":8080"},
		{"switched on", map[string]string{"DIALOOG_DEV": "1"}, true, "localhost:8080"},
		{"smtp", map[string]string{"DIALOOG_SMTP_URL": "smtp://127.0.0.1:2525"}, false, ":8080"},
		{"public base URL", map[string]string{"DIALOOG_BASE_URL": "http://dialoog.example.nl"}, false, ":8080"},
		{"https", map[string]string{"DIALOOG_BASE_URL": "https://localhost:8443"}, false, ":8080"},
		{"every interface", map[string]string{"DIALOOG_ADDR": ":8080"}, false, ":8080"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, _, err := Load(env(tc.env), nil, io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			if c.Dev != tc.dev || c.Addr != tc.addr {
				t.Fatalf("dev %v on %q, want %v on %q", c.Dev, c.Addr, tc.dev, tc.addr)
			}
		})
	}
	for name, m := range map[string]map[string]string{
		"https":           {"DIALOOG_DEV": "1", "DIALOOG_BASE_URL": "https://localhost:8443"},
		"every interface": {"DIALOOG_DEV": "1", "DIALOOG_ADDR": ":8080"},
	} {
		var ce *Error
		if _, _, err := Load(env(m), nil, io.Discard); !errors.As(err, &ce) || ce.Var != "DIALOOG_DEV" {
			t.Errorf("%s: DIALOOG_DEV=1 gives %v, want an error naming DIALOOG_DEV", name, err)
		}
	}
}

// TestVAPID: the subject defaults to a mailto: of the sender address; a
// configured key and subject are taken as given; a key that is 32 bytes
// but no P-256 scalar (the order of the curve or more) is refused.
func TestVAPID(t *testing.T) {
	c, _, err := Load(env(map[string]string{"DIALOOG_MAIL_FROM": "Dialoog <dialoog@example.nl>"}), nil, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.VAPIDSubject != "mailto:dialoog@example.nl" || c.VAPIDPrivateKey != "" {
		t.Fatalf("defaults: %q %q", c.VAPIDSubject, c.VAPIDPrivateKey)
	}
	const key = "Pbj1Pu3DJZN8RZDx1Xx5cw2uIZ4UqN8T0xw8Q2r4zXw" // 32 bytes, below the order
	for _, subject := range []string{"mailto:beheer@example.nl", "https://dialoog.example.nl/contact"} {
		c, _, err = Load(env(map[string]string{"DIALOOG_VAPID_PRIVATE_KEY": key, "DIALOOG_VAPID_SUBJECT": subject}), nil, io.Discard)
		if err != nil || c.VAPIDPrivateKey != key || c.VAPIDSubject != subject {
			t.Fatalf("%s: %+v %v", subject, c, err)
		}
	}
	order := "_____wAAAAD__________7zm-q2nF56E87nKwvxjJVE" // n of P-256: not a private key
	if _, _, err := Load(env(map[string]string{"DIALOOG_VAPID_PRIVATE_KEY": order}), nil, io.Discard); err == nil {
		t.Fatal("the curve order was accepted as a private key")
	}
	for _, bad := range []string{"mailto:", "http://dialoog.example.nl", "mailto:geen adres"} {
		if _, _, err := Load(env(map[string]string{"DIALOOG_VAPID_SUBJECT": bad}), nil, io.Discard); err == nil {
			t.Errorf("subject %q accepted", bad)
		}
	}
}

// A password with a character that ends the user part of a URL (# / ? %)
// is the usual reason a mail, SMS or database URL does not parse: the error
// says to percent-encode it, and never shows the password.
func TestURLErrorsExplainEncoding(t *testing.T) {
	for name, v := range map[string]string{
		"DIALOOG_SMTP_URL":     "smtp://mailer:ge#heim@mail.example.nl:587",
		"DIALOOG_SMS_URL":      "webhook+https://gw:ge/heim@sms.example.nl/send",
		"DIALOOG_DATABASE_URL": "postgres://dialoog:ge%heim@db.example.nl/dialoog",
	} {
		t.Run(name, func(t *testing.T) {
			_, _, err := Load(env(map[string]string{name: v}), nil, io.Discard)
			var ce *Error
			if !errors.As(err, &ce) || ce.Var != name {
				t.Fatalf("want an error naming %s, got %v", name, err)
			}
			if !strings.Contains(err.Error(), "percent-encode") || strings.Contains(err.Error(), "heim") {
				t.Fatalf("error %q: want a hint to percent-encode, without the password", err)
			}
		})
	}
}

// TestMailFromWithARealMailServer: with a mail server beyond this machine,
// the default sender no-reply@localhost would have every mail refused or
// filtered as spam by the receiving side; start-up stops and names
// DIALOOG_MAIL_FROM. A mail server on loopback (a local relay, a test
// catcher) keeps the default.
func TestMailFromWithARealMailServer(t *testing.T) {
	for _, smtp := range []string{"smtp://u:p@mail.example.nl:587", "smtps://mail.example.nl"} {
		for _, from := range []string{"", "Dialoog <no-reply@localhost>", "beheer@LocalHost"} {
			_, _, err := Load(env(map[string]string{"DIALOOG_SMTP_URL": smtp, "DIALOOG_MAIL_FROM": from}), nil, io.Discard)
			var ce *Error
			if !errors.As(err, &ce) || ce.Var != "DIALOOG_MAIL_FROM" {
				t.Errorf("%s with from %q: %v, want an error naming DIALOOG_MAIL_FROM", smtp, from, err)
			}
		}
		c, _, err := Load(env(map[string]string{"DIALOOG_SMTP_URL": smtp, "DIALOOG_MAIL_FROM": "Dialoog <no-reply@example.nl>"}), nil, io.Discard)
		if err != nil || c.MailFrom.Address != "no-reply@example.nl" {
			t.Errorf("%s with a real sender: %v", smtp, err)
		}
	}
	for _, smtp := range []string{"smtp://127.0.0.1:1025", "smtp://localhost:25"} {
		if _, _, err := Load(env(map[string]string{"DIALOOG_SMTP_URL": smtp}), nil, io.Discard); err != nil {
			t.Errorf("%s on loopback with the default sender: %v", smtp, err)
		}
	}
}

// TestSMTPPort465NeedsSMTPS: port 465 speaks TLS from the first byte
// (smtps); smtp:// there waits for a greeting that never comes, and every
// mail timed out after 30 s with nothing pointing at the scheme. Start-up
// stops and says which scheme to use.
func TestSMTPPort465NeedsSMTPS(t *testing.T) {
	_, _, err := Load(env(map[string]string{"DIALOOG_SMTP_URL": "smtp://u:geheim@mail.example.nl:465", "DIALOOG_MAIL_FROM": "no-reply@example.nl"}), nil, io.Discard)
	var ce *Error
	if !errors.As(err, &ce) || ce.Var != "DIALOOG_SMTP_URL" || !strings.Contains(err.Error(), "smtps://") || strings.Contains(err.Error(), "geheim") {
		t.Fatalf("smtp:// on port 465: %v, want an error naming DIALOOG_SMTP_URL that points at smtps://", err)
	}
	for _, ok := range []string{"smtps://mail.example.nl:465", "smtp://mail.example.nl:587", "smtp://mail.example.nl"} {
		if _, _, err := Load(env(map[string]string{"DIALOOG_SMTP_URL": ok, "DIALOOG_MAIL_FROM": "no-reply@example.nl"}), nil, io.Discard); err != nil {
			t.Errorf("%s: %v", ok, err)
		}
	}
}

// TestUsageShowsNoSecrets: a mistyped flag or --help prints the flags with
// their defaults; the values of the environment (the encryption key, the
// passwords in the mail, SMS, database and blob URLs) are not defaults and
// must not end up on the terminal or in the service's journal.
func TestUsageShowsNoSecrets(t *testing.T) {
	secrets := map[string]string{
		"DIALOOG_ENCRYPTION_KEY":    "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
		"DIALOOG_SMTP_URL":          "smtp://u:smtp-secret@mail.example.nl:587",
		"DIALOOG_SMS_URL":           "twilio://AC1:sms-secret@api.twilio.com?from=%2B3197010",
		"DIALOOG_DATABASE_URL":      "postgres://u:db-secret@db.example.nl/d",
		"DIALOOG_BLOB_URL":          "s3://AK:blob-secret@s3.example.nl/bucket?region=eu",
		"DIALOOG_VAPID_PRIVATE_KEY": "vapid-secret",
	}
	for _, args := range [][]string{{"--bogus"}, {"--help"}} {
		var out strings.Builder
		if _, _, err := Load(env(secrets), args, &out); err == nil {
			t.Fatalf("%v: no error", args)
		}
		for k, v := range secrets {
			if strings.Contains(out.String(), v) || strings.Contains(out.String(), "-secret") {
				t.Errorf("%v: the usage shows %s:\n%s", args, k, out.String())
			}
		}
		if !strings.Contains(out.String(), "-smtp-url") {
			t.Errorf("%v: no usage printed:\n%s", args, out.String())
		}
	}
}

// TestNotifyDelay: two minutes by default; any duration up to an hour, 0s
// sending at once; anything else names the variable.
func TestNotifyDelay(t *testing.T) {
	for v, want := range map[string]time.Duration{"": 2 * time.Minute, "90s": 90 * time.Second, "0s": 0, "1h": time.Hour} {
		c, _, err := Load(env(map[string]string{"DIALOOG_NOTIFY_DELAY": v}), nil, io.Discard)
		if err != nil || c.NotifyDelay != want {
			t.Errorf("DIALOOG_NOTIFY_DELAY=%q: %v, %v; want %v", v, c, err, want)
		}
	}
	for _, v := range []string{"-1s", "61m", "2", "twee minuten"} {
		_, _, err := Load(env(map[string]string{"DIALOOG_NOTIFY_DELAY": v}), nil, io.Discard)
		var ce *Error
		if !errors.As(err, &ce) || ce.Var != "DIALOOG_NOTIFY_DELAY" {
			t.Errorf("DIALOOG_NOTIFY_DELAY=%q: %v, want an error naming it", v, err)
		}
	}
}

// TestSSONetworks: DIALOOG_SSO_NETWORKS is unset (no limit), public, or
// a list of IP prefixes; the flag overrides it. A value that is none of
// these, or that lists a network never allowed (link-local, a metadata
// service's), stops the start with a message naming the variable and the
// entry at fault.
func TestSSONetworks(t *testing.T) {
	c, _, err := Load(env(nil), nil, io.Discard)
	if err != nil || c.SSONetworks.Limited() {
		t.Fatalf("unset: %v, limited %v", err, c != nil && c.SSONetworks.Limited())
	}
	c, _, err = Load(env(map[string]string{"DIALOOG_SSO_NETWORKS": "public"}), nil, io.Discard)
	if err != nil || !c.SSONetworks.Limited() || c.SSONetworks.CheckHost("10.0.0.7") == nil || c.SSONetworks.CheckHost("8.8.8.8") != nil {
		t.Fatalf("public: %v", err)
	}
	c, _, err = Load(env(map[string]string{"DIALOOG_SSO_NETWORKS": "public"}), []string{"--sso-networks", " 10.20.0.0/16, 127.0.0.1/32 "}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	for host, ok := range map[string]bool{"10.20.3.4": true, "127.0.0.1": true, "8.8.8.8": true, "10.21.0.1": false, "127.0.0.2": false, "::1": false} {
		if err := c.SSONetworks.CheckHost(host); (err == nil) != ok {
			t.Errorf("10.20.0.0/16,127.0.0.1/32: %s: %v", host, err)
		}
	}
	for v, want := range map[string]string{
		"intern":                        `"intern" is not an IP prefix`,
		"10.20.0.0":                     "write 10.20.0.0/32",
		"10.20.1.0/16":                  "write 10.20.0.0/16",
		"10.0.0.0/8,,127.0.0.1/32":      "empty entry",
		"public,10.0.0.0/8":             "public stands alone",
		"169.254.169.254/32":            "never allowed, even when listed",
		"10.0.0.0/8, fd00:ec2::254/128": "fd00:ec2::254/128 is link-local, a cloud metadata service's",
	} {
		_, _, err := Load(env(map[string]string{"DIALOOG_SSO_NETWORKS": v}), nil, io.Discard)
		var ce *Error
		if !errors.As(err, &ce) || ce.Var != "DIALOOG_SSO_NETWORKS" || !strings.Contains(ce.Msg, want) {
			t.Errorf("DIALOOG_SSO_NETWORKS=%q: %v, want an error naming it and saying %q", v, err, want)
		}
	}
}

// TestShutdownTimes: the wait before the listener closes is 5 s where
// several instances may be behind a load balancer (PostgreSQL, the dev
// outbox off) and 0 otherwise (SQLite is one instance; the dev outbox is
// a person at a terminal pressing Ctrl-C); the drain of requests under
// way is a minute. Any duration within the bounds is taken; anything
// else names the variable.
func TestShutdownTimes(t *testing.T) {
	const pg = "postgres://u@127.0.0.1:5432/d"
	for _, tc := range []struct {
		name        string
		env         map[string]string
		wait, drain time.Duration
	}{
		{"defaults (SQLite, dev outbox)", nil, 0, time.Minute},
		{"SQLite", map[string]string{"DIALOOG_DEV": "0"}, 0, time.Minute},
		{"PostgreSQL", map[string]string{"DIALOOG_DEV": "0", "DIALOOG_DATABASE_URL": pg}, 5 * time.Second, time.Minute},
		{"PostgreSQL, dev outbox", map[string]string{"DIALOOG_DATABASE_URL": pg}, 0, time.Minute},
		{"set", map[string]string{"DIALOOG_SHUTDOWN_WAIT": "15s", "DIALOOG_SHUTDOWN_DRAIN": "5m"}, 15 * time.Second, 5 * time.Minute},
		{"PostgreSQL without a wait", map[string]string{"DIALOOG_DEV": "0", "DIALOOG_DATABASE_URL": pg, "DIALOOG_SHUTDOWN_WAIT": "0s"}, 0, time.Minute},
		{"bounds", map[string]string{"DIALOOG_SHUTDOWN_WAIT": "5m", "DIALOOG_SHUTDOWN_DRAIN": "1h"}, 5 * time.Minute, time.Hour},
		{"no drain", map[string]string{"DIALOOG_SHUTDOWN_DRAIN": "0s"}, 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, _, err := Load(env(tc.env), nil, io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			if c.ShutdownWait != tc.wait || c.ShutdownDrain != tc.drain {
				t.Fatalf("wait %v, drain %v; want %v, %v", c.ShutdownWait, c.ShutdownDrain, tc.wait, tc.drain)
			}
		})
	}
	c, _, err := Load(env(nil), []string{"--shutdown-wait", "3s", "--shutdown-drain", "90s"}, io.Discard)
	if err != nil || c.ShutdownWait != 3*time.Second || c.ShutdownDrain != 90*time.Second {
		t.Errorf("flags: %v, %v", c, err)
	}
	for name, values := range map[string][]string{
		"DIALOOG_SHUTDOWN_WAIT":  {"-1s", "301s", "5", "vijf seconden"},
		"DIALOOG_SHUTDOWN_DRAIN": {"-1s", "61m", "60", "1 minute"},
	} {
		for _, v := range values {
			_, _, err := Load(env(map[string]string{name: v}), nil, io.Discard)
			var ce *Error
			if !errors.As(err, &ce) || ce.Var != name {
				t.Errorf("%s=%q: %v, want an error naming it", name, v, err)
			}
		}
	}
}
