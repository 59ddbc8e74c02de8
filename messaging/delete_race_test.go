package messaging_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"dialoog/apperr"
	"dialoog/db"
	"dialoog/db/dbtest"
	"dialoog/messaging"
)

// TestReplyWhileTheOnlyMessageIsDeleted, on both engines: the sender
// deletes the only message of a conversation for everyone (nobody read
// it) while they, or a colleague, send a reply in it at the same moment.
// A reply that was accepted stays, with the conversation; before, on
// PostgreSQL, the deletion found the conversation empty, deleted it after
// the reply's commit and took the reply with it (ON DELETE CASCADE): the
// sender saw it sent, and nobody ever got it. A reply the deletion came
// before is told that the conversation is gone (404), not a server error,
// and neither of the two deadlocks.
func TestReplyWhileTheOnlyMessageIsDeleted(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := setup(t, d)
		emp := f.active(t, "jan@example.nl", false, "Jan", "", "Jansen")
		for round := range 25 {
			th, err := f.svc.Compose(ctx, f.hr.Identity(), messaging.ComposeInput{To: []string{emp.Email}, Subject: fmt.Sprint("Ronde ", round), Body: "Hallo"})
			if err != nil {
				t.Fatal(err)
			}
			v, err := f.svc.Thread(ctx, f.hr.Identity(), th)
			if err != nil {
				t.Fatal(err)
			}
			first := v.Messages[0].ID
			var replyErr, delErr error
			var reply int64
			atOnce(func() {
				reply, replyErr = f.svc.Reply(ctx, f.hr.Identity(), messaging.ReplyInput{ThreadID: th, Body: "Nog iets"})
			}, func() { delErr = f.svc.DeleteForEveryone(ctx, f.hr.Identity(), first) })
			if delErr != nil {
				t.Fatalf("round %d: delete: %v", round, delErr)
			}
			if replyErr != nil {
				// The deletion came first: the conversation is gone, and
				// the reply says so, as it would to a later one.
				if apperr.CodeOf(replyErr) != apperr.NotFound {
					t.Fatalf("round %d: reply after the deletion: %v", round, replyErr)
				}
				continue
			}
			n, err := d.NewSelect().Model((*db.Message)(nil)).Where("id = ?", reply).Count(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if n != 1 {
				t.Fatalf("round %d: the accepted reply is gone", round)
			}
			var total int
			if err := d.NewSelect().Model((*db.User)(nil)).Column("unread_total").Where("id = ?", emp.ID).Scan(ctx, &total); err != nil {
				t.Fatal(err)
			}
			if _, err := f.svc.MarkRead(ctx, emp.Identity(), th); err != nil {
				t.Fatalf("round %d: the recipient cannot open the conversation: %v", round, err)
			}
			if err := d.NewSelect().Model((*db.User)(nil)).Column("unread_total").Where("id = ?", emp.ID).Scan(ctx, &total); err != nil {
				t.Fatal(err)
			}
			if total != 0 {
				t.Fatalf("round %d: %d unread after reading everything", round, total)
			}
		}
	})
}

// TestDeleteForEveryoneWhileRead, on both engines: the sender deletes a
// message for everyone at the moment its recipient opens it. Either the
// page marked it read first, and then it stays (a message someone read is
// not taken back), or the deletion came first and nothing was marked.
// Before, on PostgreSQL, both went through: the sender was told it was
// read and it was deleted all the same.
func TestDeleteForEveryoneWhileRead(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := setup(t, d)
		emp := f.active(t, "jan@example.nl", false, "Jan", "", "Jansen")
		th, err := f.svc.Compose(ctx, f.hr.Identity(), messaging.ComposeInput{To: []string{emp.Email}, Subject: "Overleg", Body: "Hallo"})
		if err != nil {
			t.Fatal(err)
		}
		for round := range 30 {
			if _, err := f.svc.MarkRead(ctx, emp.Identity(), th); err != nil {
				t.Fatal(err)
			}
			m, err := f.svc.Reply(ctx, f.hr.Identity(), messaging.ReplyInput{ThreadID: th, Body: fmt.Sprint("Ronde ", round)})
			if err != nil {
				t.Fatal(err)
			}
			var marked int
			var markErr, delErr error
			atOnce(func() {
				marked, markErr = f.svc.MarkReadUpTo(ctx, emp.Identity(), th, m)
			}, func() {
				delErr = f.svc.DeleteForEveryone(ctx, f.hr.Identity(), m)
			})
			if markErr != nil {
				t.Fatalf("round %d: mark read: %v", round, markErr)
			}
			switch {
			case delErr == nil && marked > 0:
				t.Fatalf("round %d: a message marked read was deleted for everyone", round)
			case delErr != nil && apperr.CodeOf(delErr) != apperr.Conflict:
				t.Fatalf("round %d: delete: %v", round, delErr)
			case delErr != nil && marked == 0:
				t.Fatalf("round %d: deletion refused, but the message was not read (%v)", round, delErr)
			}
		}
	})
}

