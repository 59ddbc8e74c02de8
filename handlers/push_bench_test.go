package handlers

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"dialoog/messaging"
	"dialoog/messaging/messagingtest"
)

// BenchmarkPush is the real push path on one instance (SQLite, in-process
// broker): a reply through the messaging service (its transaction, the
// event, the relay rendering it for the connected recipient) until the
// fragment arrives on the recipient's WebSocket, in conversations of 20 and
// 2,000 messages with 2 and 20 participants. ns/op is the latency of one
// push (one reply at a time); p50-ms and p99-ms are its percentiles, and
// "x-short" is the p50 over the p50 of the 20-message, 2-person
// conversation of the same run: a push should cost the same whatever the
// conversation's length or size.
//
//	go test -run '^$' -bench 'Push' -benchtime 200x ./handlers/
func BenchmarkPush(b *testing.B) {
	var shortP50 float64
	for _, c := range []struct{ length, members int }{{20, 2}, {2000, 2}, {20, 20}, {2000, 20}} {
		b.Run(fmt.Sprintf("messages=%d/people=%d", c.length, c.members), func(b *testing.B) {
			la := newLiveApp(b)
			ctx := context.Background()
			hr := la.storeUser(b, "hr@osaw.nl", true, "Hanna", "de", "Vries", "nl")
			jan := la.storeUser(b, "jan@example.nl", false, "Jan", "", "Jansen", "nl")
			to := []string{jan.Email}
			for i := range c.members - 2 {
				to = append(to, fmt.Sprintf("collega%02d@example.nl", i))
			}
			tid := la.compose(b, hr, "Re-integratie", "Begin", to...)
			if err := messagingtest.LongThread(ctx, la.d, la.v, tid, hr.ID, jan.ID, c.length-1, la.clk.Now()); err != nil {
				b.Fatal(err)
			}
			conn := la.connect(b, jan, la.sessionToken(b, jan))
			lat := make([]float64, 0, b.N)
			i := 0
			for b.Loop() {
				i++
				marker := fmt.Sprintf("bericht-%d-einde", i)
				start := time.Now()
				if _, err := la.msg.Reply(ctx, hr.Identity(), messaging.ReplyInput{ThreadID: tid, Body: marker}); err != nil {
					b.Fatal(err)
				}
				for {
					if msg := readLive(b, conn); strings.Contains(msg, marker) {
						break
					}
				}
				lat = append(lat, float64(time.Since(start).Microseconds())/1000)
			}
			p50 := percentile(lat, 0.5)
			b.ReportMetric(p50, "p50-ms")
			b.ReportMetric(percentile(lat, 0.99), "p99-ms")
			if shortP50 == 0 {
				shortP50 = p50
			}
			b.ReportMetric(p50/shortP50, "x-short")
		})
	}
}
