package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"dialoog/auth"
	"dialoog/blob"
	"dialoog/components"
	"dialoog/config"
	"dialoog/db"
	"dialoog/handlers"
	"dialoog/messaging"
	"dialoog/notify"
	"dialoog/realtime"
	"dialoog/vault"
)

// realServer is the application's own /ws endpoint, wired as serve wires
// it (app.go): the session middleware and guard, the hub, the broker
// (in-process, or PostgreSQL LISTEN/NOTIFY with -database), the relay and
// LiveRenderer, and the messaging service publishing to the broker. A push
// is a real reply POST to /berichten/:id; its fragment reaches both
// participants' sockets.
type realServer struct {
	dir     string
	d       *db.DB
	hub     *realtime.Hub
	broker  realtime.Broker
	relay   func()
	base    *url.URL
	tokens  []string // session of connection i's user
	csrf    string   // double-submit token every sender uses
	threads []int64  // thread k between the users of connections 2k and 2k+1
	client  *http.Client
	cookie  string // name of the session cookie
	// dropSchema removes the PostgreSQL schema of the run, if any.
	dropSchema func()
}

// realThreads bounds the conversations the push path replies in: enough
// that pushes spread over many users, few enough to set up quickly.
const realThreads = 500

func startReal(ctx context.Context, n int, cfg runConfig) (*server, error) {
	quiet := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	dir, err := os.MkdirTemp("", "wsload-real-")
	if err != nil {
		return nil, err
	}
	rs := &realServer{dir: dir}
	fail := func(err error) (*server, error) {
		rs.close()
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fail(err)
	}
	rs.base = &url.URL{Scheme: "http", Host: ln.Addr().String()}
	conf := &config.Config{Addr: ln.Addr().String(), BaseURL: rs.base, DataDir: dir, OrgName: "Bench",
		DatabaseURL: cfg.database}

	v, err := vault.New(make([]byte, 32))
	if err != nil {
		return fail(err)
	}
	dsn := cfg.database
	if dsn != "" {
		if dsn, err = rs.freshSchema(ctx, dsn); err != nil {
			return fail(err)
		}
		conf.DatabaseURL = dsn
	}
	if rs.d, err = db.Open(ctx, dsn, dir); err != nil {
		return fail(err)
	}
	if _, err := rs.d.Migrate(ctx); err != nil {
		return fail(err)
	}
	now := time.Now
	sessions := &auth.Sessions{DB: rs.d, Now: now}
	limiter := &auth.Limiter{DB: rs.d, Now: now}
	inv := &auth.Invitations{DB: rs.d, Outbox: notify.NewOutbox(v), Mail: benchMail{}, Sessions: sessions,
		Limiter: limiter, BaseURL: rs.base, Now: now, Log: quiet}
	acc := &auth.Accounts{DB: rs.d, Vault: v, Outbox: notify.NewOutbox(v), Sessions: sessions, Limiter: limiter,
		Now: now, Log: quiet, SMSText: func(_, code string) string { return code }}
	msgs := &messaging.Service{
		DB: rs.d, Vault: v, Files: &messaging.Files{Store: &blob.Dir{Root: filepath.Join(dir, "attachments")}, Vault: v},
		Outbox: notify.NewOutbox(v), Invitations: inv, Mail: benchMail{}, BaseURL: rs.base.String(), Now: now,
		Log: quiet,
	}
	if err := auth.EnsureTerms(ctx, rs.d, now); err != nil {
		return fail(err)
	}
	org, _, err := auth.Bootstrap(ctx, inv, "Bench")
	if err != nil {
		return fail(err)
	}
	start := time.Now()
	if err := rs.seed(ctx, sessions, msgs, org, n); err != nil {
		return fail(fmt.Errorf("seed %d users: %w", n, err))
	}
	fmt.Fprintf(os.Stderr, "wsload: real: %d users with sessions and %d conversations in %v\n", n, len(rs.threads),
		time.Since(start).Round(time.Millisecond))
	// The pool as serve starts it (on PostgreSQL all its connections, the
	// fixed statements prepared on each); DIALOOG_BENCH_COLD=1 leaves it
	// to grow on demand, as before, for comparison.
	if os.Getenv("DIALOOG_BENCH_COLD") == "" {
		if err := rs.d.Warm(ctx); err != nil {
			return fail(err)
		}
	}

	// The live layer, as app.go's startLive.
	if dsn != "" {
		pb, err := realtime.NewPostgresBroker(ctx, dsn, quiet)
		if err != nil {
			return fail(err)
		}
		rs.broker = pb
	} else {
		rs.broker = realtime.NewLocalBroker()
	}
	rs.hub = realtime.NewHub(realtime.HubOptions{}, quiet)
	rs.relay = realtime.Relay(context.Background(), rs.broker, rs.hub, handlers.LiveRenderer(msgs, now), quiet)
	msgs.Events = handlers.LiveEvents{Broker: rs.broker}

	app := handlers.New(handlers.Deps{
		Config: conf, Logger: quiet, Health: rs.d,
		Invitations: unusedInvitations{}, Accounts: acc, Sessions: sessions, Terms: unusedTerms{},
		Messages: msgs, Hub: rs.hub, Live: rs.broker,
	})
	// Idle fasthttp workers go away sooner, so that the idle figure is
	// taken sooner; it does not change what a connection keeps.
	app.Server().MaxIdleWorkerDuration = 500 * time.Millisecond
	go func() { _ = app.Listener(ln) }()
	rs.cookie = handlers.SessionCookieName(conf)
	rs.client = &http.Client{
		Timeout:       30 * time.Second,
		Transport:     &http.Transport{MaxIdleConnsPerHost: 256},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	tokens := filepath.Join(dir, "tokens")
	if err := os.WriteFile(tokens, []byte(strings.Join(rs.tokens, "\n")+"\n"), 0o600); err != nil {
		return fail(err)
	}
	bodyLen := cfg.body
	return &server{
		app: app, addr: ln.Addr().String(), count: rs.hub.Count, perConn: 1, recipients: 2, real: rs,
		push: func(at time.Time, k, _ int) error { return rs.push(at, k, bodyLen) },
		clientArgs: []string{"-tokens", tokens, "-cookie", rs.cookie, "-origin",
			rs.base.Scheme + "://" + rs.base.Host},
		stop: func(ctx context.Context) error {
			err := rs.hub.Shutdown(ctx)
			_ = app.ShutdownWithTimeout(5 * time.Second)
			rs.close()
			return err
		},
	}, nil
}

// seed stores n users who finished the first visit (as the handlers'
// tests do: terms accepted, a verified factor, a profile), a session past
// the second factor for each, and conversations between the users of
// connections 2k (internal) and 2k+1 (external).
func (rs *realServer) seed(ctx context.Context, sessions *auth.Sessions, msgs *messaging.Service, org *db.Organisation, n int) error {
	now := time.Now().UTC()
	done := bun.NullTime{Time: now}
	users := make([]*db.User, n)
	for i := range users {
		u := &db.User{Email: fmt.Sprintf("wsload-%d@example.nl", i), Kind: db.KindExternal, Status: db.StatusActive,
			Language: "nl", Gender: "unknown", Initials: "W.", FirstName: "Gebruiker", LastName: strconv.Itoa(i),
			SecondFactorDoneAt: done, RecoveryConfirmedAt: done,
			ProfileCompletedAt: done, LastLoginAt: done, CreatedAt: now, UpdatedAt: now}
		if i%2 == 0 {
			u.Kind, u.OrgID = db.KindInternal, &org.ID
		}
		users[i] = u
	}
	terms, err := auth.CurrentTerms(ctx, rs.d)
	if err != nil {
		return err
	}
	rs.tokens = make([]string, n)
	err = rs.d.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		for lo := 0; lo < n; lo += 500 {
			chunk := users[lo:min(lo+500, n)]
			if _, err := tx.NewInsert().Model(&chunk).Exec(ctx); err != nil {
				return fmt.Errorf("insert users: %w", err)
			}
			if _, err := tx.NewUpdate().Model((*db.Password)(nil)).Set("password_hash = ?", "not used by the bench").
				Where("id IN (?)", bun.In(ids(chunk))).Exec(ctx); err != nil {
				return fmt.Errorf("set passwords: %w", err)
			}
			var accepted []db.TermsAcceptance
			var factors []db.SecondFactor
			for _, u := range chunk {
				if u.ID == 0 {
					return errors.New("insert users: no ids returned")
				}
				accepted = append(accepted, db.TermsAcceptance{UserID: u.ID, TermsVersionID: terms.ID, IP: "127.0.0.1", AcceptedAt: now})
				factors = append(factors, db.SecondFactor{UserID: u.ID, Kind: db.FactorSMS, Phone: "+31612345678", VerifiedAt: done, CreatedAt: now})
			}
			if _, err := tx.NewInsert().Model(&accepted).Exec(ctx); err != nil {
				return fmt.Errorf("insert terms acceptances: %w", err)
			}
			if _, err := tx.NewInsert().Model(&factors).Exec(ctx); err != nil {
				return fmt.Errorf("insert factors: %w", err)
			}
		}
		for i, u := range users {
			token, err := sessions.Create(ctx, tx, u.ID, "127.0.0.1", "wsload")
			if err != nil {
				return err
			}
			rs.tokens[i] = token
		}
		_, err := tx.NewUpdate().Model((*db.Session)(nil)).Set("second_factor_at = ?", now).
			Where("second_factor_at IS NULL").Exec(ctx)
		return err
	})
	if err != nil {
		return err
	}
	for k := 0; k < min(realThreads, n/2); k++ {
		id, err := msgs.Compose(ctx, users[2*k].Identity(), messaging.ComposeInput{
			To: []string{users[2*k+1].Email}, Subject: fmt.Sprintf("Gesprek %d", k), Body: "Eerste bericht."})
		if err != nil {
			return fmt.Errorf("compose: %w", err)
		}
		rs.threads = append(rs.threads, id)
	}
	rs.csrf = strings.Repeat("A", 43) // any well-formed token: double submit
	return nil
}

