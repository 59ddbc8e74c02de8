package handlers

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	fws "github.com/fasthttp/websocket"

	"dialoog/auth"
	"dialoog/db"
	"dialoog/db/dbtest"
)

// otherOrg stores a second organisation with an internal admin and an
// internal colleague, signed in.
func (ra *realApp) otherOrg(t *testing.T) (org *db.Organisation, admin, colleague *person) {
	t.Helper()
	ctx := context.Background()
	org = &db.Organisation{Name: "Andere Arbo", CreatedAt: ra.clk.Now().UTC()}
	if _, err := ra.d.NewInsert().Model(org).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	mk := func(email string, isAdmin bool) *person {
		u := ra.storeUser(t, email, true, "Bea", "", "Boer", "nl")
		if _, err := ra.d.NewUpdate().Model((*db.User)(nil)).Set("org_id = ?", org.ID).Set("is_admin = ?", isAdmin).Where("id = ?", u.ID).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		u.OrgID, u.IsAdmin = &org.ID, isAdmin
		return &person{u: u, b: ra.signIn(t, u)}
	}
	return org, mk("beheer@andere.nl", true), mk("collega@andere.nl", false)
}

// adminOf stores an internal admin of ra.org, signed in.
func (ra *realApp) adminOf(t *testing.T, email string) *person {
	t.Helper()
	p := ra.person(t, email, true, "Anna", "de", "Vries", "nl")
	if _, err := ra.d.NewUpdate().Model((*db.User)(nil)).Set("is_admin = ?", true).Where("id = ?", p.u.ID).Exec(context.Background()); err != nil {
		t.Fatal(err)
	}
	p.u.IsAdmin = true
	return p
}

func adminRoutes(id int64) (gets, posts []string) {
	u := "/beheer/gebruikers/" + itoa(id)
	return []string{"/beheer", "/beheer/gebruikers", "/beheer/gebruikers?zoek=jan", "/beheer/audit", "/beheer/audit/export"},
		[]string{"/beheer/gebruikers/uitnodigen", u + "/uitnodiging", u + "/uitschakelen", u + "/inschakelen", u + "/herstel"}
}

// TestAdminRoutesHidden: every Beheer route is a 404 for users who are not
// admins, and every route about a user is a 404 for an admin of another
// organisation, whose lists, search and audit log show nothing of this
// one.
func TestAdminRoutesHidden(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ra := newRealAppOn(t, d)
		admin := ra.adminOf(t, "hr@osaw.nl")
		colleague := ra.person(t, "collega@osaw.nl", true, "Kees", "", "Smit", "nl")
		ext := ra.person(t, "jan@example.nl", false, "Jan", "", "Jansen", "nl")
		thread := ra.compose(t, colleague.u, "Verzuim", "Hoe gaat het?", ext.u.Email)
		_, otherAdmin, otherColleague := ra.otherOrg(t)

		gets, posts := adminRoutes(ext.u.ID)
		for _, b := range []*browser{colleague.b, ext.b, otherColleague.b} {
			for _, p := range gets {
				resp, _ := b.get(p)
				wantStatus(t, resp, http.StatusNotFound)
			}
			for _, p := range posts {
				resp, _ := b.post(p, url.Values{"email": {"nieuw@osaw.nl"}, "role": {"member"}})
				wantStatus(t, resp, http.StatusNotFound)
			}
		}
		// An admin of another organisation: nothing about this one's users.
		for _, target := range []int64{ext.u.ID, colleague.u.ID, admin.u.ID} {
			_, posts := adminRoutes(target)
			for _, p := range posts[1:] {
				resp, _ := otherAdmin.b.post(p, nil)
				wantStatus(t, resp, http.StatusNotFound)
			}
		}
		resp, page := otherAdmin.b.get("/beheer/gebruikers")
		wantStatus(t, resp, http.StatusOK)
		wantContains(t, page, "collega@andere.nl")
		wantNotContains(t, page, "jan@example.nl", "collega@osaw.nl", "hr@osaw.nl")
		_, page = otherAdmin.b.get("/beheer/gebruikers?zoek=example")
		wantNotContains(t, page, "jan@example.nl")
		// This organisation's admin sees its colleague and the external
		// user who takes part in its conversation, and not the other's.
		_, page = admin.b.get("/beheer/gebruikers")
		wantContains(t, page, "jan@example.nl", "collega@osaw.nl")
		wantNotContains(t, page, "andere.nl")
		if resp, _ := admin.b.post("/beheer/gebruikers/"+itoa(otherColleague.u.ID)+"/uitschakelen", nil); resp.StatusCode != http.StatusNotFound {
			t.Fatalf("disable another organisation's user: %d", resp.StatusCode)
		}
		// An action here shows in this organisation's audit log only.
		resp, _ = admin.b.post("/beheer/gebruikers/"+itoa(ext.u.ID)+"/uitschakelen", nil)
		wantRedirect(t, resp, "/beheer/gebruikers?melding=uitschakelen")
		_, page = admin.b.get("/beheer/audit")
		wantContains(t, page, "admin.user_disabled", "jan@example.nl")
		_, page = otherAdmin.b.get("/beheer/audit")
		wantNotContains(t, page, "admin.user_disabled", "jan@example.nl", "osaw.nl")
		_, csvBody := otherAdmin.b.get("/beheer/audit/export")
		wantNotContains(t, csvBody, "osaw.nl", "example.nl")
		// Autocomplete of addresses and the inbox: nothing of the other
		// organisation either.
		contacts, err := ra.msg.Contacts(context.Background(), otherColleague.u.Identity(), 50)
		if err != nil {
			t.Fatal(err)
		}
		if len(contacts) != 0 {
			t.Fatalf("contacts of another organisation's colleague: %v", contacts)
		}
		_, page = otherColleague.b.get("/berichten?zoek=Verzuim")
		wantNotContains(t, page, "/berichten/"+itoa(thread))
		resp, _ = otherColleague.b.get("/berichten/" + itoa(thread))
		wantStatus(t, resp, http.StatusNotFound)
	})
}

