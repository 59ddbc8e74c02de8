package handlers

import (
	"bufio"
	"context"
	"io"
	"strings"

	"github.com/gofiber/fiber/v2"

	"dialoog/apperr"
	"dialoog/auth"
	"dialoog/components"
)

// Admin is Beheer: the organisation's users, the helpdesk reset and the
// audit log. *auth.Admin implements it; every method answers apperr
// NotFound to anyone but an admin of the organisation the object belongs
// to, so the routes need no checks of their own beyond adminOnly.
type Admin interface {
	Users(ctx context.Context, cur *auth.Current, query string, at auth.UsersAt) (*auth.UsersPage, error)
	InviteColleague(ctx context.Context, cur *auth.Current, email, role, language, ip string, teamIDs ...int64) error
	ResendInvitation(ctx context.Context, cur *auth.Current, userID int64, ip string) error
	Disable(ctx context.Context, cur *auth.Current, userID int64, ip string) error
	Enable(ctx context.Context, cur *auth.Current, userID int64, ip string) error
	StartHelpdeskReset(ctx context.Context, cur *auth.Current, userID int64, ip string) (code, email string, err error)
	CheckHelpdeskReset(ctx context.Context, token, ip string) (email, language string, err error)
	CompleteHelpdeskReset(ctx context.Context, token, pw, code, ip, userAgent string) (string, error)
	AuditLog(ctx context.Context, cur *auth.Current, q auth.AuditQuery) (*auth.AuditPage, error)
	CheckAuditQuery(cur *auth.Current, q auth.AuditQuery) error
	ExportAudit(ctx context.Context, cur *auth.Current, q auth.AuditQuery, ip string, w io.Writer) error
}

var _ Admin = (*auth.Admin)(nil)

const pathAdminUsers = "/beheer/gebruikers"

// adminRoutes adds Beheer's pages (behind done and adminOnly) and the
// public page of a helpdesk link.
func (h *handler) adminRoutes(app *fiber.App, done fiber.Handler) {
	app.Get("/beheer", done, h.adminOnly, h.adminIndex)
	app.Get(pathAdminUsers, done, h.adminOnly, h.adminUsers)
	app.Post(pathAdminUsers+"/uitnodigen", done, h.adminOnly, h.adminInvite)
	app.Post(pathAdminUsers+"/:id/uitnodiging", done, h.adminOnly, h.adminUserAction)
	app.Post(pathAdminUsers+"/:id/uitschakelen", done, h.adminOnly, h.adminUserAction)
	app.Post(pathAdminUsers+"/:id/inschakelen", done, h.adminOnly, h.adminUserAction)
	app.Post(pathAdminUsers+"/:id/herstel", done, h.adminOnly, h.adminHelpdeskStart)
	app.Get("/beheer/audit", done, h.adminOnly, h.adminAudit)
	app.Get("/beheer/audit/export", done, h.adminOnly, h.adminAuditExport)
	app.Get(auth.PathHelpdesk+":token", h.helpdeskShow)
	app.Post(auth.PathHelpdesk+":token", h.helpdeskSubmit)
}

func (h *handler) adminIndex(c *fiber.Ctx) error {
	m := h.meta(c)
	return h.page(c, fiber.StatusOK, components.AdminIndexPage(m), components.AdminIndexPartial(m))
}

// adminUsersView loads the list for the query and page of the request.
func (h *handler) adminUsersView(c *fiber.Ctx) (components.AdminUsersView, error) {
	query := clip(strings.TrimSpace(c.Query("zoek")), 100)
	// The list pages by address: na (after) the last of the page before,
	// voor (before) the first of the page after.
	at := auth.UsersAt{After: clip(c.Query("na"), 320), Before: clip(c.Query("voor"), 320)}
	cur := current(c)
	p, err := h.admin.Users(c.UserContext(), cur, query, at)
	if err != nil {
		return components.AdminUsersView{}, err
	}
	v := components.AdminUsersView{Query: query, Prev: p.Prev, More: p.More}
	for _, u := range p.Users {
		v.Users = append(v.Users, components.AdminUserRow{ID: u.ID, Email: u.Email, Name: u.Name, Internal: u.Internal, Admin: u.Admin,
			Status: u.Status, LastLogin: u.LastLogin, Factors: u.Factors, Self: u.ID == cur.User.ID, Shared: u.Shared})
	}
	if h.teams != nil {
		ts, err := h.teams.OrgTeams(c.UserContext(), cur)
		if err != nil {
			return components.AdminUsersView{}, err
		}
		for _, t := range ts {
			v.InviteTeams = append(v.InviteTeams, components.AdminTeamOption{ID: t.ID, Name: t.Name})
		}
	}
	switch c.Query("melding") {
	case "uitgenodigd":
		v.Notice = h.localizer(c).T("admin.notice.invited")
	case "uitnodiging":
		v.Notice = h.localizer(c).T("admin.notice.resent")
	case "uitschakelen":
		v.Notice = h.localizer(c).T("admin.notice.disabled")
	case "inschakelen":
		v.Notice = h.localizer(c).T("admin.notice.enabled")
	}
	return v, nil
}

