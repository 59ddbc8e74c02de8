package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/uptrace/bun"

	"dialoog/auth"
	"dialoog/components"
	"dialoog/config"
	"dialoog/db"
	"dialoog/handlers"
	"dialoog/messaging"
	"dialoog/metrics"
	"dialoog/notify"
	"dialoog/realtime"
	"dialoog/seal"
	"dialoog/signing"
	"dialoog/vault"
)

// app holds the services of one process, wired from the configuration.
type app struct {
	cfg         *config.Config
	log         *slog.Logger
	db          *db.DB
	vault       *vault.Vault
	worker      *notify.Worker
	requests    *auth.MailRequests
	invitations *auth.Invitations
	accounts    *auth.Accounts
	sessions    *auth.Sessions
	messages    *messaging.Service
	signing     *signing.Service // nil while Ondertekenen has no sealer
	sso         *auth.SSO
	migrated    []string
	metrics     *metrics.Metrics // nil unless DIALOOG_METRICS_ADDR is set
	seals       *seal.Store
}

func openApp(ctx context.Context, cfg *config.Config, log *slog.Logger) (*app, error) {
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("create data dir %s (DIALOOG_DATA_DIR): %w", cfg.DataDir, err)
	}
	d, err := db.Open(ctx, cfg.DatabaseURL, cfg.DataDir)
	if err != nil {
		if cfg.Postgres() {
			// The driver's message shows the URL without its password.
			return nil, fmt.Errorf("DIALOOG_DATABASE_URL: %w", err)
		}
		return nil, err
	}
	d.MigrationWait = func() {
		log.Info("waiting for another instance to finish migrating the database")
	}
	migrated, err := d.Migrate(ctx)
	if err != nil {
		d.Close()
		return nil, err
	}
	// The key is checked against the database before anything is
	// sealed with it.
	v, err := openVault(ctx, cfg, d)
	if err != nil {
		d.Close()
		return nil, err
	}
	// Rows from before migration 0008 get their names and absence messages
	// sealed (a no-op once done).
	if err := messaging.SealLegacyAttachments(ctx, d, v); err != nil {
		d.Close()
		return nil, err
	}
	if err := auth.SealLegacyAway(ctx, d, v); err != nil {
		d.Close()
		return nil, err
	}
	// Recovery codes stored before migration 0014 as a plain SHA-256 get
	// their keyed MAC, which needs the key the migrations do not have.
	if n, err := auth.UpgradeRecoveryCodes(ctx, d, v); err != nil {
		d.Close()
		return nil, err
	} else if n > 0 {
		log.Info("recovery codes converted to a keyed hash", "count", n)
	}
	mailer, err := notify.NewMailer(cfg.SMTPURL, cfg.MailFrom)
	if err != nil {
		d.Close()
		return nil, fmt.Errorf("DIALOOG_SMTP_URL: %w", err)
	}
	sms, err := notify.NewSMSSender(cfg.SMSURL, nil)
	if err != nil {
		d.Close()
		return nil, fmt.Errorf("DIALOOG_SMS_URL: %w", err)
	}
	files, err := openFiles(ctx, cfg, d, v, log)
	if err != nil {
		d.Close()
		return nil, err
	}
	vapid, err := openVAPID(ctx, cfg, d, log)
	if err != nil {
		d.Close()
		return nil, err
	}
	now := func() time.Time { return time.Now() }
	seals, err := openSeals(cfg, d, v, now, log)
	if err != nil {
		d.Close()
		return nil, err
	}
	worker := notify.NewWorker(d, v, mailer, sms, log.With("component", "outbox"), notify.WorkerOptions{
		Now: now,
		// A development server listens on loopback only, and may push to
		// a push service on the same machine (e2e/push_test.go).
		Push: &notify.WebPush{DB: d, Vault: v, Keys: vapid, Loopback: cfg.Dev},
		NoticeWanted: func(ctx context.Context, n notify.Notice) (bool, error) {
			return messaging.NoticeWanted(ctx, d, n)
		},
	})
	sessions := &auth.Sessions{DB: d, Now: now}
	limiter := &auth.Limiter{DB: d, Now: now}
	requests := auth.NewMailRequests()
	inv := &auth.Invitations{
		DB: d, Outbox: notify.NewOutbox(v).WithClock(now), Mail: mailRenderer{}, Sessions: sessions,
		Limiter: limiter, BaseURL: cfg.BaseURL, Now: now, Log: log, Queued: worker.Kick, Requested: requests.Kick,
	}
	host := cfg.BaseURL.Hostname()
	accounts := &auth.Accounts{
		DB: d, Vault: v, Outbox: notify.NewOutbox(v).WithClock(now), Sessions: sessions, Limiter: limiter, Now: now, Log: log,
		SMSText:   func(lang, code string) string { return components.SMSCodeText(lang, host, code) },
		Queued:    worker.Kick,
		BaseURL:   cfg.BaseURL.String(),
		ResetMail: mailRenderer{},
		Requested: requests.Kick,
		Mail:      mailRenderer{},

		VAPIDPublic:  vapid.Public,
		PushLoopback: cfg.Dev,
	}
	requests.DB, requests.Accounts, requests.Invitations = d, accounts, inv
	requests.Log = log.With("component", "mail-requests")
	messages := &messaging.Service{
		DB: d, Vault: v,
		Files:  files,
		Outbox: notify.NewOutbox(v).WithClock(now), Invitations: inv, Mail: mailRenderer{}, Summary: mailRenderer{},
		BaseURL: cfg.BaseURL.String(), Now: now, Log: log.With("component", "messaging"),
		Queued: worker.Kick, NotifyDelay: cfg.NotifyDelay,
		// Events is set by serve, which runs the live layer (realtime): it
		// is the one place that layer plugs into the messaging rules. The
		// CLI commands publish nothing.
		Events: nil,
	}
	sso := &auth.SSO{Accounts: accounts, RedirectURL: strings.TrimRight(cfg.BaseURL.String(), "/") + auth.PathSSOCallback,
		Networks: cfg.SSONetworks}
	a := &app{cfg: cfg, log: log, db: d, vault: v, worker: worker, requests: requests, invitations: inv, accounts: accounts, sessions: sessions,
		messages: messages, sso: sso, migrated: migrated, seals: seals}
	if err := a.openSigning(ctx); err != nil {
		d.Close()
		return nil, err
	}
	return a, nil
}

