// Package handlers is Dialoog's HTTP layer: routing, middleware, cookies, and
// one file per flow step that parses input, calls a service through an
// interface declared here and renders a component. It must not touch the
// database or hold domain rules; services decide, handlers translate their
// answers (and apperr codes) into pages, statuses and redirects.
package handlers

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/gofiber/fiber/v2"

	"dialoog/auth"
	"dialoog/components"
	"dialoog/config"
	"dialoog/identity"
	"dialoog/messaging"
	"dialoog/realtime"
	"dialoog/static"
)

// Pinger reports whether the database (or whatever the process needs to
// serve requests) is reachable. *sql.DB and *bun.DB satisfy it.
type Pinger interface {
	PingContext(ctx context.Context) error
}

// WriteChecker reports whether the attachment store takes a write now;
// blob.CheckWrite over the configured store implements it.
type WriteChecker interface {
	CheckWrite(ctx context.Context) error
}

// DevOutbox lists the mail and SMS that the development outbox "sent".
type DevOutbox interface {
	// List returns at most limit items, newest first.
	List(ctx context.Context, limit int) ([]components.DevOutboxItem, error)
}

// Invitations is the sign-up flow behind the link in the invitation mail.
// Tokens are the URL-safe strings the service put in the link (base64url or
// hex); handlers refuse anything else before calling the service.
type Invitations interface {
	// Check looks up a sign-up link without consuming it. It returns an
	// apperr NotFound error when the token is unknown, used, expired or
	// replaced by a newer link.
	Check(ctx context.Context, token string) (InvitationInfo, error)
	// Accept consumes the link and starts a session. next names the next
	// onboarding step, e.g. "terms". lang is the language chosen in this
	// browser before signing up ("" for none): it becomes the account's.
	// Errors as for Check.
	Accept(ctx context.Context, token, ip, userAgent, lang string) (sessionToken string, next string, err error)
	// IsFor reports whether token is a sign-up link of userID, in any
	// state: their browser that opens it again goes on where they are.
	IsFor(ctx context.Context, token string, userID int64) (bool, error)
	// RequestNewLink sends a new sign-up link when email belongs to a user who
	// has not finished signing up. It returns nil for any well-formed
	// address, known or not, so the answer reveals nothing; apperr Invalid
	// with Field "email" for a malformed one; apperr TooMany when
	// rate-limited.
	RequestNewLink(ctx context.Context, email, ip, lang string) error
}

// InvitationInfo is what the sign-up page shows about a valid link.
type InvitationInfo struct {
	Email   string
	OrgID   int64
	OrgName string
	// Language is the user's language setting ("nl", "en" or empty); it wins
	// over the browser's Accept-Language.
	Language  string
	ExpiresAt time.Time
}

