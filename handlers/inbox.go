package handlers

import (
	"fmt"
	"strings"

	"github.com/gofiber/fiber/v2"

	"dialoog/components"
	"dialoog/identity"
	"dialoog/messaging"
)

// inbox is "Berichten": the user's conversations, newest first, twenty a
// page (?pagina=2, from the conversation after ?na= when given),
// optionally of one team's box (?team=) or one case (?dossier=) and
// searched (?zoek=, within that box when one is shown). The search form and the
// "Meer berichten" button ask for a piece of the page only, named by the
// element htmx swaps (HX-Target).
func (h *handler) inbox(c *fiber.Ctx) error {
	u := current(c).User
	// The session's query read the user's inbox version, and a GET changes
	// nothing: pages that did not change since may come from memory.
	// A resync (the live connection was lost) reads the page again.
	if c.Get(headerResync) == "" {
		c.SetUserContext(messaging.WithInboxVersion(c.UserContext(), u.ID, u.InboxVersion))
	}
	query := strings.Clone(clip(c.Query("zoek"), maxQueryLen))
	// Internal users' team boxes, with their unread counts: one more
	// statement, for them only (external users have no teams).
	teams, err := h.messages.MyTeams(c.UserContext(), u)
	if err != nil {
		return fmt.Errorf("inbox: %w", err)
	}
	teamID, _ := parseID(c.Query("team"))
	caseID, _ := parseID(c.Query("dossier"))
	var p *messaging.InboxPage
	var kase *components.CaseItem
	if caseID > 0 {
		// The case's header; NotFound for anyone but its organisation's
		// internal users (and the page itself checks it again).
		ci, err := h.messages.CaseByID(c.UserContext(), u, caseID)
		if err != nil {
			return err
		}
		item := caseItem(*ci)
		kase = &item
		teamID = 0
		// A search typed in the case's list stays in the case.
		p, err = h.messages.CaseBoxAfter(c.UserContext(), u, caseID, pageParam(c), afterParam(c), query)
	} else if teamID > 0 {
		// A search typed in a team box stays in that box.
		p, err = h.messages.TeamBoxAfter(c.UserContext(), u, teamID, pageParam(c), afterParam(c), query)
	} else {
		teamID = 0
		p, err = h.messages.InboxAfter(c.UserContext(), u, pageParam(c), afterParam(c), query)
	}
	if err != nil {
		return fmt.Errorf("inbox: %w", err)
	}
	v := inboxView(u, p)
	v.TeamID = teamID
	v.Case = kase
	v.Teams = teamTabs(teams)
	v.Away = current(c).AwayOn(h.now())
	if v.Away {
		v.AwayUntil = u.AwayUntil
	}
	c.Locals(keyUnread, p.Unread) // the header shows the same count
	m := h.meta(c)
	c.Vary("HX-Request", "HX-Target")
	if isPartial(c) {
		switch c.Get("HX-Target") {
		case "inbox-results":
			return render(c, fiber.StatusOK, components.InboxSearchResults(m, v))
		case "inbox-more":
			return render(c, fiber.StatusOK, components.InboxMoreRows(m, v))
		}
	}
	return h.page(c, fiber.StatusOK, components.InboxPage(m, v), components.InboxPartial(m, v))
}

func inboxView(u *identity.User, p *messaging.InboxPage) components.InboxView {
	v := components.InboxView{
		Name: messaging.NameOf(u), Admin: u.Admin(), Internal: u.Internal(),
		Page: p.Page, More: p.More, Next: p.Next, Unread: p.Unread, Query: p.Query, Scope: p.Scope,
		Threads: make([]components.InboxThread, 0, len(p.Threads)),
	}
	for _, t := range p.Threads {
		v.Threads = append(v.Threads, inboxThread(t))
	}
	return v
}

// teamTabs are the user's team boxes for the inbox and the compose form.
func teamTabs(teams []messaging.TeamInfo) []components.TeamTab {
	var out []components.TeamTab
	for _, t := range teams {
		out = append(out, components.TeamTab{ID: t.ID, Name: t.Name, Unread: t.Unread})
	}
	return out
}

// inboxThread is one line of Berichten, on the page and in a live update.
func inboxThread(t messaging.ThreadSummary) components.InboxThread {
	return components.InboxThread{
		ID: t.ID, Subject: t.Subject, OrgName: t.OrgName, From: t.From, LastMessageAt: t.LastMessageAt, Unread: t.Unread,
		AssignedTo: t.AssignedTo,
	}
}

// afterParam is where a page of a box starts (?na=, "Meer berichten"):
// the reference the service gave with the page before; the service reads
// anything else as none.
func afterParam(c *fiber.Ctx) string { return strings.Clone(clip(c.Query("na"), 64)) }
