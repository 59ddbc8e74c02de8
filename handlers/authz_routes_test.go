package handlers

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"dialoog/auth"
	"dialoog/db"
	"dialoog/db/dbtest"
	"dialoog/messaging"
	"dialoog/realtime"
	"dialoog/signing"
)

// This file holds the one list of every route that takes an id or a token
// in its path, with how each is tried by people who must not reach that
// object. TestEveryObjectRouteHasAnAuthorisationCase walks the routes the
// fully wired app registers and fails for a route with a path parameter
// that has no case here, so a new route cannot be added without saying who
// may use it; TestObjectRoutesRefuseOutsiders runs the cases.

// authzFixture is a small organisation with one of everything a route can
// name, and the people who try them.
type authzFixture struct {
	ra *realApp

	// The objects.
	thread, message, attachment, upload, request, caseID, team, invitee int64
	ownSession, factor, passkey                                         int64
	disabledColleague                                                   int64
	// Objects of the same kinds elsewhere: another conversation of
	// Hanna's and its message, Jan's unsent upload, a case and a team of
	// another organisation.
	otherThread, otherMessage, janUpload, otherCase, otherTeam int64

	// The people, by the names the cases use.
	as map[string]*person
}

// authzCase is one route: how to request it for the fixture's objects,
// and who must get the not-found page for it, with nothing changed.
type authzCase struct {
	// public says why the route needs no signed-in user's access check
	// (the path's token is the authorisation, or the page is public); such
	// a route has no request here.
	public string
	// path (and form, for a POST) of the request.
	path func(fx *authzFixture) string
	form func(fx *authzFixture) url.Values
	// as: who gets 404. Everyone in signedOutPersonas is tried on every
	// case as well and sent to the login or their step.
	as []string
}

// The people who try. Each would be let through if not for the one thing
// their name says.
const (
	asOutsider     = "outsider"      // external, in another conversation of the organisation
	asColleague    = "colleague"     // internal, same organisation, not in the conversation, no admin
	asOtherOrg     = "other-org"     // internal admin of another organisation
	asFormerMember = "former-member" // left the team the conversation is of
	asUncleared    = "uncleared"     // takes part, but left the medical team: the conversation is medical
	asOtherPerson  = "other-person"  // someone else, with a confirmed session (account objects)
	asDisabled     = "disabled"      // in the team and an admin, but disabled
	asOnboarding   = "onboarding"    // in the team and an admin, but the terms are not accepted
	asRevoked      = "revoked"       // in the team and an admin, but their session ended
	asOwner        = "owner"         // Hanna, admin and in the team: may do all of it, with the right ids
)

// signedOutPersonas are tried on every case: where they are sent.
var signedOutPersonas = map[string]string{asDisabled: pathLogin, asOnboarding: pathTerms, asRevoked: pathLogin}

var (
	conversationOutsiders = []string{asOutsider, asColleague, asOtherOrg, asFormerMember, asUncleared}
	caseOutsiders         = []string{asOutsider, asOtherOrg}
	adminOutsiders        = []string{asOutsider, asColleague, asOtherOrg, asFormerMember}
)

func (fx *authzFixture) threadPath() string { return "/berichten/" + itoa(fx.thread) }

