package handlers

import (
	"context"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"dialoog/apperr"
	"dialoog/components"
	"dialoog/identity"
	"dialoog/messaging"
)

// pathAdminRetention is "Bewaartermijn" in Beheer.
const pathAdminRetention = "/beheer/bewaartermijn"

// Retention is the retention of the admin's own organisation;
// *messaging.Service implements it. Both answer NotFound for anyone but
// an internal admin.
type Retention interface {
	Retention(ctx context.Context, user *identity.User) (*messaging.RetentionStatus, error)
	// SetRetention stores the periods as typed; apperr Fields on the
	// fields "conversations" and "cases" for anything but a whole number
	// of months up to messaging.MaxRetentionMonths, or empty for off.
	SetRetention(ctx context.Context, user *identity.User, in messaging.RetentionInput) error
}

var _ Retention = (*messaging.Service)(nil)

// adminRetentionShow shows the organisation's retention periods and its
// daily run.
func (h *handler) adminRetentionShow(c *fiber.Ctx) error {
	st, err := h.retention.Retention(c.UserContext(), current(c).User)
	if err != nil {
		return err
	}
	v := retentionView(st)
	v.Conversations, v.Cases = monthsValue(st.ConversationMonths), monthsValue(st.CaseMonths)
	v.Saved = c.Query("opgeslagen") == "1"
	return h.adminRetentionPage(c, fiber.StatusOK, v)
}

// adminRetentionSave stores the periods; refused input shows the form
// again with the messages and what was typed.
func (h *handler) adminRetentionSave(c *fiber.Ctx) error {
	in := messaging.RetentionInput{Conversations: clip(formValue(c, "conversations"), 16), Cases: clip(formValue(c, "cases"), 16), IP: clientIP(c)}
	err := h.retention.SetRetention(c.UserContext(), current(c).User, in)
	if apperr.CodeOf(err) == apperr.Invalid {
		st, serr := h.retention.Retention(c.UserContext(), current(c).User)
		if serr != nil {
			return serr
		}
		v := retentionView(st)
		v.Conversations, v.Cases = in.Conversations, in.Cases
		msgs := h.fieldMessages(c, err)
		v.ConversationsError, v.CasesError = msgs["conversations"], msgs["cases"]
		return h.adminRetentionPage(c, fiber.StatusUnprocessableEntity, v)
	}
	if err != nil {
		return err
	}
	h.logger(c).Info("retention changed")
	return seeOther(c, pathAdminRetention+"?opgeslagen=1")
}

func retentionView(st *messaging.RetentionStatus) components.AdminRetentionView {
	return components.AdminRetentionView{NextRun: st.NextRunAt, LastRun: st.LastRunAt, LastFailed: st.Last.Failed,
		LastCases: st.Last.Cases, LastConversations: st.Last.Conversations, LastMessages: st.Last.Messages, LastFiles: st.Last.Files}
}

// monthsValue is a stored period as the form shows it: empty when off.
func monthsValue(n int) string {
	if n == 0 {
		return ""
	}
	return strconv.Itoa(n)
}

func (h *handler) adminRetentionPage(c *fiber.Ctx, status int, v components.AdminRetentionView) error {
	m := h.meta(c)
	return h.page(c, status, components.AdminRetentionPage(m, v), components.AdminRetentionPartial(m, v))
}
