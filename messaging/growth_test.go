package messaging_test

import (
	"context"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"dialoog/auth"
	"dialoog/db"
	"dialoog/db/dbtest"
	"dialoog/messaging"
	"dialoog/messaging/messagingtest"
)

// colleaguesAs creates n internal colleagues named for tag.
func (f *fx) colleaguesAs(t *testing.T, tag string, n int) []db.User {
	t.Helper()
	now := f.clk.Now()
	users := make([]db.User, n)
	for i := range users {
		users[i] = db.User{Email: fmt.Sprintf("%s%04d@osaw.nl", tag, i), Kind: db.KindInternal, OrgID: &f.org.ID, Status: db.StatusActive,
			Language: "nl", Gender: "unknown", FirstName: "Col", LastName: fmt.Sprintf("Lega%04d", i), Initials: "C.", CreatedAt: now, UpdatedAt: now,
			ProfileCompletedAt: bun.NullTime{Time: now}}
	}
	if _, err := f.d.NewInsert().Model(&users).Exec(context.Background()); err != nil {
		t.Fatal(err)
	}
	return users
}

// teamOfColleagues creates team name with n new internal colleagues
// named for tag as its members.
func (f *fx) teamOfColleagues(t *testing.T, name, tag string, n int) (*db.Team, []*db.User) {
	t.Helper()
	ctx := context.Background()
	team, err := f.svc.CreateTeam(ctx, f.org.ID, name, false, true)
	if err != nil {
		t.Fatal(err)
	}
	colleagues := f.colleaguesAs(t, tag, n)
	members := make([]db.TeamMember, n)
	people := make([]*db.User, n)
	for i := range colleagues {
		members[i] = db.TeamMember{TeamID: team.ID, UserID: colleagues[i].ID, AddedAt: f.clk.Now()}
		people[i] = &colleagues[i]
	}
	if _, err := f.d.NewInsert().Model(&members).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	return team, people
}

// growthPeople creates n active external people named for tag.
func (f *fx) growthPeople(t *testing.T, tag string, n int) []*db.User {
	t.Helper()
	now := f.clk.Now()
	users := make([]*db.User, n)
	for i := range users {
		users[i] = &db.User{Email: fmt.Sprintf("%s%04d@example.nl", tag, i), Kind: db.KindExternal, Status: db.StatusActive, Language: "nl",
			Gender: "unknown", FirstName: "Per", LastName: fmt.Sprintf("Soon%04d", i), Initials: "P.", CreatedAt: now, UpdatedAt: now,
			ProfileCompletedAt: bun.NullTime{Time: now}}
	}
	if _, err := f.d.NewInsert().Model(&users).Exec(context.Background()); err != nil {
		t.Fatal(err)
	}
	return users
}

// growthThread is a conversation of hr with people, messages long.
func (f *fx) growthThread(t *testing.T, people []*db.User, messages int) int64 {
	t.Helper()
	ctx := context.Background()
	to := make([]string, len(people))
	for i, u := range people {
		to[i] = u.Email
	}
	f.clk.Add(time.Hour) // the hourly limit of new conversations
	tid, err := f.svc.Compose(ctx, f.hr.Identity(), messaging.ComposeInput{To: to, Subject: "Lang gesprek", Body: "Begin"})
	if err != nil {
		t.Fatal(err)
	}
	if messages > 1 {
		if err := messagingtest.LongThread(ctx, f.d, f.v, tid, f.hr.ID, people[0].ID, messages-1, f.clk.Now()); err != nil {
			t.Fatal(err)
		}
	}
	f.clk.Add(time.Hour)
	return tid
}

// unread makes the messages of the conversation unread for u.
func (f *fx) unread(t *testing.T, tid int64, u *db.User) {
	t.Helper()
	ctx := context.Background()
	res, err := f.d.NewRaw(`UPDATE message_states SET read_at = NULL WHERE user_id = ? AND message_id IN (SELECT id FROM messages WHERE thread_id = ?)`, u.ID, tid).Exec(ctx)
	if err != nil {
		t.Fatal(err)
	}
	n, _ := res.RowsAffected()
	if _, err := f.d.NewRaw(`UPDATE participants SET unread_count = ? WHERE thread_id = ? AND user_id = ?`, n, tid, u.ID).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := f.d.NewRaw(`UPDATE users SET unread_total = (SELECT SUM(unread_count) FROM participants WHERE user_id = ?) WHERE id = ?`, u.ID, u.ID).Exec(ctx); err != nil {
		t.Fatal(err)
	}
}

