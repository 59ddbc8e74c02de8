package realtime

import (
	"context"
	crand "crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	mrand "math/rand/v2"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
)

// DefaultChannel is the NOTIFY channel of a database URL without a
// search_path.
const DefaultChannel = "dialoog_events"

// DefaultListenerName is the application_name of the listener connection, so
// that it can be found in pg_stat_activity.
const DefaultListenerName = "dialoog-listener"

const (
	defaultHealthEvery = 15 * time.Second
	minBackoff         = 200 * time.Millisecond
	maxBackoff         = 5 * time.Second
	// pgIdentMax is PostgreSQL's NAMEDATALEN-1: longer channel names fail.
	pgIdentMax = 63
)

var channelName = regexp.MustCompile(`^[a-z_][a-z0-9_]*$`)

// PostgresOption adjusts a PostgresBroker.
type PostgresOption func(*postgresConfig)

type postgresConfig struct {
	channel      string
	listenerName string
	healthEvery  time.Duration
}

// WithChannel sets the NOTIFY channel (lower-case letters, digits and
// underscores, at most 63 bytes). Instances that share a channel share
// events. By default it is DefaultChannel, suffixed with the schema when the
// database URL sets search_path, because NOTIFY channels span a whole
// database while schemas separate deployments.
func WithChannel(name string) PostgresOption {
	return func(c *postgresConfig) { c.channel = name }
}

// WithListenerName sets the application_name of the listener connection
// (DefaultListenerName by default).
func WithListenerName(name string) PostgresOption {
	return func(c *postgresConfig) { c.listenerName = name }
}

// WithHealthCheck sets how often the listener proves its connection by
// notifying itself (15 s by default); a ping not answered within one such
// period makes it reconnect.
func WithHealthCheck(every time.Duration) PostgresOption {
	return func(c *postgresConfig) { c.healthEvery = every }
}

// PostgresBroker is the Broker for several instances sharing a PostgreSQL
// database. Publish sends pg_notify through a connection pool; a dedicated
// listener connection receives every notification of the channel, including
// those of this instance, and hands them to the local subscribers, so the
// publisher is not delivered to twice.
//
// When the listener connection drops (database restart, terminated backend,
// unanswered health ping) it reconnects with exponential backoff and then
// delivers a KindResync event to the local subscribers, because
// notifications sent while it was away are lost.
type PostgresBroker struct {
	cfg  postgresConfig
	log  *slog.Logger
	pool *bun.DB         // publishing and health pings
	lncf *pgx.ConnConfig // the listener's connections
	fan  *fanout

	pingChannel string
	pingSeq     atomic.Int64 // last ping sent
	pongSeq     atomic.Int64 // last ping received back

	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{}
	ready  chan struct{}

	mu     sync.Mutex
	closed bool
}

var _ Broker = (*PostgresBroker)(nil)

// NewPostgresBroker connects to the database at dsn, starts listening and
// returns once the listener is known to receive notifications (waiting at
// most until ctx ends, or 30 s when ctx has no deadline). log may be nil for
// slog.Default().
func NewPostgresBroker(ctx context.Context, dsn string, log *slog.Logger, opts ...PostgresOption) (*PostgresBroker, error) {
	if log == nil {
		log = slog.Default()
	}
	cfg := postgresConfig{listenerName: DefaultListenerName, healthEvery: defaultHealthEvery}
	ch, err := channelForDSN(dsn)
	if err != nil {
		return nil, err
	}
	cfg.channel = ch
	for _, o := range opts {
		o(&cfg)
	}
	if !channelName.MatchString(cfg.channel) || len(cfg.channel) > pgIdentMax {
		return nil, fmt.Errorf("postgres broker: invalid channel name %q", cfg.channel)
	}
	if cfg.healthEvery <= 0 {
		cfg.healthEvery = defaultHealthEvery
	}

	poolcf, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("postgres broker: %w", err)
	}
	// The database URL's pool size is the main pool's (see db.Warm), not
	// a setting for the server; the broker's pool has its own.
	delete(poolcf.RuntimeParams, "pool_max_conns")
	// bun writes the arguments into the text: one simple query each.
	poolcf.DefaultQueryExecMode = pgx.QueryExecModeSimpleProtocol
	lncf := poolcf.Copy()
	lncf.RuntimeParams["application_name"] = cfg.listenerName
	pool := bun.NewDB(stdlib.OpenDB(*poolcf), pgdialect.New())
	pool.SetMaxOpenConns(4)
	if err := pool.PingContext(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres broker: connect: %w", err)
	}

	b := &PostgresBroker{
		cfg:         cfg,
		log:         log.With("channel", cfg.channel),
		pool:        pool,
		lncf:        lncf,
		fan:         newFanout(log),
		pingChannel: "dialoog_ping_" + randomHex(8),
		done:        make(chan struct{}),
		ready:       make(chan struct{}),
	}
	b.ctx, b.cancel = context.WithCancel(context.Background())
	go b.run()
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
	}
	select {
	case <-b.ready:
		return b, nil
	case <-ctx.Done():
		b.Close()
		return nil, fmt.Errorf("postgres broker: wait for listener: %w", ctx.Err())
	}
}

