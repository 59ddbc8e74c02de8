package handlers

import (
	"context"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"dialoog/apperr"
	"dialoog/auth"
	"dialoog/components"
	"dialoog/messaging"
)

// pathAdminTeams is "Teams" in Beheer.
const pathAdminTeams = "/beheer/teams"

// Teams is "Teams" in Beheer; *messaging.Service implements it. Every
// method answers apperr NotFound to anyone but an admin of the team's
// organisation.
type Teams interface {
	OrgTeams(ctx context.Context, cur *auth.Current) ([]messaging.AdminTeam, error)
	OrgTeam(ctx context.Context, cur *auth.Current, teamID int64) (*messaging.AdminTeam, error)
	AdminCreateTeam(ctx context.Context, cur *auth.Current, in messaging.TeamSettings, ip string) (int64, error)
	AdminSaveTeam(ctx context.Context, cur *auth.Current, teamID int64, in messaging.TeamSettings, ip string) error
	AdminAddTeamMember(ctx context.Context, cur *auth.Current, teamID int64, email, ip string) error
	AdminRemoveTeamMember(ctx context.Context, cur *auth.Current, teamID, userID int64, ip string) error
}

var _ Teams = (*messaging.Service)(nil)

func (h *handler) adminTeamRoutes(app *fiber.App, done fiber.Handler) {
	app.Get(pathAdminTeams, done, h.adminOnly, h.adminTeams)
	app.Post(pathAdminTeams, done, h.adminOnly, h.adminTeamCreate)
	app.Get(pathAdminTeams+"/:id", done, h.adminOnly, h.adminTeam)
	app.Post(pathAdminTeams+"/:id", done, h.adminOnly, h.adminTeamSave)
	app.Post(pathAdminTeams+"/:id/leden", done, h.adminOnly, h.adminTeamAdd)
	app.Post(pathAdminTeams+"/:id/leden/:user/verwijderen", done, h.adminOnly, h.adminTeamRemove)
}

// teamSettings reads a team's form.
func teamSettings(c *fiber.Ctx) messaging.TeamSettings {
	return messaging.TeamSettings{Name: clipChars(formValue(c, "name"), messaging.MaxTeamName),
		Medical: formValue(c, "medical") == "yes", ShowPerson: formValue(c, "show_person") == "yes"}
}

func teamPath(id int64) string { return pathAdminTeams + "/" + strconv.FormatInt(id, 10) }

func (h *handler) adminTeamsView(c *fiber.Ctx) (components.AdminTeamsView, error) {
	ts, err := h.teams.OrgTeams(c.UserContext(), current(c))
	if err != nil {
		return components.AdminTeamsView{}, err
	}
	// A new team shows outsiders who wrote unless the admin says otherwise.
	v := components.AdminTeamsView{New: components.AdminTeamForm{ShowPerson: true}}
	for _, t := range ts {
		v.Teams = append(v.Teams, components.AdminTeamRow{ID: t.ID, Name: t.Name, Medical: t.Medical, ShowPerson: t.ShowPerson, Members: t.MemberCount})
	}
	return v, nil
}

func (h *handler) adminTeams(c *fiber.Ctx) error {
	v, err := h.adminTeamsView(c)
	if err != nil {
		return err
	}
	return h.adminTeamsPage(c, fiber.StatusOK, v)
}

func (h *handler) adminTeamsPage(c *fiber.Ctx, status int, v components.AdminTeamsView) error {
	m := h.meta(c)
	return h.page(c, status, components.AdminTeamsPage(m, v), components.AdminTeamsPartial(m, v))
}

// adminTeamCreate creates a team and opens its page; a refused name shows
// the list again with the form as typed.
func (h *handler) adminTeamCreate(c *fiber.Ctx) error {
	in := teamSettings(c)
	id, err := h.teams.AdminCreateTeam(c.UserContext(), current(c), in, clientIP(c))
	if apperr.CodeOf(err) == apperr.Invalid {
		v, lerr := h.adminTeamsView(c)
		if lerr != nil {
			return lerr
		}
		v.New = components.AdminTeamForm{Name: in.Name, Medical: in.Medical, ShowPerson: in.ShowPerson, NameError: h.fieldMessage(c, err, "name")}
		return h.adminTeamsPage(c, fiber.StatusUnprocessableEntity, v)
	}
	if err != nil {
		return err
	}
	h.logger(c).Info("team created", "team", id)
	return seeOther(c, teamPath(id)+"?melding=aangemaakt")
}