// authzCases is keyed by method and path as registered.
var authzCases = map[string]authzCase{
	// Public: the token in the path proves who may use it, or the page is
	// the same for everyone.
	"GET " + pathFirstAdmin + ":token":          {public: "the first start's link is the authorisation"},
	"POST " + pathFirstAdmin + ":token":         {public: "the first start's link is the authorisation"},
	"GET /voorwaarden/:version":                 {public: "the terms of use are public"},
	"GET /aanmelden/:token":                     {public: "the sign-up link is the authorisation"},
	"POST /aanmelden/:token":                    {public: "the sign-up link is the authorisation"},
	"GET /wachtwoord-vergeten/:token":           {public: "the reset link is the authorisation"},
	"POST /wachtwoord-vergeten/:token":          {public: "the reset link is the authorisation"},
	"POST /wachtwoord-vergeten/:token/controle": {public: "the reset link is the authorisation"},
	"GET " + auth.PathHelpdesk + ":token":       {public: "the helpdesk link and its code are the authorisation"},
	"POST " + auth.PathHelpdesk + ":token":      {public: "the helpdesk link and its code are the authorisation"},
	"GET " + auth.PathBranding + ":file":        {public: "content-addressed public stylesheets and logos"},
	"POST " + auth.PathSSOBackChannel + ":org":  {public: "the provider's signed logout token is the authorisation"},
	"GET /berichten/:id":                        {path: (*authzFixture).threadPath, as: conversationOutsiders},
	"POST /berichten/:id":                       {path: (*authzFixture).threadPath, form: func(*authzFixture) url.Values { return url.Values{"body": {"ingebroken"}} }, as: conversationOutsiders},
	"GET /berichten/:id/reageer":                {path: func(fx *authzFixture) string { return fx.threadPath() + "/reageer" }, as: conversationOutsiders},
	"POST /berichten/:id/gelezen":               {path: func(fx *authzFixture) string { return fx.threadPath() + "/gelezen" }, as: conversationOutsiders},
	"POST /berichten/:id/weggooien":             {path: func(fx *authzFixture) string { return fx.threadPath() + "/weggooien" }, as: conversationOutsiders},
	"POST /berichten/:id/verwijderen":           {path: func(fx *authzFixture) string { return fx.threadPath() + "/verwijderen" }, as: conversationOutsiders},
	"POST /berichten/:id/deelnemers": {path: func(fx *authzFixture) string { return fx.threadPath() + "/deelnemers" }, form: func(*authzFixture) url.Values {
		return url.Values{"email": {"spion@example.nl"}, "history": {messaging.WithHistory}}
	}, as: conversationOutsiders},
	"POST /berichten/:id/toewijzen":           {path: func(fx *authzFixture) string { return fx.threadPath() + "/toewijzen" }, form: func(*authzFixture) url.Values { return url.Values{"assignee": {"0"}} }, as: conversationOutsiders},
	"POST /berichten/:id/dossier":             {path: func(fx *authzFixture) string { return fx.threadPath() + "/dossier" }, form: func(fx *authzFixture) url.Values { return url.Values{"case": {itoa(fx.caseID)}} }, as: conversationOutsiders},
	"POST /berichten/:id/dossier/verwijderen": {path: func(fx *authzFixture) string { return fx.threadPath() + "/dossier/verwijderen" }, as: conversationOutsiders},
	"POST /berichten/:id/deelnemers/:uid/uitnodiging": {path: func(fx *authzFixture) string {
		return fx.threadPath() + "/deelnemers/" + itoa(fx.invitee) + "/uitnodiging"
	}, as: conversationOutsiders},
	"POST /berichten/:id/deelnemers/:uid/verwijderen": {path: func(fx *authzFixture) string {
		return fx.threadPath() + "/deelnemers/" + itoa(fx.invitee) + "/verwijderen"
	}, as: conversationOutsiders},
	"POST /berichten/:id/bericht/:mid/verwijderen": {path: func(fx *authzFixture) string {
		return fx.threadPath() + "/bericht/" + itoa(fx.message) + "/verwijderen"
	}, as: conversationOutsiders},
	"GET /dossiers/:id":                        {path: func(fx *authzFixture) string { return "/dossiers/" + itoa(fx.caseID) }, as: caseOutsiders},
	"POST /dossiers/:id/status":                {path: func(fx *authzFixture) string { return "/dossiers/" + itoa(fx.caseID) + "/status" }, form: func(*authzFixture) url.Values { return url.Values{"status": {messaging.CaseClosed}} }, as: caseOutsiders},
	"GET /ondertekenen/:rid/document":          {path: func(fx *authzFixture) string { return "/ondertekenen/" + itoa(fx.request) + "/document" }, as: conversationOutsiders},
	"POST /ondertekenen/:rid/code":             {path: func(fx *authzFixture) string { return "/ondertekenen/" + itoa(fx.request) + "/code" }, as: conversationOutsiders},
	"POST /ondertekenen/:rid/akkoord":          {path: func(fx *authzFixture) string { return "/ondertekenen/" + itoa(fx.request) + "/akkoord" }, form: func(*authzFixture) url.Values { return url.Values{"read": {"1"}, "code": {"123456"}} }, as: conversationOutsiders},
	"POST /ondertekenen/:rid/weigeren":         {path: func(fx *authzFixture) string { return "/ondertekenen/" + itoa(fx.request) + "/weigeren" }, form: func(*authzFixture) url.Values { return url.Values{"reason": {"Nee"}} }, as: conversationOutsiders},
	"GET /bijlagen/:id":                        {path: func(fx *authzFixture) string { return "/bijlagen/" + itoa(fx.attachment) }, as: conversationOutsiders},
	"POST /bijlagen/:id/verwijderen":           {path: func(fx *authzFixture) string { return "/bijlagen/" + itoa(fx.upload) + "/verwijderen" }, as: conversationOutsiders},
	"POST " + pathSessions + "/:id/afmelden":   {path: func(fx *authzFixture) string { return pathSessions + "/" + itoa(fx.ownSession) + "/afmelden" }, as: []string{asOtherPerson}},
	"POST " + pathFactors + "/:id/verwijderen": {path: func(fx *authzFixture) string { return pathFactors + "/" + itoa(fx.factor) + "/verwijderen" }, as: []string{asOtherPerson}},
	"POST /account/tweede-stap/passkey/:id/verwijderen": {path: func(fx *authzFixture) string {
		return "/account/tweede-stap/passkey/" + itoa(fx.passkey) + "/verwijderen"
	}, as: []string{asOtherPerson}},
	"POST " + pathAdminUsers + "/:id/uitnodiging": {path: func(fx *authzFixture) string { return pathAdminUsers + "/" + itoa(fx.invitee) + "/uitnodiging" }, as: adminOutsiders},
	"POST " + pathAdminUsers + "/:id/uitschakelen": {path: func(fx *authzFixture) string {
		return pathAdminUsers + "/" + itoa(fx.as[asColleague].u.ID) + "/uitschakelen"
	}, as: adminOutsiders},
	"POST " + pathAdminUsers + "/:id/inschakelen": {path: func(fx *authzFixture) string {
		return pathAdminUsers + "/" + itoa(fx.disabledColleague) + "/inschakelen"
	}, as: adminOutsiders},
	"POST " + pathAdminUsers + "/:id/herstel": {path: func(fx *authzFixture) string {
		return pathAdminUsers + "/" + itoa(fx.as[asColleague].u.ID) + "/herstel"
	}, as: adminOutsiders},
	"GET " + pathAdminTeams + "/:id":        {path: func(fx *authzFixture) string { return teamPath(fx.team) }, as: adminOutsiders},
	"POST " + pathAdminTeams + "/:id":       {path: func(fx *authzFixture) string { return teamPath(fx.team) }, form: func(*authzFixture) url.Values { return url.Values{"name": {"Overgenomen"}} }, as: adminOutsiders},
	"POST " + pathAdminTeams + "/:id/leden": {path: func(fx *authzFixture) string { return teamPath(fx.team) + "/leden" }, form: func(fx *authzFixture) url.Values { return url.Values{"email": {fx.as[asColleague].u.Email}} }, as: adminOutsiders},
	"POST " + pathAdminTeams + "/:id/leden/:user/verwijderen": {path: func(fx *authzFixture) string {
		return teamPath(fx.team) + "/leden/" + itoa(fx.as[asColleague].u.ID) + "/verwijderen"
	}, as: adminOutsiders},
	"POST /berichten/:id/bericht/:mid/verwijderen-voor-iedereen": {path: func(fx *authzFixture) string {
		return fx.threadPath() + "/bericht/" + itoa(fx.message) + "/verwijderen-voor-iedereen"
	}, as: conversationOutsiders},
}

