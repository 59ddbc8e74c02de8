package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
)

// DefaultPoolSize is the number of connections a PostgreSQL pool holds
// unless the database URL's pool_max_conns (the parameter's name in pgx's
// own pool) says otherwise.
const DefaultPoolSize = 20

// poolSize takes pool_max_conns out of cfg's parameters (pgx would send it
// to the server as a setting) and returns it, or DefaultPoolSize.
func poolSize(cfg *pgx.ConnConfig) (int, error) {
	v, ok := cfg.RuntimeParams["pool_max_conns"]
	if !ok {
		return DefaultPoolSize, nil
	}
	delete(cfg.RuntimeParams, "pool_max_conns")
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		return 0, fmt.Errorf("pool_max_conns=%q: want a number of connections, at least 1", v)
	}
	return n, nil
}

// PoolSize is the most connections the database's pool opens: on
// PostgreSQL its size once warm (see Warm); on SQLite the pool of the
// process's connections.
func (d *DB) PoolSize() int {
	if d.postgres {
		return d.poolSize
	}
	return d.DB.DB.Stats().MaxOpenConnections
}

// A pool that grows on demand makes the requests of a burst wait for what a
// new PostgreSQL connection costs: a backend process started and
// authenticated, and then on that backend every fixed statement parsed and
// planned against catalog caches that are still empty. Measured under load
// on two cores: 20–90 ms per request caught in it, against well under a
// millisecond on a warm connection (bench/README.md, "Inbox page under
// load"). Warm takes that cost at start instead.

// warmer spreads prepared statements over a warm pool (see Warm).
type warmer struct {
	started atomic.Bool // Warm has run
	on      atomic.Bool // the spreader runs: statements go to pending
	pending chan *sql.Stmt
	cancel  context.CancelFunc
	done    chan struct{}
	busy    sync.WaitGroup // one per statement handed over and not yet spread
}

// spreadWait bounds how long spreading one statement may hold connections.
const spreadWait = 5 * time.Second

// Warm readies a PostgreSQL pool for serving; it does nothing on SQLite,
// whose connections are in the process. It opens all the pool's
// connections (PoolSize) at once, and the pool keeps them (it never closes
// a connection for being idle). From then on every fixed statement
// (QueryPrepared, ExecPrepared), when first prepared, is prepared in the
// background on every idle connection too, as are the statements prepared
// before Warm. The server calls it once at start, before it serves;
// commands and tests, which use a few connections, do not; later calls do
// nothing. Call it before Close. An error means some connections could not
// be opened; the pool works with those it has (and after the database
// restarts, with those it opens again on demand).
func (d *DB) Warm(ctx context.Context) error {
	if !d.postgres || !d.warm.started.CompareAndSwap(false, true) {
		return nil
	}
	d.warm.pending = make(chan *sql.Stmt, 256)
	d.warm.done = make(chan struct{})
	wctx, cancel := context.WithCancel(context.Background())
	d.warm.cancel = cancel
	go d.spreader(wctx)
	d.warm.on.Store(true)
	err := fillPool(ctx, d.DB.DB, d.poolSize)
	d.cache.stmts.Range(func(_, s any) bool {
		d.spread(s.(*sql.Stmt))
		return true
	})
	if err != nil {
		return fmt.Errorf("warm pool: %w", err)
	}
	return nil
}

// fillPool opens n connections of pool at once and returns them to it.
func fillPool(ctx context.Context, pool *sql.DB, n int) error {
	conns := make([]*sql.Conn, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			c, err := pool.Conn(ctx)
			if err == nil {
				err = c.PingContext(ctx)
			}
			conns[i], errs[i] = c, err
		})
	}
	wg.Wait()
	for _, c := range conns {
		if c != nil {
			c.Close() // back to the pool
		}
	}
	return errors.Join(errs...)
}

// spread has s prepared, in the background, on every connection that is
// idle then (see spreader).
func (d *DB) spread(s *sql.Stmt) {
	if !d.warm.on.Load() {
		return
	}
	d.warm.busy.Add(1)
	select {
	case d.warm.pending <- s:
	default: // a connection prepares it when it first runs it
		d.warm.busy.Done()
	}
}

// spreader prepares the statements handed to spread on the pool's idle
// connections, one batch at a time, so that the batches do not share the
// connections out among themselves. It takes only idle connections, one
// transaction each (database/sql prepares a statement on a chosen
// connection only within a transaction, and keeps it there for every later
// use of the statement), and holds them for the few round trips that
// takes; connections busy with requests prepare a statement when they first
// run it.
func (d *DB) spreader(ctx context.Context) {
	defer close(d.warm.done)
	pool := d.DB.DB
	for {
		var batch []*sql.Stmt
		select {
		case <-ctx.Done():
			for range len(d.warm.pending) {
				<-d.warm.pending
				d.warm.busy.Done()
			}
			return
		case s := <-d.warm.pending:
			batch = append(batch, s)
		}
		for more := true; more; {
			select {
			case s := <-d.warm.pending:
				batch = append(batch, s)
			default:
				more = false
			}
		}
		func() {
			ctx, cancel := context.WithTimeout(ctx, spreadWait)
			defer cancel()
			defer d.warm.busy.Add(-len(batch))
			var txs []*sql.Tx
			var dones []func()
			defer func() {
				for _, done := range dones {
					done()
				}
			}()
			for pool.Stats().Idle > 0 && len(txs) < d.poolSize {
				tx, done, err := idleTx(ctx, pool)
				if err != nil {
					return
				}
				txs, dones = append(txs, tx), append(dones, done)
			}
			for _, tx := range txs {
				for _, s := range batch {
					// Closing a transaction's copy keeps the statement
					// prepared on the connection, for s.
					tx.StmtContext(ctx, s).Close()
				}
			}
		}()
	}
}

// idleTx begins a transaction on a connection of pool that is idle now:
// when a request took the last one first, it gives up within acquireWait
// instead of holding the others while it waits. done ends the transaction
// and returns the connection to the pool.
func idleTx(ctx context.Context, pool *sql.DB) (tx *sql.Tx, done func(), err error) {
	actx, cancel := context.WithTimeout(ctx, acquireWait)
	c, err := pool.Conn(actx)
	cancel()
	if err != nil {
		return nil, nil, err
	}
	if tx, err = c.BeginTx(ctx, nil); err != nil {
		c.Close()
		return nil, nil, err
	}
	return tx, func() { tx.Rollback(); c.Close() }, nil
}

// acquireWait bounds how long spreading waits for an idle connection.
// It happens once per fixed statement, when it is first prepared; on a
// busy machine a goroutine can wait several milliseconds for a core, and
// 10 ms then left the statement on a single connection.
const acquireWait = 100 * time.Millisecond

// stopWarm ends the statements' spreading; Close calls it.
func (d *DB) stopWarm() {
	if d.warm.cancel != nil {
		d.warm.cancel()
		<-d.warm.done
	}
}
