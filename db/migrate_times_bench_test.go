package db_test

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"dialoog/db"
	"dialoog/messaging/messagingtest"
	"dialoog/vault"
)

// BenchmarkTimeFormatMigration: migration 0039 reads every time column of
// every table once (89 columns), so its cost at start-up grows with the
// data. It runs on a database of box conversations (two messages each,
// with their read states and participants) left at migration 0038, beside
// a baseline that reads the same 89 columns once (count(column) per
// column), the least any rewrite of them costs.
func BenchmarkTimeFormatMigration(b *testing.B) {
	for _, box := range []int{5000, 50000} {
		b.Run(fmt.Sprintf("box=%d", box), func(b *testing.B) {
			ctx := context.Background()
			seeded := filepath.Join(b.TempDir(), db.SQLiteFile)
			d, err := db.OpenSQLite(ctx, seeded)
			noErr(b, err)
			_, err = d.MigrateTo(ctx, "0038_threads_assignee_idx")
			noErr(b, err)
			now := time.Date(2026, 1, 1, 8, 0, 0, 0, time.UTC)
			_, err = d.ExecContext(ctx, "INSERT INTO organisations (name, created_at) VALUES ('OSAW', ?)", now)
			noErr(b, err)
			owner := &db.User{Email: "hr@osaw.nl", Kind: db.KindInternal, Status: db.StatusActive, Language: "nl",
				Gender: "unknown", FirstName: "Hanna", LastName: "Vries", CreatedAt: now, UpdatedAt: now}
			var orgID int64
			noErr(b, d.NewRaw("SELECT id FROM organisations").Scan(ctx, &orgID))
			owner.OrgID = &orgID
			_, err = d.NewInsert().Model(owner).Exec(ctx)
			noErr(b, err)
			v, err := vault.New(make([]byte, 32))
			noErr(b, err)
			_, err = messagingtest.Seed(ctx, d, v, messagingtest.Box{OrgID: orgID, Owner: owner, Threads: box, Messages: 2, Others: box / 10, UnreadEvery: 9})
			noErr(b, err)
			noErr(b, d.Checkpoint(ctx))
			noErr(b, d.Close())

			scans := timeColumnScans(b)
			benchMigration(b, seeded, "read-columns", func(d *db.DB) {
				for _, q := range scans {
					var n int64
					noErr(b, d.DB.DB.QueryRowContext(ctx, q).Scan(&n))
				}
			}, "0039_time_format", nil)
		})
	}
}

// timeColumnScans reads each column that migration 0039 rewrites once.
func timeColumnScans(b *testing.B) []string {
	sql, err := os.ReadFile(filepath.Join("migrations", "0039_time_format.sqlite.sql"))
	noErr(b, err)
	var out []string
	for _, line := range strings.Split(string(sql), "\n") {
		if !strings.HasPrefix(line, "UPDATE ") {
			continue
		}
		f := strings.Fields(line) // UPDATE table SET column = ...
		out = append(out, fmt.Sprintf("SELECT count(%s) FROM %s", f[3], f[1]))
	}
	if len(out) != 89 {
		b.Fatalf("%d time columns in migration 0039, want 89", len(out))
	}
	return out
}

// openCopy opens a copy of the SQLite file at path, with the timer
// stopped.
func openCopy(b *testing.B, path string) *db.DB {
	b.StopTimer()
	dst := filepath.Join(b.TempDir(), db.SQLiteFile)
	src, err := os.Open(path)
	noErr(b, err)
	defer src.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY, 0o600)
	noErr(b, err)
	_, err = io.Copy(out, src)
	noErr(b, err)
	noErr(b, out.Close())
	d, err := db.OpenSQLite(context.Background(), dst)
	noErr(b, err)
	return d
}

// benchMigration runs, on copies of the SQLite file at seeded, the
// baseline (sub-benchmark name) and then migrating to migration (which
// must be the one migration it applies) followed by check, and reports
// the migration's time over the baseline's ("x-baseline"). Only baseline
// and the migration are timed.
func benchMigration(b *testing.B, seeded, name string, baseline func(d *db.DB), migration string, check func(d *db.DB)) {
	ctx := context.Background()
	var base float64
	b.Run(name, func(b *testing.B) {
		for range b.N {
			d := openCopy(b, seeded)
			b.StartTimer()
			baseline(d)
			b.StopTimer()
			d.Close()
		}
		base = float64(b.Elapsed().Nanoseconds()) / float64(b.N)
	})
	b.Run("migration-"+migration[:4], func(b *testing.B) {
		for range b.N {
			d := openCopy(b, seeded)
			b.StartTimer()
			applied, err := d.MigrateTo(ctx, migration)
			b.StopTimer()
			noErr(b, err)
			if len(applied) != 1 {
				b.Fatalf("applied %v, want %s alone", applied, migration)
			}
			if check != nil {
				check(d)
			}
			d.Close()
		}
		if base > 0 {
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/base, "x-baseline")
		}
	})
}
