package handlers

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"dialoog/auth"
	"dialoog/components"
	"dialoog/db"
	"dialoog/db/dbtest"
	"dialoog/messaging"
)

// keptFixture is Jan, who went through the first visit (so that he can log
// in again with his password and a text), in a conversation Hanna began.
type keptFixture struct {
	ra     *realApp
	hr     *person
	jan    *account
	thread int64
}

func newKeptFixture(t *testing.T, d *db.DB) *keptFixture {
	t.Helper()
	ra := newRealAppOn(t, d)
	jan := ra.onboard(t, auth.InviteInput{Email: "jan@example.nl"}, false)
	hr := ra.person(t, "hr@osaw.nl", true, "Hanna", "de", "Vries", "nl")
	return &keptFixture{ra: ra, hr: hr, jan: jan, thread: ra.compose(t, hr.u, "Verzuim", "Hoe gaat het?", "jan@example.nl")}
}

func (f *keptFixture) threadPath() string { return components.ThreadURL(f.thread) }

// lapse lets Jan's session sit idle past its end.
func (f *keptFixture) lapse(t *testing.T) {
	t.Helper()
	resp, _ := f.jan.b.get(f.threadPath())
	wantStatus(t, resp, http.StatusOK)
	f.ra.clk.Add(auth.SessionIdle + time.Minute)
}

func (f *keptFixture) kept(t *testing.T) int {
	t.Helper()
	n, err := f.ra.d.NewSelect().Model((*db.KeptText)(nil)).Count(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return int(n)
}

// logInAgain logs email in with password and text code in the browser b
// and returns the answer to the second step.
func (ra *realApp) logInAgain(t *testing.T, b *browser, email string) *http.Response {
	t.Helper()
	resp, _ := b.post(pathLogin, url.Values{"email": {email}, "password": {testPassword}})
	wantRedirect(t, resp, pathLoginFactor)
	b.post(pathLoginFactor+"/sms", nil)
	resp, _ = b.post(pathLoginFactor, url.Values{"kind": {"sms"}, "code": {ra.lastSMSCode(t, testPhone)}})
	return resp
}

// wantKeptCookieCleared checks that resp removes the kept-text cookie.
func wantKeptCookieCleared(t *testing.T, resp *http.Response) {
	t.Helper()
	if ck := cookieNamed(resp, keptCookie); ck == nil || ck.Value != "" || !ck.Expires.Before(time.Now()) {
		t.Fatalf("the kept cookie stays: %+v", ck)
	}
}

const keptBody = "Mijn rug doet nog pijn & de <fysio> zegt: rustig aan."

// TestKeptReplyAfterLapse: Jan writes a reply, his session lapses, he
// clicks VERZEND: nothing is sent, the text is kept, and the login page
// says so. Logging in again in that browser brings him to the
// conversation with the reply form filled in and a notice; sending it
// sends it, and the kept text and its cookie go.
func TestKeptReplyAfterLapse(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		f := newKeptFixture(t, d)
		b := f.jan.b
		before := f.ra.lastMessageID(t, f.thread)
		f.lapse(t)

		resp, _ := b.post(f.threadPath(), url.Values{"body": {keptBody}})
		wantRedirect(t, resp, loginKept)
		if got := f.ra.lastMessageID(t, f.thread); got != before {
			t.Fatal("the reply was sent after the session lapsed")
		}
		if f.kept(t) != 1 {
			t.Fatal("the reply was not kept")
		}
		ck := cookieNamed(resp, keptCookie)
		if ck == nil || !ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode || ck.MaxAge <= 0 {
			t.Fatalf("kept cookie %+v", ck)
		}
		_, page := b.follow(resp)
		wantContains(t, page, "Je sessie was verlopen. Je bericht is nog niet verzonden, maar we hebben je tekst bewaard.")

		resp = f.ra.logInAgain(t, b, "jan@example.nl")
		wantRedirect(t, resp, f.threadPath())
		_, page = b.follow(resp)
		wantContains(t, page, "Mijn rug doet nog pijn &amp; de &lt;fysio&gt; zegt: rustig aan.",
			`role="status"`, "Dit bericht was nog niet verzonden toen je sessie verliep.", ">Weggooien</button>",
			`action="`+f.threadPath()+keptDiscard+`"`)
		// So does REAGEER's form, in place.
		_, part := b.get(f.threadPath()+"/reageer", "HX-Request", "true", "HX-Target", "reply")
		wantContains(t, part, "Mijn rug doet nog pijn &amp; de", "Dit bericht was nog niet verzonden")

		resp, _ = b.post(f.threadPath(), url.Values{"body": {keptBody}})
		wantRedirect(t, resp, f.threadPath())
		if f.ra.lastMessageID(t, f.thread) == before {
			t.Fatal("the kept reply was not sent")
		}
		if f.kept(t) != 0 {
			t.Fatal("the sent reply is still kept")
		}
		wantKeptCookieCleared(t, resp)
		_, page = b.follow(resp)
		wantNotContains(t, page, "Dit bericht was nog niet verzonden")
	})
}

