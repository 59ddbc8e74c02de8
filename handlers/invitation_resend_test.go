package handlers

import (
	"context"
	"net/http"
	"testing"
	"time"

	"dialoog/db"
	"dialoog/db/dbtest"
)

// TestInvitationResendLimits: "Uitnodiging opnieuw versturen" (in a
// conversation and in Beheer) sends no second mail within a minute of the
// last one, which a double click or an impatient second click would do
// and so kill the link the person is about to open, and at most three an
// hour to one person, whoever asks.
func TestInvitationResendLimits(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ra := newRealAppOn(t, d)
		hr := ra.person(t, "hr@osaw.nl", true, "Hanna", "de", "Vries", "nl")
		admin := ra.adminOf(t, "beheer@osaw.nl")
		threadID := ra.compose(t, hr.u, "Verzuim", "Hoe gaat het?", "piet@example.nl")
		piet := ra.userByEmail(t, "piet@example.nl")
		tp := "/berichten/" + itoa(threadID)
		resend := tp + "/deelnemers/" + itoa(piet.ID) + "/uitnodiging"
		adminResend := "/beheer/gebruikers/" + itoa(piet.ID) + "/uitnodiging"
		mails := ra.mailCount(t, piet.Email)

		// Right after the invitation itself.
		resp, page := hr.b.post(resend, nil)
		wantStatus(t, resp, http.StatusTooManyRequests)
		wantContains(t, page, "Er is net een uitnodiging naar deze persoon gestuurd. Een nieuwe kan over 1 minuut worden gestuurd.")
		if got := ra.mailCount(t, piet.Email); got != mails {
			t.Fatalf("%d invitation mails, want %d", got, mails)
		}

		for i := range 3 {
			ra.clk.Add(time.Minute)
			resp, _ = hr.b.post(resend, nil)
			wantRedirect(t, resp, tp+"?melding=uitnodiging")
			if i == 0 {
				// A double click.
				resp, _ = hr.b.post(resend, nil)
				wantStatus(t, resp, http.StatusTooManyRequests)
			}
		}
		if got := ra.mailCount(t, piet.Email); got != mails+3 {
			t.Fatalf("%d invitation mails, want %d", got, mails+3)
		}
		// The fourth in the hour, also when another person asks.
		ra.clk.Add(time.Minute)
		resp, page = admin.b.post(adminResend, nil)
		wantStatus(t, resp, http.StatusTooManyRequests)
		wantContains(t, page, "Er is net een uitnodiging naar deze persoon gestuurd.")
		resp, _ = hr.b.post(resend, nil)
		wantStatus(t, resp, http.StatusTooManyRequests)
		if got := ra.mailCount(t, piet.Email); got != mails+3 {
			t.Fatalf("%d invitation mails, want %d", got, mails+3)
		}

		ra.clk.Add(time.Hour)
		admin.b = ra.signIn(t, admin.u) // the session idled out meanwhile
		resp, _ = admin.b.post(adminResend, nil)
		wantRedirect(t, resp, "/beheer/gebruikers?melding=uitnodiging")
		if got := ra.mailCount(t, piet.Email); got != mails+4 {
			t.Fatalf("%d invitation mails, want %d", got, mails+4)
		}
	})
}