func (h *handler) adminUsers(c *fiber.Ctx) error {
	v, err := h.adminUsersView(c)
	if err != nil {
		return err
	}
	return h.adminUsersPage(c, fiber.StatusOK, v)
}

func (h *handler) adminUsersPage(c *fiber.Ctx, status int, v components.AdminUsersView) error {
	m := h.meta(c)
	return h.page(c, status, components.AdminUsersPage(m, v), components.AdminUsersPartial(m, v))
}

// adminInvite invites a colleague; bad input shows the list again with
// the form as typed.
func (h *handler) adminInvite(c *fiber.Ctx) error {
	email, role := clip(formValue(c, "email"), 320), clip(formValue(c, "role"), 20)
	var teamIDs []int64
	for _, s := range formValues(c, "teams") {
		id, ok := parseID(s)
		if !ok {
			return errNotFound
		}
		teamIDs = append(teamIDs, id)
	}
	err := h.admin.InviteColleague(c.UserContext(), current(c), email, role, h.localizer(c).Lang(), clientIP(c), teamIDs...)
	if err == nil {
		h.logger(c).Info("colleague invited", "role", role)
		return seeOther(c, pathAdminUsers+"?melding=uitgenodigd")
	}
	if apperr.CodeOf(err) != apperr.Invalid {
		return err
	}
	v, lerr := h.adminUsersView(c)
	if lerr != nil {
		return lerr
	}
	v.InviteEmail, v.InviteRole = email, role
	errs := h.formMessages(c, err, "email")
	v.InviteEmailError, v.InviteRoleError, v.InviteTeamsError = errs["email"], errs["role"], errs["teams"]
	for i := range v.InviteTeams {
		for _, id := range teamIDs {
			v.InviteTeams[i].Checked = v.InviteTeams[i].Checked || v.InviteTeams[i].ID == id
		}
	}
	return h.adminUsersPage(c, fiber.StatusUnprocessableEntity, v)
}

// adminUserAction resends an invitation, disables or enables a user: the
// last part of the path names the action.
func (h *handler) adminUserAction(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	path := c.Path()
	action := path[strings.LastIndexByte(path, '/')+1:]
	ctx, cur, ip := c.UserContext(), current(c), clientIP(c)
	switch action {
	case "uitnodiging":
		err = h.admin.ResendInvitation(ctx, cur, id, ip)
	case "uitschakelen":
		err = h.admin.Disable(ctx, cur, id, ip)
	case "inschakelen":
		err = h.admin.Enable(ctx, cur, id, ip)
	default:
		return errNotFound
	}
	if code := apperr.CodeOf(err); code == apperr.Conflict || code == apperr.TooMany {
		v, lerr := h.adminUsersView(c)
		if lerr != nil {
			return lerr
		}
		v.Error = h.message(c, err)
		return h.adminUsersPage(c, statusOf(err), v)
	}
	if err != nil {
		return err
	}
	h.logger(c).Info("admin action", "action", action, "user", id)
	return seeOther(c, pathAdminUsers+"?melding="+action)
}

// adminHelpdeskStart starts a helpdesk reset and shows the code once (no
// redirect: the code is in this answer only).
func (h *handler) adminHelpdeskStart(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	cur := current(c)
	code, email, err := h.admin.StartHelpdeskReset(c.UserContext(), cur, id, clientIP(c))
	if apperr.CodeOf(err) == apperr.Conflict {
		v, lerr := h.adminUsersView(c)
		if lerr != nil {
			return lerr
		}
		v.Error = h.message(c, err)
		return h.adminUsersPage(c, fiber.StatusConflict, v)
	}
	if err != nil {
		return err
	}
	h.logger(c).Info("helpdesk reset started", "user", id)
	m := h.meta(c)
	v := components.AdminHelpdeskView{Email: email, Code: code}
	return h.page(c, fiber.StatusOK, components.AdminHelpdeskPage(m, v), components.AdminHelpdeskPartial(m, v))
}

func auditQuery(c *fiber.Ctx) auth.AuditQuery {
	return auth.AuditQuery{Person: clip(strings.TrimSpace(c.Query("persoon")), 100), From: clip(c.Query("van"), maxDateFormLen), To: clip(c.Query("tot"), maxDateFormLen),
		After: clip(c.Query("na"), 48), Before: clip(c.Query("voor"), 48)}
}

