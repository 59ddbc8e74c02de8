package components

import (
	"strings"
	"testing"
)

func TestDailySummaryMail(t *testing.T) {
	cases := []struct {
		lang      string
		unread    int
		subject   string
		sentences []string
	}{
		{"nl", 3, "Je hebt 3 ongelezen berichten in Dialoog", []string{
			"Je hebt 3 ongelezen berichten in Dialoog.",
			"Om je privacy te beschermen staan de berichten zelf niet in deze e-mail. Log in om ze te lezen.",
			"Je kunt dit wijzigen onder Mijn account, Meldingen per e-mail.",
		}},
		{"nl", 1, "Je hebt 1 ongelezen bericht in Dialoog", []string{"Je hebt 1 ongelezen bericht in Dialoog."}},
		{"en", 12, "You have 12 unread messages in Dialoog", []string{
			"You have 12 unread messages in Dialoog.",
			"To protect your privacy, the messages themselves are not in this email. Log in to read them.",
			"You can change this under My account, Email notifications.",
		}},
	}
	for _, tc := range cases {
		v := DailySummaryMail{Lang: tc.lang, Unread: tc.unread, LoginURL: "https://dialoog.example.nl/berichten"}
		if got := DailySummaryMailSubject(v); got != tc.subject {
			t.Errorf("%s %d: subject %q, want %q", tc.lang, tc.unread, got, tc.subject)
		}
		markup := renderString(t, DailySummaryMailHTML(v))
		text, plain := visibleText(markup), DailySummaryMailText(v)
		for _, s := range tc.sentences {
			if !strings.Contains(text, s) || !strings.Contains(plain, s) {
				t.Errorf("%s %d: lacks %q:\n%s\n%s", tc.lang, tc.unread, s, text, plain)
			}
		}
		if !strings.Contains(markup, `<a href="https://dialoog.example.nl/berichten"`) || !strings.Contains(plain, ":\nhttps://dialoog.example.nl/berichten\n") {
			t.Errorf("%s: link missing", tc.lang)
		}
	}
}