// Accounts carries a user through the first visit and every login after.
// *auth.Accounts implements it; the methods and their errors are documented
// there. Every method that changes the session returns the session's new
// token, which the handler must set as the cookie.
type Accounts interface {
	// LiveSessions, EndSession and EndOtherSessions are "Sessies".
	LiveSessions(ctx context.Context, cur *auth.Current) ([]auth.SessionInfo, error)
	EndSession(ctx context.Context, cur *auth.Current, sessionID int64, ip string) (int64, error)
	EndOtherSessions(ctx context.Context, cur *auth.Current, ip string) ([]int64, error)
	// UpdateNames, SetAbsence, SetLanguage and SetNotifications are "Mijn
	// instellingen".
	UpdateNames(ctx context.Context, cur *auth.Current, n auth.Names, ip string) error
	SetAbsence(ctx context.Context, cur *auth.Current, ab auth.Absence, ip string) error
	SetLanguage(ctx context.Context, cur *auth.Current, lang, ip string) error
	SetNotifications(ctx context.Context, cur *auth.Current, setting, ip string) error
	// SubscribePush and UnsubscribePush are "Meldingen op dit apparaat"
	// (the body is the browser's PushSubscription JSON); PushKey is the
	// VAPID public key browsers subscribe with.
	SubscribePush(ctx context.Context, cur *auth.Current, body []byte, userAgent, ip string) error
	UnsubscribePush(ctx context.Context, cur *auth.Current, body []byte, ip string) error
	PushKey() string
	// Activity is a page of the user's own security events, newest first.
	Activity(ctx context.Context, userID int64, page int) ([]auth.ActivityEvent, bool, error)
	// AwayMessage opens the user's own absence message.
	AwayMessage(cur *auth.Current) (string, error)
	Resolve(ctx context.Context, sessionToken string) (*auth.Current, error)

	AcceptTerms(ctx context.Context, cur *auth.Current, versionID int64, accepted bool, ip string) (string, error)
	SetPassword(ctx context.Context, cur *auth.Current, pw, confirm, ip string) (string, error)

	SMSSetupState(ctx context.Context, userID int64) (auth.SMSState, error)
	SendSetupSMS(ctx context.Context, cur *auth.Current, phone, ip string) (auth.SMSState, error)
	ResendSetupSMS(ctx context.Context, cur *auth.Current, ip string) (auth.SMSState, error)
	ChangeSetupPhone(ctx context.Context, cur *auth.Current) error
	VerifySetupSMS(ctx context.Context, cur *auth.Current, code, ip string) (string, error)
	TOTPSetup(ctx context.Context, cur *auth.Current, issuer string) (auth.TOTPKey, error)
	VerifySetupTOTP(ctx context.Context, cur *auth.Current, code, ip string) (string, error)
	SkipApp(ctx context.Context, cur *auth.Current) (string, error)

	NewRecoveryCodes(ctx context.Context, cur *auth.Current) ([]string, error)
	ConfirmRecoveryCodes(ctx context.Context, cur *auth.Current, stored bool, shown []string, ip string) (string, error)
	SaveProfile(ctx context.Context, cur *auth.Current, p auth.Profile, ip string) (string, error)

	LoginOnDevice(ctx context.Context, email, pw, device, ip, userAgent string) (*auth.LoginResult, error)
	RememberDevice(deviceCookie string, userID int64) string
	LoginFactors(ctx context.Context, cur *auth.Current) ([]auth.FactorOption, error)
	LoginSMSState(ctx context.Context, userID int64) (auth.SMSState, error)
	SendLoginSMS(ctx context.Context, cur *auth.Current, ip string) (auth.SMSState, error)
	VerifyLoginFactor(ctx context.Context, cur *auth.Current, kind, code, ip string) (string, error)

	RequestPasswordReset(ctx context.Context, email, ip string) error
	CheckPasswordReset(ctx context.Context, token, ip string) (email, language string, err error)
	PasswordResetRules(ctx context.Context, token, ip string) (rules auth.PasswordRules, language string, err error)
	ResetPassword(ctx context.Context, token, pw, confirm, ip, userAgent string) (string, error)

	// Confirm is "confirm it is you" (auth.ConfirmPassword or
	// auth.ConfirmTOTP); RecentlyConfirmed reports one within
	// auth.ConfirmTTL in this session.
	Confirm(ctx context.Context, cur *auth.Current, kind, secret, ip string) error
	RecentlyConfirmed(cur *auth.Current) bool
	RecoveryCodesLeft(ctx context.Context, cur *auth.Current) (int, error)

	// VerifyLoginFactorOnDevice is VerifyLoginFactor with the browser's
	// device cookie (a login from a browser not seen before is mailed).
	VerifyLoginFactorOnDevice(ctx context.Context, cur *auth.Current, kind, code, device, ip string) (string, error)
	// ChangePassword is "Wachtwoord wijzigen"; it returns the session's
	// new token.
	ChangePassword(ctx context.Context, cur *auth.Current, currentPW, pw, confirm, ip string) (string, error)
	// Factors ... RegenerateRecoveryCodes are "Tweede stap beheren";
	// MayChangeFactors and MayAddFactor say which of its forms are open.
	Factors(ctx context.Context, cur *auth.Current) ([]auth.FactorInfo, error)
	MayChangeFactors(cur *auth.Current) bool
	MayAddFactor(cur *auth.Current) bool
	SendFactorSMS(ctx context.Context, cur *auth.Current, phone, ip string) (auth.SMSState, error)
	ResendFactorSMS(ctx context.Context, cur *auth.Current, ip string) (auth.SMSState, error)
	CancelFactorSMS(ctx context.Context, cur *auth.Current) error
	VerifyFactorSMS(ctx context.Context, cur *auth.Current, code, ip string) (string, error)
	FactorTOTPSetup(ctx context.Context, cur *auth.Current, issuer string) (auth.TOTPKey, error)
	VerifyFactorTOTP(ctx context.Context, cur *auth.Current, code, ip string) (string, error)
	RemoveFactor(ctx context.Context, cur *auth.Current, factorID int64, ip string) error
	RegenerateRecoveryCodes(ctx context.Context, cur *auth.Current, ip string) ([]string, error)
}

var _ Accounts = (*auth.Accounts)(nil)

