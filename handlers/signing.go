package handlers

import (
	"context"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"dialoog/apperr"
	"dialoog/components"
	"dialoog/identity"
	"dialoog/messaging"
	"dialoog/signing"
)

// Signing is what the handlers need of Ondertekenen (signing.Service).
type Signing interface {
	Within(requester *identity.User, threadID int64, in signing.RequestInput) messaging.WithinFunc
	WithinCompose(requester *identity.User, in signing.RequestInput) messaging.WithinFunc
	Cards(ctx context.Context, user *identity.User, threadID int64) ([]signing.Card, error)
	CardByID(ctx context.Context, user *identity.User, requestID int64) (*signing.Card, error)
	View(ctx context.Context, user *identity.User, requestID int64, ip string) (string, []byte, error)
	SendCode(ctx context.Context, user *identity.User, requestID int64, ip string) error
	Agree(ctx context.Context, user *identity.User, requestID int64, in signing.AgreeInput) error
	Decline(ctx context.Context, user *identity.User, requestID int64, reason, ip string) error
}

var _ Signing = (*signing.Service)(nil)

// signingCard is a request as the components show it.
func signingCard(c *signing.Card) components.SigningCard {
	v := components.SigningCard{ID: c.ID, ThreadID: c.ThreadID, DocumentName: c.DocumentName, Pages: c.Pages, SHA256: c.SHA256,
		InOrder: c.InOrder, Deadline: c.Deadline, Status: c.Status, RequesterName: c.RequesterName, MayAct: c.MayAct,
		Method: c.Method, MaskedPhone: c.MaskedPhone, CodeSentAt: c.CodeSentAt}
	for _, s := range c.Signers {
		v.Signers = append(v.Signers, components.SigningSigner{Name: s.Name, Status: s.Status, DecidedAt: s.DecidedAt, Reason: s.Reason, Me: s.Me, Turn: s.Turn})
	}
	return v
}

// signingCards loads the conversation's requests onto its page.
func (h *handler) signingCards(c *fiber.Ctx, v *components.ThreadView) error {
	if h.signing == nil {
		return nil
	}
	cards, err := h.signing.Cards(c.UserContext(), current(c).User, v.ID)
	if err != nil {
		return err
	}
	for i := range cards {
		v.Signing = append(v.Signing, signingCard(&cards[i]))
	}
	return nil
}

// signingChoice offers "ter ondertekening" in the reply form of an
// internal user of the conversation's organisation (who alone may ask,
// signing.Service.RequestTx), with the conversation's participants who
// may read it as signers.
func (h *handler) signingChoice(c *fiber.Ctx, v components.ThreadView) *components.SigningChoice {
	u := current(c).User
	if h.signing == nil || !u.Internal() || u.OrgID == nil || *u.OrgID != v.OrgID {
		return nil
	}
	s := &components.SigningChoice{Chosen: map[int64]bool{}}
	for _, p := range v.Participants {
		if !p.MayRead {
			continue
		}
		s.Candidates = append(s.Candidates, components.SigningCandidate{UserID: p.UserID, Name: p.Name})
	}
	return s
}

// signingForm reads "ter ondertekening" from the reply form; nil when it
// is not ticked.
func (h *handler) signingForm(c *fiber.Ctx, choice *components.SigningChoice) (*signing.RequestInput, error) {
	if h.signing == nil || !current(c).User.Internal() || formValue(c, "sign") != "1" {
		return nil, nil
	}
	choice.On = true
	choice.InOrder = formValue(c, "order") == "1"
	in := &signing.RequestInput{InOrder: choice.InOrder, IP: clientIP(c)}
	for _, raw := range formValues(c, "signers") {
		id, err := strconv.ParseInt(raw, 10, 64)
		if err != nil || id <= 0 {
			return nil, apperr.Field("signers", "signing.not_participant")
		}
		if !choice.Chosen[id] {
			in.SignerIDs = append(in.SignerIDs, id)
		}
		choice.Chosen[id] = true
	}
	choice.Deadline = clip(strings.TrimSpace(formValue(c, "deadline")), maxDateFormLen)
	if choice.Deadline != "" {
		deadline, err := signing.ParseDeadline(choice.Deadline)
		if err != nil {
			return nil, err
		}
		in.Deadline = deadline
	}
	return in, nil
}

