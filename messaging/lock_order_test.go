package messaging_test

import (
	"context"
	"testing"
	"time"

	"dialoog/db"
	"dialoog/db/dbtest"
	"dialoog/i18n"
	"dialoog/messaging"
)

// TestRetentionWhileAPersonStops, on both engines: the retention of two
// conversations, the one with the higher id first (the older one, or the
// one whose case closed first), while a person who takes part in both
// stops with Dialoog. Both end, one after the other. Before, on
// PostgreSQL, the retention locked the conversations in its own order
// (of their last activity, or case by case, each case's conversations
// after it), and the stop locks the person's conversations in the order
// of their ids: each held one the other waited for, and one was cancelled
// as a deadlock. The retention is held (a row lock on a read state of the
// higher conversation's message) until the stop waits too.
func TestRetentionWhileAPersonStops(t *testing.T) {
	for _, inCases := range []bool{false, true} {
		name := "conversations"
		if inCases {
			name = "closed cases"
		}
		t.Run(name, func(t *testing.T) { retentionWhileAPersonStops(t, inCases) })
	}
}

func retentionWhileAPersonStops(t *testing.T, inCases bool) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := setup(t, d)
		f.makeAdmin(t)
		jan := f.active(t, "jan@example.nl", false, "Jan", "", "Jansen")
		piet := f.active(t, "piet@example.nl", false, "Piet", "", "Post")
		run := time.Date(2026, 6, 24, 3, 0, 0, 0, i18n.Zone)
		cutoff := messaging.RetentionCutoff(run, 3)
		f.clk.Set(cutoff.Add(-24 * time.Hour))
		var tids [2]int64
		var cases [2]int64
		for i := range tids {
			tid, err := f.svc.Compose(ctx, f.hr.Identity(), messaging.ComposeInput{To: []string{jan.Email, piet.Email}, Subject: "Verzuim", Body: "Hallo"})
			if err != nil {
				t.Fatal(err)
			}
			tids[i] = tid
			if inCases {
				if cases[i], err = f.svc.CreateCaseForThread(ctx, f.hr.Identity(), tid, piet.ID, "P-"+itoa(int64(i))); err != nil {
					t.Fatal(err)
				}
			}
		}
		// The later conversation's case closes first, or the earlier one
		// has a later reply: the retention takes the later one first.
		for _, i := range []int{1, 0} {
			f.clk.Add(time.Minute)
			var err error
			if inCases {
				err = f.svc.SetCaseClosed(ctx, f.hr.Identity(), cases[i], true)
			} else if i == 0 {
				_, err = f.svc.Reply(ctx, f.hr.Identity(), messaging.ReplyInput{ThreadID: tids[0], Body: "Nog iets"})
			}
			if err != nil {
				t.Fatal(err)
			}
		}
		in := messaging.RetentionInput{Conversations: "3"}
		if inCases {
			in = messaging.RetentionInput{Cases: "3"}
		}
		if err := f.svc.SetRetention(ctx, f.hr.Identity(), in); err != nil {
			t.Fatal(err)
		}
		f.clk.Set(run.Add(-25 * time.Hour))
		if _, err := f.svc.RunDaily(ctx); err != nil { // schedules the jobs
			t.Fatal(err)
		}
		f.clk.Set(run)

		pid, release := dbtest.HoldRows(t, d, `SELECT ms.user_id FROM message_states AS ms JOIN messages AS m ON m.id = ms.message_id
WHERE m.thread_id = ? AND ms.user_id = ? FOR UPDATE OF ms`, tids[1], f.hr.ID)
		retErr, stopErr := dbtest.InTurn(t, d, pid, release,
			func() error { _, err := f.svc.RunDaily(context.Background()); return err },
			func() error { return f.svc.StopService(context.Background(), jan.Identity()) })
		if retErr != nil || stopErr != nil {
			t.Fatalf("retention: %v; stop: %v", retErr, stopErr)
		}
		for _, tid := range tids {
			if f.threadExists(t, tid) {
				t.Errorf("conversation %d is still there", tid)
			}
		}
		countersAgree(t, d, "the retention and the stop")
	})
}

