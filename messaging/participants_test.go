package messaging_test

import (
	"context"
	"testing"

	"dialoog/db"
	"dialoog/db/dbtest"
	"dialoog/messaging"
)

// Adding someone to a conversation is a choice: with the history or from
// now on. Everyone sees a line "X is toegevoegd door Y", the newcomer is
// told, and an audit row says who added whom.
func TestAddParticipantHistoryChoice(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := setup(t, d)
		jan := f.active(t, "jan@example.nl", false, "Jan", "", "Berg")
		kees := f.active(t, "kees@example.nl", false, "Kees", "", "Klein")
		piet := f.active(t, "piet@example.nl", false, "Piet", "", "Post")
		tid, err := f.svc.Compose(ctx, f.hr.Identity(), messaging.ComposeInput{To: []string{"jan@example.nl"}, Subject: "Verzuim", Body: "Medisch detail"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Reply(ctx, jan.Identity(), messaging.ReplyInput{ThreadID: tid, Body: "Nog een detail"}); err != nil {
			t.Fatal(err)
		}
		janBefore, _ := f.svc.UnreadCount(ctx, jan.ID)

		wantKey(t, f.svc.AddParticipant(ctx, f.hr.Identity(), tid, messaging.AddInput{Email: "kees@example.nl"}), "participant.history_required")
		if in, _ := f.svc.ParticipantIDs(ctx, f.hr.Identity(), tid); len(in) != 2 {
			t.Fatalf("a refused addition stored a participant: %v", in)
		}

		f.ev.evs = nil
		if err := f.svc.AddParticipant(ctx, f.hr.Identity(), tid, messaging.AddInput{Email: "kees@example.nl", History: messaging.FromNowOn}); err != nil {
			t.Fatal(err)
		}
		v, err := f.svc.Thread(ctx, kees.Identity(), tid)
		if err != nil {
			t.Fatal(err)
		}
		if len(v.Messages) != 1 || v.Messages[0].System != messaging.SystemParticipantAdded ||
			v.Messages[0].SystemSubject != "Kees Klein" || v.Messages[0].SenderName != "Hanna de Vries" {
			t.Fatalf("from now on: the newcomer must see only the line about the addition: %+v", v.Messages)
		}
		if n, _ := f.svc.UnreadCount(ctx, kees.ID); n != 1 {
			t.Fatalf("newcomer unread %d, want 1", n)
		}
		if len(f.mailsTo(t, "kees@example.nl")) != 1 {
			t.Fatal("the newcomer must be notified")
		}
		v, _ = f.svc.Thread(ctx, jan.Identity(), tid)
		last := v.Messages[len(v.Messages)-1]
		if len(v.Messages) != 3 || last.System != messaging.SystemParticipantAdded || last.SystemSubject != "Kees Klein" || len(last.Receipts) != 0 || last.CanDeleteForEveryone {
			t.Fatalf("the others must see the line: %+v", v.Messages)
		}
		if n, _ := f.svc.UnreadCount(ctx, jan.ID); n != janBefore {
			t.Fatalf("the line must not count as unread for the others: %d, was %d", n, janBefore)
		}
		if len(f.ev.evs) != 1 || len(f.ev.evs[0].UserIDs) != 3 {
			t.Fatalf("one live event for all three: %+v", f.ev.evs)
		}
		readers, err := f.svc.LiveUpdate(ctx, tid, f.ev.evs[0].MessageID, f.ev.evs[0].UserIDs)
		if err != nil || len(readers) != 3 {
			t.Fatalf("live: %+v %v", readers, err)
		}
		for _, r := range readers {
			if r.Message == nil || r.Message.System != messaging.SystemParticipantAdded {
				t.Fatalf("live line for %d: %+v", r.UserID, r.Message)
			}
		}

		if err := f.svc.AddParticipant(ctx, f.hr.Identity(), tid, messaging.AddInput{Email: "piet@example.nl", History: messaging.WithHistory}); err != nil {
			t.Fatal(err)
		}
		v, _ = f.svc.Thread(ctx, piet.Identity(), tid)
		if len(v.Messages) != 4 || v.Messages[0].Body != "Medisch detail" || v.Messages[3].SystemSubject != "Piet Post" {
			t.Fatalf("with history: %+v", v.Messages)
		}
		if n, _ := f.svc.UnreadCount(ctx, piet.ID); n != 4 {
			t.Fatalf("with history unread %d, want 4", n)
		}

		var audits []db.AuditEvent
		if err := d.NewSelect().Model(&audits).Where("kind = ?", "participant.added").Order("id").Scan(ctx); err != nil {
			t.Fatal(err)
		}
		if len(audits) != 2 || *audits[0].UserID != kees.ID || *audits[0].ActorID != f.hr.ID || *audits[1].UserID != piet.ID {
			t.Fatalf("audit: %+v", audits)
		}
	})
}

