package handlers

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	fws "github.com/fasthttp/websocket"

	"dialoog/db"
)

// TestSessions: "Sessies" lists the person's live sessions with browser,
// system, a shortened IP address and "dit apparaat"; logging out another
// session closes its open page's socket at once and audits it; "alle
// andere" ends the rest; nobody can end another person's session.
func TestSessions(t *testing.T) {
	la := newLiveApp(t)
	jan := la.person(t, "jan@example.nl", false, "Jan", "", "Jansen", "nl")
	phone := la.signIn(t, jan.u)
	laptop := la.signIn(t, jan.u)
	piet := la.person(t, "piet@example.nl", false, "Piet", "", "Post", "nl")
	ctx := context.Background()
	if _, err := la.d.NewUpdate().Model((*db.Session)(nil)).
		Set("user_agent = ?", "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/128.0.6613.84 Mobile Safari/537.36").
		Set("ip = ?", "198.51.100.23").Where("user_id = ? AND id = (SELECT MAX(id) FROM sessions WHERE user_id = ?) - 1", jan.u.ID, jan.u.ID).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	phoneConn := la.connect(t, jan.u, phone.session())

	resp, page := jan.b.get(pathSessions)
	wantStatus(t, resp, http.StatusOK)
	wantContains(t, page, "<h1>Sessies</h1>", "dit apparaat", "Chrome 128 op Android 14", "198.51.100.x", "Alle andere sessies afmelden")
	wantNotContains(t, page, "198.51.100.23")

	var phoneID int64
	if err := la.d.NewSelect().Model((*db.Session)(nil)).Column("id").Where("ip = ?", "198.51.100.23").Scan(ctx, &phoneID); err != nil {
		t.Fatal(err)
	}
	// Piet cannot end Jan's session.
	resp, _ = piet.b.post(pathSessions+"/"+itoa(phoneID)+"/afmelden", nil)
	wantStatus(t, resp, http.StatusNotFound)

	resp, _ = jan.b.post(pathSessions+"/"+itoa(phoneID)+"/afmelden", nil)
	wantRedirect(t, resp, pathSessions+"?melding=afgemeld")
	phoneConn.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, _, err := phoneConn.ReadMessage()
	var ce *fws.CloseError
	if !errors.As(err, &ce) || ce.Code != fws.ClosePolicyViolation {
		t.Fatalf("the ended session's socket: %v, want close 1008", err)
	}
	resp, _ = phone.get(pathInbox)
	wantRedirect(t, resp, pathLogin)
	_, page = jan.b.get(pathSessions)
	wantNotContains(t, page, "Chrome 128 op Android 14")

	resp, _ = jan.b.post(pathSessions+"/andere", nil)
	wantRedirect(t, resp, pathSessions+"?melding=andere")
	resp, _ = laptop.get(pathInbox)
	wantRedirect(t, resp, pathLogin)
	resp, _ = jan.b.get(pathInbox)
	wantStatus(t, resp, http.StatusOK)
	_, page = jan.b.get(pathAccountActivity)
	wantContains(t, page, "Sessie beëindigd")
}