// Channel returns the NOTIFY channel the broker uses.
func (b *PostgresBroker) Channel() string { return b.cfg.channel }

// Publish sends ev with pg_notify, split into several notifications when its
// UserIDs do not fit in one payload. Subscribers of this instance receive it
// through the listener like every other instance.
func (b *PostgresBroker) Publish(ctx context.Context, ev Event) error {
	if err := ev.validate(); err != nil {
		return err
	}
	b.mu.Lock()
	closed := b.closed
	b.mu.Unlock()
	if closed {
		return ErrClosed
	}
	payloads, err := encodeEvent(ev, MaxPayload)
	if err != nil {
		return err
	}
	for _, p := range payloads {
		if err := b.notify(ctx, string(p)); err != nil {
			return fmt.Errorf("publish %s event: %w", ev.Kind, err)
		}
	}
	return nil
}

// Execer runs a statement in the caller's database transaction (a bun.Tx).
type Execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// PublishTx sends ev with pg_notify inside the caller's transaction tx on
// the broker's database: PostgreSQL delivers it at the commit and drops it
// on a rollback, so the event exists if and only if the change does.
func (b *PostgresBroker) PublishTx(ctx context.Context, tx Execer, ev Event) error {
	if err := ev.validate(); err != nil {
		return err
	}
	payloads, err := encodeEvent(ev, MaxPayload)
	if err != nil {
		return err
	}
	for _, p := range payloads {
		if _, err := tx.ExecContext(ctx, "SELECT pg_notify(?, ?)", b.cfg.channel, string(p)); err != nil {
			return fmt.Errorf("publish %s event in transaction: %w", ev.Kind, err)
		}
	}
	return nil
}

// publishTries bounds the attempts of one NOTIFY: after a database restart
// each pooled connection fails once before the pool replaces it, and an
// event must not be lost to that.
const publishTries = 6

func (b *PostgresBroker) notify(ctx context.Context, payload string) error {
	var err error
	for range publishTries {
		if _, err = b.pool.ExecContext(ctx, "SELECT pg_notify(?, ?)", b.cfg.channel, payload); err == nil || ctx.Err() != nil {
			return err
		}
	}
	return err
}

// Subscribe implements Broker.
func (b *PostgresBroker) Subscribe(fn func(Event)) (cancel func()) { return b.fan.subscribe(fn) }

// Close stops the listener, waits for its goroutines and the subscribers'
// and closes the connections.
func (b *PostgresBroker) Close() error {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return nil
	}
	b.closed = true
	b.mu.Unlock()
	b.cancel() // ends a wait for a notification; run closes the connection
	<-b.done
	b.fan.close()
	return b.pool.Close()
}

// run keeps a listener until Close: a connection of its own that LISTENs on
// the event and ping channels. When the connection fails, or the pinger
// gives it up, run waits (backoff) and opens a new one.
func (b *PostgresBroker) run() {
	defer close(b.done)
	backoff := newBackoff()
	for b.ctx.Err() == nil {
		ln, err := b.listen()
		if err == nil {
			err = b.serve(ln, backoff)
		}
		if b.ctx.Err() != nil {
			return
		}
		wait := backoff.next()
		b.log.Warn("realtime: listener connection lost, reconnecting", "err", err, "retry_in", wait)
		b.sleep(wait)
	}
}

// listener is the connection that receives the notifications. Only run's
// goroutine uses the connection; stop, from any goroutine, ends a wait for
// a notification.
type listener struct {
	conn *pgx.Conn
	ctx  context.Context
	stop context.CancelFunc
}

// listen connects and LISTENs on the event and ping channels.
func (b *PostgresBroker) listen() (*listener, error) {
	ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
	defer cancel()
	conn, err := pgx.ConnectConfig(ctx, b.lncf)
	if err != nil {
		return nil, fmt.Errorf("listen: %w", err)
	}
	for _, ch := range []string{b.cfg.channel, b.pingChannel} {
		if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{ch}.Sanitize()); err != nil {
			closeConn(conn)
			return nil, fmt.Errorf("listen: %w", err)
		}
	}
	ln := &listener{conn: conn}
	ln.ctx, ln.stop = context.WithCancel(b.ctx)
	return ln, nil
}

// closeConn says goodbye to the server, or gives up after a second on a
// connection that no longer answers.
func closeConn(conn *pgx.Conn) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	conn.Close(ctx)
}

