package messaging_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"dialoog/db"
	"dialoog/db/dbtest"
	"dialoog/messaging"
)

// markReadRace is a change that meets marking read: prepare makes what
// every round needs, once per engine, and returns round, which makes a
// round's conversation and returns the marking and the change to run at
// once.
type markReadRace struct {
	name    string
	prepare func(t *testing.T, f *fx) (round func(t *testing.T, i int) (mark, change func() error))
}

// TestMarkReadWhileTheBoxChanges, on both engines: a person opens a
// conversation (MarkRead, MarkReadUpTo) at the moment something else
// changes their read states or counters in it, many times: a removal from
// their box (their own, in another tab, of a message or the whole
// conversation), a deletion for everyone of a later message, a reply, and
// their leaving or joining a team. Both end, and every counter agrees
// with the read states. Before, on PostgreSQL, marking read took the
// reader's read states, user row and participant row without a lock on
// the conversation: a removal recounted the box from states as they were
// before the marking committed, or the marking counted a state the
// removal had just taken out of the box (counts off by what was marked,
// below zero); a member leaving the team waited for the reader's states
// while the reader waited for the participant row the leave had just
// given back (a deadlock), and its recount of the unread total missed
// what the reader marked meanwhile in another conversation; a member
// joining a medical team (participant rows, then the user's row) and the
// marking (the user's row, then the participant's) deadlocked.
func TestMarkReadWhileTheBoxChanges(t *testing.T) {
	for _, race := range markReadRaces() {
		t.Run(race.name, func(t *testing.T) {
			dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
				f := setup(t, d)
				round := race.prepare(t, f)
				for i := range 25 {
					mark, change := round(t, i)
					var markErr, changeErr error
					atOnce(func() { markErr = mark() }, func() { changeErr = change() })
					if markErr != nil || changeErr != nil {
						t.Fatalf("round %d: mark read: %v; change: %v", i, markErr, changeErr)
					}
					countersAgree(t, d, fmt.Sprintf("round %d of marking read and %s", i, race.name))
				}
			})
		})
	}
}

