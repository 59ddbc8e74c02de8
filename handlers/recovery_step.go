package handlers

import (
	"fmt"
	"regexp"

	"github.com/gofiber/fiber/v2"

	"dialoog/apperr"
	"dialoog/auth"
	"dialoog/components"
)

// recoveryStepShow shows ten new recovery codes. Each GET replaces the set
// (the codes are stored hashed and cannot be shown again), so a reload
// gives new codes and the old ones stop working; the page says so.
func (h *handler) recoveryStepShow(c *fiber.Ctx) error {
	codes, err := h.accounts.NewRecoveryCodes(c.UserContext(), current(c))
	if err != nil {
		return fmt.Errorf("recovery codes: %w", err)
	}
	return h.recoveryStepForm(c, fiber.StatusOK, components.RecoveryView{Codes: codes})
}

// recoveryStepConfirm records that the user stored the codes. Unchecked,
// the page comes back with the same codes, which the form carried: they
// cannot be read back from storage.
func (h *handler) recoveryStepConfirm(c *fiber.Ctx) error {
	codes := postedRecoveryCodes(c)
	token, err := h.accounts.ConfirmRecoveryCodes(c.UserContext(), current(c), checked(c, "stored"), codes, clientIP(c))
	if err != nil {
		if e, ok := apperr.As(err); ok && e.Key == "recovery.replaced" {
			// Another view of this step made new codes: show those, and
			// say why.
			msg := h.message(c, err)
			fresh, err := h.accounts.NewRecoveryCodes(c.UserContext(), current(c))
			if err != nil {
				return fmt.Errorf("recovery codes: %w", err)
			}
			return h.recoveryStepForm(c, fiber.StatusConflict, components.RecoveryView{Codes: fresh, Error: msg})
		}
		if apperr.CodeOf(err) != apperr.Invalid {
			return err
		}
		if codes == nil {
			return seeOther(c, pathRecovery)
		}
		return h.recoveryStepForm(c, fiber.StatusUnprocessableEntity, components.RecoveryView{Codes: codes, Error: h.fieldMessage(c, err, "stored")})
	}
	return h.advance(c, token)
}

var recoveryCodePattern = regexp.MustCompile(`^[a-z2-7]{5}-[a-z2-7]{5}$`)

// postedRecoveryCodes returns the codes the form carried back, or nil when
// they are not a well-formed set.
func postedRecoveryCodes(c *fiber.Ctx) []string {
	args := c.Request().PostArgs().PeekMulti("code")
	if len(args) != auth.RecoveryCodeCount {
		return nil
	}
	codes := make([]string, 0, len(args))
	for _, a := range args {
		if !recoveryCodePattern.Match(a) {
			return nil
		}
		codes = append(codes, string(a))
	}
	return codes
}

func (h *handler) recoveryStepForm(c *fiber.Ctx, status int, v components.RecoveryView) error {
	v.Email = current(c).User.Email
	m := h.meta(c)
	return h.page(c, status, components.RecoveryStepPage(m, v), components.RecoveryStepPartial(m, v))
}