// Sessions ends sessions and keeps them alive; *auth.Sessions implements
// it.
type Sessions interface {
	// End ends the session of token, if any.
	End(ctx context.Context, token string) error
	// KeepAlive extends the idle timer of a session that is still valid,
	// for activity without a request (typing in an open page), and returns
	// when the session then ends unless used again; an
	// apperr.Unauthorized error says the session is over.
	KeepAlive(ctx context.Context, sessionID int64) (time.Time, error)
	// Remaining is how long the session of token has left, without
	// moving its idle timer; 0 when it is over or unknown, and then ended
	// says whether it was ended (or is unknown) rather than lapsed.
	Remaining(ctx context.Context, token string) (time.Duration, bool, error)
	// Extend restarts the idle timer of a live session and returns what
	// it then has left; apperr.Unauthorized when it is over.
	Extend(ctx context.Context, sessionID int64) (time.Duration, error)
	// Lapsed returns the user of a session that sat idle or reached its
	// absolute end (not one that was ended), within a day; an
	// apperr.Unauthorized error for any other token.
	Lapsed(ctx context.Context, token string) (int64, error)
}

var _ Sessions = (*auth.Sessions)(nil)

// TermsVersion is one published text of the terms of use.
type TermsVersion struct {
	ID          int64
	Version     int
	NL, EN      string
	PublishedAt time.Time
}

// Terms reads and publishes the terms of use.
type Terms interface {
	// Current returns the newest version.
	Current(ctx context.Context) (TermsVersion, error)
	// Version returns one version; apperr NotFound when there is none.
	Version(ctx context.Context, version int) (TermsVersion, error)
	// Publish stores a new version by the admin cur; apperr Invalid with
	// Field "body" for an empty or too long text, apperr Forbidden when
	// Shared, NotFound for anyone who is no admin.
	Publish(ctx context.Context, cur *auth.Current, nl, en string) (TermsVersion, error)
	// Shared reports an installation of several organisations, whose
	// terms its operator publishes (auth.TermsShared), not an admin.
	Shared(ctx context.Context) (bool, error)
}

// Messages is the messaging of a signed-in user: conversations, messages,
// attachments and participants. *messaging.Service implements it; the
// methods and their errors are documented there. Every method that takes
// an id answers apperr NotFound for objects the user may not see, so
// handlers need no participant checks of their own.
type Messages interface {
	// A page of the inbox, by its number or after the reference the page
	// before gave (after; "" for none).
	InboxAfter(ctx context.Context, user *identity.User, page int, after, query string) (*messaging.InboxPage, error)
	UnreadCount(ctx context.Context, userID int64) (int, error)
	// A conversation with its newest messages (before 0), or with those
	// before the message before.
	ThreadPage(ctx context.Context, user *identity.User, threadID, before int64) (*messaging.ThreadView, error)
	MarkReadUpTo(ctx context.Context, user *identity.User, threadID, upTo int64) (int, error)
	// Touched: the person's request may have changed their inbox.
	Touched(user *identity.User)
	Contacts(ctx context.Context, user *identity.User, limit int) ([]string, error)

	Compose(ctx context.Context, user *identity.User, in messaging.ComposeInput) (int64, error)
	Reply(ctx context.Context, user *identity.User, in messaging.ReplyInput) (int64, error)

	// UploadFrom streams a file into the store; Download opens one as a
	// stream that must be closed and may be read after the request's
	// context ended, so it takes a context of its own.
	UploadFrom(ctx context.Context, user *identity.User, filename string, content io.Reader) (*messaging.AttachmentView, error)
	PendingUploads(ctx context.Context, user *identity.User, ids []int64) ([]messaging.AttachmentView, error)
	Download(ctx context.Context, user *identity.User, attachmentID int64) (*messaging.AttachmentView, io.ReadCloser, error)
	// DiscardUpload deletes an upload of the user's that was not sent.
	DiscardUpload(ctx context.Context, user *identity.User, attachmentID int64) error

	// MessageInBox and BoxHasMessages check a message route's message,
	// and what is left after its removal, in the user's box; unlike
	// Thread they are no open.
	MessageInBox(ctx context.Context, user *identity.User, threadID, messageID int64) (bool, error)
	BoxHasMessages(ctx context.Context, user *identity.User, threadID int64) (bool, error)
	DeleteForEveryone(ctx context.Context, user *identity.User, messageID int64) error
	RemoveFromBox(ctx context.Context, user *identity.User, messageID int64) error
	RemoveThreadFromBox(ctx context.Context, user *identity.User, threadID int64) error

	// Export begins a ZIP download of the user's box (one at a time per
	// user, a few at a time per instance), which its WriteTo streams and
	// ends; StopService deletes the box and the account (the caller has
	// re-authenticated the user).
	Export(ctx context.Context, user *identity.User, ip string) (messaging.BoxExport, error)
	StopService(ctx context.Context, user *identity.User) error

	AddParticipant(ctx context.Context, user *identity.User, threadID int64, in messaging.AddInput) error
	ResendInvitation(ctx context.Context, user *identity.User, threadID, participantUserID int64) error
	RemoveParticipant(ctx context.Context, user *identity.User, threadID, participantUserID int64) error

	// ParticipantIDs is for the live connection: whom to tell that the user
	// is typing in a conversation they take part in.
	ParticipantIDs(ctx context.Context, user *identity.User, threadID int64) ([]int64, error)

	// Teams: the user's team boxes with their unread counts, one box's
	// page or search, and who handles a team's conversation.
	MyTeams(ctx context.Context, user *identity.User) ([]messaging.TeamInfo, error)
	TeamBoxAfter(ctx context.Context, user *identity.User, teamID int64, page int, after, query string) (*messaging.InboxPage, error)
	Assign(ctx context.Context, user *identity.User, threadID, assigneeID int64) error
	// Case files: the case page, the case part of a conversation page, the
	// inbox filtered by a case, and the changes.
	Cases(ctx context.Context, user *identity.User, in messaging.CaseListInput) (*messaging.CaseList, error)
	Case(ctx context.Context, user *identity.User, caseID int64) (*messaging.CaseView, error)
	CaseByID(ctx context.Context, user *identity.User, caseID int64) (*messaging.CaseInfo, error)
	CaseBoxAfter(ctx context.Context, user *identity.User, caseID int64, page int, after, query string) (*messaging.InboxPage, error)
	ThreadCase(ctx context.Context, user *identity.User, threadID int64) (*messaging.ThreadCase, error)
	CreateCaseForThread(ctx context.Context, user *identity.User, threadID, subjectID int64, reference string) (int64, error)
	AddThreadToCase(ctx context.Context, user *identity.User, threadID, caseID int64) error
	RemoveThreadFromCase(ctx context.Context, user *identity.User, threadID int64) error
	SetCaseStatus(ctx context.Context, user *identity.User, caseID int64, status string) error
}

