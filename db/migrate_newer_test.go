package db_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"dialoog/db"
	"dialoog/db/dbtest"
)

// TestMigrateRefusesNewerSchema: a binary started against a database that
// a newer version has migrated (a rollback, or an old instance restarted
// during a rolling upgrade) does not know what the newer migrations
// changed, and writing with its older rules could corrupt the data (times
// in an older format, names unsealed, ...). It stops with a message that
// names the unknown migration and changes nothing, while an older rename
// (a version below the newest known one) is no reason to stop.
func TestMigrateRefusesNewerSchema(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		const future = "9999_from_a_newer_version"
		if _, err := d.ExecContext(ctx, "INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)", future, "2030-01-01T00:00:00Z"); err != nil {
			t.Fatal(err)
		}
		applied, err := d.Migrate(ctx)
		if !errors.Is(err, db.ErrNewerSchema) {
			t.Fatalf("migrate over a newer schema: applied %v, err %v; want ErrNewerSchema", applied, err)
		}
		if !strings.Contains(err.Error(), future) {
			t.Errorf("the error does not name the unknown migration: %v", err)
		}
		// A version renamed before a release (below the newest this binary
		// knows) is left alone.
		if _, err := d.ExecContext(ctx, "DELETE FROM schema_migrations WHERE version = ?", future); err != nil {
			t.Fatal(err)
		}
		if _, err := d.ExecContext(ctx, "INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)", "0001_renamed", "2030-01-01T00:00:00Z"); err != nil {
			t.Fatal(err)
		}
		if applied, err := d.Migrate(ctx); err != nil || len(applied) != 0 {
			t.Fatalf("migrate with an old renamed version: applied %v, err %v", applied, err)
		}
	})
}
