package handlers

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	fws "github.com/fasthttp/websocket"

	"dialoog/auth"
	"dialoog/db"
	"dialoog/db/dbtest"
)

// wantClosedWithoutContent reads conn until it closes and fails on any push
// that carries secret, or when it is not closed with 1008.
func wantClosedWithoutContent(t *testing.T, conn *fws.Conn, secret string) {
	t.Helper()
	for {
		conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		_, msg, err := conn.ReadMessage()
		if err != nil {
			var ce *fws.CloseError
			if !errors.As(err, &ce) || ce.Code != fws.ClosePolicyViolation {
				t.Fatalf("socket ended with %v, want close 1008", err)
			}
			return
		}
		if strings.Contains(string(msg), secret) {
			t.Fatalf("the socket got the new message:\n%s", msg)
		}
	}
}

// TestOpenSocketAfterNewTerms: a socket opened before the admin published
// new terms gets no new message content and is closed; the page the user
// loads next asks for the new terms.
func TestOpenSocketAfterNewTerms(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) { testOpenSocketAfterNewTerms(t, newLiveAppOn(t, d)) })
}

func testOpenSocketAfterNewTerms(t *testing.T, la *liveApp) {
	admin := la.person(t, "beheer@osaw.nl", true, "Bea", "", "Heer", "nl")
	if _, err := la.d.NewUpdate().Model((*db.User)(nil)).Set("is_admin = ?", true).Where("id = ?", admin.u.ID).Exec(context.Background()); err != nil {
		t.Fatal(err)
	}
	emp := la.person(t, "jan@example.nl", false, "Jan", "", "Berg", "nl")
	conn := la.connect(t, emp.u, emp.b.session())

	resp, _ := admin.b.post("/beheer/voorwaarden", url.Values{"body_nl": {"Nieuwe voorwaarden"}, "body_en": {"New terms"}})
	wantRedirect(t, resp, "/beheer/voorwaarden")
	la.compose(t, admin.u, "Geheim onderwerp", "Geheime inhoud", emp.u.Email)
	wantClosedWithoutContent(t, conn, "Geheim")

	resp, _ = emp.b.get("/berichten")
	wantRedirect(t, resp, pathTerms)
	if _, resp, err := la.dial(t, emp.b.session(), testBase); err == nil || resp == nil || resp.StatusCode != http.StatusForbidden {
		t.Fatalf("a socket opens before the new terms are accepted: %v, %v", resp, err)
	}
}

// TestOpenSocketAfterFactorsRemoved: the same when the user's second
// factors are gone (stage: second factor again).
func TestOpenSocketAfterFactorsRemoved(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) { testOpenSocketAfterFactorsRemoved(t, newLiveAppOn(t, d)) })
}

func testOpenSocketAfterFactorsRemoved(t *testing.T, la *liveApp) {
	hr := la.person(t, "hr@osaw.nl", true, "Hanna", "de", "Vries", "nl")
	emp := la.person(t, "jan@example.nl", false, "Jan", "", "Berg", "nl")
	conn := la.connect(t, emp.u, emp.b.session())
	if _, err := la.d.NewDelete().Model((*db.SecondFactor)(nil)).Where("user_id = ?", emp.u.ID).Exec(context.Background()); err != nil {
		t.Fatal(err)
	}
	la.compose(t, hr.u, "Geheim onderwerp", "Geheime inhoud", emp.u.Email)
	wantClosedWithoutContent(t, conn, "Geheim")
}

// TestStopClosesOtherSockets: stopping with Dialoog in one browser deletes
// the account with all its sessions; the sockets of the other browsers
// close at once (1008). The sweep cannot find them: their session rows
// are gone.
func TestStopClosesOtherSockets(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) { testStopClosesOtherSockets(t, newLiveAppOn(t, d)) })
}

func testStopClosesOtherSockets(t *testing.T, la *liveApp) {
	acc := la.onboard(t, auth.InviteInput{Email: "jan@example.nl"}, false)
	u := la.userByEmail(t, "jan@example.nl")
	phone := la.signIn(t, u)
	phoneConn := la.connect(t, u, phone.session())
	conn := la.connect(t, u, acc.b.session())

	resp, _ := acc.b.post(pathAccountStop, url.Values{"password": {testPassword}, "confirm": {"yes"}})
	wantRedirect(t, resp, "/?gestopt=1")
	wantClosedWithoutContent(t, conn, "Geheim")
	wantClosedWithoutContent(t, phoneConn, "Geheim")
}

// TestPasswordChangeClosesCopiedSocket: a password change gives the
// session a new id, so that a copy of the old cookie is worthless. A
// socket opened with that copy is closed too (1012: the browser that holds
// the new cookie reconnects, the copy cannot) instead of receiving every
// new message for as long as the session lasts.
func TestPasswordChangeClosesCopiedSocket(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) { testPasswordChangeClosesCopiedSocket(t, newLiveAppOn(t, d)) })
}