// openSeals returns the sealer of signed agreements: with the certificate
// and key of DIALOOG_SEAL_CERT and DIALOOG_SEAL_KEY when set (read now, so
// that a wrong file stops the start, not the first seal), otherwise with
// each organisation's self-signed one.
func openSeals(cfg *config.Config, d *db.DB, v *vault.Vault, now func() time.Time, log *slog.Logger) (*seal.Store, error) {
	var kp *seal.KeyPair
	if cfg.SealCertFile != "" {
		var err error
		kp, err = seal.LoadKeyPair(cfg.SealCertFile, cfg.SealKeyFile)
		if err != nil {
			return nil, fmt.Errorf("DIALOOG_SEAL_CERT, DIALOOG_SEAL_KEY: %w", err)
		}
		if left := kp.Cert.NotAfter.Sub(now()); left < 30*24*time.Hour {
			log.Warn("the seal certificate (DIALOOG_SEAL_CERT) expires soon or has expired: seals made after it expires are not valid",
				"not_after", kp.Cert.NotAfter)
		}
	}
	return seal.NewStore(d, v, seal.Config{Configured: kp, Now: now}), nil
}

func (a *app) Close() error { return a.db.Close() }

// openVault returns the vault of the encryption key: DIALOOG_ENCRYPTION_KEY,
// or the key file in the data dir, generated on the first start only. A
// key that is not the one the database's data was sealed with (a lost or
// replaced key file, a changed variable) stops start-up: going on would
// seal new data under it and leave the old data unreadable.
func openVault(ctx context.Context, cfg *config.Config, d *db.DB) (*vault.Vault, error) {
	keyFile := filepath.Join(cfg.DataDir, vault.KeyFile)
	key := cfg.EncryptionKey
	source := "DIALOOG_ENCRYPTION_KEY"
	checked, err := d.HasKeyCheck(ctx)
	if err != nil {
		return nil, err
	}
	if key == nil {
		source = keyFile
		key, err = vault.LoadKey(cfg.DataDir)
		if errors.Is(err, os.ErrNotExist) {
			used := checked
			if !used {
				// A database from before the check (migration 0013)
				// may hold sealed data all the same: asked with a key
				// made for the purpose and thrown away, any sealed
				// value is found (and does not open).
				probe := make([]byte, 32)
				rand.Read(probe)
				pv, err := vault.New(probe)
				if err != nil {
					return nil, err
				}
				found, err := holdsSealed(ctx, d, pv)
				if err != nil && !found {
					return nil, err
				}
				used = found
			}
			if used {
				return nil, fmt.Errorf("the encryption key file %s is missing, but the database holds data sealed with a key: "+
					"restore that file (or set DIALOOG_ENCRYPTION_KEY to the key); a new key would leave the data unreadable", keyFile)
			}
			key, err = vault.CreateKey(cfg.DataDir)
		}
		if err != nil {
			return nil, err
		}
	}
	v, err := vault.New(key)
	if err != nil {
		return nil, err
	}
	if !checked {
		// No check value stored: a new database, or one from before
		// migration 0013 whose data CheckKey would take the key in use
		// for. It must open what is already sealed first; otherwise the
		// check of a wrong key would be stored and new data sealed with
		// it, beside old data it cannot open.
		if found, err := holdsSealed(ctx, d, v); err != nil {
			if !found {
				return nil, err
			}
			return nil, fmt.Errorf("the encryption key from %s does not match the database: %w (%w); restore the original key", source, db.ErrKeyMismatch, err)
		}
	}
	if err := d.CheckKey(ctx, v.KeyID(), v.KeyCheck(), time.Now()); err != nil {
		if errors.Is(err, db.ErrKeyMismatch) {
			return nil, fmt.Errorf("the encryption key from %s does not match the database: %w; restore the original key", source, err)
		}
		return nil, err
	}
	return v, nil
}

