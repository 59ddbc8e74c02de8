package messaging_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"dialoog/db"
	"dialoog/db/dbtest"
	"dialoog/messaging"
)

// closingCase is a conversation of Hanna's with Jan in a case, whose
// closing records what the closing transaction sees of the conversation
// (atClose, its messages) and then runs pause when set.
type closingCase struct {
	f           *fx
	jan         *db.User
	tid, caseID int64
	count       func(idb bun.IDB) int
	atClose     int
	pause       func(ctx context.Context, tx bun.Tx)
}

func newClosingCase(t *testing.T, d *db.DB) *closingCase {
	t.Helper()
	ctx := context.Background()
	c := &closingCase{f: setup(t, d)}
	c.jan = c.f.active(t, "jan@example.nl", false, "Jan", "", "Jansen")
	var err error
	if c.tid, err = c.f.svc.Compose(ctx, c.f.hr.Identity(), messaging.ComposeInput{To: []string{c.jan.Email}, Subject: "Verzuim", Body: "Hoe gaat het?"}); err != nil {
		t.Fatal(err)
	}
	if c.caseID, err = c.f.svc.CreateCaseForThread(ctx, c.f.hr.Identity(), c.tid, c.jan.ID, "P-1"); err != nil {
		t.Fatal(err)
	}
	c.count = func(idb bun.IDB) int {
		n, err := idb.NewSelect().Model((*db.Message)(nil)).Where("thread_id = ?", c.tid).Count(ctx)
		if err != nil {
			t.Error(err)
		}
		return int(n)
	}
	c.f.svc.CaseClosing = func(ctx context.Context, tx bun.Tx, _, _ int64) ([]messaging.Event, error) {
		c.atClose = c.count(tx)
		if c.pause != nil {
			c.pause(ctx, tx)
		}
		return nil, nil
	}
	return c
}

// TestReplyWhileTheCaseCloses, on both engines: "Dossier sluiten" and a
// reply in one of the case's conversations at the same moment, in both
// orders of their transactions: the reply is either part of the case as
// it was closed (the closing transaction sees it) or refused as a change
// in a closed case. Before, on PostgreSQL, the reply checked that the case
// was open without holding its row: a close that committed between that
// check and the reply's commit left the reply stored in the closed case,
// after the close (and its ending of open requests) had run.
func TestReplyWhileTheCaseCloses(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		c := newClosingCase(t, d)
		f, jan, tid, caseID, count := c.f, c.jan, c.tid, c.caseID, c.count
		for round := range 3 {
			// The reply has checked the case when the close begins.
			c.pause = nil
			closed := make(chan struct{})
			var closeErr error
			_, replyErr := f.svc.Reply(ctx, jan.Identity(), messaging.ReplyInput{ThreadID: tid, Body: "Het gaat beter",
				Within: func(ctx context.Context, tx bun.Tx, _ int64) ([]messaging.Event, error) {
					pid := 0
					if d.Postgres() {
						pid = dbtest.BackendPID(t, ctx, tx)
					}
					go func() {
						defer close(closed)
						closeErr = f.svc.SetCaseClosed(context.Background(), f.hr.Identity(), caseID, true)
					}()
					dbtest.WaitBehind(t, d, pid, 1, closed)
					return nil, nil
				}})
			<-closed
			if replyErr != nil || closeErr != nil {
				t.Fatalf("round %d, reply first: reply %v, close %v", round, replyErr, closeErr)
			}
			if n := count(d); n != c.atClose {
				t.Fatalf("round %d, reply first: the closed case has %d messages, %d when it was closed", round, n, c.atClose)
			}
			if err := f.svc.SetCaseClosed(ctx, f.hr.Identity(), caseID, false); err != nil {
				t.Fatal(err)
			}

			// The close has changed the case when the reply begins.
			replied := make(chan struct{})
			c.pause = func(ctx context.Context, tx bun.Tx) {
				pid := 0
				if d.Postgres() {
					pid = dbtest.BackendPID(t, ctx, tx)
				}
				go func() {
					defer close(replied)
					_, replyErr = f.svc.Reply(context.Background(), jan.Identity(), messaging.ReplyInput{ThreadID: tid, Body: "Nog iets"})
				}()
				dbtest.WaitBehind(t, d, pid, 1, replied)
			}
			if err := f.svc.SetCaseClosed(ctx, f.hr.Identity(), caseID, true); err != nil {
				t.Fatal(err)
			}
			<-replied
			if n := count(d); n != c.atClose {
				t.Fatalf("round %d, close first: the closed case has %d messages, %d when it was closed (reply: %v)", round, n, c.atClose, replyErr)
			}
			wantKey(t, replyErr, "case.closed_readonly")
			c.pause = nil
			if err := f.svc.SetCaseClosed(ctx, f.hr.Identity(), caseID, false); err != nil {
				t.Fatal(err)
			}
		}
	})
}

