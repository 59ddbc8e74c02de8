package messaging_test

import (
	"context"
	"testing"
	"time"

	"dialoog/db"
	"dialoog/db/dbtest"
	"dialoog/messaging"
)

// A person who has not signed up yet is invited by the first message and
// reminded like an active user is notified: not again for every message
// while the earlier ones are unread, but after NotifyEvery. Each new link
// replaces the last, so a flood of messages would also kill the link in
// the mail the person is about to open.
func TestInviteeNotRemindedEveryMessage(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := setup(t, d)
		tid, err := f.svc.Compose(ctx, f.hr.Identity(), messaging.ComposeInput{To: []string{"nieuw@example.nl"}, Subject: "Welkom", Body: "Eerste"})
		if err != nil {
			t.Fatal(err)
		}
		if n := len(f.mailsTo(t, "nieuw@example.nl")); n != 1 {
			t.Fatalf("%d invitations after the first message, want 1", n)
		}
		for range 3 {
			f.clk.Add(time.Minute)
			if _, err := f.svc.Reply(ctx, f.hr.Identity(), messaging.ReplyInput{ThreadID: tid, Body: "Nog iets"}); err != nil {
				t.Fatal(err)
			}
		}
		if n := len(f.mailsTo(t, "nieuw@example.nl")); n != 1 {
			t.Fatalf("%d invitations after three quick replies, want 1", n)
		}
		f.clk.Add(messaging.NotifyEvery)
		if _, err := f.svc.Reply(ctx, f.hr.Identity(), messaging.ReplyInput{ThreadID: tid, Body: "Later"}); err != nil {
			t.Fatal(err)
		}
		if n := len(f.mailsTo(t, "nieuw@example.nl")); n != 2 {
			t.Fatalf("%d invitations after a reply %s later, want 2", n, messaging.NotifyEvery)
		}
	})
}

// TestResendInvitationOnlyByTheOrganisation: "Uitnodiging opnieuw
// versturen" in a conversation is for the internal users of its
// organisation, the people who may add participants: an internal user of
// another organisation who takes part gets the refusal of "Deelnemer
// toevoegen" (error.forbidden), sends no mail, and sees no button, on the
// page or in a live update.
func TestResendInvitationOnlyByTheOrganisation(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := setup(t, d)
		other := &db.Organisation{Name: "Ander", CreatedAt: f.clk.Now()}
		if _, err := d.NewInsert().Model(other).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		bob := f.active(t, "bob@ander.nl", true, "Bob", "", "Buur")
		if _, err := d.NewUpdate().Model(bob).Set("org_id = ?", other.ID).WherePK().Exec(ctx); err != nil {
			t.Fatal(err)
		}
		bob.OrgID = &other.ID
		tid, err := f.svc.Compose(ctx, f.hr.Identity(), messaging.ComposeInput{To: []string{"nieuw@example.nl", bob.Email}, Subject: "Overleg", Body: "Hallo"})
		if err != nil {
			t.Fatal(err)
		}
		invitee := f.user(t, "nieuw@example.nl")
		f.clk.Add(2 * time.Minute) // past the minute after the first invitation
		mails := len(f.mailsTo(t, invitee.Email))

		wantKey(t, f.svc.ResendInvitation(ctx, bob.Identity(), tid, invitee.ID), "error.forbidden")
		if n := len(f.mailsTo(t, invitee.Email)); n != mails {
			t.Fatalf("%d invitations after another organisation's resend, want %d", n, mails)
		}
		v, err := f.svc.Thread(ctx, bob.Identity(), tid)
		if err != nil {
			t.Fatal(err)
		}
		if v.CanResend || v.CanAddParticipants {
			t.Fatalf("another organisation's user may resend %v, add %v", v.CanResend, v.CanAddParticipants)
		}
		readers, err := f.svc.LiveUpdate(ctx, tid, 0, []int64{bob.ID, f.hr.ID})
		if err != nil || len(readers) != 2 {
			t.Fatalf("live readers: %+v %v", readers, err)
		}
		for _, r := range readers {
			if r.CanResend != (r.UserID == f.hr.ID) {
				t.Errorf("live update for %d: CanResend %v", r.UserID, r.CanResend)
			}
		}

		if v, err := f.svc.Thread(ctx, f.hr.Identity(), tid); err != nil || !v.CanResend {
			t.Fatalf("the organisation's user may not resend: %+v %v", v, err)
		}
		if err := f.svc.ResendInvitation(ctx, f.hr.Identity(), tid, invitee.ID); err != nil {
			t.Fatal(err)
		}
		if n := len(f.mailsTo(t, invitee.Email)); n != mails+1 {
			t.Fatalf("%d invitations after the organisation's resend, want %d", n, mails+1)
		}
	})
}