// TestAdminInviteColleague: an admin invites a colleague as admin or
// member; the new user is internal, of the organisation, with the role,
// and is mailed; bad input keeps what was typed.
func TestAdminInviteColleague(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ra := newRealAppOn(t, d)
		admin := ra.adminOf(t, "hr@osaw.nl")
		resp, page := admin.b.post("/beheer/gebruikers/uitnodigen", url.Values{"email": {"geen-adres"}, "role": {"admin"}})
		wantStatus(t, resp, http.StatusUnprocessableEntity)
		wantContains(t, page, `value="geen-adres"`, `value="admin" checked`)
		resp, page = admin.b.post("/beheer/gebruikers/uitnodigen", url.Values{"email": {"hr@osaw.nl"}, "role": {"member"}})
		wantStatus(t, resp, http.StatusUnprocessableEntity)
		wantContains(t, page, "Dit e-mailadres heeft al een account.")

		for email, role := range map[string]string{"arts@osaw.nl": "admin", "cm@osaw.nl": "member"} {
			resp, _ := admin.b.post("/beheer/gebruikers/uitnodigen", url.Values{"email": {email}, "role": {role}})
			wantRedirect(t, resp, "/beheer/gebruikers?melding=uitgenodigd")
			var u db.User
			if err := ra.d.NewSelect().Model(&u).Where("email = ?", email).Scan(context.Background()); err != nil {
				t.Fatal(err)
			}
			if u.Kind != db.KindInternal || u.OrgID == nil || *u.OrgID != ra.org.ID || u.IsAdmin != (role == "admin") || u.Status != db.StatusInvited {
				t.Fatalf("%s: %+v", email, u)
			}
			if m := ra.lastMail(t, email); !strings.Contains(m.Text, "/aanmelden/") {
				t.Fatalf("no sign-up link mailed: %q", m.Text)
			}
		}
		_, page = admin.b.get("/beheer/gebruikers?zoek=arts")
		wantContains(t, page, "arts@osaw.nl", "Beheerder", "uitgenodigd", "Uitnodiging opnieuw sturen")
		wantNotContains(t, page, "cm@osaw.nl")
		before := ra.mailCount(t, "cm@osaw.nl")
		var cm db.User
		if err := ra.d.NewSelect().Model(&cm).Where("email = ?", "cm@osaw.nl").Scan(context.Background()); err != nil {
			t.Fatal(err)
		}
		ra.clk.Add(auth.InvitationResendAfter) // not right after the invitation itself
		resp, _ = admin.b.post("/beheer/gebruikers/"+itoa(cm.ID)+"/uitnodiging", nil)
		wantRedirect(t, resp, "/beheer/gebruikers?melding=uitnodiging")
		if ra.mailCount(t, "cm@osaw.nl") != before+1 {
			t.Fatal("invitation not sent again")
		}
		_, page = admin.b.get("/beheer/audit?persoon=cm%40osaw")
		wantContains(t, page, "admin.user_invited", "admin.invitation_resent")
		wantNotContains(t, page, "arts@osaw.nl")
	})
}

