package notify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/uptrace/bun"

	"dialoog/db"
	"dialoog/vault"
)

// WorkerOptions tune a Worker; zero values take the defaults.
type WorkerOptions struct {
	Poll        time.Duration    // pause between passes when idle; default 2s
	Lease       time.Duration    // how long a claimed row belongs to this worker; default 2m
	MaxAttempts int              // attempts before a row is failed; default 12
	Now         func() time.Time // clock; default time.Now
	BaseBackoff time.Duration    // wait after the first failed attempt; default 10s
	MaxBackoff  time.Duration    // longest wait between attempts; default 1h
}

// claimBatch is the number of rows claimed in one transaction.
const claimBatch = 10

// releaseTimeout bounds handing back unattempted rows after the worker's
// context ended.
const releaseTimeout = 5 * time.Second

// maxErrorLen bounds the stored last_error.
const maxErrorLen = 1000

// Worker delivers due outbox rows. Any number of workers, in one or several
// processes, may run against the same database.
type Worker struct {
	db     *db.DB
	vault  *vault.Vault
	mailer Mailer
	sms    SMSSender
	log    *slog.Logger
	opt    WorkerOptions
	kick   chan struct{}
}

// NewWorker returns a worker that delivers mail through m and texts through
// s; a nil m or s is the dev transport, a nil log discards.
func NewWorker(d *db.DB, v *vault.Vault, m Mailer, s SMSSender, log *slog.Logger, opt WorkerOptions) *Worker {
	if opt.Poll <= 0 {
		opt.Poll = 2 * time.Second
	}
	if opt.Lease <= 0 {
		opt.Lease = 2 * time.Minute
	}
	if opt.MaxAttempts <= 0 {
		opt.MaxAttempts = 12
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.BaseBackoff <= 0 {
		opt.BaseBackoff = 10 * time.Second
	}
	if opt.MaxBackoff <= 0 {
		opt.MaxBackoff = time.Hour
	}
	if opt.MaxBackoff < opt.BaseBackoff {
		opt.MaxBackoff = opt.BaseBackoff
	}
	if m == nil {
		m = devMailer{}
	}
	if s == nil {
		s = devSMS{}
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Worker{db: d, vault: v, mailer: m, sms: s, log: log, opt: opt, kick: make(chan struct{}, 1)}
}

// Kick wakes a sleeping Run at once, for instance after a commit that queued
// rows. It never blocks.
func (w *Worker) Kick() {
	select {
	case w.kick <- struct{}{}:
	default:
	}
}

// Run delivers due rows until ctx ends, pausing Poll between passes or until
// Kick. Errors of a pass are logged and the pass retried later; Run returns
// nil once ctx is done.
func (w *Worker) Run(ctx context.Context) error {
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		if _, err := w.RunOnce(ctx); err != nil && ctx.Err() == nil {
			w.log.Error("outbox pass failed", "err", err)
		}
		timer.Reset(w.opt.Poll)
		select {
		case <-ctx.Done():
			return nil
		case <-w.kick:
		case <-timer.C:
		}
	}
}

// RunOnce delivers the rows that are due now, claiming them in batches until
// none is left, and returns how many it delivered. Delivery failures are
// recorded on the rows, not returned; the error is about the database or ctx.
func (w *Worker) RunOnce(ctx context.Context) (delivered int, err error) {
	for {
		items, err := w.claim(ctx)
		if err != nil {
			return delivered, err
		}
		if len(items) == 0 {
			return delivered, nil
		}
		n, more, err := w.deliverBatch(ctx, items)
		delivered += n
		if err != nil || !more || len(items) < claimBatch {
			return delivered, err
		}
	}
}

// claim marks up to claimBatch due rows as sending for this worker.
func (w *Worker) claim(ctx context.Context) ([]db.OutboxItem, error) {
	var items []db.OutboxItem
	err := w.db.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		items = items[:0]
		now := w.opt.Now()
		q := tx.NewSelect().Model(&items).
			Where("(status = ? AND next_attempt_at <= ?) OR (status = ? AND locked_until < ?)",
				db.OutboxPending, now, db.OutboxSending, now).
			Order("next_attempt_at ASC", "id ASC").
			Limit(int64(claimBatch))
		if w.db.Postgres() {
			q = q.For("UPDATE SKIP LOCKED")
		}
		if err := q.Scan(ctx); err != nil {
			return fmt.Errorf("select due rows: %w", err)
		}
		if len(items) == 0 {
			return nil
		}
		ids := make([]int64, len(items))
		until := now.Add(w.opt.Lease)
		for i := range items {
			ids[i] = items[i].ID
			items[i].Status = db.OutboxSending
			items[i].Attempts++
			items[i].LockedUntil = bun.NullTime{Time: until}
		}
		_, err := tx.NewUpdate().Model((*db.OutboxItem)(nil)).
			Set("status = ?", db.OutboxSending).
			Set("locked_until = ?", until).
			Set("attempts = attempts + 1").
			Where("id IN (?)", bun.In(ids)).
			Exec(ctx)
		if err != nil {
			return fmt.Errorf("mark rows sending: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("outbox claim: %w", err)
	}
	return items, nil
}

// deliverBatch delivers claimed rows one after the other. more is false when
// it stopped early because the lease ran short.
func (w *Worker) deliverBatch(ctx context.Context, items []db.OutboxItem) (delivered int, more bool, err error) {
	for i := range items {
		it := &items[i]
		remaining := it.LockedUntil.Time.Sub(w.opt.Now())
		if ctx.Err() != nil || remaining < w.opt.Lease/4 {
			w.release(ctx, items[i:])
			return delivered, false, ctx.Err()
		}
		ok, err := w.deliver(ctx, it, remaining-w.opt.Lease/10)
		if ok {
			delivered++
		}
		if err != nil {
			if ctx.Err() != nil {
				w.release(ctx, items[i+1:])
			}
			return delivered, false, err
		}
	}
	return delivered, true, nil
}

// deliver sends one claimed row and records the outcome. The error is about
// recording it or the worker's context; a failed delivery is recorded on the
// row and is not an error.
func (w *Worker) deliver(ctx context.Context, it *db.OutboxItem, timeout time.Duration) (bool, error) {
	log := w.log.With("outbox_id", it.ID, "channel", it.Channel, "attempt", it.Attempts)
	m, s, err := openPayload(w.vault, it)
	if err != nil {
		return false, w.recordFailure(ctx, it, err, true)
	}

	var transport string
	sctx, cancel := context.WithTimeout(ctx, timeout)
	switch {
	case m != nil:
		transport = w.mailer.Name()
		err = w.mailer.Send(sctx, it.IdempotencyKey, *m)
	default:
		transport = w.sms.Name()
		err = w.sms.Send(sctx, it.IdempotencyKey, *s)
	}
	cancel()
	if ctx.Err() != nil {
		// Stopped mid-delivery: the outcome is unknown, so the row stays
		// sending and is tried again, with the same key, when the lease ends.
		log.Warn("outbox delivery interrupted", "transport", transport)
		return false, fmt.Errorf("outbox row %d: delivery interrupted: %w", it.ID, ctx.Err())
	}
	if err != nil {
		log.Warn("outbox delivery failed", "transport", transport, "err", err)
		return false, w.recordFailure(ctx, it, err, false)
	}

	now := w.opt.Now()
	q := w.db.NewUpdate().Model((*db.OutboxItem)(nil)).
		Set("status = ?", db.OutboxSent).
		Set("sent_at = ?", now).
		Set("transport = ?", transport).
		Set("locked_until = NULL").
		Set("last_error = ''")
	if transport != DevTransport {
		q = q.Set("payload = NULL")
	}
	res, err := w.claimed(q, it).Exec(ctx)
	if err != nil {
		return true, fmt.Errorf("outbox row %d: record delivery: %w", it.ID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		log.Warn("outbox row was claimed again before its delivery was recorded", "transport", transport)
	} else {
		log.Info("outbox row delivered", "transport", transport)
	}
	return true, nil
}

// claimed restricts q to the row as this worker claimed it, so that a worker
// whose lease ran out never overwrites a newer claim.
func (w *Worker) claimed(q *bun.UpdateQuery, it *db.OutboxItem) *bun.UpdateQuery {
	return q.Where("id = ?", it.ID).
		Where("status = ?", db.OutboxSending).
		Where("attempts = ?", it.Attempts)
}

// recordFailure sets the row back to pending with a backoff, or to failed
// when permanent or out of attempts.
func (w *Worker) recordFailure(ctx context.Context, it *db.OutboxItem, cause error, permanent bool) error {
	msg := cause.Error()
	if len(msg) > maxErrorLen {
		msg = msg[:maxErrorLen]
	}
	q := w.db.NewUpdate().Model((*db.OutboxItem)(nil)).
		Set("locked_until = NULL").
		Set("last_error = ?", msg)
	if permanent || it.Attempts >= w.opt.MaxAttempts {
		q = q.Set("status = ?", db.OutboxFailed)
		w.log.Error("outbox row failed for good", "outbox_id", it.ID, "channel", it.Channel, "attempts", it.Attempts, "err", msg)
	} else {
		next := w.opt.Now().Add(backoff(it.Attempts, w.opt.BaseBackoff, w.opt.MaxBackoff))
		q = q.Set("status = ?", db.OutboxPending).Set("next_attempt_at = ?", next)
	}
	if _, err := w.claimed(q, it).Exec(ctx); err != nil {
		return fmt.Errorf("outbox row %d: record failure: %w", it.ID, err)
	}
	return nil
}

// release hands claimed rows that were not tried back as pending, without
// counting the attempt. It runs even when ctx has ended.
func (w *Worker) release(ctx context.Context, items []db.OutboxItem) {
	if len(items) == 0 {
		return
	}
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), releaseTimeout)
	defer cancel()
	var errs []error
	for i := range items {
		it := &items[i]
		q := w.db.NewUpdate().Model((*db.OutboxItem)(nil)).
			Set("status = ?", db.OutboxPending).
			Set("locked_until = NULL").
			Set("attempts = attempts - 1")
		if _, err := w.claimed(q, it).Exec(rctx); err != nil {
			errs = append(errs, fmt.Errorf("outbox row %d: %w", it.ID, err))
		}
	}
	if err := errors.Join(errs...); err != nil {
		w.log.Warn("could not hand back claimed outbox rows; they retry when the lease ends", "err", err)
	}
}

// backoff returns the wait after the given failed attempt (1-based):
// base*2^(attempt-1) capped at max, less a random jitter of up to a quarter.
func backoff(attempt int, base, max time.Duration) time.Duration {
	d := base
	for i := 1; i < attempt && d < max; i++ {
		d *= 2
	}
	if d > max {
		d = max
	}
	if j := int64(d / 4); j > 0 {
		d -= time.Duration(rand.Int64N(j + 1))
	}
	return d
}
