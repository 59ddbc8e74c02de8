package signing_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"dialoog/db"
	"dialoog/db/dbtest"
	"dialoog/messaging"
	"dialoog/messaging/messagingtest"
	"dialoog/notify"
	"dialoog/signing"
)

// TestEverydaySigningPlans checks with EXPLAIN, on both engines, that no
// statement of a signing request's every-day steps, nor of the job that
// looks for due requests every five minutes (RunDue), reads a whole table
// that grows with people or messages, beside 2,000 other conversations
// with 2,000 requests of which a fifth have a deadline: asking, the
// cards, viewing the document, the code, agreeing, declining, the live
// cards, and the periodic job. (The organisations' table, of a few rows,
// may be read whole.)
func TestEverydaySigningPlans(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := setup(t, d)
		seeded, err := messagingtest.Seed(ctx, d, f.v, messagingtest.Box{OrgID: f.org.ID, Owner: f.hr, Threads: 2000, Messages: 1, Others: 200})
		if err != nil {
			t.Fatal(err)
		}
		seedRequests(t, d, f.org.ID, seeded, f.clk.Now())
		stmts := dbtest.CountStatements(d)
		dbtest.ForStatistics(t, d, func(t *testing.T, sfx string) {
			op := func(what string, fn func(ctx context.Context) error) {
				t.Helper()
				f.clk.Add(time.Minute)
				stmts.ExplainOp(t, d, what, fn, "organisations")
			}
			var a, b int64
			op("ask", func(ctx context.Context) error {
				att, err := f.msgs.Upload(ctx, f.hr.Identity(), "a.pdf", pdf(1, "A"+sfx))
				if err != nil {
					return err
				}
				in := signing.RequestInput{SignerIDs: []int64{f.jan.ID, f.kees.ID}, Deadline: f.clk.Now().Add(10 * 24 * time.Hour)}
				_, err = f.msgs.Reply(ctx, f.hr.Identity(), messaging.ReplyInput{ThreadID: f.thread, Body: "Graag je akkoord.", AttachmentIDs: []int64{att.ID},
					Within: func(ctx context.Context, tx bun.Tx, messageID int64) ([]messaging.Event, error) {
						var err error
						a, err = f.svc.RequestTx(ctx, tx, f.hr, f.thread, messageID, in)
						return nil, err
					}})
				return err
			})
			b = f.request(t, "b.pdf", pdf(1, "B"+sfx), signing.RequestInput{SignerIDs: []int64{f.kees.ID}})
			op("cards", func(ctx context.Context) error { _, err := f.svc.Cards(ctx, f.jan.Identity(), f.thread); return err })
			op("card", func(ctx context.Context) error { _, err := f.svc.CardByID(ctx, f.jan.Identity(), a); return err })
			op("view", func(ctx context.Context) error {
				_, _, err := f.svc.View(ctx, f.jan.Identity(), a, "192.0.2.1")
				return err
			})
			op("send a code", func(ctx context.Context) error { return f.svc.SendCode(ctx, f.jan.Identity(), a, "192.0.2.1") })
			sms, err := notify.LatestDevSMSTo(ctx, d, f.v, "+31612345678")
			if err != nil {
				t.Fatal(err)
			}
			code := codeRE.FindString(sms.Body)
			op("agree", func(ctx context.Context) error {
				return f.svc.Agree(ctx, f.jan.Identity(), a, signing.AgreeInput{Read: true, Code: code, IP: "192.0.2.1", UserAgent: "Test/1.0"})
			})
			op("decline", func(ctx context.Context) error { return f.svc.Decline(ctx, f.kees.Identity(), b, "Nee", "192.0.2.1") })
			op("live cards", func(ctx context.Context) error {
				_, err := f.svc.LiveCards(ctx, a, []int64{f.hr.ID, f.jan.ID, f.kees.ID})
				return err
			})
			op("periodic job", func(ctx context.Context) error { _, _, err := f.svc.RunDue(ctx); return err })
		})
	})
}

// seedRequests asks one of the seeded conversation's other person to sign
// in each of them; every fifth request has a deadline, and of the rest
// some are closed.
func seedRequests(t *testing.T, d *db.DB, orgID int64, seeded *messagingtest.Seeded, now time.Time) {
	t.Helper()
	ctx := context.Background()
	statuses := []string{"open", "sealed", "declined", "expired", "lapsed"}
	for i := 0; i < len(seeded.Threads); i += 500 {
		var vals []string
		var args []any
		for j := i; j < min(i+500, len(seeded.Threads)); j++ {
			st := statuses[j%len(statuses)]
			var deadline, closed any
			if j%5 == 0 {
				deadline = now.Add(time.Duration(20+j%30) * 24 * time.Hour)
			}
			if st != "open" {
				closed = now
			}
			vals = append(vals, "(?, ?, 'Hanna', ?, '00', 1, FALSE, ?, ?, ?, ?, ?)")
			args = append(args, seeded.Threads[j], orgID, []byte("x"), st, deadline, now, now, closed)
		}
		var ids []int64
		if err := d.NewRaw(`INSERT INTO signing_requests (thread_id, org_id, requester_name, name_sealed, sha256, pages, in_order, status, deadline, created_at, updated_at, closed_at)
VALUES `+strings.Join(vals, ", ")+" RETURNING id", args...).Scan(ctx, &ids); err != nil {
			t.Fatal(err)
		}
		vals, args = nil, nil
		for k, id := range ids {
			vals = append(vals, "(?, ?, 0, 'waiting')")
			args = append(args, id, seeded.Others[(i+k)%len(seeded.Others)].ID)
		}
		if _, err := d.NewRaw("INSERT INTO signing_signers (request_id, user_id, position, status) VALUES "+strings.Join(vals, ", "), args...).Exec(ctx); err != nil {
			t.Fatal(err)
		}
	}
}
