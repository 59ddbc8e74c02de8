package components

import (
	"io/fs"
	"strings"
	"testing"
	"time"

	"github.com/a-h/templ"
	"golang.org/x/net/html"

	"dialoog/i18n"
	"dialoog/static"
)

// Helpers that read rendered markup as a browser (and so a screen reader)
// does: parsed, not matched as text.

func parseDoc(t *testing.T, c templ.Component) *html.Node {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(renderString(t, c)))
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

func attrOf(n *html.Node, key string) (string, bool) {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val, true
		}
	}
	return "", false
}

func findNodes(n *html.Node, match func(*html.Node) bool) []*html.Node {
	var out []*html.Node
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode && match(n) {
			out = append(out, n)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return out
}

func nodeByID(root *html.Node, id string) *html.Node {
	nodes := findNodes(root, func(n *html.Node) bool { v, _ := attrOf(n, "id"); return v == id })
	if len(nodes) == 0 {
		return nil
	}
	return nodes[0]
}

func hasClass(n *html.Node, class string) bool {
	v, _ := attrOf(n, "class")
	for _, c := range strings.Fields(v) {
		if c == class {
			return true
		}
	}
	return false
}

func textOf(n *html.Node) string {
	var b strings.Builder
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.TextNode {
			b.WriteString(n.Data)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return strings.Join(strings.Fields(b.String()), " ")
}

func isControl(n *html.Node) bool {
	switch n.Data {
	case "input", "select", "textarea":
		return true
	}
	return false
}

// checkErrorsTied checks that every field message (.field-error) is tied
// to what it is about: some element names it in aria-describedby (so a
// screen reader reads it with the field), and a form control doing so is
// marked aria-invalid="true". It returns the number of messages found.
func checkErrorsTied(t *testing.T, name string, doc *html.Node) int {
	t.Helper()
	errs := findNodes(doc, func(n *html.Node) bool { return hasClass(n, "field-error") })
	for _, e := range errs {
		id, _ := attrOf(e, "id")
		if id == "" {
			// A message about the form rather than a field is an alert.
			if role, _ := attrOf(e, "role"); role != "alert" {
				t.Errorf("%s: a field message without an id, tied to nothing: %q", name, textOf(e))
			}
			continue
		}
		refs := findNodes(doc, func(n *html.Node) bool {
			v, _ := attrOf(n, "aria-describedby")
			for _, ref := range strings.Fields(v) {
				if ref == id {
					return true
				}
			}
			return false
		})
		if len(refs) == 0 {
			t.Errorf("%s: no field is described by %s (%q)", name, id, textOf(e))
		}
		for _, r := range refs {
			if v, _ := attrOf(r, "aria-invalid"); isControl(r) && v != "true" {
				fid, _ := attrOf(r, "id")
				t.Errorf("%s: %s is described by %s but not aria-invalid", name, fid, id)
			}
		}
	}
	return len(errs)
}

func autofocused(doc *html.Node) []string {
	var ids []string
	for _, n := range findNodes(doc, func(n *html.Node) bool { _, ok := attrOf(n, "autofocus"); return ok }) {
		id, _ := attrOf(n, "id")
		ids = append(ids, id)
	}
	return ids
}

// TestSigningCardErrorsAreTiedAndFocused: a signing card comes back alone
// (htmx swaps the card, not main) after "Akkoord", "Weigeren" or "Stuur
// mij een code". The button that was pressed is gone with the old card, so
// the new card must say where the keyboard goes: to the field with the
// message, which is tied to it, or after a code was sent to the code.
func TestSigningCardErrorsAreTiedAndFocused(t *testing.T) {
	now := time.Date(2026, 2, 24, 13, 0, 0, 0, time.UTC)
	m := Meta{L: i18n.For("nl"), CSRF: "tok", SignedIn: true, Inbox: true, Now: now}
	card := func(errs map[string]string, notice string, sent bool) SigningCard {
		c := SigningCard{ID: 5, ThreadID: 7, DocumentName: "Plan.pdf", Pages: 2, Status: "open", RequesterName: "Hanna",
			MayAct: true, Method: "sms", MaskedPhone: "••••5678", Errors: errs, Notice: notice}
		if sent {
			c.CodeSentAt = now
		}
		return c
	}
	cases := []struct {
		name  string
		card  SigningCard
		focus string
	}{
		{"read and code", card(map[string]string{"read": "Vink aan.", "code": "Onjuiste code."}, "", true), "signing-5-read"},
		{"code", card(map[string]string{"code": "Onjuiste code."}, "", true), "signing-5-code"},
		{"reason", card(map[string]string{"reason": "Geef een reden."}, "", false), "signing-5-reason"},
		{"code sent", card(nil, "De code is verstuurd.", true), "signing-5-code"},
		{"app", SigningCard{ID: 5, ThreadID: 7, Status: "open", MayAct: true, Method: "app"}, ""},
	}
	for _, tc := range cases {
		doc := parseDoc(t, SigningCardView(m, tc.card))
		if n := checkErrorsTied(t, tc.name, doc); n != len(tc.card.Errors) {
			t.Errorf("%s: %d messages shown, want %d", tc.name, n, len(tc.card.Errors))
		}
		got := autofocused(doc)
		if tc.focus == "" {
			if len(got) != 0 {
				t.Errorf("%s: focus moves to %v on a card nobody acted on", tc.name, got)
			}
			continue
		}
		if len(got) != 1 || got[0] != tc.focus {
			t.Errorf("%s: autofocus on %v, want %s", tc.name, got, tc.focus)
		}
	}
}

// TestFieldErrorsAreTiedToTheirFields renders the forms with a message on
// every field and checks that each message is read with its field and the
// field is marked invalid, as the error summary's links promise: a screen
// reader that lands on the field (the focus goes to the first invalid
// one) hears what is wrong with it.
func TestFieldErrorsAreTiedToTheirFields(t *testing.T) {
	now := time.Date(2026, 2, 24, 13, 0, 0, 0, time.UTC)
	for _, lang := range i18n.Languages {
		m := Meta{L: i18n.For(lang), CSRF: "tok", SignedIn: true, UserName: "Hanna", Inbox: true, Now: now}
		compose := ComposeView{Signing: true, Teams: []TeamTab{{ID: 3, Name: "Verzuim"}},
			Errors: map[string]string{"team": "Geen lid.", "to": "Ongeldig.", "subject": "Leeg.", "body": "Leeg.",
				"attachments": "Te groot.", "medical": "Niet toegestaan.", "signers": "Niet extern.", "deadline": "Voorbij."}}
		reply := ThreadView{ID: 7, Subject: "Verzuim", CanAddParticipants: true,
			Add: AddParticipantForm{Email: "x@", Error: "Ongeldig.", HistoryError: "Kies."},
			Reply: &ReplyForm{Errors: map[string]string{"body": "Leeg.", "attachments": "Geen pdf.", "signers": "Kies.", "deadline": "Voorbij."},
				Signing: &SigningChoice{Candidates: []SigningCandidate{{UserID: 2, Name: "Jan"}}}},
			Case: &ThreadCase{Choices: []CaseItem{{ID: 1, Reference: "D-1"}}, Subjects: []CaseSubjectItem{{UserID: 2, Name: "Jan"}},
				CaseError: "Weg.", SubjectError: "Kies.", ReferenceError: "Te lang."}}
		account := AccountView{Email: "hanna@osaw.nl", LanguageError: "Kies.", NotifyError: "Kies.",
			PasswordError: "Klopt niet.", ConfirmError: "Vink aan.",
			Names: ProfileView{Errors: map[string]string{"initials": "Leeg."}},
			Away:  ProfileView{Errors: map[string]string{"away_message": "Leeg.", "away_until": "Eerder."}}}
		all := map[string]templ.Component{
			"compose": ComposePage(m, compose),
			"reply":   ThreadPage(m, reply),
			"account": AccountPage(m, account),
			"users": AdminUsersPage(m, AdminUsersView{InviteEmail: "x@", InviteEmailError: "Ongeldig.", InviteRoleError: "Kies.",
				InviteTeams: []AdminTeamOption{{ID: 3, Name: "Verzuim"}}, InviteTeamsError: "Kies."}),
			"audit":     AdminAuditPage(m, AdminAuditView{From: "x", To: "y", FromError: "Geen datum.", ToError: "Geen datum."}),
			"branding":  AdminBrandingPage(m, AdminBrandingView{NameError: "Leeg.", SenderNameError: "Te lang.", SupportTextError: "Te lang.", ColourError: "Te licht.", EvidenceLanguageError: "Kies.", LogoError: "Geen png."}),
			"team":      AdminTeamPage(m, AdminTeamView{ID: 3, Name: "Verzuim", AddError: "Geen collega."}),
			"retention": AdminRetentionPage(m, AdminRetentionView{ConversationsError: "Geen getal.", CasesError: "Geen getal."}),
			"helpdesk":  HelpdeskPage(m, HelpdeskView{Token: "t", CodeError: "Onjuist."}),
			"seal":      SealVerifyPage(m, SealVerifyView{FileError: "Geen pdf."}),
		}
		for name, p := range accountPages(lang) {
			all[name] = p[0]
		}
		for name, p := range pages(lang) {
			all[name] = p[0]
		}
		for name, c := range all {
			checkErrorsTied(t, lang+"/"+name, parseDoc(t, c))
		}
		if n := checkErrorsTied(t, lang+"/compose", parseDoc(t, ComposePage(m, compose))); n != len(compose.Errors) {
			t.Errorf("compose: %d messages shown, want %d", n, len(compose.Errors))
		}
	}
}

// TestUnreadMessageSaysSoInText: in a conversation a message the reader
// had not read was set apart only by the colour of its left edge (a light
// yellow, 1.5:1 on the page), which a screen reader does not tell and a
// reader with low vision or colour blindness may not see. It says "Nieuw"
// in words; a read message, the reader's own and a system line do not.
func TestUnreadMessageSaysSoInText(t *testing.T) {
	now := time.Date(2026, 2, 24, 13, 0, 0, 0, time.UTC)
	for _, lang := range i18n.Languages {
		m := Meta{L: i18n.For(lang), CSRF: "tok", SignedIn: true, UserName: "Jan", Inbox: true, Unread: 1, Now: now}
		word := m.T("thread.unread_tag")
		if word == "thread.unread_tag" || word == "" {
			t.Fatalf("%s: no text for an unread message", lang)
		}
		v := ThreadView{ID: 7, Subject: "Verzuim", Unread: true, Messages: []MessageItem{
			{ID: 1, ThreadID: 7, SenderName: "Hanna", Body: "Oud", CreatedAt: now},
			{ID: 2, ThreadID: 7, SenderName: "Jan", Body: "Van mij", Mine: true, CreatedAt: now},
			{ID: 3, ThreadID: 7, SenderName: "Hanna", Body: "Nieuw voor jou", Unread: true, CreatedAt: now},
			{ID: 4, ThreadID: 7, SenderName: "Hanna", Body: "Afwezig", AutoReply: true, Unread: true, CreatedAt: now},
		}}
		doc := parseDoc(t, ThreadPage(m, v))
		for id, want := range map[string]bool{"message-1": false, "message-2": false, "message-3": true, "message-4": true} {
			li := nodeByID(doc, id)
			if li == nil {
				t.Fatalf("%s: no %s", lang, id)
			}
			meta := findNodes(li, func(n *html.Node) bool { return hasClass(n, "message__meta") })
			if len(meta) != 1 {
				t.Fatalf("%s: %s has no meta line", lang, id)
			}
			tags := findNodes(meta[0], func(n *html.Node) bool { return hasClass(n, "tag") && textOf(n) == word })
			if got := len(tags) == 1; got != want {
				t.Errorf("%s: %s says %q: %v, want %v", lang, id, word, got, want)
			}
		}
		// A message pushed live into the open conversation is unread too.
		live := parseDoc(t, LiveNewMessage(m, LiveMessage{Thread: InboxThread{ID: 7, Subject: "Verzuim"},
			Message: &MessageItem{ID: 9, ThreadID: 7, SenderName: "Hanna", Body: "Hoi", Unread: true, CreatedAt: now}}))
		// (The first element of that id is the order to drop a copy.)
		pushed := findNodes(live, func(n *html.Node) bool { id, _ := attrOf(n, "id"); return id == "message-9" && hasClass(n, "message") })
		if len(pushed) != 1 || !strings.Contains(textOf(pushed[0]), word) {
			t.Errorf("%s: a pushed unread message does not say %q", lang, word)
		}
	}
}

// TestMoreConversationsKeepTheFocus: "Meer berichten" replaces itself with
// the next conversations. The link that had the focus is gone then, so a
// keyboard or screen-reader user fell back to the top of the page; the
// answer puts the focus on the first conversation it brings (htmx follows
// autofocus in swapped content). The inbox page itself takes no focus.
func TestMoreConversationsKeepTheFocus(t *testing.T) {
	now := time.Date(2026, 2, 24, 13, 0, 0, 0, time.UTC)
	m := Meta{L: i18n.For("nl"), CSRF: "tok", SignedIn: true, Inbox: true, Now: now}
	v := InboxView{Name: "Jan", Page: 2, More: true, Next: "x", Threads: []InboxThread{
		{ID: 5, Subject: "Verzuim", OrgName: "OSAW", From: "Hanna", LastMessageAt: now, Unread: 1},
		{ID: 4, Subject: "Plan", OrgName: "OSAW", From: "Hanna", LastMessageAt: now},
	}}
	doc := parseDoc(t, InboxMoreRows(m, v))
	focus := findNodes(doc, func(n *html.Node) bool { _, ok := attrOf(n, "autofocus"); return ok })
	if len(focus) != 1 {
		t.Fatalf("%d elements with autofocus, want the first conversation's link", len(focus))
	}
	if href, _ := attrOf(focus[0], "href"); href != ThreadURL(5) || !hasClass(focus[0], "thread__link") {
		t.Errorf("autofocus on %s %v, want the link to %s", focus[0].Data, focus[0].Attr, ThreadURL(5))
	}
	if nodeByID(doc, "inbox-more") == nil {
		t.Error("no further Meer berichten")
	}
	for name, c := range map[string]templ.Component{"rows": InboxRows(m, v), "page": InboxPage(m, v), "partial": InboxPartial(m, v)} {
		if got := autofocused(parseDoc(t, c)); len(got) != 0 {
			t.Errorf("%s: focus moves to %v", name, got)
		}
	}
}

// TestSearchResultsAreAnnounced: typing in Zoeken replaces the list under
// it while the focus stays in the field, so a screen reader heard nothing
// of the result. The page has a polite status region beside the field
// (outside the list that is replaced), and the answer to a search says in
// it how many conversations were found, or that none were.
func TestSearchResultsAreAnnounced(t *testing.T) {
	now := time.Date(2026, 2, 24, 13, 0, 0, 0, time.UTC)
	m := Meta{L: i18n.For("nl"), CSRF: "tok", SignedIn: true, Inbox: true, Now: now}
	row := func(id int64) InboxThread {
		return InboxThread{ID: id, Subject: "Verzuim", OrgName: "OSAW", From: "Hanna", LastMessageAt: now}
	}
	page := parseDoc(t, InboxPage(m, InboxView{Name: "Jan", Page: 1, Query: "verzuim", Threads: []InboxThread{row(1)}}))
	status := nodeByID(page, "inbox-search-status")
	if status == nil {
		t.Fatal("no status region for the search")
	}
	if role, _ := attrOf(status, "role"); role != "status" {
		t.Errorf("the search's status has role %q", role)
	}
	if textOf(status) != "" {
		t.Errorf("the page announces %q on load", textOf(status))
	}
	for p := status.Parent; p != nil; p = p.Parent {
		if id, _ := attrOf(p, "id"); id == "inbox-results" {
			t.Error("the status region is inside the list a search replaces")
		}
	}
	for _, tc := range []struct {
		v    InboxView
		want string
	}{
		{InboxView{Page: 1, Query: "verzuim", Threads: []InboxThread{row(1), row(2)}}, "2 gesprekken gevonden."},
		{InboxView{Page: 1, Query: "verzuim", Threads: []InboxThread{row(1)}}, "1 gesprek gevonden."},
		{InboxView{Page: 1, Query: "verzuim", More: true, Threads: []InboxThread{row(1), row(2)}}, "Meer dan 2 gesprekken gevonden."},
		{InboxView{Page: 1, Query: "xyz"}, "Geen berichten gevonden voor “xyz”."},
		{InboxView{Page: 1, More: true, Threads: []InboxThread{row(1)}}, ""},
		// A short text in a large box looked at its most recent
		// conversations only, and the status says so too.
		{InboxView{Page: 1, Query: "ja", Scope: 1000, Threads: []InboxThread{row(1)}},
			"1 gesprek gevonden. Met één of twee tekens is alleen gezocht in de 1.000 meest recente gesprekken van deze lijst. Typ minstens drie tekens om ze allemaal te doorzoeken."},
	} {
		doc := parseDoc(t, InboxSearchResults(m, tc.v))
		oob := findNodes(doc, func(n *html.Node) bool { id, _ := attrOf(n, "id"); return id == "inbox-search-status" })
		if len(oob) != 1 {
			t.Errorf("%q: %d status updates", tc.want, len(oob))
			continue
		}
		if swap, _ := attrOf(oob[0], "hx-swap-oob"); swap != "innerHTML" {
			t.Errorf("%q: the status is swapped %q", tc.want, swap)
		}
		if got := textOf(oob[0]); got != tc.want {
			t.Errorf("status %q, want %q", got, tc.want)
		}
	}
	for _, lang := range []string{"nl", "en"} {
		ml := m
		ml.L = i18n.For(lang)
		want := map[string]string{"nl": "de 1.000 meest recente gesprekken", "en": "the 1,000 most recent conversations"}[lang]
		if got := renderString(t, InboxResults(ml, InboxView{Page: 1, Query: "ja", Scope: 1000})); !strings.Contains(got, want) {
			t.Errorf("%s: the results of a short search do not say what they looked at:\n%s", lang, got)
		}
		if got := renderString(t, InboxResults(ml, InboxView{Page: 1, Query: "jan"})); strings.Contains(got, want) {
			t.Errorf("%s: a search of the whole box says it looked at the most recent only", lang)
		}
	}
	if strings.Contains(renderString(t, InboxPage(m, InboxView{Page: 1, Query: "x"})), "hx-swap-oob=\"innerHTML\"") {
		t.Error("the page itself carries the status update")
	}
}

// TestReadCountLeavesTheMenu: an open conversation marks read what it
// shows, on load and again for every message pushed into it, and the
// answer lowers "Berichten (n)" in the header. It replaced the header's
// whole corner, the Menu (a <details>) included: a keyboard or screen-
// reader user who was in the menu when a message came in had it closed
// under them and the focus dropped to the page. The answer now replaces
// only the count's text (TestHeaderCountKeepsTheFocus).
func TestReadCountLeavesTheMenu(t *testing.T) {
	m := Meta{L: i18n.For("nl"), CSRF: "tok", SignedIn: true, UserName: "Jan", Inbox: true, Unread: 2}
	doc := parseDoc(t, ReadCount(m))
	link := nodeByID(doc, "inbox-link")
	if link == nil || textOf(link) != "Berichten (2)" {
		t.Fatalf("no updated count in %s", renderString(t, ReadCount(m)))
	}
	if swap, _ := attrOf(link, "hx-swap-oob"); swap != "innerHTML" {
		t.Errorf("the count is swapped %q", swap)
	}
	if n := findNodes(doc, func(n *html.Node) bool { id, _ := attrOf(n, "id"); return n.Data == "details" || id == "account" }); len(n) != 0 {
		t.Errorf("the answer replaces the menu: %s", renderString(t, ReadCount(m)))
	}
}

// TestAppSecretUsableOnThePhone: most people set Dialoog up on the phone
// that also holds their authenticator app, which cannot scan a QR code
// shown on its own screen, and typing 32 characters over is error-prone
// (and hard with low vision or a screen reader). Both pages that link an
// app offer the otpauth link, which opens the app with the account filled
// in, and a button that copies the key without its spaces.
func TestAppSecretUsableOnThePhone(t *testing.T) {
	uri := "otpauth://totp/OSAW:jan@example.nl?algorithm=SHA1&digits=6&issuer=OSAW&period=30&secret=ABCDEFGHIJKLMNOP"
	v := AppStepView{QRCode: []byte{0x89, 'P', 'N', 'G'}, Secret: "ABCD EFGH IJKL MNOP", URI: uri}
	for _, lang := range i18n.Languages {
		m := Meta{L: i18n.For(lang), CSRF: "tok", SignedIn: true}
		for name, c := range map[string]templ.Component{"step": AppStepPage(m, v), "factors": FactorAppPage(m, v), "step partial": AppStepPartial(m, v)} {
			doc := parseDoc(t, c)
			links := findNodes(doc, func(n *html.Node) bool { href, _ := attrOf(n, "href"); return n.Data == "a" && href == uri })
			if len(links) != 1 || textOf(links[0]) != m.T("app.open_app") {
				t.Errorf("%s/%s: no link that opens the app with the account", lang, name)
			}
			copies := findNodes(doc, func(n *html.Node) bool {
				v, _ := attrOf(n, "data-copy")
				return n.Data == "button" && v == "ABCDEFGHIJKLMNOP"
			})
			if len(copies) != 1 {
				t.Errorf("%s/%s: no button that copies the key", lang, name)
				continue
			}
			status, _ := attrOf(copies[0], "data-copy-status")
			if s := nodeByID(doc, status); s == nil {
				t.Errorf("%s/%s: the copy button's status %q is not on the page", lang, name, status)
			} else if role, _ := attrOf(s, "role"); role != "status" {
				t.Errorf("%s/%s: the copy status is no status region", lang, name)
			}
		}
	}
	// Anything but an otpauth link is not offered.
	v.URI = "javascript:alert(1)"
	if page := renderString(t, AppStepPage(Meta{L: i18n.For("nl"), CSRF: "tok"}, v)); strings.Contains(page, "javascript:") {
		t.Error("a link that is no otpauth link is written")
	}
}

// TestEveryInputIsStyled: the stylesheet gives text fields their 44px
// height, 2px border and full width by type (input[type="text"], ...). A
// field whose type it does not name, or that has no type at all, keeps
// the browser's small default box: a touch target of about 20px, for
// example the code of a helpdesk reset, typed on a phone.
func TestEveryInputIsStyled(t *testing.T) {
	css, err := fs.ReadFile(static.FS, "css/app.css")
	if err != nil {
		t.Fatal(err)
	}
	m := Meta{L: i18n.For("nl"), CSRF: "tok", SignedIn: true, UserName: "Hanna", Inbox: true}
	all := map[string]templ.Component{
		"helpdesk":  HelpdeskPage(m, HelpdeskView{Token: "t", Email: "jan@example.nl"}),
		"sso":       AdminSSOPage(m, AdminSSOView{Configured: true}),
		"users":     AdminUsersPage(m, AdminUsersView{InviteTeams: []AdminTeamOption{{ID: 3, Name: "Verzuim"}}}),
		"audit":     AdminAuditPage(m, AdminAuditView{}),
		"branding":  AdminBrandingPage(m, AdminBrandingView{}),
		"team":      AdminTeamPage(m, AdminTeamView{ID: 3, Name: "Verzuim"}),
		"retention": AdminRetentionPage(m, AdminRetentionView{}),
		"seal":      SealVerifyPage(m, SealVerifyView{}),
		"compose":   ComposePage(m, ComposeView{Signing: true}),
	}
	for name, p := range accountPages("nl") {
		all[name] = p[0]
	}
	for name, p := range pages("nl") {
		all[name] = p[0]
	}
	for name, c := range all {
		for _, in := range findNodes(parseDoc(t, c), func(n *html.Node) bool { return n.Data == "input" }) {
			typ, ok := attrOf(in, "type")
			switch typ {
			case "hidden", "checkbox", "radio":
				continue
			}
			id, _ := attrOf(in, "id")
			if !ok {
				t.Errorf("%s: input %s has no type", name, id)
				continue
			}
			if !hasClass(in, "input--code") && !strings.Contains(string(css), `input[type="`+typ+`"]`) {
				t.Errorf("%s: input %s of type %q is not styled by app.css", name, id, typ)
			}
		}
	}
}

// TestStepHeadingSaysWhichStep: after each step of the first visit htmx
// swaps the page and the focus goes to the new step's heading. "Stap 3
// van 6" stands above it, so a screen reader, which starts reading at the
// heading, never said it. The heading of every step is described by it.
func TestStepHeadingSaysWhichStep(t *testing.T) {
	m := Meta{L: i18n.For("nl"), CSRF: "tok", SignedIn: true}
	all := accountPages("nl")
	for name, step := range map[string]int{"TermsStep": StepTerms, "TermsStepError": StepTerms, "PasswordStep": StepPassword,
		"SMSNumber": StepSecondFactor, "SMSCode": StepSecondFactor, "AppStep": StepSecondFactor, "Recovery": StepRecovery, "Profile": StepProfile} {
		for i, c := range all[name] {
			doc := parseDoc(t, c)
			h1 := findNodes(doc, func(n *html.Node) bool { return n.Data == "h1" })
			if len(h1) != 1 {
				t.Fatalf("%s: %d h1", name, len(h1))
			}
			ref, _ := attrOf(h1[0], "aria-describedby")
			desc := nodeByID(doc, ref)
			if desc == nil || textOf(desc) != stepOf(m, step) {
				t.Errorf("%s (%d): the heading %q is not described by %q", name, i, textOf(h1[0]), stepOf(m, step))
			}
		}
	}
	// A password reset is no step of the first visit.
	doc := parseDoc(t, all["PasswordReset"][1])
	if h1 := findNodes(doc, func(n *html.Node) bool { return n.Data == "h1" }); len(h1) != 1 {
		t.Fatal("no h1 on the reset page")
	} else if ref, ok := attrOf(h1[0], "aria-describedby"); ok {
		t.Errorf("the reset page's heading is described by %q", ref)
	}
}

// TestHeaderIsANavigationLandmark: screen-reader users move between the
// parts of a page by landmark (header, navigation, main, footer). The
// header's "Berichten (n)" and Menu (Mijn account, Uitloggen) are the
// site's navigation, but were in no nav, so the navigation landmark did
// not exist on most pages. Signed out, the corner is empty and there is
// no navigation to name.
func TestHeaderIsANavigationLandmark(t *testing.T) {
	now := time.Date(2026, 2, 24, 13, 0, 0, 0, time.UTC)
	for _, lang := range i18n.Languages {
		m := Meta{L: i18n.For(lang), CSRF: "tok", SignedIn: true, UserName: "Jan", Inbox: true, Unread: 1, Now: now}
		for name, c := range map[string]templ.Component{
			"inbox":   InboxPage(m, InboxView{Name: "Jan", Page: 1}),
			"partial": InboxPartial(m, InboxView{Name: "Jan", Page: 1}),
			"count":   ReadCount(m),
		} {
			doc := parseDoc(t, c)
			account := nodeByID(doc, "account")
			if name == "count" {
				continue // only the link, inside the nav on the page
			}
			navs := findNodes(account, func(n *html.Node) bool { return n.Data == "nav" })
			if len(navs) != 1 {
				t.Errorf("%s/%s: %d nav elements in the header's corner", lang, name, len(navs))
				continue
			}
			if label, _ := attrOf(navs[0], "aria-label"); label == "" || label != m.T("layout.nav") {
				t.Errorf("%s/%s: the navigation is named %q", lang, name, label)
			}
			if nodeByID(navs[0], "inbox-link") == nil || len(findNodes(navs[0], func(n *html.Node) bool { return n.Data == "details" })) != 1 {
				t.Errorf("%s/%s: the navigation lacks Berichten or the menu", lang, name)
			}
		}
		anon := parseDoc(t, LoginPage(Meta{L: i18n.For(lang), CSRF: "tok"}, LoginView{}))
		if n := findNodes(nodeByID(anon, "account"), func(n *html.Node) bool { return n.Data == "nav" }); len(n) != 0 {
			t.Errorf("%s: an empty navigation when signed out", lang)
		}
	}
}

// TestHeaderCountKeepsTheFocus: every new message, pushed live, and every
// conversation marked read update "Berichten (n)" in the header. The
// update replaced the link itself, so a keyboard user standing on it lost
// the focus to the page whenever a message came in (a live swap gives it
// back to nothing). It now replaces only the link's text.
func TestHeaderCountKeepsTheFocus(t *testing.T) {
	now := time.Date(2026, 2, 24, 13, 0, 0, 0, time.UTC)
	m := Meta{L: i18n.For("nl"), CSRF: "tok", SignedIn: true, UserName: "Jan", Inbox: true, Unread: 3, Now: now}
	msg := MessageItem{ID: 9, ThreadID: 7, SenderName: "Hanna", Body: "Hoi", CreatedAt: now, Unread: true}
	for name, c := range map[string]templ.Component{
		"read":   ReadCount(m),
		"push":   LiveNewMessage(m, LiveMessage{Thread: InboxThread{ID: 7, Subject: "Verzuim"}, Message: &msg}),
		"change": LiveChangedMessage(m, LiveMessage{Thread: InboxThread{ID: 7, Subject: "Verzuim"}}, true, 9),
	} {
		doc := parseDoc(t, c)
		link := nodeByID(doc, "inbox-link")
		if link == nil {
			t.Fatalf("%s: no count", name)
		}
		if swap, _ := attrOf(link, "hx-swap-oob"); swap != "innerHTML" {
			t.Errorf("%s: the count's link is swapped %q, not only its text", name, swap)
		}
		if got := textOf(link); got != "Berichten (3)" {
			t.Errorf("%s: the count says %q", name, got)
		}
		if link.FirstChild == nil || link.FirstChild.Type != html.TextNode || link.FirstChild.NextSibling != nil {
			t.Errorf("%s: the count's link holds more than its text", name)
		}
	}
	// On the page it is an ordinary link.
	page := parseDoc(t, InboxPage(m, InboxView{Name: "Jan", Page: 1}))
	if link := nodeByID(page, "inbox-link"); link == nil {
		t.Fatal("no count on the page")
	} else if _, ok := attrOf(link, "hx-swap-oob"); ok {
		t.Error("the page's link is an out-of-band swap")
	}
}
