package components

import (
	"encoding/json"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/a-h/templ"

	"dialoog/i18n"
)

func pages(lang string) map[string][2]templ.Component {
	m := Meta{L: i18n.For(lang), CSRF: "csrf-token-value"}
	inv := InvitationView{Action: "/aanmelden/abc", Email: "jan@example.nl", OrgName: "OSAW"}
	invalid := InvitationInvalidView{Expired: true, Email: "jan@", EmailError: "Vul een geldig mailadres in."}
	login := LoginView{Email: "jan@example.nl", Error: "Nog niet"}
	errV := ErrorView{Status: 404, Message: "Weg."}
	dev := DevOutboxView{Items: []DevOutboxItem{
		{ID: 1, Channel: "mail", To: "a@b.nl", Subject: "S", HTML: "<p>x</p>", Text: "x https://x.nl/a", CreatedAt: time.Unix(0, 0)},
		{ID: 2, Channel: "sms", To: "+31612345678", Body: "123456"},
	}}
	return map[string][2]templ.Component{
		"Start":             {StartPage(m, StartView{}), StartPartial(m, StartView{})},
		"StartStopped":      {StartPage(m, StartView{Stopped: true}), StartPartial(m, StartView{Stopped: true})},
		"Login":             {LoginPage(m, login), LoginPartial(m, login)},
		"Invitation":        {InvitationPage(m, inv), InvitationPartial(m, inv)},
		"InvitationInvalid": {InvitationInvalidPage(m, invalid), InvitationInvalidPartial(m, invalid)},
		"NewLink":           {InvitationInvalidPage(m, InvitationInvalidView{}), InvitationInvalidPartial(m, InvitationInvalidView{})},
		"NewLinkSent":       {NewLinkSentPage(m), NewLinkSentPartial(m)},
		"Error":             {ErrorPage(m, errV), ErrorPartial(m, errV)},
		"DevOutbox":         {DevOutboxPage(m, dev), DevOutboxPartial(m, dev)},
	}
}

