package handlers

import (
	"io"
	"net/http"
	"testing"
	"time"
)

// slowReader yields r in chunks of n bytes, one every pause.
type slowReader struct {
	r     io.Reader
	n     int
	pause time.Duration
}

func (s *slowReader) Read(p []byte) (int, error) {
	time.Sleep(s.pause)
	return s.r.Read(p[:min(len(p), s.n)])
}

// TestUploadOverASlowConnection: an upload whose bytes keep arriving is
// not cut off by the read timeout, which covers a whole request, so that
// a large file from a phone on a slow line arrives (4 s of sending against
// a read timeout of 1 s here).
func TestUploadOverASlowConnection(t *testing.T) {
	old := readTimeout
	readTimeout = time.Second
	t.Cleanup(func() { readTimeout = old })
	ra := newRealApp(t)
	base := ra.serve(t)
	hr := ra.person(t, "hr@osaw.nl", true, "Hanna", "de", "Vries", "nl")
	began := time.Now()
	resp, page := postFile(t, base, hr, "traag.pdf", &slowReader{r: pdfStream(1<<20, 7), n: 32 << 10, pause: 125 * time.Millisecond})
	if took := time.Since(began); took < 3*readTimeout {
		t.Fatalf("the upload took %v, not longer than the read timeout", took)
	}
	wantStatus(t, resp, http.StatusOK)
	wantContains(t, page, `name="attachment"`, "traag.pdf")
}
