package messaging_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"dialoog/db"
	"dialoog/db/dbtest"
	"dialoog/messaging"
)

// BenchmarkTeamCompose: a member of a team box of 30 or 100 members starts
// a conversation for the team with one outsider (one iteration is one
// conversation, with its first message and the members' notices), on
// SQLite and on PostgreSQL. Beside it, leave-assigned: a member of a team
// of 30, every one of them in each of its 1,000 conversations, to whom all
// of them are assigned, leaves it (one iteration is the leave alone; the
// join and the assignments before it are not timed).
func BenchmarkTeamCompose(b *testing.B) {
	for _, engine := range dbtest.Engines {
		for _, members := range []int{30, 100} {
			b.Run(fmt.Sprintf("%s/members=%d", engine, members), func(b *testing.B) { benchTeamCompose(b, engine, members) })
		}
		b.Run(engine+"/leave-assigned/threads=1000,members=30", func(b *testing.B) { benchTeamLeaveAssigned(b, engine, 1000, 30) })
	}
}

// benchMembers creates n internal colleagues named for tag, members of
// team teamID.
func benchMembers(b *testing.B, f *fx, teamID int64, tag string, n int) []db.User {
	b.Helper()
	ctx := context.Background()
	now := f.clk.Now()
	users := make([]db.User, n)
	for i := range users {
		users[i] = db.User{Email: fmt.Sprintf("%s%04d@osaw.nl", tag, i), Kind: db.KindInternal, OrgID: &f.org.ID, Status: db.StatusActive,
			Language: "nl", Gender: "unknown", FirstName: "Col", LastName: fmt.Sprintf("Lega%04d", i), Initials: "C.", CreatedAt: now, UpdatedAt: now,
			ProfileCompletedAt: bun.NullTime{Time: now}}
	}
	if _, err := f.d.NewInsert().Model(&users).Exec(ctx); err != nil {
		b.Fatal(err)
	}
	members := make([]db.TeamMember, n)
	for i := range users {
		members[i] = db.TeamMember{TeamID: teamID, UserID: users[i].ID, AddedAt: now}
	}
	if _, err := f.d.NewInsert().Model(&members).Exec(ctx); err != nil {
		b.Fatal(err)
	}
	return users
}

func benchTeamCompose(b *testing.B, engine string, members int) {
	d := dbtest.MustOpen(b, engine)
	ctx := context.Background()
	f := setup(b, d)
	team, err := f.svc.CreateTeam(ctx, f.org.ID, "Verzuim", false, true)
	if err != nil {
		b.Fatal(err)
	}
	colleagues := benchMembers(b, f, team.ID, "lid", members)
	outsider := f.active(b, "werknemer@example.nl", false, "Wim", "", "Werknemer")
	if err := d.Optimize(ctx); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		f.clk.Add(time.Hour) // the hourly limit of new conversations
		if _, err := f.svc.Compose(ctx, colleagues[0].Identity(), messaging.ComposeInput{To: []string{outsider.Email}, Subject: "Verzuim", Body: "Hallo", TeamID: team.ID}); err != nil {
			b.Fatal(err)
		}
	}
}

func benchTeamLeaveAssigned(b *testing.B, engine string, n, members int) {
	d := dbtest.MustOpen(b, engine)
	ctx := context.Background()
	f := setup(b, d)
	team := benchTeamOfBox(b, d, f, n, members-1)
	leaver := f.active(b, "collega@osaw.nl", true, "Cora", "", "Collega")
	for b.Loop() {
		b.StopTimer()
		if err := f.svc.AddTeamMember(ctx, team.ID, leaver.Email); err != nil {
			b.Fatal(err)
		}
		if _, err := d.ExecContext(ctx, "UPDATE threads SET assigned_to = ? WHERE team_id = ?", leaver.ID, team.ID); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		if err := f.svc.RemoveTeamMember(ctx, team.ID, leaver.Email); err != nil {
			b.Fatal(err)
		}
	}
}