// "With all earlier messages" hands on the history the adder received, no
// more: a colleague added with only the messages from now on cannot get
// the earlier ones by adding another address of theirs with the history.
func TestAddWithHistoryGivesOnlyTheAddersHistory(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := setup(t, d)
		jan := f.active(t, "jan@example.nl", false, "Jan", "", "Berg")
		tid, err := f.svc.Compose(ctx, f.hr.Identity(), messaging.ComposeInput{To: []string{jan.Email}, Subject: "Verzuim", Body: "Vertrouwelijk detail"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Reply(ctx, jan.Identity(), messaging.ReplyInput{ThreadID: tid, Body: "Nog een detail"}); err != nil {
			t.Fatal(err)
		}
		if err := f.svc.AddParticipant(ctx, f.hr.Identity(), tid, messaging.AddInput{Email: f.boss.Email, History: messaging.FromNowOn}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Reply(ctx, jan.Identity(), messaging.ReplyInput{ThreadID: tid, Body: "Vanaf nu"}); err != nil {
			t.Fatal(err)
		}
		if err := f.svc.AddParticipant(ctx, f.boss.Identity(), tid, messaging.AddInput{Email: "bram.prive@example.nl", History: messaging.WithHistory}); err != nil {
			t.Fatal(err)
		}
		countersAgree(t, d, "adding with the adder's history")
		var alt db.User
		if err := d.NewSelect().Model(&alt).Where("email = ?", "bram.prive@example.nl").Scan(ctx); err != nil {
			t.Fatal(err)
		}
		got := func(u *db.User) []string {
			t.Helper()
			v, err := f.svc.Thread(ctx, u.Identity(), tid)
			if err != nil {
				t.Fatal(err)
			}
			var out []string
			for _, m := range v.Messages {
				out = append(out, m.System+m.Body)
			}
			return out
		}
		want := got(f.boss)
		if g := got(&alt); len(g) != len(want) {
			t.Fatalf("the newcomer sees %q, the adder %q", g, want)
		}
		for _, m := range got(&alt) {
			if m == "Vertrouwelijk detail" || m == "Nog een detail" {
				t.Fatalf("the newcomer reads history the adder never received: %q", got(&alt))
			}
		}
		if n, _ := f.svc.UnreadCount(ctx, alt.ID); n != len(want) {
			t.Fatalf("newcomer unread %d, want %d", n, len(want))
		}
	})
}

// A blocked account is not added to a conversation, as it cannot be
// written to in a new one: the form says so and nothing is stored.
func TestAddParticipantRefusesDisabled(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := setup(t, d)
		f.active(t, "jan@example.nl", false, "Jan", "", "Berg")
		kees := f.active(t, "kees@example.nl", false, "Kees", "", "Klein")
		if _, err := d.NewUpdate().Model((*db.User)(nil)).Set("status = ?", db.StatusDisabled).Where("id = ?", kees.ID).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		tid, err := f.svc.Compose(ctx, f.hr.Identity(), messaging.ComposeInput{To: []string{"jan@example.nl"}, Subject: "Verzuim", Body: "Hoe gaat het?"})
		if err != nil {
			t.Fatal(err)
		}
		wantKey(t, f.svc.AddParticipant(ctx, f.hr.Identity(), tid, messaging.AddInput{Email: "kees@example.nl", History: messaging.WithHistory}),
			"message.recipient_disabled")
		if in, _ := f.svc.ParticipantIDs(ctx, f.hr.Identity(), tid); len(in) != 2 {
			t.Fatalf("a blocked account was added: %v", in)
		}
	})
}

// A message the adder removed from their box is no longer theirs to hand
// on: "with all earlier messages" gives the newcomer what the adder has.
func TestAddWithHistoryLeavesOutWhatTheAdderRemoved(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := setup(t, d)
		jan := f.active(t, "jan@example.nl", false, "Jan", "", "Berg")
		tid, err := f.svc.Compose(ctx, f.hr.Identity(), messaging.ComposeInput{To: []string{jan.Email}, Subject: "Verzuim", Body: "Hallo"})
		if err != nil {
			t.Fatal(err)
		}
		removed, err := f.svc.Reply(ctx, jan.Identity(), messaging.ReplyInput{ThreadID: tid, Body: "Weggegooid detail"})
		if err != nil {
			t.Fatal(err)
		}
		if err := f.svc.RemoveFromBox(ctx, f.hr.Identity(), removed); err != nil {
			t.Fatal(err)
		}
		if err := f.svc.AddParticipant(ctx, f.hr.Identity(), tid, messaging.AddInput{Email: f.boss.Email, History: messaging.WithHistory}); err != nil {
			t.Fatal(err)
		}
		countersAgree(t, d, "adding with the history")
		v, err := f.svc.Thread(ctx, f.boss.Identity(), tid)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range v.Messages {
			if m.ID == removed {
				t.Fatalf("the newcomer reads a message the adder removed from their box: %q", m.Body)
			}
		}
		if len(v.Messages) != 2 { // "Hallo" and the system line
			t.Fatalf("the newcomer sees %d messages, want 2", len(v.Messages))
		}
	})
}
