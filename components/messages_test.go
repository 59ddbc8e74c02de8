package components

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"dialoog/i18n"
)

func TestLinkify(t *testing.T) {
	cases := []struct {
		in   string
		want []BodySegment
	}{
		{"geen links", []BodySegment{{Text: "geen links"}}},
		{"Zie https://osaw.nl/a?b=1.", []BodySegment{{Text: "Zie "}, {Text: "https://osaw.nl/a?b=1", URL: "https://osaw.nl/a?b=1"}, {Text: "."}}},
		{"(http://x.nl/pad)", []BodySegment{{Text: "("}, {Text: "http://x.nl/pad", URL: "http://x.nl/pad"}, {Text: ")"}}},
		{"https://nl.wikipedia.org/wiki/Arbo_(wet)", []BodySegment{{Text: "https://nl.wikipedia.org/wiki/Arbo_(wet)", URL: "https://nl.wikipedia.org/wiki/Arbo_(wet)"}}},
		{"HTTPS://OSAW.NL", []BodySegment{{Text: "HTTPS://OSAW.NL", URL: "https://OSAW.NL"}}},
		{"javascript:alert(1)", []BodySegment{{Text: "javascript:alert(1)"}}},
		{"https://", []BodySegment{{Text: "https://"}}},
		{"http://user:pw@evil.example/", []BodySegment{{Text: "http://user:pw@evil.example/"}}},
		{"a https://b.nl\nc", []BodySegment{{Text: "a "}, {Text: "https://b.nl", URL: "https://b.nl"}, {Text: "\nc"}}},
		{"", nil},
	}
	for _, tc := range cases {
		if got := Linkify(tc.in); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("Linkify(%q)\n got %#v\nwant %#v", tc.in, got, tc.want)
		}
	}
}

// TestMessageBodyIsInert renders hostile bodies: only http(s) addresses
// become links, everything else is escaped text.
func TestMessageBodyIsInert(t *testing.T) {
	cases := []struct{ in, want string }{
		{"javascript:alert(1)", "javascript:alert(1)"},
		{"<img src=x onerror=alert(1)>", "&lt;img src=x onerror=alert(1)&gt;"},
		{`"><script>alert(1)</script>`, "&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"},
		{`<a href="javascript:alert(1)">x</a>`, "&lt;a href=&#34;javascript:alert(1)&#34;&gt;x&lt;/a&gt;"},
		{"jAvAsCrIpT:alert(1)//https://x.nl", `jAvAsCrIpT:alert(1)//<a href="https://x.nl" rel="noopener noreferrer nofollow" target="_blank">https://x.nl</a>`},
		{`https://x.nl/"onmouseover="alert(1)`, `<a href="https://x.nl/" rel="noopener noreferrer nofollow" target="_blank">https://x.nl/</a>&#34;onmouseover=&#34;alert(1)`},
		{"https://x.nl/'onmouseover='alert(1)", `<a href="https://x.nl/" rel="noopener noreferrer nofollow" target="_blank">https://x.nl/</a>&#39;onmouseover=&#39;alert(1)`},
		{"https://x.nl/?q=<script>", `<a href="https://x.nl/?q=" rel="noopener noreferrer nofollow" target="_blank">https://x.nl/?q=</a>&lt;script&gt;`},
		{"https://x.nl/a&b", `<a href="https://x.nl/a&amp;b" rel="noopener noreferrer nofollow" target="_blank">https://x.nl/a&amp;b</a>`},
		{"data:text/html,<script>alert(1)</script>", "data:text/html,&lt;script&gt;alert(1)&lt;/script&gt;"},
		{"regel 1\nregel 2", "regel 1\nregel 2"},
	}
	for _, tc := range cases {
		got := renderString(t, MessageBody(tc.in))
		if got != tc.want {
			t.Errorf("MessageBody(%q)\n got %s\nwant %s", tc.in, got, tc.want)
		}
		for _, bad := range []string{"<script", "<img", `href="javascript`, "<a href=\"data:"} {
			if strings.Contains(got, bad) {
				t.Errorf("MessageBody(%q) contains %q: %s", tc.in, bad, got)
			}
		}
	}
}

func FuzzMessageBody(f *testing.F) {
	for _, s := range []string{"https://x.nl", "<script>", `"><a href=javascript:1>`, "http://a.b/(c)."} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := renderString(t, MessageBody(s))
		// Every tag in the output is one of our links.
		rest := got
		for {
			i := strings.IndexByte(rest, '<')
			if i < 0 {
				break
			}
			rest = rest[i:]
			if !strings.HasPrefix(rest, `<a href="http`) && !strings.HasPrefix(rest, "</a>") {
				t.Fatalf("MessageBody(%q) has a foreign tag: %s", s, got)
			}
			rest = rest[1:]
		}
	})
}

