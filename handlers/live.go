package handlers

import (
	"bytes"
	"context"
	"fmt"
	"time"

	"github.com/a-h/templ"

	"dialoog/apperr"
	"dialoog/components"
	"dialoog/i18n"
	"dialoog/messaging"
	"dialoog/realtime"
	"dialoog/signing"
)

// LiveMessages loads what a live update shows, for all its recipients on
// this instance at once and with the same participant checks as the pages;
// *messaging.Service implements it.
type LiveMessages interface {
	LiveUpdate(ctx context.Context, threadID, messageID int64, userIDs []int64) ([]messaging.LiveReader, error)
	LiveTyping(ctx context.Context, threadID, actorID int64, userIDs []int64) ([]messaging.LiveReader, error)
	LiveReaders(ctx context.Context, threadID int64, userIDs []int64) ([]messaging.LiveReader, error)
}

var _ LiveMessages = (*messaging.Service)(nil)

// LiveRenderer returns the realtime.RenderFunc that turns an event into
// the fragments pushed to the pages of the users connected to this
// instance: out-of-band swaps rendered by the components of the pages (the
// inbox line, the message, the header's unread count), in each user's
// language. It loads the event's message once for all of them; users who
// may not see it get nothing. now is the clock for dates (nil: time.Now).
func LiveRenderer(msgs LiveMessages, now func() time.Time) realtime.RenderFunc {
	return LiveRendererWith(msgs, nil, now)
}

// LiveSigning loads the cards of Ondertekenen for a live update
// (*signing.Service).
type LiveSigning interface {
	LiveCards(ctx context.Context, requestID int64, userIDs []int64) ([]signing.LiveCard, error)
}

var _ LiveSigning = (*signing.Service)(nil)

// LiveRendererWith is LiveRenderer that also renders the changes of
// signing requests (their cards) when sign is set.
func LiveRendererWith(msgs LiveMessages, sign LiveSigning, now func() time.Time) realtime.RenderFunc {
	if now == nil {
		now = time.Now
	}
	r := liveRenderer{msgs: msgs, sign: sign, now: now}
	return r.render
}

type liveRenderer struct {
	msgs LiveMessages
	sign LiveSigning
	now  func() time.Time
}

// signingCard pushes a request's changed card to each reader's open
// conversation.
func (r liveRenderer) signingCard(ctx context.Context, ev realtime.Event, userIDs []int64, send func(int64, []byte)) error {
	if r.sign == nil {
		return nil
	}
	cards, err := r.sign.LiveCards(ctx, ev.MessageID, userIDs)
	if err != nil {
		return hidden(err)
	}
	for _, lc := range cards {
		m := components.Meta{L: i18n.For(i18n.Match("", lc.Language)), Now: r.now(), SignedIn: true, Inbox: true, UserName: lc.Name}
		msg, err := renderBytes(ctx, components.LiveSigningCard(m, signingCard(&lc.Card), ev.Kind == signing.EventSigningNew))
		if err != nil {
			return err
		}
		send(lc.UserID, msg)
	}
	return nil
}

func (r liveRenderer) render(ctx context.Context, ev realtime.Event, userIDs []int64, send func(int64, []byte)) error {
	switch ev.Kind {
	case realtime.KindResync:
		msg, err := renderBytes(ctx, components.LiveResync())
		if err != nil {
			return err
		}
		for _, id := range userIDs {
			send(id, msg)
		}
		return nil
	case realtime.KindTyping:
		return r.typing(ctx, ev, userIDs, send)
	case signing.EventSigning, signing.EventSigningNew:
		return r.signingCard(ctx, ev, userIDs, send)
	case messaging.EventCaseClosed, messaging.EventCaseReopened:
		return r.caseStatus(ctx, ev, userIDs, send)
	case realtime.KindMessage, realtime.KindAutoReply, realtime.KindRead, messaging.EventDeleted, messaging.EventAssigned:
		return r.message(ctx, ev, userIDs, send)
	}
	return nil
}