// TestTeamMembersAndOutsiderReplyAtOnce, on both engines: the members of
// a team and the outsider all answer the same conversation at the same
// moment, many times: every reply is stored and every count adds up.
// Before replies locked their conversation first (threadToWrite), on
// PostgreSQL the statements of simultaneous replies locked the
// participants' and users' rows in orders of their own and deadlocked:
// one of the writers got a server error.
func TestTeamMembersAndOutsiderReplyAtOnce(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := setup(t, d)
		jan := f.active(t, "jan@example.nl", false, "Jan", "", "Jansen")
		piet := f.active(t, "piet@osaw.nl", true, "Piet", "", "Post")
		team := newTeam(t, f, "OSAW Verzuim", true, f.hr, f.boss, piet)
		th, err := f.svc.Compose(ctx, f.hr.Identity(), messaging.ComposeInput{To: []string{jan.Email}, Subject: "Verzuim", Body: "Hoe gaat het?", TeamID: team.ID})
		if err != nil {
			t.Fatal(err)
		}
		writers := []*db.User{f.hr, f.boss, piet, jan}
		for round := range 15 {
			errs := make([]error, len(writers))
			var wg sync.WaitGroup
			start := make(chan struct{})
			for i, w := range writers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					_, errs[i] = f.svc.Reply(ctx, w.Identity(), messaging.ReplyInput{ThreadID: th, Body: fmt.Sprint("Ronde ", round)})
				}()
			}
			close(start)
			wg.Wait()
			for i, err := range errs {
				if err != nil {
					t.Fatalf("round %d, writer %d: %v", round, i, err)
				}
			}
		}
		countersAgree(t, d, "the replies")
	})
}

// TestJoinTeamWhileReplying, on both engines: a colleague joins a team
// while the outsider answers one of its conversations: the newcomer has
// every message of it in their box, the reply included, and every count
// adds up.
func TestJoinTeamWhileReplying(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := setup(t, d)
		jan := f.active(t, "jan@example.nl", false, "Jan", "", "Jansen")
		team := newTeam(t, f, "OSAW Verzuim", true, f.hr)
		th, err := f.svc.Compose(ctx, f.hr.Identity(), messaging.ComposeInput{To: []string{jan.Email}, Subject: "Verzuim", Body: "Hoe gaat het?", TeamID: team.ID})
		if err != nil {
			t.Fatal(err)
		}
		for round := range 12 {
			newcomer := f.active(t, fmt.Sprintf("collega%d@osaw.nl", round), true, "Piet", "", "Post")
			var joinErr, replyErr error
			atOnce(func() { joinErr = f.svc.AddTeamMember(ctx, team.ID, newcomer.Email) }, func() {
				_, replyErr = f.svc.Reply(ctx, jan.Identity(), messaging.ReplyInput{ThreadID: th, Body: fmt.Sprint("Ronde ", round)})
			})
			if joinErr != nil || replyErr != nil {
				t.Fatalf("round %d: join %v, reply %v", round, joinErr, replyErr)
			}
			var messages, states int64
			var err error
			if messages, err = d.NewSelect().Model((*db.Message)(nil)).Where("thread_id = ?", th).Count(ctx); err != nil {
				t.Fatal(err)
			}
			if states, err = d.NewSelect().Model((*db.MessageState)(nil)).Where("user_id = ?", newcomer.ID).Count(ctx); err != nil {
				t.Fatal(err)
			}
			if states != messages {
				t.Fatalf("round %d: the newcomer has %d of the %d messages", round, states, messages)
			}
			countersAgree(t, d, fmt.Sprint("round ", round))
		}
	})
}

