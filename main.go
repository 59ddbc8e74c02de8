// Command dialoog runs the Dialoog secure messaging server and its
// administrative commands: serve (the default), invite, migrate, terms and
// demo.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
	"unicode/utf8"

	"dialoog/apperr"
	"dialoog/auth"
	"dialoog/config"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	// The first signal stops gracefully, which may wait for requests
	// under way; from then on the signals have their default effect, so
	// that a second one ends the process at once.
	context.AfterFunc(ctx, stop)
	code := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

const usage = `Usage: dialoog [flags] [serve | invite --email E [--internal] [--admin] [--org NAME] [--lang nl|en] | migrate | terms publish FILE [--en FILE] | demo | team create|add|remove|medical ...]

Flags override the DIALOOG_* environment variables of the same name:
`

// loadArgs is config.Load with the answer to a refusal: the usage for
// --help (exit code 0), the error otherwise (2); ok is false then.
func loadArgs(getenv func(string) string, args []string, stderr io.Writer) (cfg *config.Config, rest []string, code int, ok bool) {
	cfg, rest, err := config.Load(getenv, args, stderr)
	switch {
	case err == nil:
		return cfg, rest, 0, true
	case errors.Is(err, flag.ErrHelp):
		fmt.Fprint(stderr, usage)
		return nil, nil, 0, false
	default:
		fmt.Fprintln(stderr, err)
		return nil, nil, 2, false
	}
}

// run is main without process globals, so tests can call it.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	cfg, rest, code, ok := loadArgs(getenv, args, stderr)
	if !ok {
		return code
	}
	var err error
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	cmd := "serve"
	if len(rest) > 0 {
		cmd, rest = rest[0], rest[1:]
	}
	if (cmd == "serve" || cmd == "migrate") && len(rest) > 0 {
		// These commands have no flags of their own: what follows them is
		// the configuration's flags ("dialoog migrate --database-url ..."),
		// which must not be ignored while the command runs against the
		// default database.
		global := args[:len(args)-len(rest)-1]
		if cfg, rest, code, ok = loadArgs(getenv, append(append([]string{}, global...), rest...), stderr); !ok {
			return code
		}
		if len(rest) > 0 {
			fmt.Fprintf(stderr, "dialoog: %s: unexpected argument %q (flags go before or after the command, e.g. dialoog %s --addr :8080)\n", cmd, rest[0], cmd)
			return 2
		}
	}
	switch cmd {
	case "serve":
		err = serve(ctx, cfg, log, stdout)
	case "invite":
		err = invite(ctx, cfg, log, rest, stdout, stderr)
	case "migrate":
		err = migrate(ctx, cfg, stdout)
	case "terms":
		err = terms(ctx, cfg, rest, stdout, stderr)
	case "demo":
		err = demo(ctx, cfg, log, rest, stdout, stderr)
	case "team":
		err = team(ctx, cfg, log, rest, stdout, stderr)
	case "sso":
		err = ssoCommand(ctx, cfg, log, rest, getenv, os.Stdin, stdout, stderr)
	default:
		fmt.Fprintf(stderr, "dialoog: unknown command %q\n\n%s", cmd, usage)
		return 2
	}
	if err != nil {
		var usageErr usageError
		if errors.As(err, &usageErr) {
			fmt.Fprintln(stderr, "dialoog:", err)
			return 2
		}
		if e, ok := apperr.As(err); ok && e.Code != apperr.Internal {
			fmt.Fprintln(stderr, "dialoog:", cliMessage(e))
			return 2
		}
		fmt.Fprintln(stderr, "dialoog:", err)
		return 1
	}
	return 0
}

type usageError string

func (e usageError) Error() string { return string(e) }

// cliMessage turns a user-facing error into an English sentence for the
// terminal.
func cliMessage(e *apperr.Error) string {
	switch e.Key {
	case "email.required":
		return "--email is required"
	case "email.invalid":
		return "that is not a valid mail address (use name@example.nl)"
	case "invite.already_active":
		return "this person has already signed up; they can log in with their mail address"
	case "invite.disabled":
		return "this account is disabled"
	case "invite.other_kind":
		return "this address was already invited as an external user or by another organisation; it cannot be invited as a colleague of this organisation"
	case "org.not_found":
		return "no such organisation"
	case "terms.empty":
		return "the terms file is empty"
	case "terms.too_long":
		return "the terms file is too long"
	case "team.name_required":
		return "the team needs a name"
	case "team.name_too_long":
		return "the team's name is too long"
	case "team.exists":
		return "the organisation already has a team of that name"
	case "team.not_found":
		return "no such team in this organisation"
	case "team.already_member":
		return "this person is already a member of the team"
	case "team.not_member":
		return "this person is not a member of the team"
	case "team.member_unknown":
		return "nobody has this mail address; invite them first with dialoog invite --internal"
	case "team.member_not_internal":
		return "only internal users of the team's organisation can be members"
	case "sso.issuer.invalid":
		return "--issuer must be the provider's issuer URL (https://...)"
	case "sso.issuer.https":
		return "--issuer must use https (http only for a provider on this machine)"
	case "sso.issuer.network":
		return "--issuer is an address of the server's own network that no provider uses (link-local, a cloud metadata service's)"
	case "sso.issuer.network_limited":
		return "--issuer is a non-public address outside DIALOOG_SSO_NETWORKS"
	case "sso.client_id.invalid":
		return "--client-id is required (at most 255 characters)"
	case "sso.client_secret.required":
		return "the client secret is required the first time (DIALOOG_SSO_CLIENT_SECRET or stdin)"
	case "sso.client_secret.invalid":
		return "the client secret is too long"
	case "sso.domains.required":
		return "--domains needs at least one mail domain"
	case "sso.domains.invalid":
		return "--domains holds something that is not a mail domain (use example.nl)"
	case "sso.domains.taken":
		return "one of the domains already leads to another organisation's provider"
	case "demo.not_empty":
		return "this database already has other people; dialoog demo only fills a new one (use an empty DIALOOG_DATA_DIR)"
	}
	return e.Key
}

