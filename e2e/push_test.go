package e2e

import (
	"context"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/serviceworker"
	"github.com/chromedp/chromedp"

	"dialoog/notify"
	"dialoog/notify/notifytest"
)

// TestWebPushFromTheBrowser: a person on a phone switches notifications on
// in Mijn account; the page's script registers the service worker, asks
// permission, subscribes with the server's VAPID key and hands the
// subscription to the server. A reply to them then reaches the push
// service stand-in (a real HTTPS server in the test that verifies the
// VAPID JWT's ES256 signature against the server's public key and decrypts
// the RFC 8291 payload with the browser's private key): it holds only
// "Nieuw bericht in Dialoog" and the inbox URL, nothing of the message,
// its subject or the people. Handed to the page's service worker, it shows
// a notification with that title and no text.
//
// Chromium only subscribes at its vendor's push service (FCM), which a
// headless test browser cannot reach, and whose endpoint could not be
// verified here anyway. So the test first tries the real
// PushManager.subscribe and logs what it gives; then it replaces
// PushManager.subscribe/getSubscription in the page by one that returns a
// subscription of the stand-in (an endpoint with its P-256 key and auth
// secret) and records the applicationServerKey the page passed. Everything
// else is the page's own code: the button, the permission, the service
// worker, the POST with its CSRF header to /account/push.
func TestWebPushFromTheBrowser(t *testing.T) {
	priv, pub, err := notify.GenerateVAPID()
	if err != nil {
		t.Fatal(err)
	}
	const subject = "mailto:beheer@dialoog.test"
	ps := notifytest.StartTLSPushService(t, pub, subject)
	// The server trusts the stand-in's certificate (Go reads SSL_CERT_FILE).
	certFile := filepath.Join(t.TempDir(), "push-service.pem")
	if err := os.WriteFile(certFile, ps.CertPEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	s, smtpSrv, gw := startMailServerWith(t, map[string]string{
		"DIALOOG_VAPID_PRIVATE_KEY": priv,
		"DIALOOG_VAPID_SUBJECT":     subject,
		"SSL_CERT_FILE":             certFile,
	})

	hr := caseManager(t, s, gw)
	hr.click("Nieuw bericht")
	hr.step("compose", "Onderwerp")
	hr.fill("Aan", "melding@example.nl")
	hr.fill("Onderwerp", "Geheim onderwerp")
	hr.fill("Bericht", "Geheime inhoud")
	hr.click("VERZEND")
	hr.waitJS("thread page", `/^\/berichten\/\d+$/.test(location.pathname)`)
	threadURL := evalJS[string](hr, `location.href`)
	hr.run(chromedp.Navigate(s.BaseURL + "/berichten"))
	hr.waitPath("/berichten")

	emp := openInvitation(t, s, smtpSrv, "melding@example.nl", 360, 740)
	emp.name = "push-"
	emp.termsAndPassword()
	emp.smsRoute(gw, "+31633333333")
	emp.recoveryAndProfileAs("P.", "Pim", "", "Pas")
	// Read, so that the next message is told at once.
	emp.click("Geheim onderwerp")
	emp.waitJS("thread read", `/^\/berichten\/\d+$/.test(location.pathname) && document.getElementById('inbox-link').innerText.trim() === 'Berichten'`)

	// The browser allows notifications for the site, as after a "yes".
	for _, name := range []string{"notifications", "push"} {
		if _, err := chromedp.CallBrowser(emp.ctx, cdpbrowser.SetPermission, cdpbrowser.SetPermissionParams{
			Permission: &cdpbrowser.PermissionDescriptor{Name: name, UserVisibleOnly: true},
			Setting:    cdpbrowser.PermissionSettingGranted,
			Origin:     s.BaseURL,
		}); err != nil {
			t.Fatalf("grant %s: %v", name, err)
		}
	}
	emp.run(chromedp.Navigate(s.BaseURL + "/account"))
	emp.step("account", "")
	emp.waitJS("the service worker is registered and active",
		`(navigator.serviceWorker.getRegistration().then(r => { window.__sw = !!(r && r.active && new URL(r.active.scriptURL).pathname === '/sw.js'); }), window.__sw === true)`)
	emp.waitJS("the push section offers to switch on", `(() => { const b = document.querySelector('#push-settings [data-push="on"]');
  return !!b && b.checkVisibility() && document.querySelector('#push-settings .push-status').innerText.trim() === 'Meldingen staan uit op dit apparaat.'; })()`)
	if got := emp.text("#push-settings [data-push=\"on\"]"); got != "Meldingen aanzetten op dit apparaat" {
		t.Fatalf("push button reads %q", got)
	}
	emp.strictA11y("account with push")
	emp.shot("account-push-off")

	// The real Push API first, for the record.
	native := evalJSAwait[string](emp, fmt.Sprintf(`(async () => {
  const reg = await navigator.serviceWorker.ready;
  const key = Uint8Array.from(atob(%q.replace(/-/g, '+').replace(/_/g, '/')), c => c.charCodeAt(0));
  const timeout = new Promise(resolve => setTimeout(() => resolve('no answer within 10 s'), 10000));
  const sub = reg.pushManager.subscribe({userVisibleOnly: true, applicationServerKey: key})
    .then(s => { const e = new URL(s.endpoint).host; return s.unsubscribe().then(() => 'subscribed at ' + e); })
    .catch(e => 'refused: ' + e.name + ': ' + e.message);
  return Promise.race([sub, timeout]);
})()`, padBase64(pub)))
	t.Logf("Chromium's own PushManager.subscribe: %s", native)

	endpoint, p256dh, authKey := ps.NewBrowser("pim-phone")
	emp.eval(fmt.Sprintf(`(() => {
  const sub = {endpoint: %q, expirationTime: null, keys: {p256dh: %q, auth: %q}};
  let current = null;
  window.__pushKey = null;
  const stub = {
    endpoint: sub.endpoint,
    toJSON: () => sub,
    unsubscribe: () => { current = null; return Promise.resolve(true); },
  };
  PushManager.prototype.subscribe = function (opts) {
    window.__pushKey = btoa(String.fromCharCode(...new Uint8Array(opts.applicationServerKey)))
      .replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
    window.__userVisibleOnly = opts.userVisibleOnly;
    current = stub;
    return Promise.resolve(stub);
  };
  PushManager.prototype.getSubscription = function () { return Promise.resolve(current); };
  return true;
})()`, endpoint, p256dh, authKey))

	emp.click("Meldingen aanzetten op dit apparaat")
	emp.waitJS("notifications on", `document.querySelector('#push-settings .push-status').innerText.trim() === 'Meldingen staan aan op dit apparaat.'`)
	if got := evalJS[string](emp, `window.__pushKey`); got != pub {
		t.Fatalf("the page subscribed with key %q, want the server's VAPID key %q", got, pub)
	}
	if !emp.eval(`window.__userVisibleOnly === true`) {
		t.Fatal("the page did not ask for userVisibleOnly")
	}
	emp.strictA11y("account with push on")
	emp.shot("account-push-on")

	// A reply: the push service gets one notification, signed and
	// encrypted, that says nothing of it.
	hr.run(chromedp.Navigate(threadURL))
	hr.waitJS("thread", `!!document.querySelector('main .message')`)
	hr.click("REAGEER")
	hr.step("reply", "Bericht")
	hr.fill("Bericht", "Nog meer geheime inhoud")
	hr.click("VERZEND")
	hr.waitJS("reply shown", `document.querySelector('main').innerText.includes('Nog meer geheime inhoud')`)
	got := ps.WaitReceived(t, 1, 30*time.Second)
	if len(got) != 1 || got[0] != `{"title":"Nieuw bericht in Dialoog","url":"/berichten"}` {
		t.Fatalf("the push service got %q, want only the fixed title and the inbox URL", got)
	}
	for _, secret := range []string{"Geheim", "geheim", "Hanna", "Vries", "Pim", "OSAW", "melding@"} {
		if strings.Contains(got[0], secret) {
			t.Fatalf("the notification holds %q: %q", secret, got[0])
		}
	}

	// The push reaches the page's service worker (delivered through the
	// DevTools protocol, as the push service would): it shows the
	// notification with the fixed title, which opens the inbox.
	reg, err := chromedp.Run(emp.ctx, chromedp.WaitEvent(serviceworker.WorkerRegistrationUpdated,
		func(e serviceworker.EventWorkerRegistrationUpdated) bool {
			for _, r := range e.Registrations {
				if !r.IsDeleted && r.ScopeURL == s.BaseURL+"/" {
					return true
				}
			}
			return false
		},
		chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := cdp.Call(ctx, tg, serviceworker.Enable, cdp.Empty{})
			return err
		})))
	if err != nil {
		t.Fatalf("the service worker's registration: %v", err)
	}
	var regID serviceworker.RegistrationID
	for _, r := range reg.Registrations {
		if !r.IsDeleted && r.ScopeURL == s.BaseURL+"/" {
			regID = r.RegistrationID
		}
	}
	if _, err := chromedp.Call(emp.ctx, serviceworker.DeliverPushMessage, serviceworker.DeliverPushMessageParams{
		Origin: s.BaseURL, RegistrationID: regID, Data: got[0]}); err != nil {
		t.Fatalf("deliver the push to the service worker: %v", err)
	}
	emp.waitJS("the notification shown", `(navigator.serviceWorker.ready.then(r => r.getNotifications()).then(ns => {
  window.__notes = ns.map(n => n.title + ' | ' + n.body + ' | ' + n.data.url).join('\n'); }), window.__notes === 'Nieuw bericht in Dialoog |  | /berichten')`)

	// Switched off by the page: the server forgets the subscription, and
	// the next message is pushed nowhere.
	emp.click("Meldingen uitzetten op dit apparaat")
	emp.waitJS("notifications off", `document.querySelector('#push-settings .push-status').innerText.trim() === 'Meldingen staan uit op dit apparaat.'`)
	emp.run(chromedp.Navigate(threadURL))
	emp.waitJS("thread read again", `!!document.querySelector('main .message') && document.getElementById('inbox-link').innerText.trim() === 'Berichten'`)
	// Away from the conversation: a message read as it arrives is told by
	// no mail (DIALOOG_NOTIFY_DELAY), one left unread is.
	emp.run(chromedp.Navigate(s.BaseURL + "/account"))
	emp.step("account again", "")
	before := mailsTo(smtpSrv, "melding@example.nl")
	hr.click("REAGEER")
	hr.step("reply-2", "Bericht")
	hr.fill("Bericht", "Nog een bericht")
	hr.click("VERZEND")
	hr.waitJS("second reply shown", `document.querySelector('main').innerText.includes('Nog een bericht')`)
	smtpSrv.WaitMail(t, "melding@example.nl", before, 20*time.Second) // the second reply was told by mail
	time.Sleep(time.Second)
	if got, errs := ps.Received(); len(got) != 1 || len(errs) != 0 {
		t.Fatalf("after switching off the push service got %d notifications (%v), want still 1", len(got), errs)
	}
}

// evalJSAwait evaluates js, which gives a promise, and returns its value.
func evalJSAwait[T any](b *browser, js string) T {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[T](js, chromedp.EvalAwaitPromise))
	if err != nil {
		b.t.Fatalf("browser: %v", err)
	}
	return v
}

// padBase64 turns base64url without padding into standard base64 with it,
// for atob.
func padBase64(s string) string {
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return s
	}
	return base64.StdEncoding.EncodeToString(raw)
}
