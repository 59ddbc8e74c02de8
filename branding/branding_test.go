package branding

import "testing"

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
