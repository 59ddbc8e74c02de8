package main

import (
	"io"
	"strings"
	"testing"

	"dialoog/config"
)

// The security suite for start-up and configuration: what an operator's
// mistake must not silently turn into a weakness.

func loadConfig(env map[string]string) (*config.Config, error) {
	c, _, err := config.Load(func(k string) string { return env[k] }, nil, io.Discard)
	return c, err
}

// TestDevModeOnlyOnLoopback: DIALOOG_DEV=1 shows every mail and text that
// was "sent" (sign-up links, login codes) to anyone who asks, so it is
// refused with a clear message on an https base URL or a listen address
// others can reach.
func TestDevModeOnlyOnLoopback(t *testing.T) {
	refused := []map[string]string{
		{"DIALOOG_DEV": "1"}, // :8080 listens on every interface
		{"DIALOOG_DEV": "1", "DIALOOG_ADDR": "0.0.0.0:8080"},
		{"DIALOOG_DEV": "1", "DIALOOG_ADDR": "192.0.2.10:8080"},
		{"DIALOOG_DEV": "1", "DIALOOG_ADDR": "[::]:8080"},
		{"DIALOOG_DEV": "1", "DIALOOG_ADDR": "dialoog.example.nl:8080"},
		{"DIALOOG_DEV": "1", "DIALOOG_ADDR": "127.0.0.1:8080", "DIALOOG_BASE_URL": "https://dialoog.example.nl"},
	}
	for _, env := range refused {
		_, err := loadConfig(env)
		if err == nil || !strings.Contains(err.Error(), "DIALOOG_DEV") {
			t.Errorf("%v: err %v, want one naming DIALOOG_DEV", env, err)
		}
	}
	for _, addr := range []string{"127.0.0.1:8080", "localhost:8080", "[::1]:8080", "127.0.0.1:0"} {
		c, err := loadConfig(map[string]string{"DIALOOG_DEV": "1", "DIALOOG_ADDR": addr})
		if err != nil || !c.Dev {
			t.Errorf("dev on %s: %v", addr, err)
		}
	}
	if _, err := loadConfig(map[string]string{"DIALOOG_BASE_URL": "https://dialoog.example.nl"}); err != nil {
		t.Errorf("without dev: %v", err)
	}
}

// TestSMTPRequiresSTARTTLSBeyondLoopback: without ?tls= an SMTP server on
// another host must offer STARTTLS (a server that does not, or an attacker
// in between who strips the offer, gets no mail in plain text); loopback
// keeps STARTTLS-when-offered, and ?tls=opportunistic relaxes it on
// purpose. (That tls=required refuses a server without STARTTLS is
// notify's TestSMTPTLSRequired.)
func TestSMTPRequiresSTARTTLSBeyondLoopback(t *testing.T) {
	cases := []struct{ url, want string }{
		{"smtp://user:pw@mail.example.nl:587", "required"},
		{"smtp://192.0.2.25", "required"},
		{"smtp://mail.example.nl?tls=opportunistic", "opportunistic"},
		{"smtp://mail.example.nl?tls=none", "none"},
		{"smtp://127.0.0.1:2525", ""},
		{"smtp://localhost:25", ""},
		{"smtp://[::1]:25", ""},
		{"smtps://mail.example.nl", ""},
	}
	for _, tc := range cases {
		c, err := loadConfig(map[string]string{"DIALOOG_SMTP_URL": tc.url})
		if err != nil {
			t.Errorf("%s: %v", tc.url, err)
			continue
		}
		if got := c.SMTPURL.Query().Get("tls"); got != tc.want {
			t.Errorf("%s: tls=%q, want %q", tc.url, got, tc.want)
		}
	}
}