// TestDeleteTheLastTwoMessagesAtOnce, on both engines: the last two
// messages of a conversation deleted at the same moment (two tabs) end as
// if one was deleted after the other: for everyone by their sender, the
// conversation is gone; from the recipient's box while the sender keeps
// them, it leaves that box with its counts at zero; from the box of the
// last one who has them, the conversation is gone. Before, on PostgreSQL,
// each deletion still saw the other's message: an empty conversation
// stayed behind, in the boxes with counts of messages that were gone, or
// the recipient's unread total went wrong. On PostgreSQL both deletions
// are held (a row lock on the users, which every deletion updates) until
// both have done what they do before that, so the two truly overlap.
func TestDeleteTheLastTwoMessagesAtOnce(t *testing.T) {
	type deletion func(f *fx, jan *db.User, m int64) error
	forEveryone := func(f *fx, _ *db.User, m int64) error {
		return f.svc.DeleteForEveryone(context.Background(), f.hr.Identity(), m)
	}
	fromJansBox := func(f *fx, jan *db.User, m int64) error {
		return f.svc.RemoveFromBox(context.Background(), jan.Identity(), m)
	}
	cases := []struct {
		name string
		// hrRemoves: the sender removed both from their own box first.
		hrRemoves bool
		del       deletion
		// gone: the conversation is deleted; else it left Jan's box.
		gone bool
	}{
		{"for everyone", false, forEveryone, true},
		{"from the recipient's box", false, fromJansBox, false},
		{"from the last box", true, fromJansBox, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
				ctx := context.Background()
				f := setup(t, d)
				jan := f.active(t, "jan@example.nl", false, "Jan", "", "Jansen")
				for round := range 3 {
					tid, err := f.svc.Compose(ctx, f.hr.Identity(), messaging.ComposeInput{To: []string{jan.Email}, Subject: "Overleg", Body: "Eerste"})
					if err != nil {
						t.Fatal(err)
					}
					f.clk.Add(time.Minute)
					second, err := f.svc.Reply(ctx, f.hr.Identity(), messaging.ReplyInput{ThreadID: tid, Body: "Tweede"})
					if err != nil {
						t.Fatal(err)
					}
					f.clk.Add(time.Minute)
					var ids []int64
					if err := d.NewSelect().Model((*db.Message)(nil)).Column("id").Where("thread_id = ?", tid).Order("id").Scan(ctx, &ids); err != nil || len(ids) != 2 || ids[1] != second {
						t.Fatalf("messages %v (%v)", ids, err)
					}
					if c.hrRemoves {
						if err := f.svc.RemoveThreadFromBox(ctx, f.hr.Identity(), tid); err != nil {
							t.Fatal(err)
						}
					}
					var hold bun.Tx
					pid := 0
					if d.Postgres() {
						if hold, err = d.BeginTx(ctx, nil); err != nil {
							t.Fatal(err)
						}
						pid = dbtest.BackendPID(t, ctx, hold)
						var locked []int64
						if err := hold.NewSelect().Model((*db.User)(nil)).Column("id").Where("id IN (?)", bun.In([]int64{f.hr.ID, jan.ID})).
							For("NO KEY UPDATE").Scan(ctx, &locked); err != nil {
							t.Fatal(err)
						}
					}
					errs := make([]error, 2)
					var wg sync.WaitGroup
					done := make(chan struct{})
					for i, m := range ids {
						wg.Add(1)
						go func() {
							defer wg.Done()
							errs[i] = c.del(f, jan, m)
						}()
					}
					go func() { wg.Wait(); close(done) }()
					if d.Postgres() {
						dbtest.WaitBehind(t, d, pid, 2, done)
						if err := hold.Rollback(); err != nil {
							t.Fatal(err)
						}
					}
					<-done
					for i, err := range errs {
						if err != nil {
							t.Fatalf("round %d: deletion %d: %v", round, i, err)
						}
					}
					empty, err := d.NewSelect().TableExpr("threads AS t").
						Where("NOT EXISTS (SELECT 1 FROM messages AS m WHERE m.thread_id = t.id)").Count(ctx)
					if err != nil || empty != 0 {
						t.Fatalf("round %d: %d conversations without messages (%v)", round, empty, err)
					}
					exists, err := d.NewSelect().Model((*db.Thread)(nil)).Where("id = ?", tid).Exists(ctx)
					if err != nil || exists == c.gone {
						t.Fatalf("round %d: conversation still there: %v, want %v (%v)", round, exists, !c.gone, err)
					}
					if !c.gone {
						var p db.Participant
						if err := d.NewSelect().Model(&p).Where("thread_id = ? AND user_id = ?", tid, jan.ID).Scan(ctx); err != nil {
							t.Fatal(err)
						}
						if p.BoxCount != 0 || p.UnreadCount != 0 {
							t.Fatalf("round %d: Jan's emptied box of the conversation counts %d messages, %d unread", round, p.BoxCount, p.UnreadCount)
						}
						// The sender keeps them, as they were.
						if err := d.NewSelect().Model(&p).Where("thread_id = ? AND user_id = ?", tid, f.hr.ID).Scan(ctx); err != nil || p.BoxCount != 2 {
							t.Fatalf("round %d: the sender's box counts %d messages (%v)", round, p.BoxCount, err)
						}
					}
					for _, u := range []*db.User{f.hr, jan} {
						var total int
						if err := d.NewSelect().Model((*db.User)(nil)).Column("unread_total").Where("id = ?", u.ID).Scan(ctx, &total); err != nil || total != 0 {
							t.Fatalf("round %d: %s has %d unread (%v)", round, u.Email, total, err)
						}
					}
					countersAgree(t, d, "the deletions")
				}
			})
		})
	}
}

