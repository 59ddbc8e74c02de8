package db_test

import (
	"context"
	"strings"
	"testing"

	"dialoog/db"
	"dialoog/db/dbtest"
)

// TestSearchPendingMigration: migration 0052 empties the pending lists
// that the trigram indexes of an installation hold (on PostgreSQL), so
// that its searches use the indexes from the start, and not only what
// is written after it.
func TestSearchPendingMigration(t *testing.T) {
	ctx := context.Background()
	d, err := db.OpenPostgres(ctx, dbtest.NewTestSchema(t))
	noErr(t, err)
	defer d.Close()
	_, err = d.MigrateTo(ctx, "0051_inbox_team_trigger")
	noErr(t, err)
	exec := func(q string) {
		t.Helper()
		_, err := d.ExecContext(ctx, q)
		noErr(t, err)
	}
	exec("INSERT INTO organisations (name, created_at) VALUES ('OSAW', now())")
	exec(`INSERT INTO threads (org_id, subject, created_at, last_message_at)
  SELECT (SELECT id FROM organisations), 'Verzuim gesprek ' || lpad(i::text, 6, '0'), now(), now() FROM generate_series(1, 20000) AS i`)
	plan := func() string {
		t.Helper()
		exec("ANALYZE threads")
		var lines []string
		rows, err := d.QueryContext(ctx, "EXPLAIN SELECT id FROM threads WHERE lower(subject) LIKE '%zqxj%'")
		noErr(t, err)
		defer rows.Close()
		for rows.Next() {
			var l string
			noErr(t, rows.Scan(&l))
			lines = append(lines, l)
		}
		noErr(t, rows.Err())
		return strings.Join(lines, "\n")
	}
	if p := plan(); !strings.Contains(p, "Seq Scan on threads") {
		t.Fatalf("before the migration the fixture should hold a pending list that the planner avoids:\n%s", p)
	}
	_, err = d.Migrate(ctx)
	noErr(t, err)
	if p := plan(); !strings.Contains(p, "threads_subject_trgm") {
		t.Fatalf("after the migration a search still does not use the subject's index:\n%s", p)
	}
	var subject string
	noErr(t, d.NewRaw("SELECT subject FROM threads WHERE lower(subject) LIKE '%gesprek 012345%'").Scan(ctx, &subject))
	if subject != "Verzuim gesprek 012345" {
		t.Fatalf("found %q", subject)
	}
}