// accountPages are the pages of the first visit and of logging in, with a
// signed-in Meta where a session exists, in their plain and error states.
func accountPages(lang string) map[string][2]templ.Component {
	anon := Meta{L: i18n.For(lang), CSRF: "csrf-token-value"}
	m := Meta{L: i18n.For(lang), CSRF: "csrf-token-value", SignedIn: true}
	in := Meta{L: i18n.For(lang), CSRF: "csrf-token-value", SignedIn: true, UserName: "Jan van der Berg"}
	terms := TermsStepView{VersionID: 3, Version: 2}
	termsErr := TermsStepView{VersionID: 3, Version: 2, Error: "Vink aan."}
	text := TermsTextView{Version: 2, PublishedAt: time.Date(2026, 2, 23, 0, 0, 0, 0, time.UTC), Body: "Artikel 1\n\nArtikel 2"}
	pw := PasswordView{Action: "/stap/wachtwoord", CheckURL: "/stap/wachtwoord/controle"}
	pwErr := PasswordView{Action: "/stap/wachtwoord", CheckURL: "/stap/wachtwoord/controle", PasswordError: "Te kort.", ConfirmError: "Niet gelijk."}
	reset := PasswordView{Reset: true, Email: "jan@example.nl", Action: "/wachtwoord-vergeten/abc", CheckURL: "/wachtwoord-vergeten/abc/controle"}
	smsNumber := SMSStepView{Phone: "020", PhoneError: "Geen mobiel nummer."}
	smsCode := SMSStepView{SentTo: "••••5678", CodeError: "Fout.", ResendIn: 42, Notice: "Wacht."}
	app := AppStepView{QRCode: []byte{0x89, 'P', 'N', 'G'}, Secret: "ABCD EFGH", CodeError: "Fout.", Error: "Er moet altijd..."}
	rec := RecoveryView{Email: "jan@example.nl", Codes: []string{"abcde-fghij", "klmno-pqrst"}, Error: "Bevestig."}
	prof := ProfileView{Form: ProfileForm{Gender: "female", FirstName: "Jan", AwayEnabled: true, AwayFrom: "2026-03-10"},
		Errors: map[string]string{"initials": "Vul dit veld in.", "away_message": "Vul het bericht in.", "away_until": "Voor de begindatum."}}
	inbox := InboxView{Name: "Jan van der Berg", Admin: true}
	now := time.Date(2026, 2, 24, 13, 0, 0, 0, time.UTC)
	in.Inbox, in.Unread, in.Now = true, 3, now
	inboxFull := InboxView{Name: "Jan van der Berg", Page: 2, More: true, Unread: 3, Query: "verzuim", Threads: []InboxThread{
		{ID: 7, Subject: "testbericht", OrgName: "OSAW", From: "Hanna de Vries", LastMessageAt: now.Add(-time.Hour), Unread: 2},
		{ID: 5, Subject: "Verzuim", OrgName: "OSAW", From: "Bram Arts, Jan", LastMessageAt: now.Add(-48 * time.Hour)},
	}}
	compose := ComposeView{Contacts: []string{"hr@osaw.nl"}}
	composeErr := ComposeView{External: true, Form: ComposeForm{To: "jan@", Subject: "", Body: "Hallo"},
		Errors:      map[string]string{"to": "Ongeldig.", "subject": "Leeg.", "attachments": "a.exe: Niet toegestaan."},
		Attachments: []AttachmentItem{{ID: 4, Name: "Brief 2026.pdf", Size: 12345}}}
	thread := ThreadView{ID: 7, Subject: "testbericht", OrgName: "OSAW", CanAddParticipants: true, CanResend: true, Unread: true,
		Notice: "Verstuurd.", Add: AddParticipantForm{Email: "x@", Error: "Ongeldig."},
		Participants: []ParticipantItem{
			{UserID: 1, Name: "Hanna de Vries", Email: "hr@osaw.nl", Internal: true, Status: "active", LastSeenAt: now},
			{UserID: 2, Name: "jan@example.nl", Email: "jan@example.nl", Status: "invited"},
		},
		Messages: []MessageItem{
			{ID: 1, ThreadID: 7, SenderName: "Hanna de Vries", SenderOrg: "OSAW", Mine: true, Body: "Zie https://osaw.nl.\nGroet", CreatedAt: now,
				Attachments: []AttachmentItem{{ID: 3, Name: "Brief 2026.pdf", Size: 2 << 20}},
				Receipts:    []ReceiptItem{{Name: "Jan", ReadAt: now}, {Name: "Piet"}}, CanDeleteForEveryone: true},
			{ID: 2, ThreadID: 7, SenderName: "Jan", Body: "Ik ben afwezig.", AutoReply: true, Unread: true, CreatedAt: now},
		}}
	thread.Messages = append(thread.Messages, MessageItem{ID: 3, ThreadID: 7, SenderDeleted: true, Body: "Van iemand die stopte.", CreatedAt: now})
	account := AccountView{Email: "jan@example.nl"}
	accountErr := AccountView{Email: "jan@example.nl", PasswordError: "Klopt niet.", ConfirmError: "Vink aan."}
	threadReply := thread
	threadReply.Unread, threadReply.Notice, threadReply.Alert = false, "", "Al gelezen."
	threadReply.Reply = &ReplyForm{Body: "", Errors: map[string]string{"body": "Schrijf een bericht."}, Attachments: []AttachmentItem{{ID: 9, Name: "Notitie.txt", Size: 10}}}
	login := LoginView{Email: "jan@example.nl", Error: "Onjuist."}
	factor := LoginFactorView{Factors: []LoginFactor{{Kind: "totp"}, {Kind: "sms", Phone: "••••5678"}}, SMSSentTo: "••••5678", SMSResendIn: 30, RecoveryError: "Fout."}
	factorNoSMS := LoginFactorView{Factors: []LoginFactor{{Kind: "sms", Phone: "••••5678"}}, SMSError: "Geen code."}
	forgot := ForgotPasswordView{Email: "jan@", EmailError: "Ongeldig."}
	admin := AdminTermsView{Version: 2, NL: "Tekst", EN: "Text", BodyError: "Leeg."}
	sessions := SessionsView{Notice: "Afgemeld.", Sessions: []SessionItem{
		{ID: 1, Browser: "Firefox 128", System: "Windows 10", Place: "203.0.113.x", Started: now, Active: now, Current: true},
		{ID: 2, Place: "", Started: now, Active: now, Pending: true},
	}}
	activity := ActivityView{Page: 2, More: true, Events: []ActivityItem{
		{Kind: "login.failed", Factor: "password", Place: "203.0.113.x", At: now},
		{Kind: "something.new", Place: "2001:db8:1234::/48", At: now.Add(-time.Hour)},
	}}
	return map[string][2]templ.Component{
		"TermsStep":         {TermsStepPage(m, terms), TermsStepPartial(m, terms)},
		"TermsStepError":    {TermsStepPage(m, termsErr), TermsStepPartial(m, termsErr)},
		"TermsText":         {TermsTextPage(anon, text), TermsTextPartial(anon, text)},
		"PasswordStep":      {PasswordStepPage(m, pw), PasswordStepPartial(m, pw)},
		"PasswordStepError": {PasswordStepPage(m, pwErr), PasswordStepPartial(m, pwErr)},
		"PasswordReset":     {PasswordStepPage(anon, reset), PasswordStepPartial(anon, reset)},
		"SMSNumber":         {SMSStepPage(m, smsNumber), SMSStepPartial(m, smsNumber)},
		"SMSCode":           {SMSStepPage(m, smsCode), SMSStepPartial(m, smsCode)},
		"AppStep":           {AppStepPage(m, app), AppStepPartial(m, app)},
		"Recovery":          {RecoveryStepPage(m, rec), RecoveryStepPartial(m, rec)},
		"Profile":           {ProfileStepPage(m, prof), ProfileStepPartial(m, prof)},
		"Inbox":             {InboxPage(in, inbox), InboxPartial(in, inbox)},
		"LoginError":        {LoginPage(anon, login), LoginPartial(anon, login)},
		"LoginFactor":       {LoginFactorPage(m, factor), LoginFactorPartial(m, factor)},
		"LoginFactorNoSMS":  {LoginFactorPage(m, factorNoSMS), LoginFactorPartial(m, factorNoSMS)},
		"ForgotPassword":    {ForgotPasswordPage(anon, forgot), ForgotPasswordPartial(anon, forgot)},
		"ForgotSent":        {ForgotPasswordSentPage(anon), ForgotPasswordSentPartial(anon)},
		"ResetInvalid":      {ResetInvalidPage(anon), ResetInvalidPartial(anon)},
		"AdminTerms":        {AdminTermsPage(in, admin), AdminTermsPartial(in, admin)},
		"InboxFull":         {InboxPage(in, inboxFull), InboxPartial(in, inboxFull)},
		"Compose":           {ComposePage(in, compose), ComposePartial(in, compose)},
		"ComposeError":      {ComposePage(in, composeErr), ComposePartial(in, composeErr)},
		"Thread":            {ThreadPage(in, thread), ThreadPartial(in, thread)},
		"ThreadReply":       {ThreadPage(in, threadReply), ThreadPartial(in, threadReply)},
		"Account":           {AccountPage(in, account), AccountPartial(in, account)},
		"AccountError":      {AccountPage(in, accountErr), AccountPartial(in, accountErr)},
		"Activity":          {ActivityPage(in, activity), ActivityPartial(in, activity)},
		"ActivityEmpty":     {ActivityPage(in, ActivityView{Page: 1}), ActivityPartial(in, ActivityView{Page: 1})},
		"Sessions":          {SessionsPage(in, sessions), SessionsPartial(in, sessions)},
	}
}

