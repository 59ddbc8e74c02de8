package handlers

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"dialoog/messaging"
)

// The security suite: request bodies. Without an account nobody gets the
// server to hold more than a form's worth of memory.

// formLimitForTests mirrors formBodyLimit: what a form may send.
const formLimitForTests = 64 << 10

// consumed posts a body of n bytes announced with Content-Length (or sent
// in chunks when chunked) to target over an in-memory connection that only
// moves bytes the server reads, and returns the answer's status and how
// many bytes of the body the server took.
func consumed(t *testing.T, ta *testApp, target, contentType string, n int, chunked bool, headers ...string) (int, int) {
	t.Helper()
	ta.app.Handler() // builds the routes, as Listen and Test do
	client, server := net.Pipe()
	go func() { _ = ta.app.Server().ServeConn(server) }()
	defer client.Close()
	_ = client.SetDeadline(time.Now().Add(10 * time.Second))

	status := make(chan int, 1)
	go func() {
		resp, err := http.ReadResponse(bufio.NewReader(client), nil)
		if err != nil {
			status <- 0
			return
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		status <- resp.StatusCode
		client.Close() // the server may still wait for the body it refused
	}()

	var head strings.Builder
	fmt.Fprintf(&head, "POST %s HTTP/1.1\r\nHost: localhost\r\nContent-Type: %s\r\n", target, contentType)
	for i := 0; i+1 < len(headers); i += 2 {
		fmt.Fprintf(&head, "%s: %s\r\n", headers[i], headers[i+1])
	}
	if chunked {
		head.WriteString("Transfer-Encoding: chunked\r\n\r\n")
	} else {
		fmt.Fprintf(&head, "Content-Length: %d\r\n\r\n", n)
	}
	if _, err := io.WriteString(client, head.String()); err != nil {
		t.Fatalf("write head: %v", err)
	}
	chunk := strings.Repeat("a", 4<<10)
	sent := 0
	for sent < n {
		var err error
		if chunked {
			_, err = fmt.Fprintf(client, "%x\r\n%s\r\n", len(chunk), chunk)
		} else {
			_, err = io.WriteString(client, chunk)
		}
		if err != nil {
			break
		}
		sent += len(chunk)
	}
	if sent >= n && chunked {
		io.WriteString(client, "0\r\n\r\n")
	}
	return <-status, sent
}

// TestFormBodyRefusedBeforeRead: a body above 64 KiB to a form route
// (the login) is refused with a 413 after reading at most a little of it,
// announced or sent in chunks.
func TestFormBodyRefusedBeforeRead(t *testing.T) {
	const size = 2 << 20
	for _, chunked := range []bool{false, true} {
		ta := newTestApp(t)
		status, took := consumed(t, ta, pathLogin, "application/x-www-form-urlencoded", size, chunked)
		if status != http.StatusRequestEntityTooLarge {
			t.Errorf("chunked=%v: status %d, want 413", chunked, status)
		}
		// What fasthttp reads ahead with the head, plus the limit.
		if most := formLimitForTests + 32<<10; took > most {
			t.Errorf("chunked=%v: the server read %d KiB of a refused body, want at most %d KiB", chunked, took>>10, most>>10)
		}
	}
	// A form of normal size is still read.
	ta := newTestApp(t)
	b := ta.browser(t)
	resp, _ := b.do(http.MethodPost, pathLogin, url.Values{csrfField: {b.csrfToken()}, "email": {"jan@example.nl"}, "password": {strings.Repeat("x", 60<<10)}})
	if resp.StatusCode == http.StatusRequestEntityTooLarge {
		t.Errorf("a 60 KiB form was refused")
	}
}

// TestUploadWithoutSessionNotBuffered: an upload-sized body to the upload
// route without a session is answered without the server reading it (a
// little is drained so the answer can be read).
func TestUploadWithoutSessionNotBuffered(t *testing.T) {
	ta := newTestApp(t)
	token := ta.browser(t).csrfToken()
	status, took := consumed(t, ta, pathUpload, "multipart/form-data; boundary=x", messaging.MaxAttachmentSize, false, csrfHeader, token)
	if status == http.StatusOK || status == 0 {
		t.Errorf("status %d", status)
	}
	if most := formLimitForTests + 32<<10; took > most {
		t.Errorf("the server read %d KiB of an upload without a session, want at most %d KiB", took>>10, most>>10)
	}
}

// TestConcurrentLargeLoginPostsKeepMemorySmall: 20 clients post 29 MiB
// each to /inloggen at once; the server's heap grows by far less than what
// they send (it once held all of it: 1.4 GiB).
func TestConcurrentLargeLoginPostsKeepMemorySmall(t *testing.T) {
	if testing.Short() {
		t.Skip("sends 580 MiB over loopback")
	}
	ta := newTestApp(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = ta.app.Listener(ln) }()
	t.Cleanup(func() { _ = ta.app.ShutdownWithTimeout(time.Second) })
	base := "http://" + ln.Addr().String()

	const clients, size = 20, 29 << 20
	var mu sync.Mutex
	statuses := map[int]int{}
	grew := heapPeak(func() {
		var wg sync.WaitGroup
		for range clients {
			wg.Go(func() {
				req, _ := http.NewRequest(http.MethodPost, base+pathLogin, io.LimitReader(zeroReader{}, size))
				req.ContentLength = size
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				resp, err := (&http.Client{Timeout: 60 * time.Second}).Do(req)
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					statuses[0]++ // the server closed while the client wrote
					return
				}
				resp.Body.Close()
				statuses[resp.StatusCode]++
			})
		}
		wg.Wait()
	})
	t.Logf("heap grew %.1f MiB; answers %v", mib(grew), statuses)
	if grew > 150<<20 {
		t.Errorf("heap grew %.0f MiB for %d posts of %d MiB, want under 150 MiB", mib(grew), clients, size>>20)
	}
	if statuses[http.StatusOK]+statuses[http.StatusSeeOther] > 0 {
		t.Errorf("oversized logins were answered: %v", statuses)
	}
}