// TestInvitationResendRefusedToAnotherOrganisation: an internal user of
// another organisation who takes part in a conversation sees no
// "Uitnodiging opnieuw versturen" (but still the addresses) and gets the
// refusal of "Deelnemer toevoegen" when posting it; no mail goes out.
func TestInvitationResendRefusedToAnotherOrganisation(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ra := newRealAppOn(t, d)
		hr := ra.person(t, "hr@osaw.nl", true, "Hanna", "de", "Vries", "nl")
		_, _, bea := ra.otherOrg(t)
		threadID := ra.compose(t, hr.u, "Overleg", "Hallo", "piet@example.nl", bea.u.Email)
		piet := ra.userByEmail(t, "piet@example.nl")
		tp := "/berichten/" + itoa(threadID)
		resend := tp + "/deelnemers/" + itoa(piet.ID) + "/uitnodiging"
		ra.clk.Add(2 * time.Minute)
		mails := ra.mailCount(t, piet.Email)

		_, page := bea.b.get(tp)
		wantContains(t, page, `<span class="participant__email">hr@osaw.nl</span>`)
		wantNotContains(t, page, resend)
		resp, page := bea.b.post(resend, nil)
		wantStatus(t, resp, http.StatusForbidden)
		wantContains(t, page, "Je hebt geen toegang tot deze pagina.")
		if got := ra.mailCount(t, piet.Email); got != mails {
			t.Fatalf("%d invitation mails, want %d", got, mails)
		}

		_, page = hr.b.get(tp)
		wantContains(t, page, resend)
		resp, _ = hr.b.post(resend, nil)
		wantRedirect(t, resp, tp+"?melding=uitnodiging")
		if got := ra.mailCount(t, piet.Email); got != mails+1 {
			t.Fatalf("%d invitation mails, want %d", got, mails+1)
		}
	})
}

// TestInvitationResendRefusedInClosedCase: in a conversation of a closed
// case, which nobody may change, "Uitnodiging opnieuw versturen" and
// "Deelnemer toevoegen" are hidden (rendered as forms the stylesheet hides
// while the closed case's notice is on the page, so that reopening shows
// them again without a page load), and posting the resend anyway gets the
// closed case's refusal; no mail goes out. Reopened, it works again.
func TestInvitationResendRefusedInClosedCase(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		ra := newRealAppOn(t, d)
		hr := ra.person(t, "hr@osaw.nl", true, "Hanna", "de", "Vries", "nl")
		jan := ra.person(t, "jan@example.nl", false, "Jan", "", "Jansen", "nl")
		threadID := ra.compose(t, hr.u, "Verzuim", "Hallo", jan.u.Email, "piet@example.nl")
		piet := ra.userByEmail(t, "piet@example.nl")
		caseID, err := ra.msg.CreateCaseForThread(ctx, hr.u.Identity(), threadID, jan.u.ID, "P-1")
		if err != nil {
			t.Fatal(err)
		}
		tp := "/berichten/" + itoa(threadID)
		resend := tp + "/deelnemers/" + itoa(piet.ID) + "/uitnodiging"
		ra.clk.Add(2 * time.Minute)
		mails := ra.mailCount(t, piet.Email)
		_, page := hr.b.get(tp)
		wantContains(t, page, resend, "Deelnemer toevoegen")

		if err := ra.msg.SetCaseClosed(ctx, hr.u.Identity(), caseID, true); err != nil {
			t.Fatal(err)
		}
		_, page = hr.b.get(tp)
		wantContains(t, page, "Dit gesprek hoort bij een gesloten dossier", `class="participant__resend when-open" method="post" action="`+resend+`"`,
			`<details class="help when-open"`)
		resp, page := hr.b.post(resend, nil)
		wantStatus(t, resp, http.StatusConflict)
		wantContains(t, page, "Dit dossier is gesloten: de gesprekken erin kunnen niet meer worden gewijzigd.")
		if got := ra.mailCount(t, piet.Email); got != mails {
			t.Fatalf("%d invitation mails, want %d", got, mails)
		}

		if err := ra.msg.SetCaseClosed(ctx, hr.u.Identity(), caseID, false); err != nil {
			t.Fatal(err)
		}
		_, page = hr.b.get(tp)
		wantContains(t, page, resend, "Deelnemer toevoegen")
		wantNotContains(t, page, "Dit gesprek hoort bij een gesloten dossier")
		resp, _ = hr.b.post(resend, nil)
		if resp.StatusCode >= 400 {
			t.Fatalf("resend after reopening: %d", resp.StatusCode)
		}
		if got := ra.mailCount(t, piet.Email); got != mails+1 {
			t.Fatalf("%d invitation mails after reopening, want %d", got, mails+1)
		}
	})
}
