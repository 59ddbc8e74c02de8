package handlers

import (
	"bufio"
	"context"
	"io"

	"github.com/gofiber/fiber/v2"

	"dialoog/components"
)

// pathAccount is "Mijn account": download the box, stop with Dialoog.
const (
	pathAccount          = "/account"
	pathAccountExport    = "/account/export"
	pathAccountStop      = "/account/stoppen"
	pathAccountActivity  = "/account/activiteit"
	pathAfterAccountGone = "/?gestopt=1"
)

// exportFilename is the name the browser saves the box under.
const exportFilename = "dialoog-berichten.zip"

// accountShow is "Mijn account".
func (h *handler) accountShow(c *fiber.Ctx) error {
	return h.accountPage(c, fiber.StatusOK, components.AccountView{})
}

// accountExport sends the user's box as a ZIP file: a download, never
// sniffed, rendered or cached. The box is loaded first (an error still
// gets its page); the ZIP file is then written straight to the client,
// each attachment streamed from the blob store into it.
func (h *handler) accountExport(c *fiber.Ctx) error {
	exp, err := h.messages.Export(c.UserContext(), current(c).User)
	if err != nil {
		return err
	}
	log := h.logger(c)
	ctx := context.WithoutCancel(c.UserContext())
	c.Set(fiber.HeaderContentType, "application/zip")
	c.Set(fiber.HeaderContentDisposition, `attachment; filename="`+exportFilename+`"`)
	c.Set(fiber.HeaderXContentTypeOptions, "nosniff")
	c.Set(fiber.HeaderCacheControl, "no-store")
	c.Set(fiber.HeaderContentSecurityPolicy, downloadCSP)
	c.Status(fiber.StatusOK)
	c.Context().SetBodyStreamWriter(func(w *bufio.Writer) {
		ctx, cancel := context.WithTimeout(ctx, writeTimeout)
		defer cancel()
		cw := &countingWriter{w: w}
		if err := exp.WriteTo(ctx, cw); err != nil {
			log.Error("box export broke off", "bytes", cw.n, "err", err)
			return
		}
		log.Info("box exported", "bytes", cw.n)
	})
	return nil
}

// countingWriter counts what passes through it.
type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// accountStop is "Account verwijderen": after the password (re-
// authentication) and the checkbox, the box and the account are deleted,
// the session ends everywhere it is open and the browser goes to the start
// page, which says so. A wrong password or a missing tick shows the form
// again with the message at the field; the typed password never comes
// back.
func (h *handler) accountStop(c *fiber.Ctx) error {
	cur := current(c)
	pw := clip(formValue(c, "password"), maxPasswordLen+4)
	var v components.AccountView
	ok := false
	m := h.meta(c)
	if pw != "" && len(pw) <= maxPasswordLen {
		var err error
		if ok, err = h.accounts.Reauthenticate(c.UserContext(), cur, pw, clientIP(c)); err != nil {
			if !isWait(err) {
				return err
			}
			v.PasswordError = h.message(c, err)
			h.logger(c).Info("account deletion refused", "status", statusOf(err))
			return h.accountPage(c, statusOf(err), v)
		}
	}
	if !ok {
		v.PasswordError = m.T("account.wrong_password")
	}
	if formValue(c, "confirm") != "yes" {
		v.ConfirmError = m.T("account.confirm_required")
	}
	if v.PasswordError != "" || v.ConfirmError != "" {
		h.logger(c).Info("account deletion refused", "password_ok", ok)
		return h.accountPage(c, fiber.StatusUnprocessableEntity, v)
	}
	if err := h.messages.StopService(c.UserContext(), cur.User); err != nil {
		return err
	}
	// The session row went with the account; this tells the live layer,
	// so the browser's open connections close.
	h.endBrowserSession(c)
	ClearSessionCookie(c, h.cfg)
	c.Locals(keyCurrent, nil)
	h.logger(c).Info("account deleted by its user")
	return seeOther(c, pathAfterAccountGone)
}

func (h *handler) accountPage(c *fiber.Ctx, status int, v components.AccountView) error {
	v.Email = current(c).User.Email
	m := h.meta(c)
	return h.page(c, status, components.AccountPage(m, v), components.AccountPartial(m, v))
}

// accountActivity is "Beveiligingsactiviteit": the user's own security
// events, newest first, a page at a time (?pagina=2).
func (h *handler) accountActivity(c *fiber.Ctx) error {
	page := pageParam(c)
	events, more, err := h.accounts.Activity(c.UserContext(), current(c).User.ID, page)
	if err != nil {
		return err
	}
	v := components.ActivityView{Page: page, More: more}
	for _, e := range events {
		v.Events = append(v.Events, components.ActivityItem{Kind: e.Kind, Factor: e.Factor, Place: e.Place, At: e.At})
	}
	m := h.meta(c)
	return h.page(c, fiber.StatusOK, components.ActivityPage(m, v), components.ActivityPartial(m, v))
}
