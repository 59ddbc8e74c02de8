package notify

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/uptrace/bun"

	"dialoog/db"
	"dialoog/vault"
)

// WorkerOptions tune a Worker; zero values take the defaults.
type WorkerOptions struct {
	// Poll is the pause between passes of an idle lane; default 2s. Rows
	// queued in this process wake the lanes at once (Kick); polling picks up
	// rows written by the CLI or another instance.
	Poll time.Duration
	// Lease is how long a claimed row belongs to its worker without being
	// renewed; default 6s. A live worker renews it every Lease/3 while it
	// sends, so a slow delivery keeps its row, and the rows of a worker that
	// died are claimed again by another within Lease+Poll.
	Lease time.Duration
	// SMSConcurrency and MailConcurrency bound the deliveries in flight on
	// each lane; defaults 4 and 2. A lane whose transport is not known to
	// work (at start, and after a failure of the transport) sends one row at
	// a time until one gets through.
	SMSConcurrency  int
	MailConcurrency int
	// Push delivers the push lane (Web Push); nil records pushes as sent
	// by the dev transport. PushConcurrency defaults to 4.
	Push            PushSender
	PushConcurrency int
	// SMSTimeout and MailTimeout bound one delivery through the transport,
	// from connecting to the final answer; defaults SMSTimeout (10s) and
	// SMTPTimeout (30s).
	SMSTimeout  time.Duration
	MailTimeout time.Duration
	// MaxAge is how long after it was queued a row that only meets temporary
	// errors is kept trying; after that its next failure marks it failed.
	// Default 72h, so that an outage of a day or a weekend fails nothing.
	MaxAge time.Duration
	// BaseBackoff is the wait after the first failed attempt of a row
	// (default 10s); it doubles with every attempt up to MaxBackoff
	// (default 1h).
	BaseBackoff time.Duration
	MaxBackoff  time.Duration
	Now         func() time.Time // clock; default time.Now
	// NoticeWanted decides, just before it is sent, whether a notice of a
	// new message (Mail.Notice, Push.Notice) still has something to tell;
	// one that has not is taken out of the outbox unsent. Nil sends every
	// notice.
	NoticeWanted func(ctx context.Context, n Notice) (bool, error)
}

// Defaults of WorkerOptions.
const (
	DefaultPoll            = 2 * time.Second
	DefaultLease           = 6 * time.Second
	DefaultSMSConcurrency  = 4
	DefaultMailConcurrency = 2
	DefaultPushConcurrency = 4
	DefaultMaxAge          = 72 * time.Hour
)

// claimBatch is the most rows claimed in one transaction.
const claimBatch = 10

// releaseTimeout bounds handing back an unattempted row after the worker's
// context ended.
const releaseTimeout = 5 * time.Second

// maxErrorLen bounds the stored last_error.
const maxErrorLen = 1000

// Worker delivers due outbox rows, one lane per channel (SMS, mail), each
// with its own deliveries in flight, so that no channel waits behind
// another. Any number of workers, in one or several processes, may run
// against the same database.
type Worker struct {
	db    *db.DB
	vault *vault.Vault
	log   *slog.Logger
	opt   WorkerOptions
	lanes []*lane
}

// lane delivers the rows of one channel through one transport.
type lane struct {
	w           *Worker
	channel     string
	transport   string
	concurrency int
	timeout     time.Duration
	send        func(ctx context.Context, key string, p *payload) error
	kick        chan struct{}

	mu sync.Mutex
	// down is set while the transport is not known to work: at start and
	// after a failure that says nothing about the row (no connection, a
	// timeout, a 5xx of a gateway). The next answer of the transport about a
	// row clears it and re-arms the lane's waiting rows.
	down bool

	delivered, retried, failed, dropped atomic.Int64
}

