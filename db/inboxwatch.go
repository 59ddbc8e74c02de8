package db

import (
	"context"
	"crypto/md5"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
)

// On PostgreSQL a user's inbox version is kept in each instance's memory:
// the triggers of migration 0040 notify the users whose inbox changed, in
// the changing transaction, and inboxWatch listens. Each notification gives
// its users a new version; a page read under a version is only served while
// the version is unchanged (messaging's inbox cache).
//
// PostgreSQL delivers notifications at the commit, in commit order, so a
// version taken before a page is read changes after any commit the read did
// not see, as soon as that commit's notification arrives. Until then (the
// time a notification takes to reach this instance, usually well under a
// millisecond) a page kept from before that commit may still be served; the
// person's own changes on this instance do not wait for it (InboxTouched).
//
// Versions are only handed out while the listener is known to hear: it
// pings itself through the pool every inboxPingEvery, and InboxVersion
// answers "unknown" once inboxLapse passed without any notification. When
// it hears again, after a reconnect or a silent connection that came back,
// every version starts anew, because changes may have been missed.

const (
	// inboxPingEvery is how often the listener notifies itself to prove it
	// still hears.
	inboxPingEvery = time.Second
	// inboxLapse is how long the listener may stay silent before its
	// versions are no longer handed out.
	inboxLapse = 3 * inboxPingEvery
	// inboxTracked bounds the users with a version of their own; beyond
	// it every version starts anew.
	inboxTracked = 1 << 16
	// inboxPing is the payload of the listener's own notifications; every
	// other payload names users or is "*".
	inboxPing = "ping"
)

// inboxWatch follows the inbox notifications of one database.
type inboxWatch struct {
	// pool is the database's pool, used past its query hooks: the pings
	// are not the application's statements.
	pool *sql.DB
	cfg  *pgx.ConnConfig // the listener's connections
	log  *slog.Logger
	once sync.Once

	mu       sync.Mutex
	heard    time.Time       // the last notification; zero: not hearing
	base     int64           // the version of every user not in versions
	versions map[int64]int64 // users notified since the last new start
	next     int64           // the last version handed out
	synced   map[string]chan struct{}

	chMu sync.Mutex
	ch   string // the channel, once known

	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{}
}

func newInboxWatch(pool *sql.DB, cfg *pgx.ConnConfig) *inboxWatch {
	w := &inboxWatch{pool: pool, cfg: cfg.Copy(), log: slog.Default().With("component", "inbox-watch"),
		versions: map[int64]int64{}, done: make(chan struct{})}
	w.cfg.RuntimeParams["application_name"] = "dialoog-inbox-watch"
	w.ctx, w.cancel = context.WithCancel(context.Background())
	return w
}

// start runs the listener once, on first use.
func (w *inboxWatch) start() {
	w.once.Do(func() { go w.run() })
}

// close stops the listener and waits for it.
func (w *inboxWatch) close() {
	if w == nil {
		return
	}
	w.cancel()
	w.once.Do(func() { close(w.done) }) // it never started
	<-w.done
}

// InboxVersion is the user's inbox version on this instance of a
// PostgreSQL database, and false while it is not known (SQLite keeps the
// version in the users row; see migration 0037). The first call starts
// listening.
func (d *DB) InboxVersion(userID int64) (int64, bool) {
	w := d.inbox
	if w == nil {
		return 0, false
	}
	w.start()
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.hearing() {
		return 0, false
	}
	if v, ok := w.versions[userID]; ok {
		return v, true
	}
	return w.base, true
}

// InboxListening reports whether this instance hands out inbox versions
// now: PostgreSQL, and its listener heard within the last inboxLapse.
func (d *DB) InboxListening() bool {
	w := d.inbox
	if w == nil {
		return false
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.hearing()
}

// hearing: the listener heard within inboxLapse (w.mu held).
func (w *inboxWatch) hearing() bool {
	return !w.heard.IsZero() && time.Since(w.heard) <= inboxLapse
}

// InboxTouched gives the user a new inbox version on this instance at
// once: the person changed something, and their next page here must show
// it without waiting for the notification.
func (d *DB) InboxTouched(userID int64) {
	if w := d.inbox; w != nil {
		w.mu.Lock()
		defer w.mu.Unlock()
		w.bump(userID)
	}
}

// InboxSync waits until the listener has heard every inbox notification
// committed before the call (tests compare pages from memory with the
// database after it). It fails when the listener does not hear within
// ctx or 10 s.
func (d *DB) InboxSync(ctx context.Context) error {
	w := d.inbox
	if w == nil {
		return nil
	}
	w.start()
	// Unique among every instance's tokens: another instance's would
	// prove nothing about this instance's wait.
	token := inboxPing + " " + rand.Text()
	heard := make(chan struct{})
	w.mu.Lock()
	if w.synced == nil {
		w.synced = map[string]chan struct{}{}
	}
	w.synced[token] = heard
	w.mu.Unlock()
	defer func() {
		w.mu.Lock()
		delete(w.synced, token)
		w.mu.Unlock()
	}()
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for {
		// Again and again: the first may come before the LISTEN.
		if err := w.notify(ctx, token); err != nil {
			return fmt.Errorf("inbox sync: %w", err)
		}
		select {
		case <-heard:
			return nil
		case <-ctx.Done():
			return fmt.Errorf("inbox sync: %w", ctx.Err())
		case <-t.C:
		}
	}
}

// bump gives id a new version (w.mu held).
func (w *inboxWatch) bump(id int64) {
	if len(w.versions) >= inboxTracked {
		w.restart()
	}
	w.next++
	w.versions[id] = w.next
}

// restart gives every user a new version (w.mu held).
func (w *inboxWatch) restart() {
	w.next++
	w.base = w.next
	w.versions = make(map[int64]int64)
}

// heardNow records a notification: when the listener had not been heard
// for inboxLapse, it may have missed changes, and every version starts
// anew (w.mu held).
func (w *inboxWatch) heardNow() {
	now := time.Now()
	if w.heard.IsZero() || now.Sub(w.heard) > inboxLapse {
		w.restart()
	}
	w.heard = now
}

// received handles one notification's payload.
func (w *inboxWatch) received(payload string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.heardNow()
	switch {
	case strings.HasPrefix(payload, inboxPing):
		if ch, ok := w.synced[payload]; ok {
			close(ch)
			delete(w.synced, payload)
		}
	case payload == "*":
		w.restart()
	default:
		for s := range strings.SplitSeq(payload, ",") {
			id, err := strconv.ParseInt(s, 10, 64)
			if err != nil {
				// Not ours: anything else would be a bug of the
				// triggers, and missing a change is worse than a miss.
				w.restart()
				return
			}
			w.bump(id)
		}
	}
}

// silent reports whether nothing was heard for d.
func (w *inboxWatch) silent(d time.Duration) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return time.Since(w.heard) > d
}