// push posts a reply from the internal user of thread k%len(threads), as
// the reply form does (session and CSRF cookies, the CSRF field), whose
// body carries the scheduled time.
func (rs *realServer) push(at time.Time, k int, size int) error {
	if len(rs.threads) == 0 {
		return errors.New("no conversations to reply in")
	}
	t := k % len(rs.threads)
	body := url.Values{"_csrf": {rs.csrf}, "body": {padded(at, size)}}.Encode()
	req, err := http.NewRequest(http.MethodPost, rs.base.String()+components.ThreadURL(rs.threads[t]), strings.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", rs.base.Scheme+"://"+rs.base.Host)
	req.AddCookie(&http.Cookie{Name: rs.cookie, Value: rs.tokens[2*t]})
	req.AddCookie(&http.Cookie{Name: "dialoog_csrf", Value: rs.csrf})
	resp, err := rs.client.Do(req)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		return fmt.Errorf("reply POST: %s", resp.Status)
	}
	return nil
}

// padded is a message body: the marker and the scheduled time, then text
// up to size bytes.
func padded(at time.Time, size int) string {
	b := []byte(marker + strconv.FormatInt(at.UnixNano(), 10) + " ")
	for len(b) < size {
		b = append(b, "Bericht "...)
	}
	return string(b[:max(size, len(marker)+20)])
}

