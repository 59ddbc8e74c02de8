package signing_test

import (
	"context"
	"errors"
	"testing"

	"github.com/uptrace/bun"

	"dialoog/db"
	"dialoog/db/dbtest"
	"dialoog/messaging"
	"dialoog/seal"
	"dialoog/signing"
)

// The tests of this file force, on PostgreSQL, the interleaving of a
// signing change (which locks its request, then writes into its
// conversation) with a change that locks conversations and then touches
// requests, and check that both end: with the rows locked in the other
// order PostgreSQL cancelled one of them (deadlock detected, 40P01).
// SQLite's writers take turns; there the tests check the outcome.

// failingSealer leaves a request agreed but not sealed, as when the seal
// service is away: the periodic run tries Finish again later.
type failingSealer struct{}

func (failingSealer) Seal(context.Context, int64, []byte, seal.Evidence) ([]byte, error) {
	return nil, errors.New("seal service away")
}

// agreedRequest asks Jan, alone, to agree to a PDF in thread tid, and has
// him agree while sealing fails: the request is agreed, to be finished.
func (f *fx) agreedRequest(t *testing.T, tid int64) int64 {
	t.Helper()
	ctx := context.Background()
	att, err := f.msgs.Upload(ctx, f.hr.Identity(), "plan.pdf", pdf(1, "lock"))
	if err != nil {
		t.Fatal(err)
	}
	var id int64
	if _, err := f.msgs.Reply(ctx, f.hr.Identity(), messaging.ReplyInput{ThreadID: tid, Body: "Graag je akkoord.", AttachmentIDs: []int64{att.ID},
		Within: func(ctx context.Context, tx bun.Tx, messageID int64) ([]messaging.Event, error) {
			var err error
			id, err = f.svc.RequestTx(ctx, tx, f.hr, tid, messageID, signing.RequestInput{SignerIDs: []int64{f.jan.ID}})
			return nil, err
		}}); err != nil {
		t.Fatal(err)
	}
	f.svc.Sealer = failingSealer{}
	err = f.agree(f.jan, id, f.sentCode(t, f.jan, id))
	f.svc.Sealer = f.sealer
	if err != nil {
		t.Fatal(err)
	}
	if c := f.card(t, f.hr, id); c.Status != signing.StatusAgreed {
		t.Fatalf("the request is %s, want agreed", c.Status)
	}
	return id
}

// TestFinishWhileTheRequesterStops, on both engines: the sealed PDF of an
// agreed request is added (Finish: the request, then its conversation)
// while the requester stops with Dialoog, whose deletion empties the
// request's requested_by. Both end, one after the other. Before, on
// PostgreSQL, the stop held the conversation (holdOwnThreads) and then
// waited for the request, and Finish held the request and waited for the
// conversation: one was cancelled as a deadlock. The stop is held (a row
// lock on the requester's user row) after its first locks until Finish
// waits too.
func TestFinishWhileTheRequesterStops(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		ctx := context.Background()
		id := f.agreedRequest(t, f.thread)
		pid, release := dbtest.HoldRows(t, d, "SELECT id FROM users WHERE id = ? FOR NO KEY UPDATE", f.hr.ID)
		stopErr, finishErr := dbtest.InTurn(t, d, pid, release,
			func() error { return f.msgs.StopService(ctx, f.hr.Identity()) },
			func() error { return f.svc.Finish(ctx, id) })
		if stopErr != nil || finishErr != nil {
			t.Fatalf("stop: %v; finish: %v", stopErr, finishErr)
		}
		if c := f.card(t, f.jan, id); c.Status != signing.StatusSealed {
			t.Fatalf("the request is %s, want sealed", c.Status)
		}
	})
}