func markReadRaces() []markReadRace {
	ctx := context.Background()
	// unread makes a conversation from Hanna to u with n messages, unread
	// for u, and returns it with the ids of its messages.
	unread := func(t *testing.T, f *fx, u *db.User, n int) (int64, []int64) {
		t.Helper()
		th, err := f.svc.Compose(ctx, f.hr.Identity(), messaging.ComposeInput{To: []string{u.Email}, Subject: "Overleg", Body: "Hallo"})
		if err != nil {
			t.Fatal(err)
		}
		v, err := f.svc.Thread(ctx, f.hr.Identity(), th)
		if err != nil {
			t.Fatal(err)
		}
		ids := []int64{v.Messages[0].ID}
		for i := 1; i < n; i++ {
			m, err := f.svc.Reply(ctx, f.hr.Identity(), messaging.ReplyInput{ThreadID: th, Body: fmt.Sprint("Nog iets ", i)})
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, m)
		}
		return th, ids
	}
	markAll := func(f *fx, u *db.User, th int64) func() error {
		return func() error { _, err := f.svc.MarkRead(ctx, u.Identity(), th); return err }
	}
	// personal makes a conversation of team with Jan, in which Piet took
	// part in person before he joins the team (his row becomes the
	// team's and goes back to him when he leaves), with three unread
	// messages for him.
	personal := func(t *testing.T, f *fx, team *db.Team, jan, piet *db.User) int64 {
		t.Helper()
		th, err := f.svc.Compose(ctx, f.hr.Identity(), messaging.ComposeInput{To: []string{jan.Email}, Subject: "Verzuim", Body: "Hallo", TeamID: team.ID})
		if err != nil {
			t.Fatal(err)
		}
		if err := f.svc.AddParticipant(ctx, f.hr.Identity(), th, messaging.AddInput{Email: piet.Email, History: messaging.WithHistory}); err != nil {
			t.Fatal(err)
		}
		for i := range 2 {
			if _, err := f.svc.Reply(ctx, jan.Identity(), messaging.ReplyInput{ThreadID: th, Body: fmt.Sprint("Nog iets ", i)}); err != nil {
				t.Fatal(err)
			}
		}
		f.clk.Add(time.Second) // he joins after he was added
		return th
	}
	return []markReadRace{
		{"a removal from the own box", func(t *testing.T, f *fx) func(*testing.T, int) (func() error, func() error) {
			jan := f.active(t, "jan@example.nl", false, "Jan", "", "Jansen")
			return func(t *testing.T, _ int) (func() error, func() error) {
				th, ids := unread(t, f, jan, 4)
				return markAll(f, jan, th), func() error { return f.svc.RemoveFromBox(ctx, jan.Identity(), ids[2]) }
			}
		}},
		{"the conversation removed from the own box", func(t *testing.T, f *fx) func(*testing.T, int) (func() error, func() error) {
			jan := f.active(t, "jan@example.nl", false, "Jan", "", "Jansen")
			return func(t *testing.T, _ int) (func() error, func() error) {
				th, _ := unread(t, f, jan, 4)
				return markAll(f, jan, th), func() error { return f.svc.RemoveThreadFromBox(ctx, jan.Identity(), th) }
			}
		}},
		{"a later message deleted for everyone", func(t *testing.T, f *fx) func(*testing.T, int) (func() error, func() error) {
			jan := f.active(t, "jan@example.nl", false, "Jan", "", "Jansen")
			return func(t *testing.T, _ int) (func() error, func() error) {
				th, ids := unread(t, f, jan, 4)
				return func() error { _, err := f.svc.MarkReadUpTo(ctx, jan.Identity(), th, ids[2]); return err },
					func() error { return f.svc.DeleteForEveryone(ctx, f.hr.Identity(), ids[3]) }
			}
		}},
		{"a reply", func(t *testing.T, f *fx) func(*testing.T, int) (func() error, func() error) {
			jan := f.active(t, "jan@example.nl", false, "Jan", "", "Jansen")
			return func(t *testing.T, _ int) (func() error, func() error) {
				th, _ := unread(t, f, jan, 4)
				return markAll(f, jan, th), func() error {
					_, err := f.svc.Reply(ctx, f.hr.Identity(), messaging.ReplyInput{ThreadID: th, Body: "Nog een vraag"})
					return err
				}
			}
		}},
		{"leaving the conversation's team", func(t *testing.T, f *fx) func(*testing.T, int) (func() error, func() error) {
			jan := f.active(t, "jan@example.nl", false, "Jan", "", "Jansen")
			piet := f.active(t, "piet@osaw.nl", true, "Piet", "", "Post")
			team := newTeam(t, f, "OSAW Verzuim", true, f.hr)
			return func(t *testing.T, _ int) (func() error, func() error) {
				th := personal(t, f, team, jan, piet)
				if err := f.svc.AddTeamMember(ctx, team.ID, piet.Email); err != nil {
					t.Fatal(err)
				}
				return markAll(f, piet, th), func() error { return f.svc.RemoveTeamMember(ctx, team.ID, piet.Email) }
			}
		}},
		{"leaving a team", func(t *testing.T, f *fx) func(*testing.T, int) (func() error, func() error) {
			piet := f.active(t, "piet@osaw.nl", true, "Piet", "", "Post")
			team := newTeam(t, f, "OSAW Verzuim", true, f.hr)
			return func(t *testing.T, _ int) (func() error, func() error) {
				if err := f.svc.AddTeamMember(ctx, team.ID, piet.Email); err != nil {
					t.Fatal(err)
				}
				th, _ := unread(t, f, piet, 3)
				return markAll(f, piet, th), func() error { return f.svc.RemoveTeamMember(ctx, team.ID, piet.Email) }
			}
		}},
		{"joining the conversation's medical team", func(t *testing.T, f *fx) func(*testing.T, int) (func() error, func() error) {
			jan := f.active(t, "jan@example.nl", false, "Jan", "", "Jansen")
			piet := f.active(t, "piet@osaw.nl", true, "Piet", "", "Post")
			// Piet may read medical conversations (his own medical team)
			// and so take part in the other team's in person.
			own, err := f.svc.CreateTeam(ctx, f.org.ID, "Bedrijfsarts", true, true)
			if err != nil {
				t.Fatal(err)
			}
			if err := f.svc.AddTeamMember(ctx, own.ID, piet.Email); err != nil {
				t.Fatal(err)
			}
			team, err := f.svc.CreateTeam(ctx, f.org.ID, "Verzuim", true, true)
			if err != nil {
				t.Fatal(err)
			}
			if err := f.svc.AddTeamMember(ctx, team.ID, f.hr.Email); err != nil {
				t.Fatal(err)
			}
			return func(t *testing.T, i int) (func() error, func() error) {
				if i > 0 {
					if err := f.svc.RemoveTeamMember(ctx, team.ID, piet.Email); err != nil {
						t.Fatal(err)
					}
				}
				th := personal(t, f, team, jan, piet)
				return markAll(f, piet, th), func() error { return f.svc.AddTeamMember(ctx, team.ID, piet.Email) }
			}
		}},
	}
}
