package handlers

import (
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"dialoog/apperr"
	"dialoog/auth"
	"dialoog/components"
)

// "Inloggen via de organisatie" in Beheer (/beheer/sso): the
// organisation's OpenID Connect provider; the rules are auth.SSO's.

func (h *handler) adminSSOView(c *fiber.Ctx) (components.AdminSSOView, error) {
	s, ok, err := h.sso.Settings(c.UserContext(), current(c))
	if err != nil {
		return components.AdminSSOView{}, err
	}
	base := strings.TrimRight(h.cfg.BaseURL.String(), "/")
	v := components.AdminSSOView{Configured: ok, Issuer: s.Issuer, ClientID: s.ClientID, Domains: strings.Join(s.Domains, " "),
		CreateUsers: s.CreateUsers, CallbackURL: base + auth.PathSSOCallback}
	if org := current(c).User.OrgID; org != nil {
		v.BackChannelURL = base + auth.PathSSOBackChannel + strconv.FormatInt(*org, 10)
	}
	return v, nil
}

func (h *handler) adminSSOShow(c *fiber.Ctx) error {
	v, err := h.adminSSOView(c)
	if err != nil {
		return err
	}
	switch c.Query("melding") {
	case "opgeslagen":
		v.Notice = h.localizer(c).T("sso.admin.saved")
	case "uit":
		v.Notice = h.localizer(c).T("sso.admin.removed")
	}
	return h.adminSSOPage(c, fiber.StatusOK, v)
}

// adminSSOSave stores the provider; refused input shows the form again
// with the messages and what was typed (never the secret).
func (h *handler) adminSSOSave(c *fiber.Ctx) error {
	in := auth.SSOInput{Issuer: clip(strings.TrimSpace(formValue(c, "issuer")), 1000), ClientID: clip(formValue(c, "client_id"), 1000),
		ClientSecret: clip(formValue(c, "client_secret"), 2000), Domains: clip(formValue(c, "domains"), auth.MaxSSODomainsLen+1),
		CreateUsers: formValue(c, "create_users") != ""}
	err := h.sso.Save(c.UserContext(), current(c), in, clientIP(c))
	if apperr.CodeOf(err) == apperr.Invalid {
		v, verr := h.adminSSOView(c)
		if verr != nil {
			return verr
		}
		v.Issuer, v.ClientID, v.Domains, v.CreateUsers = in.Issuer, in.ClientID, in.Domains, in.CreateUsers
		msgs := h.fieldMessages(c, err)
		v.IssuerError, v.ClientIDError, v.ClientSecretError, v.DomainsError = msgs["issuer"], msgs["client_id"], msgs["client_secret"], msgs["domains"]
		return h.adminSSOPage(c, fiber.StatusUnprocessableEntity, v)
	}
	if err != nil {
		return err
	}
	h.logger(c).Info("sso provider changed")
	return seeOther(c, pathAdminSSO+"?melding=opgeslagen")
}

func (h *handler) adminSSORemove(c *fiber.Ctx) error {
	if err := h.sso.Remove(c.UserContext(), current(c), clientIP(c)); err != nil {
		return err
	}
	h.logger(c).Info("sso provider removed")
	return seeOther(c, pathAdminSSO+"?melding=uit")
}

func (h *handler) adminSSOPage(c *fiber.Ctx, status int, v components.AdminSSOView) error {
	m := h.meta(c)
	return h.page(c, status, components.AdminSSOPage(m, v), components.AdminSSOPartial(m, v))
}
