package handlers

import (
	"bufio"
	"context"
	"io"
	"time"

	"github.com/gofiber/fiber/v2"

	"dialoog/apperr"
	"dialoog/auth"
	"dialoog/components"
)

// pathAccount is "Mijn account": download the box, stop with Dialoog.
const (
	pathAccount          = "/account"
	pathAccountExport    = "/account/export"
	pathAccountStop      = "/account/stoppen"
	pathAccountActivity  = "/account/activiteit"
	pathSettingsNames    = "/account/gegevens"
	pathSettingsAway     = "/account/afwezigheid"
	pathSettingsLanguage = "/account/taal"
	pathSessions         = "/account/sessies"
	pathAfterAccountGone = "/?gestopt=1"
)

// accountShow is "Mijn account", with the confirmation of a saved
// setting (?melding=...; only these fixed texts can be shown).
func (h *handler) accountShow(c *fiber.Ctx) error {
	var v components.AccountView
	if key, ok := settingsNotices[c.Query("melding")]; ok {
		v.Notice = h.meta(c).T(key)
	}
	return h.accountPage(c, fiber.StatusOK, v)
}

var settingsNotices = map[string]string{
	"gegevens":    "settings.saved_names",
	"afwezigheid": "settings.saved_away",
	"taal":        "settings.saved_language",
	"meldingen":   "settings.saved_notify",
	"wachtwoord":  "password_change.saved",
	"bevestigd":   "account.confirmed",
}

// dateValue is a stored date as a date input's value, "" for none.
func dateValue(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02")
}

// settingsNames saves "Deelnemerinstellingen" after the first visit; a
// refusal shows the form again with the typed values and the messages.
func (h *handler) settingsNames(c *fiber.Ctx) error {
	field := func(name string) string { return clip(formValue(c, name), maxProfileFieldLen) }
	f := components.ProfileForm{Gender: field("gender"), Initials: field("initials"), FirstName: field("first_name"),
		NamePrefix: field("name_prefix"), LastName: field("last_name")}
	err := h.accounts.UpdateNames(c.UserContext(), current(c), auth.Names{Gender: f.Gender, Initials: f.Initials,
		FirstName: f.FirstName, NamePrefix: f.NamePrefix, LastName: f.LastName}, clientIP(c))
	if apperr.CodeOf(err) == apperr.Invalid {
		return h.accountPage(c, fiber.StatusUnprocessableEntity, components.AccountView{Names: components.ProfileView{Form: f, Errors: h.fieldMessages(c, err)}})
	}
	if err != nil {
		return err
	}
	return seeOther(c, pathAccount+"?melding=gegevens")
}

// settingsAway switches the absence reply on or off.
func (h *handler) settingsAway(c *fiber.Ctx) error {
	field := func(name string) string { return clip(formValue(c, name), maxProfileFieldLen) }
	f := components.ProfileForm{AwayEnabled: checked(c, "away_enabled"), AwayMessage: field("away_message"),
		AwayFrom: field("away_from"), AwayUntil: field("away_until")}
	err := h.accounts.SetAbsence(c.UserContext(), current(c), auth.Absence{Enabled: f.AwayEnabled, Message: f.AwayMessage,
		From: f.AwayFrom, Until: f.AwayUntil}, clientIP(c))
	if apperr.CodeOf(err) == apperr.Invalid {
		return h.accountPage(c, fiber.StatusUnprocessableEntity, components.AccountView{Away: components.ProfileView{Form: f, Errors: h.fieldMessages(c, err)}})
	}
	if err != nil {
		return err
	}
	return seeOther(c, pathAccount+"?melding=afwezigheid")
}

// settingsLanguage sets the language of the pages, mail and texts.
func (h *handler) settingsLanguage(c *fiber.Ctx) error {
	lang := clip(formValue(c, "language"), 8)
	err := h.accounts.SetLanguage(c.UserContext(), current(c), lang, clientIP(c))
	if apperr.CodeOf(err) == apperr.Invalid {
		return h.accountPage(c, fiber.StatusUnprocessableEntity, components.AccountView{LanguageError: h.fieldMessage(c, err, "language")})
	}
	if err != nil {
		return err
	}
	setLanguageCookie(c, h.cfg, lang) // as the footer's switch does
	return reloadTo(c, pathAccount+"?melding=taal")
}

