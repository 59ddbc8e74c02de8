package components

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"dialoog/i18n"
)

// TestMenus: the header keeps "Berichten (n)" outside the account menu and
// puts the name, Mijn account and Uitloggen inside a <details> (no script
// needed), also in the out-of-band copy a partial carries; a message's
// removals are in its own <details>, and REAGEER is the primary action.
func TestMenus(t *testing.T) {
	now := time.Date(2026, 2, 24, 13, 0, 0, 0, time.UTC)
	m := Meta{L: i18n.For("nl"), CSRF: "tok", SignedIn: true, UserName: "Jan de Vries", Inbox: true, Unread: 3, Now: now}
	mine := MessageItem{ID: 9, ThreadID: 7, SenderName: "Jan de Vries", Body: "Hoi", CreatedAt: now, Mine: true, CanDeleteForEveryone: true}
	v := ThreadView{ID: 7, Subject: "Verzuim", Messages: []MessageItem{mine}}
	menu := regexp.MustCompile(`(?s)<details class="menu account__menu">.*?</details>`)
	for name, page := range map[string]string{
		"page":    renderString(t, ThreadPage(m, v)),
		"partial": renderString(t, ThreadPartial(m, v)),
	} {
		header := page[strings.Index(page, `<div id="account"`):]
		header = header[:strings.Index(header, `</details>`)+len(`</details>`)]
		inMenu := menu.FindString(header)
		if inMenu == "" {
			t.Fatalf("%s: no account menu in:\n%s", name, header)
		}
		for _, want := range []string{`<span class="account__name">Jan de Vries</span>`, `<a class="account__link" href="/account">Mijn account</a>`, `>Uitloggen</button>`} {
			if !strings.Contains(inMenu, want) {
				t.Errorf("%s: %q not in the menu", name, want)
			}
		}
		if !strings.Contains(header, `>Berichten (3)</a>`) || strings.Contains(inMenu, `id="inbox-link"`) {
			t.Errorf("%s: Berichten (3) is not in the header beside the menu:\n%s", name, header)
		}
		msg := regexp.MustCompile(`(?s)<li id="message-9".*?</li>`).FindString(page)
		actions := regexp.MustCompile(`(?s)<details class="menu message__menu">.*?</details>`).FindString(msg)
		for _, want := range []string{">Verwijderen voor iedereen</button>", ">Verwijderen uit mijn berichten</button>", "acties voor het bericht van Jan de Vries"} {
			if !strings.Contains(actions, want) {
				t.Errorf("%s: %q not in the message's menu:\n%s", name, want, msg)
			}
		}
		if !strings.Contains(page, `class="button button--primary-action" href="/berichten/7/reageer"`) {
			t.Errorf("%s: REAGEER is not the primary action", name)
		}
	}
}