// TestStatementsDoNotGrow runs, on both engines, the every-day operations
// of conversations at a small volume and at one about ten times larger in
// what the operation handles, and fails when the number of statements an
// operation runs grows with it (dbtest.CheckGrowth): composing to many
// recipients and to many new addresses, replying in a long
// conversation of many people and in a big team's with push on, opening
// and marking read a long conversation, adding someone to a long one and
// to one of many people, joining and leaving a big team, assigning in it,
// the live push and readers, a case's box, the inbox and unread count of
// a big box, and its export (known to grow).
func TestStatementsDoNotGrow(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := setup(t, d)
		f.svc.Summary = mails{}
		hook := dbtest.CountStatements(d)

		t.Run("compose to many recipients", func(t *testing.T) {
			hook.CheckGrowth(t, "compose", 2, messaging.MaxRecipients, func(t *testing.T, n int) func(ctx context.Context) error {
				people := f.growthPeople(t, fmt.Sprintf("compose%d-", n), n)
				to := make([]string, n)
				for i, u := range people {
					to[i] = u.Email
				}
				f.clk.Add(time.Hour)
				return func(ctx context.Context) error {
					_, err := f.svc.Compose(ctx, f.hr.Identity(), messaging.ComposeInput{To: to, Subject: "Aan velen", Body: "Hallo allemaal"})
					return err
				}
			})
		})
		t.Run("compose to many new addresses", func(t *testing.T) {
			hook.CheckGrowth(t, "compose to new addresses", 2, messaging.NewAddressesPerHour, func(t *testing.T, n int) func(ctx context.Context) error {
				to := make([]string, n)
				for i := range to {
					to[i] = fmt.Sprintf("nieuw%d-%d@example.nl", n, i)
				}
				f.clk.Add(2 * time.Hour) // the hourly limit of new addresses
				return func(ctx context.Context) error {
					_, err := f.svc.Compose(ctx, f.hr.Identity(), messaging.ComposeInput{To: to, Subject: "Welkom", Body: "Hallo allemaal"})
					return err
				}
			})
		})
		t.Run("add a participant to a conversation of many people", func(t *testing.T) {
			hook.CheckGrowth(t, "add to many", 2, messaging.MaxRecipients, func(t *testing.T, n int) func(ctx context.Context) error {
				people := f.growthPeople(t, fmt.Sprintf("addmany%d-", n), n+1)
				tid := f.growthThread(t, people[:n], 10)
				return func(ctx context.Context) error {
					return f.svc.AddParticipant(ctx, f.hr.Identity(), tid, messaging.AddInput{Email: people[n].Email, History: messaging.WithHistory})
				}
			})
		})
		t.Run("reply in a long conversation with many people", func(t *testing.T) {
			hook.CheckGrowth(t, "reply", 2, messaging.MaxRecipients, func(t *testing.T, n int) func(ctx context.Context) error {
				people := f.growthPeople(t, fmt.Sprintf("reply%d-", n), n)
				tid := f.growthThread(t, people, 50*n)
				return func(ctx context.Context) error {
					_, err := f.svc.Reply(ctx, f.hr.Identity(), messaging.ReplyInput{ThreadID: tid, Body: "Nog iets"})
					return err
				}
			})
		})
		t.Run("open a long conversation", func(t *testing.T) {
			hook.CheckGrowth(t, "open", 50, 500, func(t *testing.T, n int) func(ctx context.Context) error {
				people := f.growthPeople(t, fmt.Sprintf("open%d-", n), 1)
				tid := f.growthThread(t, people, n)
				f.unread(t, tid, people[0])
				return func(ctx context.Context) error {
					_, err := f.svc.Thread(ctx, people[0].Identity(), tid)
					return err
				}
			})
		})
		t.Run("mark a long conversation read", func(t *testing.T) {
			hook.CheckGrowth(t, "mark read", 50, 500, func(t *testing.T, n int) func(ctx context.Context) error {
				people := f.growthPeople(t, fmt.Sprintf("read%d-", n), 1)
				tid := f.growthThread(t, people, n)
				f.unread(t, tid, people[0])
				return func(ctx context.Context) error {
					_, err := f.svc.MarkRead(ctx, people[0].Identity(), tid)
					return err
				}
			})
		})
		t.Run("add a participant to a long conversation", func(t *testing.T) {
			hook.CheckGrowth(t, "add a participant", 50, 500, func(t *testing.T, n int) func(ctx context.Context) error {
				people := f.growthPeople(t, fmt.Sprintf("add%d-", n), 2)
				tid := f.growthThread(t, people[:1], n)
				return func(ctx context.Context) error {
					return f.svc.AddParticipant(ctx, f.hr.Identity(), tid, messaging.AddInput{Email: people[1].Email, History: messaging.WithHistory})
				}
			})
		})
		// A big team: n members and n conversations of the team.
		bigTeam := func(t *testing.T, tag string, n int) (*db.Team, []db.User, []int64) {
			t.Helper()
			team, err := f.svc.CreateTeam(ctx, f.org.ID, "Team "+tag, false, true)
			if err != nil {
				t.Fatal(err)
			}
			users := f.colleaguesAs(t, "team"+tag+"-", n)
			members := make([]db.TeamMember, len(users))
			for i := range users {
				members[i] = db.TeamMember{TeamID: team.ID, UserID: users[i].ID, AddedAt: f.clk.Now()}
			}
			if _, err := d.NewInsert().Model(&members).Exec(ctx); err != nil {
				t.Fatal(err)
			}
			ext := f.growthPeople(t, "teamext"+tag+"-", 1)
			var tids []int64
			for range n {
				f.clk.Add(2 * time.Minute)
				tid, err := f.svc.Compose(ctx, users[0].Identity(), messaging.ComposeInput{To: []string{ext[0].Email}, Subject: "Team", Body: "Hallo", TeamID: team.ID})
				if err != nil {
					t.Fatal(err)
				}
				tids = append(tids, tid)
			}
			f.clk.Add(time.Hour)
			return team, users, tids
		}
		t.Run("reply in a big team's conversation, everyone with push on", func(t *testing.T) {
			hook.CheckGrowth(t, "team reply", 10, 100, func(t *testing.T, n int) func(ctx context.Context) error {
				_, users, tids := bigTeam(t, fmt.Sprint("reply", n), n)
				subs := make([]db.PushSubscription, 0, 2*len(users))
				for i := range users {
					for k := range 2 {
						subs = append(subs, db.PushSubscription{UserID: users[i].ID, Endpoint: fmt.Sprintf("https://push.example/%d/%d/%d", n, i, k),
							Keys: []byte("x"), UserAgent: "Test", VAPIDKey: "k", CreatedAt: f.clk.Now()})
					}
				}
				if _, err := d.NewInsert().Model(&subs).Exec(ctx); err != nil {
					t.Fatal(err)
				}
				if _, err := d.NewRaw("UPDATE users SET push_devices = 2 WHERE id IN (SELECT user_id FROM team_members WHERE team_id = (SELECT team_id FROM threads WHERE id = ?))", tids[0]).Exec(ctx); err != nil {
					t.Fatal(err)
				}
				ext := f.user(t, fmt.Sprintf("teamextreply%d-0000@example.nl", n))
				return func(ctx context.Context) error {
					_, err := f.svc.Reply(ctx, ext.Identity(), messaging.ReplyInput{ThreadID: tids[0], Body: "Aan het team"})
					if err != nil {
						return err
					}
					// Every member was told, by mail and on both browsers.
					var pushes int64
					if pushes, err = d.NewSelect().Model((*db.OutboxItem)(nil)).Where("channel = ? AND recipient LIKE ?", db.ChannelPush, "push:%").
						Where("recipient IN (SELECT 'push:' || CAST(id AS TEXT) FROM push_subscriptions WHERE endpoint LIKE ?)", fmt.Sprintf("https://push.example/%d/%%", n)).
						Count(context.Background()); err == nil && pushes != int64(2*n) {
						err = fmt.Errorf("%d pushes, want %d", pushes, 2*n)
					}
					return err
				}
			})
		})
		t.Run("join and leave a big team", func(t *testing.T) {
			joiner := func(n int) *db.User {
				return f.active(t, fmt.Sprintf("joiner%d@osaw.nl", n), true, "Jo", "", "Iner")
			}
			hook.CheckGrowth(t, "join", 10, 100, func(t *testing.T, n int) func(ctx context.Context) error {
				team, _, _ := bigTeam(t, fmt.Sprint(n), n)
				u := joiner(n)
				return func(ctx context.Context) error { return f.svc.AddTeamMember(ctx, team.ID, u.Email) }
			})
			hook.CheckGrowth(t, "leave", 10, 100, func(t *testing.T, n int) func(ctx context.Context) error {
				team, err := f.svc.TeamByName(ctx, f.org.ID, fmt.Sprint("Team ", n))
				if err != nil {
					t.Fatal(err)
				}
				return func(ctx context.Context) error {
					return f.svc.RemoveTeamMember(ctx, team.ID, fmt.Sprintf("joiner%d@osaw.nl", n))
				}
			})
		})
		t.Run("assign in a big team", func(t *testing.T) {
			hook.CheckGrowth(t, "assign", 10, 100, func(t *testing.T, n int) func(ctx context.Context) error {
				_, users, tids := bigTeam(t, fmt.Sprint("assign", n), n)
				return func(ctx context.Context) error { return f.svc.Assign(ctx, users[1].Identity(), tids[0], users[2].ID) }
			})
		})
		t.Run("live push and readers", func(t *testing.T) {
			var tid, mid int64
			var ids []int64
			round := 0
			build := func(t *testing.T, n int) {
				round++
				people := f.growthPeople(t, fmt.Sprintf("live%d-%d-", round, n), n)
				tid = f.growthThread(t, people, 50*n)
				var err error
				if mid, err = f.svc.Reply(ctx, people[0].Identity(), messaging.ReplyInput{ThreadID: tid, Body: "Live"}); err != nil {
					t.Fatal(err)
				}
				ids = []int64{f.hr.ID}
				for _, u := range people {
					ids = append(ids, u.ID)
				}
			}
			hook.CheckGrowth(t, "live update", 2, messaging.MaxRecipients, func(t *testing.T, n int) func(ctx context.Context) error {
				build(t, n)
				return func(ctx context.Context) error { _, err := f.svc.LiveUpdate(ctx, tid, mid, ids); return err }
			})
			hook.CheckGrowth(t, "live readers", 2, messaging.MaxRecipients, func(t *testing.T, n int) func(ctx context.Context) error {
				build(t, n)
				return func(ctx context.Context) error { _, err := f.svc.LiveReaders(ctx, tid, ids); return err }
			})
		})
		t.Run("case box", func(t *testing.T) {
			hook.CheckGrowth(t, "case box", 10, 100, func(t *testing.T, n int) func(ctx context.Context) error {
				owner := &f.colleaguesAs(t, fmt.Sprintf("case%d-", n), 1)[0]
				seeded, err := messagingtest.Seed(ctx, d, f.v, messagingtest.Box{OrgID: f.org.ID, Owner: owner, Threads: n, Messages: 2, Others: 1})
				if err != nil {
					t.Fatal(err)
				}
				caseID, err := f.svc.CreateCaseForThread(ctx, owner.Identity(), seeded.Threads[0], seeded.Others[0].ID, fmt.Sprintf("G-%d", n))
				if err != nil {
					t.Fatal(err)
				}
				if _, err := d.NewRaw("UPDATE threads SET case_id = ? WHERE id IN (?)", caseID, bun.In(seeded.Threads)).Exec(ctx); err != nil {
					t.Fatal(err)
				}
				return func(ctx context.Context) error { _, err := f.svc.CaseBox(ctx, owner.Identity(), caseID, 1); return err }
			})
		})
		t.Run("inbox of a big box", func(t *testing.T) {
			hook.CheckGrowth(t, "inbox", 50, 500, func(t *testing.T, n int) func(ctx context.Context) error {
				owner := f.growthPeople(t, fmt.Sprintf("inbox%d-", n), 1)[0]
				if _, err := messagingtest.Seed(ctx, d, f.v, messagingtest.Box{OrgID: f.org.ID, Owner: owner, Threads: n, Messages: 2, Others: 5, UnreadEvery: 3}); err != nil {
					t.Fatal(err)
				}
				return func(ctx context.Context) error {
					if _, err := f.svc.Inbox(ctx, owner.Identity(), 1, ""); err != nil {
						return err
					}
					_, err := f.svc.UnreadCount(ctx, owner.ID)
					return err
				}
			})
		})
		t.Run("export of a big box", func(t *testing.T) {
			hook.CheckGrowth(t, "export", 50, 500, func(t *testing.T, n int) func(ctx context.Context) error {
				owner := f.growthPeople(t, fmt.Sprintf("export%d-", n), 1)[0]
				if _, err := messagingtest.Seed(ctx, d, f.v, messagingtest.Box{OrgID: f.org.ID, Owner: owner, Threads: n, Messages: 2, Others: 5}); err != nil {
					t.Fatal(err)
				}
				return func(ctx context.Context) error {
					e, err := f.svc.Export(ctx, owner.Identity(), "192.0.2.1")
					if err != nil {
						return err
					}
					defer e.Close()
					return e.WriteTo(ctx, io.Discard)
				}
			})
		})
	})
}

