package handlers

import (
	"context"
	"net/http"
	"regexp"
	"testing"

	"dialoog/auth"
	"dialoog/db"
	"dialoog/db/dbtest"
)

// brandOrg gives ra.org a house style with a name that needs escaping, a
// colour and a logo, as its admin would in Beheer.
func brandOrg(t *testing.T, ra *realApp, admin *person) {
	t.Helper()
	ctx := context.Background()
	br := &auth.Branding{DB: ra.d, Now: ra.clk.Now}
	cur := auth.ActingAs(admin.u)
	if err := br.Save(ctx, cur, auth.BrandInput{Name: `OSAW <b>&</b>`, SenderName: "OSAW Verzuim & Zorg, één", Colour: "#8A1538"}, "127.0.0.1"); err != nil {
		t.Fatal(err)
	}
	if err := br.SetLogo(ctx, cur, testPNG(t), "127.0.0.1"); err != nil {
		t.Fatal(err)
	}
}

var (
	brandCSS  = regexp.MustCompile(`<link rel="stylesheet" href="/huisstijl/(\d+)-[0-9a-f]+\.css">`)
	brandLogo = regexp.MustCompile(`<img class="org-brand__logo" src="/huisstijl/(\d+)-[0-9a-f]+\.png" alt="OSAW &lt;b&gt;&amp;&lt;/b&gt;">`)
)

// wantBrand checks that page links orgID's stylesheet and shows its logo
// with its name escaped.
func wantBrand(t *testing.T, page string, orgID int64) {
	t.Helper()
	css, logo := brandCSS.FindStringSubmatch(page), brandLogo.FindStringSubmatch(page)
	if css == nil || logo == nil || css[1] != itoa(orgID) || logo[1] != itoa(orgID) {
		t.Fatalf("no house style of organisation %d:\n%s", orgID, page)
	}
	wantNotContains(t, page, "<b>&</b>")
}

// TestBrandingOnConversationPage, on both engines: the conversation page
// wears the house style of the conversation's organisation, for the
// outsider and the colleague alike, escaped; a conversation of another
// organisation stays neutral.
func TestBrandingOnConversationPage(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ra := newRealAppOn(t, d)
		admin := ra.adminOf(t, "hr@osaw.nl")
		colleague := ra.person(t, "collega@osaw.nl", true, "Kees", "", "Smit", "nl")
		ext := ra.person(t, "jan@example.nl", false, "Jan", "", "Jansen", "nl")
		_, _, otherColleague := ra.otherOrg(t)
		brandOrg(t, ra, admin)

		thread := ra.compose(t, colleague.u, "Verzuim", "Hoe gaat het?", ext.u.Email)
		for _, b := range []*browser{ext.b, colleague.b} {
			resp, page := b.get("/berichten/" + itoa(thread))
			wantStatus(t, resp, http.StatusOK)
			wantBrand(t, page, ra.org.ID)
		}
		other := ra.compose(t, otherColleague.u, "Elders", "Van een ander", ext.u.Email)
		resp, page := ext.b.get("/berichten/" + itoa(other))
		wantStatus(t, resp, http.StatusOK)
		wantNotContains(t, page, "/huisstijl/")
	})
}

// TestBrandingOnSignUpSteps, on both engines: a person signing up after
// an invitation sees the inviting organisation's house style on the
// steps, escaped; a person invited by an organisation without one sees
// the neutral pages.
func TestBrandingOnSignUpSteps(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		ra := newRealAppOn(t, d)
		admin := ra.adminOf(t, "hr@osaw.nl")
		brandOrg(t, ra, admin)
		b := ra.signUp(t, auth.InviteInput{Email: "nieuw@example.nl"})
		resp, page := b.get(pathTerms)
		wantStatus(t, resp, http.StatusOK)
		wantBrand(t, page, ra.org.ID)
		acceptTerms(t, b)
		_, page = b.get(pathPassword)
		wantBrand(t, page, ra.org.ID)

		other := &db.Organisation{Name: "Ander", CreatedAt: ra.clk.Now()}
		if _, err := ra.d.NewInsert().Model(other).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		b = ra.signUp(t, auth.InviteInput{Email: "ander@example.nl", OrgID: other.ID})
		_, page = b.get(pathTerms)
		wantNotContains(t, page, "/huisstijl/", "org-brand__logo")
	})
}