var (
	inputPattern = regexp.MustCompile(`<input [^>]*>`)
	idPattern    = regexp.MustCompile(`\bid="([^"]+)"`)
	formPattern  = regexp.MustCompile(`<form [^>]*>`)
)

// TestPagesAreAccessibleAndCSPClean checks what every page must have: one
// h1, a label for every visible input, the CSRF field in every form, and no
// inline script or style (the CSP would block them).
func TestPagesAreAccessibleAndCSPClean(t *testing.T) {
	for _, lang := range i18n.Languages {
		all := pages(lang)
		for name, p := range accountPages(lang) {
			all[name] = p
		}
		for name, p := range all {
			t.Run(lang+"/"+name, func(t *testing.T) {
				full, partial := renderString(t, p[0]), renderString(t, p[1])
				if !strings.HasPrefix(full, "<!doctype html><html lang=\""+lang+"\">") {
					t.Errorf("full page does not start with the document: %.80s", full)
				}
				if strings.Contains(partial, "<html") || !strings.HasPrefix(partial, "<title>") {
					t.Errorf("partial is not content only: %.80s", partial)
				}
				for _, page := range []string{full, partial} {
					if n := strings.Count(page, "<h1"); n != 1 {
						t.Errorf("%d h1 elements", n)
					}
					if strings.Contains(page, " style=") || strings.Contains(page, "<style") || strings.Contains(page, "<script>") {
						t.Error("inline style or script")
					}
					for _, input := range inputPattern.FindAllString(page, -1) {
						if strings.Contains(input, `type="hidden"`) {
							continue
						}
						id := idPattern.FindStringSubmatch(input)
						if id == nil || !strings.Contains(page, `<label for="`+id[1]+`">`) {
							t.Errorf("input without label: %s", input)
						}
					}
					// A search form is the one GET form: it changes nothing, so
					// it carries no CSRF token. Every other form posts.
					var forms []string
					for _, f := range formPattern.FindAllString(page, -1) {
						if strings.Contains(f, `role="search"`) && strings.Contains(f, `method="get"`) {
							continue
						}
						forms = append(forms, f)
					}
					if n := strings.Count(page, `<input type="hidden" name="_csrf" value="csrf-token-value">`); n != len(forms) {
						t.Errorf("%d forms but %d CSRF fields", len(forms), n)
					}
					for _, f := range forms {
						if !strings.Contains(f, `method="post"`) {
							t.Errorf("form without method=post: %s", f)
						}
					}
				}
				if strings.Contains(full, "Naar de inhoud") != (lang == "nl") {
					t.Error("skip link missing or in the wrong language")
				}
			})
		}
	}
}

