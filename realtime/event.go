// Package realtime owns the live connections (the WebSocket hub with its
// per-connection pumps) and the fan-out of events between instances (the
// Broker, in-process or over PostgreSQL LISTEN/NOTIFY).
//
// It carries ids only and renders nothing itself: each instance loads and
// renders an event for its own connections through a RenderFunc (see Relay).
// It never decides domain rules such as who may see a message.
package realtime

import (
	"encoding/json"
	"errors"
	"fmt"
)

// Event kinds. Kind is an open set: publishers and the renderer may agree on
// more; the hub and brokers only treat KindSessionEnded,
// KindSessionRenewed and KindResync specially.
const (
	// KindMessage: a new message MessageID in ThreadID, written by ActorID.
	KindMessage = "message"
	// KindAutoReply: an absence auto-reply MessageID in ThreadID on behalf of ActorID.
	KindAutoReply = "auto_reply"
	// KindRead: ActorID has read MessageID (and what came before it) in ThreadID.
	KindRead = "read"
	// KindTyping: ActorID is typing in ThreadID.
	KindTyping = "typing"
	// KindSessionEnded: session SessionID ended (logout, revocation); every
	// instance closes that session's sockets.
	KindSessionEnded = "session_ended"
	// KindSessionRenewed: session SessionID got a new id (a password or
	// factor change); every instance closes that session's sockets with
	// 1012, so that the browser holding the new cookie reconnects while a
	// copy of the old one cannot.
	KindSessionRenewed = "session_renewed"
	// KindResync is delivered locally only, by a broker whose listener was
	// reconnected: events may have been missed, so clients should re-fetch.
	KindResync = "resync"
)

// MaxPayload is the largest encoded event a broker sends in one
// notification; PostgreSQL refuses NOTIFY payloads of 8000 bytes or more.
const MaxPayload = 7900

// Event is what travels between instances: a kind and ids, never content.
// Subscribers must treat a received Event as read-only; it may be shared.
type Event struct {
	Kind string `json:"kind"`
	// UserIDs are the users whose connections should receive the event.
	UserIDs   []int64 `json:"users,omitempty"`
	ThreadID  int64   `json:"thread,omitempty"`
	MessageID int64   `json:"message,omitempty"`
	ActorID   int64   `json:"actor,omitempty"`
	SessionID int64   `json:"session,omitempty"`
}

// ErrEventTooLarge is returned for an event that cannot be split into
// payloads of at most MaxPayload bytes.
var ErrEventTooLarge = errors.New("realtime: event too large")

// validate reports an event that no receiver could act on.
func (ev Event) validate() error {
	if ev.Kind == "" {
		return errors.New("realtime: event without kind")
	}
	if ev.Kind == KindResync {
		return errors.New("realtime: resync events are local to a broker")
	}
	return nil
}

// encodeEvent encodes ev as JSON payloads of at most limit bytes each,
// splitting UserIDs over several payloads when they do not fit in one.
func encodeEvent(ev Event, limit int) ([][]byte, error) {
	b, err := json.Marshal(ev)
	if err != nil {
		return nil, fmt.Errorf("encode %s event: %w", ev.Kind, err)
	}
	if len(b) <= limit {
		return [][]byte{b}, nil
	}
	if len(ev.UserIDs) < 2 {
		return nil, fmt.Errorf("encode %s event of %d bytes: %w", ev.Kind, len(b), ErrEventTooLarge)
	}
	half := len(ev.UserIDs) / 2
	first, second := ev, ev
	first.UserIDs, second.UserIDs = ev.UserIDs[:half], ev.UserIDs[half:]
	a, err := encodeEvent(first, limit)
	if err != nil {
		return nil, err
	}
	c, err := encodeEvent(second, limit)
	if err != nil {
		return nil, err
	}
	return append(a, c...), nil
}

// decodeEvent decodes one payload written by encodeEvent.
func decodeEvent(payload []byte) (Event, error) {
	var ev Event
	if err := json.Unmarshal(payload, &ev); err != nil {
		return Event{}, fmt.Errorf("decode event: %w", err)
	}
	if err := ev.validate(); err != nil {
		return Event{}, fmt.Errorf("decode event: %w", err)
	}
	return ev, nil
}