var _ Messages = (*messaging.Service)(nil)

// Live publishes events to the live connections of every instance (typing,
// ended sessions); realtime.Broker implements it.
type Live interface {
	Publish(ctx context.Context, ev realtime.Event) error
}

var _ Live = realtime.Broker(nil)

// Deps are the services the HTTP layer needs. Config, Health, Invitations,
// Accounts, Sessions, Terms and Messages are required;
// Logger defaults to discarding; Now defaults to time.Now; DevOutbox may be
// nil (an empty outbox) and is only used when Config.Dev is set.
type Deps struct {
	Config *config.Config
	Logger *slog.Logger
	Health Pinger
	// Files, when set, is checked by /readyz too: an instance that cannot
	// store attachments is not ready.
	Files       WriteChecker
	DevOutbox   DevOutbox
	Invitations Invitations
	Accounts    Accounts
	Sessions    Sessions
	Terms       Terms
	Messages    Messages
	// Now is the clock against which pages write dates ("14:05" today,
	// "23 februari" before); tests set it to the services' clock.
	Now func() time.Time
	// Hub holds this instance's live connections (GET /ws) and Live
	// publishes to every instance's; both nil turns live updates off (no
	// /ws route). Pushes are rendered by LiveRenderer, run by
	// realtime.Relay.
	Hub  *realtime.Hub
	Live Live
	// Metrics, when set, records every request's duration by route and
	// its database statements (DIALOOG_METRICS_ADDR).
	Metrics RequestMetrics
	// FirstAdmin, when set, serves the first start's link with which the
	// first admin's mail address is chosen (/eerste-beheerder/...).
	FirstAdmin FirstAdmin
	// Retention serves "Bewaartermijn" in Beheer; when nil, Messages is
	// used if it implements Retention (as *messaging.Service does).
	Retention Retention
	// Teams serves "Teams" in Beheer; when nil, Messages is used if it
	// implements Teams (as *messaging.Service does).
	Teams Teams
	// Kept keeps the message forms posted after their session lapsed
	// (kept.go); when nil, Messages is used if it implements KeptTexts
	// (as *messaging.Service does), else nothing is kept.
	Kept KeptTexts
	// Admin, when set, serves Beheer's users, helpdesk reset and audit
	// pages (see admin.go).
	Admin Admin
	// Branding, when set, serves "Organisatie" in Beheer and the
	// organisations' stylesheets and logos (see admin_branding.go).
	Branding Branding
	// Signing, when set, serves Ondertekenen: "ter ondertekening" in the
	// reply form, the requests' cards and their routes (signing.go).
	Signing Signing
	// SSO, when set, serves the login through an organisation's own
	// provider and its page in Beheer (see sso.go).
	SSO SSO
	// Seals, when set, serves "Document controleren", which checks a
	// PDF that Dialoog sealed (see seal_verify.go).
	Seals Seals
	// Passkeys, when set, offers passkeys (WebAuthn) as a second factor
	// and as a login on their own.
	Passkeys Passkeys
	// Stopping, when set, is closed when the process begins to stop:
	// /readyz answers 503 from then on.
	Stopping <-chan struct{}
}