// TestKeptNewMessageAfterLapse: the same for "Nieuw bericht", with
// recipients, subject and text; files are not kept, and the notice says
// so. An htmx post gets the login page through HX-Location.
func TestKeptNewMessageAfterLapse(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		f := newKeptFixture(t, d)
		b := f.jan.b
		var jan db.User
		if err := d.NewSelect().Model(&jan).Where("email = ?", "jan@example.nl").Scan(context.Background()); err != nil {
			t.Fatal(err)
		}
		upload := f.ra.upload(t, &jan, "brief.txt", []byte("brief"))
		f.lapse(t)

		resp, body := b.post(pathCompose, url.Values{"to": {"hr@osaw.nl"}, "subject": {"Herstel"}, "body": {keptBody}, "attachment": {itoa(upload)}},
			"HX-Request", "true")
		wantStatus(t, resp, http.StatusOK)
		if loc := resp.Header.Get("HX-Location"); loc != hxLocation(loginKept) || body != "" {
			t.Fatalf("HX-Location %q, body %q", loc, body)
		}
		if f.kept(t) != 1 {
			t.Fatal("the message was not kept")
		}

		resp = f.ra.logInAgain(t, b, "jan@example.nl")
		wantRedirect(t, resp, pathCompose)
		_, page := b.follow(resp)
		wantContains(t, page, `value="hr@osaw.nl"`, `value="Herstel"`, "Mijn rug doet nog pijn &amp; de &lt;fysio&gt;",
			"Dit bericht was nog niet verzonden", "Bijlagen zijn niet bewaard")
		resp, _ = b.post(pathCompose, url.Values{"to": {"hr@osaw.nl"}, "subject": {"Herstel"}, "body": {keptBody}})
		if tid := threadIDFrom(t, resp); tid == f.thread {
			t.Fatal("the kept message went into the old conversation")
		}
		if f.kept(t) != 0 {
			t.Fatal("the sent message is still kept")
		}
		wantKeptCookieCleared(t, resp)
	})
}

// TestKeptReplyAfterLapseThroughHTMX: the reply form posts through htmx;
// after a lapse the answer sends the page to the login page (HX-Location),
// nothing is sent, and the reply is kept.
func TestKeptReplyAfterLapseThroughHTMX(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		f := newKeptFixture(t, d)
		before := f.ra.lastMessageID(t, f.thread)
		f.lapse(t)
		resp, body := f.jan.b.post(f.threadPath(), url.Values{"body": {keptBody}}, "HX-Request", "true")
		wantStatus(t, resp, http.StatusOK)
		if loc := resp.Header.Get("HX-Location"); loc != hxLocation(loginKept) || body != "" {
			t.Fatalf("HX-Location %q, body %q", loc, body)
		}
		if f.ra.lastMessageID(t, f.thread) != before {
			t.Fatal("the reply was sent after the session lapsed")
		}
		if f.kept(t) != 1 || cookieNamed(resp, keptCookie) == nil {
			t.Fatal("the reply was not kept for this browser")
		}
	})
}