// serve delivers notifications from ln until its connection fails, the
// pinger gives it up or the broker closes, and then closes it. The
// connection counts as up once a notification came through it (a ping, sent
// through the pool, at the latest), which proves that LISTEN is in effect.
func (b *PostgresBroker) serve(ln *listener, backoff *backoff) error {
	defer func() {
		ln.stop()
		closeConn(ln.conn)
	}()
	var gaveUp atomic.Bool
	pingCtx, stopPing := context.WithCancel(b.ctx)
	var pinger sync.WaitGroup
	pinger.Add(1)
	go func() {
		defer pinger.Done()
		if !b.ping(pingCtx) {
			gaveUp.Store(true)
			ln.stop()
		}
	}()
	defer func() {
		stopPing()
		pinger.Wait()
	}()

	up := false
	for {
		// No read deadline: the pinger stops the wait when the connection
		// goes quiet.
		n, err := ln.conn.WaitForNotification(ln.ctx)
		if err != nil {
			if gaveUp.Load() && b.ctx.Err() == nil {
				return errors.New("listener ping unanswered")
			}
			return err
		}
		if !up {
			up = true
			backoff.reset()
			b.connected()
		}
		if n.Channel == b.pingChannel {
			seq, _ := strconv.ParseInt(n.Payload, 10, 64)
			b.pongSeq.Store(seq)
			continue
		}
		ev, err := decodeEvent([]byte(n.Payload))
		if err != nil {
			b.log.Warn("realtime: ignoring notification", "err", err)
			continue
		}
		b.fan.dispatch(ev)
	}
}

// connected marks the listener as up: the first time it releases
// NewPostgresBroker, afterwards it tells the subscribers to resync.
func (b *PostgresBroker) connected() {
	select {
	case <-b.ready:
		b.log.Info("realtime: listener reconnected")
		b.fan.dispatch(Event{Kind: KindResync})
	default:
		close(b.ready)
	}
}

// ping notifies the ping channel every healthEvery, and every half second
// while the last ping is unanswered (the first one after a reconnect may
// overtake the LISTEN). It returns false when a ping stayed unanswered for
// healthEvery, and true when ctx ends.
func (b *PostgresBroker) ping(ctx context.Context) bool {
	send := func() (int64, time.Time) {
		seq := b.pingSeq.Add(1)
		pctx, cancel := context.WithTimeout(ctx, b.cfg.healthEvery)
		defer cancel()
		_, err := b.pool.ExecContext(pctx, "SELECT pg_notify(?, ?)", b.pingChannel, strconv.FormatInt(seq, 10))
		if err != nil && ctx.Err() == nil {
			b.log.Debug("realtime: listener ping failed", "err", err)
		}
		return seq, time.Now()
	}
	t := time.NewTicker(min(b.cfg.healthEvery, 500*time.Millisecond))
	defer t.Stop()
	sent, sentAt := send()
	var waiting time.Time // since when pings have gone unanswered
	for {
		select {
		case <-ctx.Done():
			return true
		case now := <-t.C:
			switch {
			case b.pongSeq.Load() >= sent:
				waiting = time.Time{}
				if now.Sub(sentAt) >= b.cfg.healthEvery {
					sent, sentAt = send()
				}
			case waiting.IsZero():
				waiting = sentAt
				sent, sentAt = send()
			case now.Sub(waiting) >= b.cfg.healthEvery:
				return false
			default:
				sent, sentAt = send()
			}
		}
	}
}

// sleep waits for d or until Close.
func (b *PostgresBroker) sleep(d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-b.ctx.Done():
	case <-t.C:
	}
}

// backoff yields exponentially growing, jittered waits so that instances do
// not reconnect in lockstep after a database restart.
type backoff struct{ d time.Duration }

func newBackoff() *backoff { return &backoff{d: minBackoff} }

func (b *backoff) reset() { b.d = minBackoff }

func (b *backoff) next() time.Duration {
	d := b.d/2 + mrand.N(b.d/2+1)
	b.d = min(2*b.d, maxBackoff)
	return d
}

// channelForDSN derives the default channel from the search_path of a
// database URL.
func channelForDSN(dsn string) (string, error) {
	u, err := url.Parse(dsn)
	if err != nil {
		return "", fmt.Errorf("postgres broker: parse database URL: %w", err)
	}
	schema := strings.ToLower(u.Query().Get("search_path"))
	if i := strings.IndexByte(schema, ','); i >= 0 {
		schema = schema[:i]
	}
	schema = strings.TrimSpace(schema)
	if schema == "" || schema == "public" {
		return DefaultChannel, nil
	}
	ch := DefaultChannel + "_" + schema
	if !channelName.MatchString(ch) || len(ch) > pgIdentMax {
		sum := sha256.Sum256([]byte(schema))
		ch = DefaultChannel + "_" + hex.EncodeToString(sum[:8])
	}
	return ch, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = crand.Read(b)
	return hex.EncodeToString(b)
}
