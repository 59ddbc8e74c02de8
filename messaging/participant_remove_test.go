package messaging_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"dialoog/apperr"
	"dialoog/db"
	"dialoog/db/dbtest"
	"dialoog/messaging"
)

// removable returns the ids of the participants viewer's page of the
// conversation offers "Verwijderen" for.
func (f *fx) removable(t *testing.T, viewer *db.User, tid int64) []int64 {
	t.Helper()
	v, err := f.svc.Thread(context.Background(), viewer.Identity(), tid)
	if err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for _, p := range v.Participants {
		if p.Removable {
			ids = append(ids, p.UserID)
		}
	}
	return ids
}

// "Deelnemer verwijderen" is for the internal users of the conversation's
// organisation, and only for a person's own row of someone who has seen
// and owns nothing of the conversation: not oneself, not a team's member,
// not once they read or wrote, not the subject of its case, and not while
// the case is closed. Each refusal changes nothing, and the page offers
// the button for exactly those who may be removed.
func TestRemoveParticipantRefusals(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := setup(t, d)
		jan := f.active(t, "jan@example.nl", false, "Jan", "", "Jansen")   // reads
		kees := f.active(t, "kees@example.nl", false, "Kees", "", "Klein") // stays unread
		piet := f.active(t, "piet@example.nl", false, "Piet", "", "Post")  // writes
		sub := f.active(t, "sub@example.nl", false, "Sanne", "", "Smit")   // the case's subject
		colleague := f.active(t, "col@osaw.nl", true, "Cor", "", "Collega")
		team := newTeam(t, f, "OSAW Verzuim", true, f.hr, colleague)
		tid, err := f.svc.Compose(ctx, f.hr.Identity(), messaging.ComposeInput{
			To: []string{jan.Email, kees.Email, piet.Email, sub.Email}, Subject: "Verzuim", Body: "Hoe gaat het?", TeamID: team.ID})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.MarkRead(ctx, jan.Identity(), tid); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Reply(ctx, piet.Identity(), messaging.ReplyInput{ThreadID: tid, Body: "Goed"}); err != nil {
			t.Fatal(err)
		}
		// Their visits, as a session records them.
		if _, err := d.NewUpdate().Model((*db.User)(nil)).Set("last_seen_at = ?", f.clk.Now()).Where("id IN (?)", bun.In([]int64{jan.ID, piet.ID})).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		caseID, err := f.svc.CreateCaseForThread(ctx, f.hr.Identity(), tid, sub.ID, "P-1")
		if err != nil {
			t.Fatal(err)
		}
		f.clk.Add(time.Minute)
		before := f.count(t, "participants", "thread_id = ?", tid)

		// Someone who does not take part: as for any conversation they
		// cannot see.
		if err := f.svc.RemoveParticipant(ctx, f.boss.Identity(), tid, kees.ID); apperr.CodeOf(err) != apperr.NotFound {
			t.Fatalf("an outsider removes: %v", err)
		}
		// An external participant: as for adding.
		wantKey(t, f.svc.RemoveParticipant(ctx, jan.Identity(), tid, kees.ID), "error.forbidden")
		// Someone who is not in the conversation.
		if err := f.svc.RemoveParticipant(ctx, f.hr.Identity(), tid, f.boss.ID); apperr.CodeOf(err) != apperr.NotFound {
			t.Fatalf("removing someone who is not in it: %v", err)
		}
		wantKey(t, f.svc.RemoveParticipant(ctx, f.hr.Identity(), tid, f.hr.ID), "participant.remove_self")
		wantKey(t, f.svc.RemoveParticipant(ctx, f.hr.Identity(), tid, colleague.ID), "participant.remove_team")
		wantKey(t, f.svc.RemoveParticipant(ctx, f.hr.Identity(), tid, jan.ID), "participant.remove_read")
		wantKey(t, f.svc.RemoveParticipant(ctx, f.hr.Identity(), tid, piet.ID), "participant.remove_wrote")
		wantKey(t, f.svc.RemoveParticipant(ctx, f.hr.Identity(), tid, sub.ID), "participant.remove_case_subject")
		if got := f.removable(t, f.hr, tid); len(got) != 1 || got[0] != kees.ID {
			t.Fatalf("the page offers to remove %v, want only kees %d", got, kees.ID)
		}
		if got := f.removable(t, jan, tid); len(got) != 0 {
			t.Fatalf("an external participant is offered to remove %v", got)
		}
		// A live update's participant list offers the same.
		readers, err := f.svc.LiveUpdate(ctx, tid, 0, []int64{f.hr.ID, jan.ID})
		if err != nil || len(readers) != 2 {
			t.Fatalf("live readers: %+v %v", readers, err)
		}
		for _, r := range readers {
			var got []int64
			for _, p := range r.Participants {
				if p.Removable {
					got = append(got, p.UserID)
				}
			}
			if want := r.UserID == f.hr.ID; (len(got) == 1 && got[0] == kees.ID) != want || (!want && len(got) != 0) {
				t.Fatalf("the live list of %d offers to remove %v", r.UserID, got)
			}
		}

		if err := f.svc.SetCaseClosed(ctx, f.hr.Identity(), caseID, true); err != nil {
			t.Fatal(err)
		}
		wantKey(t, f.svc.RemoveParticipant(ctx, f.hr.Identity(), tid, kees.ID), "case.closed_readonly")
		if n := f.count(t, "participants", "thread_id = ?", tid); n != before {
			t.Fatalf("a refused removal changed the participants: %d, were %d", n, before)
		}
		if n := f.count(t, "audit_events", "kind = ?", messaging.AuditParticipantRemoved); n != 0 {
			t.Fatalf("%d audit rows of refused removals", n)
		}
		checkCounters(t, d, "refused removals")
	})
}