// newAuthzApp is the app with every optional part wired, so that every
// route is registered.
func newAuthzApp(t *testing.T) (*realApp, *signing.Service) {
	t.Helper()
	hub := realtime.NewHub(realtime.HubOptions{}, nil)
	broker := realtime.NewLocalBroker()
	var svc *signing.Service
	ra := newRealAppOn(t, dbtest.MustOpenSQLite(t), withPasskeys(t), func(deps *Deps) {
		deps.Hub, deps.Live = hub, broker
		msg := deps.Messages.(*messaging.Service)
		acc := deps.Accounts.(*auth.Accounts)
		svc = &signing.Service{DB: msg.DB, Vault: msg.Vault, Messages: msg, Outbox: msg.Outbox, Limiter: acc.Limiter, Codes: acc,
			Sealer: stubSealer{}, Pages: stubPages, Mail: signingMails{}, BaseURL: testBase, Now: acc.Now, Log: acc.Log,
			CodeText: func(lang, code string) string { return "code " + code }}
		deps.Signing = svc
		deps.SSO = &auth.SSO{Accounts: acc, RedirectURL: testBase + auth.PathSSOCallback}
	})
	ra.msg.TeamLeaving = svc.LeaveTeam
	ra.msg.ParticipantLeaving = svc.LeaveThread
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := hub.Shutdown(ctx); err != nil {
			t.Error(err)
		}
		broker.Close()
	})
	return ra, svc
}

// objectRoutes are the registered routes with a path parameter, as
// "METHOD path" (HEAD is GET's).
func objectRoutes(ra *realApp) []string {
	var out []string
	for _, r := range ra.app.GetRoutes(true) {
		if r.Method == http.MethodHead || !strings.ContainsAny(r.Path, ":*") || strings.HasPrefix(r.Path, "/static/") {
			continue
		}
		key := r.Method + " " + r.Path
		if !slices.Contains(out, key) {
			out = append(out, key)
		}
	}
	sort.Strings(out)
	return out
}

