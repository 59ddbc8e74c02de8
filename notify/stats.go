package notify

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"dialoog/db"
)

// LaneStats is the state of one outbox lane, for monitoring (a metrics
// endpoint exports it; this package depends on no metrics library).
type LaneStats struct {
	Channel   string // db.ChannelSMS or db.ChannelMail
	Transport string // the transport's Name
	// Queued counts the rows of the channel waiting or being sent, and
	// OldestQueued is the age of the oldest of them (zero when none), read
	// from the database, so they cover every instance.
	Queued       int
	OldestQueued time.Duration
	// Down is set while this worker does not know the transport to work: at
	// start and after a failure of the transport until it answers again.
	Down bool
	// Delivered, Retried (failed attempts that will be tried again), Failed
	// (rows given up) and Dropped (notices of a new message that had
	// nothing left to tell, WorkerOptions.NoticeWanted) count this worker's
	// rows since it started.
	Delivered, Retried, Failed, Dropped int64
}

// Stats returns the state of every lane, SMS first.
func (w *Worker) Stats(ctx context.Context) ([]LaneStats, error) {
	now := w.opt.Now()
	out := make([]LaneStats, 0, len(w.lanes))
	for _, l := range w.lanes {
		l.mu.Lock()
		down := l.down
		l.mu.Unlock()
		s := LaneStats{
			Channel: l.channel, Transport: l.transport, Down: down,
			Delivered: l.delivered.Load(), Retried: l.retried.Load(), Failed: l.failed.Load(), Dropped: l.dropped.Load(),
		}
		var q struct {
			N      int
			Oldest bun.NullTime
		}
		if err := w.statsQuery(l.channel).Scan(ctx, &q); err != nil {
			return nil, fmt.Errorf("outbox stats %s: %w", l.channel, err)
		}
		s.Queued = q.N
		if age := now.Sub(q.Oldest.Time); !q.Oldest.IsZero() && age > 0 {
			s.OldestQueued = age
		}
		out = append(out, s)
	}
	return out, nil
}

// statsQuery counts the queued rows of channel and finds the oldest, by a
// range read of the lane index. A row not tried yet counts from when it is
// due (a new-message notice waits DIALOOG_NOTIFY_DELAY by design), a row
// that was tried from when it was queued.
func (w *Worker) statsQuery(channel string) *bun.SelectQuery {
	return w.db.NewSelect().Model((*db.OutboxItem)(nil)).
		ColumnExpr("count(*) AS n").
		ColumnExpr("min(CASE WHEN attempts = 0 THEN next_attempt_at ELSE created_at END) AS oldest").
		Where("channel = ?", channel).
		Where("status IN (?, ?)", db.OutboxPending, db.OutboxSending)
}