// signingDocument shows the document of a request: inline, for the
// browser's own PDF viewer in a frame of the conversation, or as a
// download. Either way in a sandbox that runs nothing of the file's own.
func (h *handler) signingDocument(c *fiber.Ctx) error {
	id, err := idParam(c, "rid")
	if err != nil {
		return err
	}
	name, data, err := h.signing.View(c.UserContext(), current(c).User, id, clientIP(c))
	if err != nil {
		return err
	}
	disposition := contentDisposition(name)
	if c.Query("download") == "" {
		disposition = "inline" + strings.TrimPrefix(disposition, "attachment")
	}
	c.Set(fiber.HeaderContentType, "application/pdf")
	c.Set(fiber.HeaderContentDisposition, disposition)
	c.Set(fiber.HeaderXContentTypeOptions, "nosniff")
	c.Set(fiber.HeaderCacheControl, "no-store")
	c.Set(fiber.HeaderContentSecurityPolicy, "sandbox; default-src 'none'; frame-ancestors 'self'")
	c.Set("X-Frame-Options", "SAMEORIGIN")
	return c.Status(fiber.StatusOK).Send(data)
}

// signingRespond answers a signing form: with htmx the card alone, else
// back to the conversation. A form error shows the card with it.
func (h *handler) signingRespond(c *fiber.Ctx, id int64, err error, notice string) error {
	u := current(c).User
	if err != nil && apperr.CodeOf(err) == apperr.NotFound {
		return err
	}
	var errs map[string]string
	if notice != "" {
		notice = h.localizer(c).T(notice)
	}
	if err != nil {
		notice = ""
		switch code := apperr.CodeOf(err); {
		case isWait(err):
			errs = map[string]string{"code": h.message(c, err)}
		case code == apperr.Invalid:
			errs = h.fieldMessages(c, err)
		case code == apperr.Conflict:
			notice = h.message(c, err)
		default:
			return err
		}
	}
	card, cerr := h.signing.CardByID(c.UserContext(), u, id)
	if cerr != nil {
		return cerr
	}
	v := signingCard(card)
	v.Errors, v.Notice = errs, notice
	status := fiber.StatusOK
	if err != nil {
		status = statusOf(err)
	}
	if isPartial(c) {
		return render(c, status, components.SigningCardView(h.meta(c), v))
	}
	if err == nil {
		return seeOther(c, components.ThreadURL(card.ThreadID)+"#signing-"+strconv.FormatInt(id, 10))
	}
	tv, terr := h.threadView(c, card.ThreadID)
	if terr != nil {
		return terr
	}
	for i := range tv.Signing {
		if tv.Signing[i].ID == id {
			tv.Signing[i] = v
		}
	}
	return h.threadPage(c, status, tv)
}

// signingSendCode texts the signer a code ("Stuur mij een code").
func (h *handler) signingSendCode(c *fiber.Ctx) error {
	id, err := idParam(c, "rid")
	if err != nil {
		return err
	}
	err = h.signing.SendCode(c.UserContext(), current(c).User, id, clientIP(c))
	if err != nil && isWait(err) {
		return h.signingRespond(c, id, err, "")
	}
	return h.signingRespond(c, id, err, "signing.code_sent")
}

// signingAgree is "Akkoord": the tick and the code.
func (h *handler) signingAgree(c *fiber.Ctx) error {
	id, err := idParam(c, "rid")
	if err != nil {
		return err
	}
	err = h.signing.Agree(c.UserContext(), current(c).User, id, signing.AgreeInput{
		Read: formValue(c, "read") == "1", Code: clip(formValue(c, "code"), 16), IP: clientIP(c), UserAgent: userAgent(c)})
	return h.signingRespond(c, id, err, "signing.agreed_notice")
}

// signingDecline is "Weigeren" with a reason.
func (h *handler) signingDecline(c *fiber.Ctx) error {
	id, err := idParam(c, "rid")
	if err != nil {
		return err
	}
	err = h.signing.Decline(c.UserContext(), current(c).User, id, clipChars(formValue(c, "reason"), signing.MaxReason), clientIP(c))
	return h.signingRespond(c, id, err, "signing.declined_notice")
}
