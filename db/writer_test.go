package db_test

import (
	"context"
	"errors"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"dialoog/db"
	"dialoog/db/dbtest"
)

// TestWriterQueue: on SQLite, write transactions and writes outside them
// queue for their turn in the process; each one commits, a wait ends with
// its context, and a transaction begun inside another one's function does
// not wait for itself.
func TestWriterQueue(t *testing.T) {
	d := dbtest.MustOpenSQLite(t)
	ctx := context.Background()
	if _, err := d.ExecContext(ctx, "CREATE TABLE queued (id INTEGER PRIMARY KEY, writer INTEGER)"); err != nil {
		t.Fatal(err)
	}

	t.Run("every writer commits", func(t *testing.T) {
		var wg sync.WaitGroup
		errs := make(chan error, 8)
		for w := range 8 {
			wg.Go(func() {
				for range 50 {
					if err := d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
						_, err := tx.ExecContext(ctx, "INSERT INTO queued (writer) VALUES (?)", w)
						return err
					}); err != nil {
						errs <- err
						return
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		var n int
		if err := d.NewRaw("SELECT COUNT(*) FROM queued").Scan(ctx, &n); err != nil || n != 400 {
			t.Fatalf("%d rows, %v; want 400", n, err)
		}
	})

	t.Run("a wait ends with its context", func(t *testing.T) {
		release := holdWriter(t, d, 0)
		wctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
		defer cancel()
		err := d.Tx(wctx, func(ctx context.Context, tx bun.Tx) error {
			t.Error("ran while another transaction held the writer")
			return nil
		})
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("waiting transaction: %v, want the context's deadline", err)
		}
		release()
	})

	t.Run("a write outside a transaction waits its turn", func(t *testing.T) {
		release := holdWriter(t, d, 100)
		wrote := make(chan error, 1)
		go func() {
			wrote <- d.Write(ctx, func(ctx context.Context) error {
				_, err := d.ExecContext(ctx, "INSERT INTO queued (writer) VALUES (101)")
				return err
			})
		}()
		select {
		case err := <-wrote:
			t.Fatalf("the write ran while a transaction held the writer: %v", err)
		case <-time.After(50 * time.Millisecond):
		}
		release()
		if err := <-wrote; err != nil {
			t.Fatal(err)
		}
		var order []int
		if err := d.NewRaw("SELECT writer FROM queued WHERE writer >= 100 ORDER BY id").Scan(ctx, &order); err != nil || len(order) != 2 || order[0] != 100 {
			t.Fatalf("rows in the order %v (%v), want the transaction's first", order, err)
		}
	})

	t.Run("nested does not wait for itself", func(t *testing.T) {
		// The inner transaction is a mistake (it cannot write while the
		// outer one does); it must fail with its context, not hang.
		err := d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
			ictx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
			defer cancel()
			return d.Tx(ictx, func(ctx context.Context, tx bun.Tx) error { return nil })
		})
		if err == nil {
			t.Fatal("a transaction inside another one's function began")
		}
	})
}

// holdWriter begins a transaction on d that holds the writer until the
// returned release is called; it then writes a row of writer (unless 0)
// into queued and commits, and release waits for that.
func holdWriter(t *testing.T, d *db.DB, writer int) (release func()) {
	holding, free := make(chan struct{}), make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- d.Tx(context.Background(), func(ctx context.Context, tx bun.Tx) error {
			close(holding)
			<-free
			if writer == 0 {
				return nil
			}
			_, err := tx.ExecContext(ctx, "INSERT INTO queued (writer) VALUES (?)", writer)
			return err
		})
	}()
	<-holding
	return func() {
		close(free)
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
}

// BenchmarkWriteQueue runs write transactions (five INSERTs each) from four
// goroutines on SQLite, with short pauses between them as requests have,
// once waiting in SQLite's busy handler (the baseline) and once queued in
// the process, and reports the latency of a transaction: p50, p99 and the
// longest, in µs, and p99 against the baseline's.
func BenchmarkWriteQueue(b *testing.B) {
	var baseP99 float64
	for _, queued := range []bool{false, true} {
		name := "busy-handler"
		if queued {
			name = "queued"
		}
		b.Run(name, func(b *testing.B) {
			d := dbtest.MustOpenSQLite(b)
			if !queued {
				db.WithoutWriterQueue(d)
			}
			ctx := context.Background()
			if _, err := d.ExecContext(ctx, "CREATE TABLE queued (id INTEGER PRIMARY KEY, body TEXT)"); err != nil {
				b.Fatal(err)
			}
			var mu sync.Mutex
			var lat []time.Duration
			b.SetParallelism(2) // four writers on two cores
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				i := 0
				for pb.Next() {
					start := time.Now()
					err := d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
						for range 5 {
							if _, err := tx.ExecContext(ctx, "INSERT INTO queued (body) VALUES (?)", "a reply of some length"); err != nil {
								return err
							}
						}
						return nil
					})
					if err != nil {
						b.Error(err)
						return
					}
					el := time.Since(start)
					mu.Lock()
					lat = append(lat, el)
					mu.Unlock()
					i++
					time.Sleep(time.Duration(i%3) * 100 * time.Microsecond)
				}
			})
			b.StopTimer()
			sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
			us := func(q float64) float64 { return float64(lat[int(q*float64(len(lat)-1))]) / 1e3 }
			b.ReportMetric(us(0.5), "p50-µs")
			b.ReportMetric(us(0.99), "p99-µs")
			b.ReportMetric(us(1), "max-µs")
			if queued && baseP99 > 0 {
				b.ReportMetric(us(0.99)/baseP99, "p99-x-baseline")
			} else {
				baseP99 = us(0.99)
			}
		})
	}
}