// TestAdminDisable: disabling ends the person's sessions and live
// connections at once, withdraws the mail queued for them and queues no
// new mail; enabling lets them in again.
func TestAdminDisable(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		la := newLiveAppOn(t, d)
		ctx := context.Background()
		admin := la.adminOf(t, "hr@osaw.nl")
		cm := la.person(t, "cm@osaw.nl", true, "Kees", "", "Smit", "nl")
		ext := la.person(t, "jan@example.nl", false, "Jan", "", "Jansen", "nl")
		token := la.sessionToken(t, ext.u)
		conn := la.connect(t, ext.u, token)
		thread := la.compose(t, cm.u, "Verzuim", "Eerste bericht", ext.u.Email)
		if la.mailCount(t, ext.u.Email) != 1 {
			t.Fatal("no notification queued")
		}

		resp, _ := admin.b.post("/beheer/gebruikers/"+itoa(ext.u.ID)+"/uitschakelen", nil)
		wantRedirect(t, resp, "/beheer/gebruikers?melding=uitschakelen")
		conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		var ce *fws.CloseError
		for {
			if _, _, err := conn.ReadMessage(); err != nil {
				if !errors.As(err, &ce) || ce.Code != fws.ClosePolicyViolation {
					t.Fatalf("after disable: %v, want close 1008", err)
				}
				break
			}
		}
		resp, _ = ext.b.get(pathInbox)
		wantRedirect(t, resp, pathLogin)
		if n, _ := la.d.NewSelect().Model((*db.OutboxItem)(nil)).Where("recipient = ? AND status = ?", ext.u.Email, db.OutboxPending).Count(ctx); n != 0 {
			t.Fatalf("%d mails still queued for a disabled user", n)
		}
		la.clk.Add(time.Hour)
		la.reply(t, cm.u, thread, "Tweede bericht")
		if n := la.mailCount(t, ext.u.Email); n != 0 {
			t.Fatalf("%d mails queued for a disabled user", n)
		}
		admin.b = la.signIn(t, admin.u) // the clock moved past the idle time
		_, page := admin.b.get("/beheer/gebruikers?zoek=jan")
		wantContains(t, page, "uitgeschakeld", "Weer inschakelen")
		// Nor can the admin disable themselves.
		resp, page = admin.b.post("/beheer/gebruikers/"+itoa(admin.u.ID)+"/uitschakelen", nil)
		wantStatus(t, resp, http.StatusConflict)
		wantContains(t, page, "Je kunt jezelf niet uitschakelen.")

		resp, _ = admin.b.post("/beheer/gebruikers/"+itoa(ext.u.ID)+"/inschakelen", nil)
		wantRedirect(t, resp, "/beheer/gebruikers?melding=inschakelen")
		var u db.User
		if err := la.d.NewSelect().Model(&u).Where("id = ?", ext.u.ID).Scan(ctx); err != nil {
			t.Fatal(err)
		}
		if u.Status != db.StatusActive {
			t.Fatalf("status %q after enabling", u.Status)
		}
		resp, _ = la.signIn(t, ext.u).get(pathInbox)
		wantStatus(t, resp, http.StatusOK)
		la.clk.Add(time.Hour)
		admin.b = la.signIn(t, admin.u)
		la.reply(t, cm.u, thread, "Derde bericht")
		if n := la.mailCount(t, ext.u.Email); n != 1 {
			t.Fatalf("%d mails after enabling, want 1", n)
		}
		_, page = admin.b.get("/beheer/audit?persoon=jan")
		wantContains(t, page, "admin.user_disabled", "admin.user_enabled")
	})
}

// auditPagerLink is the first link of the audit log's pager; auditRowsInPage
// a row of the log.
var (
	auditPagerLink  = regexp.MustCompile(`<nav class="pager"[^>]*><a href="([^"]+)"`)
	auditRowsInPage = regexp.MustCompile(`(?s)<li><p><strong>.*?</li>`)
)