func testPasswordChangeClosesCopiedSocket(t *testing.T, la *liveApp) {
	hr := la.person(t, "hr@osaw.nl", true, "Hanna", "de", "Vries", "nl")
	acc := la.onboard(t, auth.InviteInput{Email: "jan@example.nl"}, false)
	u := la.userByEmail(t, "jan@example.nl")
	copied := acc.b.session()
	conn := la.connect(t, u, copied)

	const newPW = "vier losse woorden als zin"
	resp, _ := acc.b.post(pathAccountPassword, url.Values{"current_password": {testPassword}, "password": {newPW}, "confirm": {newPW}})
	wantRedirect(t, resp, pathAccount+"?melding=wachtwoord")
	la.compose(t, hr.u, "Geheim onderwerp", "Geheime inhoud", u.Email)
	for {
		conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		_, msg, err := conn.ReadMessage()
		if err != nil {
			var ce *fws.CloseError
			if !errors.As(err, &ce) || ce.Code != fws.CloseServiceRestart {
				t.Fatalf("the copied cookie's socket ended with %v, want close 1012", err)
			}
			break
		}
		if strings.Contains(string(msg), "Geheim") {
			t.Fatalf("the copied cookie's socket got the new message:\n%s", msg)
		}
	}
	if _, resp, err := la.dial(t, copied, testBase); err == nil || resp == nil || resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("the copied cookie reconnects: %v, %v", resp, err)
	}
	// The browser with the new cookie reconnects and is pushed to.
	fresh := la.connect(t, u, acc.b.session())
	la.compose(t, hr.u, "Na de wijziging", "x", u.Email)
	readLiveUntil(t, fresh, "Na de wijziging")
}

// TestLapsedSessionGetsNoPush: a page whose session sat idle for
// auth.SessionIdle, or reached its absolute end, gets no new message on its
// socket, and the socket is closed (1008) at the push: not only when the
// session sweep (which does not run here) finds it up to 30 s later. The
// person walked away from the screen; what is written to them now must not
// appear there.
func TestLapsedSessionGetsNoPush(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) { testLapsedSessionGetsNoPush(t, newLiveAppOn(t, d)) })
}

func testLapsedSessionGetsNoPush(t *testing.T, la *liveApp) {
	ctx := context.Background()
	hr := la.person(t, "hr@osaw.nl", true, "Hanna", "de", "Vries", "nl")
	idle := la.person(t, "jan@example.nl", false, "Jan", "", "Berg", "nl")
	late := la.person(t, "kim@example.nl", false, "Kim", "", "Jansen", "nl")
	// Kim's session reaches its absolute end in 10 minutes.
	if _, err := la.d.NewUpdate().Model((*db.Session)(nil)).Set("expires_at = ?", la.clk.Now().UTC().Add(10*time.Minute)).
		Where("id = ?", la.latestSession(t, late.u)).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	threadID := la.compose(t, hr.u, "Verzuim", "Hoe gaat het?", idle.u.Email, late.u.Email)
	idleConn := la.connect(t, idle.u, idle.b.session())
	lateConn := la.connect(t, late.u, late.b.session())

	la.clk.Add(auth.SessionIdle + time.Minute)
	la.reply(t, hr.u, threadID, "Geheime uitslag van de keuring")
	wantClosedWithoutContent(t, idleConn, "Geheime uitslag")
	wantClosedWithoutContent(t, lateConn, "Geheime uitslag")
}

// TestSessionExtendedElsewhereGetsPush: a socket past the end its session
// had when it connected still gets the push when the session was kept
// alive meanwhile by another tab of the browser (a request with the same
// cookie): the session is read again, once, before the push.
func TestSessionExtendedElsewhereGetsPush(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) { testSessionExtendedElsewhereGetsPush(t, newLiveAppOn(t, d)) })
}

func testSessionExtendedElsewhereGetsPush(t *testing.T, la *liveApp) {
	hr := la.person(t, "hr@osaw.nl", true, "Hanna", "de", "Vries", "nl")
	emp := la.person(t, "jan@example.nl", false, "Jan", "", "Berg", "nl")
	threadID := la.compose(t, hr.u, "Verzuim", "Hoe gaat het?", emp.u.Email)
	conn := la.connect(t, emp.u, emp.b.session())

	la.clk.Add(20 * time.Minute)
	resp, _ := emp.b.get(pathInbox) // the other tab
	wantStatus(t, resp, http.StatusOK)
	la.clk.Add(15 * time.Minute) // past the socket's first known end, not the session's
	la.reply(t, hr.u, threadID, "Nieuwe afspraak bij de bedrijfsarts")
	readLiveUntil(t, conn, "Nieuwe afspraak bij de bedrijfsarts")
	if n := la.hub.UserCount(emp.u.ID); n != 1 {
		t.Fatalf("%d sockets after the push, want the one", n)
	}
}
