package components

import (
	"testing"

	"golang.org/x/net/html"

	"dialoog/i18n"
)

// TestPasswordChangeNamesTheAccount: a password manager (the phone's own,
// or one a person with low vision or dyslexia depends on) stores a new
// password under the account the form names. "Wachtwoord wijzigen" named
// none, so it offered to save the new password without an address, beside
// the old entry that then stops working. The form carries the address as
// the first visit's password step does.
func TestPasswordChangeNamesTheAccount(t *testing.T) {
	m := Meta{L: i18n.For("nl"), CSRF: "tok", SignedIn: true, UserName: "Jan", Inbox: true}
	for name, v := range map[string]AccountView{
		"page":  {Email: "jan@example.nl"},
		"error": {Email: "jan@example.nl", Change: PasswordChangeView{CurrentError: "Klopt niet."}},
	} {
		doc := parseDoc(t, AccountPage(m, v))
		forms := findNodes(doc, func(n *html.Node) bool {
			a, _ := attrOf(n, "action")
			return n.Data == "form" && a == "/account/wachtwoord"
		})
		if len(forms) != 1 {
			t.Fatalf("%s: %d password change forms", name, len(forms))
		}
		user := findNodes(forms[0], func(n *html.Node) bool {
			a, _ := attrOf(n, "autocomplete")
			return n.Data == "input" && a == "username"
		})
		if len(user) != 1 {
			t.Errorf("%s: the form names no account", name)
			continue
		}
		if val, _ := attrOf(user[0], "value"); val != "jan@example.nl" {
			t.Errorf("%s: the form names %q", name, val)
		}
	}
}