// NewWorker returns a worker that delivers mail through m and texts through
// s; a nil m or s is the dev transport, a nil log discards.
func NewWorker(d *db.DB, v *vault.Vault, m Mailer, s SMSSender, log *slog.Logger, opt WorkerOptions) *Worker {
	if opt.Poll <= 0 {
		opt.Poll = DefaultPoll
	}
	if opt.Lease <= 0 {
		opt.Lease = DefaultLease
	}
	if opt.SMSConcurrency <= 0 {
		opt.SMSConcurrency = DefaultSMSConcurrency
	}
	if opt.MailConcurrency <= 0 {
		opt.MailConcurrency = DefaultMailConcurrency
	}
	if opt.SMSTimeout <= 0 {
		opt.SMSTimeout = SMSTimeout
	}
	if opt.MailTimeout <= 0 {
		opt.MailTimeout = SMTPTimeout
	}
	if opt.MaxAge <= 0 {
		opt.MaxAge = DefaultMaxAge
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
	var ps PushSender = devPush{}
	if opt.Push != nil {
		ps = opt.Push
	}
	if opt.PushConcurrency <= 0 {
		opt.PushConcurrency = DefaultPushConcurrency
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	w := &Worker{db: d, vault: v, log: log, opt: opt}
	// SMS first: a login code is the most urgent thing the outbox carries.
	w.lanes = []*lane{
		{
			w: w, channel: db.ChannelSMS, transport: s.Name(), concurrency: opt.SMSConcurrency, timeout: opt.SMSTimeout,
			send: func(ctx context.Context, key string, p *payload) error { return s.Send(ctx, key, *p.sms) },
		},
		{
			w: w, channel: db.ChannelMail, transport: m.Name(), concurrency: opt.MailConcurrency, timeout: opt.MailTimeout,
			send: func(ctx context.Context, key string, p *payload) error { return m.Send(ctx, key, *p.mail) },
		},
		{
			w: w, channel: db.ChannelPush, transport: ps.Name(), concurrency: opt.PushConcurrency, timeout: PushTimeout,
			send: func(ctx context.Context, key string, p *payload) error { return ps.Send(ctx, key, *p.push) },
		},
	}
	for _, l := range w.lanes {
		l.kick = make(chan struct{}, 1)
		l.down = true
	}
	return w
}

// Kick wakes the sleeping lanes of Run at once, for instance after a commit
// that queued rows. It never blocks.
func (w *Worker) Kick() {
	for _, l := range w.lanes {
		select {
		case l.kick <- struct{}{}:
		default:
		}
	}
}

// Run delivers due rows on every lane until ctx ends, each lane pausing Poll
// between passes or until Kick. Errors are logged and the work retried
// later. When ctx ends, deliveries in flight are abandoned (their rows stay
// claimed until the lease ends and are then delivered again) and Run
// returns nil once they have stopped.
func (w *Worker) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	for _, l := range w.lanes {
		wg.Go(func() { l.run(ctx, false) })
	}
	wg.Wait()
	return nil
}

// RunOnce delivers the rows that are due now on every lane, including the
// rows a recovering transport re-arms meanwhile, and returns how many it
// delivered. Delivery failures are recorded on the rows, not returned; the
// error is about the database or ctx.
func (w *Worker) RunOnce(ctx context.Context) (delivered int, err error) {
	var wg sync.WaitGroup
	n := make([]int, len(w.lanes))
	errs := make([]error, len(w.lanes))
	for i, l := range w.lanes {
		wg.Go(func() { n[i], errs[i] = l.run(ctx, true) })
	}
	wg.Wait()
	for _, k := range n {
		delivered += k
	}
	return delivered, errors.Join(errs...)
}

// result is the end of one delivery goroutine.
type result struct {
	delivered bool
	err       error
}

// run is the loop of one lane: it keeps up to limit() deliveries in flight,
// claiming due rows as slots free up. With once set it returns when nothing
// is due and nothing is in flight; otherwise it sleeps Poll (or until a
// kick) when idle and returns after ctx ends and the deliveries stopped.
func (l *lane) run(ctx context.Context, once bool) (delivered int, err error) {
	done := make(chan result, l.concurrency)
	inflight := 0
	var errs []error
	claimFailed := false
	var timer *time.Timer
	if !once {
		timer = time.NewTimer(l.w.opt.Poll)
		defer timer.Stop()
	}
	for {
		claimed := 0
		if ctx.Err() == nil && !claimFailed {
			if free := l.limit() - inflight; free > 0 {
				items, cerr := l.w.claim(ctx, l.channel, min(free, claimBatch))
				switch {
				case cerr == nil:
				case once:
					errs = append(errs, cerr)
					claimFailed = true
				case ctx.Err() == nil:
					l.w.log.Error("outbox claim failed", "channel", l.channel, "err", cerr)
				}
				for i := range items {
					it := &items[i]
					inflight++
					go func() {
						ok, derr := l.deliver(ctx, it)
						done <- result{ok, derr}
					}()
				}
				claimed = len(items)
			}
		}
		if inflight == 0 && (ctx.Err() != nil || (once && claimed == 0)) {
			return delivered, errors.Join(errs...)
		}
		var ctxDone <-chan struct{}
		if ctx.Err() == nil {
			ctxDone = ctx.Done()
		}
		var tick <-chan time.Time
		var kick <-chan struct{}
		if !once {
			timer.Reset(l.w.opt.Poll)
			tick, kick = timer.C, l.kick
		}
		select {
		case r := <-done:
			inflight--
			if r.delivered {
				delivered++
			}
			if r.err != nil {
				if once {
					errs = append(errs, r.err)
				} else if ctx.Err() == nil {
					l.w.log.Error("outbox delivery could not be recorded", "channel", l.channel, "err", r.err)
				}
			}
		case <-ctxDone:
		case <-kick:
		case <-tick:
		}
	}
}

// limit is the number of deliveries the lane may have in flight now.
func (l *lane) limit() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.down {
		return 1
	}
	return l.concurrency
}

