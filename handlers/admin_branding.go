package handlers

import (
	"context"
	"io"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"dialoog/apperr"
	"dialoog/auth"
	"dialoog/branding"
	"dialoog/components"
)

// pathAdminBranding is "Organisatie" in Beheer.
const pathAdminBranding = "/beheer/organisatie"

// Branding is an organisation's house style; *auth.Branding implements
// it. The methods that take the signed-in user answer NotFound to anyone
// but an admin of the organisation.
type Branding interface {
	Brand(ctx context.Context, cur *auth.Current) (auth.OrgBrand, error)
	OfOrg(ctx context.Context, orgID int64) (auth.OrgBrand, error)
	OfNewestInvitation(ctx context.Context, userID int64) (auth.OrgBrand, bool, error)
	Save(ctx context.Context, cur *auth.Current, in auth.BrandInput, ip string) error
	SetLogo(ctx context.Context, cur *auth.Current, data []byte, ip string) error
	RemoveLogo(ctx context.Context, cur *auth.Current, ip string) error
	Logo(ctx context.Context, orgID int64, hash string) ([]byte, string, error)
	SupportTexts(ctx context.Context, userID int64) ([]auth.OrgSupport, error)
}

var _ Branding = (*auth.Branding)(nil)

// brandingAssets serves the organisations' stylesheets and logos: public
// (the invitation page and mail show them before any login), addressed
// by content hash, so they may be cached for good.
func (h *handler) brandingAsset(c *fiber.Ctx) error {
	name := c.Params("file")
	dash := strings.IndexByte(name, '-')
	dot := strings.LastIndexByte(name, '.')
	if dash < 1 || dot < dash {
		return fiber.ErrNotFound
	}
	orgID, err := strconv.ParseInt(name[:dash], 10, 64)
	if err != nil || orgID < 1 {
		return fiber.ErrNotFound
	}
	hash, ext := name[dash+1:dot], name[dot:]
	ctx := c.UserContext()
	c.Set(fiber.HeaderXContentTypeOptions, "nosniff")
	switch ext {
	case ".css":
		b, err := h.branding.OfOrg(ctx, orgID)
		if apperr.CodeOf(err) == apperr.NotFound {
			return fiber.ErrNotFound
		} else if err != nil {
			return err
		}
		if b.StylePath() != auth.PathBranding+name {
			return fiber.ErrNotFound
		}
		c.Set(fiber.HeaderCacheControl, "public, max-age=31536000, immutable")
		c.Set(fiber.HeaderContentType, "text/css; charset=utf-8")
		return c.SendString(branding.Stylesheet(b.Colour))
	case ".png", ".jpg":
		data, typ, err := h.branding.Logo(ctx, orgID, hash)
		if apperr.CodeOf(err) == apperr.NotFound {
			return fiber.ErrNotFound
		} else if err != nil {
			return err
		}
		if branding.Ext(typ) != ext {
			return fiber.ErrNotFound
		}
		c.Set(fiber.HeaderCacheControl, "public, max-age=31536000, immutable")
		c.Set(fiber.HeaderContentType, typ)
		c.Set(fiber.HeaderContentDisposition, "inline")
		return c.Send(data)
	}
	return fiber.ErrNotFound
}

// brandMeta is the house style of an organisation for a page's layout;
// nil keeps the page neutral.
func brandMeta(b auth.OrgBrand) *components.Brand {
	return &components.Brand{Name: b.Name, StyleURL: b.StylePath(), LogoURL: b.LogoPath()}
}

// withBrand adds organisation orgID's house style to m. The style is a
// courtesy: a failure to load it is logged and the page stays neutral.
func (h *handler) withBrand(c *fiber.Ctx, m components.Meta, orgID int64) components.Meta {
	if h.branding == nil || orgID == 0 {
		return m
	}
	b, err := h.branding.OfOrg(c.UserContext(), orgID)
	if err != nil {
		h.logger(c).Warn("load branding", "err", err)
		return m
	}
	m.Brand = brandMeta(b)
	return m
}

// withSignUpBrand adds, for a person who is still signing up, the house
// style of the organisation whose invitation they followed (the newest).
// Like withBrand a courtesy: a failure leaves the page neutral.
func (h *handler) withSignUpBrand(c *fiber.Ctx, m components.Meta, cur *auth.Current) components.Meta {
	if h.branding == nil || cur == nil || cur.Stage == auth.StageDone || cur.NeedsSecondFactor {
		return m
	}
	b, ok, err := h.branding.OfNewestInvitation(c.UserContext(), cur.User.ID)
	if err != nil {
		h.logger(c).Warn("load branding", "err", err)
		return m
	}
	if ok {
		m.Brand = brandMeta(b)
	}
	return m
}