var helpdeskCodeInPage = regexp.MustCompile(`<code id="helpdesk-code" class="secret__value">(\d{4} \d{4})</code>`)
var helpdeskLinkInMail = regexp.MustCompile(`/herstel/[A-Za-z0-9_-]{43}`)

// startHelpdesk has admin start a reset for u and returns the code shown
// and the link mailed.
func (ra *realApp) startHelpdesk(t *testing.T, admin *person, u *db.User) (code, link string) {
	t.Helper()
	resp, page := admin.b.post("/beheer/gebruikers/"+itoa(u.ID)+"/herstel", nil)
	wantStatus(t, resp, http.StatusOK)
	m := helpdeskCodeInPage.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no code on the page:\n%s", page)
	}
	link = helpdeskLinkInMail.FindString(ra.lastMail(t, u.Email).Text)
	if link == "" {
		t.Fatal("no link in the mail")
	}
	return m[1], link
}

// TestHelpdeskReset: the mailed link and the code given by phone together,
// with the password, open the setup of a new factor; neither alone does;
// the link works once and for 24 hours; wrong tries are limited; the
// person is mailed and everything is audited.
func TestHelpdeskReset(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ra := newRealAppOn(t, d)
		ctx := context.Background()
		admin := ra.adminOf(t, "hr@osaw.nl")
		acc := ra.onboard(t, auth.InviteInput{Email: "jan@example.nl"}, false)
		var u db.User
		if err := ra.d.NewSelect().Model(&u).Where("email = ?", acc.email).Scan(ctx); err != nil {
			t.Fatal(err)
		}
		ra.compose(t, admin.u, "Verzuim", "Hallo", u.Email)

		code, link := ra.startHelpdesk(t, admin, &u)
		// The password alone still asks the lost factor; no setup.
		b := ra.login(t, u.Email)
		resp, _ := b.get(pathSMS)
		wantRedirect(t, resp, pathLoginFactor)
		// The link without the right code, or without the password.
		p := ra.browser(t)
		resp, page := p.get(link)
		wantStatus(t, resp, http.StatusOK)
		wantContains(t, page, "jan@example.nl", `name="code"`)
		resp, page = p.post(link, url.Values{"password": {testPassword}, "code": {"0000 0000"}})
		wantStatus(t, resp, http.StatusUnprocessableEntity)
		wantContains(t, page, "Het wachtwoord of de code klopt niet.", `value="0000 0000"`)
		resp, _ = p.post(link, url.Values{"password": {"verkeerd wachtwoord hier"}, "code": {code}})
		wantStatus(t, resp, http.StatusUnprocessableEntity)
		// The code without the link.
		resp, _ = p.post("/herstel/"+strings.Repeat("A", 43), url.Values{"password": {testPassword}, "code": {code}})
		wantStatus(t, resp, http.StatusNotFound)
		if p.session() != "" {
			resp, _ = p.get(pathSMS)
			wantRedirect(t, resp, pathLogin)
		}
		if n, _ := ra.d.NewSelect().Model((*db.SecondFactor)(nil)).Where("user_id = ?", u.ID).Count(ctx); n != 1 {
			t.Fatalf("%d factors after failed tries, want the old one", n)
		}

		// Both: a session that may set up a new factor, then new codes.
		resp, _ = p.post(link, url.Values{"password": {testPassword}, "code": {code}})
		wantRedirect(t, resp, pathSMS)
		if m := ra.lastMail(t, u.Email); !strings.Contains(m.Subject, "hersteld") {
			t.Fatalf("no security mail, last: %q", m.Subject)
		}
		// The other session (the login above) ended.
		resp, _ = b.get(pathLoginFactor)
		wantRedirect(t, resp, pathLogin)
		if n, _ := ra.d.NewSelect().Model((*db.SecondFactor)(nil)).Where("user_id = ?", u.ID).Count(ctx); n != 0 {
			t.Fatalf("%d old factors left", n)
		}
		const newPhone = "+31687654321"
		resp, _ = p.post(pathSMS, url.Values{"phone": {newPhone}})
		wantRedirect(t, resp, pathSMS)
		resp, _ = p.post(pathSMS+"/code", url.Values{"code": {ra.lastSMSCode(t, newPhone)}})
		wantRedirect(t, resp, pathRecovery)
		resp, page = p.get(pathRecovery)
		wantStatus(t, resp, http.StatusOK)
		var codes []string
		for _, m := range recoveryCodeInPage.FindAllStringSubmatch(page, -1) {
			codes = append(codes, m[1])
		}
		resp, _ = p.post(pathRecovery, url.Values{"stored": {"yes"}, "code": codes})
		wantRedirect(t, resp, pathInbox)

		// Single use.
		resp, _ = ra.browser(t).get(link)
		wantStatus(t, resp, http.StatusNotFound)
		resp, _ = ra.browser(t).post(link, url.Values{"password": {testPassword}, "code": {code}})
		wantStatus(t, resp, http.StatusNotFound)

		// 24 hours: a new reset's link works until then, not after.
		code2, link2 := ra.startHelpdesk(t, admin, &u)
		ra.clk.Add(auth.HelpdeskResetTTL - time.Minute)
		resp, _ = ra.browser(t).get(link2)
		wantStatus(t, resp, http.StatusOK)
		ra.clk.Add(time.Minute)
		admin.b = ra.signIn(t, admin.u)
		resp, _ = ra.browser(t).post(link2, url.Values{"password": {testPassword}, "code": {code2}})
		wantStatus(t, resp, http.StatusNotFound)

		// Five wrong tries use a reset up, even with the right code after.
		code3, link3 := ra.startHelpdesk(t, admin, &u)
		for i := 0; i < auth.HelpdeskCodeTries; i++ {
			ra.clk.Add(time.Hour) // past the account's growing wait
			resp, _ := ra.browser(t).post(link3, url.Values{"password": {testPassword}, "code": {"1111 1111"}})
			wantStatus(t, resp, http.StatusUnprocessableEntity)
		}
		ra.clk.Add(time.Hour)
		resp, _ = ra.browser(t).post(link3, url.Values{"password": {testPassword}, "code": {code3}})
		wantStatus(t, resp, http.StatusNotFound)

		admin.b = ra.signIn(t, admin.u)
		_, page = admin.b.get("/beheer/audit?persoon=jan%40example.nl")
		wantContains(t, page, "admin.helpdesk_reset_started", "helpdesk.reset_completed")
		wantNotContains(t, ra.logs.String(), code, strings.TrimPrefix(link, "/herstel/"))
	})
}

