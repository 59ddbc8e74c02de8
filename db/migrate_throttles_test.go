package db_test

import (
	"context"
	"testing"
	"time"

	"dialoog/db"
	"dialoog/db/dbtest"
)

// TestThrottlesUnlogged: on PostgreSQL the throttle counters, written on
// every login and code attempt, are an unlogged table, so that counting an
// attempt does not wait for a WAL flush; migration 0034 keeps the counters
// that exist.
func TestThrottlesUnlogged(t *testing.T) {
	ctx := context.Background()
	d, err := db.OpenPostgres(ctx, dbtest.NewTestSchema(t))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if _, err := d.MigrateTo(ctx, "0033_evidence_language"); err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	if _, err := d.NewInsert().Model(&db.Throttle{Key: "login:ip:192.0.2.1", Count: 7, WindowStart: start}).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	var persistence string
	if err := d.NewRaw("SELECT relpersistence::text FROM pg_class WHERE oid = 'throttles'::regclass").Scan(ctx, &persistence); err != nil {
		t.Fatal(err)
	}
	if persistence != "u" {
		t.Fatalf("throttles has relpersistence %q, want unlogged (u)", persistence)
	}
	var th db.Throttle
	if err := d.NewSelect().Model(&th).Where("key = ?", "login:ip:192.0.2.1").Scan(ctx); err != nil || th.Count != 7 {
		t.Fatalf("counter after the migration: %+v, %v", th, err)
	}
}
