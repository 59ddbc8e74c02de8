package handlers

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/a-h/templ"

	"dialoog/apperr"
	"dialoog/components"
	"dialoog/db"
	"dialoog/i18n"
	"dialoog/messaging"
	"dialoog/realtime"
)

// LiveMessages loads what a live update shows, for one user and with the
// same participant checks as the pages; *messaging.Service implements it.
type LiveMessages interface {
	UserByID(ctx context.Context, id int64) (*db.User, error)
	UnreadCount(ctx context.Context, userID int64) (int, error)
	ThreadSummaryFor(ctx context.Context, user *db.User, threadID int64) (*messaging.ThreadSummary, error)
	MessageFor(ctx context.Context, user *db.User, messageID int64) (*messaging.MessageView, error)
	ParticipantIDs(ctx context.Context, user *db.User, threadID int64) ([]int64, error)
}

var _ LiveMessages = (*messaging.Service)(nil)

// LiveRenderer returns the realtime.RenderFunc that turns an event into
// the fragment pushed to one user's pages on this instance: out-of-band
// swaps rendered by the components of the pages (the inbox line, the
// message, the header's unread count), in the user's language. Events
// about things the user may not see render nothing. now is the clock for
// dates (nil: time.Now).
func LiveRenderer(msgs LiveMessages, now func() time.Time) realtime.RenderFunc {
	if now == nil {
		now = time.Now
	}
	r := liveRenderer{msgs: msgs, now: now}
	return r.render
}

type liveRenderer struct {
	msgs LiveMessages
	now  func() time.Time
}

func (r liveRenderer) render(ctx context.Context, ev realtime.Event, userID int64) ([]byte, error) {
	switch ev.Kind {
	case realtime.KindResync:
		return renderBytes(ctx, components.LiveResync())
	case realtime.KindTyping:
		return r.typing(ctx, ev, userID)
	case realtime.KindMessage, realtime.KindAutoReply, realtime.KindRead, messaging.EventDeleted:
		return r.message(ctx, ev, userID)
	}
	return nil, nil
}

// message renders a new, read or deleted message for userID.
func (r liveRenderer) message(ctx context.Context, ev realtime.Event, userID int64) ([]byte, error) {
	u, err := r.msgs.UserByID(ctx, userID)
	if err != nil {
		return nil, hidden(err)
	}
	sum, err := r.msgs.ThreadSummaryFor(ctx, u, ev.ThreadID)
	if err != nil {
		return nil, hidden(err)
	}
	v := components.LiveMessage{Thread: inboxThread(*sum)}
	if ev.Kind != messaging.EventDeleted {
		mv, err := r.msgs.MessageFor(ctx, u, ev.MessageID)
		switch {
		case err == nil:
			item := messageItem(ev.ThreadID, *mv)
			v.Message = &item
		case apperr.CodeOf(err) != apperr.NotFound: // removed from the box: the line still changes
			return nil, err
		}
	}
	unread, err := r.msgs.UnreadCount(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	m := r.meta(u, unread)
	switch ev.Kind {
	case realtime.KindMessage, realtime.KindAutoReply:
		if v.Message != nil && !v.Message.Mine {
			key := "live.new_message"
			if ev.Kind == realtime.KindAutoReply {
				key = "live.auto_reply"
			}
			v.Announce = m.T(key, "From", announcedSender(u, v.Message), "Subject", sum.Subject)
		}
		return renderBytes(ctx, components.LiveNewMessage(m, v))
	default:
		return renderBytes(ctx, components.LiveChangedMessage(m, v, ev.Kind == messaging.EventDeleted, ev.MessageID))
	}
}

// announcedSender names who wrote: an external user hears the
// organisation, as in the mail ("Nieuw bericht van OSAW"), an internal
// user the person.
func announcedSender(reader *db.User, msg *components.MessageItem) string {
	if reader.Kind != db.KindInternal && msg.SenderOrg != "" {
		return msg.SenderOrg
	}
	return msg.SenderName
}

// typing renders "… is aan het typen" for the other participants.
func (r liveRenderer) typing(ctx context.Context, ev realtime.Event, userID int64) ([]byte, error) {
	if userID == ev.ActorID {
		return nil, nil
	}
	u, err := r.msgs.UserByID(ctx, userID)
	if err != nil {
		return nil, hidden(err)
	}
	ids, err := r.msgs.ParticipantIDs(ctx, u, ev.ThreadID)
	if err != nil {
		return nil, hidden(err)
	}
	if !slices.Contains(ids, ev.ActorID) {
		return nil, nil
	}
	actor, err := r.msgs.UserByID(ctx, ev.ActorID)
	if err != nil {
		return nil, hidden(err)
	}
	text := r.meta(u, 0).T("live.typing", "Name", displayName(actor))
	return renderBytes(ctx, components.LiveTyping(ev.ThreadID, text))
}

// meta is the Meta of a push to u: their language and unread count, and
// no CSRF token (the push is shared by all of u's tabs; see live.templ).
func (r liveRenderer) meta(u *db.User, unread int) components.Meta {
	return components.Meta{
		L: i18n.For(i18n.Match("", u.Language)), Now: r.now(),
		SignedIn: true, Inbox: true, Unread: unread, UserName: displayName(u),
	}
}

// hidden turns NotFound (the user may not see it, or it is gone) into
// "nothing to push".
func hidden(err error) error {
	if apperr.CodeOf(err) == apperr.NotFound {
		return nil
	}
	return err
}

func renderBytes(ctx context.Context, c templ.Component) ([]byte, error) {
	var buf bytes.Buffer
	if err := c.Render(ctx, &buf); err != nil {
		return nil, fmt.Errorf("render live update: %w", err)
	}
	return buf.Bytes(), nil
}

// renderString renders a fixed component at start-up.
func renderString(c templ.Component) string {
	b, err := renderBytes(context.Background(), c)
	if err != nil {
		panic(err)
	}
	return string(b)
}
