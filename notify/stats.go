package notify

import (
	"context"
	"fmt"
	"time"

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
	// Delivered, Retried (failed attempts that will be tried again) and
	// Failed (rows given up) count this worker's attempts since it started.
	Delivered, Retried, Failed int64
}

// Stats returns the state of every lane, SMS first.
func (w *Worker) Stats(ctx context.Context) ([]LaneStats, error) {
	var rows []struct {
		Channel string
		N       int
		Oldest  time.Time
	}
	err := w.db.NewSelect().Model((*db.OutboxItem)(nil)).
		Column("channel").
		ColumnExpr("count(*) AS n").
		ColumnExpr("min(created_at) AS oldest").
		Where("status IN (?, ?)", db.OutboxPending, db.OutboxSending).
		Group("channel").
		Scan(ctx, &rows)
	if err != nil {
		return nil, fmt.Errorf("outbox stats: %w", err)
	}
	now := w.opt.Now()
	out := make([]LaneStats, 0, len(w.lanes))
	for _, l := range w.lanes {
		l.mu.Lock()
		down := l.down
		l.mu.Unlock()
		s := LaneStats{
			Channel: l.channel, Transport: l.transport, Down: down,
			Delivered: l.delivered.Load(), Retried: l.retried.Load(), Failed: l.failed.Load(),
		}
		for _, r := range rows {
			if r.Channel == l.channel {
				s.Queued = r.N
				if age := now.Sub(r.Oldest); age > 0 {
					s.OldestQueued = age
				}
			}
		}
		out = append(out, s)
	}
	return out, nil
}
