package signing_test

import (
	"context"
	"testing"

	"dialoog/apperr"
	"dialoog/db"
	"dialoog/db/dbtest"
	"dialoog/messaging"
	"dialoog/signing"
)

// TestSignersMustMayRead: a request to agree goes only to participants
// who may read the conversation. A colleague who left the medical team
// keeps their participant row in a medical conversation but reads nothing
// of it; before, they could be asked to agree, were mailed reminders of a
// request they got 404 for, and the request could never be completed.
func TestSignersMustMayRead(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		ctx := context.Background()
		arts := f.user(t, "arts@osaw.nl", true, "Anna", "Arts")
		med, err := f.msgs.CreateTeam(ctx, f.org.ID, "Bedrijfsarts", true, true)
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range []*db.User{f.hr, arts} {
			if err := f.msgs.AddTeamMember(ctx, med.ID, u.Email); err != nil {
				t.Fatal(err)
			}
		}
		f.thread, err = f.msgs.Compose(ctx, f.hr.Identity(), messaging.ComposeInput{To: []string{f.jan.Email, arts.Email},
			Subject: "Uitslag", Body: "Vertrouwelijk", Medical: true})
		if err != nil {
			t.Fatal(err)
		}
		if err := f.msgs.RemoveTeamMember(ctx, med.ID, arts.Email); err != nil {
			t.Fatal(err)
		}
		if _, err := f.msgs.Thread(ctx, arts.Identity(), f.thread); apperr.CodeOf(err) != apperr.NotFound {
			t.Fatalf("Anna reads the medical conversation after leaving the team: %v", err)
		}

		att, err := f.msgs.Upload(ctx, f.hr.Identity(), "plan.pdf", pdf(1, "M"))
		if err != nil {
			t.Fatal(err)
		}
		before, err := d.NewSelect().Table("signing_requests").Count(ctx)
		if err != nil {
			t.Fatal(err)
		}
		_, err = f.msgs.Reply(ctx, f.hr.Identity(), messaging.ReplyInput{ThreadID: f.thread, Body: "Graag akkoord.", AttachmentIDs: []int64{att.ID},
			Within: f.svc.Within(f.hr.Identity(), f.thread, signing.RequestInput{SignerIDs: []int64{f.jan.ID, arts.ID}})})
		wantKey(t, err, "signing.not_participant")
		if n, err := d.NewSelect().Table("signing_requests").Count(ctx); err != nil || n != before {
			t.Fatalf("%d requests, was %d (%v)", n, before, err)
		}
		// Jan, who may read it, can be asked.
		if _, err := f.msgs.Reply(ctx, f.hr.Identity(), messaging.ReplyInput{ThreadID: f.thread, Body: "Graag akkoord.", AttachmentIDs: []int64{att.ID},
			Within: f.svc.Within(f.hr.Identity(), f.thread, signing.RequestInput{SignerIDs: []int64{f.jan.ID}})}); err != nil {
			t.Fatal(err)
		}
	})
}
