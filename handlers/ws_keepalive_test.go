package handlers

import (
	"context"
	"net/http"
	"net/url"
	"testing"
	"time"

	fws "github.com/fasthttp/websocket"

	"dialoog/db"
	"dialoog/db/dbtest"
)

// TestTypingKeepsSessionAlive: a person who writes a long reply makes no
// request for longer than the idle time, but the page's live connection
// says they are active (the activity frame app.js sends on input in any
// form, and the typing frames of a reply). They are still signed in when
// they send it. Someone else, with a socket open but typing nothing, is
// logged out after 30 minutes, as is the same person's other session.
func TestTypingKeepsSessionAlive(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) { testTypingKeepsSessionAlive(t, newLiveAppOn(t, d)) })
}

func testTypingKeepsSessionAlive(t *testing.T, la *liveApp) {
	hr := la.person(t, "hr@osaw.nl", true, "Hanna", "de", "Vries", "nl")
	emp := la.person(t, "jan@example.nl", false, "Jan", "", "Berg", "nl")
	sessionID := la.latestSession(t, emp.u)
	phone := la.signIn(t, emp.u) // the employee's other session, without a socket
	quiet := la.person(t, "kim@example.nl", false, "Kim", "", "Jansen", "nl")
	threadID := la.compose(t, hr.u, "Verzuim", "Hoe gaat het?", emp.u.Email, quiet.u.Email)
	tp := "/berichten/" + itoa(threadID)
	conn := la.connect(t, emp.u, emp.b.session())
	la.connect(t, quiet.u, quiet.b.session())

	// 40 minutes of writing, without a request: an activity frame or a
	// typing frame every 10 minutes.
	frames := []string{`{"active":true}`, `{"typing":"` + itoa(threadID) + `"}`, `{"active":true}`, `{"typing":"` + itoa(threadID) + `"}`}
	for _, frame := range frames {
		la.clk.Add(10 * time.Minute)
		if err := conn.WriteMessage(fws.TextMessage, []byte(frame)); err != nil {
			t.Fatal(err)
		}
		la.waitLastSeen(t, sessionID, la.clk.Now(), frame)
	}

	resp, _ := emp.b.get(pathInbox)
	wantStatus(t, resp, http.StatusOK)
	resp, _ = emp.b.post(tp, url.Values{"body": {"Een lang en zorgvuldig antwoord."}}, "HX-Request", "true")
	wantRedirect(t, resp, tp)

	// The control: no frames, logged out; the activity of one session
	// keeps no other alive.
	resp, _ = quiet.b.get(pathInbox)
	wantRedirect(t, resp, pathLogin)
	resp, _ = phone.get(pathInbox)
	wantRedirect(t, resp, pathLogin)
}

// latestSession is the id of u's newest session.
func (la *liveApp) latestSession(t *testing.T, u *db.User) int64 {
	t.Helper()
	var id int64
	if err := la.d.NewSelect().Model((*db.Session)(nil)).Column("id").Where("user_id = ?", u.ID).Order("id DESC").Limit(1).
		Scan(context.Background(), &id); err != nil {
		t.Fatal(err)
	}
	return id
}

// waitLastSeen waits until the idle timer of session id reads want (the
// server handles a socket's frames in its own time); after 5 s it stops
// waiting and leaves the verdict to the requests that follow.
func (la *liveApp) waitLastSeen(t *testing.T, id int64, want time.Time, after string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		var seen time.Time
		if err := la.d.NewSelect().Model((*db.Session)(nil)).Column("last_seen_at").Where("id = ?", id).Scan(context.Background(), &seen); err != nil {
			t.Fatal(err)
		}
		if seen.Equal(want) {
			return
		}
		if time.Now().After(deadline) {
			t.Logf("after %s at %v the session was last seen at %v", after, want, seen.UTC())
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestActiveFrame: only {"active": true} is the activity frame; anything
// else a page sends (but a typing frame) stays ignored.
func TestActiveFrame(t *testing.T) {
	for msg, want := range map[string]bool{
		`{"active":true}`:                   true,
		`{"active":true,"HEADERS":{}}`:      true,
		`{"active":false}`:                  false,
		`{"active":"true"}`:                 false,
		`{"active":1}`:                      false,
		`{}`:                                false,
		`{"typing":"12"}`:                   false,
		`true`:                              false,
		`not json`:                          false,
		`{"HEADERS":{"HX-Request":"true"}}`: false,
	} {
		if got := activeFrame([]byte(msg)); got != want {
			t.Errorf("activeFrame(%s) = %v, want %v", msg, got, want)
		}
	}
}
