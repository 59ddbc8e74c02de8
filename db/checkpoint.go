package db

import (
	"context"
	"database/sql/driver"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// SQLite appends every commit to its write-ahead log. Left to itself, the
// commit that takes the log past 1,000 pages also copies the log into the
// database file and waits for the disk twice (a checkpoint): about one
// reply in a hundred paid for the hundred before it, and that was the tail
// of a live push. The pool's connections therefore never checkpoint
// (wal_autocheckpoint(0) in the DSN); a checkpointer beside them does,
// after every checkpointEvery writes and at least every checkpointIdle, in
// PASSIVE mode, which waits for no reader and no writer and holds up none
// of them. Reads look up each page in the log's index, which grows with
// the log, so a short log also keeps reads fast.
//
// A passive checkpoint copies what was in the log when it began; the log
// starts again from its beginning only when a write begins after a
// checkpoint copied all of it. Under writes without a pause that may never
// happen, and the log would grow without end. So when the log has reached
// checkpointLimit pages (SQLite's own limit), the checkpointer copies it
// once more in the writers' turn (Write), and the next write starts the
// log again: the writes wait for it, as one in about a hundred did when
// commits checkpointed, but only under a stream of writes.
//
// A read that lasts (a large export) holds the log at its snapshot, and
// the log grows with every write meanwhile. SQLite keeps the file at the
// size it reached, so the pool's connections cut it back to walSizeLimit
// (journal_size_limit in the DSN) when the log starts again. The limit is
// four times checkpointLimit pages, above what the log reaches under a
// stream of writes, so that a normal start of the log does not shrink a
// file that will grow again.
const (
	checkpointEvery = 32
	checkpointIdle  = time.Second
	checkpointLimit = 1000
	walSizeLimit    = 4 * checkpointLimit * 4096
)

// truncateWait bounds how long emptying the log (DB.Checkpoint) waits for
// readers on older snapshots, while it holds up every writer.
const truncateWait = 200 * time.Millisecond

// checkpointer runs the SQLite checkpoints of a DB.
type checkpointer struct {
	writes atomic.Int64 // writes since the last checkpoint began
	// truncate: the log is to be emptied (DB.Checkpoint could not), as
	// soon as no reader holds on to its frames.
	truncate atomic.Bool
	wake     chan struct{} // a checkpoint is due
	cancel   context.CancelFunc
	done     sync.WaitGroup
}

// startCheckpointer starts d's checkpointer; Close stops it.
func (d *DB) startCheckpointer(log *slog.Logger) {
	ctx, cancel := context.WithCancel(context.Background())
	c := &checkpointer{wake: make(chan struct{}, 1), cancel: cancel}
	d.ckpt = c
	c.done.Add(1)
	go func() {
		defer c.done.Done()
		t := time.NewTicker(checkpointIdle)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-c.wake:
			case <-t.C:
			}
			c.writes.Store(0)
			if err := d.checkpoint(ctx); err != nil && ctx.Err() == nil {
				log.Warn("sqlite checkpoint", "err", err)
			}
		}
	}()
}

// checkpoint copies the log into the database file, and once more in the
// writers' turn when the log has grown to checkpointLimit pages. When the
// log is to be emptied and no reader holds on to its frames any more (all
// of them copied), it empties it.
func (d *DB) checkpoint(ctx context.Context) error {
	pages, copied, err := d.passiveCheckpoint(ctx)
	if err != nil {
		return err
	}
	if d.ckpt.truncate.Load() && copied == pages {
		done, err := d.truncate(ctx)
		if done {
			d.ckpt.truncate.Store(false)
		}
		return err
	}
	if pages < checkpointLimit {
		return nil
	}
	return d.Write(ctx, func(ctx context.Context) error {
		_, _, err := d.passiveCheckpoint(ctx)
		return err
	})
}

// passiveCheckpoint runs a PASSIVE checkpoint and returns the number of
// pages in the log and how many of them are in the database file. It runs
// on database/sql directly, past bun's query hooks: tests and metrics add
// hooks after the database is open, and the checkpointer runs from the
// start.
func (d *DB) passiveCheckpoint(ctx context.Context) (pages, copied int, err error) {
	var busy int
	if err := d.DB.DB.QueryRowContext(ctx, "PRAGMA wal_checkpoint(PASSIVE)").Scan(&busy, &pages, &copied); err != nil {
		return 0, 0, fmt.Errorf("checkpoint: %w", err)
	}
	return pages, copied, nil
}

// truncate empties the log in the writers' turn, on a connection of its
// own that waits at most truncateWait for readers on older snapshots; it
// reports whether the log was emptied.
func (d *DB) truncate(ctx context.Context) (done bool, err error) {
	err = d.Write(ctx, func(ctx context.Context) error {
		conn, err := d.DB.DB.Conn(ctx)
		if err != nil {
			return fmt.Errorf("checkpoint: %w", err)
		}
		defer conn.Close()
		if _, err := conn.ExecContext(ctx, fmt.Sprintf("PRAGMA busy_timeout = %d", truncateWait.Milliseconds())); err != nil {
			return fmt.Errorf("checkpoint: %w", err)
		}
		var busy, pages, copied int
		err = conn.QueryRowContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)").Scan(&busy, &pages, &copied)
		// The connection goes back to the pool with the DSN's timeout, or
		// not at all.
		if _, rerr := conn.ExecContext(context.Background(), fmt.Sprintf("PRAGMA busy_timeout = %d", busyTimeout.Milliseconds())); rerr != nil {
			_ = conn.Raw(func(any) error { return driver.ErrBadConn })
		}
		if err != nil {
			return fmt.Errorf("checkpoint: %w", err)
		}
		done = busy == 0
		return nil
	})
	return done, err
}

// truncateLater has the checkpointer empty the log as soon as it can.
func (c *checkpointer) truncateLater() {
	if c == nil {
		return
	}
	c.truncate.Store(true)
	c.wakeUp()
}

// wrote counts a write and wakes the checkpointer when one is due.
func (c *checkpointer) wrote() {
	if c == nil {
		return
	}
	if c.writes.Add(1) >= checkpointEvery {
		c.wakeUp()
	}
}

// wakeUp has the checkpointer run a checkpoint now (or right after the
// one it is running).
func (c *checkpointer) wakeUp() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// close stops the checkpointer; SQLite copies what is left when the last
// connection closes.
func (c *checkpointer) close() {
	if c == nil {
		return
	}
	c.cancel()
	c.done.Wait()
}