// holdsSealed opens with v a sample of the data already sealed in the
// database, for a start on a database without a stored key check: the
// newest message body, or when there is none the newest linked
// authenticator app's secret (kinds that every version sealed the same
// way). found reports whether there is any; err is the opening error when
// found (v is not the key it was sealed with), a reading error otherwise.
func holdsSealed(ctx context.Context, d *db.DB, v *vault.Vault) (found bool, err error) {
	for _, open := range []func(context.Context, bun.IDB, *vault.Vault) (bool, error){messaging.OpenNewestBody, auth.OpenNewestTOTPSecret} {
		ok, err := open(ctx, d, v)
		if ok || err != nil {
			return ok, err
		}
	}
	return false, nil
}

// openVAPID returns the Web Push key pair: DIALOOG_VAPID_PRIVATE_KEY, or
// the key file in the data dir, generated on the first start. A new pair
// loses only the browsers' subscriptions made with the old one: they are
// dropped here (their push services would refuse the new signature), and
// people switch notifications on again.
func openVAPID(ctx context.Context, cfg *config.Config, d *db.DB, log *slog.Logger) (notify.VAPID, error) {
	keys := notify.VAPID{Private: cfg.VAPIDPrivateKey, Subject: cfg.VAPIDSubject}
	var err error
	if keys.Private != "" {
		keys.Public, err = notify.VAPIDPublic(keys.Private)
		if err != nil {
			return keys, fmt.Errorf("DIALOOG_VAPID_PRIVATE_KEY: %w", err)
		}
	} else if keys.Private, keys.Public, err = notify.LoadOrCreateVAPID(cfg.DataDir); err != nil {
		return keys, err
	}
	n, err := notify.DropStalePush(ctx, d, keys.Public)
	if err != nil {
		return keys, err
	}
	if n > 0 {
		log.Warn("the VAPID key changed: push subscriptions made with the old key were removed", "count", n)
	}
	return keys, nil
}

// bootstrap creates the organisation on first start and prints the link
// with which the first admin's mail address is chosen.
func (a *app) bootstrap(ctx context.Context, out io.Writer) error {
	if err := auth.EnsureTerms(ctx, a.db, time.Now); err != nil {
		return err
	}
	_, link, err := auth.Bootstrap(ctx, a.invitations, a.cfg.OrgName)
	if err != nil {
		return err
	}
	if link != "" {
		fmt.Fprintf(out, "Created organisation %q. Open this link to choose the mail address of its first admin (it works once, for %d days):\n%s\n",
			a.cfg.OrgName, int(auth.SetupTTL.Hours()/24), link)
	}
	return nil
}

