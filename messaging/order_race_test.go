package messaging_test

import (
	"context"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"dialoog/db"
	"dialoog/db/dbtest"
	"dialoog/messaging"
)

// backendPID is the PostgreSQL server process of tx's connection.
func backendPID(t *testing.T, ctx context.Context, tx bun.Tx) int {
	t.Helper()
	var pid int
	if err := tx.QueryRowContext(ctx, "SELECT pg_backend_pid()").Scan(&pid); err != nil {
		t.Error(err)
	}
	return pid
}

// waitBehind waits until n transactions wait, directly or through one
// another, for the locks of the PostgreSQL backend pid, or until done is
// closed (the other side did not wait at all). SQLite's writers take
// turns in the process, where a wait cannot be seen: there it gives the
// other side a moment to go ahead if it could.
func waitBehind(t *testing.T, d *db.DB, pid, n int, done <-chan struct{}) {
	t.Helper()
	if !d.Postgres() {
		select {
		case <-done:
		case <-time.After(300 * time.Millisecond):
		}
		return
	}
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-done:
			return
		default:
		}
		var waiting int
		if err := d.NewRaw(`WITH RECURSIVE w AS (
  SELECT a.pid FROM pg_stat_activity AS a WHERE ? = ANY(pg_blocking_pids(a.pid))
  UNION SELECT a.pid FROM pg_stat_activity AS a JOIN w ON w.pid = ANY(pg_blocking_pids(a.pid)))
SELECT COUNT(*) FROM w`, pid).Scan(context.Background(), &waiting); err != nil {
			t.Error(err)
			return
		}
		if waiting >= n {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Error("the other transactions neither waited nor ended")
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
		f := setup(t, d)
		jan := f.active(t, "jan@example.nl", false, "Jan", "", "Jansen")
		tid, err := f.svc.Compose(ctx, f.hr.Identity(), messaging.ComposeInput{To: []string{jan.Email}, Subject: "Verzuim", Body: "Hoe gaat het?"})
		if err != nil {
			t.Fatal(err)
		}
		caseID, err := f.svc.CreateCaseForThread(ctx, f.hr.Identity(), tid, jan.ID, "P-1")
		if err != nil {
			t.Fatal(err)
		}
		count := func(idb bun.IDB) int {
			n, err := idb.NewSelect().Model((*db.Message)(nil)).Where("thread_id = ?", tid).Count(ctx)
			if err != nil {
				t.Error(err)
			}
			return int(n)
		}
		// atClose is what the closing transaction sees of the conversation.
		var atClose int
		var pause func(ctx context.Context, tx bun.Tx)
		f.svc.CaseClosing = func(ctx context.Context, tx bun.Tx, _, _ int64) ([]messaging.Event, error) {
			atClose = count(tx)
			if pause != nil {
				pause(ctx, tx)
			}
			return nil, nil
		}
		for round := range 3 {
			// The reply has checked the case when the close begins.
			pause = nil
			closed := make(chan struct{})
			var closeErr error
			_, replyErr := f.svc.Reply(ctx, jan.Identity(), messaging.ReplyInput{ThreadID: tid, Body: "Het gaat beter",
				Within: func(ctx context.Context, tx bun.Tx, _ int64) ([]messaging.Event, error) {
					pid := 0
					if d.Postgres() {
						pid = backendPID(t, ctx, tx)
					}
					go func() {
						defer close(closed)
						closeErr = f.svc.SetCaseClosed(context.Background(), f.hr.Identity(), caseID, true)
					}()
					waitBehind(t, d, pid, 1, closed)
					return nil, nil
				}})
			<-closed
			if replyErr != nil || closeErr != nil {
				t.Fatalf("round %d, reply first: reply %v, close %v", round, replyErr, closeErr)
			}
			if n := count(d); n != atClose {
				t.Fatalf("round %d, reply first: the closed case has %d messages, %d when it was closed", round, n, atClose)
			}
			if err := f.svc.SetCaseClosed(ctx, f.hr.Identity(), caseID, false); err != nil {
				t.Fatal(err)
			}

			// The close has changed the case when the reply begins.
			replied := make(chan struct{})
			pause = func(ctx context.Context, tx bun.Tx) {
				pid := 0
				if d.Postgres() {
					pid = backendPID(t, ctx, tx)
				}
				go func() {
					defer close(replied)
					_, replyErr = f.svc.Reply(context.Background(), jan.Identity(), messaging.ReplyInput{ThreadID: tid, Body: "Nog iets"})
				}()
				waitBehind(t, d, pid, 1, replied)
			}
			if err := f.svc.SetCaseClosed(ctx, f.hr.Identity(), caseID, true); err != nil {
				t.Fatal(err)
			}
			<-replied
			if n := count(d); n != atClose {
				t.Fatalf("round %d, close first: the closed case has %d messages, %d when it was closed (reply: %v)", round, n, atClose, replyErr)
			}
			wantKey(t, replyErr, "case.closed_readonly")
			pause = nil
			if err := f.svc.SetCaseClosed(ctx, f.hr.Identity(), caseID, false); err != nil {
				t.Fatal(err)
			}
		}
	})
}