// TestAdminAudit: the log is searched by person and days, paged, and
// exported whole as CSV with formula-like cells defused.
func TestAdminAudit(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ra := newRealAppOn(t, d)
		ctx := context.Background()
		admin := ra.adminOf(t, "hr@osaw.nl")
		cm := ra.person(t, "cm@osaw.nl", true, "Kees", "", "Smit", "nl")
		day1 := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
		day2 := day1.AddDate(0, 0, 1)
		org := ra.org.ID
		put := func(kind, detail string, user *db.User, at time.Time) {
			t.Helper()
			err := auth.Audit(ctx, ra.d, auth.AuditEntry{UserID: &user.ID, ActorID: &admin.u.ID, OrgID: &org, Kind: kind, Detail: detail, IP: "192.0.2.1", Now: at})
			if err != nil {
				t.Fatal(err)
			}
		}
		put("admin.test_one", "=HYPERLINK(\"http://evil\")", cm.u, day1)
		put("admin.test_two", "+1, \"quoted\"", cm.u, day2)
		put("admin.test_three", "@SUM(A1)", admin.u, day2)

		_, page := admin.b.get("/beheer/audit?persoon=kees&van=2026-03-02&tot=2026-03-02")
		wantContains(t, page, "admin.test_one")
		wantNotContains(t, page, "admin.test_two", "admin.test_three")
		_, page = admin.b.get("/beheer/audit?persoon=cm%40osaw&van=2026-03-03")
		wantContains(t, page, "admin.test_two")
		wantNotContains(t, page, "admin.test_one", "admin.test_three")
		resp, page := admin.b.get("/beheer/audit?van=2026-03-05&tot=2026-03-01")
		wantStatus(t, resp, http.StatusUnprocessableEntity)
		wantContains(t, page, "De einddatum ligt voor de begindatum.", `value="2026-03-05"`)
		resp, _ = admin.b.get("/beheer/audit?van=gisteren")
		wantStatus(t, resp, http.StatusUnprocessableEntity)

		resp, body := admin.b.get("/beheer/audit/export?van=2026-03-02&tot=2026-03-03")
		wantStatus(t, resp, http.StatusOK)
		if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/csv") {
			t.Fatalf("content type %q", ct)
		}
		recs, err := csv.NewReader(strings.NewReader(body)).ReadAll()
		if err != nil {
			t.Fatalf("csv: %v\n%s", err, body)
		}
		if len(recs) != 4 || recs[0][1] != "event" {
			t.Fatalf("records: %q", recs)
		}
		details := map[string]string{}
		for _, r := range recs[1:] {
			details[r[1]] = r[4]
		}
		if details["admin.test_one"] != "'=HYPERLINK(\"http://evil\")" || details["admin.test_two"] != "'+1, \"quoted\"" || details["admin.test_three"] != "'@SUM(A1)" {
			t.Fatalf("details: %q", details)
		}

		// Paging: more rows than a page, all of them in the export.
		var many []db.AuditEvent
		for i := 0; i < auth.AuditPageSize+5; i++ {
			many = append(many, db.AuditEvent{UserID: &cm.u.ID, OrgID: &org, Kind: "admin.bulk", IP: "", CreatedAt: day1.Add(time.Duration(i) * time.Second)})
		}
		if _, err := ra.d.NewInsert().Model(&many).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		// The next page is after the first page's last row, and its
		// previous page is the first again.
		_, page = admin.b.get("/beheer/audit")
		next := auditPagerLink.FindStringSubmatch(page)
		if next == nil || !strings.Contains(next[1], "na=") || strings.Contains(page, "voor=") {
			t.Fatalf("the first page links to no next page only: %v", next)
		}
		first := page
		_, page = admin.b.get(html.UnescapeString(next[1]))
		wantContains(t, page, "admin.bulk")
		prev := auditPagerLink.FindStringSubmatch(page)
		if prev == nil || !strings.Contains(prev[1], "voor=") {
			t.Fatalf("the second page links to no previous page: %v", prev)
		}
		_, page = admin.b.get(html.UnescapeString(prev[1]))
		if rows := auditRowsInPage.FindAllString(page, -1); len(rows) != auth.AuditPageSize || !slices.Equal(rows, auditRowsInPage.FindAllString(first, -1)) {
			t.Fatalf("back from the second page: %d rows, not the first page's", len(rows))
		}
		_, body = admin.b.get("/beheer/audit/export")
		if n := strings.Count(body, "admin.bulk"); n != auth.AuditPageSize+5 {
			t.Fatalf("export has %d bulk rows", n)
		}
	})
}