// lost stops handing out versions until the listener hears again.
func (w *inboxWatch) lost() {
	w.mu.Lock()
	w.heard = time.Time{}
	w.mu.Unlock()
}

// notify sends payload on the inbox channel through the pool.
func (w *inboxWatch) notify(ctx context.Context, payload string) error {
	ch, err := w.channel(ctx)
	if err != nil {
		return err
	}
	_, err = w.pool.ExecContext(ctx, "SELECT pg_notify($1, $2)", ch, payload)
	return err
}

// channel is the schema's inbox channel (migration 0040): 'dialoog_inbox_'
// and the first 16 hex digits of the MD5 of the schema's name.
func (w *inboxWatch) channel(ctx context.Context) (string, error) {
	w.chMu.Lock()
	defer w.chMu.Unlock()
	if w.ch != "" {
		return w.ch, nil
	}
	var schema string
	if err := w.pool.QueryRowContext(ctx, "SELECT current_schema()").Scan(&schema); err != nil {
		return "", fmt.Errorf("inbox channel: %w", err)
	}
	w.ch = inboxChannel(schema)
	return w.ch, nil
}

func inboxChannel(schema string) string {
	sum := md5.Sum([]byte(schema)) // a name, not a secret: PostgreSQL's md5() derives the same
	return "dialoog_inbox_" + hex.EncodeToString(sum[:])[:16]
}

// run listens until close, reconnecting with a growing pause.
func (w *inboxWatch) run() {
	defer close(w.done)
	const firstPause = 100 * time.Millisecond
	pause := firstPause
	for w.ctx.Err() == nil {
		began := time.Now()
		err := w.listen()
		w.lost()
		if time.Since(began) > time.Minute {
			pause = firstPause // it had been working
		}
		if w.ctx.Err() != nil {
			return
		}
		w.log.Warn("inbox watch: listener lost, reconnecting", "err", err, "retry_in", pause)
		select {
		case <-w.ctx.Done():
			return
		case <-time.After(pause):
		}
		pause = min(2*pause, 5*time.Second)
	}
}

// listen opens a connection, LISTENs and receives until the connection
// fails or the watch closes, while a pinger notifies every inboxPingEvery.
func (w *inboxWatch) listen() error {
	ch, err := w.channel(w.ctx)
	if err != nil {
		return err
	}
	cctx, cancel := context.WithTimeout(w.ctx, 10*time.Second)
	conn, err := pgx.ConnectConfig(cctx, w.cfg)
	if err == nil {
		_, err = conn.Exec(cctx, "LISTEN "+pgx.Identifier{ch}.Sanitize())
	}
	cancel()
	if err != nil {
		if conn != nil {
			closeQuietly(conn)
		}
		return fmt.Errorf("listen: %w", err)
	}
	defer closeQuietly(conn)

	lctx, stop := context.WithCancel(w.ctx)
	defer stop()
	var silent atomic.Bool
	w.mu.Lock()
	w.heard = time.Now().Add(-inboxLapse - time.Millisecond) // not hearing yet, but not silent either
	w.mu.Unlock()
	var pinger sync.WaitGroup
	pinger.Add(1)
	go func() {
		defer pinger.Done()
		t := time.NewTicker(inboxPingEvery)
		defer t.Stop()
		for {
			if err := w.notify(lctx, inboxPing); err != nil && lctx.Err() == nil {
				w.log.Debug("inbox watch: ping failed", "err", err)
			}
			if w.silent(2 * inboxLapse) {
				// The connection stopped answering without failing:
				// a new one.
				silent.Store(true)
				stop()
				return
			}
			select {
			case <-lctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	defer func() {
		stop()
		pinger.Wait()
	}()
	for {
		n, err := conn.WaitForNotification(lctx)
		if err != nil {
			if silent.Load() {
				return errors.New("no notification for " + (2 * inboxLapse).String())
			}
			if errors.Is(err, context.Canceled) && w.ctx.Err() != nil {
				return nil
			}
			return err
		}
		w.received(n.Payload)
	}
}

func closeQuietly(conn *pgx.Conn) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	conn.Close(ctx)
}