// TestLeaveTeamWhileReplying, on both engines: a colleague leaves a team
// while the outsider answers one of its conversations: nothing of the
// conversation stays in the former member's box, the reply included.
func TestLeaveTeamWhileReplying(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := setup(t, d)
		jan := f.active(t, "jan@example.nl", false, "Jan", "", "Jansen")
		piet := f.active(t, "piet@osaw.nl", true, "Piet", "", "Post")
		team := newTeam(t, f, "OSAW Verzuim", true, f.hr)
		th, err := f.svc.Compose(ctx, f.hr.Identity(), messaging.ComposeInput{To: []string{jan.Email}, Subject: "Verzuim", Body: "Hoe gaat het?", TeamID: team.ID})
		if err != nil {
			t.Fatal(err)
		}
		for round := range 25 {
			if err := f.svc.AddTeamMember(ctx, team.ID, piet.Email); err != nil {
				t.Fatal(err)
			}
			var leaveErr, replyErr error
			atOnce(func() { leaveErr = f.svc.RemoveTeamMember(ctx, team.ID, piet.Email) }, func() {
				_, replyErr = f.svc.Reply(ctx, jan.Identity(), messaging.ReplyInput{ThreadID: th, Body: fmt.Sprint("Ronde ", round)})
			})
			if leaveErr != nil || replyErr != nil {
				t.Fatalf("round %d: leave %v, reply %v", round, leaveErr, replyErr)
			}
			states, err := d.NewSelect().Model((*db.MessageState)(nil)).Where("user_id = ?", piet.ID).Count(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if states != 0 {
				t.Fatalf("round %d: the former member keeps %d messages of the team", round, states)
			}
			countersAgree(t, d, fmt.Sprint("round ", round))
		}
	})
}

// TestAddParticipantWhileReplying, on both engines: a colleague is added
// with all earlier messages while the outsider answers: the newcomer has
// the reply too, whichever came first.
func TestAddParticipantWhileReplying(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := setup(t, d)
		jan := f.active(t, "jan@example.nl", false, "Jan", "", "Jansen")
		for round := range 12 {
			th, err := f.svc.Compose(ctx, f.hr.Identity(), messaging.ComposeInput{To: []string{jan.Email}, Subject: fmt.Sprint("Ronde ", round), Body: "Hoe gaat het?"})
			if err != nil {
				t.Fatal(err)
			}
			newcomer := f.active(t, fmt.Sprintf("collega%d@osaw.nl", round), true, "Piet", "", "Post")
			var addErr, replyErr error
			atOnce(func() {
				addErr = f.svc.AddParticipant(ctx, f.hr.Identity(), th, messaging.AddInput{Email: newcomer.Email, History: messaging.WithHistory})
			}, func() {
				_, replyErr = f.svc.Reply(ctx, jan.Identity(), messaging.ReplyInput{ThreadID: th, Body: "Goed"})
			})
			if addErr != nil || replyErr != nil {
				t.Fatalf("round %d: add %v, reply %v", round, addErr, replyErr)
			}
			messages, err := d.NewSelect().Model((*db.Message)(nil)).Where("thread_id = ?", th).Count(ctx)
			if err != nil {
				t.Fatal(err)
			}
			states, err := d.NewSelect().Model((*db.MessageState)(nil)).Where("user_id = ?", newcomer.ID).Count(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if states != messages {
				t.Fatalf("round %d: the newcomer has %d of the %d messages", round, states, messages)
			}
			countersAgree(t, d, fmt.Sprint("round ", round))
		}
	})
}

// atOnce runs a and b at the same moment, each in its own goroutine, and
// returns when both have.
func atOnce(a, b func()) {
	var wg sync.WaitGroup
	start := make(chan struct{})
	for _, fn := range []func(){a, b} {
		wg.Go(func() {
			<-start
			fn()
		})
	}
	close(start)
	wg.Wait()
}
