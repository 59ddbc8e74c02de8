package messaging_test

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"dialoog/db"
	"dialoog/db/dbtest"
	"dialoog/messaging"
	"dialoog/messaging/messagingtest"
)

// BenchmarkExport measures the memory of exporting a box (SQLite, the
// data-dir blob store), for a box of 25 MiB of attachments and 200
// conversations of 10 messages and for one of 200 MiB and 2,000
// conversations (20,000 messages): how far the heap grew while the ZIP
// file was written (the peak of HeapInuse above its level before, sampled
// every 2 ms) beside the bytes written, and beside a baseline measured in
// the same run: the same attachments streamed from the blob store to
// io.Discard, without the export. "4-parallel" exports the 200 MiB box of
// four people at once (issue: 4 parallel exports of a 72 MiB box took the
// RSS from 140 to 685 MiB). Run with -benchtime=1x:
//
//	go test -run '^$' -bench Export -benchtime=1x ./messaging/
func BenchmarkExport(b *testing.B) {
	for _, box := range []struct {
		name           string
		files, threads int
	}{{"25MiB", 1, 200}, {"200MiB", 8, 2000}} {
		f, people := exportBox(b, box.files, box.threads, 4)
		ctx := context.Background()
		b.Run(box.name+"/stream-baseline", func(b *testing.B) {
			var written int64
			peak := heapPeakOf(b, func() {
				written = 0
				for _, id := range f.attachments(b) {
					_, rc, err := f.svc.Download(ctx, f.hr.Identity(), id)
					if err != nil {
						b.Fatal(err)
					}
					n, err := io.Copy(io.Discard, rc)
					rc.Close()
					if err != nil {
						b.Fatal(err)
					}
					written += n
				}
			})
			report(b, peak, written)
		})
		b.Run(box.name+"/export", func(b *testing.B) {
			var written int64
			peak := heapPeakOf(b, func() { written = exportTo(b, f.svc, people[0]) })
			report(b, peak, written)
		})
		if box.files < 8 {
			continue
		}
		b.Run(box.name+"/4-parallel", func(b *testing.B) {
			var written atomic.Int64
			peak := heapPeakOf(b, func() {
				var wg sync.WaitGroup
				for _, u := range people {
					wg.Go(func() { written.Add(exportTo(b, f.svc, u)) })
				}
				wg.Wait()
			})
			report(b, peak, written.Load())
		})
	}
}

// exportBox fills a box shared by n people: files attachments of 25 MiB
// (random bytes behind a PDF header) in messages of hr to all of them, and
// threads conversations of 10 messages each for the first person.
func exportBox(b *testing.B, files, threads, n int) (*fx, []*db.User) {
	b.Helper()
	start := time.Now()
	ctx := context.Background()
	f := setup(b, dbtest.MustOpenSQLite(b))
	f.svc.ExportWait = 10 * time.Minute
	var people []*db.User
	var to []string
	for i := range n {
		email := fmt.Sprintf("medewerker%d@example.nl", i)
		people = append(people, f.active(b, email, false, "Mede", "", fmt.Sprintf("Werker %d", i)))
		to = append(to, email)
	}
	var ids []int64
	for i := range files {
		a, err := f.svc.UploadFrom(ctx, f.hr.Identity(), fmt.Sprintf("dossier-%d.pdf", i), pdfStream(messaging.MaxAttachmentSize, uint64(i)))
		if err != nil {
			b.Fatal(err)
		}
		ids = append(ids, a.ID)
		if len(ids) == 2 || i == files-1 {
			if _, err := f.svc.Compose(ctx, f.hr.Identity(), messaging.ComposeInput{To: to, Subject: fmt.Sprintf("Dossier %d", i), Body: "Zie de bijlagen.", AttachmentIDs: ids}); err != nil {
				b.Fatal(err)
			}
			ids = nil
		}
	}
	if _, err := messagingtest.Seed(ctx, f.d, f.v, messagingtest.Box{OrgID: f.org.ID, Owner: people[0], Threads: threads, Messages: 10, Others: 50}); err != nil {
		b.Fatal(err)
	}
	b.Logf("box of %d MiB in attachments and %d conversations ready in %v", files*messaging.MaxAttachmentSize>>20, threads+(files+1)/2, time.Since(start).Round(time.Millisecond))
	return f, people
}