// TestEveryObjectRouteHasAnAuthorisationCase: every route with an id or a
// token in its path has a case in authzCases, and every case names a
// registered route.
func TestEveryObjectRouteHasAnAuthorisationCase(t *testing.T) {
	ra, _ := newAuthzApp(t)
	routes := objectRoutes(ra)
	if len(routes) < 30 {
		t.Fatalf("only %d routes with a path parameter: is the app fully wired?", len(routes))
	}
	for _, key := range routes {
		c, ok := authzCases[key]
		switch {
		case !ok:
			t.Errorf("%s has no case in authzCases: say who may use it (and add the people who may not)", key)
		case c.public == "" && (c.path == nil || len(c.as) == 0):
			t.Errorf("%s: a case needs a path and the people who must get 404, or a reason it is public", key)
		}
	}
	for key := range authzCases {
		if !slices.Contains(routes, key) {
			t.Errorf("authzCases has %s, which is no route", key)
		}
	}
}

// newAuthzFixture builds the organisation: a medical team conversation
// "namens" the team Verzuim with an outsider, a message with a PDF put to the
// outsider to agree, a case, an unsent upload, and the people.
func newAuthzFixture(t *testing.T) *authzFixture {
	ra, svc := newAuthzApp(t)
	ctx := context.Background()
	now := ra.clk.Now().UTC()
	fx := &authzFixture{ra: ra, as: map[string]*person{}}

	other := &db.Organisation{Name: "Ander", CreatedAt: now}
	if _, err := ra.d.NewInsert().Model(other).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	admin := func(u *db.User) {
		t.Helper()
		if _, err := ra.d.NewUpdate().Model((*db.User)(nil)).Set("is_admin = ?", true).Where("id = ?", u.ID).Exec(ctx); err != nil {
			t.Fatal(err)
		}
	}
	hr := ra.storeUser(t, "hr@osaw.nl", true, "Hanna", "de", "Vries", "nl")
	admin(hr)
	jan := ra.storeUser(t, "jan@example.nl", false, "Jan", "", "Jansen", "nl")
	fien := ra.storeUser(t, "fien@osaw.nl", true, "Fien", "", "Vroeger", "nl")
	cor := ra.storeUser(t, "cor@osaw.nl", true, "Cor", "", "Collega", "nl")
	vera := ra.storeUser(t, "vera@example.nl", false, "Vera", "", "Vreemd", "nl")
	bob := ra.storeUser(t, "bob@ander.nl", true, "Bob", "", "Buur", "nl")
	if _, err := ra.d.NewUpdate().Model((*db.User)(nil)).Set("org_id = ?", other.ID).Set("is_admin = ?", true).Where("id = ?", bob.ID).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	dora := ra.storeUser(t, "dora@osaw.nl", true, "Dora", "", "Dicht", "nl")
	olga := ra.storeUser(t, "olga@osaw.nl", true, "Olga", "", "Onderweg", "nl")
	rik := ra.storeUser(t, "rik@osaw.nl", true, "Rik", "", "Afgemeld", "nl")
	stopped := ra.storeUser(t, "gestopt@osaw.nl", true, "Gert", "", "Gestopt", "nl")

	uma := ra.storeUser(t, "uma@osaw.nl", true, "Uma", "", "Uitgeschreven", "nl")

	team, err := ra.msg.CreateTeam(ctx, ra.org.ID, "Verzuim", true, true)
	if err != nil {
		t.Fatal(err)
	}
	fx.team = team.ID
	for _, u := range []*db.User{hr, fien, dora, olga, rik} {
		if u != fien {
			admin(u)
		}
		if err := ra.msg.AddTeamMember(ctx, team.ID, u.Email); err != nil {
			t.Fatal(err)
		}
	}
	fx.thread, err = ra.msg.Compose(ctx, hr.Identity(), messaging.ComposeInput{To: []string{jan.Email, "nieuw@example.nl"},
		Subject: "Vertrouwelijk", Body: "Alleen voor Jan", TeamID: team.ID, Medical: true})
	if err != nil {
		t.Fatal(err)
	}
	// Uma was added while she was of a medical team, and left it since.
	doctors, err := ra.msg.CreateTeam(ctx, ra.org.ID, "Artsen", true, true)
	if err != nil {
		t.Fatal(err)
	}
	if err := ra.msg.AddTeamMember(ctx, doctors.ID, uma.Email); err != nil {
		t.Fatal(err)
	}
	if err := ra.msg.AddParticipant(ctx, hr.Identity(), fx.thread, messaging.AddInput{Email: uma.Email, History: messaging.WithHistory}); err != nil {
		t.Fatal(err)
	}
	if err := ra.msg.RemoveTeamMember(ctx, doctors.ID, uma.Email); err != nil {
		t.Fatal(err)
	}
	fx.invitee = ra.userByEmail(t, "nieuw@example.nl").ID
	fx.otherThread = ra.compose(t, hr, "Ander gesprek", "Voor Vera", vera.Email)
	fx.otherMessage = ra.lastMessageID(t, fx.otherThread)
	fx.janUpload = ra.upload(t, jan, "eigen.pdf", pdfFile)
	otherCase := &db.Case{OrgID: other.ID, Reference: "A-1", Status: db.CaseOpen, CreatedAt: now}
	if _, err := ra.d.NewInsert().Model(otherCase).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	fx.otherCase = otherCase.ID
	otherTeam, err := ra.msg.CreateTeam(ctx, other.ID, "Buren", false, true)
	if err != nil {
		t.Fatal(err)
	}
	if err := ra.msg.AddTeamMember(ctx, otherTeam.ID, bob.Email); err != nil {
		t.Fatal(err)
	}
	fx.otherTeam = otherTeam.ID
	pdf := ra.upload(t, hr, "brief.pdf", pdfFile)
	fx.attachment = pdf
	fx.message, err = ra.msg.Reply(ctx, hr.Identity(), messaging.ReplyInput{ThreadID: fx.thread, Body: "Graag akkoord", AttachmentIDs: []int64{pdf},
		Within: svc.Within(hr.Identity(), fx.thread, signing.RequestInput{SignerIDs: []int64{jan.ID}})})
	if err != nil {
		t.Fatal(err)
	}
	if err := ra.d.NewSelect().Table("signing_requests").Column("id").Where("thread_id = ?", fx.thread).Scan(ctx, &fx.request); err != nil {
		t.Fatal(err)
	}
	fx.upload = ra.upload(t, hr, "concept.pdf", pdfFile)
	if fx.caseID, err = ra.msg.CreateCaseForThread(ctx, hr.Identity(), fx.thread, jan.ID, "P-1"); err != nil {
		t.Fatal(err)
	}
	if err := ra.msg.RemoveTeamMember(ctx, team.ID, fien.Email); err != nil {
		t.Fatal(err)
	}

	// Hanna's objects: a second session, her SMS factor and a passkey.
	ra.sessionToken(t, hr)
	if err := ra.d.NewSelect().Model((*db.Session)(nil)).Column("id").Where("user_id = ?", hr.ID).Order("id DESC").Limit(1).Scan(ctx, &fx.ownSession); err != nil {
		t.Fatal(err)
	}
	if err := ra.d.NewSelect().Model((*db.SecondFactor)(nil)).Column("id").Where("user_id = ?", hr.ID).Scan(ctx, &fx.factor); err != nil {
		t.Fatal(err)
	}
	pk := &db.Passkey{UserID: hr.ID, Name: "Sleutel", CredentialID: []byte{1, 2, 3}, UserHandle: []byte{4, 5, 6}, Credential: "{}", CreatedAt: now}
	if _, err := ra.d.NewInsert().Model(pk).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	fx.passkey = pk.ID
	if _, err := ra.d.NewUpdate().Model((*db.User)(nil)).Set("status = ?", db.StatusDisabled).Where("id = ?", stopped.ID).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	fx.disabledColleague = stopped.ID

	signIn := func(name string, u *db.User) *person {
		p := &person{u: u, b: ra.signIn(t, u)}
		p.b.csrf()
		fx.as[name] = p
		return p
	}
	signIn(asOwner, hr)
	signIn(asOutsider, vera)
	signIn(asColleague, cor)
	signIn(asOtherOrg, bob)
	signIn(asFormerMember, fien)
	signIn(asUncleared, uma)
	// Jan, who confirmed it is him a moment ago, tries Hanna's account.
	signIn(asOtherPerson, jan)
	if _, err := ra.d.NewUpdate().Model((*db.Session)(nil)).Set("confirmed_at = ?", now).Where("user_id = ?", jan.ID).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	signIn(asDisabled, dora)
	if _, err := ra.d.NewUpdate().Model((*db.User)(nil)).Set("status = ?", db.StatusDisabled).Where("id = ?", dora.ID).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	signIn(asOnboarding, olga)
	if _, err := ra.d.NewDelete().Model((*db.TermsAcceptance)(nil)).Where("user_id = ?", olga.ID).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	signIn(asRevoked, rik)
	if _, err := ra.d.NewUpdate().Model((*db.Session)(nil)).Set("ended_at = ?", now).Where("user_id = ?", rik.ID).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	return fx
}