// holdUsers takes row locks of mode (as in FOR NO KEY UPDATE) on the users'
// rows in a transaction of the test, on PostgreSQL, so that a change that
// updates (or, for FOR UPDATE, refers to) one of them waits there, after
// the checks it does before. It returns the transaction's backend pid and
// the function that releases the locks; on SQLite, 0 and a no-op.
func holdUsers(t *testing.T, d *db.DB, mode string, ids ...int64) (int, func()) {
	t.Helper()
	return dbtest.HoldRows(t, d, "SELECT id FROM users WHERE id IN (?) FOR "+mode, bun.In(ids))
}

// TestDeleteForEveryoneWhileTheCaseCloses, on both engines: "Verwijderen
// voor iedereen" and "Dossier sluiten" at the same moment, in both orders
// of their transactions: the message is either gone from the case as it
// was closed (the closing transaction does not see it) or stays, refused
// as a change in a closed case. Before, on PostgreSQL, the deletion
// checked that the case was open without holding its row: a close that
// committed between that check and the deletion's commit saw a message
// that was deleted after the close, from the closed case.
func TestDeleteForEveryoneWhileTheCaseCloses(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		c := newClosingCase(t, d)
		f, jan, tid, caseID, count := c.f, c.jan, c.tid, c.caseID, c.count
		reopen := func() {
			t.Helper()
			c.pause = nil
			if err := f.svc.SetCaseClosed(ctx, f.hr.Identity(), caseID, false); err != nil {
				t.Fatal(err)
			}
		}
		for round := range 3 {
			// The deletion has checked the case when the close (by a
			// colleague) begins: it is held where it recounts the users'
			// unread totals.
			m, err := f.svc.Reply(ctx, f.hr.Identity(), messaging.ReplyInput{ThreadID: tid, Body: "Per abuis"})
			if err != nil {
				t.Fatal(err)
			}
			pid, release := holdUsers(t, d, "NO KEY UPDATE", f.hr.ID, jan.ID)
			deleted, closed := make(chan struct{}), make(chan struct{})
			var deleteErr, closeErr error
			go func() {
				defer close(deleted)
				deleteErr = f.svc.DeleteForEveryone(context.Background(), f.hr.Identity(), m)
			}()
			dbtest.WaitBehind(t, d, pid, 1, deleted)
			go func() {
				defer close(closed)
				closeErr = f.svc.SetCaseClosed(context.Background(), f.boss.Identity(), caseID, true)
			}()
			dbtest.WaitBehind(t, d, pid, 2, closed)
			release()
			<-deleted
			<-closed
			if deleteErr != nil || closeErr != nil {
				t.Fatalf("round %d, deletion first: deletion %v, close %v", round, deleteErr, closeErr)
			}
			if n := count(d); n != c.atClose {
				t.Fatalf("round %d, deletion first: the closed case has %d messages, %d when it was closed", round, n, c.atClose)
			}
			reopen()

			// The close has changed the case when the deletion begins.
			if m, err = f.svc.Reply(ctx, f.hr.Identity(), messaging.ReplyInput{ThreadID: tid, Body: "Per abuis"}); err != nil {
				t.Fatal(err)
			}
			c.pause = func(ctx context.Context, tx bun.Tx) {
				pid := 0
				if d.Postgres() {
					pid = dbtest.BackendPID(t, ctx, tx)
				}
				go func() {
					defer close(deleted)
					deleteErr = f.svc.DeleteForEveryone(context.Background(), f.hr.Identity(), m)
				}()
				dbtest.WaitBehind(t, d, pid, 1, deleted)
			}
			deleted = make(chan struct{})
			if err := f.svc.SetCaseClosed(ctx, f.boss.Identity(), caseID, true); err != nil {
				t.Fatal(err)
			}
			<-deleted
			if n := count(d); n != c.atClose {
				t.Fatalf("round %d, close first: the closed case has %d messages, %d when it was closed (deletion: %v)", round, n, c.atClose, deleteErr)
			}
			wantKey(t, deleteErr, "case.closed_readonly")
			reopen()
			// The message refused stays; the next round sends another.
		}
	})
}

