package handlers

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"dialoog/apperr"
	"dialoog/auth"
	"dialoog/components"
	"dialoog/identity"
	"dialoog/messaging"
)

// A reply or new message posted after the session lapsed (idle, or at its
// absolute end) is kept for its writer instead of lost: the login that
// follows in the same browser goes on to its form, filled in, with a
// notice. The rules are messaging's (KeepText); here the two message
// forms' requests are parsed and the browser gets its cookie.

const (
	// keptCookie holds the browser's token of its kept texts (HttpOnly,
	// SameSite=Lax, __Host- over HTTPS, for messaging.KeptFor).
	keptCookie = "dialoog_kept"
	// keepField, posted as 1 with a message form, asks to keep the text
	// and send nothing: a page's script does so before the session ends.
	keepField = "_bewaren"
	// pathCompose is "Nieuw bericht".
	pathCompose = "/berichten/nieuw"
	// keptDiscard is appended to a form's path for "Weggooien".
	keptDiscard = "/weggooien"
	// loginKept is the login page after a text was kept.
	loginKept = pathLogin + "?bewaard=1"
)

// KeptTexts keeps and gives back the forms typed while a session lapsed;
// *messaging.Service implements it, the methods are documented there.
type KeptTexts interface {
	KeepText(ctx context.Context, userID int64, token string, in messaging.KeptInput) (string, error)
	KeptText(ctx context.Context, who *identity.User, token string, threadID int64) (*messaging.KeptText, error)
	KeptForm(ctx context.Context, who *identity.User, token string) (int64, bool, error)
	DiscardKept(ctx context.Context, who *identity.User, token string, threadID int64) (bool, error)
	KeptAny(ctx context.Context, who *identity.User, token string) (bool, error)
}

var _ KeptTexts = (*messaging.Service)(nil)

// keptToken is the browser's kept-text token ("" for none).
func (h *handler) keptToken(c *fiber.Ctx) string {
	return strings.Clone(c.Cookies(cookieName(h.cfg, keptCookie)))
}

func (h *handler) setKeptCookie(c *fiber.Ctx, token string, maxAge time.Duration) {
	ck := &fiber.Cookie{
		Name:     cookieName(h.cfg, keptCookie),
		Value:    token,
		Path:     "/",
		Secure:   h.cfg.Secure(),
		HTTPOnly: true,
		SameSite: fiber.CookieSameSiteLaxMode,
		MaxAge:   int(maxAge / time.Second),
	}
	if maxAge < 0 {
		ck.MaxAge, ck.Expires = -1, time.Unix(0, 0)
	}
	c.Cookie(ck)
}

// keptFormID is the conversation of a message form's path, or 0 for
// "Nieuw bericht".
func keptFormID(c *fiber.Ctx) (int64, error) {
	if c.Path() == pathCompose || strings.HasPrefix(c.Path(), pathCompose+"/") {
		return 0, nil
	}
	return idParam(c, "id")
}

// keptFormURL is the page of a kept text's form.
func keptFormURL(threadID int64) string {
	if threadID == 0 {
		return pathCompose
	}
	return components.ThreadURL(threadID)
}

// lapsedUser returns the user of the request's session cookie when the
// request is a message form's and the session lapsed (auth.Sessions.Lapsed),
// else 0; looked up once per request.
func (h *handler) lapsedUser(c *fiber.Ctx) int64 {
	if id, ok := c.Locals(keyLapsed).(int64); ok {
		return id
	}
	var id int64
	if h.kept != nil && current(c) == nil && c.Method() == fiber.MethodPost && messageForm.MatchString(c.Path()) {
		if token := c.Cookies(SessionCookieName(h.cfg)); token != "" {
			uid, err := h.sessions.Lapsed(c.UserContext(), strings.Clone(token))
			switch {
			case err == nil:
				id = uid
			case apperr.CodeOf(err) != apperr.Unauthorized:
				h.logger(c).Error("lapsed session", "err", err)
			}
		}
	}
	c.Locals(keyLapsed, id)
	return id
}

// keepUnsent guards the two message forms before their session check.
// Posted by a session that lapsed, the form's text is kept for its writer
// and the browser goes to the login page, which says so; posted with
// keepField by a live session that may send messages, it is kept and
// nothing is sent (204). Everything else goes on as before: without a
// session (none, unknown, ended) to the login page, with nothing kept. A
// lapsed session's answer is the same for a conversation the person is
// not in as for one of theirs (nothing is kept): it tells nothing.
func (h *handler) keepUnsent(c *fiber.Ctx) error {
	if h.kept == nil {
		return c.Next()
	}
	if cur := current(c); cur != nil {
		if !keepAsked(c) || cur.NeedsSecondFactor || cur.Stage != auth.StageDone {
			return c.Next()
		}
		if err := h.keepForm(c, cur.User.ID); err != nil {
			return err
		}
		return c.SendStatus(fiber.StatusNoContent)
	}
	uid := h.lapsedUser(c)
	if uid == 0 {
		return c.Next()
	}
	if err := h.keepForm(c, uid); err != nil {
		switch apperr.CodeOf(err) {
		case apperr.NotFound:
			// A conversation the person is not in (or none): answered as
			// if kept, so that a copy of a lapsed session's cookie cannot
			// tell which conversations are theirs. Nothing is kept; the
			// login then goes to the inbox.
			h.logger(c).Info("lapsed form not kept", "user", uid, "status", statusOf(err))
			h.setKeptCookie(c, messaging.KeptToken(h.keptToken(c)), messaging.KeptFor)
			return redirect(c, loginKept)
		case apperr.Invalid:
			h.logger(c).Info("lapsed form not kept", "user", uid, "status", statusOf(err))
			return redirect(c, pathLogin)
		}
		return err
	}
	return redirect(c, loginKept)
}