// FirstAdmin chooses the first admin through the link printed at the first
// start; *auth.Invitations implements it.
type FirstAdmin interface {
	// CheckSetup returns the organisation's name; NotFound for a link
	// that does not work (any more).
	CheckSetup(ctx context.Context, token string) (string, error)
	// ChooseFirstAdmin uses the link and returns the admin's sign-up link.
	ChooseFirstAdmin(ctx context.Context, token, email, language, ip string) (string, error)
}

var _ FirstAdmin = (*auth.Invitations)(nil)

// handler holds the dependencies every route and middleware shares.
type handler struct {
	cfg          *config.Config
	log          *slog.Logger
	health       Pinger
	files        WriteChecker
	stopping     <-chan struct{}
	outbox       DevOutbox
	invitations  Invitations
	accounts     Accounts
	sessions     Sessions
	terms        Terms
	messages     Messages
	now          func() time.Time
	csp          string
	devCSP       string
	assets       map[string]asset
	readyTimeout time.Duration
	hub          *realtime.Hub
	live         Live
	origin       string // of Config.BaseURL, the only one allowed to open /ws
	typing       *realtime.TypingThrottle
	metrics      RequestMetrics
	firstAdmin   FirstAdmin
	retention    Retention
	teams        Teams
	kept         KeptTexts
	admin        Admin
	branding     Branding
	signing      Signing
	sso          SSO
	seals        Seals
	passkeys     Passkeys
}

// Limits of the HTTP server. Reads and writes get minutes, not seconds,
// because attachments of up to 25 MiB travel over slow phone connections.
// bodyLimit is the largest body read into memory: a signed-in user's
// message form posted without script, with its files (see limitBody);
// other forms get signedInFormLimit or, without an account,
// formBodyLimit, and an upload streams.
const (
	bodyLimit    = 30 << 20
	idleTimeout  = 2 * time.Minute
	readyTimeout = 2 * time.Second
)

// readTimeout is how long a request may take to arrive; a long upload gets
// it anew while its bytes keep coming (see deadline). A variable so
// that tests can shorten it.
var readTimeout = 5 * time.Minute

// writeTimeout is how long a response may take to write; a long download
// gets it anew while its bytes keep flowing (see writeDeadline). A
// variable so that tests can shorten it.
var writeTimeout = 5 * time.Minute

// streamTimeout bounds the writing of one download, whatever its pace: a
// box export of 200 MiB at a quarter of a megabit a second.
const streamTimeout = 2 * time.Hour

