package signing_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"dialoog/db"
	"dialoog/db/dbtest"
	"dialoog/messaging"
	"dialoog/signing"
)

// TestSigningStatementsDoNotGrow checks, on both engines, that asking 20
// people to sign runs as many statements as asking 2, and so do the
// conversation's cards and the live cards (dbtest.CheckGrowth).
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
	})
}