// accountExport sends the user's box as a ZIP file: a download, never
// sniffed, rendered or cached. The export is begun first (a second export
// of the same user, a busy instance or any other error still gets its
// page); the ZIP file is then written straight to the client as it is
// read, each attachment streamed from the blob store into it. A failure
// after the first byte is logged and cuts the file off.
func (h *handler) accountExport(c *fiber.Ctx) error {
	exp, err := h.messages.Export(c.UserContext(), current(c).User, clientIP(c))
	if err != nil {
		return err
	}
	log := h.logger(c)
	ctx := context.WithoutCancel(c.UserContext())
	conn := c.Context().Conn()
	c.Set(fiber.HeaderContentType, "application/zip")
	// The name the browser saves the box under, in the person's language
	// as the files in it are.
	c.Set(fiber.HeaderContentDisposition, `attachment; filename="`+h.localizer(c).T("export.file_zip")+`"`)
	c.Set(fiber.HeaderXContentTypeOptions, "nosniff")
	c.Set(fiber.HeaderCacheControl, "no-store")
	c.Set(fiber.HeaderContentSecurityPolicy, downloadCSP)
	c.Status(fiber.StatusOK)
	c.Context().SetBodyStreamWriter(func(w *bufio.Writer) {
		// A large box over a slow connection takes longer than
		// writeTimeout: the connection gets it anew while the bytes keep
		// flowing, and a client that stops reading still ends the export.
		ctx, cancel := context.WithTimeout(ctx, streamTimeout)
		defer cancel()
		cw := &countingWriter{w: &progressWriter{w: w, d: writeDeadline(conn)}}
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

// accountStop is "Account verwijderen": after "confirm it is you" (the
// password in this form, or a confirmation of this session in the last
// five minutes; throttled and audited by the service) and the checkbox,
// the box and the account are deleted, the session ends everywhere it is
// open and the browser goes to the start page, which says so. A wrong
// password or a missing tick shows the form again with the message at the
// field; the typed password never comes back.
func (h *handler) accountStop(c *fiber.Ctx) error {
	cur := current(c)
	pw := clip(formValue(c, "password"), maxPasswordLen+4)
	var v components.AccountView
	m := h.meta(c)
	status := fiber.StatusUnprocessableEntity
	ok := pw == "" && h.accounts.RecentlyConfirmed(cur)
	ways, err := h.reauthWays(c)
	if err != nil {
		return err
	}
	switch {
	case ok:
	case pw == "" && !ways.Password:
		// Nothing to check here: this person confirms through their
		// organisation (the form offers it).
		v.StopSSOError = m.T("confirm.sso_first")
	default:
		err := h.accounts.Confirm(c.UserContext(), cur, auth.ConfirmPassword, pw, clientIP(c))
		switch {
		case err == nil:
			ok = true
		case isWait(err):
			status = statusOf(err)
			v.PasswordError = h.message(c, err)
		case apperr.CodeOf(err) == apperr.Invalid:
			v.PasswordError = h.fieldMessage(c, err, "password")
		default:
			return err
		}
	}
	if formValue(c, "confirm") != "yes" {
		v.ConfirmError = m.T("account.confirm_required")
	}
	if v.PasswordError != "" || v.ConfirmError != "" || v.StopSSOError != "" {
		h.logger(c).Info("account deletion refused", "password_ok", ok)
		return h.accountPage(c, status, v)
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
	cur := current(c)
	u := cur.User
	v.Email = u.Email
	// A section shows what is stored unless it comes back with messages.
	if v.Names.Errors == nil {
		v.Names.Form = components.ProfileForm{Gender: u.Gender, Initials: u.Initials, FirstName: u.FirstName, NamePrefix: u.NamePrefix, LastName: u.LastName}
	}
	if v.Away.Errors == nil {
		away, err := h.accounts.AwayMessage(cur)
		if err != nil {
			return err
		}
		v.Away.Form = components.ProfileForm{AwayEnabled: u.AwayEnabled, AwayMessage: away,
			AwayFrom: dateValue(u.AwayFrom), AwayUntil: dateValue(u.AwayUntil)}
	}
	if v.Language == "" {
		v.Language = u.Language
	}
	if v.Notify == "" {
		v.Notify = cur.Notify()
	}
	v.AwayOn = cur.AwayOn(h.now())
	v.PushKey = h.accounts.PushKey()
	ways, err := h.reauthWays(c)
	if err != nil {
		return err
	}
	// A person linked to their organisation's provider confirms "Stoppen"
	// there (or with the password, if they have one); once confirmed, the
	// form asks only for the tick.
	v.StopSSO, v.StopNoPassword = ways.SSO, ways.SSO && !ways.Password
	v.Change.Elsewhere = !current(c).HasPassword
	v.StopConfirmed = ways.SSO && h.accounts.RecentlyConfirmed(current(c))
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

// sessionsShow is "Sessies": the user's live sessions (?melding=... after
// ending some).
func (h *handler) sessionsShow(c *fiber.Ctx) error {
	list, err := h.accounts.LiveSessions(c.UserContext(), current(c))
	if err != nil {
		return err
	}
	m := h.meta(c)
	var v components.SessionsView
	switch c.Query("melding") {
	case "afgemeld":
		v.Notice = m.T("sessions.ended_one")
	case "andere":
		v.Notice = m.T("sessions.ended_others")
	}
	for _, s := range list {
		v.Sessions = append(v.Sessions, components.SessionItem{ID: s.ID, Browser: s.Browser, System: s.System, Place: s.Place,
			Started: s.Started, Active: s.Active, Current: s.Current, Pending: s.Pending})
	}
	return h.page(c, fiber.StatusOK, components.SessionsPage(m, v), components.SessionsPartial(m, v))
}

// sessionEnd logs out one of the user's other sessions; its open pages
// lose their socket at once, on every instance.
func (h *handler) sessionEnd(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	ended, err := h.accounts.EndSession(c.UserContext(), current(c), id, clientIP(c))
	if err != nil {
		return err
	}
	h.closeSessions(c, ended)
	return seeOther(c, pathSessions+"?melding=afgemeld")
}

// sessionsEndOthers logs out every other session of the user.
func (h *handler) sessionsEndOthers(c *fiber.Ctx) error {
	ended, err := h.accounts.EndOtherSessions(c.UserContext(), current(c), clientIP(c))
	if err != nil {
		return err
	}
	h.closeSessions(c, ended...)
	return seeOther(c, pathSessions+"?melding=andere")
}