// TestAdminAuditYearOutOfRange, on both engines: a day of the search with
// a year outside 1900 to 9999 (PostgreSQL knows no year 0, and the first
// day of year 1 in Dutch time is in year 0 in UTC) is refused at its
// field, in the admin's language, with what was typed kept; the export
// of such a search is refused before its first byte instead of cut off.
func TestAdminAuditYearOutOfRange(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ra := newRealAppOn(t, d)
		admin := ra.adminOf(t, "hr@osaw.nl")
		for _, q := range []string{"van=0000-01-01", "tot=0000-01-01", "van=0001-01-01", "tot=1899-12-31"} {
			resp, page := admin.b.get("/beheer/audit?" + q)
			wantStatus(t, resp, http.StatusUnprocessableEntity)
			wantContains(t, page, "Vul een datum in als 2026-02-23.", `value="`+q[4:]+`"`)
			resp, _ = admin.b.get("/beheer/audit/export?" + q)
			wantStatus(t, resp, http.StatusUnprocessableEntity)
		}
		if _, err := ra.d.NewUpdate().Model((*db.User)(nil)).Set("language = 'en'").Where("id = ?", admin.u.ID).Exec(context.Background()); err != nil {
			t.Fatal(err)
		}
		resp, page := admin.b.get("/beheer/audit?van=0000-01-01")
		wantStatus(t, resp, http.StatusUnprocessableEntity)
		wantContains(t, page, "Enter a date like 2026-02-23.")
		resp, _ = admin.b.get("/beheer/audit?van=1900-01-01&tot=9999-12-31")
		wantStatus(t, resp, http.StatusOK)
	})
}