// TestMoveWhileTheCaseCloses, on both engines: "Aan dossier toevoegen" or
// "Uit dossier halen" and "Dossier sluiten" of the case the conversation
// goes into or leaves, at the same moment, in both orders of their
// transactions: the closing transaction sees the case's conversations as
// they are after it (it ends the open signing requests of those, see
// signing's CloseCase), or the move is refused as a change of a closed
// case. Before, on PostgreSQL, the move checked the cases' status
// without holding their rows: a conversation moved into a case that
// closed at that moment was in the closed case with its requests still
// open, and one taken out had its requests ended by a case it was no
// longer in.
func TestMoveWhileTheCaseCloses(t *testing.T) {
	type move struct {
		name string
		// inA: the conversation starts in case A, else in none.
		inA bool
		// intoB: the move puts it in case B, else takes it out of its case.
		intoB bool
		// closeB: the close is of case B, else of A.
		closeB bool
		// refused: the move's refusal when the close came first.
		refused string
	}
	moves := []move{
		{"into the closing case", false, true, true, "case.closed"},
		{"out of the closing case", true, false, false, "case.closed_readonly"},
		{"from the closing case into another", true, true, false, "case.closed_readonly"},
	}
	for _, mv := range moves {
		t.Run(mv.name, func(t *testing.T) {
			dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
				ctx := context.Background()
				f := setup(t, d)
				jan := f.active(t, "jan@example.nl", false, "Jan", "", "Jansen")
				compose := func(subject string) int64 {
					tid, err := f.svc.Compose(ctx, f.hr.Identity(), messaging.ComposeInput{To: []string{jan.Email}, Subject: subject, Body: "Hoe gaat het?"})
					if err != nil {
						t.Fatal(err)
					}
					return tid
				}
				tid := compose("Verzuim")
				caseA, err := f.svc.CreateCaseForThread(ctx, f.hr.Identity(), compose("Eerder verzuim"), jan.ID, "P-1")
				if err != nil {
					t.Fatal(err)
				}
				caseB, err := f.svc.CreateCaseForThread(ctx, f.hr.Identity(), compose("Re-integratie"), jan.ID, "P-2")
				if err != nil {
					t.Fatal(err)
				}
				closing := caseA
				if mv.closeB {
					closing = caseB
				}
				inCase := func(idb bun.IDB) []int64 {
					var ids []int64
					if err := idb.NewSelect().Model((*db.Thread)(nil)).Column("id").Where("case_id = ?", closing).Order("id").Scan(ctx, &ids); err != nil {
						t.Error(err)
					}
					return ids
				}
				// atClose: the conversations the closing transaction ends
				// the requests of.
				var atClose []int64
				var pause func(ctx context.Context, tx bun.Tx)
				f.svc.CaseClosing = func(ctx context.Context, tx bun.Tx, _, _ int64) ([]messaging.Event, error) {
					atClose = inCase(tx)
					if pause != nil {
						pause(ctx, tx)
					}
					return nil, nil
				}
				doMove := func() error {
					if mv.intoB {
						return f.svc.AddThreadToCase(context.Background(), f.hr.Identity(), tid, caseB)
					}
					return f.svc.RemoveThreadFromCase(context.Background(), f.hr.Identity(), tid)
				}
				closeCase := func() error {
					return f.svc.SetCaseClosed(context.Background(), f.boss.Identity(), closing, true)
				}
				reset := func() {
					t.Helper()
					pause = nil
					if err := f.svc.SetCaseClosed(ctx, f.boss.Identity(), closing, false); err != nil {
						t.Fatal(err)
					}
					var start *int64
					if mv.inA {
						start = &caseA
					}
					if _, err := d.NewUpdate().Model((*db.Thread)(nil)).Set("case_id = ?", start).Where("id = ?", tid).Exec(ctx); err != nil {
						t.Fatal(err)
					}
				}
				for round := range 3 {
					reset()
					// The move has checked the cases when the close (by a
					// colleague) begins: it is held where it writes its
					// audit row, which refers to the mover.
					pid, release := holdUsers(t, d, "UPDATE", f.hr.ID)
					moved, closed := make(chan struct{}), make(chan struct{})
					var moveErr, closeErr error
					go func() {
						defer close(moved)
						moveErr = doMove()
					}()
					dbtest.WaitBehind(t, d, pid, 1, moved)
					go func() {
						defer close(closed)
						closeErr = closeCase()
					}()
					dbtest.WaitBehind(t, d, pid, 2, closed)
					release()
					<-moved
					<-closed
					if moveErr != nil || closeErr != nil {
						t.Fatalf("round %d, move first: move %v, close %v", round, moveErr, closeErr)
					}
					if now := inCase(d); !slices.Equal(now, atClose) {
						t.Fatalf("round %d, move first: the closed case has conversations %v, %v when it was closed", round, now, atClose)
					}

					reset()
					// The close has changed the case when the move begins.
					moved = make(chan struct{})
					pause = func(ctx context.Context, tx bun.Tx) {
						pid := 0
						if d.Postgres() {
							pid = dbtest.BackendPID(t, ctx, tx)
						}
						go func() {
							defer close(moved)
							moveErr = doMove()
						}()
						dbtest.WaitBehind(t, d, pid, 1, moved)
					}
					if err := closeCase(); err != nil {
						t.Fatal(err)
					}
					<-moved
					if now := inCase(d); !slices.Equal(now, atClose) {
						t.Fatalf("round %d, close first: the closed case has conversations %v, %v when it was closed (move: %v)", round, now, atClose, moveErr)
					}
					wantKey(t, moveErr, mv.refused)
				}
			})
		})
	}
}

