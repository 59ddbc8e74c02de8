package db_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"dialoog/db"
)

// BenchmarkAuditOrgsMigration: migration 0048 gives every audit row about
// or by a person the organisations of those people (user_org_id,
// actor_org_id) and builds three indexes in the log's order. It runs on a
// SQLite database left at 0047 with an organisation of 1,000 people and
// 20,000 or 200,000 audit rows about them (a tenth also by an admin),
// beside a baseline that rewrites every row once without changing it
// (UPDATE ... SET ip = ip), the least a migration that fills a column of
// every row costs.
//
//	go test -run '^$' -bench AuditOrgsMigration -benchtime 3x ./db/
func BenchmarkAuditOrgsMigration(b *testing.B) {
	for _, rows := range []int{20000, 200000} {
		b.Run(fmt.Sprintf("rows=%d", rows), func(b *testing.B) {
			ctx := context.Background()
			seeded := filepath.Join(b.TempDir(), db.SQLiteFile)
			d, err := db.OpenSQLite(ctx, seeded)
			noErr(b, err)
			_, err = d.MigrateTo(ctx, "0047_blob_writes")
			noErr(b, err)
			start := time.Date(2026, 1, 1, 8, 0, 0, 0, time.UTC)
			_, err = d.ExecContext(ctx, "INSERT INTO organisations (name, created_at) VALUES ('OSAW', ?)", start)
			noErr(b, err)
			_, err = d.ExecContext(ctx, `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1000)
INSERT INTO users (email, kind, org_id, status, language, gender, first_name, last_name, created_at, updated_at)
SELECT 'p' || i || '@osaw.nl', CASE WHEN i <= 50 THEN 'internal' ELSE 'external' END, CASE WHEN i <= 50 THEN 1 END,
  'active', 'nl', 'unknown', 'P', 'Persoon' || i, ?, ? FROM n`, start, start)
			noErr(b, err)
			_, err = d.ExecContext(ctx, `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
INSERT INTO audit_events (user_id, actor_id, kind, detail, ip, created_at)
SELECT 1 + i % 1000, CASE WHEN i % 10 = 0 THEN 1 END, 'login.ok', '', '192.0.2.1', datetime(?, '+' || i || ' seconds') FROM n`,
				rows, start.Format("2006-01-02 15:04:05"))
			noErr(b, err)
			noErr(b, d.Checkpoint(ctx))
			noErr(b, d.Close())

			benchMigration(b, seeded, "rewrite-rows", func(d *db.DB) {
				_, err := d.ExecContext(ctx, "UPDATE audit_events SET ip = ip")
				noErr(b, err)
			}, "0048_audit_orgs", func(d *db.DB) {
				var n int
				noErr(b, d.NewRaw("SELECT count(*) FROM audit_events WHERE user_org_id = 1 OR actor_org_id = 1").Scan(ctx, &n))
				if want := rows / 20; n < want {
					b.Fatalf("%d rows of the organisation, want at least %d", n, want)
				}
			})
		})
	}
}
