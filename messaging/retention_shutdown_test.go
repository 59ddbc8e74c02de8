package messaging_test

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"dialoog/db"
	"dialoog/db/dbtest"
	"dialoog/i18n"
	"dialoog/messaging"
)

// cancelOnQuery cancels a context at the first query that contains all
// of what.
type cancelOnQuery struct {
	what   []string
	cancel context.CancelFunc
	done   atomic.Bool
}

func (h *cancelOnQuery) BeforeQuery(ctx context.Context, ev *bun.QueryEvent) context.Context {
	for _, w := range h.what {
		if !strings.Contains(ev.Query, w) {
			return ctx
		}
	}
	if h.done.CompareAndSwap(false, true) {
		h.cancel()
	}
	return ctx
}

func (h *cancelOnQuery) AfterQuery(context.Context, *bun.QueryEvent) {}

// TestDailyRunInterruptedByShutdown: an instance that stops (SIGTERM, a
// rolling upgrade) while it runs a daily job gives the job back as it
// was, still due: the next look of any instance runs it, instead of the
// run counting as failed and waiting an hour, and Beheer showing a
// failed run.
func TestDailyRunInterruptedByShutdown(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := setup(t, d)
		f.makeAdmin(t)
		jan := f.active(t, "jan@example.nl", false, "Jan", "", "Jansen")
		f.clk.Set(time.Date(2025, 1, 10, 9, 0, 0, 0, time.UTC))
		for range 3 {
			f.composeWithFile(t, jan.Email, "Oud")
		}
		f.clk.Set(time.Date(2026, 2, 23, 9, 0, 0, 0, time.UTC))
		if err := f.svc.SetRetention(ctx, f.hr.Identity(), messaging.RetentionInput{Conversations: "6"}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.RunDaily(ctx); err != nil {
			t.Fatal(err)
		}
		f.clk.Set(time.Date(2026, 2, 24, 3, 0, 0, 0, i18n.Zone))

		// The instance is told to stop as the retention renews its lease
		// in its first batch.
		stopping, stop := context.WithCancel(ctx)
		defer stop()
		d.AddQueryHook(&cancelOnQuery{what: []string{"SET lease_until", "retention:"}, cancel: stop})
		f.svc.RunDaily(stopping)
		if stopping.Err() == nil {
			t.Fatal("the run was not interrupted")
		}
		if n := f.count(t, "threads", "1 = 1"); n != 3 {
			t.Fatalf("%d conversations after the interrupted batch, want 3 (rolled back)", n)
		}
		var runs []struct {
			Job        string
			NextRunAt  time.Time
			LeaseUntil bun.NullTime
			LastResult string
		}
		if err := d.NewSelect().Table("daily_runs").Column("job", "next_run_at", "lease_until", "last_result").
			Where("job LIKE 'retention:%'").Scan(ctx, &runs); err != nil {
			t.Fatal(err)
		}
		for _, r := range runs {
			if r.NextRunAt.After(f.clk.Now()) || !r.LeaseUntil.IsZero() || strings.Contains(r.LastResult, "failed") {
				t.Errorf("after the interruption %s is due at %v, leased until %v, last result %q; want due at once, no lease, no failure",
					r.Job, r.NextRunAt, r.LeaseUntil, r.LastResult)
			}
		}

		// Another instance, a minute later, finds the job due and runs it.
		f.clk.Set(time.Date(2026, 2, 24, 3, 1, 0, 0, i18n.Zone))
		if _, err := f.otherInstance().RunDaily(ctx); err != nil {
			t.Fatal(err)
		}
		if n := f.count(t, "threads", "1 = 1"); n != 0 {
			t.Fatalf("%d conversations left after the next look, want 0", n)
		}
		st, err := f.svc.Retention(ctx, f.hr.Identity())
		if err != nil {
			t.Fatal(err)
		}
		if st.Last.Failed || st.Last.Conversations != 3 {
			t.Fatalf("last result %+v, want 3 conversations and no failure", st.Last)
		}
		checkCounters(t, d, "the interrupted run")
	})
}
