package e2e

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	fws "github.com/fasthttp/websocket"

	"dialoog/notify/notifytest"
)

// Live updates in the browser: the employee's inbox fills while she looks
// at it, typing shows and goes, an auto-reply reaches its sender's open
// conversation, all without a page load.
func TestLiveInbox(t *testing.T) {
	s, smtpSrv, gw := startMailServer(t)

	// The case manager on a desktop, the employee on a phone; the
	// employee is away and answers automatically.
	hr := caseManager(t, s, gw)
	const awayText = "Ik ben afwezig tot maandag."
	emp := openInvitation(t, s, smtpSrv, "werknemer@example.nl", 360, 740)
	emp.name = "extern-"
	emp.termsAndPassword()
	emp.smsRoute(gw, "+31622222222")
	emp.recoveryAndProfileAway("J.", "Jan", "van der", "Berg", awayText)
	if got := emp.header(); got != "Berichten" {
		t.Fatalf("header link %q before any message", got)
	}
	emp.waitLive()
	emp.markPage()

	// 1. A new message: the employee's Berichten shows it at the top, with
	// the unread count, and announces it, without loading a page.
	hr.waitLive()
	hr.click("Nieuw bericht")
	hr.step("compose", "Onderwerp")
	hr.fill("Aan", "werknemer@example.nl")
	hr.fill("Onderwerp", "Live bericht")
	hr.fill("Bericht", "Kun je me vandaag even bellen?")
	hr.click("VERZEND")
	hr.waitJS("thread page", `/^\/berichten\/\d+$/.test(location.pathname)`)
	threadA := evalJS[string](hr, `location.pathname`)

	emp.waitJS("new conversation at the top", `(() => {
  const row = document.querySelector('#thread-list > li');
  return !!row && row.innerText.includes('Live bericht') && row.innerText.includes('OSAW');
})()`)
	emp.waitJS("unread count in the header", `document.getElementById('inbox-link').innerText.trim() === 'Berichten (1)'`)
	emp.waitJS("announcement", `document.getElementById('live-status').innerText.includes('Nieuw bericht van OSAW: Live bericht')`)
	if emp.eval(`!!document.getElementById('inbox-empty')`) {
		t.Error(`"Je hebt nog geen berichten." still shown`)
	}
	emp.stillSamePage()
	emp.step("inbox-live", "")

	// 1b. The connection drops; a message sent meanwhile is not pushed, but
	// once htmx-ext-ws has reconnected the page fetches Berichten again.
	emp.trackSockets()
	emp.run(chromedp.Navigate(s.BaseURL + "/berichten"))
	emp.waitLive()
	emp.markPage()
	history := evalJS[float64](emp, `history.length`)
	emp.dropSocket()
	hr.click("Terug naar Berichten")
	hr.waitPath("/berichten")
	hr.click("Nieuw bericht")
	hr.step("compose-2", "Onderwerp")
	hr.fill("Aan", "werknemer@example.nl")
	hr.fill("Onderwerp", "Terwijl je weg was")
	hr.fill("Bericht", "Dit kwam binnen zonder verbinding.")
	hr.click("VERZEND")
	hr.waitJS("thread page", `/^\/berichten\/\d+$/.test(location.pathname) && location.pathname !== `+fmt.Sprintf("%q", threadA))
	time.Sleep(time.Second) // a push, if there were a connection, would have arrived
	if emp.eval(`document.getElementById('main').innerText.includes('Terwijl je weg was')`) {
		t.Fatal("pushed without a connection")
	}
	emp.reconnectSocket()
	emp.waitJS("re-fetched after the reconnect", `document.querySelector('#thread-list > li').innerText.includes('Terwijl je weg was')`)
	emp.waitJS("unread count re-fetched", `document.getElementById('inbox-link').innerText.trim() === 'Berichten (2)'`)
	emp.stillSamePage()
	if got := evalJS[float64](emp, `history.length`); got != history {
		t.Errorf("the re-fetch added %v history entries", got-history)
	}
	emp.shot("inbox-after-reconnect")
	hr.run(chromedp.Navigate(s.BaseURL + threadA))
	hr.waitLive()

	// 2. The employee opens it; the sender sees the read tick appear. The
	// push replaces the message; a keyboard user standing on its menu
	// stays there.
	focusedMenu := `(() => { const f = document.activeElement; const li = f && f.closest('li.message');
  return f && f.matches('.message__menu summary') && li ? li.id : ''; })()`
	if !hr.eval(`(() => { const s = document.querySelector('#main li.message .message__menu summary'); s.focus(); return document.activeElement === s; })()`) {
		t.Fatal("could not focus the message's menu")
	}
	menuOf := evalJS[string](hr, focusedMenu)
	if menuOf == "" {
		t.Fatal("could not focus the message's menu")
	}
	emp.click("Live bericht")
	emp.waitPath(threadA)
	emp.step("thread", "")
	hr.waitJS("read tick at the sender", `document.querySelector('main').innerText.includes('Gelezen door Jan van der Berg')`)
	if got := evalJS[string](hr, focusedMenu); got != menuOf {
		t.Errorf("after the push the focus is on %q, want the menu of %s", evalJS[string](hr, `document.activeElement.outerHTML.slice(0, 80)`), menuOf)
	}
	hr.shot("read-tick-live")

	// 3. The case manager writes an answer: "… is aan het typen" shows at
	// the employee and goes a few seconds after the typing stops.
	hr.click("REAGEER")
	hr.step("reply", "Bericht")
	hr.fill("Bericht", "Ik kijk even in je dossier.")
	typing := `document.querySelector('#main .typing')`
	emp.waitJS("typing shown", typing+`.innerText.includes('Hanna de Vries is aan het typen')`)
	shown := time.Now()
	emp.shot("typing")
	emp.waitJS("typing gone", typing+`.innerText.trim() === ''`)
	if gone := time.Since(shown); gone > 10*time.Second {
		t.Errorf("typing indicator stayed %s", gone)
	}
	emp.stillSamePage()
	emp.shot("typing-gone")

	// 4. The employee asks something in a new conversation; the case
	// manager opens it, and answers from a second tab: the employee's
	// auto-reply appears live in the open conversation of the first.
	// Typing in the form tells the server over the live connection that
	// she is active (it keeps her session alive), never what she typed.
	emp.run(chromedp.Navigate(s.BaseURL + "/berichten/nieuw"))
	emp.step("compose", "Onderwerp")
	emp.waitLive()
	if !emp.eval(`(() => {
  const s = window.__sockets && window.__sockets[window.__sockets.length - 1];
  if (!s || s.readyState !== 1) return false;
  window.__sent = [];
  const send = s.send;
  s.send = function (m) { window.__sent.push(m); return send.call(this, m); };
  return true;
})()`) {
		t.Fatal("no open live connection on the compose page")
	}
	emp.fill("Aan", s.AdminMail)
	emp.fill("Onderwerp", "Vraag van Jan")
	emp.fill("Bericht", "Mag ik volgende week later beginnen?")
	emp.waitJS("activity frame", `window.__sent.includes('{"active":true}')`)
	if sent := evalJS[string](emp, `JSON.stringify(window.__sent)`); strings.Contains(sent, "Mag ik") || strings.Count(sent, "active") != 1 {
		t.Errorf("frames sent while typing a new message: %s, want one activity frame and no text", sent)
	}
	emp.click("VERZEND")
	emp.waitJS("thread page", `/^\/berichten\/\d+$/.test(location.pathname)`)
	threadB := evalJS[string](emp, `location.pathname`)

	hr.run(chromedp.Navigate(s.BaseURL + "/berichten"))
	hr.waitLive()
	hr.click("Vraag van Jan")
	hr.waitPath(threadB)
	hr.step("thread-b", "")
	hr.markPage()

	tab, closeTab := chromedp.NewContext(hr.ctx)
	defer closeTab()
	hr2 := &browser{t: t, ctx: tab, name: "intern-tab2-"}
	hr2.run(chromedp.Navigate(s.BaseURL + threadB + "/reageer"))
	hr2.step("reply", "Bericht")
	hr2.fill("Bericht", "Dat is goed, tot dan.")
	hr2.click("VERZEND")
	hr2.waitJS("reply sent", `document.querySelector('main').innerText.includes('Dat is goed, tot dan.')`)

	hr.waitJS("own reply live", `document.querySelector('#main .messages').innerText.includes('Dat is goed, tot dan.')`)
	hr.waitJS("auto-reply live", fmt.Sprintf(`[...document.querySelectorAll('#main .message--auto')].some(m => m.innerText.includes(%q))`, awayText))
	hr.waitJS("auto-reply announced", `document.getElementById('live-status').innerText.includes('Automatisch antwoord van Jan van der Berg: Vraag van Jan')`)
	hr.stillSamePage()
	hr.step("auto-reply-live", "")
}

