package handlers

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"dialoog/db"
	"dialoog/db/dbtest"
)

// TestCaseOverHTTP, on both engines: Hanna puts a conversation with Jan in
// a new case from the conversation page; the case page and the inbox
// filtered by the case list it; Jan (external) gets 404 on the case page
// and his conversation page says nothing of the case; closing the case
// takes the reply form away for both and a reply is refused with a clear
// message; reopening brings it back.
func TestCaseOverHTTP(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		la := newLiveAppOn(t, d)
		hr := la.person(t, "hr@osaw.nl", true, "Hanna", "de", "Vries", "nl")
		jan := la.person(t, "jan@example.nl", false, "Jan", "", "Jansen", "nl")
		resp, _ := hr.b.post("/berichten/nieuw", url.Values{"to": {jan.u.Email}, "subject": {"Verzuim"}, "body": {"Hoe gaat het?"}})
		wantStatus(t, resp, http.StatusSeeOther)
		loc := resp.Header.Get("Location")

		_, page := hr.b.get(loc)
		wantContains(t, page, "Aan dossier toevoegen", `name="reference"`, "Jan Jansen")
		resp, page = hr.b.post(loc+"/dossier", url.Values{"subject": {itoa(jan.u.ID)}, "reference": {" "}})
		wantStatus(t, resp, http.StatusUnprocessableEntity)
		wantContains(t, page, "Vul een kenmerk in")
		resp, _ = hr.b.post(loc+"/dossier", url.Values{"subject": {itoa(jan.u.ID)}, "reference": {"P-1234"}})
		wantStatus(t, resp, http.StatusSeeOther)
		var caseID int64
		if err := d.NewSelect().Model((*db.Case)(nil)).Column("id").Where("reference = ?", "P-1234").Scan(ctx, &caseID); err != nil {
			t.Fatal(err)
		}
		caseURL := "/dossiers/" + strconv.FormatInt(caseID, 10)
		_, page = hr.b.get(loc)
		wantContains(t, page, caseURL, "Dossier P-1234", "Uit dossier halen")
		_, page = hr.b.get(caseURL)
		wantContains(t, page, "Dossier P-1234", "Over Jan Jansen", `href="`+loc+`"`, "Dossier sluiten")
		_, page = hr.b.get("/berichten?dossier=" + strconv.FormatInt(caseID, 10))
		wantContains(t, page, "Gesprekken in dossier P-1234", loc)

		resp, _ = jan.b.get(caseURL)
		wantStatus(t, resp, http.StatusNotFound)
		resp, _ = jan.b.get("/berichten?dossier=" + strconv.FormatInt(caseID, 10))
		wantStatus(t, resp, http.StatusNotFound)
		_, page = jan.b.get(loc)
		wantNotContains(t, page, "P-1234", "dossier")

		resp, _ = hr.b.post(caseURL+"/status", url.Values{"status": {"closed"}})
		wantStatus(t, resp, http.StatusSeeOther)
		for _, p := range []*person{hr, jan} {
			_, page = p.b.get(loc)
			wantContains(t, page, "hoort bij een gesloten dossier")
			wantNotContains(t, page, loc+"/reageer")
			resp, page = p.b.post(loc, url.Values{"body": {"Toch nog iets"}})
			wantStatus(t, resp, http.StatusConflict)
			wantContains(t, page, "Dit dossier is gesloten")
		}
		resp, _ = hr.b.post(caseURL+"/status", url.Values{"status": {"open"}})
		wantStatus(t, resp, http.StatusSeeOther)
		_, page = jan.b.get(loc)
		wantContains(t, page, loc+"/reageer")
		resp, _ = jan.b.post(loc, url.Values{"body": {"Het gaat beter"}})
		wantStatus(t, resp, http.StatusSeeOther)
		if strings.Contains(page, "P-1234") {
			t.Fatal("external person sees the reference")
		}
	})
}