func serve(ctx context.Context, cfg *config.Config, log *slog.Logger, stdout io.Writer) error {
	// The address is taken first: while the process starts (migrations,
	// the conversions at start, perhaps waiting for another instance's
	// migration) it answers /healthz, and 503 to everything else.
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s (DIALOOG_ADDR): %w", cfg.Addr, err)
	}
	starting := serveStarting(ln, log)
	started := false
	defer func() {
		if !started {
			starting.stop()
			ln.Close()
		}
	}()
	a, err := openApp(ctx, cfg, log)
	if err != nil {
		if ctx.Err() != nil {
			// Told to stop while starting (waiting for another instance's
			// migration, say): a stop, not a failure; a migration under
			// way rolled back.
			log.Info("stopped while starting", "err", err)
			return nil
		}
		return err
	}
	defer a.Close()
	if err := a.bootstrap(ctx, stdout); err != nil {
		return err
	}
	// On PostgreSQL the pool opens all its connections before the first
	// request, and prepares the fixed statements on each (see db.Warm).
	if err := a.db.Warm(ctx); err != nil {
		log.Warn("the database pool is below its size", "err", err)
	}
	if err := a.enableMetrics(); err != nil {
		return err
	}
	live, err := a.startLive(ctx)
	if err != nil {
		return err
	}
	// Passkeys belong to the base URL's host (the relying party's id) and
	// its origin; a base URL with an IP address has none.
	var passkeys handlers.Passkeys
	switch pk, err := auth.NewPasskeys(a.accounts, cfg.BaseURL.String(), "Dialoog"); {
	case errors.Is(err, auth.ErrPasskeysNeedDomain):
		log.Info("passkeys are off: the base URL's host is an IP address", "base_url", cfg.BaseURL.String())
	case err != nil:
		live.stop()
		return fmt.Errorf("DIALOOG_BASE_URL: %w", err)
	default:
		passkeys = pk
	}
	web := handlers.New(handlers.Deps{
		Config:      cfg,
		Logger:      log,
		Health:      a.db,
		Files:       a.messages.Files,
		Invitations: invitationsAdapter{a.invitations},
		Accounts:    a.accounts,
		Sessions:    a.sessions,
		Terms:       termsStore{a.db, time.Now},
		Messages:    a.messages,
		DevOutbox:   devOutbox{a.db, a.vault},
		Hub:         live.hub,
		Live:        live.broker,
		Metrics:     a.requestMetrics(),
		FirstAdmin:  a.invitations,
		Admin:       &auth.Admin{Accounts: a.accounts, Invitations: a.invitations, HelpdeskMail: mailRenderer{}, Teams: a.messages},
		Branding:    &auth.Branding{DB: a.db, Now: time.Now},
		Signing:     a.signingDeps(),
		SSO:         a.sso,
		Seals:       a.seals,
		Passkeys:    passkeys,
		Stopping:    ctx.Done(),
	})
	stopMetrics, err := a.serveMetrics(live.hub)
	if err != nil {
		live.stop()
		return err
	}
	// From here on the listener is the web server's.
	starting.stop()
	started = true
	defer stopMetrics() // last: scrapes still answer while the rest drains
	workerCtx, stopWorker := context.WithCancel(context.WithoutCancel(ctx))
	workerDone := make(chan struct{})
	go func() {
		defer close(workerDone)
		if err := a.worker.Run(workerCtx); err != nil && !errors.Is(err, context.Canceled) {
			log.Error("outbox worker stopped", "err", err)
		}
	}()
	requestsDone := make(chan struct{})
	go func() {
		defer close(requestsDone)
		if err := a.requests.Run(workerCtx); err != nil && !errors.Is(err, context.Canceled) {
			log.Error("mail request worker stopped", "err", err)
		}
	}()
	janitorCtx, stopJanitor := context.WithCancel(context.WithoutCancel(ctx))
	janitorDone := make(chan struct{})
	go func() {
		defer close(janitorDone)
		summariesDone := make(chan struct{})
		go func() {
			defer close(summariesDone)
			a.sendDailySummaries(janitorCtx, summaryEvery)
		}()
		dailyDone := make(chan struct{})
		go func() {
			defer close(dailyDone)
			a.runDaily(janitorCtx, dailyEvery)
		}()
		signingDone := make(chan struct{})
		go func() {
			defer close(signingDone)
			a.runSigning(janitorCtx, signingEvery)
		}()
		a.moveSealedFiles(janitorCtx)
		a.purgeStaleUploads(janitorCtx, janitorEvery)
		<-summariesDone
		<-dailyDone
		<-signingDone
	}()
	serveErr := make(chan error, 1)
	go func() { serveErr <- web.Listener(ln) }()
	log.Info("dialoog listening", "addr", ln.Addr().String(), "base_url", cfg.BaseURL.String(), "postgres", cfg.Postgres(), "dev", cfg.Dev)
	if !cfg.Dev {
		// Without a transport the outbox marks mail and texts sent
		// without sending them; with the dev outbox off nobody sees them.
		if cfg.SMTPURL == nil {
			log.Warn("DIALOOG_SMTP_URL is not set: mail (invitations, resets, notifications) is not sent to anyone")
		}
		if cfg.SMSURL == nil {
			log.Warn("DIALOOG_SMS_URL is not set: text messages (login codes) are not sent to anyone")
		}
	}
	fmt.Fprintf(stdout, "Dialoog is running at %s\n", cfg.BaseURL)
	if cfg.Dev {
		fmt.Fprintf(stdout, "Dev outbox (the mail and texts Dialoog \"sent\"): %s/dev/outbox\n", cfg.BaseURL)
	}

	select {
	case <-ctx.Done():
		// /readyz answers 503 from now on (handlers.Deps.Stopping). For
		// the wait the instance still serves, live connections too, what
		// a load balancer sends until it has noticed; a second signal
		// ends the process at once.
		log.Info("shutting down: /readyz answers 503, the listener closes after the wait (DIALOOG_SHUTDOWN_WAIT)",
			"wait", cfg.ShutdownWait, "drain", cfg.ShutdownDrain)
		select {
		case <-time.After(cfg.ShutdownWait):
		case err = <-serveErr:
		}
	case err = <-serveErr:
	}
	// Live connections first: they get a close frame (1012, so browsers
	// reconnect, to another instance if there is one) and their handlers
	// return, so that the HTTP server does not wait for them. After the
	// wait, so that a browser does not reconnect to this instance.
	hubCtx, cancelHub := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	if hErr := live.hub.Shutdown(hubCtx); hErr != nil {
		log.Warn("live connections did not close in time", "err", hErr)
	}
	cancelHub()
	// The listener closes; requests under way (an upload, a download over
	// a slow line) get the drain to finish, then the process ends them.
	if sErr := web.ShutdownWithTimeout(cfg.ShutdownDrain); sErr != nil {
		log.Warn("requests under way were cut: DIALOOG_SHUTDOWN_DRAIN is over", "drain", cfg.ShutdownDrain, "err", sErr)
	}
	live.stop()
	stopWorker()
	stopJanitor()
	awaitStopped(log, workersStopWithin,
		stoppingWorker{"outbox worker", workerDone},
		stoppingWorker{"mail request worker", requestsDone},
		stoppingWorker{"upload janitor", janitorDone})
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	return nil
}

