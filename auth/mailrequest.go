package auth

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/uptrace/bun"

	"dialoog/db"
)

// Kinds of mail request.
const (
	mailRequestPasswordReset = "password_reset"
	mailRequestNewLink       = "new_link"
)

// queueMailRequest is all that "Wachtwoord vergeten" and "Stuur mij een
// nieuwe link" do while the person waits: one row, the same for every
// well-formed address, so that the answer takes the same time whether or
// not the address is known. MailRequests does the rest.
func queueMailRequest(ctx context.Context, d *db.DB, kind, email, ip string, now time.Time) error {
	err := d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		_, err := tx.NewInsert().Model(&db.MailRequest{Kind: kind, Email: email, IP: ip, CreatedAt: now.UTC()}).Exec(ctx)
		return err
	})
	if err != nil {
		return fmt.Errorf("queue %s request: %w", kind, err)
	}
	return nil
}

// MailRequests works off the queued mail requests in the background: for
// each, in one transaction that also deletes the request, it finds out
// whether the address gets a mail and queues it in the outbox. Several
// instances may run it on one database: a request is taken by the one
// whose delete removed it.
type MailRequests struct {
	DB          *db.DB
	Accounts    *Accounts
	Invitations *Invitations
	Log         *slog.Logger
	// Poll is the pause between passes when idle; default 2 s.
	Poll time.Duration
	wake chan struct{}
}

// Kick wakes Run after a request was queued.
func (m *MailRequests) Kick() {
	select {
	case m.wakeup() <- struct{}{}:
	default:
	}
}

func (m *MailRequests) wakeup() chan struct{} {
	if m.wake == nil {
		panic("auth: MailRequests.Kick before NewMailRequests")
	}
	return m.wake
}

// NewMailRequests returns a ready MailRequests; the fields may be set
// afterwards, before Run.
func NewMailRequests() *MailRequests { return &MailRequests{wake: make(chan struct{}, 1)} }

// Run works off requests until ctx ends.
func (m *MailRequests) Run(ctx context.Context) error {
	poll := m.Poll
	if poll <= 0 {
		poll = 2 * time.Second
	}
	t := time.NewTicker(poll)
	defer t.Stop()
	for {
		if _, err := m.RunOnce(ctx); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			m.Log.ErrorContext(ctx, "mail requests", "err", err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		case <-m.wakeup():
		}
	}
}

// RunOnce works off every queued request and returns how many it handled.
func (m *MailRequests) RunOnce(ctx context.Context) (int, error) {
	n := 0
	for {
		done, queued, err := m.next(ctx)
		if err != nil || !done {
			return n, err
		}
		n++
		switch queued {
		case mailRequestPasswordReset:
			m.Accounts.queued()
		case mailRequestNewLink:
			m.Invitations.queued()
		}
	}
}

// next takes the oldest request and handles it in one transaction; done is
// false when there was none, queued the request's kind when it queued mail.
func (m *MailRequests) next(ctx context.Context) (done bool, queued string, err error) {
	var r db.MailRequest
	err = m.DB.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		err := tx.NewRaw(`DELETE FROM mail_requests WHERE id = (SELECT MIN(id) FROM mail_requests)
RETURNING id, kind, email, ip, created_at`).Scan(ctx, &r)
		if db.ErrNoRows(err) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("take mail request: %w", err)
		}
		done = true
		sent := false
		switch r.Kind {
		case mailRequestPasswordReset:
			sent, err = m.Accounts.passwordResetMail(ctx, tx, r.Email, r.IP)
		case mailRequestNewLink:
			sent, err = m.Invitations.newLinkMail(ctx, tx, r.Email)
		default:
			m.Log.WarnContext(ctx, "unknown mail request dropped", "kind", r.Kind, "id", r.ID)
		}
		if sent {
			queued = r.Kind
		}
		return err
	})
	if err != nil && r.ID != 0 && ctx.Err() == nil {
		// A request that cannot be handled must not hold up the others:
		// it is dropped (the person can ask again) and logged.
		m.Log.ErrorContext(ctx, "mail request dropped", "kind", r.Kind, "id", r.ID, "err", err)
		if _, derr := m.DB.NewDelete().Model((*db.MailRequest)(nil)).Where("id = ?", r.ID).Exec(ctx); derr != nil {
			return false, "", fmt.Errorf("drop mail request: %w", derr)
		}
		return true, "", nil
	}
	if err != nil {
		return false, "", err
	}
	return done, queued, nil
}