// New returns the Fiber app with every route and middleware. It panics when a
// required dependency is missing: that is a wiring bug in main, not a
// runtime condition.
func New(deps Deps) *fiber.App {
	if deps.Config == nil || deps.Config.BaseURL == nil {
		panic("handlers.New: Deps.Config with a BaseURL is required")
	}
	if deps.Health == nil {
		panic("handlers.New: Deps.Health is required")
	}
	if deps.Invitations == nil {
		panic("handlers.New: Deps.Invitations is required")
	}
	if deps.Accounts == nil || deps.Sessions == nil || deps.Terms == nil {
		panic("handlers.New: Deps.Accounts, Sessions and Terms are required")
	}
	if deps.Messages == nil {
		panic("handlers.New: Deps.Messages is required")
	}
	if (deps.Hub == nil) != (deps.Live == nil) {
		panic("handlers.New: Deps.Hub and Deps.Live go together")
	}
	logger := deps.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	now := deps.Now
	if now == nil {
		now = time.Now
	}
	assets, err := loadAssets(static.FS)
	if err != nil {
		panic(fmt.Errorf("handlers.New: %w", err))
	}
	h := &handler{
		cfg:          deps.Config,
		log:          logger,
		health:       deps.Health,
		files:        deps.Files,
		stopping:     deps.Stopping,
		outbox:       deps.DevOutbox,
		invitations:  deps.Invitations,
		accounts:     deps.Accounts,
		sessions:     deps.Sessions,
		terms:        deps.Terms,
		messages:     deps.Messages,
		now:          now,
		csp:          contentSecurityPolicy(deps.Config, false),
		devCSP:       contentSecurityPolicy(deps.Config, true),
		assets:       assets,
		readyTimeout: readyTimeout,
		hub:          deps.Hub,
		live:         deps.Live,
		origin:       originOf(deps.Config.BaseURL),
		typing:       realtime.NewTypingThrottle(typingEvery),
		metrics:      deps.Metrics,
		firstAdmin:   deps.FirstAdmin,
		retention:    deps.Retention,
		teams:        deps.Teams,
		kept:         deps.Kept,
		admin:        deps.Admin,
		branding:     deps.Branding,
		signing:      deps.Signing,
		sso:          deps.SSO,
		seals:        deps.Seals,
		passkeys:     deps.Passkeys,
	}
	if r, ok := deps.Messages.(Retention); ok && h.retention == nil {
		h.retention = r
	}
	if t, ok := deps.Messages.(Teams); ok && h.teams == nil {
		h.teams = t
	}
	if k, ok := deps.Messages.(KeptTexts); ok && h.kept == nil {
		h.kept = k
	}

	app := fiber.New(fiber.Config{
		AppName:      "Dialoog",
		ErrorHandler: h.handleError,
		ReadTimeout:  readTimeout,
		WriteTimeout: writeTimeout,
		IdleTimeout:  idleTimeout,
		BodyLimit:    bodyLimit,
		// Bodies stream from the connection: readDeferredBody reads them
		// into memory after the session check (see limitBody) for every
		// route but the upload, which streams the file into the blob
		// store. Multipart forms are parsed
		// when a handler asks, not before.
		StreamRequestBody:            true,
		DisablePreParseMultipartForm: true,
		ReadBufferSize:               16 << 10, // room for cookies and long URLs in headers
		DisableStartupMessage:        true,
		// ProxyHeader stays unset: c.IP() is the peer address, which a client
		// cannot forge. Behind a reverse proxy, set it together with
		// EnableTrustedProxyCheck and the proxy's address, or rate limits per
		// IP become per-proxy or spoofable.
	})

	// Order matters: Fiber runs middleware and routes in registration order,
	// and a route that answers does not call the ones after it.
	if h.metrics != nil {
		app.Use(h.observeRequest)
	}
	app.Use(h.requestLog)
	app.Use(h.recoverPanic)
	app.Use(h.limitBody)
	app.Use(h.securityHeaders)
	app.Get("/static/*", h.static) // long-cached, no cookies, no language
	app.Get(pathServiceWorker, h.rootAsset("pwa/sw.js", "text/javascript; charset=utf-8"))
	app.Get(pathManifest, h.manifest)
	if h.branding != nil {
		app.Get(auth.PathBranding+":file", h.brandingAsset) // content-addressed, no cookies
	}
	app.Use(noStore)
	app.Get("/healthz", h.healthz)
	app.Get("/readyz", h.readyz)
	app.Use(h.language)
	// Before the session: the page the service worker keeps is the same
	// for everyone.
	app.Get(pathOffline, h.offline)
	if h.sso != nil {
		h.ssoPublicRoutes(app)
	}
	// How long the session has left, asked by the page before it warns:
	// before the session middleware, which would count it as activity.
	app.Get(pathSessionState, h.sessionState)
	// The session is resolved before the body is read: only a signed-in
	// user's message form may be larger than formBodyLimit.
	app.Use(h.session)
	app.Use(h.readDeferredBody)
	app.Use(h.checkText)
	app.Use(h.csrf)

	app.Get("/", h.start)
	app.Post(pathLanguage, h.languageSwitch)
	if h.firstAdmin != nil {
		app.Get(pathFirstAdmin+":token", h.firstAdminShow)
		app.Post(pathFirstAdmin+":token", h.firstAdminChoose)
	}
	app.Get("/voorwaarden", h.termsShow)
	app.Get("/voorwaarden/:version", h.termsShow)

	// Invitation: the link, and a new one when it no longer works. The fixed
	// paths come before /aanmelden/:token, which would match them.
	app.Get("/aanmelden/nieuwe-link", h.newLinkShow)
	app.Post("/aanmelden/nieuwe-link", h.newLinkRequest)
	app.Get("/aanmelden/nieuwe-link/verstuurd", h.newLinkSent)
	app.Get("/aanmelden/:token", h.invitationShow)
	app.Post("/aanmelden/:token", h.invitationAccept)

	// Login, its second step, logout and a forgotten password.
	app.Get("/inloggen", h.loginShow)
	app.Post("/inloggen", h.loginSubmit)
	app.Get("/inloggen/tweede-stap", h.needsFactor, h.loginFactorShow)
	app.Post("/inloggen/tweede-stap", h.needsFactor, h.loginFactorVerify)
	app.Post("/inloggen/tweede-stap/sms", h.needsFactor, h.loginSMSSend)
	app.Get(pathRecoveryUsed, h.pastFactor, h.recoveryUsedShow)
	app.Post("/uitloggen", h.logout)
	app.Post(pathSessionExtend, h.sessionExtend)
	if h.sso != nil {
		h.ssoRoutes(app, h.onStage(auth.StageDone))
	}
	app.Get("/wachtwoord-vergeten", h.forgotPasswordShow)
	app.Post("/wachtwoord-vergeten", h.forgotPasswordRequest)
	app.Get("/wachtwoord-vergeten/verstuurd", h.forgotPasswordSent)
	app.Get("/wachtwoord-vergeten/:token", h.passwordResetShow)
	app.Post("/wachtwoord-vergeten/:token", h.passwordResetSubmit)
	app.Post("/wachtwoord-vergeten/:token/controle", h.passwordResetCheck)

	// The first visit, one guarded step after the other.
	app.Get("/stap", h.signedIn, h.continueStep)
	app.Get("/stap/voorwaarden", h.onStage(auth.StageTerms), h.termsStepShow)
	app.Post("/stap/voorwaarden", h.onStage(auth.StageTerms), h.termsStepAccept)
	app.Get("/stap/wachtwoord", h.onStage(auth.StagePassword), h.passwordStepShow)
	app.Post("/stap/wachtwoord", h.onStage(auth.StagePassword), h.passwordStepSet)
	app.Post("/stap/wachtwoord/controle", h.onStage(auth.StagePassword), h.passwordStepCheck)
	app.Get("/stap/sms", h.mayEnrol, h.smsStepShow)
	app.Post("/stap/sms", h.mayEnrol, h.smsStepSend)
	app.Post("/stap/sms/code", h.mayEnrol, h.smsStepVerify)
	app.Post("/stap/sms/opnieuw", h.mayEnrol, h.smsStepResend)
	app.Post("/stap/sms/wijzigen", h.mayEnrol, h.smsStepChangePhone)
	app.Get("/stap/app", h.mayEnrol, h.appStepShow)
	app.Post("/stap/app", h.mayEnrol, h.appStepVerify)
	app.Post("/stap/app/overslaan", h.mayEnrol, h.appStepSkip)
	app.Get("/stap/herstelcodes", h.onStage(auth.StageRecovery), h.recoveryStepShow)
	app.Post("/stap/herstelcodes", h.onStage(auth.StageRecovery), h.recoveryStepConfirm)
	app.Get("/stap/gegevens", h.onStage(auth.StageProfile), h.profileStepShow)
	app.Post("/stap/gegevens", h.onStage(auth.StageProfile), h.profileStepSave)

	// Signed in: messages. Only a user who finished the first visit and
	// passed the second factor gets here. The fixed path /berichten/nieuw
	// comes before /berichten/:id, which would match it. Every route with
	// an id leaves the participant check to the service, which answers
	// NotFound for anything the user may not see. The two message forms
	// keep what was typed when the session lapsed (keepUnsent, before the
	// session check).
	done := h.onStage(auth.StageDone)
	app.Get("/berichten", done, h.inbox)
	app.Get(pathCompose, done, h.composeShow)
	app.Post(pathCompose, h.keepUnsent, done, h.composeSend)
	app.Post(pathCompose+keptDiscard, done, h.keptDiscardPost)
	app.Get("/berichten/:id", done, h.threadShow)
	app.Post("/berichten/:id", h.keepUnsent, done, h.threadReply)
	app.Post("/berichten/:id"+keptDiscard, done, h.keptDiscardPost)
	app.Get("/berichten/:id/reageer", done, h.threadReplyShow)
	app.Post("/berichten/:id/gelezen", done, h.threadMarkRead)
	app.Post("/berichten/:id/verwijderen", done, h.threadRemove)
	app.Post("/berichten/:id/deelnemers", done, h.participantAdd)
	app.Post("/berichten/:id/toewijzen", done, h.threadAssign)
	app.Post("/berichten/:id/dossier", done, h.threadCaseAdd)
	app.Post("/berichten/:id/dossier/verwijderen", done, h.threadCaseRemove)
	app.Get("/dossiers", done, h.caseList)
	app.Get("/dossiers/:id", done, h.caseShow)
	app.Post("/dossiers/:id/status", done, h.caseStatus)
	app.Post("/berichten/:id/deelnemers/:uid/uitnodiging", done, h.invitationResend)
	app.Post("/berichten/:id/deelnemers/:uid/verwijderen", done, h.participantRemove)
	app.Post("/berichten/:id/bericht/:mid/verwijderen-voor-iedereen", done, h.messageDeleteForEveryone)
	app.Post("/berichten/:id/bericht/:mid/verwijderen", done, h.messageRemove)
	if h.signing != nil {
		app.Get("/ondertekenen/:rid/document", done, h.signingDocument)
		app.Post("/ondertekenen/:rid/code", done, h.signingSendCode)
		app.Post("/ondertekenen/:rid/akkoord", done, h.signingAgree)
		app.Post("/ondertekenen/:rid/weigeren", done, h.signingDecline)
	}
	app.Post(pathUpload, done, h.attachmentUpload)
	app.Get("/bijlagen/:id", done, h.attachmentDownload)
	app.Post("/bijlagen/:id/verwijderen", done, h.attachmentDiscard)

	// The user's own box and account: download it, stop with Dialoog.
	app.Get(pathAccount, done, h.accountShow)
	app.Get(pathAccountActivity, done, h.accountActivity)
	app.Post(pathSettingsNames, done, h.settingsNames)
	app.Post(pathSettingsAway, done, h.settingsAway)
	app.Post(pathSettingsLanguage, done, h.settingsLanguage)
	app.Post(pathSettingsNotify, done, h.settingsNotify)
	app.Post(pathSettingsPush, done, h.pushSubscribe)
	app.Post(pathSettingsPushOff, done, h.pushUnsubscribe)
	app.Get(pathSessions, done, h.sessionsShow)
	app.Post(pathSessions+"/andere", done, h.sessionsEndOthers)
	app.Post(pathSessions+"/:id/afmelden", done, h.sessionEnd)
	app.Post(pathAccountPassword, done, h.passwordChange)
	app.Post(pathConfirm, done, h.confirmSubmit)
	app.Get(pathFactors, done, h.factorsShow)
	app.Post(pathFactorSMS, done, h.factorSMSSend)
	app.Post(pathFactorSMS+"/code", done, h.factorSMSVerify)
	app.Post(pathFactorSMS+"/opnieuw", done, h.factorSMSResend)
	app.Post(pathFactorSMS+"/annuleren", done, h.factorSMSCancel)
	app.Get(pathFactorApp, done, h.factorAppShow)
	app.Post(pathFactorApp, done, h.factorAppVerify)
	app.Post(pathFactorRecovery, done, h.factorRecoveryCodes)
	app.Post(pathFactors+"/:id/verwijderen", done, h.factorRemove)
	app.Post(pathAccountExport, done, h.accountExport)
	app.Post(pathAccountStop, done, h.accountStop)

	// Live updates: the WebSocket of a signed-in page (see ws.go).
	if h.passkeys != nil {
		h.passkeyRoutes(app, done)
	}

	if h.hub != nil {
		// The live connection leaves fasthttp's hijack handler at once, so
		// fasthttp must not close it then (realtime.Upgrader).
		app.Server().KeepHijackedConns = true
		app.Get("/ws", h.wsGuard, h.wsHandler())
	}

	app.Get("/beheer/voorwaarden", done, h.adminOnly, h.adminTermsShow)
	app.Post("/beheer/voorwaarden", done, h.adminOnly, h.adminTermsPublish)
	if h.retention != nil {
		app.Get(pathAdminRetention, done, h.adminOnly, h.adminRetentionShow)
		app.Post(pathAdminRetention, done, h.adminOnly, h.adminRetentionSave)
	}
	if h.admin != nil {
		h.adminRoutes(app, done)
	}
	if h.teams != nil {
		h.adminTeamRoutes(app, done)
	}
	if h.branding != nil {
		app.Get(pathAdminBranding, done, h.adminOnly, h.adminBrandingShow)
		app.Post(pathAdminBranding, done, h.adminOnly, h.adminBrandingSave)
		app.Post(pathAdminBranding+"/logo", done, h.adminOnly, h.adminBrandingLogo)
		app.Post(pathAdminBranding+"/logo/verwijderen", done, h.adminOnly, h.adminBrandingLogoRemove)
	}

	if h.seals != nil {
		app.Get(pathSealVerify, done, h.sealVerifyShow)
		app.Post(pathSealVerify, done, h.sealVerifyCheck)
	}

	if deps.Config.Dev {
		app.Get("/dev/outbox", h.devOutbox)
	}
	srv := app.Server()
	srv.Handler = h.unknownMethods(srv.Handler)
	return app
}
