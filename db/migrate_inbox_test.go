package db_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"
	"time"

	"dialoog/db"
	"dialoog/db/dbtest"

	"github.com/uptrace/bun"
)

// TestInboxMigrationCarriesData builds yesterday's schema with
// conversations in it and checks that migration 0003 fills the inbox
// counters from the read states and indexes the existing subjects and names
// for search.
func TestInboxMigrationCarriesData(t *testing.T) {
	ctx := context.Background()
	open := map[string]func(t *testing.T) *db.DB{
		"sqlite": func(t *testing.T) *db.DB {
			d, err := db.OpenSQLite(ctx, filepath.Join(t.TempDir(), db.SQLiteFile))
			if err != nil {
				t.Fatal(err)
			}
			return d
		},
		"postgres": func(t *testing.T) *db.DB {
			d, err := db.OpenPostgres(ctx, dbtest.NewTestSchema(t))
			if err != nil {
				t.Fatal(err)
			}
			return d
		},
	}
	for engine, openDB := range open {
		t.Run(engine, func(t *testing.T) {
			d := openDB(t)
			defer d.Close()
			exec := func(_ sql.Result, err error) {
				t.Helper()
				noErr(t, err)
			}
			if _, err := d.MigrateTo(ctx, "0002_onboarding"); err != nil {
				t.Fatal(err)
			}
			now := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
			org := &db.Organisation{Name: "OSAW", CreatedAt: now}
			exec(d.NewInsert().Model(org).Exec(ctx))
			hr := &db.User{OrgID: &org.ID, Email: "hr@osaw.nl", Kind: db.KindInternal, Status: db.StatusActive, Language: "nl",
				Gender: "unknown", FirstName: "Hanna", NamePrefix: "de", LastName: "Vries", CreatedAt: now, UpdatedAt: now}
			jan := &db.User{Email: "jan@example.nl", Kind: db.KindExternal, Status: db.StatusActive, Language: "nl",
				Gender: "unknown", FirstName: "Jan", LastName: "Smit", CreatedAt: now, UpdatedAt: now}
			// (Yesterday's users table has no unread_total yet.)
			exec(d.NewInsert().Model(hr).ExcludeColumn("unread_total", "away_sealed", "notify", "last_summary_at", "push_devices").Exec(ctx))
			exec(d.NewInsert().Model(jan).ExcludeColumn("unread_total", "away_sealed", "notify", "last_summary_at", "push_devices").Exec(ctx))
			kept := &db.Thread{OrgID: org.ID, Subject: "Verzuimmelding", CreatedBy: &hr.ID, CreatedAt: now, LastMessageAt: now.Add(2 * time.Minute)}
			gone := &db.Thread{OrgID: org.ID, Subject: "Oud", CreatedBy: &hr.ID, CreatedAt: now, LastMessageAt: now}
			exec(d.NewInsert().Model(kept).ExcludeColumn("team_id", "assigned_to", "medical", "case_id").Exec(ctx))
			exec(d.NewInsert().Model(gone).ExcludeColumn("team_id", "assigned_to", "medical", "case_id").Exec(ctx))
			for _, th := range []*db.Thread{kept, gone} {
				for _, u := range []*db.User{hr, jan} {
					exec(d.NewRaw("INSERT INTO participants (thread_id, user_id, added_at) VALUES (?, ?, ?)", th.ID, u.ID, now).Exec(ctx))
				}
			}
			// kept: three messages from hr; jan read the first, removed the
			// second from his box and has not read the third.
			for i := range 3 {
				m := &db.Message{ThreadID: kept.ID, SenderID: &hr.ID, Body: []byte{1}, KeyID: "k", CreatedAt: now.Add(time.Duration(i) * time.Minute)}
				exec(d.NewInsert().Model(m).ExcludeColumn("system_kind", "subject_user_id", "team_id").Exec(ctx))
				st := db.MessageState{MessageID: m.ID, UserID: jan.ID}
				switch i {
				case 0:
					st.ReadAt = bun.NullTime{Time: now}
				case 1:
					st.RemovedAt = bun.NullTime{Time: now}
				}
				exec(d.NewInsert().Model(&[]db.MessageState{st, {MessageID: m.ID, UserID: hr.ID, ReadAt: bun.NullTime{Time: now}}}).ExcludeColumn("history").Exec(ctx))
			}
			// gone: jan removed the whole thread from his box.
			m := &db.Message{ThreadID: gone.ID, SenderID: &hr.ID, Body: []byte{1}, KeyID: "k", CreatedAt: now}
			exec(d.NewInsert().Model(m).ExcludeColumn("system_kind", "subject_user_id", "team_id").Exec(ctx))
			exec(d.NewInsert().Model(&[]db.MessageState{{MessageID: m.ID, UserID: jan.ID, RemovedAt: bun.NullTime{Time: now}}, {MessageID: m.ID, UserID: hr.ID}}).ExcludeColumn("history").Exec(ctx))
			exec(d.NewRaw("UPDATE participants SET removed_at = ? WHERE thread_id = ? AND user_id = ?", now, gone.ID, jan.ID).Exec(ctx))

			if _, err := d.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			var ps []db.Participant
			if err := d.NewSelect().Model(&ps).Order("thread_id", "user_id").Scan(ctx); err != nil {
				t.Fatal(err)
			}
			type counts struct{ unread, box int }
			want := map[[2]int64]counts{
				{kept.ID, hr.ID}: {0, 3}, {kept.ID, jan.ID}: {1, 2},
				{gone.ID, hr.ID}: {1, 1}, {gone.ID, jan.ID}: {0, 0},
			}
			for _, p := range ps {
				w := want[[2]int64{p.ThreadID, p.UserID}]
				if p.UnreadCount != w.unread || p.BoxCount != w.box {
					t.Errorf("thread %d user %d: unread %d box %d, want %+v", p.ThreadID, p.UserID, p.UnreadCount, p.BoxCount, w)
				}
				var th db.Thread
				if err := d.NewSelect().Model(&th).Where("id = ?", p.ThreadID).Scan(ctx); err != nil {
					t.Fatal(err)
				}
				if !p.LastActivityAt.Time.Equal(th.LastMessageAt) {
					t.Errorf("thread %d user %d: last activity %v, want %v", p.ThreadID, p.UserID, p.LastActivityAt.Time, th.LastMessageAt)
				}
			}
			for _, u := range []*db.User{hr, jan} {
				var total int
				noErr(t, d.NewSelect().Model((*db.User)(nil)).Column("unread_total").Where("id = ?", u.ID).Scan(ctx, &total))
				if total != 1 {
					t.Errorf("%s: unread total %d, want 1", u.Email, total)
				}
			}
			// What existed before is found by search afterwards.
			var subjects, people []int64
			if d.Postgres() {
				noErr(t, d.NewRaw("SELECT id FROM threads WHERE lower(subject) LIKE '%zuimmeld%'").Scan(ctx, &subjects))
				noErr(t, d.NewRaw("SELECT id FROM users WHERE lower(email) LIKE '%example%'").Scan(ctx, &people))
			} else {
				noErr(t, d.NewRaw(`SELECT rowid FROM threads_fts WHERE threads_fts MATCH 'subject : "zuimmeld"'`).Scan(ctx, &subjects))
				noErr(t, d.NewRaw(`SELECT rowid FROM users_fts WHERE users_fts MATCH 'name : "smit"'`).Scan(ctx, &people))
			}
			if len(subjects) != 1 || subjects[0] != kept.ID || len(people) != 1 || people[0] != jan.ID {
				t.Fatalf("search after migration: threads %v, people %v", subjects, people)
			}
		})
	}
}

func noErr(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