func TestFileSize(t *testing.T) {
	nl, en := i18n.For("nl"), i18n.For("en")
	cases := []struct {
		n      int64
		nl, en string
	}{
		{0, "0 bytes", "0 bytes"},
		{830, "830 bytes", "830 bytes"},
		{1024, "1 kB", "1 kB"},
		{12345, "13 kB", "13 kB"},
		{1 << 20, "1 MB", "1 MB"},
		{1572864, "1,5 MB", "1.5 MB"},
		{25 << 20, "25 MB", "25 MB"},
	}
	for _, tc := range cases {
		if got := FileSize(nl, tc.n); got != tc.nl {
			t.Errorf("nl FileSize(%d) = %q, want %q", tc.n, got, tc.nl)
		}
		if got := FileSize(en, tc.n); got != tc.en {
			t.Errorf("en FileSize(%d) = %q, want %q", tc.n, got, tc.en)
		}
	}
	if got := thousands(nl, 20000); got != "20.000" {
		t.Errorf("thousands nl: %q", got)
	}
	if got := thousands(en, 1234567); got != "1,234,567" {
		t.Errorf("thousands en: %q", got)
	}
}

func TestNewMessageMail(t *testing.T) {
	cases := []struct {
		lang, subject string
		sentences     []string
		button        string
	}{
		{"nl", "Je hebt een nieuw bericht van OSAW", []string{
			"Beste heer/mevrouw,",
			"Er staat in Dialoog een nieuw bericht van OSAW voor je klaar.",
			"Om je privacy te beschermen staat het bericht zelf niet in deze e-mail. Log in om het te lezen.",
			"Dit is een door Dialoog gegenereerde e-mail. Reacties op deze e-mail worden niet gelezen.",
		}, "INLOGGEN"},
		{"en", "You have a new message from OSAW", []string{
			"Dear Sir/Madam,",
			"A new message from OSAW is waiting for you in Dialoog.",
			"To protect your privacy, the message itself is not in this email. Log in to read it.",
			"This email was generated by Dialoog. Replies to this email are not read.",
		}, "LOG IN"},
	}
	for _, tc := range cases {
		t.Run(tc.lang, func(t *testing.T) {
			v := NewMessageMail{Lang: tc.lang, From: "OSAW", LoginURL: "https://dialoog.example.nl/berichten"}
			if got := NewMessageMailSubject(v); got != tc.subject {
				t.Errorf("subject %q, want %q", got, tc.subject)
			}
			markup := renderString(t, NewMessageMailHTML(v))
			text := visibleText(markup)
			plain := NewMessageMailText(v)
			for _, s := range tc.sentences {
				if !strings.Contains(text, s) {
					t.Errorf("HTML lacks %q:\n%s", s, text)
				}
				if !strings.Contains(plain, s) {
					t.Errorf("text lacks %q:\n%s", s, plain)
				}
			}
			for _, want := range []string{`<html lang="` + tc.lang + `">`, `<a href="https://dialoog.example.nl/berichten"`, ">" + tc.button + "</a>"} {
				if !strings.Contains(markup, want) {
					t.Errorf("HTML lacks %q", want)
				}
			}
			if !strings.Contains(plain, tc.button+":\nhttps://dialoog.example.nl/berichten\n") {
				t.Errorf("text lacks the link:\n%s", plain)
			}
		})
	}
	// The name cannot inject markup or headers.
	v := NewMessageMail{Lang: "nl", From: "<b>X</b>\r\nBcc: a@b.nl", LoginURL: "javascript:alert(1)"}
	if s := NewMessageMailSubject(v); strings.ContainsAny(s, "\r\n") {
		t.Errorf("subject spans lines: %q", s)
	}
	markup := renderString(t, NewMessageMailHTML(v))
	if strings.Contains(markup, "<b>X</b>") || strings.Contains(markup, `href="javascript:`) {
		t.Errorf("unsafe HTML:\n%s", markup)
	}
}

// TestInboxRowDates: the inbox writes today's time, this year's day, and
// other years with the year.
func TestInboxRowDates(t *testing.T) {
	now := time.Date(2026, 2, 24, 15, 0, 0, 0, time.UTC)
	m := Meta{L: i18n.For("nl"), Now: now}
	for at, want := range map[time.Time]string{
		time.Date(2026, 2, 24, 13, 5, 0, 0, time.UTC):  ">14:05</time>",
		time.Date(2026, 2, 23, 13, 5, 0, 0, time.UTC):  ">23 februari</time>",
		time.Date(2025, 2, 23, 13, 5, 0, 0, time.UTC):  ">23 februari 2025</time>",
		time.Date(2025, 12, 31, 23, 5, 0, 0, time.UTC): ">1 januari</time>", // Amsterdam is an hour ahead
	} {
		got := renderString(t, InboxRow(m, InboxThread{ID: 1, Subject: "s", OrgName: "OSAW", LastMessageAt: at}))
		if !strings.Contains(got, want) {
			t.Errorf("%v: %s lacks %s", at, got, want)
		}
	}
}