// message renders a new, read or deleted message for each recipient.
func (r liveRenderer) message(ctx context.Context, ev realtime.Event, userIDs []int64, send func(int64, []byte)) error {
	messageID := ev.MessageID
	if ev.Kind == messaging.EventDeleted {
		messageID = 0 // gone: only the inbox line and the count change
	}
	readers, err := r.msgs.LiveUpdate(ctx, ev.ThreadID, messageID, userIDs)
	if err != nil {
		return hidden(err)
	}
	for _, u := range readers {
		v := components.LiveMessage{Thread: inboxThread(u.Thread),
			Participants: participantItems(u.Internal, u.Participants), CanResend: u.CanResend}
		if u.Message != nil {
			item := messageItem(ev.ThreadID, *u.Message)
			v.Message = &item
		}
		m := r.meta(u, u.Unread)
		var c templ.Component
		switch ev.Kind {
		case realtime.KindMessage, realtime.KindAutoReply:
			if v.Message != nil && !v.Message.Mine {
				key := "live.new_message"
				if ev.Kind == realtime.KindAutoReply {
					key = "live.auto_reply"
				}
				v.Announce = m.T(key, "From", announcedSender(u, v.Message), "Subject", u.Thread.Subject)
			}
			c = components.LiveNewMessage(m, v)
		default:
			c = components.LiveChangedMessage(m, v, ev.Kind == messaging.EventDeleted, ev.MessageID)
		}
		msg, err := renderBytes(ctx, c)
		if err != nil {
			return err
		}
		send(u.UserID, msg)
	}
	return nil
}

// announcedSender names who wrote, as the mail does
// (messaging.NotifiedFrom, which however never names a medical team
// outside Dialoog): an external user hears the team written for,
// else the organisation ("Nieuw bericht van OSAW"), of an internal
// author; everyone else the person.
func announcedSender(reader messaging.LiveReader, msg *components.MessageItem) string {
	if !reader.Internal {
		if msg.SenderTeam != "" {
			return msg.SenderTeam // a team that shows who wrote for it
		}
		if msg.SenderOrg != "" {
			return msg.SenderOrg
		}
	}
	return msg.SenderName // for a team that hides its people: the team
}

// typing renders "… is aan het typen" for the other participants.
func (r liveRenderer) typing(ctx context.Context, ev realtime.Event, userIDs []int64, send func(int64, []byte)) error {
	readers, err := r.msgs.LiveTyping(ctx, ev.ThreadID, ev.ActorID, userIDs)
	if err != nil {
		return hidden(err)
	}
	for _, u := range readers {
		text := r.meta(u, 0).T("live.typing", "Name", u.Typist)
		msg, err := renderBytes(ctx, components.LiveTyping(ev.ThreadID, text))
		if err != nil {
			return err
		}
		send(u.UserID, msg)
	}
	return nil
}

// caseStatus drops the reply form from the open pages of a conversation
// whose case was closed, with the read-only notice, or brings it back
// when the case was reopened.
func (r liveRenderer) caseStatus(ctx context.Context, ev realtime.Event, userIDs []int64, send func(int64, []byte)) error {
	readers, err := r.msgs.LiveReaders(ctx, ev.ThreadID, userIDs)
	if err != nil {
		return hidden(err)
	}
	for _, u := range readers {
		msg, err := renderBytes(ctx, components.LiveCaseStatus(r.meta(u, 0), ev.ThreadID, ev.Kind == messaging.EventCaseClosed))
		if err != nil {
			return err
		}
		send(u.UserID, msg)
	}
	return nil
}

// meta is the Meta of a push to u: their language and unread count, and
// no CSRF token (the push is shared by all of u's tabs; see live.templ).
func (r liveRenderer) meta(u messaging.LiveReader, unread int) components.Meta {
	return components.Meta{
		L: i18n.For(i18n.Match("", u.Language)), Now: r.now(),
		SignedIn: true, Inbox: true, Unread: unread, UserName: u.Name,
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