// nobodysMessages fails the test on a message in nobody's box (kept
// though nobody has it, and no request refers to it) and on a
// conversation without messages.
func nobodysMessages(t *testing.T, d *db.DB, step string) {
	t.Helper()
	ctx := context.Background()
	orphans, err := d.NewSelect().TableExpr("messages AS m").
		Where("NOT EXISTS (SELECT 1 FROM message_states AS ms WHERE ms.message_id = m.id AND ms.removed_at IS NULL)").
		Where("NOT EXISTS (SELECT 1 FROM signing_requests AS sr WHERE sr.message_id = m.id)").Count(ctx)
	if err != nil {
		t.Fatal(err)
	}
	empty, err := d.NewSelect().TableExpr("threads AS t").
		Where("NOT EXISTS (SELECT 1 FROM messages AS m WHERE m.thread_id = t.id)").Count(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if orphans != 0 || empty != 0 {
		t.Fatalf("after %s: %d messages in nobody's box, %d conversations without messages", step, orphans, empty)
	}
}

// TestStopWhileTheLastBoxEmpties, on both engines: "Stoppen met Dialoog"
// and the other participant removing the conversation's messages from
// their box at the same moment end as one after the other: the messages,
// in nobody's box, are deleted with the conversation. Before, on
// PostgreSQL, each still saw the other's box as it was and kept the
// messages for it: they stayed, in nobody's box, as did the conversation.
// Both are held (a row lock on the users: the removal moves the
// colleague's unread total, the stop deletes the person) until both have
// done what they do before that.
func TestStopWhileTheLastBoxEmpties(t *testing.T) {
	cases := []struct {
		name string
		// replies: messages after the first.
		replies int
		// remove: the other participant's removal.
		remove func(f *fx, tid, last int64) error
	}{
		{"the last message", 0, func(f *fx, _, last int64) error {
			return f.svc.RemoveFromBox(context.Background(), f.hr.Identity(), last)
		}},
		{"the conversation", 2, func(f *fx, tid, _ int64) error {
			return f.svc.RemoveThreadFromBox(context.Background(), f.hr.Identity(), tid)
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
				ctx := context.Background()
				f := setup(t, d)
				for round := range 3 {
					jan := f.active(t, fmt.Sprintf("jan%d@example.nl", round), false, "Jan", "", "Jansen")
					tid, err := f.svc.Compose(ctx, f.hr.Identity(), messaging.ComposeInput{To: []string{jan.Email}, Subject: "Overleg", Body: "Eerste"})
					if err != nil {
						t.Fatal(err)
					}
					var last int64
					if err := d.NewSelect().Model((*db.Message)(nil)).Column("id").Where("thread_id = ?", tid).Scan(ctx, &last); err != nil {
						t.Fatal(err)
					}
					for range c.replies {
						f.clk.Add(time.Minute)
						if last, err = f.svc.Reply(ctx, f.hr.Identity(), messaging.ReplyInput{ThreadID: tid, Body: "Nog iets"}); err != nil {
							t.Fatal(err)
						}
					}
					// The conversation unread for the colleague too, so that
					// the removal moves their unread total and waits for
					// their row, as the stop waits for the person's (the
					// deletion of the account).
					f.unread(t, tid, f.hr)
					pid, release := holdUsers(t, d, "NO KEY UPDATE", f.hr.ID, jan.ID)
					errs := make([]error, 2)
					var wg sync.WaitGroup
					wg.Add(2)
					go func() {
						defer wg.Done()
						errs[0] = f.svc.StopService(context.Background(), jan.Identity())
					}()
					go func() {
						defer wg.Done()
						errs[1] = c.remove(f, tid, last)
					}()
					done := make(chan struct{})
					go func() { wg.Wait(); close(done) }()
					dbtest.WaitBehind(t, d, pid, 2, done)
					release()
					<-done
					if errs[0] != nil || errs[1] != nil {
						t.Fatalf("round %d: stop %v, removal %v", round, errs[0], errs[1])
					}
					if exists, err := d.NewSelect().Model((*db.Thread)(nil)).Where("id = ?", tid).Exists(ctx); err != nil || exists {
						t.Fatalf("round %d: the conversation in nobody's box is still there: %v (%v)", round, exists, err)
					}
					nobodysMessages(t, d, "the stop and the removal")
					countersAgree(t, d, "the stop and the removal")
				}
			})
		})
	}
}

