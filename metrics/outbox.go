package metrics

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"dialoog/notify"
)

// OutboxStats reports the state of the outbox lanes; *notify.Worker
// implements it.
type OutboxStats interface {
	Stats(ctx context.Context) ([]notify.LaneStats, error)
}

var _ OutboxStats = (*notify.Worker)(nil)

// WatchOutbox adds the outbox metrics, read from src at each scrape (no
// polling in between) within timeout: queue depth and oldest queued age per
// lane (from the database, so across instances), whether the lane is down,
// and this process's deliveries, retries, failures and dropped notices.
func (m *Metrics) WatchOutbox(src OutboxStats, timeout time.Duration) error {
	desc := func(name, help string) *prometheus.Desc {
		return prometheus.NewDesc(prometheus.BuildFQName(Namespace, "outbox", name), help, []string{"lane"}, nil)
	}
	return m.reg.Register(&outboxCollector{
		src:     src,
		timeout: timeout,
		queued:  desc("queued", "Outbox rows of the lane waiting or being sent, on every instance."),
		oldest:  desc("oldest_queued_seconds", "Age of the oldest outbox row of the lane waiting or being sent, on every instance (a row not tried yet counts from when it is due); 0 when none."),
		down:    desc("lane_down", "1 while this instance does not know the lane's transport to work (at start, and after a transport failure until it answers)."),
		deliver: desc("delivered_total", "Outbox rows this instance delivered since it started."),
		retry:   desc("retried_total", "Failed delivery attempts by this instance that will be tried again."),
		fail:    desc("failed_total", "Outbox rows this instance gave up on (refused, or undeliverable for 72 hours)."),
		drop:    desc("dropped_total", "Outbox rows this instance took out unsent: a notice of a new message read before it was due (or replaced by a later one), or mail to an account disabled after it was queued."),
	})
}

// outboxCollector reads the outbox statistics when scraped.
type outboxCollector struct {
	src                                              OutboxStats
	timeout                                          time.Duration
	queued, oldest, down, deliver, retry, fail, drop *prometheus.Desc
}

// Describe implements prometheus.Collector.
func (c *outboxCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.queued, c.oldest, c.down, c.deliver, c.retry, c.fail, c.drop} {
		ch <- d
	}
}

// Collect implements prometheus.Collector. When the statistics cannot be
// read, the scrape reports the error and goes on with the other metrics.
func (c *outboxCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()
	lanes, err := c.src.Stats(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(c.queued, err)
		return
	}
	for _, l := range lanes {
		down := 0.0
		if l.Down {
			down = 1
		}
		ch <- prometheus.MustNewConstMetric(c.queued, prometheus.GaugeValue, float64(l.Queued), l.Channel)
		ch <- prometheus.MustNewConstMetric(c.oldest, prometheus.GaugeValue, l.OldestQueued.Seconds(), l.Channel)
		ch <- prometheus.MustNewConstMetric(c.down, prometheus.GaugeValue, down, l.Channel)
		ch <- prometheus.MustNewConstMetric(c.deliver, prometheus.CounterValue, float64(l.Delivered), l.Channel)
		ch <- prometheus.MustNewConstMetric(c.retry, prometheus.CounterValue, float64(l.Retried), l.Channel)
		ch <- prometheus.MustNewConstMetric(c.fail, prometheus.CounterValue, float64(l.Failed), l.Channel)
		ch <- prometheus.MustNewConstMetric(c.drop, prometheus.CounterValue, float64(l.Dropped), l.Channel)
	}
}