// TestCaseListOverHTTP: "Dossiers" lists the organisation's cases to its
// internal users (linked from their inbox), open or closed, searched by
// reference or person; to an external user the page and its link do not
// exist.
func TestCaseListOverHTTP(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		la := newLiveAppOn(t, d)
		hr := la.person(t, "hr@osaw.nl", true, "Hanna", "de", "Vries", "nl")
		jan := la.person(t, "jan@example.nl", false, "Jan", "", "Jansen", "nl")
		resp, _ := hr.b.post("/berichten/nieuw", url.Values{"to": {jan.u.Email}, "subject": {"Verzuim"}, "body": {"Hoe gaat het?"}})
		wantStatus(t, resp, http.StatusSeeOther)
		loc := resp.Header.Get("Location")
		resp, _ = hr.b.post(loc+"/dossier", url.Values{"subject": {itoa(jan.u.ID)}, "reference": {"P-1234"}})
		wantStatus(t, resp, http.StatusSeeOther)

		_, page := hr.b.get("/berichten")
		wantContains(t, page, `href="/dossiers"`, "Alle dossiers van je organisatie")
		_, page = jan.b.get("/berichten")
		wantNotContains(t, page, `href="/dossiers"`)
		resp, _ = jan.b.get("/dossiers")
		wantStatus(t, resp, http.StatusNotFound)

		resp, page = hr.b.get("/dossiers")
		wantStatus(t, resp, http.StatusOK)
		wantContains(t, page, "<h1>Dossiers</h1>", "Dossier P-1234", "Jan Jansen")
		for q, found := range map[string]bool{"P-1234": true, "jansen": true, "P-12": false, "Vries": false} {
			_, page = hr.b.get("/dossiers?zoek=" + url.QueryEscape(q))
			if strings.Contains(page, "Dossier P-1234") != found {
				t.Errorf("search %q finds the case: %v, want %v", q, !found, found)
			}
		}
		_, page = hr.b.get("/dossiers?status=gesloten")
		wantNotContains(t, page, "Dossier P-1234")
		wantContains(t, page, "Geen dossiers gevonden.")

		var caseID int64
		if err := d.NewSelect().Model((*db.Case)(nil)).Column("id").Where("reference = ?", "P-1234").Scan(context.Background(), &caseID); err != nil {
			t.Fatal(err)
		}
		resp, _ = hr.b.post("/dossiers/"+itoa(caseID)+"/status", url.Values{"status": {"closed"}})
		wantStatus(t, resp, http.StatusSeeOther)
		_, page = hr.b.get("/dossiers?status=gesloten&zoek=jansen")
		wantContains(t, page, "Dossier P-1234", "Gesloten")
		_, page = hr.b.get("/dossiers")
		wantNotContains(t, page, "Dossier P-1234")
	})
}

// TestCaseClosingLive, on both engines: with the conversation open, Jan's
// and Hanna's pages lose the reply form and get the read-only notice over
// the live connection when Hanna closes its case, and get REAGEER back
// when she reopens it.
func TestCaseClosingLive(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		la := newLiveAppOn(t, d)
		hr := la.person(t, "hr@osaw.nl", true, "Hanna", "de", "Vries", "nl")
		jan := la.person(t, "jan@example.nl", false, "Jan", "", "Jansen", "nl")
		resp, _ := hr.b.post("/berichten/nieuw", url.Values{"to": {jan.u.Email}, "subject": {"Verzuim"}, "body": {"Hoe gaat het?"}})
		wantStatus(t, resp, http.StatusSeeOther)
		loc := resp.Header.Get("Location")
		threadID := strings.TrimPrefix(loc, "/berichten/")
		resp, _ = hr.b.post(loc+"/dossier", url.Values{"subject": {itoa(jan.u.ID)}, "reference": {"P-1234"}})
		wantStatus(t, resp, http.StatusSeeOther)
		var caseID int64
		if err := d.NewSelect().Model((*db.Case)(nil)).Column("id").Where("reference = ?", "P-1234").Scan(context.Background(), &caseID); err != nil {
			t.Fatal(err)
		}
		writable := `<div id="thread-writable-` + threadID + `"`
		readonly := `<div id="thread-readonly-` + threadID + `"`
		_, page := jan.b.get(loc)
		wantContains(t, page, writable+`><section id="reply"`, readonly+`></div>`)

		hrConn := la.connect(t, hr.u, hr.b.session())
		janConn := la.connect(t, jan.u, jan.b.session())
		resp, _ = hr.b.post("/dossiers/"+itoa(caseID)+"/status", url.Values{"status": {"closed"}})
		wantStatus(t, resp, http.StatusSeeOther)
		for _, conn := range []*struct {
			name string
			got  string
		}{{"jan", readLiveUntil(t, janConn, writable)}, {"hr", readLiveUntil(t, hrConn, writable)}} {
			wantContains(t, conn.got, readonly+` hx-swap-oob="true"><p class="notice case-closed-notice" role="status">Dit gesprek hoort bij een gesloten dossier`,
				writable+` hx-swap-oob="true"></div>`)
			wantNotContains(t, conn.got, "/reageer", "P-1234")
		}

		resp, _ = hr.b.post("/dossiers/"+itoa(caseID)+"/status", url.Values{"status": {"open"}})
		wantStatus(t, resp, http.StatusSeeOther)
		got := readLiveUntil(t, janConn, writable)
		wantContains(t, got, readonly+` hx-swap-oob="true"></div>`, writable+` hx-swap-oob="true"><section id="reply"`, loc+"/reageer")
	})
}