// TestPeriodicStatementsDoNotGrow is TestStatementsDoNotGrow for the
// periodic jobs: the daily summaries to many people, and retention of
// many conversations.
func TestPeriodicStatementsDoNotGrow(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := setup(t, d)
		f.svc.Summary = mails{}
		hook := dbtest.CountStatements(d)
		day := 10
		t.Run("daily summary", func(t *testing.T) {
			hook.CheckGrowth(t, "daily summary", 10, 100, func(t *testing.T, n int) func(ctx context.Context) error {
				// Only the n people of this volume want a summary.
				if _, err := d.NewRaw("UPDATE users SET notify = ? WHERE notify = ?", auth.NotifyMessage, auth.NotifyDaily).Exec(ctx); err != nil {
					t.Fatal(err)
				}
				owner := f.growthPeople(t, fmt.Sprintf("summary%d-", n), 1)[0]
				seeded, err := messagingtest.Seed(ctx, d, f.v, messagingtest.Box{OrgID: f.org.ID, Owner: owner, Threads: n, Messages: 1, Others: n})
				if err != nil {
					t.Fatal(err)
				}
				// Each of the n others has one unread message.
				for _, u := range seeded.Others {
					f.setNotify(t, u, auth.NotifyDaily)
				}
				if _, err := d.NewRaw(`UPDATE message_states SET read_at = NULL WHERE user_id IN (SELECT id FROM users WHERE email LIKE ?)`, fmt.Sprintf("medewerker%%.%d@example.nl", owner.ID)).Exec(ctx); err != nil {
					t.Fatal(err)
				}
				if _, err := d.NewRaw(`UPDATE participants SET unread_count = 1 WHERE user_id IN (SELECT id FROM users WHERE email LIKE ?)`, fmt.Sprintf("medewerker%%.%d@example.nl", owner.ID)).Exec(ctx); err != nil {
					t.Fatal(err)
				}
				if _, err := d.NewRaw(`UPDATE users SET unread_total = 1 WHERE email LIKE ?`, fmt.Sprintf("medewerker%%.%d@example.nl", owner.ID)).Exec(ctx); err != nil {
					t.Fatal(err)
				}
				f.clk.Set(local(day, 9, 0))
				day++
				return func(ctx context.Context) error {
					sent, err := f.svc.SendDailySummaries(ctx)
					if err == nil && sent != n {
						err = fmt.Errorf("%d summaries, want %d", sent, n)
					}
					return err
				}
			})
		})
		t.Run("retention", func(t *testing.T) {
			f.makeAdmin(t)
			if err := f.svc.SetRetention(ctx, f.hr.Identity(), messaging.RetentionInput{Conversations: "3"}); err != nil {
				t.Fatal(err)
			}
			// The daily jobs are scheduled: the first is due at run.
			run := local(10, messaging.RetentionHour, 0)
			f.clk.Set(run.AddDate(0, 0, -1))
			if _, err := f.svc.RunDaily(ctx); err != nil {
				t.Fatal(err)
			}
			hook.CheckGrowth(t, "retention", 10, 100, func(t *testing.T, n int) func(ctx context.Context) error {
				// The day's jobs are done (the cleanup too, of what the
				// tests before left); then n conversations, older than the
				// period, wait for the next day's.
				f.clk.Set(run)
				if _, err := f.svc.RunDaily(ctx); err != nil {
					t.Fatal(err)
				}
				owner := f.growthPeople(t, fmt.Sprintf("retain%d-", n), 1)[0]
				seeded, err := messagingtest.Seed(ctx, d, f.v, messagingtest.Box{OrgID: f.org.ID, Owner: owner, Threads: n, Messages: 3, Others: 3,
					Start: run.AddDate(0, -6, 0)})
				if err != nil {
					t.Fatal(err)
				}
				run = run.AddDate(0, 0, 1)
				f.clk.Set(run)
				return func(ctx context.Context) error {
					if _, err := f.svc.RunDaily(ctx); err != nil {
						return err
					}
					// (Checked outside the counted context.)
					left, err := d.NewSelect().Model((*db.Thread)(nil)).Where("id IN (?)", bun.In(seeded.Threads)).Count(context.Background())
					if err == nil && left != 0 {
						err = fmt.Errorf("%d of %d conversations left", left, n)
					}
					return err
				}
			})
		})
	})
}