// TestAdminUsersPages, on both engines: "Gebruikers" shows UsersPageSize
// users a page in the order of their addresses, links the next and the
// previous page (by the addresses at the page's ends), and pages (and searches) never show another
// organisation's users.
func TestAdminUsersPages(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ra := newRealAppOn(t, d)
		admin := ra.adminOf(t, "a-beheer@osaw.nl")
		for i := 0; i < auth.UsersPageSize+5; i++ {
			ra.storeUser(t, fmt.Sprintf("collega%02d@osaw.nl", i), true, "Kees", "", "Smit", "nl")
		}
		_, _, _ = ra.otherOrg(t)
		_, page := admin.b.get("/beheer/gebruikers")
		if n := strings.Count(page, `class="admin-user"`); n != auth.UsersPageSize {
			t.Fatalf("page 1 lists %d users, want %d", n, auth.UsersPageSize)
		}
		next := `href="/beheer/gebruikers?na=collega23%40osaw.nl"`
		wantContains(t, page, "a-beheer@osaw.nl", "collega00@osaw.nl", "collega23@osaw.nl", next)
		wantNotContains(t, page, "collega24@osaw.nl", "andere.nl", "Vorige")
		_, page = admin.b.get("/beheer/gebruikers?na=collega23%40osaw.nl")
		if n := strings.Count(page, `class="admin-user"`); n != 6 {
			t.Fatalf("page 2 lists %d users, want 6", n)
		}
		wantContains(t, page, "collega24@osaw.nl", "collega29@osaw.nl", "Vorige", `href="/beheer/gebruikers?voor=collega24%40osaw.nl"`)
		wantNotContains(t, page, "collega23@osaw.nl", "na=collega29", "andere.nl")
		// Back from the second page: the first again, with its link on.
		_, page = admin.b.get("/beheer/gebruikers?voor=collega24%40osaw.nl")
		if n := strings.Count(page, `class="admin-user"`); n != auth.UsersPageSize {
			t.Fatalf("page before lists %d users, want %d", n, auth.UsersPageSize)
		}
		wantContains(t, page, "a-beheer@osaw.nl", "collega00@osaw.nl", "collega23@osaw.nl", next)
		wantNotContains(t, page, "collega24@osaw.nl", "Vorige")
		// The search pages too, and keeps its words in the links.
		_, page = admin.b.get("/beheer/gebruikers?zoek=collega")
		wantContains(t, page, "collega00@osaw.nl", "collega24@osaw.nl", `href="/beheer/gebruikers?na=collega24%40osaw.nl&amp;zoek=collega"`)
		_, page = admin.b.get("/beheer/gebruikers?zoek=Boer")
		wantNotContains(t, page, "andere.nl")
		wantContains(t, page, "Geen gebruikers gevonden")
	})
}

