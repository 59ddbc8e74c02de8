package messaging_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"dialoog/auth"
	"dialoog/db"
	"dialoog/db/dbtest"
	"dialoog/identity"
	"dialoog/messaging"
	"dialoog/messaging/messagingtest"
)

// TestPageStatementsDoNotGrow runs, on both engines, the pages and actions
// of cases, Beheer's teams, the conversation page and the removals at a
// small volume and at a larger one of what they list or touch, and fails
// when the number of statements grows with it (dbtest.CheckGrowth): the
// case list and its search, a case's page, linking a long conversation to
// a case and out of it, closing a case of many conversations, the
// conversation page of many people, deleting a message for everyone and
// removing a conversation of many people, an outsider's new conversation
// with many colleagues, a search of a big box and its later pages, and
// Beheer's team list and a big team's page; a reply to many colleagues
// who are away is known to grow (dbtest.KnownGrowth).
func TestPageStatementsDoNotGrow(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := setup(t, d)
		f.svc.Summary = mails{}
		hook := dbtest.CountStatements(d)

		// A case manager of f.org with n open cases about n people.
		cases := func(t *testing.T, tag string, n int) (*db.User, []db.Case) {
			t.Helper()
			owner := &f.colleaguesAs(t, "cases"+tag+"-", 1)[0]
			people := f.growthPeople(t, "subject"+tag+"-", n)
			cs := make([]db.Case, n)
			for i := range cs {
				cs[i] = db.Case{OrgID: f.org.ID, SubjectID: &people[i].ID, Reference: fmt.Sprintf("%s-%05d", tag, i), Status: db.CaseOpen,
					CreatedBy: &owner.ID, CreatedAt: f.clk.Now()}
			}
			if _, err := d.NewInsert().Model(&cs).Exec(ctx); err != nil {
				t.Fatal(err)
			}
			return owner, cs
		}
		t.Run("case list", func(t *testing.T) {
			hook.CheckGrowth(t, "case list", 30, 300, func(t *testing.T, n int) func(ctx context.Context) error {
				owner, cs := cases(t, fmt.Sprint("L", n), n)
				return func(ctx context.Context) error {
					l, err := f.svc.Cases(ctx, owner.Identity(), messaging.CaseListInput{})
					if err == nil && len(l.Cases) != messaging.CasesPageSize {
						return fmt.Errorf("%d cases on the first page", len(l.Cases))
					}
					if err == nil {
						_, err = f.svc.Cases(ctx, owner.Identity(), messaging.CaseListInput{After: cs[n/2].Reference})
					}
					return err
				}
			})
		})
		t.Run("case list search", func(t *testing.T) {
			hook.CheckGrowth(t, "case search", 30, 300, func(t *testing.T, n int) func(ctx context.Context) error {
				owner, _ := cases(t, fmt.Sprint("S", n), n)
				return func(ctx context.Context) error {
					_, err := f.svc.Cases(ctx, owner.Identity(), messaging.CaseListInput{Query: "Soon"})
					return err
				}
			})
		})
		// A case of n conversations of the owner's box with the case's
		// subject, each with a file.
		bigCase := func(t *testing.T, tag string, n int) (*db.User, int64, *messagingtest.Seeded) {
			t.Helper()
			owner := &f.colleaguesAs(t, "bigcase"+tag+"-", 1)[0]
			seeded, err := messagingtest.Seed(ctx, d, f.v, messagingtest.Box{OrgID: f.org.ID, Owner: owner, Threads: n, Messages: 2, Others: 1})
			if err != nil {
				t.Fatal(err)
			}
			caseID, err := f.svc.CreateCaseForThread(ctx, owner.Identity(), seeded.Threads[0], seeded.Others[0].ID, "G-"+tag)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := d.NewRaw("UPDATE threads SET case_id = ? WHERE id IN (?)", caseID, bun.In(seeded.Threads)).Exec(ctx); err != nil {
				t.Fatal(err)
			}
			if _, err := d.NewRaw(`INSERT INTO attachments (message_id, uploader_id, filename, content_type, size, storage_key, sha256, key_id, blob_format, created_at)
SELECT m.id, m.sender_id, 'brief.pdf', 'application/pdf', 10, 'k' || m.id, ?, ?, 0, m.created_at FROM messages AS m WHERE m.thread_id IN (?)`,
				make([]byte, 32), f.v.KeyID(), bun.In(seeded.Threads)).Exec(ctx); err != nil {
				t.Fatal(err)
			}
			return owner, caseID, seeded
		}
		t.Run("case page", func(t *testing.T) {
			hook.CheckGrowth(t, "case page", 10, 100, func(t *testing.T, n int) func(ctx context.Context) error {
				owner, caseID, _ := bigCase(t, fmt.Sprint("P", n), n)
				return func(ctx context.Context) error {
					v, err := f.svc.Case(ctx, owner.Identity(), caseID)
					if err == nil && (len(v.Threads) != n || len(v.Attachments) != 2*n) {
						return fmt.Errorf("%d conversations and %d files on the case page", len(v.Threads), len(v.Attachments))
					}
					return err
				}
			})
		})
		t.Run("close a case of many conversations", func(t *testing.T) {
			hook.CheckGrowth(t, "close a case", 10, 100, func(t *testing.T, n int) func(ctx context.Context) error {
				owner, caseID, _ := bigCase(t, fmt.Sprint("C", n), n)
				return func(ctx context.Context) error {
					if err := f.svc.SetCaseClosed(ctx, owner.Identity(), caseID, true); err != nil {
						return err
					}
					return f.svc.SetCaseClosed(ctx, owner.Identity(), caseID, false)
				}
			})
		})
		t.Run("link a long conversation of many people to a case and out", func(t *testing.T) {
			hook.CheckGrowth(t, "link to a case", 2, messaging.MaxRecipients, func(t *testing.T, n int) func(ctx context.Context) error {
				people := f.growthPeople(t, fmt.Sprintf("link%d-", n), n)
				tid := f.growthThread(t, people, 10*n)
				other := f.growthThread(t, people[:1], 1)
				caseID, err := f.svc.CreateCaseForThread(ctx, f.hr.Identity(), other, people[0].ID, fmt.Sprint("K-", n))
				if err != nil {
					t.Fatal(err)
				}
				return func(ctx context.Context) error {
					if _, err := f.svc.ThreadCase(ctx, f.hr.Identity(), tid); err != nil {
						return err
					}
					if err := f.svc.AddThreadToCase(ctx, f.hr.Identity(), tid, caseID); err != nil {
						return err
					}
					return f.svc.RemoveThreadFromCase(ctx, f.hr.Identity(), tid)
				}
			})
		})
		t.Run("the page of a conversation of many people", func(t *testing.T) {
			hook.CheckGrowth(t, "conversation page", 2, messaging.MaxRecipients, func(t *testing.T, n int) func(ctx context.Context) error {
				people := f.growthPeople(t, fmt.Sprintf("page%d-", n), n)
				tid := f.growthThread(t, people, 2*n)
				return func(ctx context.Context) error {
					v, err := f.svc.ThreadPage(ctx, f.hr.Identity(), tid, 0)
					if err == nil && len(v.Participants) < n {
						return fmt.Errorf("%d participants on the page", len(v.Participants))
					}
					if err == nil {
						_, err = f.svc.ThreadCase(ctx, f.hr.Identity(), tid)
					}
					return err
				}
			})
		})
		t.Run("delete for everyone in a long conversation of many people", func(t *testing.T) {
			hook.CheckGrowth(t, "delete for everyone", 2, messaging.MaxRecipients, func(t *testing.T, n int) func(ctx context.Context) error {
				people := f.growthPeople(t, fmt.Sprintf("delall%d-", n), n)
				tid := f.growthThread(t, people, 10*n)
				mid, err := f.svc.Reply(ctx, f.hr.Identity(), messaging.ReplyInput{ThreadID: tid, Body: "Vergissing"})
				if err != nil {
					t.Fatal(err)
				}
				return func(ctx context.Context) error { return f.svc.DeleteForEveryone(ctx, f.hr.Identity(), mid) }
			})
		})
		t.Run("remove a long conversation of many people", func(t *testing.T) {
			hook.CheckGrowth(t, "remove a conversation", 2, messaging.MaxRecipients, func(t *testing.T, n int) func(ctx context.Context) error {
				people := f.growthPeople(t, fmt.Sprintf("remove%d-", n), n)
				tid := f.growthThread(t, people, 10*n)
				return func(ctx context.Context) error {
					if _, err := f.svc.BoxHasMessages(ctx, f.hr.Identity(), tid); err != nil {
						return err
					}
					return f.svc.RemoveThreadFromBox(ctx, f.hr.Identity(), tid)
				}
			})
		})
		t.Run("an outsider starts a conversation with many colleagues", func(t *testing.T) {
			hook.CheckGrowth(t, "outsider compose", 2, messaging.MaxRecipients-1, func(t *testing.T, n int) func(ctx context.Context) error {
				outsider := f.growthPeople(t, fmt.Sprintf("outsider%d-", n), 1)[0]
				cols := f.colleaguesAs(t, fmt.Sprintf("shared%d-", n), n)
				to := []string{outsider.Email}
				for _, c := range cols {
					to = append(to, c.Email)
				}
				f.clk.Add(time.Hour)
				if _, err := f.svc.Compose(ctx, f.hr.Identity(), messaging.ComposeInput{To: to, Subject: "Kennismaking", Body: "Hallo"}); err != nil {
					t.Fatal(err)
				}
				return func(ctx context.Context) error {
					_, err := f.svc.Compose(ctx, outsider.Identity(), messaging.ComposeInput{To: to[1:], Subject: "Vraag", Body: "Hallo allemaal"})
					return err
				}
			})
		})
		t.Run("reply to many colleagues who are away", func(t *testing.T) {
			hook.KnownGrowth(t, "auto-replies", "each participant who is away answers with a message of their own, posted on its own: a statement each on PostgreSQL, about six on SQLite (the message, its read states, the counters, the conversation's time, the notices)",
				2, messaging.MaxRecipients, func(t *testing.T, n int) func(ctx context.Context) error {
					cols := f.colleaguesAs(t, fmt.Sprintf("away%d-", n), n)
					to := make([]string, n)
					ids := make([]int64, n)
					for i, c := range cols {
						to[i], ids[i] = c.Email, c.ID
					}
					f.clk.Add(time.Hour)
					tid, err := f.svc.Compose(ctx, f.hr.Identity(), messaging.ComposeInput{To: to, Subject: "Overleg", Body: "Hallo"})
					if err != nil {
						t.Fatal(err)
					}
					if _, err := d.NewRaw("UPDATE users SET away_enabled = TRUE, away_message = 'Ik ben weg', away_changed_at = ? WHERE id IN (?)", f.clk.Now().Add(-time.Hour), bun.In(ids)).Exec(ctx); err != nil {
						t.Fatal(err)
					}
					return func(ctx context.Context) error {
						_, err := f.svc.Reply(ctx, f.hr.Identity(), messaging.ReplyInput{ThreadID: tid, Body: "Nog iets"})
						return err
					}
				})
		})
		t.Run("search a big box", func(t *testing.T) {
			hook.CheckGrowth(t, "search", 50, 500, func(t *testing.T, n int) func(ctx context.Context) error {
				owner := f.growthPeople(t, fmt.Sprintf("search%d-", n), 1)[0]
				if _, err := messagingtest.Seed(ctx, d, f.v, messagingtest.Box{OrgID: f.org.ID, Owner: owner, Threads: n, Messages: 2, Others: 5, UnreadEvery: 3,
					Start: f.clk.Now().Add(-time.Duration(n) * time.Minute)}); err != nil {
					t.Fatal(err)
				}
				return func(ctx context.Context) error {
					for page := 1; page <= 2; page++ {
						p, err := f.svc.Inbox(ctx, owner.Identity(), page, "Verzuim")
						if err != nil {
							return err
						}
						if len(p.Threads) == 0 {
							return fmt.Errorf("nothing found on page %d", page)
						}
					}
					return nil
				}
			})
		})
		t.Run("Beheer's teams and a big team's page", func(t *testing.T) {
			admin := &auth.Current{User: &identity.User{ID: f.hr.ID, OrgID: &f.org.ID, Email: f.hr.Email, Kind: db.KindInternal, IsAdmin: true, Status: db.StatusActive}}
			hook.CheckGrowth(t, "teams", 10, 100, func(t *testing.T, n int) func(ctx context.Context) error {
				var last int64
				for i := range n {
					team, err := f.svc.CreateTeam(ctx, f.org.ID, fmt.Sprintf("Team %d-%03d", n, i), false, true)
					if err != nil {
						t.Fatal(err)
					}
					last = team.ID
				}
				users := f.colleaguesAs(t, fmt.Sprintf("admteam%d-", n), n)
				members := make([]db.TeamMember, len(users))
				for i := range users {
					members[i] = db.TeamMember{TeamID: last, UserID: users[i].ID, AddedAt: f.clk.Now()}
				}
				if _, err := d.NewInsert().Model(&members).Exec(ctx); err != nil {
					t.Fatal(err)
				}
				return func(ctx context.Context) error {
					if _, err := f.svc.OrgTeams(ctx, admin); err != nil {
						return err
					}
					team, err := f.svc.OrgTeam(ctx, admin, last)
					if err == nil && len(team.Members) != n {
						return fmt.Errorf("%d members on the team's page", len(team.Members))
					}
					return err
				}
			})
		})
	})
}
