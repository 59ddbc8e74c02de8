package db_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"dialoog/db"
	"dialoog/db/dbtest"
)

// TestAuditActorAddressMigration: migration 0042 takes the IP address
// out of the audit rows of what an admin who has since stopped with
// Dialoog did to others, and leaves every other address.
func TestAuditActorAddressMigration(t *testing.T) {
	ctx := context.Background()
	open := map[string]func(t *testing.T) (*db.DB, string){
		"sqlite": func(t *testing.T) (*db.DB, string) {
			d, err := db.OpenSQLite(ctx, filepath.Join(t.TempDir(), db.SQLiteFile))
			noErr(t, err)
			return d, "0039_time_format"
		},
		"postgres": func(t *testing.T) (*db.DB, string) {
			d, err := db.OpenPostgres(ctx, dbtest.NewTestSchema(t))
			noErr(t, err)
			return d, "0041_inbox_notify_bounded"
		},
	}
	for engine, openDB := range open {
		t.Run(engine, func(t *testing.T) {
			d, before := openDB(t)
			defer d.Close()
			_, err := d.MigrateTo(ctx, before)
			noErr(t, err)
			now := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
			admin := &db.User{Email: "admin@osaw.nl", Kind: db.KindInternal, Status: db.StatusActive, Language: "nl",
				Gender: "unknown", FirstName: "Anne", LastName: "Admin", CreatedAt: now, UpdatedAt: now}
			_, err = d.NewInsert().Model(admin).Exec(ctx)
			noErr(t, err)
			rows := []struct {
				kind   string
				actor  *int64
				ip     string
				wantIP string
			}{
				{"admin.user_disabled", nil, "203.0.113.1", ""}, // by an admin who stopped
				{"team.member_added", nil, "203.0.113.2", ""},   // likewise
				{"admin.user_enabled", &admin.ID, "203.0.113.3", "203.0.113.3"},
				{"login.ok", nil, "203.0.113.4", "203.0.113.4"}, // the person's own
				{"team.member_added", nil, "", ""},              // the command line
			}
			for _, r := range rows {
				_, err := d.NewRaw("INSERT INTO audit_events (user_id, actor_id, kind, detail, ip, created_at) VALUES (?, ?, ?, '', ?, ?)",
					admin.ID, r.actor, r.kind, r.ip, now).Exec(ctx)
				noErr(t, err)
			}
			_, err = d.Migrate(ctx)
			noErr(t, err)
			var got []struct {
				Kind string
				IP   string
			}
			noErr(t, d.NewRaw("SELECT kind, ip FROM audit_events ORDER BY id").Scan(ctx, &got))
			if len(got) != len(rows) {
				t.Fatalf("rows after the migration: %+v", got)
			}
			for i, r := range rows {
				if got[i].Kind != r.kind || got[i].IP != r.wantIP {
					t.Errorf("row %d (%s): IP %q, want %q", i, r.kind, got[i].IP, r.wantIP)
				}
			}
		})
	}
}