// fingerprint is a digest of every row of every table, per table: a
// request that changed nothing leaves it as it was.
func fingerprint(t *testing.T, d *db.DB) map[string]string {
	t.Helper()
	return fingerprintShown(t, d, false)
}

// fingerprintShown is fingerprint for a request whose answer shows the
// conversation (a refusal with the form open), when shown: then its
// audited open of a medical conversation is no change.
func fingerprintShown(t *testing.T, d *db.DB, shown bool) map[string]string {
	t.Helper()
	ctx := context.Background()
	var tables []string
	if err := d.NewRaw(`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`).Scan(ctx, &tables); err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, table := range tables {
		query := `SELECT * FROM "` + table + `"`
		if shown && table == "audit_events" {
			query += ` WHERE kind <> 'medical.opened'`
		}
		rows, err := d.QueryContext(ctx, query)
		if err != nil {
			t.Fatal(err)
		}
		out[table] = digestRows(t, rows)
	}
	return out
}

func digestRows(t *testing.T, rows *sql.Rows) string {
	t.Helper()
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		lines = append(lines, fmt.Sprintf("%v", vals))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	sort.Strings(lines)
	sum := sha256.Sum256([]byte(strings.Join(lines, "\n")))
	return hex.EncodeToString(sum[:8]) + fmt.Sprintf(" (%d rows)", len(lines))
}