// attachments lists every attachment of hr's box.
func (f *fx) attachments(b *testing.B) []int64 {
	var ids []int64
	if err := f.d.NewSelect().Model((*db.Attachment)(nil)).Column("id").Where("message_id IS NOT NULL").Order("id").Scan(context.Background(), &ids); err != nil {
		b.Fatal(err)
	}
	return ids
}

// exportTo exports u's box to nowhere and returns its size.
func exportTo(b *testing.B, svc *messaging.Service, u *db.User) int64 {
	ctx := context.Background()
	e, err := svc.Export(ctx, u.Identity(), "")
	if err != nil {
		b.Error(err)
		return 0
	}
	cw := &countWriter{}
	if err := e.WriteTo(ctx, cw); err != nil {
		b.Error(err)
	}
	return cw.n
}

type countWriter struct{ n int64 }

func (c *countWriter) Write(p []byte) (int, error) { c.n += int64(len(p)); return len(p), nil }

// pdfStream is size bytes of a file that passes the PDF check, generated
// as it is read.
func pdfStream(size int64, seed uint64) io.Reader {
	return io.LimitReader(&randReader{r: rand.NewChaCha8([32]byte{byte(seed)})}, size)
}

type randReader struct {
	r       *rand.ChaCha8
	started bool
}

func (r *randReader) Read(p []byte) (int, error) {
	n, _ := r.r.Read(p)
	if !r.started && n >= 8 {
		copy(p, "%PDF-1.4")
		r.started = true
	}
	return n, nil
}

// heapPeakOf runs fn in the benchmark loop and returns the largest growth
// of HeapInuse above its level before fn, sampled every 2 ms.
func heapPeakOf(b *testing.B, fn func()) uint64 {
	var worst uint64
	for b.Loop() {
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		base := ms.HeapInuse
		var peak atomic.Uint64
		stop := make(chan struct{})
		var wg sync.WaitGroup
		wg.Go(func() {
			t := time.NewTicker(2 * time.Millisecond)
			defer t.Stop()
			for {
				var ms runtime.MemStats
				runtime.ReadMemStats(&ms)
				if ms.HeapInuse > base && ms.HeapInuse-base > peak.Load() {
					peak.Store(ms.HeapInuse - base)
				}
				select {
				case <-stop:
					return
				case <-t.C:
				}
			}
		})
		fn()
		close(stop)
		wg.Wait()
		worst = max(worst, peak.Load())
	}
	return worst
}

func report(b *testing.B, peak uint64, written int64) {
	b.ReportMetric(float64(peak)/(1<<20), "heap-peak-MiB")
	b.ReportMetric(float64(written)/(1<<20), "written-MiB")
	if written > 0 {
		b.ReportMetric(float64(peak)/float64(written), "peak/written")
	}
	b.ReportMetric(0, "ns/op")
}

// BenchmarkExportManyConversations measures the time of exporting a box of
// 2,000 conversations (two messages each, no files) beside one of 20, on
// both engines, and the statements each export runs (stmts/op, counted in
// a run of its own): a statement per conversation is a round trip each on
// PostgreSQL.
//
//	go test -run '^$' -bench ExportManyConversations ./messaging/
func BenchmarkExportManyConversations(b *testing.B) {
	for _, engine := range dbtest.Engines {
		b.Run(engine, func(b *testing.B) {
			d := dbtest.MustOpen(b, engine)
			ctx := context.Background()
			f := setup(b, d)
			owners := map[int]*db.User{}
			for _, n := range []int{20, 2000} {
				owners[n] = f.active(b, fmt.Sprintf("export%d@example.nl", n), false, "Ex", "", "Port")
				if _, err := messagingtest.Seed(ctx, d, f.v, messagingtest.Box{OrgID: f.org.ID, Owner: owners[n], Threads: n, Messages: 2, Others: max(1, n/10)}); err != nil {
					b.Fatal(err)
				}
			}
			dbtest.Statistics(b, d)
			hook := dbtest.CountStatements(d)
			for _, n := range []int{20, 2000} {
				b.Run(fmt.Sprintf("conversations=%d", n), func(b *testing.B) {
					stmts := len(hook.Run(func(ctx context.Context) {
						e, err := f.svc.Export(ctx, owners[n].Identity(), "")
						if err != nil {
							b.Fatal(err)
						}
						if err := e.WriteTo(ctx, io.Discard); err != nil {
							b.Fatal(err)
						}
					}))
					for b.Loop() {
						exportTo(b, f.svc, owners[n])
					}
					b.ReportMetric(float64(stmts), "stmts/op")
				})
			}
		})
	}
}
