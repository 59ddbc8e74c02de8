package handlers

import (
	"net/http"
	"testing"

	"dialoog/auth"
	"dialoog/db"
	"dialoog/db/dbtest"
)

// A browser signed in as the person a sign-up link was for goes on to the
// person's step when the link is opened again or AANMELDEN is pressed a
// second time (a double click without script): the link did its work.
// Another browser, or one signed in as someone else, still reads that the
// link no longer works, and nothing is consumed or started for them.
func TestUsedLinkInTheSignedInBrowser(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ra := newRealAppOn(t, d)
		b := ra.browser(t)
		link := ra.invite(t, auth.InviteInput{Email: "jan@example.nl"})
		resp, _ := b.get(link)
		wantStatus(t, resp, http.StatusOK)
		resp, _ = b.post(link, nil)
		wantRedirect(t, resp, pathTerms)
		session := b.session()

		resp, _ = b.post(link, nil)
		wantRedirect(t, resp, "/stap")
		resp, _ = b.get(link)
		wantRedirect(t, resp, "/stap")
		if b.session() != session {
			t.Error("the second press changed the session")
		}

		other := ra.browser(t)
		resp, body := other.get(link)
		wantStatus(t, resp, http.StatusNotFound)
		wantContains(t, body, "Deze link werkt niet meer")
		piet := ra.signUp(t, auth.InviteInput{Email: "piet@example.nl"})
		resp, body = piet.post(link, nil)
		wantStatus(t, resp, http.StatusNotFound)
		wantContains(t, body, "Deze link werkt niet meer")
	})
}