// adminTeamView loads a team's page; the form shows the stored values.
func (h *handler) adminTeamView(c *fiber.Ctx, id int64) (components.AdminTeamView, error) {
	t, err := h.teams.OrgTeam(c.UserContext(), current(c), id)
	if err != nil {
		return components.AdminTeamView{}, err
	}
	v := components.AdminTeamView{ID: t.ID, Name: t.Name, Form: components.AdminTeamForm{Name: t.Name, Medical: t.Medical, ShowPerson: t.ShowPerson}}
	for _, mb := range t.Members {
		v.Members = append(v.Members, components.AdminTeamMemberRow{UserID: mb.UserID, Email: mb.Email, Name: mb.Name})
	}
	return v, nil
}

func (h *handler) adminTeam(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	v, err := h.adminTeamView(c, id)
	if err != nil {
		return err
	}
	if key, ok := map[string]string{"aangemaakt": "admin.teams.notice.created", "opgeslagen": "admin.teams.notice.saved",
		"toegevoegd": "admin.teams.notice.added", "verwijderd": "admin.teams.notice.removed"}[c.Query("melding")]; ok {
		v.Notice = h.localizer(c).T(key)
	}
	return h.adminTeamPage(c, fiber.StatusOK, v)
}

func (h *handler) adminTeamPage(c *fiber.Ctx, status int, v components.AdminTeamView) error {
	m := h.meta(c)
	return h.page(c, status, components.AdminTeamPage(m, v), components.AdminTeamPartial(m, v))
}

// adminTeamSave renames the team and sets its flags; a refused name
// shows the page with the form as typed.
func (h *handler) adminTeamSave(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	in := teamSettings(c)
	err = h.teams.AdminSaveTeam(c.UserContext(), current(c), id, in, clientIP(c))
	if apperr.CodeOf(err) == apperr.Invalid {
		v, lerr := h.adminTeamView(c, id)
		if lerr != nil {
			return lerr
		}
		v.Form = components.AdminTeamForm{Name: in.Name, Medical: in.Medical, ShowPerson: in.ShowPerson, NameError: h.fieldMessage(c, err, "name")}
		return h.adminTeamPage(c, fiber.StatusUnprocessableEntity, v)
	}
	if err != nil {
		return err
	}
	h.logger(c).Info("team saved", "team", id)
	return seeOther(c, teamPath(id)+"?melding=opgeslagen")
}

// adminTeamAdd adds a colleague by mail address; a refused address shows
// the page with the address as typed.
func (h *handler) adminTeamAdd(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	email := clip(formValue(c, "email"), 320)
	err = h.teams.AdminAddTeamMember(c.UserContext(), current(c), id, email, clientIP(c))
	if apperr.CodeOf(err) == apperr.Invalid {
		v, lerr := h.adminTeamView(c, id)
		if lerr != nil {
			return lerr
		}
		v.AddEmail, v.AddError = email, h.fieldMessage(c, err, "email")
		return h.adminTeamPage(c, fiber.StatusUnprocessableEntity, v)
	}
	if err != nil {
		return err
	}
	h.logger(c).Info("team member added", "team", id)
	return seeOther(c, teamPath(id)+"?melding=toegevoegd")
}

func (h *handler) adminTeamRemove(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	userID, err := idParam(c, "user")
	if err != nil {
		return err
	}
	if err := h.teams.AdminRemoveTeamMember(c.UserContext(), current(c), id, userID, clientIP(c)); err != nil {
		return err
	}
	h.logger(c).Info("team member removed", "team", id, "user", userID)
	return seeOther(c, teamPath(id)+"?melding=verwijderd")
}
