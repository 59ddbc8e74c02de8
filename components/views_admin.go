package components

import "time"

// AdminSection is one line of the Beheer index: a page and what it is for.
type AdminSection struct {
	Href     string
	TitleKey string // i18n key of the link text
	IntroKey string // i18n key of the line under it
}

// AdminSections are the pages of Beheer, in the order the index lists
// them; a new page is one more line here.
var AdminSections = []AdminSection{
	{Href: "/beheer/gebruikers", TitleKey: "admin.users.title", IntroKey: "admin.users.intro"},
	{Href: "/beheer/teams", TitleKey: "admin.teams.title", IntroKey: "admin.teams.intro"},
	{Href: "/beheer/audit", TitleKey: "admin.audit.title", IntroKey: "admin.audit.intro"},
	{Href: "/beheer/bewaartermijn", TitleKey: "retention.title", IntroKey: "admin.retention.intro"},
	{Href: "/beheer/organisatie", TitleKey: "branding.title", IntroKey: "admin.branding.intro"},
	{Href: "/beheer/sso", TitleKey: "sso.admin.title", IntroKey: "admin.sso.intro"},
	{Href: "/beheer/voorwaarden", TitleKey: "admin_terms.title", IntroKey: "admin.terms.intro"},
}

// AdminUserRow is a user in Beheer's list.
type AdminUserRow struct {
	ID        int64
	Email     string
	Name      string
	Internal  bool
	Admin     bool
	Status    string // invited, active, no_factor, disabled
	LastLogin time.Time
	Factors   []string
	// Self is the admin looking at the list: no actions on themselves.
	Self bool
	// Shared: an external user who also deals with another organisation,
	// whom this admin neither disables nor resets (the list says why).
	Shared bool
}

// AdminUsersView is the page "Gebruikers".
type AdminUsersView struct {
	Query string
	// Prev and More: people come before and after this page (the links
	// page by the first and last address shown).
	Prev, More bool
	Users      []AdminUserRow
	// The invitation form, with what was typed and its errors.
	InviteEmail, InviteRole           string
	InviteEmailError, InviteRoleError string
	// InviteTeams are the organisation's teams the colleague may be put
	// in, checked as typed; InviteTeamsError refuses the choice.
	InviteTeams      []AdminTeamOption
	InviteTeamsError string
	// Notice is a translated line about the last action, "" for none.
	Notice string
	// Error is a translated refusal of the last action, "" for none.
	Error string
}

// AdminHelpdeskView shows the admin the code of a helpdesk reset, once.
type AdminHelpdeskView struct {
	Email string
	Code  string
}

// AdminAuditRow is a line of the audit log.
type AdminAuditRow struct {
	At     time.Time
	Kind   string
	Person string
	Actor  string
	Detail string
	IP     string
}

// AdminAuditView is the page "Audit".
type AdminAuditView struct {
	Person, From, To   string
	FromError, ToError string
	// Prev and More: there are newer rows (before the row First) and
	// older ones (after the row Last); First and Last are auth.AuditRow
	// cursors.
	Prev, More  bool
	First, Last string
	Rows        []AdminAuditRow
	// ExportURL downloads every row of the search as CSV.
	ExportURL string
}

// HelpdeskView is the page behind the link of a helpdesk reset.
type HelpdeskView struct {
	Token     string
	Email     string
	CodeError string
	Code      string
}

// AdminBrandingView is "Organisatie" in Beheer: the house style as stored
// or as typed, with the field messages.
type AdminBrandingView struct {
	Name, SenderName, SupportText, Colour string
	NameError, SenderNameError            string
	SupportTextError, ColourError         string
	// ColourAdjusted says that the stored colour fails today's rules and is
	// shown (and filled in) as its readable shade; "" otherwise.
	ColourAdjusted string
	// LogoURL is the current logo's address, "" without one; LogoError a
	// refused upload's message.
	LogoURL   string
	LogoError string
	Notice    string
	// EvidenceLanguage is the chosen language of the evidence page of
	// sealed PDFs ("nl" or "en"), with its message.
	EvidenceLanguage      string
	EvidenceLanguageError string
}

// AdminTeamForm is the form of a team (new or existing) as typed, with
// the message on its name.
type AdminTeamForm struct {
	Name       string
	Medical    bool
	ShowPerson bool
	NameError  string
}

// AdminTeamRow is a team in Beheer's list.
type AdminTeamRow struct {
	ID         int64
	Name       string
	Medical    bool
	ShowPerson bool
	Members    int
}

// AdminTeamsView is the page "Teams".
type AdminTeamsView struct {
	Teams  []AdminTeamRow
	New    AdminTeamForm
	Notice string
}

// AdminTeamMemberRow is a member on a team's page.
type AdminTeamMemberRow struct {
	UserID int64
	Email  string
	Name   string
}

// AdminTeamView is the page of one team: its settings, its members and
// the form that adds one.
type AdminTeamView struct {
	ID       int64
	Name     string // as stored, for the heading
	Form     AdminTeamForm
	Members  []AdminTeamMemberRow
	AddEmail string
	AddError string
	Notice   string
}

// AdminTeamOption is a team to tick on the invitation form.
type AdminTeamOption struct {
	ID      int64
	Name    string
	Checked bool
}
