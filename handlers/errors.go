package handlers

import (
	"errors"
	"time"

	"github.com/gofiber/fiber/v2"

	"dialoog/apperr"
	"dialoog/auth"
	"dialoog/components"
	"dialoog/i18n"
)

// handleError is the one place that turns an error into a response: a status
// from the apperr code (or Fiber's own error) and an error page with a
// translated message. Internal detail goes to the log only. It is Fiber's
// ErrorHandler and is also called by the access log middleware, so the
// logged status is the one sent.
func (h *handler) handleError(c *fiber.Ctx, err error) error {
	status, _ := classify(err)
	if c.Locals(keyLogger) == nil {
		// Answered before requestLog ran (e.g. body too large): give it an id
		// and its access log line here.
		id := newRequestID()
		c.Set("X-Request-Id", id)
		log := h.log.With("request_id", id)
		c.Locals(keyLogger, log)
		log.Info("request", "method", c.Method(), "path", logPath(c.Path()), "status", status)
	}
	_, isAppErr := apperr.As(err)
	isAppErr = isAppErr || len(apperr.FieldsOf(err)) > 0
	switch {
	case status >= fiber.StatusInternalServerError:
		h.logger(c).Error("request failed", "status", status, "err", err)
	case isAppErr:
		h.logger(c).Debug("request refused", "status", status, "err", err)
	default:
		// Fiber's own 4xx errors are not logged: their text repeats the raw
		// path, which may hold a token, and the access log has the status.
	}
	// Errors can happen before the middleware ran (body too large) and must
	// still carry the security headers; they are never cached.
	h.setSecurityHeaders(c)
	c.Set(fiber.HeaderCacheControl, "no-store")

	m := h.meta(c)
	v := components.ErrorView{Status: status, Message: translate(m.L, err)}
	if rerr := h.page(c, status, components.ErrorPage(m, v), components.ErrorPartial(m, v)); rerr != nil {
		h.logger(c).Error("render error page", "err", rerr)
		c.Set(fiber.HeaderContentType, fiber.MIMETextPlainCharsetUTF8)
		return c.Status(fiber.StatusInternalServerError).SendString("Internal Server Error")
	}
	return nil
}

// message returns the translated text of err for showing next to a form:
// the apperr key when it exists in the catalogs, else a generic text for its
// code. Internal errors always get the generic text.
func (h *handler) message(c *fiber.Ctx, err error) string {
	return translate(h.localizer(c), err)
}

// translate is message for a given Localizer. A throttled request's message
// says how long to wait.
func translate(l i18n.Localizer, err error) string {
	status, key := classify(err)
	if !l.Has(key) {
		key = defaultKey(status)
	}
	var we *auth.WaitError
	if errors.As(err, &we) {
		return l.T(key, "Wait", waitText(l, we.Wait))
	}
	return l.T(key, argsOf(err)...)
}

// argsOf returns the arguments of the error classify took the message
// from.
func argsOf(err error) []any {
	var fields apperr.Fields
	if errors.As(err, &fields) && len(fields) > 0 {
		return fields[0].Args
	}
	if e, ok := apperr.As(err); ok {
		return e.Args
	}
	return nil
}

// waitText writes a wait as people say it: "1 seconde", "40 seconden",
// "5 minuten", and beyond an hour "20 uur" (rounded up, so nobody comes
// back too early).
func waitText(l i18n.Localizer, d time.Duration) string {
	s := int((d + time.Second - 1) / time.Second)
	switch {
	case s <= 1:
		return l.T("wait.second")
	case s < 60:
		return l.T("wait.seconds", "N", s)
	case s <= 60:
		return l.T("wait.minute")
	case s <= 3600:
		return l.T("wait.minutes", "N", (s+59)/60)
	default:
		return l.T("wait.hours", "N", (s+3599)/3600)
	}
}

