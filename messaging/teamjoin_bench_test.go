package messaging_test

import (
	"context"
	"fmt"
	"testing"

	"dialoog/db"
	"dialoog/db/dbtest"
	"dialoog/messaging/messagingtest"
)

// BenchmarkTeamJoin: a colleague joins a team whose box holds 1,000 or
// 5,000 conversations of ten messages each, and leaves it again (one
// iteration is both), on SQLite, where the whole join holds the writers'
// turn, and on PostgreSQL; and a team of 30 members, every one of them in
// each of its 1,000 conversations, where every row a join adds or a leave
// removes concerns 30 inboxes. Beside it as the baseline: inserting the rows a
// join adds (a participant row per conversation, a read state per message)
// with plain INSERT ... SELECT statements and deleting them again, without
// the service's checks and counters (the inbox version's triggers fire for
// both).
func BenchmarkTeamJoin(b *testing.B) {
	for _, engine := range dbtest.Engines {
		for _, n := range []int{1000, 5000} {
			b.Run(fmt.Sprintf("%s/threads=%d", engine, n), func(b *testing.B) { benchTeamJoin(b, engine, n, 1) })
		}
		b.Run(engine+"/threads=1000,members=30", func(b *testing.B) { benchTeamJoin(b, engine, 1000, 30) })
	}
}

func benchTeamJoin(b *testing.B, engine string, n, members int) {
	d := dbtest.MustOpen(b, engine)
	ctx := context.Background()
	f := setup(b, d)
	team := benchTeamOfBox(b, d, f, n, members)
	joiner := f.active(b, "collega@osaw.nl", true, "Cora", "", "Collega")
	var baseline float64
	b.Run("plain-rows", func(b *testing.B) {
		for b.Loop() {
			for _, q := range []string{
				"INSERT INTO participants (thread_id, user_id, added_at, unread_count, box_count) SELECT id, ?, last_message_at, 0, 10 FROM threads WHERE team_id = ?",
				"INSERT INTO message_states (message_id, user_id, read_at) SELECT m.id, ?, m.created_at FROM messages AS m JOIN threads AS t ON t.id = m.thread_id WHERE t.team_id = ?",
				"DELETE FROM message_states WHERE user_id = ? AND ? > 0",
				"DELETE FROM participants WHERE user_id = ? AND ? > 0",
			} {
				if _, err := d.ExecContext(ctx, q, joiner.ID, team.ID); err != nil {
					b.Fatal(err)
				}
			}
		}
		baseline = float64(b.Elapsed().Nanoseconds()) / float64(b.N)
	})
	b.Run("join-and-leave", func(b *testing.B) {
		for b.Loop() {
			if err := f.svc.AddTeamMember(ctx, team.ID, joiner.Email); err != nil {
				b.Fatal(err)
			}
			if err := f.svc.RemoveTeamMember(ctx, team.ID, joiner.Email); err != nil {
				b.Fatal(err)
			}
		}
		if baseline > 0 {
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/baseline, "x-baseline")
		}
	})
}

// benchTeamOfBox seeds the case manager's box of n conversations, moves
// all of them into the team box "Verzuim" with the case manager as its
// member, lets colleagues lid2 to lid<last> join as colleagues do (a row in
// each conversation each) and brings the planner's statistics up to date.
func benchTeamOfBox(b *testing.B, d *db.DB, f *fx, n, last int) *db.Team {
	b.Helper()
	ctx := context.Background()
	if _, err := messagingtest.Seed(ctx, d, f.v, messagingtest.Box{OrgID: f.org.ID, Owner: f.hr, Threads: n, Messages: 10, Others: max(1, n/10)}); err != nil {
		b.Fatal(err)
	}
	team, err := f.svc.CreateTeam(ctx, f.org.ID, "Verzuim", false, false)
	if err != nil {
		b.Fatal(err)
	}
	if err := f.svc.AddTeamMember(ctx, team.ID, f.hr.Email); err != nil {
		b.Fatal(err)
	}
	for _, q := range []string{"UPDATE threads SET team_id = ?", "UPDATE participants SET via_team_id = ? WHERE user_id = " + fmt.Sprint(f.hr.ID)} {
		if _, err := d.ExecContext(ctx, q, team.ID); err != nil {
			b.Fatal(err)
		}
	}
	for i := 2; i <= last; i++ {
		m := f.active(b, fmt.Sprintf("lid%d@osaw.nl", i), true, "Lid", "", fmt.Sprint(i))
		if err := f.svc.AddTeamMember(ctx, team.ID, m.Email); err != nil {
			b.Fatal(err)
		}
	}
	if err := d.Optimize(ctx); err != nil {
		b.Fatal(err)
	}
	return team
}