func migrate(ctx context.Context, cfg *config.Config, stdout io.Writer) error {
	app, err := openApp(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		return err
	}
	defer app.Close()
	if len(app.migrated) == 0 {
		fmt.Fprintln(stdout, "database is up to date")
	}
	for _, v := range app.migrated {
		fmt.Fprintln(stdout, "applied", v)
	}
	return nil
}

func invite(ctx context.Context, cfg *config.Config, log *slog.Logger, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("invite", flag.ContinueOnError)
	fs.SetOutput(stderr)
	email := fs.String("email", "", "mail address of the person to invite")
	internal := fs.Bool("internal", false, "invite a colleague (internal user) of the organisation")
	admin := fs.Bool("admin", false, "make the internal user an admin (implies --internal)")
	orgName := fs.String("org", cfg.OrgName, "organisation that invites")
	lang := fs.String("lang", "nl", "language of the invitation and the account: nl or en")
	if err := fs.Parse(args); err != nil {
		return usageError(err.Error())
	}
	if fs.NArg() > 0 {
		return usageError(fmt.Sprintf("unexpected argument %q", fs.Arg(0)))
	}
	if *lang != "nl" && *lang != "en" {
		return usageError("--lang must be nl or en")
	}
	// Validate before touching the database: bad input stores nothing.
	if _, err := auth.NormalizeEmail(*email); err != nil {
		return err
	}
	app, err := openApp(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer app.Close()
	if err := app.bootstrap(ctx, stdout); err != nil {
		return err
	}
	org, err := auth.OrganisationByName(ctx, app.db, *orgName)
	if err != nil {
		return apperr.New(apperr.NotFound, "org.not_found")
	}
	link, user, err := app.invitations.Invite(ctx, auth.InviteInput{Email: *email, OrgID: org.ID, Internal: *internal, Admin: *admin, Language: *lang})
	if err != nil {
		return err
	}
	// Only queued: the outbox worker of a running server sends it within
	// seconds, so the command never waits for the SMTP server.
	fmt.Fprintf(stdout, "Invitation queued for %s (%s). Sign-up link:\n%s\n", user.Email, org.Name, link)
	fmt.Fprintln(stdout, "A running Dialoog server sends the mail.")
	return nil
}

// terms publishes a new version of the terms of use from text files; every
// user accepts it at their next login.
func terms(ctx context.Context, cfg *config.Config, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "publish" {
		return usageError("usage: dialoog terms publish FILE [--en FILE]")
	}
	fs := flag.NewFlagSet("terms publish", flag.ContinueOnError)
	fs.SetOutput(stderr)
	en := fs.String("en", "", "file with the English text")
	var file string
	rest := args[1:]
	if len(rest) > 0 && !strings.HasPrefix(rest[0], "-") {
		file, rest = rest[0], rest[1:]
	}
	if err := fs.Parse(rest); err != nil {
		return usageError(err.Error())
	}
	if file == "" && fs.NArg() == 1 {
		file = fs.Arg(0)
	}
	if file == "" {
		return usageError("usage: dialoog terms publish FILE [--en FILE]")
	}
	nl, err := os.ReadFile(file)
	if err != nil {
		return usageError(fmt.Sprintf("read %s: %v", file, err))
	}
	var enText []byte
	if *en != "" {
		if enText, err = os.ReadFile(*en); err != nil {
			return usageError(fmt.Sprintf("read %s: %v", *en, err))
		}
	}
	if !utf8.Valid(nl) || !utf8.Valid(enText) {
		return usageError("terms files must be UTF-8 text")
	}
	app, err := openApp(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		return err
	}
	defer app.Close()
	if err := auth.EnsureTerms(ctx, app.db, time.Now); err != nil {
		return err
	}
	t, err := auth.PublishTerms(ctx, app.db, string(nl), string(enText), nil, time.Now)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Published terms version %d; everyone accepts it at their next login.\n", t.Version)
	return nil
}
