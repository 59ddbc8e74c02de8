package db_test

import (
	"context"
	"path/filepath"
	"slices"
	"testing"

	"dialoog/db"
	"dialoog/db/dbtest"
)

// TestFailedMigrationLeavesNothing: the pending migrations are applied in
// one transaction on both engines, so one that fails halfway (here the
// last, on an object that is in its way) leaves the database as it was,
// the ones before it included, and the next start applies them all once
// the cause is gone.
func TestFailedMigrationLeavesNothing(t *testing.T) {
	ctx := context.Background()
	for _, engine := range []string{"sqlite", "postgres"} {
		t.Run(engine, func(t *testing.T) {
			var d *db.DB
			var err error
			if engine == "postgres" {
				d, err = db.OpenPostgres(ctx, dbtest.NewTestSchema(t))
			} else {
				d, err = db.OpenSQLite(ctx, filepath.Join(t.TempDir(), db.SQLiteFile))
			}
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			if _, err := d.MigrateTo(ctx, "0044_message_states_history"); err != nil {
				t.Fatal(err)
			}
			// An index of that name is in the way of migration 0046.
			if _, err := d.ExecContext(ctx, "CREATE INDEX message_states_history_idx ON message_states (message_id)"); err != nil {
				t.Fatal(err)
			}
			if applied, err := d.Migrate(ctx); err == nil {
				t.Fatalf("migrate applied %v over an object in its way", applied)
			}
			var versions []string
			if err := d.NewSelect().Table("schema_migrations").Column("version").Scan(ctx, &versions); err != nil {
				t.Fatal(err)
			}
			if slices.ContainsFunc(versions, func(v string) bool { return v > "0044_message_states_history" }) {
				t.Fatalf("a failed run recorded migrations: %v", versions)
			}
			// 0045's table came with the failed run and went with it.
			if _, err := d.ExecContext(ctx, "SELECT 1 FROM blob_deletions"); err == nil {
				t.Fatal("the table of migration 0045 stayed after the failed run")
			}

			if _, err := d.ExecContext(ctx, "DROP INDEX message_states_history_idx"); err != nil {
				t.Fatal(err)
			}
			applied, err := d.Migrate(ctx)
			if err != nil {
				t.Fatalf("migrate after the cause is gone: %v", err)
			}
			if len(applied) < 2 || applied[0] != "0045_blob_deletions" || applied[1] != "0046_message_states_history_idx" {
				t.Fatalf("applied %v, want 0045, 0046 and any later ones", applied)
			}
		})
	}
}