// TestKeptOnlyForItsWriter: someone else logging in with the browser goes
// to their inbox and sees nothing of it; Weggooien throws it away; a
// session that was logged out keeps nothing.
func TestKeptOnlyForItsWriter(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		f := newKeptFixture(t, d)
		b := f.jan.b
		f.ra.onboard(t, auth.InviteInput{Email: "piet@example.nl"}, false)
		f.ra.compose(t, f.hr.u, "Ander gesprek", "Hallo Piet", "piet@example.nl")
		f.lapse(t)
		resp, _ := b.post(f.threadPath(), url.Values{"body": {keptBody}})
		wantRedirect(t, resp, loginKept)

		// Piet, in Jan's browser.
		resp = f.ra.logInAgain(t, b, "piet@example.nl")
		wantRedirect(t, resp, pathInbox)
		_, page := b.get(pathCompose)
		wantNotContains(t, page, "Mijn rug", "Dit bericht was nog niet verzonden")
		resp, _ = b.get(f.threadPath())
		wantStatus(t, resp, http.StatusNotFound)
		if f.kept(t) != 1 {
			t.Fatal("Piet's login deleted Jan's kept text")
		}
		// Piet logs out; Jan logs in and throws it away.
		resp, _ = b.post("/uitloggen", nil)
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("logout: %d", resp.StatusCode)
		}
		resp = f.ra.logInAgain(t, b, "jan@example.nl")
		wantRedirect(t, resp, f.threadPath())
		resp, _ = b.post(f.threadPath()+keptDiscard, nil)
		wantRedirect(t, resp, f.threadPath())
		if f.kept(t) != 0 {
			t.Fatal("Weggooien kept the text")
		}
		wantKeptCookieCleared(t, resp)
		_, page = b.follow(resp)
		wantNotContains(t, page, "Mijn rug", "Dit bericht was nog niet verzonden")

		// Logged out, then the form is posted: nothing kept, the login
		// page as before.
		resp, _ = b.post("/uitloggen", nil)
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("logout: %d", resp.StatusCode)
		}
		f.ra.clk.Add(auth.SessionIdle + time.Minute)
		resp, _ = b.post(f.threadPath(), url.Values{"body": {keptBody}})
		wantRedirect(t, resp, pathLogin)
		if f.kept(t) != 0 || cookieNamed(resp, keptCookie) != nil {
			t.Fatal("a logged out session kept the text")
		}
	})
}

// TestKeepWithoutSending: keepField with a live session keeps the text
// and sends nothing (204), for a conversation of the person's only; the
// page then offers it.
func TestKeepWithoutSending(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		f := newKeptFixture(t, d)
		b := f.jan.b
		before := f.ra.lastMessageID(t, f.thread)
		resp, _ := b.post(f.threadPath(), url.Values{"body": {keptBody}, keepField: {"1"}})
		wantStatus(t, resp, http.StatusNoContent)
		if f.ra.lastMessageID(t, f.thread) != before || f.kept(t) != 1 {
			t.Fatal("keep only: sent, or not kept")
		}
		_, page := b.get(f.threadPath())
		wantContains(t, page, "Mijn rug doet nog pijn &amp;", "Dit bericht was nog niet verzonden")
		// Another person's conversation: not found, nothing kept.
		other := f.ra.compose(t, f.hr.u, "Intern", "Alleen voor Bram", "bram@osaw.nl")
		resp, _ = b.post(components.ThreadURL(other), url.Values{"body": {"x"}, keepField: {"1"}})
		wantStatus(t, resp, http.StatusNotFound)
		if f.kept(t) != 1 {
			t.Fatal("kept for a conversation Jan is not in")
		}
		// Without any session: as before.
		resp, _ = f.ra.browser(t).post(pathCompose, url.Values{"body": {keptBody}, keepField: {"1"}})
		wantRedirect(t, resp, pathLogin)
		if f.kept(t) != 1 {
			t.Fatal("kept without a session")
		}
	})
}

// TestKeptLongReplyAfterLapse: a reply as long as a message may be, in
// multi-byte characters, is larger than any form without a session may
// be; a session that lapsed keeps the limit it had, so the text is kept,
// not refused as too large.
func TestKeptLongReplyAfterLapse(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		f := newKeptFixture(t, d)
		f.lapse(t)
		long := strings.Repeat("é", messaging.MaxBody)
		if len(url.Values{"body": {long}}.Encode()) <= formBodyLimit {
			t.Fatal("the text fits the limit without a session: the test proves nothing")
		}
		resp, _ := f.jan.b.post(f.threadPath(), url.Values{"body": {long}})
		wantRedirect(t, resp, loginKept)
		if f.kept(t) != 1 {
			t.Fatal("the long reply was not kept")
		}
		// Without a session the limit stays.
		resp, _ = f.ra.browser(t).post(f.threadPath(), url.Values{"body": {long}})
		wantStatus(t, resp, http.StatusRequestEntityTooLarge)
	})
}