// workersStopWithin is how long the outbox worker, the mail request
// worker and the daily jobs get, together, to stop once the requests are
// done: they are told to stop at the same moment.
const workersStopWithin = 10 * time.Second

// stoppingWorker is a worker told to stop: its name in the log, and the
// channel closed when it has.
type stoppingWorker struct {
	name string
	done <-chan struct{}
}

// awaitStopped waits until each worker has stopped, all of them within
// one bound, and logs those that did not.
func awaitStopped(log *slog.Logger, within time.Duration, workers ...stoppingWorker) {
	deadline, cancel := context.WithTimeout(context.Background(), within)
	defer cancel()
	for _, w := range workers {
		select {
		case <-w.done:
			continue
		case <-deadline.Done():
		}
		select {
		case <-w.done: // stopped as the bound ran out
		default:
			log.Warn(w.name + " did not stop in time")
		}
	}
}

// liveLayer is the live-update machinery of one serving process.
type liveLayer struct {
	hub    *realtime.Hub
	broker realtime.Broker
	// stop ends the relay, the session sweep and the broker, in that
	// order; the hub is shut down before the HTTP server.
	stop func()
}

// startLive starts the live layer: the hub of this instance's connections,
// the broker (in-process with SQLite; PostgreSQL LISTEN/NOTIFY, shared by
// every instance, with PostgreSQL), the relay that renders each event for
// the connections here, and the sweep that closes the connections of
// sessions that expired or were ended in bulk. Messaging publishes its
// committed changes to the broker from now on.
func (a *app) startLive(ctx context.Context) (*liveLayer, error) {
	log := a.log.With("component", "live")
	var broker realtime.Broker
	if a.cfg.Postgres() {
		pb, err := realtime.NewPostgresBroker(ctx, a.cfg.DatabaseURL, log)
		if err != nil {
			return nil, fmt.Errorf("live updates over PostgreSQL: %w", err)
		}
		broker = pb
	} else {
		broker = realtime.NewLocalBroker()
	}
	hub := realtime.NewHub(realtime.HubOptions{}, log)
	relayCtx, cancelRelay := context.WithCancel(context.WithoutCancel(ctx))
	stopRelay := realtime.RelayWith(relayCtx, broker, hub, handlers.LiveRendererWith(a.messages, a.liveSigning(), time.Now), log, a.relayOptions())
	sweepDone := make(chan struct{})
	go func() {
		defer close(sweepDone)
		a.sweepLiveSessions(relayCtx, hub, liveSweepEvery)
	}()
	a.messages.Events = handlers.LiveEvents{Broker: broker, Log: log}
	a.accounts.SessionsEnded = handlers.LiveEvents{Broker: broker, Log: log}.SessionsEnded
	a.messages.SessionsEnded = a.accounts.SessionsEnded
	a.accounts.SessionRenewed = handlers.LiveEvents{Broker: broker, Log: log}.SessionRenewed
	return &liveLayer{hub: hub, broker: broker, stop: func() {
		// Publishing after this fails (and is logged): the HTTP server has
		// stopped by then.
		stopRelay()
		cancelRelay()
		<-sweepDone
		if err := broker.Close(); err != nil {
			log.Warn("close broker", "err", err)
		}
	}}, nil
}

