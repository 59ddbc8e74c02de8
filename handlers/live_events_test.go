package handlers

import (
	"context"
	"testing"
	"time"

	"dialoog/db/dbtest"
	"dialoog/messaging"
	"dialoog/realtime"
)

// onlyInTx is a PostgreSQL broker whose after-commit Publish fails the
// test: with PostgreSQL, messaging's events must travel inside the change's
// transaction.
type onlyInTx struct {
	*realtime.PostgresBroker
	t *testing.T
}

func (b onlyInTx) Publish(_ context.Context, ev realtime.Event) error {
	b.t.Errorf("%s event published after the commit, not in its transaction", ev.Kind)
	return nil
}

// TestLiveEventsInTransaction: with PostgreSQL a reply's event is sent by
// pg_notify in the reply's transaction and arrives once it commits; a
// reply that fails sends none.
func TestLiveEventsInTransaction(t *testing.T) {
	dsn := dbtest.NewTestSchema(t)
	ra := newRealAppOn(t, dbtest.MustOpenPostgresURL(t, dsn))
	ctx := context.Background()
	pb, err := realtime.NewPostgresBroker(ctx, dsn, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pb.Close() })
	got := make(chan realtime.Event, 10)
	pb.Subscribe(func(ev realtime.Event) { got <- ev })
	ra.msg.Events = LiveEvents{Broker: onlyInTx{pb, t}}

	hr := ra.storeUser(t, "hr@osaw.nl", true, "Hanna", "de", "Vries", "nl")
	jan := ra.storeUser(t, "jan@example.nl", false, "Jan", "", "Jansen", "nl")
	tid := ra.compose(t, hr, "Verzuim", "Hallo", jan.Email)
	wait := func() realtime.Event {
		t.Helper()
		select {
		case ev := <-got:
			return ev
		case <-time.After(5 * time.Second):
			t.Fatal("no event")
			return realtime.Event{}
		}
	}
	if ev := wait(); ev.Kind != realtime.KindMessage || ev.ThreadID != tid {
		t.Fatalf("compose event %+v", ev)
	}
	mid, err := ra.msg.Reply(ctx, jan.Identity(), messaging.ReplyInput{ThreadID: tid, Body: "Dank je"})
	if err != nil {
		t.Fatal(err)
	}
	if ev := wait(); ev.MessageID != mid {
		t.Fatalf("reply event %+v, want message %d", ev, mid)
	}
	// A reply that fails (a file that is not the author's) sends no event.
	if _, err := ra.msg.Reply(ctx, jan.Identity(), messaging.ReplyInput{ThreadID: tid, Body: "Met bijlage", AttachmentIDs: []int64{999}}); err == nil {
		t.Fatal("reply with someone else's file accepted")
	}
	select {
	case ev := <-got:
		t.Fatalf("event of a rolled-back reply: %+v", ev)
	case <-time.After(500 * time.Millisecond):
	}
}
