package handlers

import (
	"context"
	"net/http"
	"net/url"
	"testing"
	"time"

	"dialoog/auth"
	"dialoog/db"
	"dialoog/db/dbtest"
	"dialoog/i18n"
	"dialoog/messaging"
)

// TestAdminRetention: "Bewaartermijn" is for admins only (404 for
// everyone else); an admin sees and sets the periods of their own
// organisation only, refused input keeps what was typed, and the page
// shows the next run and the last result.
func TestAdminRetention(t *testing.T) {
	for _, engine := range dbtest.Engines {
		t.Run(engine, func(t *testing.T) {
			ctx := context.Background()
			ra := newRealAppOn(t, dbtest.MustOpen(t, engine))
			user := ra.onboard(t, auth.InviteInput{Email: "jan@example.nl"}, false)
			colleague := ra.onboard(t, auth.InviteInput{Email: "collega@example.nl", Internal: true}, false)
			admin := ra.onboard(t, auth.InviteInput{Email: "hr@example.nl", Admin: true}, false)
			other := &db.Organisation{Name: "Ander", CreatedAt: ra.clk.Now()}
			if _, err := ra.d.NewInsert().Model(other).Exec(ctx); err != nil {
				t.Fatal(err)
			}
			otherAdmin := ra.onboard(t, auth.InviteInput{Email: "beheer@ander.nl", Admin: true, OrgID: other.ID}, false)

			for _, b := range []*browser{user.b, colleague.b} {
				resp, _ := b.get(pathAdminRetention)
				wantStatus(t, resp, http.StatusNotFound)
				resp, _ = b.post(pathAdminRetention, url.Values{"conversations": {"1"}})
				wantStatus(t, resp, http.StatusNotFound)
			}
			resp, _ := ra.browser(t).get(pathAdminRetention)
			wantRedirect(t, resp, pathLogin)

			// The clock stands at 23 February 2026, 10:00 Dutch time.
			resp, page := admin.b.get(pathAdminRetention)
			wantStatus(t, resp, http.StatusOK)
			wantContains(t, page, "<h1>Bewaartermijn</h1>", `href="/beheer"`, `name="conversations"`, `name="cases"`,
				"Een dossier dat zo lang gesloten is", "Volgende ronde: 24 februari 2026, 03:00.", "Er is nog geen ronde geweest.",
				// Both periods say what a request for agreement keeps
				// (messaging's requestKeeps), as retention does.
				"Een gesprek met een verzoek om akkoord dat nog loopt, blijft tot het verzoek is afgelopen",
				"Een dossier blijft ook zolang een van zijn gesprekken een verzoek om akkoord heeft")
			wantNotContains(t, page, `value="`+"0"+`"`)

			resp, page = admin.b.post(pathAdminRetention, url.Values{"conversations": {"twaalf"}, "cases": {"6"}})
			wantStatus(t, resp, http.StatusUnprocessableEntity)
			wantContains(t, page, "Vul een heel aantal maanden in, van 1 tot en met 120, of laat het veld leeg.",
				`value="twaalf"`, `value="6"`, `aria-invalid="true"`)
			if st, _ := ra.msg.Retention(ctx, (ra.adminUser(t, "hr@example.nl")).Identity()); st.ConversationMonths != 0 || st.CaseMonths != 0 {
				t.Fatalf("refused input stored: %+v", st)
			}

			resp, _ = admin.b.post(pathAdminRetention, url.Values{"conversations": {"12"}, "cases": {""}})
			wantRedirect(t, resp, pathAdminRetention+"?opgeslagen=1")
			_, page = admin.b.get(pathAdminRetention + "?opgeslagen=1")
			wantContains(t, page, "De bewaartermijnen zijn opgeslagen.", `value="12"`)

			// The other organisation's admin sees and sets their own.
			resp, page = otherAdmin.b.get(pathAdminRetention)
			wantStatus(t, resp, http.StatusOK)
			wantNotContains(t, page, `value="12"`)
			resp, _ = otherAdmin.b.post(pathAdminRetention, url.Values{"conversations": {"3"}})
			wantRedirect(t, resp, pathAdminRetention+"?opgeslagen=1")
			_, page = admin.b.get(pathAdminRetention)
			wantContains(t, page, `value="12"`)
			wantNotContains(t, page, `value="3"`)

			// After the night's run (here by an instance whose clock is at
			// 03:00, so that the sessions stay fresh) the page shows what it
			// did.
			if _, err := ra.msg.RunDaily(ctx); err != nil { // schedules tonight's run
				t.Fatal(err)
			}
			night := time.Date(2026, 2, 24, 3, 0, 0, 0, i18n.Zone)
			runner := &messaging.Service{DB: ra.d, Vault: ra.v, Files: ra.msg.Files, Outbox: ra.msg.Outbox, Invitations: ra.inv,
				Now: func() time.Time { return night }, Log: ra.msg.Log}
			if _, err := runner.RunDaily(ctx); err != nil {
				t.Fatal(err)
			}
			_, page = admin.b.get(pathAdminRetention)
			wantContains(t, page, "De vorige ronde op 24 februari 2026, 03:00 verwijderde 0 gesloten dossiers, 0 gesprekken, 0 berichten en 0 bijlagen.",
				"Volgende ronde: 25 februari 2026, 03:00.")
		})
	}
}

func (ra *realApp) adminUser(t *testing.T, email string) *db.User {
	t.Helper()
	var u db.User
	if err := ra.d.NewSelect().Model(&u).Where("email = ?", email).Scan(context.Background()); err != nil {
		t.Fatal(err)
	}
	return &u
}
