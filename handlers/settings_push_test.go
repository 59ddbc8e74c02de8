package handlers

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"dialoog/db"
	"dialoog/db/dbtest"
	"dialoog/notify"
	"dialoog/notify/notifytest"
)

var (
	vapidOnce sync.Once
	vapidKey  string
)

// testVAPIDKey is one VAPID public key for the handler tests.
func testVAPIDKey(t testing.TB) string {
	vapidOnce.Do(func() {
		_, pub, err := notify.GenerateVAPID()
		if err != nil {
			t.Fatal(err)
		}
		vapidKey = pub
	})
	return vapidKey
}

// postJSON posts body as JSON with the CSRF header (as app.js does), or
// without it when noCSRF.
func (b *browser) postJSON(target, body string, noCSRF bool) (*http.Response, string) {
	b.t.Helper()
	var headers []string
	if !noCSRF {
		headers = []string{csrfHeader, b.csrf()}
	}
	return b.doRaw(http.MethodPost, target, "application/json", strings.NewReader(body), headers...)
}

// TestSettingsPush: "Meldingen op dit apparaat" carries the VAPID key and
// says that it needs script; the browser's subscription is stored for the
// signed-in person with its user agent and audited, refused without the
// CSRF header, refused when it is not a browser's subscription (with the
// message), and switching off removes only the person's own subscription.
func TestSettingsPush(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		ra := newRealAppOn(t, d)
		jan := ra.person(t, "jan@example.nl", false, "Jan", "", "Jansen", "nl")
		piet := ra.person(t, "piet@example.nl", false, "Piet", "", "Pieters", "nl")
		ps := notifytest.StartPushService(t, testVAPIDKey(t), "mailto:x@example.test")
		sub := func(name string) (string, string) {
			_, p, a := ps.NewBrowser(name)
			endpoint := "https://push.example.test/" + name
			return endpoint, fmt.Sprintf(`{"endpoint":%q,"expirationTime":null,"keys":{"p256dh":%q,"auth":%q}}`, endpoint, p, a)
		}
		subs := func(userID int64) []db.PushSubscription {
			t.Helper()
			var out []db.PushSubscription
			if err := ra.d.NewSelect().Model(&out).Where("user_id = ?", userID).Order("id").Scan(ctx); err != nil {
				t.Fatal(err)
			}
			return out
		}

		_, page := jan.b.get(pathAccount)
		wantContains(t, page, "Meldingen op dit apparaat", `data-vapid-key="`+testVAPIDKey(t)+`"`,
			"Meldingen op dit apparaat werken alleen met JavaScript.", `data-push="on"`)

		janEndpoint, janBody := sub("jan")
		resp, _ := jan.b.postJSON(pathSettingsPush, janBody, true)
		wantStatus(t, resp, http.StatusForbidden)
		if len(subs(jan.u.ID)) != 0 {
			t.Fatal("stored without the CSRF header")
		}
		resp, _ = jan.b.doRaw(http.MethodPost, pathSettingsPush, "application/json", strings.NewReader(janBody),
			csrfHeader, jan.b.csrf(), "User-Agent", "Firefox op Android")
		wantStatus(t, resp, http.StatusNoContent)
		got := subs(jan.u.ID)
		if len(got) != 1 || got[0].Endpoint != janEndpoint || got[0].UserAgent != "Firefox op Android" || got[0].VAPIDKey != testVAPIDKey(t) {
			t.Fatalf("stored %+v", got)
		}
		if strings.Contains(string(got[0].Keys), "p256dh") {
			t.Fatal("subscription keys stored in the clear")
		}

		for name, body := range map[string]string{
			"http endpoint": strings.Replace(janBody, "https://", "http://", 1),
			"no keys":       fmt.Sprintf(`{"endpoint":%q}`, janEndpoint),
			"too long":      strings.Replace(janBody, "/jan", "/"+strings.Repeat("a", notify.MaxSubscriptionBytes), 1),
			// The server would post to its own network on every message.
			"private address": strings.Replace(janBody, "push.example.test", "169.254.169.254", 1),
			"loopback port":   strings.Replace(janBody, "push.example.test", "127.0.0.1:5432", 1),
			"another port":    strings.Replace(janBody, "push.example.test", "push.example.test:8443", 1),
		} {
			resp, page := jan.b.postJSON(pathSettingsPush, body, false)
			if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(page, "Je browser gaf geen geldige aanmelding voor meldingen.") {
				t.Fatalf("%s: %d %s", name, resp.StatusCode, page)
			}
		}
		resp, _ = jan.b.post(pathSettingsPush, nil)
		wantStatus(t, resp, http.StatusUnsupportedMediaType)

		pietEndpoint, pietBody := sub("piet")
		resp, _ = piet.b.postJSON(pathSettingsPush, pietBody, false)
		wantStatus(t, resp, http.StatusNoContent)

		// Jan cannot switch off Piet's browser; his own goes.
		resp, _ = jan.b.postJSON(pathSettingsPushOff, fmt.Sprintf(`{"endpoint":%q}`, pietEndpoint), false)
		wantStatus(t, resp, http.StatusNoContent)
		if len(subs(piet.u.ID)) != 1 {
			t.Fatal("another person's subscription was removed")
		}
		resp, _ = jan.b.postJSON(pathSettingsPushOff, fmt.Sprintf(`{"endpoint":%q}`, janEndpoint), true)
		wantStatus(t, resp, http.StatusForbidden)
		resp, _ = jan.b.postJSON(pathSettingsPushOff, fmt.Sprintf(`{"endpoint":%q}`, janEndpoint), false)
		wantStatus(t, resp, http.StatusNoContent)
		if len(subs(jan.u.ID)) != 0 || len(subs(piet.u.ID)) != 1 {
			t.Fatalf("after switching off: jan %d, piet %d", len(subs(jan.u.ID)), len(subs(piet.u.ID)))
		}
		_, page = jan.b.get(pathAccountActivity)
		wantContains(t, page, "Meldingen aangezet op een apparaat", "Meldingen uitgezet op een apparaat")
	})
}