// changedTables names the tables whose rows differ.
func changedTables(before, after map[string]string) []string {
	var out []string
	for table, sum := range after {
		if before[table] != sum {
			out = append(out, table+": "+before[table]+" → "+sum)
		}
	}
	sort.Strings(out)
	return out
}

// TestObjectRoutesRefuseOutsiders: each route with an object in its path
// answers the not-found page to everyone its case names, and sends the
// disabled, the onboarding and the signed-out to the login or their step;
// no request changes a row of the database (nothing read-marked, written,
// queued or pushed through the outbox).
func TestObjectRoutesRefuseOutsiders(t *testing.T) {
	fx := newAuthzFixture(t)
	keys := make([]string, 0, len(authzCases))
	for key := range authzCases {
		keys = append(keys, key)
	}
	sort.Strings(keys)
	try := func(t *testing.T, p *person, method, path string, form url.Values) (*http.Response, string) {
		t.Helper()
		if method == http.MethodGet {
			return p.b.get(path)
		}
		return p.b.post(path, form)
	}
	for _, key := range keys {
		c := authzCases[key]
		if c.public != "" {
			continue
		}
		method := key[:strings.IndexByte(key, ' ')]
		path := c.path(fx)
		form := url.Values{}
		if c.form != nil {
			form = c.form(fx)
		}
		who := append(slices.Clone(c.as), asDisabled, asOnboarding, asRevoked)
		for _, name := range who {
			t.Run(name+" "+key, func(t *testing.T) {
				before := fingerprint(t, fx.ra.d)
				resp, page := try(t, fx.as[name], method, path, cloneValues(form))
				if to, ok := signedOutPersonas[name]; ok {
					wantRedirect(t, resp, to)
				} else {
					wantStatus(t, resp, http.StatusNotFound)
					wantContains(t, page, "<h1>Pagina niet gevonden</h1>")
				}
				wantNotContains(t, page, "Vertrouwelijk", "Alleen voor Jan", "brief.pdf", "%PDF", "P-1")
				if changed := changedTables(before, fingerprint(t, fx.ra.d)); len(changed) > 0 {
					t.Errorf("%s %s as %s changed the database:\n%s", method, path, name, strings.Join(changed, "\n"))
				}
			})
		}
	}
}

