package db_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"dialoog/db"
	"dialoog/db/dbtest"
)

// TestMessageStatesHistoryMigration: migration 0044 marks as history the
// read states a team join stored before it (read at the moment of the
// membership, for messages older than it), and no state a person read
// themselves.
func TestMessageStatesHistoryMigration(t *testing.T) {
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
			_, err := d.MigrateTo(ctx, "0043_signing_request_refs")
			noErr(t, err)
			start := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
			joined := start.Add(time.Hour)
			org := &db.Organisation{Name: "OSAW", CreatedAt: start}
			_, err = d.NewInsert().Model(org).Exec(ctx)
			noErr(t, err)
			user := func(email string) *db.User {
				u := &db.User{Email: email, Kind: db.KindInternal, OrgID: &org.ID, Status: db.StatusActive, Language: "nl",
					Gender: "unknown", FirstName: "A", LastName: "B", CreatedAt: start, UpdatedAt: start}
				_, err := d.NewInsert().Model(u).Exec(ctx)
				noErr(t, err)
				return u
			}
			old, member := user("oud@osaw.nl"), user("nieuw@osaw.nl")
			team := &db.Team{OrgID: org.ID, Name: "Verzuim", CreatedAt: start}
			_, err = d.NewInsert().Model(team).Exec(ctx)
			noErr(t, err)
			for _, m := range []db.TeamMember{{TeamID: team.ID, UserID: old.ID, AddedAt: start}, {TeamID: team.ID, UserID: member.ID, AddedAt: joined}} {
				_, err = d.NewInsert().Model(&m).Exec(ctx)
				noErr(t, err)
			}
			th := &db.Thread{OrgID: org.ID, Subject: "s", CreatedBy: &old.ID, CreatedAt: start, LastMessageAt: start, TeamID: &team.ID}
			_, err = d.NewInsert().Model(th).Exec(ctx)
			noErr(t, err)
			msg := func(at time.Time) int64 {
				m := &db.Message{ThreadID: th.ID, SenderID: &old.ID, Body: []byte("x"), KeyID: "k", CreatedAt: at}
				_, err := d.NewInsert().Model(m).Exec(ctx)
				noErr(t, err)
				return m.ID
			}
			before, after := msg(start.Add(time.Minute)), msg(joined.Add(time.Minute))
			state := func(message, user int64, read time.Time) {
				_, err := d.NewRaw("INSERT INTO message_states (message_id, user_id, read_at) VALUES (?, ?, ?)", message, user, read).Exec(ctx)
				noErr(t, err)
			}
			state(before, old.ID, start.Add(2*time.Minute))    // read by the writer's colleague
			state(before, member.ID, joined)                   // came with the join
			state(after, member.ID, joined.Add(5*time.Minute)) // read by the new member
			_, err = d.Migrate(ctx)
			noErr(t, err)
			var got []struct {
				MessageID, UserID int64
				History           bool
			}
			noErr(t, d.NewRaw("SELECT message_id, user_id, history FROM message_states ORDER BY message_id, user_id").Scan(ctx, &got))
			want := map[[2]int64]bool{{before, old.ID}: false, {before, member.ID}: true, {after, member.ID}: false}
			if len(got) != len(want) {
				t.Fatalf("states after the migration: %+v", got)
			}
			for _, g := range got {
				if w := want[[2]int64{g.MessageID, g.UserID}]; g.History != w {
					t.Errorf("state of message %d, user %d: history %v, want %v", g.MessageID, g.UserID, g.History, w)
				}
			}
		})
	}
}
