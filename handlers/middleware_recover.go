package handlers

import (
	"fmt"
	"runtime/debug"

	"github.com/gofiber/fiber/v2"

	"dialoog/apperr"
)

// recoverPanic turns a panic in a handler into an Internal error, so the user
// sees the generic error page and the log gets the value and stack.
func (h *handler) recoverPanic(c *fiber.Ctx) (err error) {
	defer func() {
		if r := recover(); r != nil {
			h.logger(c).Error("panic", "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
			err = &apperr.Error{Code: apperr.Internal, Key: "error.internal", Err: fmt.Errorf("panic: %v", r)}
		}
	}()
	return c.Next()
}
