package notify

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"dialoog/db"
	"dialoog/db/dbtest"
)

// TestPurgeDeliveredReadsWhatItDeletes: the daily cleanup's deletion of
// delivered and failed outbox rows reads the rows it deletes, not the
// outbox, which keeps a week of everything sent: what its statements read
// (dbtest.ReadVolume) on a day when nothing is old enough is compared
// between an outbox of 600 rows and one of 6,000, with statistics, and no
// statement reads the whole outbox (dbtest.TableScans). Before, both
// statements walked the outbox in id order (the failed rows have no index
// by time): at 500,000 rows they held SQLite's writer 180-300 ms and
// 75-140 ms every night.
func TestPurgeDeliveredReadsWhatItDeletes(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		now := time.Date(2026, 3, 2, 3, 0, 0, 0, time.UTC)
		n := 0
		seed := func(count int) {
			rows := make([]db.OutboxItem, count)
			for i := range rows {
				n++
				at := now.Add(-time.Duration(n%(6*24*60)) * time.Minute) // within the week kept
				rows[i] = db.OutboxItem{IdempotencyKey: fmt.Sprintf("row-%d", n), Channel: db.ChannelMail, Recipient: fmt.Sprintf("p%d@example.org", n),
					Status: db.OutboxSent, Attempts: 1, NextAttemptAt: at, Transport: "smtp", CreatedAt: at, SentAt: bun.NullTime{Time: at}}
				switch {
				case n%3 == 1:
					rows[i].Channel, rows[i].Recipient = db.ChannelSMS, fmt.Sprintf("+316%08d", n)
				case n%3 == 2:
					rows[i].Channel = db.ChannelPush
				}
				if n%30 == 0 && n <= 600 { // the failed rows are few, a month of them
					rows[i].Status, rows[i].SentAt = db.OutboxFailed, bun.NullTime{}
				}
			}
			for i := 0; i < len(rows); i += 1000 {
				part := rows[i:min(i+1000, len(rows))]
				if _, err := d.NewInsert().Model(&part).Exec(ctx); err != nil {
					t.Fatal(err)
				}
			}
			dbtest.Statistics(t, d)
		}
		stmts := dbtest.CountStatements(d)
		purge := func() []string {
			var deleted int
			var err error
			sqls := stmts.Run(func(ctx context.Context) {
				deleted, err = PurgeDelivered(ctx, d, now.Add(-DeliveredKept), now.Add(-FailedKept), 1000)
			})
			if err != nil {
				t.Fatal(err)
			}
			if deleted != 0 {
				t.Fatalf("deleted %d rows, none is old enough", deleted)
			}
			return sqls
		}
		read := func() int {
			total := 0
			for _, sql := range purge() {
				total += dbtest.ReadVolume(t, d, sql)
			}
			return total
		}
		seed(600)
		small := read()
		seed(5400)
		large := read()
		t.Logf("the cleanup read %d beside 600 outbox rows, %d beside 6,000", small, large)
		// Pages on SQLite, rows on PostgreSQL: the larger outbox may add
		// a few index pages, not a read of its rows.
		if large > 3*small+20 {
			t.Errorf("the cleanup read %d beside 6,000 outbox rows, %d beside 600: it reads the outbox", large, small)
		}
		dbtest.TableScans(t, d, purge())
	})
}
