package components

import (
	"strings"
	"testing"
	"time"

	"dialoog/i18n"
)

func TestPasswordResetMail(t *testing.T) {
	const link = "https://dialoog.example.nl/wachtwoord-vergeten/abc_DEF-123"
	cases := []struct {
		lang, subject string
		want          []string
	}{
		{"nl", "Nieuw wachtwoord instellen voor Dialoog", []string{"Beste heer/mevrouw,", "1 uur geldig", "NIEUW WACHTWOORD INSTELLEN"}},
		{"en", "Set a new password for Dialoog", []string{"Dear Sir/Madam,", "valid for 1 hour", "SET A NEW PASSWORD"}},
		{"", "Nieuw wachtwoord instellen voor Dialoog", []string{"Beste heer/mevrouw,"}},
	}
	for _, tc := range cases {
		t.Run("lang="+tc.lang, func(t *testing.T) {
			v := PasswordResetMail{Lang: tc.lang, ResetURL: link}
			if got := PasswordResetMailSubject(v); got != tc.subject {
				t.Errorf("subject %q, want %q", got, tc.subject)
			}
			text := PasswordResetMailText(v)
			html := renderString(t, PasswordResetMailHTML(v))
			for _, w := range append(tc.want, link) {
				if !strings.Contains(text, w) {
					t.Errorf("text lacks %q:\n%s", w, text)
				}
				if !strings.Contains(html, w) {
					t.Errorf("HTML lacks %q:\n%s", w, html)
				}
			}
			if !strings.Contains(html, `href="`+link+`"`) {
				t.Errorf("HTML has no button to the link:\n%s", html)
			}
		})
	}
}

func TestSMSCodeText(t *testing.T) {
	if got, want := SMSCodeText("nl", "dialoog.example.nl", "012345"), "Je Dialoog-code is 012345. Deze code is 10 minuten geldig.\n\n@dialoog.example.nl #012345"; got != want {
		t.Errorf("nl: %q, want %q", got, want)
	}
	if got := SMSCodeText("en", "localhost", "999999"); !strings.HasPrefix(got, "Your Dialoog code is 999999.") || !strings.HasSuffix(got, "\n\n@localhost #999999") {
		t.Errorf("en: %q", got)
	}
}

// TestFormatDate: a date is written day, month, year in both languages,
// as every other date of Dialoog ("5 December 2026"), and on the day it
// is in the Netherlands.
func TestFormatDate(t *testing.T) {
	d := time.Date(2026, 2, 23, 10, 0, 0, 0, time.UTC)
	if got := FormatDate(i18n.For("nl"), d); got != "23 februari 2026" {
		t.Errorf("nl: %q", got)
	}
	if got := FormatDate(i18n.For("en"), d); got != "23 February 2026" {
		t.Errorf("en: %q", got)
	}
	late := time.Date(2026, 12, 4, 23, 30, 0, 0, time.UTC) // 00:30 on 5 December in Amsterdam
	if got := FormatDate(i18n.For("en"), late); got != "5 December 2026" {
		t.Errorf("en, late in the evening in UTC: %q", got)
	}
	if got := FormatDate(i18n.For("nl"), time.Time{}); got != "" {
		t.Errorf("zero time: %q", got)
	}
}