// liveSweepEvery is how often the live connections of sessions that ended
// without a session-ended event are closed.
const liveSweepEvery = 30 * time.Second

// sweepLiveSessions closes, every interval, the live connections of
// sessions that are no longer valid although nobody published their end:
// idle or absolute expiry, a disabled user, a user whose stage went back
// (new terms published, factors removed), a session whose row is gone, or
// any whose end was published while this instance was not listening. Logout
// publishes its end and closes at once.
func (a *app) sweepLiveSessions(ctx context.Context, hub *realtime.Hub, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		ids, err := a.deadSessions(ctx, hub.SessionIDs(), time.Now().UTC())
		if err != nil {
			if ctx.Err() == nil {
				a.log.Warn("live: find ended sessions", "err", err)
			}
			continue
		}
		for _, id := range ids {
			hub.CloseSession(id)
		}
	}
}

// deadSessions returns those of the given sessions (the ones with a live
// connection here) that may no longer keep it (see auth.LiveSessions).
func (a *app) deadSessions(ctx context.Context, sessions []int64, now time.Time) ([]int64, error) {
	var dead []int64
	for chunk := range slices.Chunk(sessions, 500) {
		live, err := auth.LiveSessions(ctx, a.db, chunk, now)
		if err != nil {
			return nil, fmt.Errorf("ended sessions: %w", err)
		}
		ok := make(map[int64]bool, len(live))
		for _, id := range live {
			ok[id] = true
		}
		for _, id := range chunk {
			if !ok[id] {
				dead = append(dead, id)
			}
		}
	}
	return dead, nil
}

