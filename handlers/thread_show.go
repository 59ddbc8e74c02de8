package handlers

import (
	"fmt"

	"github.com/gofiber/fiber/v2"

	"dialoog/apperr"
	"dialoog/components"
	"dialoog/identity"
	"dialoog/messaging"
)

// notices are the confirmations a redirect back to a conversation may ask
// for (?melding=...); only these fixed texts can be shown.
var notices = map[string]string{
	"uitnodiging": "thread.notice_invited",
	"toegevoegd":  "thread.notice_added",
	"uit-gesprek": "thread.notice_removed",
	"verwijderd":  "thread.notice_deleted",
}

// threadShow is one conversation. Showing it changes nothing: the page
// itself asks to mark the messages read (see threadMarkRead).
func (h *handler) threadShow(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	// ?eerder=: the messages before that one ("Eerdere berichten"); with
	// script only them, in place of the link that asked for them.
	before, _ := parseID(clip(c.Query("eerder"), 20))
	v, err := h.threadPageView(c, id, before)
	if err != nil {
		return err
	}
	c.Vary("HX-Request", "HX-Target")
	if before > 0 && isPartial(c) && c.Get("HX-Target") == components.EarlierID(id) {
		return render(c, fiber.StatusOK, components.EarlierMessages(h.withBrand(c, h.meta(c), v.OrgID), v))
	}
	if key, ok := notices[c.Query("melding")]; ok {
		v.Notice = h.localizer(c).T(key)
	}
	if v.Reply, err = h.keptReply(c, v); err != nil {
		return err
	}
	return h.threadPage(c, fiber.StatusOK, v)
}

// threadView loads a conversation for the signed-in user, with its newest
// messages; NotFound for anyone who does not take part in it.
func (h *handler) threadView(c *fiber.Ctx, id int64) (components.ThreadView, error) {
	return h.threadPageView(c, id, 0)
}

// threadPageView is threadView with the messages before the message
// before (0: the newest).
func (h *handler) threadPageView(c *fiber.Ctx, id, before int64) (components.ThreadView, error) {
	u := current(c).User
	t, err := h.messages.ThreadPage(c.UserContext(), u, id, before)
	if err != nil {
		if apperr.CodeOf(err) == apperr.NotFound {
			return components.ThreadView{}, err
		}
		return components.ThreadView{}, fmt.Errorf("thread %d: %w", id, err)
	}
	v := threadView(u, t)
	tc, err := h.messages.ThreadCase(c.UserContext(), u, id)
	if err != nil {
		return components.ThreadView{}, fmt.Errorf("thread %d: %w", id, err)
	}
	v.Case = threadCase(tc)
	if err := h.signingCards(c, &v); err != nil {
		return components.ThreadView{}, fmt.Errorf("thread %d: %w", id, err)
	}
	return v, nil
}

// threadTeam is the team of a conversation as its members see it.
func threadTeam(t *messaging.ThreadView) *components.ThreadTeam {
	if t.TeamID == 0 {
		return nil
	}
	team := &components.ThreadTeam{Name: t.TeamName, AssignedToID: t.AssignedToID, AssignedTo: t.AssignedTo}
	for _, m := range t.Members {
		team.Members = append(team.Members, components.TeamMemberItem{UserID: m.UserID, Name: m.Name})
	}
	return team
}

func threadView(u *identity.User, t *messaging.ThreadView) components.ThreadView {
	internal := u.Internal()
	v := components.ThreadView{
		ID: t.ID, Subject: t.Subject, OrgName: t.OrgName, OrgID: t.OrgID, Medical: t.Medical,
		CanAddParticipants: t.CanAddParticipants, CanResend: t.CanResend,
		Team: threadTeam(t), ViewerID: u.ID, ReadOnly: t.ReadOnly, Earlier: t.Earlier,
	}
	v.Participants = participantItems(internal, t.Participants)
	for _, msg := range t.Messages {
		item := messageItem(t.ID, msg)
		v.Unread = v.Unread || item.Unread
		v.Messages = append(v.Messages, item)
	}
	return v
}

// participantItems is the participant list of a conversation, on the page
// and in a live update; internal readers see the addresses.
func participantItems(internal bool, ps []messaging.ParticipantView) []components.ParticipantItem {
	out := make([]components.ParticipantItem, 0, len(ps))
	for _, p := range ps {
		item := components.ParticipantItem{UserID: p.UserID, Name: p.Name, Internal: p.Internal, Status: p.Status, LastSeenAt: p.LastSeenAt,
			MayRead: p.MayRead, Removable: p.Removable}
		if internal {
			item.Email = p.Email
		}
		out = append(out, item)
	}
	return out
}

// messageItem is one message as its reader sees it, on the page and in a
// live update.
func messageItem(threadID int64, msg messaging.MessageView) components.MessageItem {
	item := components.MessageItem{
		ID: msg.ID, ThreadID: threadID, SenderName: msg.SenderName, SenderDeleted: msg.SenderDeleted, SenderOrg: msg.SenderOrg,
		SenderTeam: msg.SenderTeam, Mine: msg.Mine, AutoReply: msg.AutoReply, System: msg.System, SystemSubject: msg.SystemSubject, Unread: !msg.Mine && msg.ReadAt.IsZero(),
		Body: msg.Body, CreatedAt: msg.CreatedAt, Attachments: attachmentItems(msg.Attachments),
		CanDeleteForEveryone: msg.CanDeleteForEveryone,
	}
	for _, r := range msg.Receipts {
		item.Receipts = append(item.Receipts, components.ReceiptItem{Name: r.Name, ReadAt: r.ReadAt})
	}
	return item
}

func (h *handler) threadPage(c *fiber.Ctx, status int, v components.ThreadView) error {
	m := h.withBrand(c, h.meta(c), v.OrgID)
	return h.page(c, status, components.ThreadPage(m, v), components.ThreadPartial(m, v))
}

// threadMarkRead marks the conversation's messages read, which tells
// their senders. The page posts it with htmx as soon as it is shown and
// gets the header's "Berichten (n)" back (out of band), lower; without
// script a button posts it and the page reloads.
func (h *handler) threadMarkRead(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	// The messages up to the last one the page showed; a page from before
	// it said so marks them all.
	upTo, _ := parseID(clip(formValue(c, "tot"), 20))
	if _, err := h.messages.MarkReadUpTo(c.UserContext(), current(c).User, id, upTo); err != nil {
		return err
	}
	if isPartial(c) {
		return render(c, fiber.StatusOK, components.ReadCount(h.meta(c)))
	}
	return seeOther(c, components.ThreadURL(id))
}
