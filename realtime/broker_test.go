package realtime

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestLocalBrokerDeliversToAllSubscribers(t *testing.T) {
	b := NewLocalBroker()
	defer b.Close()
	const n = 100
	var chans []chan Event
	for range 3 {
		ch := make(chan Event, n)
		b.Subscribe(func(ev Event) { ch <- ev })
		chans = append(chans, ch)
	}
	ids := []int64{1, 2}
	for i := range n {
		if err := b.Publish(context.Background(), Event{Kind: KindMessage, UserIDs: ids, MessageID: int64(i)}); err != nil {
			t.Fatal(err)
		}
	}
	ids[0] = 99 // the publisher's slice is not shared with subscribers
	for s, ch := range chans {
		for i := range n {
			select {
			case ev := <-ch:
				if ev.MessageID != int64(i) || ev.UserIDs[0] != 1 {
					t.Fatalf("subscriber %d got %+v, want message %d for users [1 2]", s, ev, i)
				}
			case <-time.After(5 * time.Second):
				t.Fatalf("subscriber %d: event %d missing", s, i)
			}
		}
	}
}

func TestLocalBrokerSlowSubscriberDoesNotBlock(t *testing.T) {
	b := NewLocalBroker()
	defer b.Close()
	release := make(chan struct{})
	slowGot := make(chan Event, 2*SubscriberQueue)
	b.Subscribe(func(ev Event) {
		<-release
		slowGot <- ev
	})
	fast := make(chan Event, 3*SubscriberQueue)
	b.Subscribe(func(ev Event) { fast <- ev })

	// Far more events than the slow subscriber's queue holds: each
	// Publish still returns at once.
	const n = 3 * SubscriberQueue
	start := time.Now()
	for i := range n {
		if err := b.Publish(context.Background(), Event{Kind: KindTyping, ThreadID: int64(i)}); err != nil {
			t.Fatal(err)
		}
		if i == 99 {
			// The fast subscriber has everything so far.
			for j := range 100 {
				select {
				case ev := <-fast:
					if ev.ThreadID != int64(j) {
						t.Fatalf("fast subscriber got %d, want %d", ev.ThreadID, j)
					}
				case <-time.After(5 * time.Second):
					t.Fatalf("fast subscriber is missing event %d", j)
				}
			}
		}
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("publishing %d events took %v", n, d)
	}
	close(release)
	// The slow subscriber gets what fit in its queue (and the event it was
	// blocked on); the rest was dropped for it alone.
	got := 0
	for done := false; !done; {
		select {
		case <-slowGot:
			got++
		case <-time.After(200 * time.Millisecond):
			done = true // drained
		}
	}
	if got < SubscriberQueue || got > SubscriberQueue+1 {
		t.Fatalf("slow subscriber got %d events, want its queue of %d (+1)", got, SubscriberQueue)
	}
	// Once it has caught up it receives again.
	if err := b.Publish(context.Background(), Event{Kind: KindTyping, ThreadID: -1}); err != nil {
		t.Fatal(err)
	}
	select {
	case ev := <-slowGot:
		if ev.ThreadID != -1 {
			t.Fatalf("got %+v", ev)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("slow subscriber did not recover")
	}
}

func TestLocalBrokerCancelAndClose(t *testing.T) {
	b := NewLocalBroker()
	kept, cancelled := make(chan Event, 10), make(chan Event, 10)
	b.Subscribe(func(ev Event) { kept <- ev })
	cancel := b.Subscribe(func(ev Event) { cancelled <- ev })
	cancel()
	cancel() // idempotent
	if err := b.Publish(context.Background(), Event{Kind: KindRead}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-kept:
	case <-time.After(5 * time.Second):
		t.Fatal("event not delivered")
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if len(cancelled) != 0 {
		t.Fatal("cancelled subscriber received an event")
	}
	if err := b.Publish(context.Background(), Event{Kind: KindRead}); !errors.Is(err, ErrClosed) {
		t.Fatalf("Publish after Close: %v", err)
	}
	b.Subscribe(func(Event) { t.Error("called after Close") })()
}

func TestLocalBrokerRefusesInvalidEvents(t *testing.T) {
	b := NewLocalBroker()
	defer b.Close()
	for _, ev := range []Event{{}, {Kind: KindResync}} {
		if err := b.Publish(context.Background(), ev); err == nil {
			t.Errorf("Publish(%+v) accepted", ev)
		}
	}
}

func TestSubscriberPanicIsContained(t *testing.T) {
	b := NewLocalBroker()
	defer b.Close()
	got := make(chan Event, 2)
	b.Subscribe(func(ev Event) {
		if ev.MessageID == 1 {
			panic("render bug")
		}
		got <- ev
	})
	for id := int64(1); id <= 2; id++ {
		if err := b.Publish(context.Background(), Event{Kind: KindMessage, MessageID: id}); err != nil {
			t.Fatal(err)
		}
	}
	select {
	case ev := <-got:
		if ev.MessageID != 2 {
			t.Fatalf("got %+v", ev)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("subscriber stopped after a panic")
	}
}