// TestObjectIDsOfAnotherKindOrPlace: an id that is real, and visible to
// the person, but not of the object the route or the form is about (a
// message of another conversation, someone who is not a participant, a
// case or a team of another organisation, someone else's upload) is
// refused like an unknown one, and changes nothing.
func TestObjectIDsOfAnotherKindOrPlace(t *testing.T) {
	fx := newAuthzFixture(t)
	type row struct {
		name, as, method string
		path             func(fx *authzFixture) string
		form             func(fx *authzFixture) url.Values
		status           int
	}
	rows := []row{
		{"a message of another conversation", asOwner, http.MethodPost,
			func(fx *authzFixture) string {
				return fx.threadPath() + "/bericht/" + itoa(fx.otherMessage) + "/verwijderen"
			}, nil, http.StatusNotFound},
		{"a message of another conversation, for everyone", asOwner, http.MethodPost,
			func(fx *authzFixture) string {
				return fx.threadPath() + "/bericht/" + itoa(fx.otherMessage) + "/verwijderen-voor-iedereen"
			}, nil, http.StatusNotFound},
		{"an invitation to someone of another conversation", asOwner, http.MethodPost,
			func(fx *authzFixture) string {
				return fx.threadPath() + "/deelnemers/" + itoa(fx.as[asOutsider].u.ID) + "/uitnodiging"
			}, nil, http.StatusNotFound},
		{"removing someone of another conversation", asOwner, http.MethodPost,
			func(fx *authzFixture) string {
				return fx.threadPath() + "/deelnemers/" + itoa(fx.as[asOutsider].u.ID) + "/verwijderen"
			}, nil, http.StatusNotFound},
		{"a case of another organisation", asOwner, http.MethodPost,
			func(fx *authzFixture) string { return fx.threadPath() + "/dossier" },
			func(fx *authzFixture) url.Values { return url.Values{"case": {itoa(fx.otherCase)}} }, http.StatusUnprocessableEntity},
		{"a case of another organisation, opened", asOwner, http.MethodGet,
			func(fx *authzFixture) string { return "/dossiers/" + itoa(fx.otherCase) }, nil, http.StatusNotFound},
		{"a case of another organisation, closed", asOwner, http.MethodPost,
			func(fx *authzFixture) string { return "/dossiers/" + itoa(fx.otherCase) + "/status" },
			func(*authzFixture) url.Values { return url.Values{"status": {messaging.CaseClosed}} }, http.StatusNotFound},
		{"someone else's upload in a reply", asOwner, http.MethodPost, (*authzFixture).threadPath,
			func(fx *authzFixture) url.Values {
				return url.Values{"body": {"Zie bijlage"}, "attachment": {itoa(fx.janUpload)}}
			},
			http.StatusUnprocessableEntity},
		{"someone else's upload, downloaded", asOwner, http.MethodGet,
			func(fx *authzFixture) string { return "/bijlagen/" + itoa(fx.janUpload) }, nil, http.StatusNotFound},
		{"someone else's upload, discarded", asOwner, http.MethodPost,
			func(fx *authzFixture) string { return "/bijlagen/" + itoa(fx.janUpload) + "/verwijderen" }, nil, http.StatusNotFound},
		{"a signer who is no participant", asOwner, http.MethodPost, (*authzFixture).threadPath,
			func(fx *authzFixture) url.Values {
				return url.Values{"body": {"Graag akkoord"}, "attachment": {itoa(fx.upload)}, "sign": {"1"}, "signers": {itoa(fx.as[asOutsider].u.ID)}}
			}, http.StatusUnprocessableEntity},
		{"a request that is not the participant's to sign", asOwner, http.MethodPost,
			func(fx *authzFixture) string { return "/ondertekenen/" + itoa(fx.request) + "/weigeren" },
			func(*authzFixture) url.Values { return url.Values{"reason": {"Nee"}} }, http.StatusNotFound},
		{"an assignee who is no member of the team", asOwner, http.MethodPost,
			func(fx *authzFixture) string { return fx.threadPath() + "/toewijzen" },
			func(fx *authzFixture) url.Values { return url.Values{"assignee": {itoa(fx.as[asFormerMember].u.ID)}} }, http.StatusUnprocessableEntity},
		{"a team of another organisation", asOwner, http.MethodGet,
			func(fx *authzFixture) string { return teamPath(fx.otherTeam) }, nil, http.StatusNotFound},
		{"a member of another organisation's team", asOwner, http.MethodPost,
			func(fx *authzFixture) string {
				return teamPath(fx.otherTeam) + "/leden/" + itoa(fx.as[asOtherOrg].u.ID) + "/verwijderen"
			}, nil, http.StatusNotFound},
		{"a colleague who is no member of the team", asOwner, http.MethodPost,
			func(fx *authzFixture) string {
				return teamPath(fx.team) + "/leden/" + itoa(fx.as[asColleague].u.ID) + "/verwijderen"
			},
			nil, http.StatusNotFound},
		{"a new colleague into another organisation's team", asOwner, http.MethodPost,
			func(*authzFixture) string { return pathAdminUsers + "/uitnodigen" },
			func(fx *authzFixture) url.Values {
				return url.Values{"email": {"nieuwe@osaw.nl"}, "role": {auth.RoleMember}, "teams": {itoa(fx.otherTeam)}}
			}, http.StatusUnprocessableEntity},
		{"a user of another organisation, disabled", asOwner, http.MethodPost,
			func(fx *authzFixture) string {
				return pathAdminUsers + "/" + itoa(fx.as[asOtherOrg].u.ID) + "/uitschakelen"
			}, nil, http.StatusNotFound},
		{"someone else's session", asOwner, http.MethodPost,
			func(fx *authzFixture) string {
				return pathSessions + "/" + itoa(fx.sessionOf(t, fx.as[asOtherPerson].u.ID)) + "/afmelden"
			}, nil, http.StatusNotFound},
	}
	for _, r := range rows {
		t.Run(r.name, func(t *testing.T) {
			form := url.Values{}
			if r.form != nil {
				form = r.form(fx)
			}
			path := r.path(fx)
			// A refusal of a form shows the conversation again: an open.
			shown := r.status == http.StatusUnprocessableEntity && strings.HasPrefix(path, "/berichten/")
			before := fingerprintShown(t, fx.ra.d, shown)
			var resp *http.Response
			var page string
			if r.method == http.MethodGet {
				resp, page = fx.as[r.as].b.get(path)
			} else {
				resp, page = fx.as[r.as].b.post(path, form)
			}
			wantStatus(t, resp, r.status)
			if r.status == http.StatusNotFound {
				wantContains(t, page, "<h1>Pagina niet gevonden</h1>")
			}
			wantNotContains(t, page, "Ander gesprek", "Voor Vera", "eigen.pdf", "A-1", "Buren")
			if changed := changedTables(before, fingerprintShown(t, fx.ra.d, shown)); len(changed) > 0 {
				t.Errorf("%s %s changed the database:\n%s", r.method, path, strings.Join(changed, "\n"))
			}
		})
	}

	// The fingerprint sees a change: the same person with the right ids.
	before := fingerprint(t, fx.ra.d)
	resp, _ := fx.as[asOwner].b.post(fx.threadPath()+"/toewijzen", url.Values{"assignee": {itoa(fx.as[asOwner].u.ID)}})
	wantRedirect(t, resp, fx.threadPath())
	if changed := changedTables(before, fingerprint(t, fx.ra.d)); !slices.ContainsFunc(changed, func(s string) bool { return strings.HasPrefix(s, "threads:") }) {
		t.Errorf("assigning the conversation changed %v, want threads among them", changed)
	}
}