// TestCaseStatusUnknownValue, on both engines: the case's status form
// with a status that is neither "open" nor "closed" (or none) changes
// nothing and says why, in the user's language; it reopened a closed case.
func TestCaseStatusUnknownValue(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		ra := newRealAppOn(t, d)
		hr := ra.person(t, "hr@osaw.nl", true, "Hanna", "de", "Vries", "nl")
		cm := ra.person(t, "cm@osaw.nl", true, "Kees", "", "Smit", "en")
		jan := ra.person(t, "jan@example.nl", false, "Jan", "", "Jansen", "nl")
		threadID := ra.compose(t, hr.u, "Verzuim", "Hallo", jan.u.Email, cm.u.Email)
		resp, _ := hr.b.post("/berichten/"+itoa(threadID)+"/dossier", url.Values{"subject": {itoa(jan.u.ID)}, "reference": {"P-1"}})
		wantStatus(t, resp, http.StatusSeeOther)
		var caseID int64
		if err := d.NewSelect().Model((*db.Case)(nil)).Column("id").Where("reference = ?", "P-1").Scan(ctx, &caseID); err != nil {
			t.Fatal(err)
		}
		status := "/dossiers/" + itoa(caseID) + "/status"
		resp, _ = hr.b.post(status, url.Values{"status": {"closed"}})
		wantStatus(t, resp, http.StatusSeeOther)
		for _, p := range []struct {
			who  *person
			want string
		}{{hr, "Kies of het dossier open of gesloten is."}, {cm, "Choose whether the case is open or closed."}} {
			for _, f := range []url.Values{{"status": {"gesloten"}}, {"status": {""}}, {}, {"status": {"Open "}}} {
				resp, page := p.who.b.post(status, f)
				wantStatus(t, resp, http.StatusBadRequest)
				wantContains(t, page, p.want)
				var c db.Case
				if err := d.NewSelect().Model(&c).Where("id = ?", caseID).Scan(ctx); err != nil {
					t.Fatal(err)
				}
				if c.Status != db.CaseClosed {
					t.Fatalf("%v: the case is %s", f, c.Status)
				}
			}
		}
	})
}

// TestCaseChoiceGoneMeanwhile, on both engines: "Aan dossier toevoegen"
// sent from a page that offered an open case which a colleague closed
// since says why it was refused, in the page's language, also when no
// open case is left to offer (the form with the choice is then gone), as
// a plain post and as the partial htmx swaps; the conversation stays out
// of every case.
func TestCaseChoiceGoneMeanwhile(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		ra := newRealAppOn(t, d)
		hr := ra.person(t, "hr@osaw.nl", true, "Hanna", "de", "Vries", "nl")
		kees := ra.person(t, "kees@osaw.nl", true, "Kees", "", "Smit", "en")
		jan := ra.person(t, "jan@example.nl", false, "Jan", "", "Jansen", "nl")
		first := "/berichten/" + itoa(ra.compose(t, hr.u, "Verzuim", "Hallo", jan.u.Email, kees.u.Email))
		second := "/berichten/" + itoa(ra.compose(t, hr.u, "Re-integratie", "Hallo", jan.u.Email, kees.u.Email))
		resp, _ := hr.b.post(first+"/dossier", url.Values{"subject": {itoa(jan.u.ID)}, "reference": {"P-1"}})
		wantStatus(t, resp, http.StatusSeeOther)
		var caseID int64
		if err := d.NewSelect().Model((*db.Case)(nil)).Column("id").Where("reference = ?", "P-1").Scan(ctx, &caseID); err != nil {
			t.Fatal(err)
		}
		_, page := hr.b.get(second)
		wantContains(t, page, `name="case"`, "P-1 — Jan Jansen")
		resp, _ = hr.b.post("/dossiers/"+itoa(caseID)+"/status", url.Values{"status": {"closed"}})
		wantStatus(t, resp, http.StatusSeeOther)

		for _, p := range []struct {
			who  *person
			want string
		}{{hr, "Dit dossier is gesloten; kies een open dossier."}, {kees, "This case is closed; choose an open case."}} {
			for _, hx := range [][]string{nil, {"HX-Request", "true"}} {
				resp, page = p.who.b.post(second+"/dossier", url.Values{"case": {itoa(caseID)}}, hx...)
				wantStatus(t, resp, http.StatusUnprocessableEntity)
				wantContains(t, page, p.want)
			}
		}
		if n := ra.count(t, (*db.Thread)(nil), "case_id IS NOT NULL"); n != 1 {
			t.Fatalf("%d conversations in a case, want the first only", n)
		}
	})
}