// TestReplyInTheCaseWhileItsPersonStops, on both engines: Hanna replies in
// a conversation of a case about Jan while Jan stops with Dialoog. Both
// end. Before, on PostgreSQL, the stop locked Jan's conversations first
// and the case's row only when the deletion of his account emptied the
// case's subject (ON DELETE SET NULL), while a reply share-locks the case
// and then its conversation: each held what the other waited for, and one
// was cancelled as a deadlock. The stop is held (a row lock on one of
// Jan's audit rows, which it pseudonymises after taking its locks) until
// the reply waits too.
func TestReplyInTheCaseWhileItsPersonStops(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		c := newClosingCase(t, d)
		f, jan := c.f, c.jan
		pid, release := dbtest.HoldRows(t, d, "SELECT id FROM audit_events WHERE user_id = ? FOR UPDATE", jan.ID)
		stopErr, replyErr := dbtest.InTurn(t, d, pid, release,
			func() error { return f.svc.StopService(context.Background(), jan.Identity()) },
			func() error {
				_, err := f.svc.Reply(context.Background(), f.hr.Identity(), messaging.ReplyInput{ThreadID: c.tid, Body: "Sterkte"})
				return err
			})
		if stopErr != nil || replyErr != nil {
			t.Fatalf("stop: %v; reply: %v", stopErr, replyErr)
		}
		if n, err := d.NewSelect().Model((*db.Case)(nil)).Where("id = ? AND subject_id IS NULL", c.caseID).Count(ctx); err != nil || n != 1 {
			t.Errorf("the case still has its subject after the stop (%d, %v)", n, err)
		}
		countersAgree(t, d, "the reply and the stop")
	})
}

// TestMoveIntoACaseWhileItsPersonStops, on both engines: Hanna puts a
// conversation with Jan into a case about him while Jan stops with
// Dialoog. Both end. Before, on PostgreSQL, the move locked the
// conversation and only then the case it goes into, against the stop's
// (and every change's) order of the case before its conversations. The
// conversation's row is held until both wait for it, the move first.
func TestMoveIntoACaseWhileItsPersonStops(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		c := newClosingCase(t, d)
		f, jan := c.f, c.jan
		other, err := f.svc.Compose(ctx, f.hr.Identity(), messaging.ComposeInput{To: []string{jan.Email}, Subject: "Re-integratie", Body: "Hallo"})
		if err != nil {
			t.Fatal(err)
		}
		target, err := f.svc.CreateCaseForThread(ctx, f.hr.Identity(), other, jan.ID, "P-2")
		if err != nil {
			t.Fatal(err)
		}
		moved, err := f.svc.Compose(ctx, f.hr.Identity(), messaging.ComposeInput{To: []string{jan.Email}, Subject: "Verlof", Body: "Hallo"})
		if err != nil {
			t.Fatal(err)
		}
		pid, release := dbtest.HoldRows(t, d, "SELECT id FROM threads WHERE id = ? FOR UPDATE", moved)
		moveErr, stopErr := dbtest.InTurn(t, d, pid, release,
			func() error { return f.svc.AddThreadToCase(context.Background(), f.hr.Identity(), moved, target) },
			func() error { return f.svc.StopService(context.Background(), jan.Identity()) })
		if moveErr != nil || stopErr != nil {
			t.Fatalf("move: %v; stop: %v", moveErr, stopErr)
		}
		if n, err := d.NewSelect().Model((*db.Thread)(nil)).Where("id = ? AND case_id = ?", moved, target).Count(ctx); err != nil || n != 1 {
			t.Errorf("the conversation is not in the case it was moved to (%d, %v)", n, err)
		}
		countersAgree(t, d, "the move and the stop")
	})
}

// TestTwoMembersLeaveATeamAtOnce, on both engines: Piet and Bram leave
// the team at the same moment, each the assignee of one of its
// conversations. Both end, one after the other, and neither stays the
// assignee. Before, on PostgreSQL, each share-locked all of the team's
// conversations and then cleared their own assignment, an update of a
// row the other held: each waited for the other, and one was cancelled
// as a deadlock. Both are held (their membership rows) until both wait.
func TestTwoMembersLeaveATeamAtOnce(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := setup(t, d)
		piet := f.active(t, "piet@osaw.nl", true, "Piet", "", "Post")
		jan := f.active(t, "jan@example.nl", false, "Jan", "", "Jansen")
		team := newTeam(t, f, "OSAW Verzuim", true, f.hr, piet, f.boss)
		leavers := []*db.User{piet, f.boss}
		var tids [2]int64
		for i, who := range leavers {
			tid, err := f.svc.Compose(ctx, f.hr.Identity(), messaging.ComposeInput{To: []string{jan.Email}, Subject: "Verzuim", Body: "Hallo", TeamID: team.ID})
			if err != nil {
				t.Fatal(err)
			}
			if err := f.svc.Assign(ctx, f.hr.Identity(), tid, who.ID); err != nil {
				t.Fatal(err)
			}
			tids[i] = tid
		}
		pid, release := dbtest.HoldRows(t, d, "SELECT user_id FROM team_members WHERE team_id = ? AND user_id IN (?, ?) FOR UPDATE",
			team.ID, piet.ID, f.boss.ID)
		pietErr, bramErr := dbtest.InTurn(t, d, pid, release,
			func() error { return f.svc.RemoveTeamMember(context.Background(), team.ID, piet.Email) },
			func() error { return f.svc.RemoveTeamMember(context.Background(), team.ID, f.boss.Email) })
		if pietErr != nil || bramErr != nil {
			t.Fatalf("piet: %v; bram: %v", pietErr, bramErr)
		}
		if n, err := d.NewSelect().Model((*db.Thread)(nil)).Where("id IN (?, ?) AND assigned_to IS NOT NULL", tids[0], tids[1]).Count(ctx); err != nil || n != 0 {
			t.Errorf("%d conversations keep an assignee who left (%v)", n, err)
		}
		countersAgree(t, d, "two members leaving")
	})
}