// TestStopWithReplyAndDeletion, on both engines: "Stoppen met Dialoog"
// while a colleague replies in one of the person's conversations and
// removes a message from another: the three take turns on the
// conversations' rows (the stop locks the person's conversations first,
// in the order of their ids) and none deadlocks; every count is right
// afterwards. All three are held (a row lock on the users, whose totals
// the removal and the reply move and whose account the stop deletes)
// until each has come as far as it can. Before, on PostgreSQL, the reply failed as
// not found: it had counted the person among its recipients and then met
// their account deleted.
func TestStopWithReplyAndDeletion(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := setup(t, d)
		for round := range 4 {
			jan := f.active(t, fmt.Sprintf("jan%d@example.nl", round), false, "Jan", "", "Jansen")
			var tids [2]int64
			for i := range tids {
				tid, err := f.svc.Compose(ctx, f.hr.Identity(), messaging.ComposeInput{To: []string{jan.Email, f.boss.Email}, Subject: "Overleg", Body: "Eerste"})
				if err != nil {
					t.Fatal(err)
				}
				tids[i] = tid
			}
			f.clk.Add(time.Minute)
			second, err := f.svc.Reply(ctx, f.boss.Identity(), messaging.ReplyInput{ThreadID: tids[0], Body: "Tweede"})
			if err != nil {
				t.Fatal(err)
			}
			// In turn the reply and the removal are in the first (lower
			// id) conversation.
			replyIn, removeIn := tids[1], tids[0]
			if round%2 == 1 {
				replyIn = tids[0]
				if second, err = f.svc.Reply(ctx, f.boss.Identity(), messaging.ReplyInput{ThreadID: tids[1], Body: "Tweede"}); err != nil {
					t.Fatal(err)
				}
				removeIn = tids[1]
			}
			// The conversation unread for the remover, so that the
			// removal moves their unread total and waits for their row.
			f.unread(t, removeIn, f.boss)
			pid, release := holdUsers(t, d, "NO KEY UPDATE", f.hr.ID, f.boss.ID, jan.ID)
			errs := make([]error, 3)
			var wg sync.WaitGroup
			wg.Add(3)
			go func() {
				defer wg.Done()
				errs[0] = f.svc.StopService(context.Background(), jan.Identity())
			}()
			go func() {
				defer wg.Done()
				_, errs[1] = f.svc.Reply(context.Background(), f.hr.Identity(), messaging.ReplyInput{ThreadID: replyIn, Body: "Antwoord"})
			}()
			go func() {
				defer wg.Done()
				errs[2] = f.svc.RemoveFromBox(context.Background(), f.boss.Identity(), second)
			}()
			done := make(chan struct{})
			go func() { wg.Wait(); close(done) }()
			dbtest.WaitBehind(t, d, pid, 3, done)
			release()
			<-done
			for i, what := range []string{"stop", "reply", "removal"} {
				if errs[i] != nil {
					t.Fatalf("round %d (reply in %d, removal in %d): %s: %v", round, replyIn, removeIn, what, errs[i])
				}
			}
			nobodysMessages(t, d, "the stop, the reply and the removal")
			countersAgree(t, d, "the stop, the reply and the removal")
		}
	})
}