// TestKeptNotAfterLoggingOutALapsedSession: Afmelden after the session
// lapsed ends it, as it ends a live one: a copy of its cookie keeps
// nothing afterwards.
func TestKeptNotAfterLoggingOutALapsedSession(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		f := newKeptFixture(t, d)
		b := f.jan.b
		old := b.session()
		f.lapse(t)
		resp, _ := b.post("/uitloggen", nil)
		wantRedirect(t, resp, pathLogin)

		b.cookies[sessionCookie] = &http.Cookie{Name: sessionCookie, Value: old}
		resp, _ = b.post(f.threadPath(), url.Values{"body": {keptBody}})
		wantRedirect(t, resp, pathLogin)
		if f.kept(t) != 0 || cookieNamed(resp, keptCookie) != nil {
			t.Fatal("a session logged out after it lapsed kept the text")
		}
	})
}

// TestKeptLapsedLearnsNothing: a lapsed session's cookie (a copy of it)
// gets the same answer for a conversation of the person, one they are
// not in and one that does not exist: it cannot tell which conversations
// the person is in. Only the first is kept.
func TestKeptLapsedLearnsNothing(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		f := newKeptFixture(t, d)
		b := f.jan.b
		other := f.ra.compose(t, f.hr.u, "Intern", "Alleen voor Bram", "bram@osaw.nl")
		old := b.session()
		f.lapse(t)
		type answer struct {
			status           int
			location, hx     string
			cookie, httpOnly bool
			maxAge           int
		}
		post := func(path string, headers ...string) answer {
			t.Helper()
			b.cookies[sessionCookie] = &http.Cookie{Name: sessionCookie, Value: old}
			delete(b.cookies, keptCookie)
			resp, _ := b.post(path, url.Values{"body": {keptBody}}, headers...)
			a := answer{status: resp.StatusCode, location: resp.Header.Get("Location"), hx: resp.Header.Get("HX-Location")}
			if ck := cookieNamed(resp, keptCookie); ck != nil {
				a.cookie, a.httpOnly, a.maxAge = true, ck.HttpOnly, ck.MaxAge
			}
			return a
		}
		for _, hx := range [][]string{nil, {"HX-Request", "true"}} {
			own := post(f.threadPath(), hx...)
			if own.status != http.StatusSeeOther && own.hx == "" || !own.cookie {
				t.Fatalf("own conversation: %+v", own)
			}
			for _, path := range []string{components.ThreadURL(other), components.ThreadURL(other + 1000)} {
				if got := post(path, hx...); got != own {
					t.Errorf("%s %v: %+v, want %+v as for Jan's own conversation", path, hx, got, own)
				}
			}
		}
		if f.kept(t) != 1 {
			t.Fatalf("%d kept, want Jan's reply only", f.kept(t))
		}
	})
}

// TestKeptNewMessageKeepsItsChoices: a new message kept after the lapse
// comes back with "Bevat medische informatie" still ticked and "Namens"
// still its team: sent as it comes back, it is not sent unmarked, to be
// read by whoever may read a conversation without medical information.
func TestKeptNewMessageKeepsItsChoices(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		ra := newRealAppOn(t, d)
		ra.person(t, "jan@example.nl", false, "Jan", "", "Jansen", "nl")
		arts := ra.onboard(t, auth.InviteInput{Email: "anna@osaw.nl", Internal: true}, false)
		team, err := ra.msg.CreateTeam(ctx, ra.org.ID, "Bedrijfsarts", true, true)
		if err != nil {
			t.Fatal(err)
		}
		if err := ra.msg.AddTeamMember(ctx, team.ID, "anna@osaw.nl"); err != nil {
			t.Fatal(err)
		}
		teamID := itoa(team.ID)
		b := arts.b
		resp, _ := b.get(pathCompose)
		wantStatus(t, resp, http.StatusOK)
		ra.clk.Add(auth.SessionIdle + time.Minute)

		resp, _ = b.post(pathCompose, url.Values{"to": {"jan@example.nl"}, "subject": {"Uitslag keuring"}, "body": {keptBody},
			"medical": {"yes"}, "team": {teamID}})
		wantRedirect(t, resp, loginKept)
		resp = ra.logInAgain(t, b, "anna@osaw.nl")
		wantRedirect(t, resp, pathCompose)
		_, page := b.follow(resp)
		wantContains(t, page, "Dit bericht was nog niet verzonden", `name="medical" value="yes" checked`,
			`<option value="`+teamID+`" selected>Bedrijfsarts</option>`)
	})
}
