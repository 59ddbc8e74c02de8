package db_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"dialoog/db"
)

// TestTimeFormatMigration: times stored in Go's time.String format (bound
// as parameters before the driver was told bun's format) are rewritten in
// bun's format, at the same instant, and read back the same through the
// column and through db.TimeColumn; times already in bun's format and NULL
// stay as they are.
func TestTimeFormatMigration(t *testing.T) {
	ctx := context.Background()
	d, err := db.OpenSQLite(ctx, filepath.Join(t.TempDir(), db.SQLiteFile))
	noErr(t, err)
	defer d.Close()
	_, err = d.MigrateTo(ctx, "0038_threads_assignee_idx")
	noErr(t, err)
	now := time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC)
	u := &db.User{Email: "jan@example.nl", Kind: db.KindExternal, Status: db.StatusActive, Language: "nl",
		Gender: "unknown", FirstName: "Jan", LastName: "Smit", CreatedAt: now, UpdatedAt: now}
	_, err = d.NewInsert().Model(u).Exec(ctx)
	noErr(t, err)
	_, err = d.ExecContext(ctx, `UPDATE users SET created_at = '2026-12-05 10:00:00.123456789 +0000 UTC',
  last_seen_at = '2026-12-05 11:00:00 +0100 CET', last_login_at = '2026-12-05 08:00:00.5 -0230 -0230',
  updated_at = '2026-12-05 10:00:00.25+00:00', away_from = NULL`)
	noErr(t, err)
	_, err = d.Migrate(ctx)
	noErr(t, err)

	var raw struct {
		CreatedAt, LastSeenAt, LastLoginAt, UpdatedAt string
		AwayFrom                                      *string
	}
	noErr(t, d.DB.DB.QueryRowContext(ctx, "SELECT +created_at, +last_seen_at, +last_login_at, +updated_at, +away_from FROM users").
		Scan(&raw.CreatedAt, &raw.LastSeenAt, &raw.LastLoginAt, &raw.UpdatedAt, &raw.AwayFrom))
	if raw.CreatedAt != "2026-12-05 10:00:00.123456789+00:00" || raw.LastSeenAt != "2026-12-05 11:00:00+01:00" ||
		raw.LastLoginAt != "2026-12-05 08:00:00.5-02:30" || raw.UpdatedAt != "2026-12-05 10:00:00.25+00:00" || raw.AwayFrom != nil {
		t.Fatalf("stored after the migration: %+v", raw)
	}

	var plain db.User
	noErr(t, d.NewSelect().Model(&plain).Where("id = ?", u.ID).Scan(ctx))
	var through []db.User
	noErr(t, d.NewRaw("SELECT "+d.Columns(db.User{}, "u")+" FROM users AS u").Scan(ctx, &through))
	for _, got := range []db.User{plain, through[0]} {
		if !got.CreatedAt.Equal(time.Date(2026, 12, 5, 10, 0, 0, 123456789, time.UTC)) ||
			!got.LastSeenAt.Equal(time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC)) ||
			!got.LastLoginAt.Equal(time.Date(2026, 12, 5, 10, 30, 0, 500000000, time.UTC)) ||
			!got.UpdatedAt.Equal(time.Date(2026, 12, 5, 10, 0, 0, 250000000, time.UTC)) || !got.AwayFrom.IsZero() {
			t.Errorf("read back: created %v, seen %v, login %v, updated %v, away %v",
				got.CreatedAt, got.LastSeenAt, got.LastLoginAt, got.UpdatedAt, got.AwayFrom)
		}
	}
}