func (h *handler) adminAudit(c *fiber.Ctx) error {
	q := auditQuery(c)
	v := components.AdminAuditView{Person: q.Person, From: q.From, To: q.To}
	status := fiber.StatusOK
	p, err := h.admin.AuditLog(c.UserContext(), current(c), q)
	switch {
	case apperr.CodeOf(err) == apperr.Invalid:
		errs := h.formMessages(c, err, "from")
		v.FromError, v.ToError = errs["from"], errs["to"]
		status = fiber.StatusUnprocessableEntity
	case err != nil:
		return err
	default:
		v.Prev, v.More = p.Prev && len(p.Rows) > 0, p.More
		for _, r := range p.Rows {
			v.Rows = append(v.Rows, components.AdminAuditRow{At: r.At, Kind: r.Kind, Person: r.Person, Actor: r.Actor, Detail: r.Detail, IP: r.IP})
		}
		if n := len(p.Rows); n > 0 {
			v.First, v.Last = p.Rows[0].Cursor(), p.Rows[n-1].Cursor()
		}
		v.ExportURL = "/beheer/audit/export"
		if qs := components.AdminAuditQuery(q.Person, q.From, q.To).Encode(); qs != "" {
			v.ExportURL += "?" + qs
		}
	}
	m := h.meta(c)
	return h.page(c, status, components.AdminAuditPage(m, v), components.AdminAuditPartial(m, v))
}

// adminAuditExport streams every row of the search as CSV, read in
// batches as it is written; a failure after the first byte is logged and
// cuts the file off.
func (h *handler) adminAuditExport(c *fiber.Ctx) error {
	q := auditQuery(c)
	cur := current(c)
	if err := h.admin.CheckAuditQuery(cur, q); err != nil {
		return err
	}
	log, ip := h.logger(c), clientIP(c)
	ctx := context.WithoutCancel(c.UserContext())
	c.Set(fiber.HeaderContentType, "text/csv; charset=utf-8")
	c.Set(fiber.HeaderContentDisposition, `attachment; filename="audit.csv"`)
	c.Set(fiber.HeaderXContentTypeOptions, "nosniff")
	c.Set(fiber.HeaderCacheControl, "no-store")
	c.Set(fiber.HeaderContentSecurityPolicy, downloadCSP)
	c.Status(fiber.StatusOK)
	c.Context().SetBodyStreamWriter(func(w *bufio.Writer) {
		ctx, cancel := context.WithTimeout(ctx, writeTimeout)
		defer cancel()
		if err := h.admin.ExportAudit(ctx, cur, q, ip, w); err != nil {
			log.Error("audit export broke off", "err", err)
			return
		}
		log.Info("audit exported")
	})
	return nil
}

// helpdeskLink checks the link of the request; a link that does not work
// gets its page (404) and ok false.
func (h *handler) helpdeskLink(c *fiber.Ctx) (token, email string, ok bool, err error) {
	token = clip(c.Params("token"), 64)
	email, lang, err := h.admin.CheckHelpdeskReset(c.UserContext(), token, clientIP(c))
	if apperr.CodeOf(err) == apperr.NotFound {
		m := h.meta(c)
		return "", "", false, h.page(c, fiber.StatusNotFound, components.HelpdeskInvalidPage(m), components.HelpdeskInvalidPartial(m))
	}
	if err != nil {
		return "", "", false, err
	}
	// The page speaks the language the mail with the link did, unless
	// this browser chose one.
	if h.chosenLanguage(c) == "" {
		useUserLanguage(c, lang)
	}
	return token, email, true, nil
}

// helpdeskShow is the page behind the mailed link: it asks the password
// and the code given by phone, and uses nothing (mail scanners follow
// links).
func (h *handler) helpdeskShow(c *fiber.Ctx) error {
	token, email, ok, err := h.helpdeskLink(c)
	if !ok {
		return err
	}
	return h.helpdeskForm(c, fiber.StatusOK, components.HelpdeskView{Token: token, Email: email})
}

func (h *handler) helpdeskForm(c *fiber.Ctx, status int, v components.HelpdeskView) error {
	m := h.meta(c)
	return h.page(c, status, components.HelpdeskPage(m, v), components.HelpdeskPartial(m, v))
}

// helpdeskSubmit completes the reset: the browser's session is replaced by
// one that may set up a new second factor.
func (h *handler) helpdeskSubmit(c *fiber.Ctx) error {
	token, email, ok, err := h.helpdeskLink(c)
	if !ok {
		return err
	}
	code := clip(formValue(c, "code"), 20)
	session, err := h.admin.CompleteHelpdeskReset(c.UserContext(), token, clip(formValue(c, "password"), 1024), code, clientIP(c), userAgent(c))
	if err != nil {
		switch apperr.CodeOf(err) {
		case apperr.NotFound:
			m := h.meta(c)
			return h.page(c, fiber.StatusNotFound, components.HelpdeskInvalidPage(m), components.HelpdeskInvalidPartial(m))
		case apperr.Invalid, apperr.TooMany:
			return h.helpdeskForm(c, fiber.StatusUnprocessableEntity, components.HelpdeskView{Token: token, Email: email, Code: code, CodeError: h.fieldMessage(c, err, "code")})
		}
		return err
	}
	h.endBrowserSession(c)
	h.logger(c).Info("helpdesk reset completed")
	return h.advance(c, session)
}