// keepAsked reports whether the form was posted to be kept, not sent:
// keepField in the body (never the query string).
func keepAsked(c *fiber.Ctx) bool {
	for _, v := range formValues(c, keepField) {
		if v == "1" {
			return true
		}
	}
	return false
}

// keepForm keeps the posted form's text for userID and gives the browser
// the cookie of its kept texts.
func (h *handler) keepForm(c *fiber.Ctx, userID int64) error {
	id, err := keptFormID(c)
	if err != nil {
		return err
	}
	in := messaging.KeptInput{ThreadID: id, Body: clip(formValue(c, "body"), maxBodyFormLen), WithFiles: postsFiles(c)}
	if id == 0 {
		in.To, in.Subject = clip(formValue(c, "to"), maxToFormLen), clip(formValue(c, "subject"), maxSubjectFormLen)
		in.Medical = formValue(c, "medical") == "yes"
		in.TeamID, _ = strconv.ParseInt(clip(formValue(c, "team"), 20), 10, 64)
	}
	token, err := h.kept.KeepText(c.UserContext(), userID, h.keptToken(c), in)
	if err != nil {
		return err
	}
	h.setKeptCookie(c, token, messaging.KeptFor)
	h.logger(c).Info("unsent form kept", "user", userID, "thread", id, "files", in.WithFiles)
	return nil
}

// postsFiles reports whether a message form came with attachments: ids of
// files uploaded before, or files of its own.
func postsFiles(c *fiber.Ctx) bool {
	if len(attachmentIDs(c)) > 0 {
		return true
	}
	if !isMultipart(c) {
		return false
	}
	form, err := c.MultipartForm()
	if err != nil {
		return false
	}
	for _, fh := range form.File["files"] {
		if fh.Filename != "" || fh.Size > 0 {
			return true
		}
	}
	return false
}

// keptLocation is where a completed login goes instead of the inbox when
// the browser holds a text the person kept: its form.
func (h *handler) keptLocation(c *fiber.Ctx, cur *auth.Current, location string) string {
	token := h.keptToken(c)
	if h.kept == nil || location != pathInbox || token == "" {
		return location
	}
	id, ok, err := h.kept.KeptForm(c.UserContext(), cur.User, token)
	if err != nil {
		h.logger(c).Error("kept form", "err", err)
		return location
	}
	if !ok {
		return location
	}
	return keptFormURL(id)
}

// keptText is what the person kept in this browser for the form of
// threadID, with its notice; nil for nothing.
func (h *handler) keptText(c *fiber.Ctx, threadID int64) (*messaging.KeptText, *components.KeptNotice, error) {
	token := h.keptToken(c)
	if h.kept == nil || token == "" {
		return nil, nil, nil
	}
	k, err := h.kept.KeptText(c.UserContext(), current(c).User, token, threadID)
	if err != nil || k == nil {
		return nil, nil, err
	}
	return k, &components.KeptNotice{DiscardURL: keptFormURL(threadID) + keptDiscard, WithFiles: k.WithFiles}, nil
}

// keptReply is the reply form filled with what the person kept for the
// conversation v, or nil.
func (h *handler) keptReply(c *fiber.Ctx, v components.ThreadView) (*components.ReplyForm, error) {
	if v.ReadOnly {
		return nil, nil
	}
	k, notice, err := h.keptText(c, v.ID)
	if err != nil || k == nil {
		return nil, err
	}
	return &components.ReplyForm{Body: k.Body, Signing: h.signingChoice(c, v), Kept: notice}, nil
}

// keptSent is the end of a successful send of a message form: the send
// deleted its kept text (messaging.SentKept), and the browser's cookie
// goes when it keeps nothing else of the person.
func (h *handler) keptSent(c *fiber.Ctx) {
	token := h.keptToken(c)
	if h.kept == nil || token == "" {
		return
	}
	more, err := h.kept.KeptAny(c.UserContext(), current(c).User, token)
	if err != nil {
		h.logger(c).Error("kept text after sending", "err", err)
		return
	}
	if !more {
		h.setKeptCookie(c, "", -1)
	}
}

// sentKept makes the send of the form of threadID delete its kept text in
// the send's transaction; then is the Within the send has already.
func (h *handler) sentKept(c *fiber.Ctx, threadID int64, then messaging.WithinFunc) messaging.WithinFunc {
	if h.kept == nil {
		return then
	}
	return messaging.SentKept(current(c).User, h.keptToken(c), threadID, then)
}

// keptDiscardPost is "Weggooien": the kept text of the form goes, and the
// form is shown again, empty.
func (h *handler) keptDiscardPost(c *fiber.Ctx) error {
	id, err := keptFormID(c)
	if err != nil {
		return err
	}
	if h.kept == nil {
		return errNotFound
	}
	more, err := h.kept.DiscardKept(c.UserContext(), current(c).User, h.keptToken(c), id)
	if err != nil {
		return err
	}
	if !more && h.keptToken(c) != "" {
		h.setKeptCookie(c, "", -1)
	}
	return seeOther(c, keptFormURL(id))
}