// claim marks up to limit due rows of channel as sending for this worker.
// A row is due when it is pending and its next attempt has come, or when it
// is sending and its lease ran out (its worker died or was stopped).
func (w *Worker) claim(ctx context.Context, channel string, limit int) ([]db.OutboxItem, error) {
	var items []db.OutboxItem
	err := w.db.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		items = items[:0]
		now := w.opt.Now()
		// Two range reads of the lane index rather than one OR, which
		// would read every row of the channel ever sent.
		if err := w.staleQuery(tx, &items, channel, now, limit).Scan(ctx); err != nil {
			return fmt.Errorf("select rows with an expired lease: %w", err)
		}
		if len(items) < limit {
			var due []db.OutboxItem
			if err := w.dueQuery(tx, &due, channel, now, limit-len(items)).Scan(ctx); err != nil {
				return fmt.Errorf("select due rows: %w", err)
			}
			items = append(items, due...)
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
		return nil, fmt.Errorf("outbox claim %s: %w", channel, err)
	}
	return items, nil
}

// dueQuery selects up to limit pending rows of channel whose next attempt
// has come at now, oldest due first, locking them on PostgreSQL (skipping
// rows another worker is claiming). It is a range read of the index
// outbox_lane_due_idx.
func (w *Worker) dueQuery(idb bun.IDB, items *[]db.OutboxItem, channel string, now time.Time, limit int) *bun.SelectQuery {
	q := idb.NewSelect().Model(items).
		Where("channel = ?", channel).
		Where("status = ?", db.OutboxPending).
		Where("next_attempt_at <= ?", now).
		Order("next_attempt_at ASC", "id ASC").
		Limit(int64(limit))
	if w.db.Postgres() {
		q = q.For("UPDATE SKIP LOCKED")
	}
	return q
}

// staleQuery selects up to limit rows of channel being sent whose lease ran
// out at now (their worker died or was stopped), like dueQuery.
func (w *Worker) staleQuery(idb bun.IDB, items *[]db.OutboxItem, channel string, now time.Time, limit int) *bun.SelectQuery {
	q := idb.NewSelect().Model(items).
		Where("channel = ?", channel).
		Where("status = ?", db.OutboxSending).
		Where("locked_until < ?", now).
		Order("id ASC").
		Limit(int64(limit))
	if w.db.Postgres() {
		q = q.For("UPDATE SKIP LOCKED")
	}
	return q
}