// TestAdminSharedOutsider, on both engines: an outsider who also has
// conversations with another organisation is not disabled, nor given a
// helpdesk reset, by an admin of either: that would lock them out of, or
// take over, conversations the admin has nothing to do with. Beheer says
// why instead of offering the buttons, a post gets the reason, and
// nothing changes or is audited. An outsider whose conversations are all
// the admin's organisation's is disabled and reset as before.
func TestAdminSharedOutsider(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ra := newRealAppOn(t, d)
		ctx := context.Background()
		admin := ra.adminOf(t, "beheer@osaw.nl")
		hr := ra.person(t, "hr@osaw.nl", true, "Hanna", "de", "Vries", "nl")
		jan := ra.person(t, "jan@example.nl", false, "Jan", "", "Jansen", "nl")
		kees := ra.person(t, "kees@example.nl", false, "Kees", "", "Smit", "nl")
		_, otherAdmin, bea := ra.otherOrg(t)
		ra.compose(t, hr.u, "Verzuim", "Hoe gaat het?", jan.u.Email, kees.u.Email)
		ra.compose(t, bea.u, "Andere zaak", "Hallo", jan.u.Email)
		// An invitee of both organisations.
		ra.compose(t, hr.u, "Welkom", "Hallo", "nieuw@example.nl")
		ra.compose(t, bea.u, "Welkom", "Hallo", "nieuw@example.nl")
		nieuw := ra.userByEmail(t, "nieuw@example.nl")

		row := regexp.MustCompile(`(?s)<li class="admin-user" id="gebruiker-` + itoa(jan.u.ID) + `">.*?</li>`)
		for _, a := range []*person{admin, otherAdmin} {
			_, page := a.b.get("/beheer/gebruikers")
			line := row.FindString(page)
			if line == "" {
				t.Fatalf("no row for jan in:\n%s", page)
			}
			wantContains(t, line, "Heeft ook gesprekken met een andere organisatie")
			wantNotContains(t, line, "/uitschakelen", "/herstel")

			resp, page := a.b.post("/beheer/gebruikers/"+itoa(jan.u.ID)+"/uitschakelen", nil)
			wantStatus(t, resp, http.StatusConflict)
			wantContains(t, page, "Deze persoon heeft ook gesprekken met een andere organisatie. Uitschakelen")
			resp, page = a.b.post("/beheer/gebruikers/"+itoa(nieuw.ID)+"/uitschakelen", nil)
			wantStatus(t, resp, http.StatusConflict)
			wantContains(t, page, "Deze persoon heeft ook gesprekken met een andere organisatie. Uitschakelen")
			resp, page = a.b.post("/beheer/gebruikers/"+itoa(jan.u.ID)+"/herstel", nil)
			wantStatus(t, resp, http.StatusConflict)
			wantContains(t, page, "Deze persoon heeft ook gesprekken met een andere organisatie. Een herstel")
		}
		for _, u := range []*db.User{jan.u, nieuw} {
			var status string
			if err := ra.d.NewSelect().Model((*db.User)(nil)).Column("status").Where("id = ?", u.ID).Scan(ctx, &status); err != nil {
				t.Fatal(err)
			}
			if status == db.StatusDisabled {
				t.Errorf("%s was disabled", u.Email)
			}
		}
		if n := ra.count(t, (*db.HelpdeskReset)(nil), "user_id = ?", jan.u.ID); n != 0 {
			t.Errorf("%d helpdesk resets for jan, want 0", n)
		}
		if n := ra.count(t, (*db.AuditEvent)(nil), "user_id IN (?, ?) AND kind LIKE 'admin.%'", jan.u.ID, nieuw.ID); n != 0 {
			t.Errorf("%d admin audit rows about the shared outsiders, want 0", n)
		}

		// Kees takes part in this organisation's conversations only.
		_, page := admin.b.get("/beheer/gebruikers")
		wantContains(t, page, "/beheer/gebruikers/"+itoa(kees.u.ID)+"/uitschakelen", "/beheer/gebruikers/"+itoa(kees.u.ID)+"/herstel")
		resp, _ := admin.b.post("/beheer/gebruikers/"+itoa(kees.u.ID)+"/herstel", nil)
		wantStatus(t, resp, http.StatusOK)
		resp, _ = admin.b.post("/beheer/gebruikers/"+itoa(kees.u.ID)+"/uitschakelen", nil)
		wantRedirect(t, resp, "/beheer/gebruikers?melding=uitschakelen")
		for _, kind := range []string{"admin.helpdesk_reset_started", "admin.user_disabled"} {
			if n := ra.count(t, (*db.AuditEvent)(nil), "user_id = ? AND kind = ? AND org_id = ?", kees.u.ID, kind, ra.org.ID); n != 1 {
				t.Errorf("%d audit rows %s about kees, want 1", n, kind)
			}
		}
	})
}

// TestHelpdeskCodePageNamesThePerson, on both engines: the page with the
// code says to which address the link went, also for a person who is not
// on the first page of Beheer's list. Before, the handler looked the
// address up in that first page only and said "" for anyone further on.
func TestHelpdeskCodePageNamesThePerson(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ra := newRealAppOn(t, d)
		admin := ra.adminOf(t, "beheer@osaw.nl")
		for i := range auth.UsersPageSize + 1 {
			ra.storeUser(t, fmt.Sprintf("a%02d@osaw.nl", i), true, "Ad", "", "Collega", "nl")
		}
		zeno := ra.storeUser(t, "zeno@osaw.nl", true, "Zeno", "", "Zwart", "nl")
		resp, page := admin.b.post("/beheer/gebruikers/"+itoa(zeno.ID)+"/herstel", nil)
		wantStatus(t, resp, http.StatusOK)
		wantContains(t, page, "zeno@osaw.nl krijgt een e-mail")
	})
}
