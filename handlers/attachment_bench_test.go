package handlers

import (
	"crypto/sha256"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"

	"dialoog/blob"
	"dialoog/db/dbtest"
	"dialoog/messaging"
)

// BenchmarkAttachment25MiB uploads and downloads a file over HTTP (a real
// listener, the client in the same process, generating and hashing the
// file as it streams) and reports how far the heap grew: the peak of
// HeapInuse above its level before (sampled every 2 ms), for the upload
// and the download, and the bytes allocated per upload+download. Files of
// 5 and 25 MiB show whether memory follows the file size. The baseline is
// what attachments cost before the blob store: a Fiber app with the
// default (buffering) body handling, c.FormFile and io.ReadAll, the file
// written and read whole. Run with -benchtime=3x:
//
//	go test -run '^$' -bench Attachment25MiB -benchtime=3x ./handlers/
func BenchmarkAttachment25MiB(b *testing.B) {
	for _, size := range []int64{5 << 20, messaging.MaxAttachmentSize} {
		var baseline float64
		b.Run(fmt.Sprintf("%dMiB/buffered-baseline", size>>20), func(b *testing.B) {
			base, dir := bufferedServer(b)
			anon := &person{b: &browser{cookies: map[string]*http.Cookie{csrfCookie: {Name: csrfCookie, Value: csrfToken43}}}}
			baseline = measure(b, func() string {
				resp, _ := postFile(b, base, anon, "groot.pdf", pdfStream(size, 1))
				if resp.StatusCode != http.StatusOK {
					b.Fatalf("upload: %d", resp.StatusCode)
				}
				return "/f"
			}, func(path string) {
				if r := getFile(b, base, anon, path, sha256.New()); r.StatusCode != http.StatusOK {
					b.Fatalf("download: %d", r.StatusCode)
				}
			})
			os.RemoveAll(dir)
		})
		for _, store := range []string{"datadir", "postgres"} {
			b.Run(fmt.Sprintf("%dMiB/dialoog-%s", size>>20, store), func(b *testing.B) {
				var ra *realApp
				if store == "postgres" {
					ra = newRealAppOn(b, dbtest.MustOpenPostgres(b))
					ra.msg.Files.Store = &blob.Database{DB: ra.d}
				} else {
					ra = newRealApp(b)
				}
				base := ra.serve(b)
				hr := &person{u: ra.storeUser(b, "hr@osaw.nl", true, "Hanna", "de", "Vries", "nl")}
				hr.b = &browser{cookies: map[string]*http.Cookie{
					sessionCookie: {Name: sessionCookie, Value: ra.sessionToken(b, hr.u)},
					csrfCookie:    {Name: csrfCookie, Value: csrfToken43},
				}}
				peak := measure(b, func() string {
					resp, chip := postFile(b, base, hr, "groot.pdf", pdfStream(size, 1))
					m := chipIDPattern.FindStringSubmatch(chip)
					if resp.StatusCode != http.StatusOK || m == nil {
						b.Fatalf("upload: %d %s", resp.StatusCode, chip)
					}
					return "/bijlagen/" + m[1]
				}, func(path string) {
					if r := getFile(b, base, hr, path, sha256.New()); r.StatusCode != http.StatusOK {
						b.Fatalf("download: %d", r.StatusCode)
					}
				})
				if baseline > 0 {
					b.ReportMetric(peak/baseline, "x-baseline-peak")
				}
			})
		}
	}
}

// csrfToken43 is a well-formed CSRF token for clients that set their own
// cookie.
const csrfToken43 = "BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc"

// measure runs upload and download in the benchmark loop and reports the
// largest heap growth of each (MiB) and the bytes allocated per op (MiB).
// It returns the larger of the two peaks.
func measure(b *testing.B, upload func() string, download func(string)) float64 {
	var up, down uint64
	var ms0, ms1 runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms0)
	for b.Loop() {
		var path string
		up = max(up, heapPeak(func() { path = upload() }))
		down = max(down, heapPeak(func() { download(path) }))
	}
	runtime.ReadMemStats(&ms1)
	b.ReportMetric(mib(up), "up-peak-MiB")
	b.ReportMetric(mib(down), "down-peak-MiB")
	b.ReportMetric(mib(ms1.TotalAlloc-ms0.TotalAlloc)/float64(b.N), "alloc-MiB/op")
	b.ReportMetric(0, "ns/op")
	return mib(max(up, down))
}

// bufferedServer is the baseline: a Fiber app as Dialoog's was before the
// blob store (bodies up to 30 MiB read whole, the file read into memory,
// written whole, read back whole).
func bufferedServer(b *testing.B) (string, string) {
	dir := b.TempDir()
	app := fiber.New(fiber.Config{BodyLimit: bodyLimit, DisableStartupMessage: true})
	path := filepath.Join(dir, "f")
	app.Post(pathUpload, func(c *fiber.Ctx) error {
		fh, err := c.FormFile("file")
		if err != nil {
			return err
		}
		f, err := fh.Open()
		if err != nil {
			return err
		}
		defer f.Close()
		data, err := io.ReadAll(f)
		if err != nil {
			return err
		}
		if err := os.WriteFile(path, data, 0o600); err != nil {
			return err
		}
		return c.SendString(`name="attachment" value="1"`)
	})
	app.Get("/f", func(c *fiber.Ctx) error {
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return c.Send(data)
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	go app.Listener(ln)
	b.Cleanup(func() { app.ShutdownWithTimeout(5 * time.Second) })
	return "http://" + ln.Addr().String(), dir
}
