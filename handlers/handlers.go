// Package handlers is Dialoog's HTTP layer: routing, middleware, cookies, and
// one file per flow step that parses input, calls a service through an
// interface declared here and renders a component. It must not touch the
// database or hold domain rules; services decide, handlers translate their
// answers (and apperr codes) into pages, statuses and redirects.
package handlers

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/gofiber/fiber/v2"

	"dialoog/components"
	"dialoog/config"
	"dialoog/static"
)

// Pinger reports whether the database (or whatever the process needs to
// serve requests) is reachable. *sql.DB and *bun.DB satisfy it.
type Pinger interface {
	PingContext(ctx context.Context) error
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
	// onboarding step, e.g. "terms". Errors as for Check.
	Accept(ctx context.Context, token, ip, userAgent string) (sessionToken string, next string, err error)
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
	OrgName string
	// Language is the user's language setting ("nl", "en" or empty); it wins
	// over the browser's Accept-Language.
	Language  string
	ExpiresAt time.Time
}

// Deps are the services the HTTP layer needs. Config, Health and Invitations
// are required; Logger defaults to discarding; DevOutbox may be nil (an empty
// outbox) and is only used when Config.Dev is set.
type Deps struct {
	Config      *config.Config
	Logger      *slog.Logger
	Health      Pinger
	DevOutbox   DevOutbox
	Invitations Invitations
}

// handler holds the dependencies every route and middleware shares.
type handler struct {
	cfg          *config.Config
	log          *slog.Logger
	health       Pinger
	outbox       DevOutbox
	invitations  Invitations
	csp          string
	devCSP       string
	assets       map[string]asset
	readyTimeout time.Duration
}

// Limits of the HTTP server. Reads and writes get minutes, not seconds,
// because attachments of up to 25 MiB (hence the 30 MiB body limit) travel
// over slow phone connections.
const (
	bodyLimit    = 30 << 20
	readTimeout  = 5 * time.Minute
	writeTimeout = 5 * time.Minute
	idleTimeout  = 2 * time.Minute
	readyTimeout = 2 * time.Second
)

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
	logger := deps.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	assets, err := loadAssets(static.FS)
	if err != nil {
		panic(fmt.Errorf("handlers.New: %w", err))
	}
	h := &handler{
		cfg:          deps.Config,
		log:          logger,
		health:       deps.Health,
		outbox:       deps.DevOutbox,
		invitations:  deps.Invitations,
		csp:          contentSecurityPolicy(deps.Config, false),
		devCSP:       contentSecurityPolicy(deps.Config, true),
		assets:       assets,
		readyTimeout: readyTimeout,
	}

	app := fiber.New(fiber.Config{
		AppName:               "Dialoog",
		ErrorHandler:          h.handleError,
		ReadTimeout:           readTimeout,
		WriteTimeout:          writeTimeout,
		IdleTimeout:           idleTimeout,
		BodyLimit:             bodyLimit,
		ReadBufferSize:        16 << 10, // room for cookies and long URLs in headers
		DisableStartupMessage: true,
		// ProxyHeader stays unset: c.IP() is the peer address, which a client
		// cannot forge. Behind a reverse proxy, set it together with
		// EnableTrustedProxyCheck and the proxy's address, or rate limits per
		// IP become per-proxy or spoofable.
	})

	// Order matters: Fiber runs middleware and routes in registration order,
	// and a route that answers does not call the ones after it.
	app.Use(h.requestLog)
	app.Use(h.recoverPanic)
	app.Use(h.securityHeaders)
	app.Get("/static/*", h.static) // long-cached, no cookies, no language
	app.Use(noStore)
	app.Get("/healthz", h.healthz)
	app.Get("/readyz", h.readyz)
	app.Use(h.language)
	app.Use(h.csrf)

	app.Get("/", h.start)
	app.Get("/inloggen", h.loginShow)
	app.Post("/inloggen", h.loginSubmit)
	// The fixed paths come before /aanmelden/:token, which would match them.
	app.Get("/aanmelden/nieuwe-link", h.newLinkShow)
	app.Post("/aanmelden/nieuwe-link", h.newLinkRequest)
	app.Get("/aanmelden/nieuwe-link/verstuurd", h.newLinkSent)
	app.Get("/aanmelden/:token", h.invitationShow)
	app.Post("/aanmelden/:token", h.invitationAccept)
	app.Get("/welkom", h.welcome)
	if deps.Config.Dev {
		app.Get("/dev/outbox", h.devOutbox)
	}
	return app
}
