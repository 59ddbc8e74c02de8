package handlers

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"io"
	"net"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestAccountExportOverASlowConnection: a large box over a slow connection
// takes longer than the server's write timeout; as long as the bytes keep
// flowing the download is not cut off, and the ZIP file is whole; a
// download that stalls still ends.
func TestAccountExportOverASlowConnection(t *testing.T) {
	old := writeTimeout
	writeTimeout = time.Second
	t.Cleanup(func() { writeTimeout = old })
	ra := newRealApp(t)
	base := ra.serve(t)
	hr := ra.person(t, "hr@osaw.nl", true, "Hanna", "de", "Vries", "nl")
	jan := ra.person(t, "jan@example.nl", false, "Jan", "", "Jansen", "nl")
	const size = 16 << 20
	sent := sha256.New()
	a, err := ra.msg.UploadFrom(context.Background(), hr.u.Identity(), "groot.pdf", io.TeeReader(pdfStream(size, 3), sent))
	if err != nil {
		t.Fatal(err)
	}
	ra.reply(t, hr.u, ra.compose(t, hr.u, "Groot", "Zie bijlage", jan.u.Email), "bijlage", a.ID)

	client := slowClient()
	req, err := http.NewRequest(http.MethodPost, base+pathAccountExport, strings.NewReader(""))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if c, ok := jan.b.cookies[csrfCookie]; ok {
		req.Header.Set(csrfHeader, c.Value)
	} else {
		req.Header.Set(csrfHeader, jan.b.csrf())
	}
	for _, c := range jan.b.cookies {
		req.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value})
	}
	resp, err := client.Do(req.Clone(context.Background()))
	if err != nil {
		t.Fatal(err)
	}
	wantStatus(t, resp, http.StatusOK)
	// A client that stops reading still ends the export: the person
	// can export again.
	ended := false
	for range 50 {
		time.Sleep(100 * time.Millisecond)
		if e, err := ra.msg.Export(context.Background(), jan.u.Identity(), ""); err == nil {
			e.Close()
			ended = true
			break
		}
	}
	resp.Body.Close()
	if !ended {
		t.Fatal("a stalled download still holds the export after 5 s")
	}

	resp, err = client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	wantStatus(t, resp, http.StatusOK)
	var body bytes.Buffer
	began := readSlowly(t, &body, resp.Body)
	zr, err := zip.NewReader(bytes.NewReader(body.Bytes()), int64(body.Len()))
	if err != nil {
		t.Fatalf("the ZIP file of %d bytes after %v: %v", body.Len(), time.Since(began), err)
	}
	for _, f := range zr.File {
		if !strings.HasSuffix(f.Name, "-groot.pdf") {
			continue
		}
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		got := sha256.New()
		if _, err := io.Copy(got, rc); err != nil {
			t.Fatal(err)
		}
		rc.Close()
		if !bytes.Equal(got.Sum(nil), sent.Sum(nil)) {
			t.Fatal("the exported file differs from the uploaded one")
		}
		return
	}
	t.Fatal("the attachment is not in the export")
}

// slowClient is an HTTP client with a small receive buffer, so that a slow
// reader holds the server's writes back.
func slowClient() *http.Client {
	return &http.Client{Transport: &http.Transport{DialContext: (&net.Dialer{Control: func(_, _ string, c syscall.RawConn) error {
		return c.Control(func(fd uintptr) { _ = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 64<<10) })
	}}).DialContext}}
}

// readSlowly reads r into w at about 4 MiB a second, and fails the test
// when that ends in an error or takes no longer than twice writeTimeout.
// It returns when it began.
func readSlowly(t *testing.T, w *bytes.Buffer, r io.Reader) time.Time {
	t.Helper()
	began := time.Now()
	for {
		n, err := io.CopyN(w, r, 256<<10)
		if err == io.EOF && n == 0 {
			break
		}
		if err != nil && err != io.EOF {
			t.Fatalf("after %d bytes and %v: %v", w.Len(), time.Since(began), err)
		}
		time.Sleep(60 * time.Millisecond)
	}
	if time.Since(began) < 2*writeTimeout {
		t.Fatalf("the download took %v, not longer than the write timeout", time.Since(began))
	}
	return began
}

// TestAttachmentDownloadOverASlowConnection: a large file over a slow
// connection is not cut off by the write timeout while it progresses.
func TestAttachmentDownloadOverASlowConnection(t *testing.T) {
	old := writeTimeout
	writeTimeout = time.Second
	t.Cleanup(func() { writeTimeout = old })
	ra := newRealApp(t)
	base := ra.serve(t)
	hr := ra.person(t, "hr@osaw.nl", true, "Hanna", "de", "Vries", "nl")
	jan := ra.person(t, "jan@example.nl", false, "Jan", "", "Jansen", "nl")
	sent := sha256.New()
	a, err := ra.msg.UploadFrom(context.Background(), hr.u.Identity(), "groot.pdf", io.TeeReader(pdfStream(16<<20, 4), sent))
	if err != nil {
		t.Fatal(err)
	}
	ra.reply(t, hr.u, ra.compose(t, hr.u, "Groot", "Zie bijlage", jan.u.Email), "bijlage", a.ID)
	req, err := http.NewRequest(http.MethodGet, base+"/bijlagen/"+itoa(a.ID), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range jan.b.cookies {
		req.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value})
	}
	resp, err := slowClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	wantStatus(t, resp, http.StatusOK)
	var body bytes.Buffer
	readSlowly(t, &body, resp.Body)
	if got := sha256.Sum256(body.Bytes()); !bytes.Equal(got[:], sent.Sum(nil)) {
		t.Fatalf("the downloaded file (%d bytes) differs from the uploaded one", body.Len())
	}
}