// janitorEvery is how often uploads that never got a message are deleted;
// they may wait messaging.StaleUpload.
const janitorEvery = time.Hour

// purgeStaleUploads deletes stale uploads, and refreshes SQLite's planner
// statistics, at start and then every interval until ctx ends.
func (a *app) purgeStaleUploads(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if err := a.db.Optimize(ctx); err != nil && ctx.Err() == nil {
			a.log.Warn("optimize database", "err", err)
		}
		n, err := a.messages.PurgeStaleUploads(ctx)
		switch {
		case err != nil && ctx.Err() == nil:
			a.log.Error("purge stale uploads", "err", err)
		case n > 0:
			a.log.Info("purged stale uploads", "count", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// summaryEvery is how often the daily summaries are looked for: the first
// look after 08:00 Dutch time sends the day's, later ones find them sent.
const summaryEvery = 5 * time.Minute

// sendDailySummaries queues the daily summary mails, at start and then
// every interval until ctx ends. Every instance runs it; each person is
// claimed by one of them.
func (a *app) sendDailySummaries(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		n, err := a.messages.SendDailySummaries(ctx)
		switch {
		case err != nil && ctx.Err() == nil:
			a.log.Error("daily summaries", "err", err)
		case n > 0:
			a.log.Info("daily summaries queued", "count", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// dailyEvery is how often the daily jobs (retention, cleanup) are looked
// for: the first look after 03:00 Dutch time runs the day's.
const dailyEvery = 5 * time.Minute

// runDaily runs the daily jobs that are due, at start and then every
// interval until ctx ends. Every instance runs it; each job is claimed by
// one of them. The jobs log their counts themselves.
func (a *app) runDaily(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if _, err := a.messages.RunDaily(ctx); err != nil && ctx.Err() == nil {
			a.log.Error("daily jobs", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// startingServer answers on the listen address while the process starts:
// /healthz with 200 (the process is alive: a liveness probe that killed
// it during a long migration would roll that migration back at every
// restart), every other path with 503 (not ready: no traffic yet).
type startingServer struct {
	srv  *http.Server
	ln   *handOver
	done chan struct{}
}

// serveStarting starts answering on ln until stop.
func serveStarting(ln net.Listener, log *slog.Logger) *startingServer {
	tl, ok := ln.(*net.TCPListener)
	if !ok {
		return &startingServer{}
	}
	mux := http.NewServeMux()
	answer := func(w http.ResponseWriter, status int, text string) {
		h := w.Header()
		h.Set("Cache-Control", "no-store")
		h.Set("Content-Type", "text/plain; charset=utf-8")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Connection", "close")
		w.WriteHeader(status)
		io.WriteString(w, text)
	}
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { answer(w, http.StatusOK, "ok") })
	mux.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Retry-After", "5")
		answer(w, http.StatusServiceUnavailable, "starting")
	})
	s := &startingServer{
		srv: &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second, WriteTimeout: 5 * time.Second,
			ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)},
		ln:   &handOver{TCPListener: tl},
		done: make(chan struct{}),
	}
	s.srv.SetKeepAlivesEnabled(false)
	go func() {
		defer close(s.done)
		s.srv.Serve(s.ln)
	}()
	return s
}

// stop ends the answers and returns when the listener is free for the
// web server (still open).
func (s *startingServer) stop() {
	if s.srv == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if err := s.srv.Shutdown(ctx); err != nil {
		s.srv.Close()
	}
	<-s.done
	s.ln.TCPListener.SetDeadline(time.Time{})
	s.srv = nil
}

// handOver is a listener that a server can close without closing the
// socket underneath: Close ends the Accept under way (through the
// deadline) and makes every later one fail, so that the next server
// takes over the same address without a moment in which connections
// are refused.
type handOver struct {
	*net.TCPListener
	closed atomic.Bool
}

func (h *handOver) Accept() (net.Conn, error) {
	if h.closed.Load() {
		return nil, net.ErrClosed
	}
	c, err := h.TCPListener.Accept()
	if err != nil && h.closed.Load() {
		return nil, net.ErrClosed
	}
	return c, err
}

func (h *handOver) Close() error {
	h.closed.Store(true)
	return h.TCPListener.SetDeadline(time.Now())
}
