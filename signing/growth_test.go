package signing_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"dialoog/db"
	"dialoog/db/dbtest"
	"dialoog/messaging"
	"dialoog/messaging/messagingtest"
	"dialoog/signing"
)

// TestSigningStatementsDoNotGrow checks, on both engines, that asking 20
// people to sign runs as many statements as asking 2, and so do the
// reminders of the periodic job, the conversation's cards and the live
// cards (dbtest.CheckGrowth); the job's expiry of many requests is known
// to grow (dbtest.KnownGrowth).
func TestSigningStatementsDoNotGrow(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := setup(t, d)
		hook := dbtest.CountStatements(d)
		var tid, rid int64
		var signers []*db.User
		// A conversation of hr with n people, who are asked to sign.
		conversation := func(t *testing.T, n int, tag string) {
			t.Helper()
			signers = nil
			var to []string
			for i := range n {
				u := f.user(t, fmt.Sprintf("%s%d-%d@example.nl", tag, n, i), false, "Ond", "Ertekenaar")
				signers = append(signers, u)
				to = append(to, u.Email)
			}
			f.clk.Add(time.Hour)
			var err error
			if tid, err = f.msgs.Compose(ctx, f.hr.Identity(), messaging.ComposeInput{To: to, Subject: "Akkoord", Body: "Graag"}); err != nil {
				t.Fatal(err)
			}
		}
		ask := func(ctx context.Context, n int) error {
			att, err := f.msgs.Upload(context.Background(), f.hr.Identity(), "a.pdf", pdf(1, fmt.Sprint("A", n)))
			if err != nil {
				return err
			}
			ids := make([]int64, len(signers))
			for i, u := range signers {
				ids[i] = u.ID
			}
			// Only the request is counted: the reply that carries it
			// runs with an uncounted context.
			_, err = f.msgs.Reply(context.Background(), f.hr.Identity(), messaging.ReplyInput{ThreadID: tid, Body: "Graag je akkoord.", AttachmentIDs: []int64{att.ID},
				Within: func(_ context.Context, tx bun.Tx, messageID int64) ([]messaging.Event, error) {
					var err error
					rid, err = f.svc.RequestTx(ctx, tx, f.hr, tid, messageID, signing.RequestInput{SignerIDs: ids, Deadline: f.clk.Now().Add(10 * 24 * time.Hour)})
					return nil, err
				}})
			return err
		}
		hook.CheckGrowth(t, "ask", 2, messaging.MaxRecipients, func(t *testing.T, n int) func(ctx context.Context) error {
			conversation(t, n, "ask")
			return func(ctx context.Context) error { return ask(ctx, n) }
		})
		hook.CheckGrowth(t, "reminders", 2, messaging.MaxRecipients, func(t *testing.T, n int) func(ctx context.Context) error {
			// Only this volume's request is due.
			if _, err := d.NewRaw("UPDATE signing_requests SET status = ?, closed_at = ? WHERE status = ?", signing.StatusDeclined, f.clk.Now(), signing.StatusOpen).Exec(ctx); err != nil {
				t.Fatal(err)
			}
			conversation(t, n, "remind")
			if err := ask(context.Background(), n); err != nil {
				t.Fatal(err)
			}
			f.clk.Add(10*24*time.Hour - signing.RemindBefore + time.Hour)
			return func(ctx context.Context) error {
				reminded, _, err := f.svc.RunDue(ctx)
				if err == nil && reminded != 1 {
					err = fmt.Errorf("%d reminded, want 1", reminded)
				}
				return err
			}
		})
		hook.CheckGrowth(t, "cards", 2, messaging.MaxRecipients, func(t *testing.T, n int) func(ctx context.Context) error {
			conversation(t, n, "cards")
			if err := ask(context.Background(), n); err != nil {
				t.Fatal(err)
			}
			return func(ctx context.Context) error { _, err := f.svc.Cards(ctx, f.hr.Identity(), tid); return err }
		})
		hook.CheckGrowth(t, "live cards", 2, messaging.MaxRecipients, func(t *testing.T, n int) func(ctx context.Context) error {
			conversation(t, n, "live")
			if err := ask(context.Background(), n); err != nil {
				t.Fatal(err)
			}
			ids := []int64{f.hr.ID}
			for _, u := range signers {
				ids = append(ids, u.ID)
			}
			return func(ctx context.Context) error { _, err := f.svc.LiveCards(ctx, rid, ids); return err }
		})
		// Conversations of someone else, with requests anyone could see
		// were they in them (no message): left out.
		var others []int64
		hook.CheckGrowth(t, "export of many conversations' requests", 5, 50, func(t *testing.T, n int) func(ctx context.Context) error {
			owner := f.user(t, fmt.Sprintf("export%d@example.nl", n), false, "Ex", "Port")
			seeded, err := messagingtest.Seed(ctx, d, f.v, messagingtest.Box{OrgID: f.org.ID, Owner: owner, Threads: n})
			if err != nil {
				t.Fatal(err)
			}
			tids := seeded.Threads
			now := f.clk.Now()
			for _, tid := range tids {
				var id int64
				if err := d.NewRaw(`INSERT INTO signing_requests (thread_id, org_id, requester_name, name_sealed, sha256, pages, in_order, status, deadline, created_at, updated_at)
VALUES (?, ?, 'Hanna', ?, '00', 1, FALSE, 'declined', ?, ?, ?) RETURNING id`, tid, f.org.ID, []byte("x"), now.Add(time.Hour), now, now).Scan(ctx, &id); err != nil {
					t.Fatal(err)
				}
				// The document's name, sealed as a request's (nameAD).
				if _, err := d.NewRaw("UPDATE signing_requests SET name_sealed = ? WHERE id = ?", f.v.Seal([]byte("plan.pdf"), fmt.Appendf(nil, "signing:name:%d", id)), id).Exec(ctx); err != nil {
					t.Fatal(err)
				}
				if _, err := d.NewRaw("INSERT INTO signing_signers (request_id, user_id, position, status) VALUES (?, ?, 0, 'declined')", id, owner.ID).Exec(ctx); err != nil {
					t.Fatal(err)
				}
			}
			asked := append(slices.Clone(tids), others...)
			others = tids
			return func(ctx context.Context) error {
				got, err := f.svc.ExportRequests(ctx, owner.Identity(), asked)
				if err == nil && len(got) != n {
					err = fmt.Errorf("requests of %d conversations, want %d", len(got), n)
				}
				return err
			}
		})
		// n open requests of requester in conversation tid, each waiting
		// for signer.
		openRequests := func(t *testing.T, tid, requester, signer int64, n int) []int64 {
			t.Helper()
			now := f.clk.Now()
			ids := make([]int64, n)
			for i := range ids {
				if err := d.NewRaw(`INSERT INTO signing_requests (thread_id, org_id, requested_by, requester_name, name_sealed, sha256, pages, in_order, status, deadline, created_at, updated_at)
VALUES (?, ?, ?, 'Hanna', ?, '00', 1, FALSE, 'open', ?, ?, ?) RETURNING id`, tid, f.org.ID, requester, []byte("x"), now.Add(10*24*time.Hour), now, now).Scan(ctx, &ids[i]); err != nil {
					t.Fatal(err)
				}
				// The document's name, sealed as a request's (nameAD).
				if _, err := d.NewRaw("UPDATE signing_requests SET name_sealed = ? WHERE id = ?", f.v.Seal([]byte("plan.pdf"), fmt.Appendf(nil, "signing:name:%d", ids[i])), ids[i]).Exec(ctx); err != nil {
					t.Fatal(err)
				}
				if _, err := d.NewRaw("INSERT INTO signing_signers (request_id, user_id, position, status) VALUES (?, ?, 0, 'waiting')", ids[i], signer).Exec(ctx); err != nil {
					t.Fatal(err)
				}
			}
			return ids
		}
		// lapsed checks that the requests ids lapsed, each with its
		// audit row.
		lapsed := func(ctx context.Context, ids []int64) error {
			n, err := d.NewSelect().Table("signing_requests").Where("id IN (?) AND status = ?", bun.In(ids), signing.StatusLapsed).Count(ctx)
			if err == nil && n != int64(len(ids)) {
				err = fmt.Errorf("%d of %d requests lapsed", n, len(ids))
			}
			return err
		}
		t.Run("close a case of many open requests", func(t *testing.T) {
			other := f.user(t, "collega@osaw.nl", true, "Cor", "Collega")
			hook.CheckGrowth(t, "close a case", 5, 50, func(t *testing.T, n int) func(ctx context.Context) error {
				f.clk.Add(time.Hour)
				tid, err := f.msgs.Compose(ctx, f.hr.Identity(), messaging.ComposeInput{To: []string{f.jan.Email, other.Email}, Subject: "Dossier", Body: "Zie bijlage."})
				if err != nil {
					t.Fatal(err)
				}
				caseID, err := f.msgs.CreateCaseForThread(ctx, f.hr.Identity(), tid, f.jan.ID, fmt.Sprint("D-", n))
				if err != nil {
					t.Fatal(err)
				}
				// Half of them the closer's own (no mail), half a colleague's.
				ids := append(openRequests(t, tid, f.hr.ID, f.jan.ID, n/2), openRequests(t, tid, other.ID, f.jan.ID, n-n/2)...)
				return func(ctx context.Context) error {
					if err := f.msgs.SetCaseClosed(ctx, f.hr.Identity(), caseID, true); err != nil {
						return err
					}
					return lapsed(ctx, ids)
				}
			})
		})
		t.Run("stop an account many requests wait for", func(t *testing.T) {
			hook.CheckGrowth(t, "stop", 5, 50, func(t *testing.T, n int) func(ctx context.Context) error {
				u := f.user(t, fmt.Sprintf("stopper%d@example.nl", n), false, "Stef", "Stopper")
				f.clk.Add(time.Hour)
				tid, err := f.msgs.Compose(ctx, f.hr.Identity(), messaging.ComposeInput{To: []string{u.Email}, Subject: "Akkoord", Body: "Graag"})
				if err != nil {
					t.Fatal(err)
				}
				ids := openRequests(t, tid, f.hr.ID, u.ID, n)
				// The conversation stays (hr keeps it), with its requests.
				return func(ctx context.Context) error {
					if err := f.msgs.StopService(ctx, u.Identity()); err != nil {
						return err
					}
					return lapsed(ctx, ids)
				}
			})
		})
		t.Run("the cards of a conversation of many requests", func(t *testing.T) {
			hook.CheckGrowth(t, "many cards", 5, 50, func(t *testing.T, n int) func(ctx context.Context) error {
				f.clk.Add(time.Hour)
				tid, err := f.msgs.Compose(ctx, f.hr.Identity(), messaging.ComposeInput{To: []string{f.jan.Email}, Subject: "Veel documenten", Body: "Graag"})
				if err != nil {
					t.Fatal(err)
				}
				openRequests(t, tid, f.hr.ID, f.jan.ID, n)
				return func(ctx context.Context) error {
					for _, u := range []*db.User{f.hr, f.jan} {
						cards, err := f.svc.Cards(ctx, u.Identity(), tid)
						if err != nil {
							return err
						}
						if len(cards) != n {
							return fmt.Errorf("%d cards for %s, want %d", len(cards), u.Email, n)
						}
					}
					return nil
				}
			})
		})
		t.Run("a member many requests wait for leaves the team", func(t *testing.T) {
			hook.CheckGrowth(t, "leave a team", 5, 50, func(t *testing.T, n int) func(ctx context.Context) error {
				team, err := f.msgs.CreateTeam(ctx, f.org.ID, fmt.Sprint("Team ", n), false, true)
				if err != nil {
					t.Fatal(err)
				}
				u := f.user(t, fmt.Sprintf("leaver%d@osaw.nl", n), true, "Lea", "Ver")
				for _, email := range []string{f.hr.Email, u.Email} {
					if err := f.msgs.AddTeamMember(ctx, team.ID, email); err != nil {
						t.Fatal(err)
					}
				}
				f.clk.Add(time.Hour)
				tid, err := f.msgs.Compose(ctx, f.hr.Identity(), messaging.ComposeInput{To: []string{f.jan.Email}, Subject: "Team", Body: "Graag", TeamID: team.ID})
				if err != nil {
					t.Fatal(err)
				}
				ids := openRequests(t, tid, f.hr.ID, u.ID, n)
				return func(ctx context.Context) error {
					if err := f.msgs.RemoveTeamMember(ctx, team.ID, u.Email); err != nil {
						return err
					}
					return lapsed(ctx, ids)
				}
			})
		})
		t.Run("expiry of many requests", func(t *testing.T) {
			hook.KnownGrowth(t, "expiry of many requests", "RunDue claims and ends each due request in a transaction of its own (the claim, its signers, the requester's mail, the audit row, the live events)",
				5, 50, func(t *testing.T, n int) func(ctx context.Context) error {
					if _, err := d.NewRaw("UPDATE signing_requests SET status = ?, closed_at = ? WHERE status = ?", signing.StatusDeclined, f.clk.Now(), signing.StatusOpen).Exec(ctx); err != nil {
						t.Fatal(err)
					}
					now := f.clk.Now()
					for range n {
						var id int64
						if err := d.NewRaw(`INSERT INTO signing_requests (thread_id, org_id, requester_name, name_sealed, sha256, pages, in_order, status, deadline, created_at, updated_at)
VALUES (?, ?, 'Hanna', ?, '00', 1, FALSE, 'open', ?, ?, ?) RETURNING id`, f.thread, f.org.ID, []byte("x"), now.Add(time.Hour), now, now).Scan(ctx, &id); err != nil {
							t.Fatal(err)
						}
						if _, err := d.NewRaw("INSERT INTO signing_signers (request_id, user_id, position, status) VALUES (?, ?, 0, 'waiting')", id, f.jan.ID).Exec(ctx); err != nil {
							t.Fatal(err)
						}
					}
					f.clk.Add(2 * time.Hour)
					return func(ctx context.Context) error {
						_, expired, err := f.svc.RunDue(ctx)
						if err == nil && expired != n {
							err = fmt.Errorf("%d expired, want %d", expired, n)
						}
						return err
					}
				})
		})
	})
}