// TestNoScriptMessageFormKeepsLargeLimitAfterSession: a message form
// posted without script carries its files, so a signed-in user's form
// may be large; the same post without a session is a form like any other.
func TestNoScriptMessageFormKeepsLargeLimitAfterSession(t *testing.T) {
	ra := newRealApp(t)
	hr := ra.person(t, "hr@osaw.nl", true, "Hanna", "de", "Vries", "nl")
	big := append(append([]byte{}, pdfFile...), strings.Repeat(" ", 1<<20)...)
	resp, _ := hr.b.postMultipart("/berichten/nieuw", url.Values{"to": {"jan@example.nl"}, "subject": {"Met bijlage"}, "body": {"Zie bijlage"}},
		[]testFile{{"files", "groot.pdf", big}}, false)
	wantStatus(t, resp, http.StatusSeeOther)

	out := ra.browser(t)
	resp, _ = out.postMultipart("/berichten/nieuw", url.Values{"to": {"jan@example.nl"}}, []testFile{{"files", "groot.pdf", big}}, false)
	wantStatus(t, resp, http.StatusRequestEntityTooLarge)
}

// TestSignedInFormsFitTheLongestMessage: the 64 KiB bound is for forms
// without an account; a signed-in user's longest message (20,000
// characters, url-encoded well above 64 KiB) still goes through.
func TestSignedInFormsFitTheLongestMessage(t *testing.T) {
	ra := newRealApp(t)
	hr := ra.person(t, "hr@osaw.nl", true, "Hanna", "de", "Vries", "nl")
	body := strings.Repeat("é", messaging.MaxBody)
	resp, _ := hr.b.post("/berichten/nieuw", url.Values{"to": {"jan@example.nl"}, "subject": {"Lang"}, "body": {body}})
	wantStatus(t, resp, http.StatusSeeOther)

	out := ra.browser(t)
	resp, _ = out.post("/berichten/nieuw", url.Values{"to": {"jan@example.nl"}, "subject": {"Lang"}, "body": {body}})
	wantStatus(t, resp, http.StatusRequestEntityTooLarge)
}