// freshSchema creates a schema of its own in the PostgreSQL database of
// dsn, dropped by close, and returns the URL that selects it.
func (rs *realServer) freshSchema(ctx context.Context, dsn string) (string, error) {
	admin, err := db.OpenPostgres(ctx, dsn)
	if err != nil {
		return "", err
	}
	schema := fmt.Sprintf("wsload_%d_%d", os.Getpid(), time.Now().UnixNano()%1_000_000)
	if _, err := admin.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		admin.Close()
		return "", fmt.Errorf("create schema: %w", err)
	}
	rs.dropSchema = func() {
		_, _ = admin.ExecContext(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
		admin.Close()
	}
	sep := "?"
	if strings.Contains(dsn, "?") {
		sep = "&"
	}
	return dsn + sep + "search_path=" + schema, nil
}

func (rs *realServer) close() {
	if rs.relay != nil {
		rs.relay()
	}
	if rs.broker != nil {
		_ = rs.broker.Close()
	}
	if rs.d != nil {
		_ = rs.d.Close()
	}
	if rs.dropSchema != nil {
		rs.dropSchema()
	}
	_ = os.RemoveAll(rs.dir)
}

// benchMail renders every mail as a line of text; the bench sends none.
type benchMail struct{}

func (benchMail) InvitationMail(_, _, link, _ string) (notify.Mail, error) {
	return notify.Mail{Subject: "Uitnodiging", Text: link}, nil
}

func (benchMail) NewMessageMail(_, _, link string) (notify.Mail, error) {
	return notify.Mail{Subject: "Nieuw bericht", Text: link}, nil
}

var errUnused = errors.New("wsload: not used by the bench")

type unusedInvitations struct{}

func (unusedInvitations) Check(context.Context, string) (handlers.InvitationInfo, error) {
	return handlers.InvitationInfo{}, errUnused
}

func (unusedInvitations) IsFor(context.Context, string, int64) (bool, error) { return false, errUnused }

func (unusedInvitations) Accept(context.Context, string, string, string, string) (string, string, error) {
	return "", "", errUnused
}

func (unusedInvitations) RequestNewLink(context.Context, string, string, string) error {
	return errUnused
}

type unusedTerms struct{}

func (unusedTerms) Current(context.Context) (handlers.TermsVersion, error) {
	return handlers.TermsVersion{}, errUnused
}

func (unusedTerms) Version(context.Context, int) (handlers.TermsVersion, error) {
	return handlers.TermsVersion{}, errUnused
}

func (unusedTerms) Publish(context.Context, *auth.Current, string, string) (handlers.TermsVersion, error) {
	return handlers.TermsVersion{}, errUnused
}

func (unusedTerms) Shared(context.Context) (bool, error) { return false, errUnused }

// ids are the ids of users.
func ids(users []*db.User) []int64 {
	out := make([]int64, len(users))
	for i, u := range users {
		out[i] = u.ID
	}
	return out
}
