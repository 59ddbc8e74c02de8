package db_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"dialoog/db"
	"dialoog/db/dbtest"
)

// TestNotifyMigrationKeepsMailPerMessage: people who existed before the
// notification setting keep today's behaviour, a mail per new message,
// and have had no daily summary.
func TestNotifyMigrationKeepsMailPerMessage(t *testing.T) {
	ctx := context.Background()
	open := map[string]func(t *testing.T) *db.DB{
		"sqlite": func(t *testing.T) *db.DB {
			d, err := db.OpenSQLite(ctx, filepath.Join(t.TempDir(), db.SQLiteFile))
			noErr(t, err)
			return d
		},
		"postgres": func(t *testing.T) *db.DB {
			d, err := db.OpenPostgres(ctx, dbtest.NewTestSchema(t))
			noErr(t, err)
			return d
		},
	}
	for engine, openDB := range open {
		t.Run(engine, func(t *testing.T) {
			d := openDB(t)
			defer d.Close()
			_, err := d.MigrateTo(ctx, "0014_recovery_grant")
			noErr(t, err)
			now := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
			jan := &db.User{Email: "jan@example.nl", Kind: db.KindExternal, Status: db.StatusActive, Language: "nl",
				Gender: "unknown", FirstName: "Jan", LastName: "Smit", CreatedAt: now, UpdatedAt: now}
			_, err = d.NewInsert().Model(jan).ExcludeColumn("notify", "last_summary_at", "push_devices").Exec(ctx)
			noErr(t, err)
			_, err = d.Migrate(ctx)
			noErr(t, err)
			var got db.User
			noErr(t, d.NewSelect().Model(&got).Where("id = ?", jan.ID).Scan(ctx))
			if got.Notify != "message" || !got.LastSummaryAt.IsZero() || got.Email != jan.Email {
				t.Fatalf("after migration: notify %q, last summary %v", got.Notify, got.LastSummaryAt)
			}
		})
	}
}