// TestFinishWhileTheDocumentLeavesTheLastBox, on both engines: the
// requester removes the message with the document from her box, the last
// one that has it (the signer agreed and then stopped), while the sealed
// PDF is added. The removal deletes the message and its attachment, which
// empties the request's references to them. Both end. Before, on
// PostgreSQL, the removal held the conversation (messageToDelete) and then
// waited for the request, Finish the other way round: a deadlock. The
// removal is held (a row lock on her read state of the message) after its
// first locks until Finish waits too.
func TestFinishWhileTheDocumentLeavesTheLastBox(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		ctx := context.Background()
		tid, err := f.msgs.Compose(ctx, f.hr.Identity(), messaging.ComposeInput{To: []string{f.jan.Email}, Subject: "Akkoord", Body: "Zie hierna."})
		if err != nil {
			t.Fatal(err)
		}
		id := f.agreedRequest(t, tid)
		if err := f.msgs.StopService(ctx, f.jan.Identity()); err != nil {
			t.Fatal(err)
		}
		var mid int64
		if err := d.NewSelect().Table("signing_requests").Column("message_id").Where("id = ?", id).Scan(ctx, &mid); err != nil {
			t.Fatal(err)
		}
		pid, release := dbtest.HoldRows(t, d, "SELECT user_id FROM message_states WHERE message_id = ? AND user_id = ? FOR UPDATE", mid, f.hr.ID)
		removeErr, finishErr := dbtest.InTurn(t, d, pid, release,
			func() error { return f.msgs.RemoveFromBox(ctx, f.hr.Identity(), mid) },
			func() error { return f.svc.Finish(ctx, id) })
		// On SQLite the removal has ended before Finish begins, which then
		// finds the document gone; on PostgreSQL Finish read it before.
		if removeErr != nil || (finishErr != nil && d.Postgres()) {
			t.Fatalf("removal: %v; finish: %v", removeErr, finishErr)
		}
		if c := f.card(t, f.hr, id); d.Postgres() && c.Status != signing.StatusSealed {
			t.Fatalf("the request is %s, want sealed", c.Status)
		}
	})
}

// TestStopWhileAnotherSignerLeavesTheTeam, on both engines: two signers
// of a request in a team's conversation, one who stops with Dialoog and a
// colleague who leaves the team, at the same moment. Both lapse the
// request; both end. Before, on PostgreSQL, the leaving share-locked the
// team's conversations (holdTeamThreads) and then waited for the
// request, while the stop held the request (Leave) and then waited for
// the conversation (holdOwnThreads): a deadlock. Both are held (a row lock
// on the request) until both wait, the stop first.
func TestStopWhileAnotherSignerLeavesTheTeam(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		ctx := context.Background()
		arts := f.user(t, "arts@osaw.nl", true, "Anna", "Arts")
		team, err := f.msgs.CreateTeam(ctx, f.org.ID, "Bedrijfsarts", false, true)
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range []*db.User{f.hr, arts} {
			if err := f.msgs.AddTeamMember(ctx, team.ID, u.Email); err != nil {
				t.Fatal(err)
			}
		}
		tid, err := f.msgs.Compose(ctx, f.hr.Identity(), messaging.ComposeInput{To: []string{f.jan.Email}, Subject: "Re-integratieplan", Body: "Zie bijlage.", TeamID: team.ID})
		if err != nil {
			t.Fatal(err)
		}
		att, err := f.msgs.Upload(ctx, f.hr.Identity(), "plan.pdf", pdf(1, "team"))
		if err != nil {
			t.Fatal(err)
		}
		var id int64
		if _, err := f.msgs.Reply(ctx, f.hr.Identity(), messaging.ReplyInput{ThreadID: tid, Body: "Graag akkoord.", AttachmentIDs: []int64{att.ID},
			Within: func(ctx context.Context, tx bun.Tx, messageID int64) ([]messaging.Event, error) {
				var err error
				id, err = f.svc.RequestTx(ctx, tx, f.hr, tid, messageID, signing.RequestInput{SignerIDs: []int64{f.jan.ID, arts.ID}})
				return nil, err
			}}); err != nil {
			t.Fatal(err)
		}
		pid, release := dbtest.HoldRows(t, d, "SELECT id FROM signing_requests WHERE id = ? FOR UPDATE", id)
		stopErr, leaveErr := dbtest.InTurn(t, d, pid, release,
			func() error { return f.msgs.StopService(ctx, f.jan.Identity()) },
			func() error { return f.msgs.RemoveTeamMember(ctx, team.ID, arts.Email) })
		if stopErr != nil || leaveErr != nil {
			t.Fatalf("stop: %v; leaving the team: %v", stopErr, leaveErr)
		}
		if c := f.card(t, f.hr, id); c.Status != signing.StatusLapsed {
			t.Fatalf("the request is %s, want lapsed", c.Status)
		}
	})
}
