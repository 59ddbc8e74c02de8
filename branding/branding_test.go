package branding

import (
	"io/fs"
	"strings"
	"testing"

	"dialoog/static"
)

// TestTextsRefuseHiddenCharacters: the organisation's name, the sender
// name of its mail and the support text are refused with an invisible
// bidirectional formatting character, as people's names are, so that
// "OSAW\u202eknab" does not show in an invitation, a mail's From or a
// sealed document's evidence as another organisation's name.
func TestTextsRefuseHiddenCharacters(t *testing.T) {
	for _, s := range []string{"OSAW\u202eknab", "OSAW\u2067x\u2069", "OSAW\u200f", "OSAW\u061c"} {
		if k := CheckName(s); k != ErrControl {
			t.Errorf("CheckName(%q) = %q, want %q", s, k, ErrControl)
		}
		if k := CheckSenderName(s); k != ErrControl {
			t.Errorf("CheckSenderName(%q) = %q, want %q", s, k, ErrControl)
		}
		if k := CheckSupportText("Bel ons\n" + s); k != ErrControl {
			t.Errorf("CheckSupportText(%q) = %q, want %q", s, k, ErrControl)
		}
	}
	for _, s := range []string{"OSAW", "Arbodienst Zuid-Oost", "Ça va ‑ ok"} {
		if k := CheckName(s); k != "" {
			t.Errorf("CheckName(%q) = %q, want none", s, k)
		}
		if k := CheckSenderName(s); k != "" {
			t.Errorf("CheckSenderName(%q) = %q, want none", s, k)
		}
	}
	if k := CheckSupportText("Bel ons:\r\n030 123 45 67"); k != "" {
		t.Errorf("a support text with line breaks: %q, want none", k)
	}
}

// TestSenderNameIsNoAddress: a sender name that holds an address
// ("security@bank.example", or with a full-width ＠) shows in many mail
// apps as if the mail came from that address; it is refused with its own
// message, and so is a name that is only an at sign away from one.
func TestSenderNameIsNoAddress(t *testing.T) {
	for _, s := range []string{"security@bank.example", "OSAW via info@osaw.nl", "support\uff20bank.example", "a\ufe6bb"} {
		if k := CheckSenderName(s); k != ErrSenderAddress {
			t.Errorf("CheckSenderName(%q) = %q, want %q", s, k, ErrSenderAddress)
		}
	}
	if k := CheckName("Arbo @ Work"); k != "" {
		t.Errorf("an organisation's name may hold an at sign: %q", k)
	}
}

// TestSenderNameQuotes: quotes, angle brackets and a backslash, which
// would break the mail's From header, are refused in the sender name with
// a message of their own, not the one about invisible characters.
func TestSenderNameQuotes(t *testing.T) {
	for _, s := range []string{`"OSAW"`, "OSAW <x>", `OSAW\x`} {
		if k := CheckSenderName(s); k != ErrSenderChars {
			t.Errorf("CheckSenderName(%q) = %q, want %q", s, k, ErrSenderChars)
		}
	}
	if k := CheckName(`"OSAW" <Zuid>`); k != "" {
		t.Errorf("an organisation's name may hold quotes: %q", k)
	}
}

// TestColourReadableAsLinkOnThePage: the organisation's colour is the
// background of white text (header, buttons) and the colour of links and
// subjects on the page's light grey background (app.css's --c-bg). A
// colour just past 4.5:1 with white, such as #0077cc or #767676, is only
// about 4.2:1 on that grey, too little for text (WCAG 1.4.3), so it is
// refused; darker ones pass both.
func TestColourReadableAsLinkOnThePage(t *testing.T) {
	for _, s := range []string{"#0077cc", "#767676", "#e4002b"} {
		if c := Contrast(s); c < MinContrast {
			t.Fatalf("%s is %.2f:1 with white; the case is one that passes with white", s, c)
		}
		if got, k := NormaliseColour(s); k != ErrColourContrast {
			t.Errorf("NormaliseColour(%q) = %q, %q; want %q: links in it are %.2f:1 on the page", s, got, k, ErrColourContrast, ContrastBetween(s, PageBackground))
		}
	}
	for _, s := range []string{"#1f4e79", "#006fbf", "#8a1538", "#123456", "#6a6a6a"} {
		if got, k := NormaliseColour(s); k != "" || got != s {
			t.Errorf("NormaliseColour(%q) = %q, %q; want it accepted", s, got, k)
		}
	}
	if c := ContrastBetween("#1b2430", "#ffffff"); c < 15.6 || c > 15.7 {
		t.Errorf("ContrastBetween(text, white) = %.2f, want 15.65", c)
	}
}

// TestPageBackgroundIsTheStylesheets keeps PageBackground in step with
// the stylesheet the colour is checked for.
func TestPageBackgroundIsTheStylesheets(t *testing.T) {
	css, err := fs.ReadFile(static.FS, "css/app.css")
	if err != nil {
		t.Fatal(err)
	}
	if want := "--c-bg: " + PageBackground + ";"; !strings.Contains(string(css), want) {
		t.Errorf("app.css does not set %q", want)
	}
}

// TestStoredColourShownReadable: a colour stored before today's rules
// (the link rule above came later) is shown as the lightest darker shade
// of it that passes both contrasts, one step lighter of which would fail;
// a colour that passes is shown as it is. The stylesheet carries the
// readable shade.
func TestStoredColourShownReadable(t *testing.T) {
	for _, s := range []string{"#0077cc", "#767676", "#e4002b", "#ffff00", "#ffffff"} {
		got := Readable(s)
		if !ValidColour(got) || Contrast(got) < MinContrast || ContrastBetween(got, PageBackground) < MinContrast {
			t.Errorf("Readable(%q) = %q: %.2f:1 with white, %.2f:1 on the page", s, got, Contrast(got), ContrastBetween(got, PageBackground))
			continue
		}
		r, g, b := rgb(s)
		gr, gg, gb := rgb(got)
		if gr > r || gg > g || gb > b {
			t.Errorf("Readable(%q) = %q is not a darker shade", s, got)
		}
		if _, k := readableShade(s); k < 255 && Passes(shade(s, k+1)) {
			t.Errorf("Readable(%q) = %q, but the lighter %q passes too", s, got, shade(s, k+1))
		}
		if css := Stylesheet(s); !strings.Contains(css, "--c-primary:"+got+";") {
			t.Errorf("Stylesheet(%q) = %q, want the readable %s", s, css, got)
		}
	}
	for _, s := range []string{"#1f4e79", "#006fbf", "#8a1538", "#000000"} {
		if got := Readable(s); got != s {
			t.Errorf("Readable(%q) = %q, want it as it is", s, got)
		}
	}
	for _, s := range []string{"", "red", "#FFF", "#12345g"} {
		if got := Readable(s); got != "" {
			t.Errorf("Readable(%q) = %q, want nothing", s, got)
		}
	}
}
