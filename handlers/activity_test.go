package handlers

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"dialoog/auth"
	"dialoog/db"
)

// TestSecurityActivity: "Beveiligingsactiviteit" lists the person's own
// security events, newest first and paged, with the factor and a shortened
// IP address; nobody else's events.
func TestSecurityActivity(t *testing.T) {
	ra := newRealApp(t)
	jan := ra.onboard(t, auth.InviteInput{Email: "jan@example.nl"}, false)
	other := ra.onboard(t, auth.InviteInput{Email: "piet@example.nl"}, false)
	resp, _ := ra.browser(t).post(pathLogin, url.Values{"email": {jan.email}, "password": {"fout-wachtwoord-123"}})
	wantStatus(t, resp, http.StatusUnauthorized)

	_, account := jan.b.get(pathAccount)
	wantContains(t, account, `href="/account/activiteit"`, "Beveiligingsactiviteit bekijken")
	resp, page := jan.b.get(pathAccountActivity)
	wantStatus(t, resp, http.StatusOK)
	wantContains(t, page, "<h1>Beveiligingsactiviteit</h1>", "Mislukte inlogpoging (wachtwoord)", "Tweede stap toegevoegd",
		"Herstelcodes aangemaakt", "Gebruikersvoorwaarden geaccepteerd")
	if strings.Index(page, "Mislukte inlogpoging") > strings.Index(page, "Gebruikersvoorwaarden geaccepteerd") {
		t.Error("the newest event must come first")
	}
	if strings.Contains(page, "Volgende") || strings.Contains(page, ">Oudere<") {
		t.Error("one page of events must not offer an older page")
	}

	// Thirty more events of Jan's: two pages; Piet's events are never shown.
	var u db.User
	if err := ra.d.NewSelect().Model(&u).Where("email = ?", jan.email).Scan(context.Background()); err != nil {
		t.Fatal(err)
	}
	ra.clk.Add(time.Minute)
	for range 30 {
		if err := auth.Audit(context.Background(), ra.d, auth.AuditEntry{UserID: &u.ID, Kind: "login.ok", Detail: "totp", IP: "203.0.113.77",
			Now: ra.clk.Now()}); err != nil {
			t.Fatal(err)
		}
	}
	_, page = jan.b.get(pathAccountActivity)
	wantContains(t, page, "Ingelogd (authenticator-app)", "203.0.113.x", `href="/account/activiteit?pagina=2"`, ">Oudere<")
	if strings.Contains(page, "203.0.113.77") {
		t.Error("the IP address must be shortened")
	}
	_, page2 := jan.b.get(pathAccountActivity + "?pagina=2")
	wantContains(t, page2, ">Nieuwere<", "Gebruikersvoorwaarden geaccepteerd")
	_, pietPage := other.b.get(pathAccountActivity)
	if strings.Contains(pietPage, "Mislukte inlogpoging") || strings.Contains(pietPage, "203.0.113") {
		t.Error("another person's events are shown")
	}
}

// TestActivityNamesAdministratorsActions: what an administrator did to the
// person's account (a helpdesk reset started and completed, an invitation,
// enabling the account) is listed in words, in Dutch and in English, never
// by its stored name.
func TestActivityNamesAdministratorsActions(t *testing.T) {
	ra := newRealApp(t)
	jan := ra.onboard(t, auth.InviteInput{Email: "jan@example.nl"}, false)
	var u db.User
	if err := ra.d.NewSelect().Model(&u).Where("email = ?", jan.email).Scan(context.Background()); err != nil {
		t.Fatal(err)
	}
	other := ra.onboard(t, auth.InviteInput{Email: "hr@example.nl"}, false)
	var admin int64
	if err := ra.d.NewSelect().Model((*db.User)(nil)).Column("id").Where("email = ?", other.email).Scan(context.Background(), &admin); err != nil {
		t.Fatal(err)
	}
	kinds := []string{"admin.user_invited", "admin.invitation_resent", "admin.user_enabled", "admin.helpdesk_reset_started", "helpdesk.reset_completed"}
	for _, k := range kinds {
		ra.clk.Add(time.Minute)
		e := auth.AuditEntry{UserID: &u.ID, ActorID: &admin, Kind: k, IP: "198.51.100.23", Now: ra.clk.Now()}
		if k == "helpdesk.reset_completed" {
			e.ActorID = nil
		}
		if err := auth.Audit(context.Background(), ra.d, e); err != nil {
			t.Fatal(err)
		}
	}
	_, page := jan.b.get(pathAccountActivity)
	wantContains(t, page, "Uitnodiging verstuurd door je beheerder", "Opnieuw uitgenodigd door je beheerder",
		"Account weer aangezet door je beheerder", "Herstel van je tweede stap gestart door je beheerder",
		"Tweede stap hersteld met de code van je beheerder")
	wantNotContains(t, page, "Gebeurtenis ")
	if resp, _ := jan.b.post("/taal", url.Values{"taal": {"en"}, "terug": {pathAccountActivity}}); resp.StatusCode >= 400 {
		t.Fatalf("language switch: %d", resp.StatusCode)
	}
	_, page = jan.b.get(pathAccountActivity)
	wantContains(t, page, "Invited by your administrator", "Invited again by your administrator",
		"Account enabled again by your administrator", "Restore of your second step started by your administrator",
		"Second step restored with your administrator&#39;s code")
	wantNotContains(t, page, "Event ")
}

// TestActivityNamesSSOSettingsChanges: an administrator's own change to
// the organisation's single sign-on is listed in words in their security
// activity, in Dutch and in English.
func TestActivityNamesSSOSettingsChanges(t *testing.T) {
	ra := newRealApp(t)
	jan := ra.onboard(t, auth.InviteInput{Email: "jan@example.nl"}, false)
	var u db.User
	if err := ra.d.NewSelect().Model(&u).Where("email = ?", jan.email).Scan(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"admin.sso_changed", "admin.sso_removed"} {
		ra.clk.Add(time.Minute)
		if err := auth.Audit(context.Background(), ra.d, auth.AuditEntry{UserID: &u.ID, ActorID: &u.ID, Kind: k,
			Detail: "issuer https://login.example.nl", IP: "203.0.113.5", Now: ra.clk.Now()}); err != nil {
			t.Fatal(err)
		}
	}
	_, page := jan.b.get(pathAccountActivity)
	wantContains(t, page, "Inloggen via de organisatie ingesteld", "Inloggen via de organisatie uitgezet")
	wantNotContains(t, page, "Gebeurtenis ")
	if resp, _ := jan.b.post("/taal", url.Values{"taal": {"en"}, "terug": {pathAccountActivity}}); resp.StatusCode >= 400 {
		t.Fatalf("language switch: %d", resp.StatusCode)
	}
	_, page = jan.b.get(pathAccountActivity)
	wantContains(t, page, "Login through the organisation set up", "Login through the organisation switched off")
	wantNotContains(t, page, "Event ")
}