// TestLiveTwoInstances: two servers share one PostgreSQL database; a
// message posted through the first reaches, within a second, a live
// connection on the second; after PostgreSQL restarts, the fan-out works
// again.
func TestLiveTwoInstances(t *testing.T) {
	// A PostgreSQL server of the test's own: restarting the machine's would
	// break the tests of other packages that run at the same time.
	pg := startPrivatePostgres(t)
	dbURL := pg.URL("postgres")
	gw := notifytest.StartGateway(t)
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{
		"DIALOOG_DATABASE_URL":   dbURL,
		"DIALOOG_ENCRYPTION_KEY": base64.StdEncoding.EncodeToString(key),
		"DIALOOG_SMS_URL":        gw.URL,
		"DIALOOG_ORG_NAME":       "OSAW",
	}
	one, two := launchServer(t, env), launchServer(t, env)
	one.waitReady(t)
	two.waitReady(t)
	adminLink := one.AdminLink + two.AdminLink // one of them created the organisation
	link, err := url.Parse(adminLink)
	if err != nil || link.Path == "" {
		t.Fatalf("admin link %q: %v", adminLink, err)
	}

	// The case manager signs up through the first instance, the employee
	// through the second.
	hr := openLink(t, one.BaseURL+link.Path, 1280, 800)
	hr.name = "intern-"
	hr.termsAndPassword()
	hr.smsRoute(gw, "+31611111111")
	hr.recoveryAndProfileAs("H.", "Hanna", "de", "Vries")
	const empMail = "werknemer@example.nl"
	emp := openLink(t, two.Invite(t, empMail), 360, 740)
	emp.name = "extern-"
	emp.termsAndPassword()
	emp.smsRoute(gw, "+31622222222")
	emp.recoveryAndProfileAs("J.", "Jan", "van der", "Berg")

	// A WebSocket client on the second instance, in the employee's session.
	client := dialLive(t, two.BaseURL, emp.cookie("dialoog_session"))
	hrCookies := map[string]string{"dialoog_session": hr.cookie("dialoog_session"), "dialoog_csrf": hr.cookie("dialoog_csrf")}
	post := func(subject string) error {
		form := url.Values{"_csrf": {hrCookies["dialoog_csrf"]}, "to": {empMail}, "subject": {subject}, "body": {"Via de eerste instantie."}}
		return postNoFollow(one.BaseURL+"/berichten/nieuw", hrCookies, form)
	}

	// The employee's inbox on the second instance, looked at twice: the
	// second look may come from that instance's memory.
	empCookies := map[string]string{"dialoog_session": emp.cookie("dialoog_session")}
	inbox := func() string {
		t.Helper()
		body, err := getWithCookies(two.BaseURL+"/berichten", empCookies)
		if err != nil {
			t.Fatal(err)
		}
		return body
	}
	inbox()
	inbox()
	// showsWithin: the inbox on the second instance shows subject within
	// d of a change committed through the first.
	showsWithin := func(subject string, d time.Duration) {
		t.Helper()
		start := time.Now()
		looks := 1
		for ; !strings.Contains(inbox(), subject); looks++ {
			if time.Since(start) > d {
				t.Fatalf("the inbox on instance 2 still lacks %q %s after its push (a page kept in memory did not follow)", subject, d)
			}
			time.Sleep(5 * time.Millisecond)
		}
		t.Logf("inbox on instance 2 shows %q at look %d after the push", subject, looks)
	}

	if err := post("Live via instantie 1"); err != nil {
		t.Fatal(err)
	}
	posted := time.Now()
	got, ok := client.waitFor("Live via instantie 1", time.Second)
	if !ok {
		t.Fatalf("no push on instance 2 within 1 s of the post on instance 1 (got %q)", client.seen)
	}
	t.Logf("pushed on instance 2 %s after the post on instance 1 returned", time.Since(posted).Round(time.Millisecond))
	for _, want := range []string{`hx-swap-oob="afterbegin:#thread-list[data-live]"`, "Nieuw bericht van OSAW: Live via instantie 1", "Berichten (1)"} {
		if !strings.Contains(got, want) {
			t.Errorf("push lacks %q:\n%s", want, got)
		}
	}
	showsWithin("Live via instantie 1", time.Second)

	// PostgreSQL restarts: both instances lose their listener and their
	// pooled connections, reconnect, and the fan-out works again.
	pg.Restart(t)
	for _, s := range []*server{one, two} {
		waitReadyz(t, s, time.Minute)
	}
	deadline := time.Now().Add(45 * time.Second)
	for i := 1; ; i++ {
		subject := fmt.Sprintf("Na de herstart %d", i)
		if err := post(subject); err != nil {
			t.Logf("post %d: %v", i, err)
		} else if _, ok := client.waitFor("Na de herstart", 3*time.Second); ok {
			t.Logf("fan-out back after %d posts", i)
			// Pages kept from before the restart are not served: the
			// inbox listener may have missed changes meanwhile.
			showsWithin(subject, 5*time.Second)
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no push on instance 2 after the restart (seen %q)", client.seen)
		}
	}
	if !client.resync {
		t.Error("instance 2 did not tell the page to re-fetch after its listener reconnected")
	}
}

