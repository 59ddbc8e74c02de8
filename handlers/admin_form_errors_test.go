package handlers

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestAdminFormErrorAtItsField: a refused form of Beheer shows the message
// beside the field it is about and beside no other, as a plain post and as
// an htmx post.
func TestAdminFormErrorAtItsField(t *testing.T) {
	ra := newRealApp(t)
	admin := ra.adminOf(t, "hr@osaw.nl")
	for _, hx := range [][]string{nil, {"HX-Request", "true"}} {
		resp, page := admin.b.post("/beheer/gebruikers/uitnodigen", url.Values{"email": {"geen-adres"}, "role": {"member"}}, hx...)
		wantStatus(t, resp, http.StatusUnprocessableEntity)
		wantContains(t, page, `id="invite-email-error"`, `value="geen-adres"`)
		wantNotContains(t, page, `id="invite-role-error"`, `id="invite-teams-error"`)
		if n := strings.Count(page, "Vul een geldig mailadres in"); n != 1 {
			t.Errorf("the address's message is shown %d times, want once", n)
		}
	}
	for q, want := range map[string]string{"van=2026-02-30&tot=2026-03-01": "audit-from", "van=2026-02-01&tot=morgen": "audit-to",
		"van=2026-02-011&tot=2026-03-01": "audit-from", "van=2026-02-01&tot=01-03-20267": "audit-to"} {
		resp, page := admin.b.get("/beheer/audit?" + q)
		wantStatus(t, resp, http.StatusUnprocessableEntity)
		other := "audit-to"
		if want == "audit-to" {
			other = "audit-from"
		}
		wantContains(t, page, `id="`+want+`-error"`)
		wantNotContains(t, page, `id="`+other+`-error"`)
	}
}

// TestAdminInviteEmptyAddress: inviting a colleague without an address
// asks for the colleague's address, not for the admin's own, in the
// admin's language.
func TestAdminInviteEmptyAddress(t *testing.T) {
	ra := newRealApp(t)
	admin := ra.adminOf(t, "hr@osaw.nl")
	resp, page := admin.b.post("/beheer/gebruikers/uitnodigen", url.Values{"email": {" "}, "role": {"member"}}, "HX-Request", "true")
	wantStatus(t, resp, http.StatusUnprocessableEntity)
	wantContains(t, page, "Vul het mailadres van je collega in.")
	wantNotContains(t, page, "Vul je mailadres in.")
	if _, err := ra.d.NewUpdate().Table("users").Set("language = 'en'").Where("id = ?", admin.u.ID).Exec(t.Context()); err != nil {
		t.Fatal(err)
	}
	resp, page = admin.b.post("/beheer/gebruikers/uitnodigen", url.Values{"email": {""}, "role": {"member"}})
	wantStatus(t, resp, http.StatusUnprocessableEntity)
	wantContains(t, page, "Enter the email address of your colleague.")
}
