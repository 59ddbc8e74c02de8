package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"time"

	"dialoog/auth"
	"dialoog/components"
	"dialoog/config"
	"dialoog/db"
	"dialoog/handlers"
	"dialoog/messaging"
	"dialoog/notify"
	"dialoog/vault"
)

// app holds the services of one process, wired from the configuration.
type app struct {
	cfg         *config.Config
	log         *slog.Logger
	db          *db.DB
	vault       *vault.Vault
	worker      *notify.Worker
	invitations *auth.Invitations
	accounts    *auth.Accounts
	sessions    *auth.Sessions
	messages    *messaging.Service
	migrated    []string
}

func openApp(ctx context.Context, cfg *config.Config, log *slog.Logger) (*app, error) {
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("create data dir %s: %w", cfg.DataDir, err)
	}
	key := cfg.EncryptionKey
	if key == nil {
		var err error
		if key, err = vault.LoadOrCreateKey(cfg.DataDir); err != nil {
			return nil, err
		}
	}
	v, err := vault.New(key)
	if err != nil {
		return nil, err
	}
	d, err := db.Open(ctx, cfg.DatabaseURL, cfg.DataDir)
	if err != nil {
		return nil, err
	}
	migrated, err := d.Migrate(ctx)
	if err != nil {
		d.Close()
		return nil, err
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
	now := func() time.Time { return time.Now() }
	worker := notify.NewWorker(d, v, mailer, sms, log.With("component", "outbox"), notify.WorkerOptions{})
	sessions := &auth.Sessions{DB: d, Now: now}
	limiter := &auth.Limiter{DB: d, Now: now}
	inv := &auth.Invitations{
		DB: d, Outbox: notify.NewOutbox(v), Mail: mailRenderer{}, Sessions: sessions,
		Limiter: limiter, BaseURL: cfg.BaseURL, Now: now, Log: log, Queued: worker.Kick,
	}
	host := cfg.BaseURL.Hostname()
	accounts := &auth.Accounts{
		DB: d, Vault: v, Outbox: notify.NewOutbox(v), Sessions: sessions, Limiter: limiter, Now: now, Log: log,
		SMSText: func(lang, code string) string { return components.SMSCodeText(lang, host, code) },
		Queued:  worker.Kick,
	}
	messages := &messaging.Service{
		DB: d, Vault: v,
		Files:  &messaging.Files{Dir: filepath.Join(cfg.DataDir, "attachments"), Vault: v},
		Outbox: notify.NewOutbox(v), Invitations: inv, Mail: mailRenderer{},
		BaseURL: cfg.BaseURL.String(), Now: now, Log: log.With("component", "messaging"),
		Queued: worker.Kick,
		// Events stays nil until the live layer (realtime) is wired: it is
		// the one place that layer plugs into the messaging rules.
		Events: nil,
	}
	return &app{cfg: cfg, log: log, db: d, vault: v, worker: worker, invitations: inv, accounts: accounts, sessions: sessions,
		messages: messages, migrated: migrated}, nil
}

func (a *app) Close() error { return a.db.Close() }

// bootstrap creates the organisation on first start and prints the first
// admin's sign-up link.
func (a *app) bootstrap(ctx context.Context, out io.Writer) error {
	if err := auth.EnsureTerms(ctx, a.db, time.Now); err != nil {
		return err
	}
	_, email, link, err := auth.Bootstrap(ctx, a.invitations, a.cfg.OrgName)
	if err != nil {
		return err
	}
	if link != "" {
		fmt.Fprintf(out, "Created organisation %q. Sign-up link for its first admin (%s):\n%s\n", a.cfg.OrgName, email, link)
	}
	return nil
}

func serve(ctx context.Context, cfg *config.Config, log *slog.Logger, stdout io.Writer) error {
	a, err := openApp(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer a.Close()
	if err := a.bootstrap(ctx, stdout); err != nil {
		return err
	}
	web := handlers.New(handlers.Deps{
		Config:            cfg,
		Logger:            log,
		Health:            a.db,
		Invitations:       invitationsAdapter{a.invitations},
		Accounts:          a.accounts,
		Sessions:          a.sessions,
		Terms:             termsStore{a.db, time.Now},
		Messages:          a.messages,
		PasswordResetMail: mailRenderer{},
		DevOutbox:         devOutbox{a.db, a.vault},
	})
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s (DIALOOG_ADDR): %w", cfg.Addr, err)
	}
	workerCtx, stopWorker := context.WithCancel(context.WithoutCancel(ctx))
	workerDone := make(chan struct{})
	go func() {
		defer close(workerDone)
		if err := a.worker.Run(workerCtx); err != nil && !errors.Is(err, context.Canceled) {
			log.Error("outbox worker stopped", "err", err)
		}
	}()
	janitorCtx, stopJanitor := context.WithCancel(context.WithoutCancel(ctx))
	janitorDone := make(chan struct{})
	go func() {
		defer close(janitorDone)
		a.purgeStaleUploads(janitorCtx, janitorEvery)
	}()
	serveErr := make(chan error, 1)
	go func() { serveErr <- web.Listener(ln) }()
	log.Info("dialoog listening", "addr", ln.Addr().String(), "base_url", cfg.BaseURL.String(), "postgres", cfg.Postgres(), "dev", cfg.Dev)
	fmt.Fprintf(stdout, "Dialoog is running at %s\n", cfg.BaseURL)

	select {
	case <-ctx.Done():
		log.Info("shutting down")
	case err = <-serveErr:
	}
	if sErr := web.ShutdownWithTimeout(10 * time.Second); sErr != nil {
		log.Warn("shutdown", "err", sErr)
	}
	stopWorker()
	stopJanitor()
	select {
	case <-workerDone:
	case <-time.After(10 * time.Second):
		log.Warn("outbox worker did not stop in time")
	}
	select {
	case <-janitorDone:
	case <-time.After(10 * time.Second):
		log.Warn("upload janitor did not stop in time")
	}
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	return nil
}

// janitorEvery is how often uploads that never got a message are deleted;
// they may wait messaging.StaleUpload.
const janitorEvery = time.Hour

// purgeStaleUploads deletes stale uploads at start and then every interval
// until ctx ends.
func (a *app) purgeStaleUploads(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
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
