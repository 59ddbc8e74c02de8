package handlers

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"fmt"
	"io"
	"math/rand/v2"
	"mime/multipart"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"dialoog/messaging"
)

// serve runs ra's app on a loopback listener until the test ends and
// returns its base URL.
func (ra *realApp) serve(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- ra.app.Listener(ln) }()
	t.Cleanup(func() {
		if err := ra.app.ShutdownWithTimeout(5 * time.Second); err != nil {
			t.Error(err)
		}
		<-served
	})
	return "http://" + ln.Addr().String()
}

// pdfStream is a "PDF" of n bytes: the magic, then pseudo-random bytes
// (seeded, so the same n gives the same file), generated as it is read.
func pdfStream(n int64, seed uint64) io.Reader {
	rng := rand.NewChaCha8([32]byte{byte(seed)})
	return io.MultiReader(strings.NewReader("%PDF-1.4\n"), io.LimitReader(rng, n-int64(len("%PDF-1.4\n"))))
}

// postFile uploads content to /bijlagen over HTTP as app.js does (one
// multipart field "file", the CSRF token in the header), written to the
// connection as it is generated, so neither side of the test holds it.
func postFile(t testing.TB, base string, p *person, name string, content io.Reader) (*http.Response, string) {
	t.Helper()
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	go func() {
		fw, err := mw.CreateFormFile("file", name)
		if err == nil {
			_, err = io.Copy(fw, content)
		}
		if err == nil {
			err = mw.Close()
		}
		pw.CloseWithError(err)
	}()
	req, err := http.NewRequest(http.MethodPost, base+pathUpload, pr)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	if c, ok := p.b.cookies[csrfCookie]; ok {
		req.Header.Set(csrfHeader, c.Value)
	} else {
		req.Header.Set(csrfHeader, p.b.csrf())
	}
	for _, c := range p.b.cookies {
		req.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value})
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("upload %s: %v", name, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

// getFile downloads a path with p's cookies into w.
func getFile(t testing.TB, base string, p *person, path string, w io.Writer) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, base+path, nil)
	for _, c := range p.b.cookies {
		req.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value})
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if _, err := io.Copy(w, resp.Body); err != nil {
		t.Fatalf("download %s: %v", path, err)
	}
	return resp
}

// heapPeak runs fn and returns how far the heap in use grew above what it
// was before, sampled every few milliseconds (a measurement, not exact).
func heapPeak(fn func()) uint64 {
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
	return peak.Load()
}

var chipIDPattern = regexp.MustCompile(`name="attachment" value="(\d+)"`)

// TestUpload25MiBOverHTTP: a file of the largest allowed size goes through
// the real HTTP server into the store and comes back the same, streamed
// both ways.
func TestUpload25MiBOverHTTP(t *testing.T) {
	ra := newRealApp(t)
	base := ra.serve(t)
	hr := ra.person(t, "hr@osaw.nl", true, "Hanna", "de", "Vries", "nl")
	jan := ra.person(t, "jan@example.nl", false, "Jan", "", "Jansen", "nl")
	const size = messaging.MaxAttachmentSize

	sent := sha256.New()
	var resp *http.Response
	var chip string
	up := heapPeak(func() {
		resp, chip = postFile(t, base, hr, "groot.pdf", io.TeeReader(pdfStream(size, 1), sent))
	})
	wantStatus(t, resp, http.StatusOK)
	m := chipIDPattern.FindStringSubmatch(chip)
	if m == nil {
		t.Fatalf("no chip:\n%s", chip)
	}
	id := parseIDOrFail(t, m[1])
	ra.reply(t, hr.u, ra.compose(t, hr.u, "Groot", "Zie bijlage", jan.u.Email), "bijlage", id)

	got := sha256.New()
	var dl *http.Response
	down := heapPeak(func() { dl = getFile(t, base, jan, "/bijlagen/"+m[1], got) })
	wantStatus(t, dl, http.StatusOK)
	if dl.ContentLength != size {
		t.Errorf("Content-Length %d, want %d", dl.ContentLength, size)
	}
	if !bytes.Equal(got.Sum(nil), sent.Sum(nil)) {
		t.Fatal("downloaded file differs from the uploaded one")
	}
	// Client and server share this process, so this is an upper bound of
	// the server's share; bench/README.md has the figures.
	t.Logf("25 MiB: heap grew at most %.1f MiB during the upload, %.1f MiB during the download", mib(up), mib(down))

	// Over the limit by one byte: refused while streaming, nothing kept.
	resp, chip = postFile(t, base, hr, "te-groot.pdf", pdfStream(size+1, 2))
	wantStatus(t, resp, http.StatusUnprocessableEntity)
	wantContains(t, chip, "Dit bestand is te groot")
}

func parseIDOrFail(t testing.TB, s string) int64 {
	t.Helper()
	id, ok := parseID(s)
	if !ok {
		t.Fatalf("not an id: %q", s)
	}
	return id
}

func mib(n uint64) float64 { return float64(n) / (1 << 20) }

// TestUploadNeedsCSRFHeader: the streamed upload reads its token from the
// header only, and checks the session before it reads the body.
func TestUploadNeedsCSRFHeader(t *testing.T) {
	ra := newRealApp(t)
	hr := ra.person(t, "hr@osaw.nl", true, "Hanna", "de", "Vries", "nl")
	resp, _ := hr.b.postMultipart(pathUpload, url.Values{csrfField: {hr.b.csrf()}}, []testFile{{"file", "a.pdf", pdfFile}}, true)
	wantStatus(t, resp, http.StatusForbidden)
}

// TestBodyLimitChunked: a body sent in chunks, without a length, is cut
// off at the limit like one that announces its length.
func TestBodyLimitChunked(t *testing.T) {
	ra := newRealApp(t)
	base := ra.serve(t)
	pr, pw := io.Pipe()
	go func() {
		fmt.Fprint(pw, "email=")
		_, err := io.Copy(pw, io.LimitReader(zeroReader{}, bodyLimit+1))
		pw.CloseWithError(err)
	}()
	req, _ := http.NewRequest(http.MethodPost, base+"/inloggen", pr)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		// The server may close the connection while the client still
		// writes; what matters is that it did not take the body.
		t.Logf("client: %v", err)
		return
	}
	resp.Body.Close()
	wantStatus(t, resp, http.StatusRequestEntityTooLarge)
}

type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 'a'
	}
	return len(p), nil
}

// TestUploadKeepAlive: an upload refused before its body was read (no
// session) leaves the connection fit for the next request.
func TestUploadKeepAlive(t *testing.T) {
	ra := newRealApp(t)
	base := ra.serve(t)
	conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	br := bufio.NewReader(conn)
	body := strings.Repeat("x", 20<<10)
	fmt.Fprintf(conn, "POST /bijlagen HTTP/1.1\r\nHost: localhost\r\nContent-Type: multipart/form-data; boundary=b\r\nContent-Length: %d\r\n\r\n%s", len(body), body)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden && resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("refused upload: %d", resp.StatusCode)
	}
	fmt.Fprint(conn, "GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n")
	resp, err = http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("second request on the connection: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("second request on the connection: %d, want 200", resp.StatusCode)
	}
}