// TestRetentionWhileAFormerTeamMemberStops, on both engines: Bram wrote a
// conversation for his team, left the team, and stops with Dialoog while
// the retention deletes that conversation and a later one of his own.
// Both end. Before, on PostgreSQL, the stop locked only the conversations
// Bram took part in (the later one) and changed the team's conversation
// at the very end, when the deletion of his account emptied its creator
// and sender (ON DELETE SET NULL), while the retention locked both in id
// order: each held one the other waited for, and one was cancelled as a
// deadlock. The stop is held (a row lock on one of Bram's audit rows)
// until the retention waits too.
func TestRetentionWhileAFormerTeamMemberStops(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := setup(t, d)
		f.makeAdmin(t)
		jan := f.active(t, "jan@example.nl", false, "Jan", "", "Jansen")
		team := newTeam(t, f, "OSAW Verzuim", true, f.hr, f.boss)
		run := time.Date(2026, 6, 24, 3, 0, 0, 0, i18n.Zone)
		f.clk.Set(messaging.RetentionCutoff(run, 3).Add(-24 * time.Hour))
		teams, err := f.svc.Compose(ctx, f.boss.Identity(), messaging.ComposeInput{To: []string{jan.Email}, Subject: "Verzuim", Body: "Hallo", TeamID: team.ID})
		if err != nil {
			t.Fatal(err)
		}
		own, err := f.svc.Compose(ctx, f.boss.Identity(), messaging.ComposeInput{To: []string{jan.Email}, Subject: "Afspraak", Body: "Hallo"})
		if err != nil {
			t.Fatal(err)
		}
		if err := f.svc.RemoveTeamMember(ctx, team.ID, f.boss.Email); err != nil {
			t.Fatal(err)
		}
		if err := f.svc.SetRetention(ctx, f.hr.Identity(), messaging.RetentionInput{Conversations: "3"}); err != nil {
			t.Fatal(err)
		}
		f.clk.Set(run.Add(-25 * time.Hour))
		if _, err := f.svc.RunDaily(ctx); err != nil { // schedules the jobs
			t.Fatal(err)
		}
		f.clk.Set(run)

		pid, release := dbtest.HoldRows(t, d, "SELECT id FROM audit_events WHERE user_id = ? FOR UPDATE", f.boss.ID)
		stopErr, retErr := dbtest.InTurn(t, d, pid, release,
			func() error { return f.svc.StopService(context.Background(), f.boss.Identity()) },
			func() error { _, err := f.svc.RunDaily(context.Background()); return err })
		if stopErr != nil || retErr != nil {
			t.Fatalf("stop: %v; retention: %v", stopErr, retErr)
		}
		for _, tid := range []int64{teams, own} {
			if f.threadExists(t, tid) {
				t.Errorf("conversation %d is still there", tid)
			}
		}
		countersAgree(t, d, "the stop and the retention")
	})
}

// TestLeaveTeamWhileReadingElsewhere, on both engines: Piet opens a
// conversation of his own while he leaves a team, whose leave recounts his
// unread total. The total agrees with his counts afterwards. Before, on
// PostgreSQL, the recount summed his counts in the statement that updates
// his user row: waiting for that row behind the marking, it kept the
// snapshot from before the marking committed and set the total with the
// conversation still unread. Piet's user row is held until both wait for
// it, the marking first (it has lowered his participant row's count by
// then).
func TestLeaveTeamWhileReadingElsewhere(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := setup(t, d)
		piet := f.active(t, "piet@osaw.nl", true, "Piet", "", "Post")
		team := newTeam(t, f, "OSAW Verzuim", true, f.hr, piet)
		th, err := f.svc.Compose(ctx, f.hr.Identity(), messaging.ComposeInput{To: []string{piet.Email}, Subject: "Afspraak", Body: "Hallo"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Reply(ctx, f.hr.Identity(), messaging.ReplyInput{ThreadID: th, Body: "Nog iets"}); err != nil {
			t.Fatal(err)
		}
		pid, release := dbtest.HoldRows(t, d, "SELECT id FROM users WHERE id = ? FOR NO KEY UPDATE", piet.ID)
		markErr, leaveErr := dbtest.InTurn(t, d, pid, release,
			func() error { _, err := f.svc.MarkRead(context.Background(), piet.Identity(), th); return err },
			func() error { return f.svc.RemoveTeamMember(context.Background(), team.ID, piet.Email) })
		if markErr != nil || leaveErr != nil {
			t.Fatalf("mark read: %v; leave: %v", markErr, leaveErr)
		}
		countersAgree(t, d, "marking read and leaving a team")
	})
}
