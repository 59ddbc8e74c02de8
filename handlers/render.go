package handlers

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/a-h/templ"
	"github.com/gofiber/fiber/v2"

	"dialoog/auth"
	"dialoog/components"
	"dialoog/i18n"
	"dialoog/messaging"
)

// localsKey names the values middleware leaves in c.Locals for handlers.
type localsKey int

const (
	keyLogger localsKey = iota
	keyLocalizer
	keyCSRF
	keyCurrent
	keySessionToken
	// keyUnread holds the user's unread count once a handler or the header
	// has read it, so that a page reads it once.
	keyUnread
	// keyBodyDeferred is true while a message form's body waits on the
	// connection for the session check (limitBody).
	keyBodyDeferred
	// keyLapsed holds the user id of a message form's lapsed session, once
	// looked up (lapsedUser; 0 for none).
	keyLapsed
)

// isPartial reports whether the request wants only the page content: an HTMX
// request that is neither a boosted link nor a history restore, both of
// which replace the whole document.
func isPartial(c *fiber.Ctx) bool {
	return c.Get("HX-Request") == "true" &&
		c.Get("HX-Boosted") != "true" &&
		c.Get("HX-History-Restore-Request") != "true"
}

// headerResync marks app.js's re-fetch of the current page after the live
// connection was re-established.
const headerResync = "X-Dialoog-Resync"

// page renders a whole page: the partial for an HTMX swap of main#main, the
// full document otherwise.
func (h *handler) page(c *fiber.Ctx, status int, full, partial templ.Component) error {
	c.Vary("HX-Request")
	if isPartial(c) {
		// A live page re-fetching what it shows after a reconnect stays where
		// it is, without a new history entry.
		if c.Method() == fiber.MethodGet && c.Get(headerResync) == "" {
			// XHR follows 303 redirects silently; this makes the address bar
			// show the page the user actually is on (e.g. the next step after
			// a POST), so a reload does not repeat or break anything.
			c.Set("HX-Push-Url", c.OriginalURL())
		}
		return render(c, status, partial)
	}
	return render(c, status, full)
}

// render writes component as the HTML response, into the response's body
// buffer (pooled by fasthttp, so a page does not grow a buffer of its own
// on every request). Nothing is sent before the handler returns: a failing
// component's output is dropped, and the error becomes a clean error page
// instead of half a page.
func render(c *fiber.Ctx, status int, component templ.Component) error {
	resp := c.Response()
	resp.ResetBody()
	if err := component.Render(c.UserContext(), resp.BodyWriter()); err != nil {
		resp.ResetBody()
		return fmt.Errorf("render %s: %w", c.Path(), err)
	}
	c.Status(status)
	c.Type("html", "utf-8")
	return nil
}

// seeOther answers a form post with a redirect to a page, so reloading the
// result never posts again. An htmx request follows it inside XHR and gets
// the next page's partial, whose HX-Push-Url updates the address bar.
func seeOther(c *fiber.Ctx, location string) error {
	return c.Redirect(location, fiber.StatusSeeOther)
}

// reloadTo sends the browser to location as a whole new page, also from an
// htmx request (HX-Redirect): after a change that the layout shows too,
// such as the language of <html lang> and the header.
func reloadTo(c *fiber.Ctx, location string) error {
	if isPartial(c) {
		c.Set("HX-Redirect", location)
		return c.Status(fiber.StatusOK).Send(nil)
	}
	return seeOther(c, location)
}

// redirect sends the browser elsewhere from a request it should not have
// made (a step that is not the user's, a page that needs a session): a 303
// for a plain request; for an htmx request an HX-Location, with which htmx
// loads the right page's partial into main and pushes its address. The
// empty 200 is never swapped: htmx acts on the header first.
func redirect(c *fiber.Ctx, location string) error {
	if isPartial(c) {
		c.Set("HX-Location", hxLocation(location))
		return c.Status(fiber.StatusOK).Send(nil)
	}
	return seeOther(c, location)
}

// hxLocation is the HX-Location value that swaps location's partial into
// main#main, like every link and form of the layout does.
func hxLocation(location string) string {
	b, err := json.Marshal(map[string]string{"path": location, "target": "#main", "swap": "innerHTML"})
	if err != nil { // cannot happen for a map of strings
		return location
	}
	return string(b)
}

// sessionIdleSeconds is auth.SessionIdle in seconds, as a signed-in page
// tells its script.
var sessionIdleSeconds = strconv.Itoa(int(auth.SessionIdle / time.Second))

// meta returns what every component needs from the request.
func (h *handler) meta(c *fiber.Ctx) components.Meta {
	token, _ := c.Locals(keyCSRF).(string)
	m := components.Meta{L: h.localizer(c), CSRF: token, Now: h.now(), Back: backHere(c), Passkeys: h.passkeys != nil}
	if cur := current(c); cur != nil {
		m.SignedIn = true
		m.SessionIdle = sessionIdleSeconds
		if cur.Session != nil {
			m.SessionEnds = strconv.Itoa(max(int(cur.Session.ExpiresAt.Sub(m.Now)/time.Second), 0))
		}
		if !cur.NeedsSecondFactor {
			m.UserName = messaging.NameOf(cur.User)
			if cur.Stage == auth.StageDone {
				m.Inbox = true
				m.Unread = h.unreadCount(c, cur.User.ID)
			}
		}
		// The sign-up steps wear the inviting organisation's style.
		m = h.withSignUpBrand(c, m, cur)
	}
	return m
}

// unreadCount is the number in the header's "Berichten (3)". It is a
// courtesy on every page, so a failure is logged and shows no number
// rather than failing the page.
func (h *handler) unreadCount(c *fiber.Ctx, userID int64) int {
	if n, ok := c.Locals(keyUnread).(int); ok {
		return n
	}
	// The session's user row carries the count, read at the start of the
	// request; a request that may have changed it (not a GET) reads it
	// again.
	if cur := current(c); cur != nil && cur.User.ID == userID && c.Method() == fiber.MethodGet {
		return cur.User.UnreadTotal
	}
	n, err := h.messages.UnreadCount(c.UserContext(), userID)
	if err != nil {
		h.logger(c).Warn("count unread messages", "err", err)
		return 0
	}
	c.Locals(keyUnread, n)
	return n
}

// localizer returns the request's Localizer. Requests that failed before the
// language middleware ran (a missing static file, a too-large body) still
// get their error page in the language chosen in this browser, else the
// browser's.
func (h *handler) localizer(c *fiber.Ctx) i18n.Localizer {
	if l, ok := c.Locals(keyLocalizer).(i18n.Localizer); ok {
		return l
	}
	return i18n.For(i18n.Match(c.Get(fiber.HeaderAcceptLanguage), h.chosenLanguage(c)))
}

// logger returns the request-scoped logger, which carries the request id.
func (h *handler) logger(c *fiber.Ctx) *slog.Logger {
	if l, ok := c.Locals(keyLogger).(*slog.Logger); ok {
		return l
	}
	return h.log
}
