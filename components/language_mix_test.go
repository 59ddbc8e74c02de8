package components

import (
	"context"
	"encoding/json"
	"html"
	"io"
	"os"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"dialoog/i18n"
)

// foreignPhrases returns the phrases of the catalog of the other language
// than lang that a page in lang must not hold: the literal parts of its
// texts (between placeholders) of at least two words and ten characters,
// which no text of lang's own catalog has, and which the test's own data
// (the view models written in pages_test.go, typed in Dutch) does not.
func foreignPhrases(t *testing.T, lang string) []string {
	t.Helper()
	read := func(l string) map[string]string {
		buf, err := os.ReadFile("../i18n/catalog/" + l + ".json")
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]string{}
		if err := json.Unmarshal(buf, &m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	other := "nl"
	if lang == "nl" {
		other = "en"
	}
	own := read(lang)
	var ownAll strings.Builder
	for _, v := range own {
		ownAll.WriteString(v)
		ownAll.WriteByte('\n')
	}
	fixtures, err := os.ReadFile("pages_test.go")
	if err != nil {
		t.Fatal(err)
	}
	placeholders := regexp.MustCompile(`\{\{[^}]*\}\}`)
	seen := map[string]bool{}
	var out []string
	for _, text := range read(other) {
		for _, part := range placeholders.Split(text, -1) {
			part = strings.TrimSpace(strings.Trim(part, " ,.:;()"))
			if len(part) < 10 || !strings.Contains(part, " ") || seen[part] ||
				strings.Contains(ownAll.String(), part) || strings.Contains(string(fixtures), part) {
				continue
			}
			seen[part] = true
			out = append(out, part)
		}
	}
	sort.Strings(out)
	return out
}

// languageMixRenders are the pages, mails and texts of lang: every page of
// the pages tests, each mail and text message.
func languageMixRenders(t *testing.T, lang string) map[string]string {
	t.Helper()
	out := map[string]string{}
	all := pages(lang)
	for name, p := range accountPages(lang) {
		all[name] = p
	}
	for name, p := range all {
		out["page "+name] = renderString(t, p[0])
		out["partial "+name] = renderString(t, p[1])
	}
	// The pages the pages tests leave out, with their views as empty as
	// they come (their fixed texts are what is checked).
	in := Meta{L: i18n.For(lang), CSRF: "x", SignedIn: true, Inbox: true, UserName: "Jan", Now: time.Date(2026, 12, 5, 13, 0, 0, 0, time.UTC)}
	for name, c := range map[string]interface {
		Render(context.Context, io.Writer) error
	}{
		"admin audit":      AdminAuditPage(in, AdminAuditView{}),
		"admin branding":   AdminBrandingPage(in, AdminBrandingView{}),
		"admin helpdesk":   AdminHelpdeskPage(in, AdminHelpdeskView{Email: "jan@example.nl"}),
		"admin index":      AdminIndexPage(in),
		"admin retention":  AdminRetentionPage(in, AdminRetentionView{}),
		"admin sso":        AdminSSOPage(in, AdminSSOView{}),
		"admin teams":      AdminTeamsPage(in, AdminTeamsView{}),
		"admin users":      AdminUsersPage(in, AdminUsersView{}),
		"cases":            CaseListPage(in, CaseListView{}),
		"factors":          FactorsPage(in, FactorsView{}),
		"factor app":       FactorAppPage(in, AppStepView{}),
		"first admin":      FirstAdminPage(in, FirstAdminView{}),
		"helpdesk":         HelpdeskPage(in, HelpdeskView{Email: "jan@example.nl"}),
		"helpdesk invalid": HelpdeskInvalidPage(in),
		"offline":          OfflinePage(Meta{L: i18n.For(lang), Offline: true}),
		"recovery used":    RecoveryUsedPage(in, RecoveryUsedView{Left: 2, MayEnrol: true, Until: "14:05"}),
		"seal verify":      SealVerifyPage(in, SealVerifyView{}),
		"sso continue":     SSOContinuePage(in, "https://login.example/"),
		"sso reauth":       SSOReauthContinuePage(in, "https://login.example/"),
	} {
		out["extra page "+name] = renderString(t, c)
	}
	const link = "https://dialoog.example.nl/x/abc"
	inv := BrandedInvitationMail(lang, "OSAW", "", "", link, "https://dialoog.example.nl")
	out["invitation mail"] = InvitationMailSubject(inv) + "\n" + InvitationMailText(inv) + "\n" + renderString(t, InvitationMailHTML(inv))
	msg := NewMessageMail{Lang: lang, From: "OSAW", LoginURL: link}
	out["new message mail"] = NewMessageMailSubject(msg) + "\n" + NewMessageMailText(msg) + "\n" + renderString(t, NewMessageMailHTML(msg))
	reset := PasswordResetMail{Lang: lang, ResetURL: link}
	out["reset mail"] = PasswordResetMailSubject(reset) + "\n" + PasswordResetMailText(reset) + "\n" + renderString(t, PasswordResetMailHTML(reset))
	help := HelpdeskResetMail{Lang: lang, Link: link}
	out["helpdesk mail"] = HelpdeskResetMailSubject(help) + "\n" + HelpdeskResetMailText(help)
	for _, n := range []int{1, 3} {
		sum := DailySummaryMail{Lang: lang, Unread: n, LoginURL: link}
		out["summary mail "+string(rune('0'+n))] = DailySummaryMailSubject(sum) + "\n" + DailySummaryMailText(sum) + "\n" + renderString(t, DailySummaryMailHTML(sum))
	}
	for _, ev := range []string{"password_reset", "recovery_used", "factor_added", "password_changed", "factor_removed",
		"phone_changed", "recovery_regenerated", "new_browser", "helpdesk_reset"} {
		sec := SecurityMail{Lang: lang, Event: ev, At: time.Date(2026, 12, 5, 13, 5, 0, 0, time.UTC)}
		out["security mail "+ev] = SecurityMailSubject(sec) + "\n" + SecurityMailText(sec)
	}
	for _, kind := range []string{SigningMailReminder, SigningMailExpired, SigningMailLapsed} {
		subject, text := SigningMail(lang, kind, link)
		out["signing mail "+kind] = subject + "\n" + text
	}
	out["sms"] = SMSCodeText(lang, "dialoog.example.nl", "123456")
	out["signing sms"] = SigningCodeText(lang, "dialoog.example.nl", "123456")
	return out
}

// TestNoTextOfTheOtherLanguage renders every page of the pages tests and
// every mail and text message in each language and fails on a phrase of
// the other language's catalog in it: a text looked up with the wrong
// Localizer, or written into a view model in one language.
func TestNoTextOfTheOtherLanguage(t *testing.T) {
	for _, lang := range i18n.Languages {
		phrases := foreignPhrases(t, lang)
		if len(phrases) < 100 {
			t.Fatalf("%s: only %d phrases of the other language to look for", lang, len(phrases))
		}
		// The check itself: the other language's login page is full of
		// such phrases.
		other := "en"
		if lang == "en" {
			other = "nl"
		}
		login := html.UnescapeString(renderString(t, LoginPage(Meta{L: i18n.For(other)}, LoginView{})))
		found := 0
		for _, p := range phrases {
			if strings.Contains(login, p) {
				found++
			}
		}
		if found < 3 {
			t.Errorf("%s: only %d phrases found in the %s login page", lang, found, other)
		}
		for name, out := range languageMixRenders(t, lang) {
			text := html.UnescapeString(out)
			for _, p := range phrases {
				if strings.Contains(text, p) {
					t.Errorf("%s %s holds %q of the other language", lang, name, p)
				}
			}
		}
	}
}