// liveClient is a WebSocket client of /ws outside a browser; a goroutine
// reads the pushes into a channel, so that waiting for one never breaks the
// connection with a read deadline.
type liveClient struct {
	t      *testing.T
	pushes chan string
	seen   []string // every push so far, shortened
	resync bool     // a push asked the page to re-fetch
}

// dialLive connects to base's /ws with a session token and waits for the
// greeting, which says the server has registered the connection.
func dialLive(t *testing.T, base, token string) *liveClient {
	t.Helper()
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	h := http.Header{"Origin": {base}, "Cookie": {"dialoog_session=" + token}}
	d := fws.Dialer{HandshakeTimeout: 10 * time.Second}
	conn, resp, err := d.Dial("ws://"+u.Host+"/ws", h)
	if resp != nil && resp.Body != nil {
		resp.Body.Close()
	}
	if err != nil {
		t.Fatalf("dial %s/ws: %v (%v)", base, err, resp)
	}
	c := &liveClient{t: t, pushes: make(chan string, 256)}
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer close(c.pushes)
		for {
			_, msg, err := conn.ReadMessage()
			if err != nil {
				return
			}
			c.pushes <- string(msg)
		}
	}()
	t.Cleanup(func() {
		conn.Close()
		<-done
	})
	if _, ok := c.waitFor("data-live-ready", 10*time.Second); !ok {
		t.Fatalf("no greeting from %s/ws (got %q)", base, c.seen)
	}
	return c
}

