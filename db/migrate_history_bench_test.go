package db_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"dialoog/db"
	"dialoog/messaging/messagingtest"
	"dialoog/vault"
)

// BenchmarkHistoryMigration: migration 0044 adds message_states.history
// and marks the read states that team joins stored before it, reading the
// states of every team member once. It runs on a SQLite database left at
// 0043 in which a member of a team has a box of 5,000 or 50,000 of the
// team's conversations (two messages each), half of them from before
// they joined; beside a baseline that reads those states once
// (count(read_at) of the member's rows), the least the marking costs.
func BenchmarkHistoryMigration(b *testing.B) {
	for _, box := range []int{5000, 50000} {
		b.Run(fmt.Sprintf("box=%d", box), func(b *testing.B) {
			ctx := context.Background()
			seeded := filepath.Join(b.TempDir(), db.SQLiteFile)
			d, err := db.OpenSQLite(ctx, seeded)
			noErr(b, err)
			_, err = d.MigrateTo(ctx, "0043_signing_request_refs")
			noErr(b, err)
			start := time.Date(2026, 1, 1, 8, 0, 0, 0, time.UTC)
			_, err = d.ExecContext(ctx, "INSERT INTO organisations (name, created_at) VALUES ('OSAW', ?)", start)
			noErr(b, err)
			var orgID int64
			noErr(b, d.NewRaw("SELECT id FROM organisations").Scan(ctx, &orgID))
			member := &db.User{Email: "arts@osaw.nl", Kind: db.KindInternal, OrgID: &orgID, Status: db.StatusActive, Language: "nl",
				Gender: "unknown", FirstName: "Anna", LastName: "Arts", CreatedAt: start, UpdatedAt: start}
			_, err = d.NewInsert().Model(member).Exec(ctx)
			noErr(b, err)
			v, err := vault.New(make([]byte, 32))
			noErr(b, err)
			_, err = messagingtest.Seed(ctx, d, v, messagingtest.Box{OrgID: orgID, Owner: member, Threads: box, Messages: 2, Others: box / 10, Start: start})
			noErr(b, err)
			// Every conversation is the team's; the member joined halfway,
			// and the join stored the older half's states read at that
			// moment, as joins did before 0044.
			joined := start.Add(time.Duration(box/2) * time.Minute)
			_, err = d.ExecContext(ctx, "INSERT INTO teams (org_id, name, medical, show_person, created_at) VALUES (?, 'Verzuim', FALSE, TRUE, ?)", orgID, start)
			noErr(b, err)
			_, err = d.ExecContext(ctx, "UPDATE threads SET team_id = (SELECT id FROM teams)")
			noErr(b, err)
			_, err = d.ExecContext(ctx, "INSERT INTO team_members (team_id, user_id, added_at) VALUES ((SELECT id FROM teams), ?, ?)", member.ID, joined)
			noErr(b, err)
			_, err = d.NewRaw(`UPDATE message_states SET read_at = ? WHERE user_id = ? AND message_id IN (SELECT id FROM messages WHERE created_at < ?)`,
				joined, member.ID, joined).Exec(ctx)
			noErr(b, err)
			noErr(b, d.Checkpoint(ctx))
			noErr(b, d.Close())

			benchMigration(b, seeded, "read-states", func(d *db.DB) {
				var n int64
				noErr(b, d.NewRaw("SELECT count(read_at) FROM message_states WHERE user_id IN (SELECT user_id FROM team_members)").Scan(ctx, &n))
			}, "0044_message_states_history", func(d *db.DB) {
				var marked int
				noErr(b, d.NewRaw("SELECT count(*) FROM message_states WHERE history").Scan(ctx, &marked))
				if marked != box {
					b.Fatalf("%d states marked as history, want %d", marked, box)
				}
			})
		})
	}
}
