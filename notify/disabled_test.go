package notify

import (
	"context"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"dialoog/db"
	"dialoog/db/dbtest"
)

// TestNoMailToADisabledAccount: mail is never sent to the address of a
// disabled account, also when it was queued at the moment the account was
// disabled. On PostgreSQL a message's transaction that queued a mail before
// the admin's commit, and committed after it, left the row for the
// disabling's withdrawal to miss (it could not see the uncommitted row);
// the worker now checks the address again just before it sends. SQLite
// runs one writer at a time, so there the test leaves the row as that race
// left it (queued while active, the account disabled without the
// withdrawal).
func TestNoMailToADisabledAccount(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		v := testVault(t, 7)
		o := NewOutbox(v)
		now := time.Now()
		u := &db.User{Email: "piet@example.org", Kind: db.KindExternal, Status: db.StatusActive, Language: "nl", Gender: "unknown",
			CreatedAt: now, UpdatedAt: now}
		if _, err := d.NewInsert().Model(u).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		other := queueMail(t, d, o, Mail{To: "kees@example.org", Subject: "Nieuw bericht", Text: "Log in"})
		disable := func(ctx context.Context, tx bun.Tx) error {
			if _, err := tx.NewUpdate().Model((*db.User)(nil)).Set("status = ?", db.StatusDisabled).Where("id = ?", u.ID).Exec(ctx); err != nil {
				return err
			}
			return Withdraw(ctx, tx, []string{u.Email})
		}
		var id int64
		if d.Postgres() {
			tx, err := d.BeginTx(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			if id, err = o.QueueMail(ctx, tx, Mail{To: "Piet <Piet@Example.org>", Subject: "Nieuw bericht", Text: "Log in"}); err != nil || id == 0 {
				t.Fatalf("queue while active: %d, %v", id, err)
			}
			if err := d.Tx(ctx, disable); err != nil {
				t.Fatal(err)
			}
			if err := tx.Commit(); err != nil {
				t.Fatal(err)
			}
		} else {
			id = queueMail(t, d, o, Mail{To: "Piet <Piet@Example.org>", Subject: "Nieuw bericht", Text: "Log in"})
			if _, err := d.NewUpdate().Model((*db.User)(nil)).Set("status = ?", db.StatusDisabled).Where("id = ?", u.ID).Exec(ctx); err != nil {
				t.Fatal(err)
			}
		}

		w := NewWorker(d, v, nil, nil, testLogger(t), WorkerOptions{Now: newClock().Now})
		if n := runOnce(t, w); n != 1 {
			t.Fatalf("delivered %d, want 1 (only the other address)", n)
		}
		if got := row(t, d, other).Status; got != db.OutboxSent {
			t.Fatalf("the other mail is %s", got)
		}
		n, err := d.NewSelect().Model((*db.OutboxItem)(nil)).Where("id = ?", id).Count(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if n != 0 {
			t.Fatalf("the mail to the disabled account is still in the outbox (%s)", row(t, d, id).Status)
		}

		// Queued after the disabling: refused at once, as before.
		if id, err := o.QueueMail(ctx, d, Mail{To: "piet@example.org", Subject: "x", Text: "x"}); err != nil || id != 0 {
			t.Fatalf("queue to a disabled account: %d, %v", id, err)
		}
	})
}

// TestOldestQueuedFromWhenDue: a row queued with a delay (a new-message
// notice) counts as queued, but its age for the lane's "oldest queued"
// runs from when it is due, so that the delay alone never looks like a
// stuck lane; a row that was tried keeps its age from when it was queued.
func TestOldestQueuedFromWhenDue(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		v := testVault(t, 7)
		o := NewOutbox(v)
		queueMail(t, d, o, Mail{To: "piet@example.org", Subject: "Nieuw bericht", Text: "Log in", Delay: 2 * time.Minute})
		at := time.Now()
		w := NewWorker(d, v, nil, nil, testLogger(t), WorkerOptions{Now: func() time.Time { return at }})
		if st := laneStats(t, w, db.ChannelMail); st.Queued != 1 || st.OldestQueued != 0 {
			t.Fatalf("a row not due yet: %+v", st)
		}
		at = at.Add(3 * time.Minute)
		if st := laneStats(t, w, db.ChannelMail); st.Queued != 1 || st.OldestQueued < 55*time.Second || st.OldestQueued > 70*time.Second {
			t.Fatalf("a row due for a minute: %+v", st)
		}
	})
}