// waitFor returns the first push containing want within d.
func (c *liveClient) waitFor(want string, d time.Duration) (string, bool) {
	timer := time.NewTimer(d)
	defer timer.Stop()
	for {
		select {
		case msg, ok := <-c.pushes:
			if !ok {
				c.t.Fatalf("live connection closed while waiting for %q", want)
			}
			c.seen = append(c.seen, clipText(msg, 120))
			if strings.Contains(msg, "data-live-resync") {
				c.resync = true
			}
			if strings.Contains(msg, want) {
				return msg, true
			}
		case <-timer.C:
			return "", false
		}
	}
}

func clipText(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// postNoFollow posts a form with cookies and expects the 303 of a
// successful form post.
func postNoFollow(target string, cookies map[string]string, form url.Values) error {
	req, err := http.NewRequest(http.MethodPost, target, strings.NewReader(form.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for name, value := range cookies {
		req.AddCookie(&http.Cookie{Name: name, Value: value})
	}
	client := &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		return fmt.Errorf("POST %s: %s, want 303", target, resp.Status)
	}
	return nil
}

// getWithCookies GETs target with cookies and returns the body of a 200.
func getWithCookies(target string, cookies map[string]string) (string, error) {
	req, err := http.NewRequest(http.MethodGet, target, nil)
	if err != nil {
		return "", err
	}
	for name, value := range cookies {
		req.AddCookie(&http.Cookie{Name: name, Value: value})
	}
	client := &http.Client{Timeout: 10 * time.Second}
	resp, err := client.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err == nil && resp.StatusCode != http.StatusOK {
		err = fmt.Errorf("GET %s: %s", target, resp.Status)
	}
	return string(body), err
}

// waitReadyz waits until /readyz answers 200 (the database is reachable).
func waitReadyz(t *testing.T, s *server, within time.Duration) {
	t.Helper()
	client := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(within)
	for {
		resp, err := client.Get(s.BaseURL + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s/readyz not ready within %s: %v", s.BaseURL, within, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// trackSockets makes every later page of b keep its WebSockets in
// window.__sockets (injected by the DevTools protocol, not the page).
func (b *browser) trackSockets() {
	b.t.Helper()
	const js = `(() => {
  const Orig = window.WebSocket;
  window.__sockets = [];
  const Tracked = function (url, protocols) {
    const s = new Orig(url, protocols);
    window.__sockets.push(s);
    return s;
  };
  Tracked.prototype = Orig.prototype;
  Object.assign(Tracked, {CONNECTING: 0, OPEN: 1, CLOSING: 2, CLOSED: 3});
  window.WebSocket = Tracked;
})();`
	if _, err := chromedp.Call(b.ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: js}); err != nil {
		b.t.Fatalf("track sockets: %v", err)
	}
}

// dropSocket closes the page's live connection as a network failure
// would look to htmx-ext-ws, but holds its reconnect back until
// reconnectSocket.
func (b *browser) dropSocket() {
	b.t.Helper()
	if !b.eval(`(() => {
  const s = window.__sockets && window.__sockets[window.__sockets.length - 1];
  if (!s || s.readyState !== 1) return false;
  window.__reconnect = s.onclose;
  s.onclose = null;
  s.close();
  return true;
})()`) {
		b.t.Fatal("no open live connection to drop")
	}
	b.waitJS("connection closed", `window.__sockets[window.__sockets.length - 1].readyState === 3`)
}

// reconnectSocket lets htmx-ext-ws see the dropped connection's abnormal
// close (1006), after which it reconnects.
func (b *browser) reconnectSocket() {
	b.t.Helper()
	if !b.eval(`(() => { window.__reconnect({code: 1006}); return true; })()`) {
		b.t.Fatal("reconnect")
	}
}

// waitLive waits until the page's live connection is open and registered
// on the server: its first push (the greeting) has arrived.
func (b *browser) waitLive() {
	b.t.Helper()
	b.waitJS("live connection", `!!window.dialoogLive && window.dialoogLive.ready > 0`)
}

// newTab opens another tab of b's browser: the same cookies, so the same
// person, with a page of its own.
func (b *browser) newTab(name string) *browser {
	b.t.Helper()
	ctx, cancel := chromedp.NewContext(b.ctx)
	b.t.Cleanup(cancel)
	tab := &browser{t: b.t, ctx: ctx, name: name}
	tab.run(chromedp.EmulateViewport(1280, 900))
	return tab
}

// markPage marks the loaded document; stillSamePage fails if a navigation
// replaced it since.
func (b *browser) markPage() {
	b.t.Helper()
	if !b.eval(`(window.__nonav = 1) === 1`) {
		b.t.Fatal("mark page")
	}
}

func (b *browser) stillSamePage() {
	b.t.Helper()
	if !b.eval(`window.__nonav === 1`) {
		b.t.Fatal("the page was loaded again: the update was not live")
	}
}

// header returns the text of the header's "Berichten" link.
func (b *browser) header() string {
	b.t.Helper()
	return evalJS[string](b, `(() => { const a = document.getElementById('inbox-link'); return a ? a.innerText.trim() : ''; })()`)
}

// cookie returns the value of the browser's cookie name for the current
// page (HttpOnly ones included).
func (b *browser) cookie(name string) string {
	b.t.Helper()
	res, err := chromedp.Call(b.ctx, network.GetCookies, network.GetCookiesParams{})
	if err != nil {
		b.t.Fatalf("cookies: %v", err)
	}
	for _, c := range res.Cookies {
		if c.Name == name {
			return c.Value
		}
	}
	b.t.Fatalf("no cookie %s", name)
	return ""
}
