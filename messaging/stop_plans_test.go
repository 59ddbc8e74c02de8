package messaging_test

import (
	"context"
	"testing"

	"dialoog/db"
	"dialoog/db/dbtest"
	"dialoog/messaging/messagingtest"
)

// TestStopPlans checks with EXPLAIN, on both engines, that no statement of
// a stop reads a whole table: a stop costs what the person's rows cost,
// not what the installation holds (BenchmarkStopBesideALargeInstallation).
// Before, the person's box was read as the messages of which they have a
// read state, a scan of every message on SQLite, and their queued and
// delivered mail was looked up by address in the whole outbox. (The
// foreign keys' own lookups, which no EXPLAIN shows, are
// TestForeignKeysIndexed's.)
func TestStopPlans(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := setup(t, d)
		if _, err := messagingtest.Seed(ctx, d, f.v, messagingtest.Box{OrgID: f.org.ID, Owner: f.hr, Threads: 3000, Messages: 2, Others: 300}); err != nil {
			t.Fatal(err)
		}
		stmts := dbtest.CountStatements(d)
		// SQLite is asked without statistics only (see TableScans);
		// PostgreSQL plans with sequential scans off, with and without.
		dbtest.ForStatistics(t, d, func(t *testing.T, sfx string) {
			u := f.active(t, "stef"+sfx+"@example.nl", false, "Stef", "", "Stopper")
			if _, err := messagingtest.Seed(ctx, d, f.v, messagingtest.Box{OrgID: f.org.ID, Owner: u, Threads: 5, Messages: 2}); err != nil {
				t.Fatal(err)
			}
			var err error
			sqls := stmts.Run(func(ctx context.Context) { err = f.svc.StopService(ctx, u.Identity()) })
			if err != nil {
				t.Fatal(err)
			}
			if n := dbtest.TableScans(t, d, sqls); n < 10 {
				t.Fatalf("only %d statements recorded", n)
			}
		})
	})
}
