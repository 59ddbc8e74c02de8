package messaging_test

import (
	"context"
	"testing"
	"time"

	"dialoog/auth"
	"dialoog/db"
	"dialoog/db/dbtest"
	"dialoog/messaging/messagingtest"
)

// TestPeriodicPlans checks with EXPLAIN, on both engines, that the jobs
// every instance runs every few minutes read no whole table that grows
// with people or messages, when they find little or nothing to do (as
// they do nearly every time), beside 3,000 conversations with 300 people:
// the look for daily summaries after they went out (every five minutes
// from 08:00), the look for due daily jobs (every five minutes), the purge
// of stale uploads (hourly), and the live connections' check of their
// sessions (every 30 seconds). The daily runs themselves (retention, the
// cleanup, the summaries' one sending) may read a table once a day.
// (daily_runs holds a row for the cleanup and one per organisation; the
// organisations and the terms versions are a few: those may be read
// whole, on SQLite by their aliases o, r and tv.)
func TestPeriodicPlans(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := setup(t, d)
		f.svc.Summary = mails{}
		seeded, err := messagingtest.Seed(ctx, d, f.v, messagingtest.Box{OrgID: f.org.ID, Owner: f.hr, Threads: 3000, Messages: 1, Others: 300, UnreadEvery: 3})
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range seeded.Others[:30] {
			f.setNotify(t, u, auth.NotifyDaily)
		}
		f.setNotify(t, f.hr, auth.NotifyDaily)
		// The day's summaries and daily jobs are done.
		f.clk.Set(local(24, 9, 0))
		if _, err := f.svc.SendDailySummaries(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.RunDaily(ctx); err != nil {
			t.Fatal(err)
		}
		stmts := dbtest.CountStatements(d)
		dbtest.ForStatistics(t, d, func(t *testing.T, _ string) {
			op := func(what string, fn func(ctx context.Context) error) {
				t.Helper()
				f.clk.Add(5 * time.Minute)
				stmts.ExplainOp(t, d, what, fn, "organisations", "o", "daily_runs", "r", "terms_versions", "tv")
			}
			op("summaries", func(ctx context.Context) error { _, err := f.svc.SendDailySummaries(ctx); return err })
			op("daily jobs", func(ctx context.Context) error { _, err := f.svc.RunDaily(ctx); return err })
			op("stale uploads", func(ctx context.Context) error { _, err := f.svc.PurgeStaleUploads(ctx); return err })
			op("live sessions", func(ctx context.Context) error {
				_, err := auth.LiveSessions(ctx, d, []int64{1, 2, 3, 4, 5}, f.clk.Now())
				return err
			})
		})
	})
}
