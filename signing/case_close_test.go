package signing_test

import (
	"context"
	"slices"
	"testing"

	"dialoog/db"
	"dialoog/db/dbtest"
	"dialoog/notify"
	"dialoog/signing"
)

// TestClosingTheCaseLapsesItsRequests: a closed case's conversations are
// read-only, so a request waiting in one of them cannot be completed into
// it: closing the case lapses it. Everyone still waiting shows as lapsed,
// open pages update, and nobody can agree any more. The colleague who
// closed the case needs no mail about it; a request of another colleague
// mails them, as any lapse does. Reopening does not revive it.
func TestClosingTheCaseLapsesItsRequests(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		ctx := context.Background()
		caseID, err := f.msgs.CreateCaseForThread(ctx, f.hr.Identity(), f.thread, f.jan.ID, "P-1")
		if err != nil {
			t.Fatal(err)
		}
		waiting := f.request(t, "plan.pdf", pdf(1, "P"), signing.RequestInput{SignerIDs: []int64{f.kees.ID, f.jan.ID}})
		if err := f.agree(f.kees, waiting, f.sentCode(t, f.kees, waiting)); err != nil {
			t.Fatal(err)
		}
		if err := f.msgs.SetCaseClosed(ctx, f.hr.Identity(), caseID, true); err != nil {
			t.Fatal(err)
		}
		c := f.card(t, f.hr, waiting)
		if c.Status != signing.StatusLapsed || len(c.Signers) != 2 || c.Signers[0].Status != signing.SignerAgreed ||
			c.Signers[1].Status != signing.SignerLapsed {
			t.Fatalf("the request after its case closed: %+v", c)
		}
		if c := f.card(t, f.jan, waiting); c.MayAct {
			t.Fatal("Jan may still agree to a request in a closed case")
		}
		if err := f.agree(f.jan, waiting, "123456"); err == nil {
			t.Fatal("an agreement in a closed case was taken")
		}
		if got, err := d.NewSelect().Table("audit_events").Where("kind = 'signing.lapsed'").Count(ctx); err != nil || got != 1 {
			t.Errorf("%d audit rows of the lapse, want 1 (%v)", got, err)
		}
		live := false
		for _, ev := range f.ev.kinds(signing.EventSigning) {
			if ev.MessageID == waiting && slices.Contains(ev.UserIDs, f.jan.ID) {
				live = true
			}
		}
		if !live {
			t.Errorf("no live event of the lapse: %+v", f.ev.kinds(signing.EventSigning))
		}
		items, err := notify.DevItems(ctx, d, f.v, 1000)
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range items {
			if it.Recipient == f.hr.Email && it.Mail != nil && it.Mail.Subject == "Een verzoek om akkoord is vervallen" {
				t.Error("the colleague who closed the case was mailed that its request lapsed")
			}
		}
		if err := f.msgs.SetCaseClosed(ctx, f.hr.Identity(), caseID, false); err != nil {
			t.Fatal(err)
		}
		if c := f.card(t, f.hr, waiting); c.Status != signing.StatusLapsed {
			t.Fatalf("reopening revived the request: %+v", c)
		}
	})
}