// TestNoUntranslatedKeys renders every page and looks for message keys in
// the output: i18n returns the key itself for a missing text.
func TestNoUntranslatedKeys(t *testing.T) {
	buf, err := os.ReadFile("../i18n/catalog/nl.json")
	if err != nil {
		t.Fatal(err)
	}
	var cat map[string]string
	if err := json.Unmarshal(buf, &cat); err != nil {
		t.Fatal(err)
	}
	// Keys a component might ask for that are not in the catalog at all.
	keyLike := regexp.MustCompile(`>\s*([a-z_]+\.[a-z_.]+)\s*<`)
	for _, lang := range i18n.Languages {
		all := pages(lang)
		for name, p := range accountPages(lang) {
			all[name] = p
		}
		for name, p := range all {
			page := renderString(t, p[0])
			for key := range cat {
				if strings.Contains(page, ">"+key+"<") || strings.Contains(page, `"`+key+`"`) {
					t.Errorf("%s/%s: untranslated key %q", lang, name, key)
				}
			}
			for _, m := range keyLike.FindAllStringSubmatch(page, -1) {
				if !strings.Contains(m[1], "@") {
					t.Errorf("%s/%s: text looks like a message key: %q", lang, name, m[1])
				}
			}
		}
	}
}

func TestFieldErrorIsTiedToInput(t *testing.T) {
	m := Meta{L: i18n.For("nl"), CSRF: "x"}
	page := renderString(t, InvitationInvalidPartial(m, InvitationInvalidView{Email: "jan@", EmailError: "Vul een geldig mailadres in."}))
	for _, want := range []string{
		`<p id="newlink-email-error" class="field-error"><span class="visually-hidden">Fout: </span>Vul een geldig mailadres in.</p>`,
		`value="jan@"`, `aria-invalid="true"`, `aria-describedby="newlink-email-error"`, "autofocus",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q:\n%s", want, page)
		}
	}
}