// A participant removed by mistake leaves the conversation as when they
// remove it from their own box, and more: the conversation is gone from
// their inbox and their unread total, its page is NotFound for them,
// their queued notices of it (mail and push) are cancelled while those of
// other conversations stay, the others see "X is verwijderd door Y"
// (live, without the removed person), and an audit row records it. An
// invited person whom only this conversation brought in, also one added
// later with "Deelnemer toevoegen", has the invitation withdrawn; one
// who takes part in another conversation stays invited.
func TestRemoveParticipantEffects(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := setup(t, d)
		f.svc.NotifyDelay = messaging.DefaultNotifyDelay
		// The invitations' clock runs on at every reading, as a real one
		// does between two statements.
		f.svc.Invitations.Now = func() time.Time { f.clk.Add(time.Millisecond); return f.clk.Now() }
		jan := f.active(t, "jan@example.nl", false, "Jan", "", "Jansen")
		f.subscribe(t, jan, "https://push.example.test/jan")
		const typo, later, both = "typo@example.nl", "later@example.nl", "both@example.nl"
		tid, err := f.svc.Compose(ctx, f.hr.Identity(), messaging.ComposeInput{To: []string{jan.Email, typo, both}, Subject: "Verzuim", Body: "Hoe gaat het?"})
		if err != nil {
			t.Fatal(err)
		}
		other, err := f.svc.Compose(ctx, f.boss.Identity(), messaging.ComposeInput{To: []string{jan.Email, both}, Subject: "Afspraak", Body: "Dinsdag?"})
		if err != nil {
			t.Fatal(err)
		}
		if err := f.svc.AddParticipant(ctx, f.hr.Identity(), tid, messaging.AddInput{Email: later, History: messaging.WithHistory}); err != nil {
			t.Fatal(err)
		}
		if n, _ := f.svc.UnreadCount(ctx, jan.ID); n != 2 {
			t.Fatalf("jan's unread total %d before, want 2", n)
		}
		noticesToJan := func() (mails, pushes int) {
			t.Helper()
			mails = f.count(t, "outbox", "recipient = ? AND channel = ? AND status = ?", jan.Email, db.ChannelMail, db.OutboxPending)
			pushes = f.count(t, "outbox", "recipient LIKE 'push:%' AND status = ?", db.OutboxPending)
			return mails, pushes
		}
		if m, p := noticesToJan(); m != 2 || p != 2 {
			t.Fatalf("queued notices to jan before: %d mails, %d pushes, want 2 and 2", m, p)
		}

		f.ev.evs = nil
		if err := f.svc.RemoveParticipant(ctx, f.hr.Identity(), tid, jan.ID); err != nil {
			t.Fatal(err)
		}
		checkCounters(t, d, "removing jan")
		if n, _ := f.svc.UnreadCount(ctx, jan.ID); n != 1 {
			t.Fatalf("jan's unread total %d after, want 1 (the other conversation)", n)
		}
		box, err := f.svc.Inbox(ctx, jan.Identity(), 1, "")
		if err != nil || len(box.Threads) != 1 || box.Threads[0].ID != other {
			t.Fatalf("jan's inbox after: %+v %v", box, err)
		}
		if _, err := f.svc.Thread(ctx, jan.Identity(), tid); apperr.CodeOf(err) != apperr.NotFound {
			t.Fatalf("jan still opens the conversation: %v", err)
		}
		if m, p := noticesToJan(); m != 1 || p != 1 {
			t.Fatalf("queued notices to jan after: %d mails, %d pushes, want those of the other conversation only", m, p)
		}
		v, err := f.svc.Thread(ctx, f.hr.Identity(), tid)
		if err != nil {
			t.Fatal(err)
		}
		last := v.Messages[len(v.Messages)-1]
		if last.System != messaging.SystemParticipantRemoved || last.SystemSubject != "Jan Jansen" || last.SenderName != "Hanna de Vries" {
			t.Fatalf("the line of the removal: %+v", last)
		}
		for _, p := range v.Participants {
			if p.UserID == jan.ID {
				t.Fatal("jan is still listed")
			}
		}
		if n := f.count(t, "audit_events", "kind = ? AND user_id = ? AND actor_id = ?", messaging.AuditParticipantRemoved, jan.ID, f.hr.ID); n != 1 {
			t.Fatalf("audit rows of the removal: %d", n)
		}
		if len(f.ev.evs) != 1 {
			t.Fatalf("live events: %+v", f.ev.evs)
		}
		for _, id := range f.ev.evs[0].UserIDs {
			if id == jan.ID {
				t.Fatal("the live event still reaches jan")
			}
		}
		readers, err := f.svc.LiveUpdate(ctx, tid, f.ev.evs[0].MessageID, append(f.ev.evs[0].UserIDs, jan.ID))
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range readers {
			if r.UserID == jan.ID {
				t.Fatal("a live update still renders for jan")
			}
			if r.Message == nil || r.Message.System != messaging.SystemParticipantRemoved {
				t.Fatalf("live line for %d: %+v", r.UserID, r.Message)
			}
		}

		for _, to := range []string{typo, later, both} {
			if err := f.svc.RemoveParticipant(ctx, f.hr.Identity(), tid, f.user(t, to).ID); err != nil {
				t.Fatalf("removing %s: %v", to, err)
			}
		}
		checkCounters(t, d, "removing the invitees")
		for _, to := range []string{typo, later} {
			if n := f.count(t, "users", "email = ?", to); n != 0 {
				t.Errorf("the invitation of %s, brought in by this conversation only, was not withdrawn", to)
			}
			if n := f.count(t, "outbox", "recipient = ? AND status = ?", to, db.OutboxPending); n != 0 {
				t.Errorf("%d mails to %s still queued", n, to)
			}
		}
		if n := f.count(t, "audit_events", "kind = ?", messaging.AuditInvitationWithdrawn); n != 2 {
			t.Errorf("audit rows of withdrawn invitations: %d, want 2", n)
		}
		if u := f.user(t, both); u.Status != db.StatusInvited {
			t.Errorf("the invitee of another conversation too: %+v", u)
		}
		if v, err := f.svc.Thread(ctx, f.hr.Identity(), tid); err != nil || len(v.Participants) != 1 ||
			!strings.Contains(v.Messages[len(v.Messages)-1].SystemSubject, "both") {
			t.Fatalf("the conversation after all removals: %+v %v", v, err)
		}
	})
}