func (h *handler) adminBrandingShow(c *fiber.Ctx) error {
	b, err := h.branding.Brand(c.UserContext(), current(c))
	if err != nil {
		return err
	}
	v := h.brandingView(c, b)
	v.Name, v.SenderName, v.SupportText, v.Colour = b.Name, b.SenderName, b.SupportText, b.Colour
	switch c.Query("melding") {
	case "opgeslagen":
		v.Notice = h.localizer(c).T("branding.saved")
	case "logo":
		v.Notice = h.localizer(c).T("branding.logo_saved")
	case "logo-weg":
		v.Notice = h.localizer(c).T("branding.logo_removed")
	}
	return h.adminBrandingPage(c, fiber.StatusOK, v)
}

func (h *handler) brandingView(c *fiber.Ctx, b auth.OrgBrand) components.AdminBrandingView {
	v := components.AdminBrandingView{LogoURL: b.LogoPath(), EvidenceLanguage: b.EvidenceLanguage}
	if b.StoredColour != "" {
		v.ColourAdjusted = h.localizer(c).T("branding.colour_adjusted", "Stored", b.StoredColour, "Colour", b.Colour)
	}
	return v
}

// adminBrandingSave stores the texts and the colour; refused input shows
// the form again with the messages and what was typed.
func (h *handler) adminBrandingSave(c *fiber.Ctx) error {
	in := auth.BrandInput{Name: clipChars(formValue(c, "name"), branding.MaxName), SenderName: clipChars(formValue(c, "sender"), branding.MaxSenderName),
		SupportText: clipChars(formValue(c, "support"), branding.MaxSupportText), Colour: clip(formValue(c, "colour"), 32),
		EvidenceLanguage: clip(formValue(c, "evidence_language"), 8)}
	err := h.branding.Save(c.UserContext(), current(c), in, clientIP(c))
	if apperr.CodeOf(err) == apperr.Invalid {
		b, berr := h.branding.Brand(c.UserContext(), current(c))
		if berr != nil {
			return berr
		}
		v := h.brandingView(c, b)
		v.Name, v.SenderName, v.SupportText, v.Colour = in.Name, in.SenderName, in.SupportText, in.Colour
		v.EvidenceLanguage = in.EvidenceLanguage
		msgs := h.fieldMessages(c, err)
		v.NameError, v.SenderNameError, v.SupportTextError, v.ColourError = msgs["name"], msgs["sender"], msgs["support"], msgs["colour"]
		v.EvidenceLanguageError = msgs["evidence_language"]
		return h.adminBrandingPage(c, fiber.StatusUnprocessableEntity, v)
	}
	if err != nil {
		return err
	}
	h.logger(c).Info("branding changed")
	return seeOther(c, pathAdminBranding+"?melding=opgeslagen")
}

// adminBrandingLogo stores an uploaded logo (a multipart form with the
// file "logo"); a refused file shows the page with the message.
func (h *handler) adminBrandingLogo(c *fiber.Ctx) error {
	var data []byte
	if fh, err := c.FormFile("logo"); err == nil && fh.Size > 0 {
		if fh.Size > branding.MaxLogoBytes {
			data = make([]byte, branding.MaxLogoBytes+1) // refused by size, unread
		} else {
			f, err := fh.Open()
			if err != nil {
				return fiber.NewError(fiber.StatusBadRequest, "unreadable upload")
			}
			data, err = io.ReadAll(io.LimitReader(f, branding.MaxLogoBytes+1))
			_ = f.Close()
			if err != nil {
				return fiber.NewError(fiber.StatusBadRequest, "unreadable upload")
			}
		}
	}
	err := h.branding.SetLogo(c.UserContext(), current(c), data, clientIP(c))
	if apperr.CodeOf(err) == apperr.Invalid {
		b, berr := h.branding.Brand(c.UserContext(), current(c))
		if berr != nil {
			return berr
		}
		v := h.brandingView(c, b)
		v.Name, v.SenderName, v.SupportText, v.Colour = b.Name, b.SenderName, b.SupportText, b.Colour
		v.LogoError = h.fieldMessage(c, err, "logo")
		return h.adminBrandingPage(c, fiber.StatusUnprocessableEntity, v)
	}
	if err != nil {
		return err
	}
	h.logger(c).Info("logo changed")
	return seeOther(c, pathAdminBranding+"?melding=logo")
}

func (h *handler) adminBrandingLogoRemove(c *fiber.Ctx) error {
	if err := h.branding.RemoveLogo(c.UserContext(), current(c), clientIP(c)); err != nil {
		return err
	}
	h.logger(c).Info("logo removed")
	return seeOther(c, pathAdminBranding+"?melding=logo-weg")
}

func (h *handler) adminBrandingPage(c *fiber.Ctx, status int, v components.AdminBrandingView) error {
	m := h.meta(c)
	return h.page(c, status, components.AdminBrandingPage(m, v), components.AdminBrandingPartial(m, v))
}