// fieldMessage returns the translated message for the form field named
// field: its own key when err names that field (alone or in an
// apperr.Fields), else the message of err as a whole.
func (h *handler) fieldMessage(c *fiber.Ctx, err error, field string) string {
	var we *auth.WaitError
	if errors.As(err, &we) {
		return h.message(c, err)
	}
	for _, fe := range apperr.FieldsOf(err) {
		if fe.Field == field {
			return h.message(c, fe)
		}
	}
	return h.message(c, err)
}

// classify returns the status and message key for err.
func classify(err error) (int, string) {
	var fields apperr.Fields
	if errors.As(err, &fields) && len(fields) > 0 {
		return fiber.StatusUnprocessableEntity, fields[0].Key
	}
	if e, ok := apperr.As(err); ok {
		if e.Code == apperr.Internal {
			return fiber.StatusInternalServerError, "error.internal"
		}
		return statusFor(e.Code), e.Key
	}
	var fe *fiber.Error
	if errors.As(err, &fe) {
		return fe.Code, defaultKey(fe.Code)
	}
	return fiber.StatusInternalServerError, "error.internal"
}

// statusFor maps an apperr code to its HTTP status.
func statusFor(code apperr.Code) int {
	switch code {
	case apperr.Invalid:
		return fiber.StatusUnprocessableEntity
	case apperr.Malformed:
		return fiber.StatusBadRequest
	case apperr.NotFound:
		return fiber.StatusNotFound
	case apperr.Unauthorized:
		return fiber.StatusUnauthorized
	case apperr.Forbidden:
		return fiber.StatusForbidden
	case apperr.Conflict:
		return fiber.StatusConflict
	case apperr.TooMany:
		return fiber.StatusTooManyRequests
	case apperr.NoSpace:
		return fiber.StatusInsufficientStorage
	default:
		return fiber.StatusInternalServerError
	}
}

// defaultKey is the generic message for a status, used when an error carries
// no translated key of its own.
func defaultKey(status int) string {
	switch {
	case status >= fiber.StatusInternalServerError:
		return "error.internal"
	case status == fiber.StatusUnauthorized:
		return "error.unauthorized"
	case status == fiber.StatusForbidden:
		return "error.forbidden"
	case status == fiber.StatusNotFound:
		return "error.not_found"
	case status == fiber.StatusMethodNotAllowed:
		return "error.method_not_allowed"
	case status == fiber.StatusConflict:
		return "error.conflict"
	case status == fiber.StatusRequestEntityTooLarge:
		return "error.too_large"
	case status == fiber.StatusUnprocessableEntity:
		return "error.invalid"
	case status == fiber.StatusTooManyRequests:
		return "error.too_many"
	default:
		return "error.bad_request"
	}
}

// fieldMessages maps every form field err names to its translated message.
func (h *handler) fieldMessages(c *fiber.Ctx, err error) map[string]string {
	out := map[string]string{}
	for _, fe := range apperr.FieldsOf(err) {
		out[fe.Field] = h.message(c, fe)
	}
	return out
}

// formMessages returns the translated messages of a form with several
// fields, each under the field err names, so that a message shows beside
// its own field only; an error that names no field (a wait) goes under
// primary.
func (h *handler) formMessages(c *fiber.Ctx, err error, primary string) map[string]string {
	out := h.fieldMessages(c, err)
	if len(out) == 0 {
		out[primary] = h.message(c, err)
	}
	return out
}

// isWait reports whether err is a throttled attempt that says how long to
// wait.
func isWait(err error) bool {
	var we *auth.WaitError
	return errors.As(err, &we)
}

// formError reports whether err is one a form shows beside its fields
// instead of on an error page: invalid input or a wait.
func formError(err error) bool {
	code := apperr.CodeOf(err)
	return code == apperr.Invalid || code == apperr.TooMany
}

// statusOf is the HTTP status of a form error.
func statusOf(err error) int {
	s, _ := classify(err)
	return s
}
