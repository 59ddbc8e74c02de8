package notify

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"dialoog/db/dbtest"
	"dialoog/notify/notifytest"
)

// BenchmarkSMSDelivery measures one login code from queueing to the gateway
// through a running worker (SQLite), beside the same with a mail hanging at
// an SMTP server that never answers. The ratio of the two is the cost a
// hanging SMTP server adds to a login code (1.0 means none).
func BenchmarkSMSDelivery(b *testing.B) {
	for _, hanging := range []bool{false, true} {
		name := "baseline-smtp-idle"
		if hanging {
			name = "smtp-hanging"
		}
		b.Run(name, func(b *testing.B) {
			d := dbtest.MustOpenSQLite(b)
			arrived := make(chan struct{}, 1)
			gw := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(http.StatusOK)
				arrived <- struct{}{}
			}))
			b.Cleanup(gw.Close)
			silent := notifytest.StartSilentSMTP(b)
			v := testVault(b, 42)
			m, _ := NewMailer(mustURL(b, "smtp://"+silent.Addr), fromAddr())
			s, _ := NewSMSSender(mustURL(b, "webhook+"+gw.URL), nil)
			o := NewOutbox(v)
			w := NewWorker(d, v, m, s, nil, WorkerOptions{MailTimeout: time.Hour})
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan struct{})
			go func() { w.Run(ctx); close(done) }()
			b.Cleanup(func() { cancel(); <-done })
			if hanging {
				if _, err := o.QueueMail(ctx, d, Mail{To: "hangt@example.org", Subject: "s", Text: "t"}); err != nil {
					b.Fatal(err)
				}
				w.Kick()
				for silent.Accepted() == 0 {
					time.Sleep(time.Millisecond)
				}
			}
			b.ResetTimer()
			for i := range b.N {
				if _, err := o.QueueSMS(ctx, d, SMS{To: fmt.Sprintf("+316%08d", i), Body: "Uw code is 123456"}); err != nil {
					b.Fatal(err)
				}
				w.Kick()
				<-arrived
			}
		})
	}
}