// sessionOf is a live session of the user.
func (fx *authzFixture) sessionOf(t *testing.T, userID int64) int64 {
	t.Helper()
	var id int64
	if err := fx.ra.d.NewSelect().Model((*db.Session)(nil)).Column("id").Where("user_id = ? AND ended_at IS NULL", userID).
		Order("id DESC").Limit(1).Scan(context.Background(), &id); err != nil {
		t.Fatal(err)
	}
	return id
}

// TestMessageRemovalIsNoMedicalOpen: removing a message of a medical
// conversation from one's box is audited as what it is; the check that the
// message is in that conversation is no "medical.opened" (before, a
// message id of another conversation, answered 404, was on record as an
// open, and one removal as two). The page the browser goes on to is one.
func TestMessageRemovalIsNoMedicalOpen(t *testing.T) {
	fx := newAuthzFixture(t)
	ctx := context.Background()
	hr := fx.as[asOwner]
	opens := func() int {
		t.Helper()
		n, err := fx.ra.d.NewSelect().Model((*db.AuditEvent)(nil)).Where("kind = ? AND user_id = ? AND detail = ?", "medical.opened", hr.u.ID, "thread "+itoa(fx.thread)).Count(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return int(n)
	}
	before := opens()
	resp, _ := hr.b.post(fx.threadPath()+"/bericht/"+itoa(fx.otherMessage)+"/verwijderen", nil)
	wantStatus(t, resp, http.StatusNotFound)
	mid := fx.ra.reply(t, hr.u, fx.thread, "Vergissing")
	resp, _ = hr.b.post(fx.threadPath()+"/bericht/"+itoa(mid)+"/verwijderen", nil)
	wantRedirect(t, resp, fx.threadPath()+"?melding=verwijderd")
	if n := opens(); n != before {
		t.Fatalf("%d opens audited by a refused and a done removal, want none", n-before)
	}
	_, page := hr.b.follow(resp)
	wantContains(t, page, "Het bericht is verwijderd.")
	wantNotContains(t, page, "Vergissing")
	if n := opens(); n != before+1 {
		t.Fatalf("%d opens audited by showing the page, want 1", n-before)
	}
}

// TestSignersOfferedMayRead: "ter ondertekening" offers as signers only
// participants who may read the conversation, as the request itself
// demands: not the colleague who left the medical team (whom the form
// listed, and then refused as "no participant").
func TestSignersOfferedMayRead(t *testing.T) {
	fx := newAuthzFixture(t)
	resp, form := fx.as[asOwner].b.get(fx.threadPath()+"/reageer", "HX-Request", "true", "HX-Target", "reply")
	wantStatus(t, resp, http.StatusOK)
	wantContains(t, form, `name="signers" value="`+itoa(fx.as[asOtherPerson].u.ID)+`"`)
	wantNotContains(t, form, `name="signers" value="`+itoa(fx.as[asUncleared].u.ID)+`"`, "Uma Uitgeschreven")
}