// deliver sends one claimed row and records the outcome. The error is about
// recording it or the worker's context; a failed delivery is recorded on the
// row and is not an error.
func (l *lane) deliver(ctx context.Context, it *db.OutboxItem) (bool, error) {
	w := l.w
	log := w.log.With("outbox_id", it.ID, "channel", it.Channel, "attempt", it.Attempts)
	if ctx.Err() != nil {
		w.release(ctx, it)
		return false, ctx.Err()
	}
	if !it.SendBy.IsZero() && !w.opt.Now().Before(it.SendBy.Time) {
		// A code that expired while the transport was down: sending it now
		// would only confuse its reader.
		l.failed.Add(1)
		log.Warn("outbox row expired before it could be sent", "send_by", it.SendBy.Time)
		_, err := w.recordFailure(ctx, it, errExpired, true)
		return false, err
	}
	var p payload
	var err error
	if l.channel == db.ChannelPush {
		p.push, err = openPush(w.vault, it)
	} else {
		p.mail, p.sms, err = openPayload(w.vault, it)
		if err == nil && (p.mail == nil) == (l.channel == db.ChannelMail) {
			err = fmt.Errorf("payload is not of the %s channel", l.channel)
		}
	}
	if err != nil {
		l.failed.Add(1)
		_, rerr := w.recordFailure(ctx, it, err, true)
		return false, rerr
	}
	if why, err := w.unwanted(ctx, it, &p); err != nil {
		// About the database, not the transport: tried again later.
		l.retried.Add(1)
		log.Warn("outbox row could not be checked before sending", "err", err)
		_, rerr := w.recordFailure(ctx, it, err, false)
		return false, rerr
	} else if why != "" {
		return false, l.drop(ctx, it, why, log)
	}

	sctx, cancel := context.WithTimeout(ctx, l.timeout)
	stopLease := l.keepLease(ctx, it, cancel, log)
	err = l.send(sctx, it.IdempotencyKey, &p)
	lost := stopLease()
	cancel()
	switch {
	case ctx.Err() != nil:
		// Stopped mid-delivery: the outcome is unknown, so the row stays
		// sending and is tried again, with the same key, when the lease ends.
		log.Warn("outbox delivery interrupted", "transport", l.transport)
		return false, fmt.Errorf("outbox row %d: delivery interrupted: %w", it.ID, ctx.Err())
	case err != nil && lost:
		// Another worker owns the row now and delivers it with the same key.
		log.Warn("outbox lease lost during delivery", "transport", l.transport, "err", err)
		return false, nil
	case err != nil:
		return false, l.failure(ctx, it, err, log)
	}

	now := w.opt.Now()
	q := w.db.NewUpdate().Model((*db.OutboxItem)(nil)).
		Set("status = ?", db.OutboxSent).
		Set("sent_at = ?", now).
		Set("transport = ?", l.transport).
		Set("locked_until = NULL").
		Set("last_error = ''")
	if l.transport != DevTransport {
		q = q.Set("payload = NULL")
	}
	res, err := w.exec(ctx, w.claimed(q, it))
	if err != nil {
		return true, fmt.Errorf("outbox row %d: record delivery: %w", it.ID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		log.Warn("outbox row was claimed again before its delivery was recorded", "transport", l.transport)
	} else {
		log.Info("outbox row delivered", "transport", l.transport)
	}
	l.delivered.Add(1)
	l.up(ctx)
	return true, nil
}

// payload is an opened outbox row: one of its fields is set.
type payload struct {
	mail *Mail
	sms  *SMS
	push *Push
}

// notice is the notice the payload's mail or push is, or nil.
func (p *payload) notice() *Notice {
	switch {
	case p.mail != nil:
		return p.mail.Notice
	case p.push != nil:
		return p.push.Notice
	}
	return nil
}

// unwanted says why the opened row it is not to be sent after all, or ""
// when it should: a mail to the address of an account disabled after it
// was queued (the rule of queueMailQuery, checked again, since a message's
// transaction may queue the mail at the moment an admin's disabling
// withdraws the account's queued mail, and commit after it), or a notice
// of a new message with nothing left to tell (WorkerOptions.NoticeWanted).
func (w *Worker) unwanted(ctx context.Context, it *db.OutboxItem, p *payload) (string, error) {
	if p.mail != nil {
		disabled, err := w.db.NewSelect().Model((*db.User)(nil)).
			Where("email = ?", strings.ToLower(it.Recipient)).
			Where("status = ?", db.StatusDisabled).Exists(ctx)
		if err != nil {
			return "", fmt.Errorf("check recipient: %w", err)
		}
		if disabled {
			return "its recipient's account was disabled", nil
		}
	}
	if n := p.notice(); n != nil && w.opt.NoticeWanted != nil {
		wanted, err := w.opt.NoticeWanted(ctx, *n)
		if err != nil {
			return "", fmt.Errorf("check notice: %w", err)
		}
		if !wanted {
			return "its message was read in time or a later notice replaced it", nil
		}
	}
	return "", nil
}

// drop takes a claimed row that is not to be sent (unwanted says why) out
// of the outbox unsent.
func (l *lane) drop(ctx context.Context, it *db.OutboxItem, why string, log *slog.Logger) error {
	w := l.w
	err := w.db.Write(ctx, func(ctx context.Context) error {
		_, err := w.db.NewDelete().Model((*db.OutboxItem)(nil)).
			Where("id = ?", it.ID).
			Where("status = ?", db.OutboxSending).
			Where("attempts = ?", it.Attempts).
			Exec(ctx)
		return err
	})
	if err != nil {
		return fmt.Errorf("outbox row %d: drop: %w", it.ID, err)
	}
	l.dropped.Add(1)
	log.Info("outbox row dropped unsent", "reason", why)
	return nil
}

// errExpired is the failure of a row past its SendBy.
var errExpired = errors.New("expired before it could be sent")

// failure records a failed delivery by its kind: a rejection fails the row,
// a deferral retries the row later, anything else also tells that the
// transport is down.
func (l *lane) failure(ctx context.Context, it *db.OutboxItem, cause error, log *slog.Logger) error {
	var rejected *RejectedError
	var deferred *DeferredError
	permanent := errors.As(cause, &rejected)
	if permanent || errors.As(cause, &deferred) {
		// The transport answered about this row: it works. Re-arm first, so
		// that this row keeps the backoff recorded below.
		l.up(ctx)
	} else {
		l.markDown(cause)
	}
	log.Warn("outbox delivery failed", "transport", l.transport, "permanent", permanent, "err", cause)
	failed, err := l.w.recordFailure(ctx, it, cause, permanent)
	if failed {
		l.failed.Add(1)
	} else {
		l.retried.Add(1)
	}
	return err
}

// markDown notes that the transport failed for a reason that is not about
// one row.
func (l *lane) markDown(cause error) {
	l.mu.Lock()
	was := l.down
	l.down = true
	l.mu.Unlock()
	if !was {
		l.w.log.Warn("outbox lane down; sending one row at a time until the transport answers",
			"channel", l.channel, "transport", l.transport, "err", cause)
	}
}

// up notes that the transport answered. When it was down, the rows of the
// lane that wait out a backoff are made due now: the transport is back, so
// the queue goes out at once instead of row by row as each backoff ends.
func (l *lane) up(ctx context.Context) {
	l.mu.Lock()
	was := l.down
	l.down = false
	l.mu.Unlock()
	if !was {
		return
	}
	n, err := l.w.rearm(ctx, l.channel)
	if err != nil {
		// The rows keep their backoff; the next recovery tries again.
		l.mu.Lock()
		l.down = true
		l.mu.Unlock()
		l.w.log.Warn("outbox lane up, but its waiting rows could not be re-armed", "channel", l.channel, "err", err)
		return
	}
	if n > 0 {
		l.w.log.Info("outbox lane up; waiting rows re-armed", "channel", l.channel, "transport", l.transport, "rows", n)
	}
	select {
	case l.kick <- struct{}{}:
	default:
	}
}

// rearm makes every pending row of channel that waits out a backoff due
// now.
func (w *Worker) rearm(ctx context.Context, channel string) (int64, error) {
	now := w.opt.Now()
	res, err := w.exec(ctx, w.db.NewUpdate().Model((*db.OutboxItem)(nil)).
		Set("next_attempt_at = ?", now).
		Where("channel = ?", channel).
		Where("status = ?", db.OutboxPending).
		Where("next_attempt_at > ?", now).
		// A row not tried yet waits for its own time (a delayed notice).
		Where("attempts > 0"))
	if err != nil {
		return 0, fmt.Errorf("outbox re-arm %s: %w", channel, err)
	}
	n, _ := res.RowsAffected()
	return n, nil
}

// keepLease renews the lease of it every Lease/3 while a delivery runs. If
// the row turns out to be claimed by another worker (the renewal came too
// late), it calls lose, which cancels the delivery. The returned stop ends
// the renewals and reports whether the lease was lost. Renewals use the
// worker's ctx: once that ends, the lease runs out and another worker takes
// the row.
func (l *lane) keepLease(ctx context.Context, it *db.OutboxItem, lose context.CancelFunc, log *slog.Logger) (stop func() bool) {
	quit := make(chan struct{})
	finished := make(chan struct{})
	var lost atomic.Bool
	go func() {
		defer close(finished)
		t := time.NewTicker(max(l.w.opt.Lease/3, time.Millisecond))
		defer t.Stop()
		for {
			select {
			case <-quit:
				return
			case <-ctx.Done():
				return
			case <-t.C:
			}
			q := l.w.db.NewUpdate().Model((*db.OutboxItem)(nil)).
				Set("locked_until = ?", l.w.opt.Now().Add(l.w.opt.Lease))
			res, err := l.w.exec(ctx, l.w.claimed(q, it))
			if err != nil {
				if ctx.Err() == nil {
					log.Warn("outbox lease not renewed", "err", err)
				}
				continue
			}
			if n, _ := res.RowsAffected(); n == 0 {
				lost.Store(true)
				lose()
				return
			}
		}
	}()
	return func() bool {
		close(quit)
		<-finished
		return lost.Load()
	}
}

// exec runs an update of the outbox outside a transaction, in its turn
// among the database's writers (db.DB.Write).
func (w *Worker) exec(ctx context.Context, q *bun.UpdateQuery) (sql.Result, error) {
	var res sql.Result
	err := w.db.Write(ctx, func(ctx context.Context) error {
		var err error
		res, err = q.Exec(ctx)
		return err
	})
	return res, err
}

// claimed restricts q to the row as this worker claimed it, so that a worker
// whose lease ran out never overwrites a newer claim.
func (w *Worker) claimed(q *bun.UpdateQuery, it *db.OutboxItem) *bun.UpdateQuery {
	return q.Where("id = ?", it.ID).
		Where("status = ?", db.OutboxSending).
		Where("attempts = ?", it.Attempts)
}

// recordFailure sets the row back to pending with a backoff, or to failed
// when permanent or older than MaxAge, and reports whether it failed.
func (w *Worker) recordFailure(ctx context.Context, it *db.OutboxItem, cause error, permanent bool) (failed bool, err error) {
	now := w.opt.Now()
	msg := cause.Error()
	expired := !permanent && now.Sub(it.CreatedAt) >= w.opt.MaxAge
	if expired {
		msg = fmt.Sprintf("undelivered %s after it was queued: %s", w.opt.MaxAge, msg)
	}
	if len(msg) > maxErrorLen {
		msg = msg[:maxErrorLen]
	}
	q := w.db.NewUpdate().Model((*db.OutboxItem)(nil)).
		Set("locked_until = NULL").
		Set("last_error = ?", msg)
	if permanent || expired {
		q = q.Set("status = ?", db.OutboxFailed)
		w.log.Error("outbox row failed for good", "outbox_id", it.ID, "channel", it.Channel, "attempts", it.Attempts, "err", msg)
	} else {
		next := now.Add(backoff(it.Attempts, w.opt.BaseBackoff, w.opt.MaxBackoff))
		q = q.Set("status = ?", db.OutboxPending).Set("next_attempt_at = ?", next)
	}
	if _, err := w.exec(ctx, w.claimed(q, it)); err != nil {
		return permanent || expired, fmt.Errorf("outbox row %d: record failure: %w", it.ID, err)
	}
	return permanent || expired, nil
}

// release hands a claimed row that was not tried back as pending, without
// counting the attempt. It runs even when ctx has ended.
func (w *Worker) release(ctx context.Context, it *db.OutboxItem) {
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), releaseTimeout)
	defer cancel()
	q := w.db.NewUpdate().Model((*db.OutboxItem)(nil)).
		Set("status = ?", db.OutboxPending).
		Set("locked_until = NULL").
		Set("attempts = attempts - 1")
	if _, err := w.exec(rctx, w.claimed(q, it)); err != nil {
		w.log.Warn("could not hand back a claimed outbox row; it is retried when the lease ends", "outbox_id", it.ID, "err", err)
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
