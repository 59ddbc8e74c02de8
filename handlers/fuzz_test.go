package handlers

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
)

// FuzzTypingThread: what a page sends over its WebSocket never panics, and
// a conversation id it yields is one the page could have sent.
func FuzzTypingThread(f *testing.F) {
	for _, s := range []string{`{"typing":"12"}`, `{"typing":12}`, `{"typing":"-1"}`, `{"typing":"99999999999999999999"}`, `{"typing":null}`, `{}`, `[`, `{"typing":"1\u0000"}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, msg []byte) {
		id, ok := typingThread(msg)
		if !ok {
			return
		}
		if id <= 0 {
			t.Fatalf("%q: id %d", msg, id)
		}
		again, ok := typingThread([]byte(`{"typing":"` + strconv.FormatInt(id, 10) + `"}`))
		if !ok || again != id {
			t.Fatalf("%q: id %d does not round-trip (%d)", msg, id, again)
		}
	})
}

// FuzzFormPost posts any body, url-encoded or multipart, to the forms of
// the login, the forgotten password, the invitation and the steps of the
// first visit, over the real services: the answer is never a server
// error, whatever the bytes.
func FuzzFormPost(f *testing.F) {
	f.Add("application/x-www-form-urlencoded", []byte("email=jan%40example.nl&password=x"), uint8(0))
	f.Add("application/x-www-form-urlencoded", []byte("%zz=%&&=&a=%00"), uint8(1))
	f.Add("multipart/form-data; boundary=x", []byte("--x\r\nContent-Disposition: form-data; name=\"email\"\r\n\r\na@b.nl\r\n--x--\r\n"), uint8(2))
	f.Add("multipart/form-data; boundary=", []byte("--\r\n"), uint8(3))
	f.Add("text/plain", []byte("\xff\xfe"), uint8(4))
	ra := newRealApp(f)
	routes := []string{pathLogin, "/wachtwoord-vergeten", "/aanmelden/nieuwe-link", "/aanmelden/tok-valid", pathTerms, pathPassword,
		pathSMS, pathSMS + "/code", pathApp, pathRecovery, pathProfile, pathLoginFactor, "/wachtwoord-vergeten/abc"}
	token := newCSRFToken()
	f.Fuzz(func(t *testing.T, contentType string, body []byte, route uint8) {
		req := httptest.NewRequest(http.MethodPost, routes[int(route)%len(routes)], bytes.NewReader(body))
		req.Header.Set("Content-Type", contentType)
		req.Header.Set(csrfHeader, token)
		req.AddCookie(&http.Cookie{Name: csrfCookie, Value: token})
		resp, err := ra.app.Test(req, -1)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode >= 500 {
			t.Fatalf("%s %q %q: status %d", req.URL.Path, contentType, body, resp.StatusCode)
		}
	})
}
