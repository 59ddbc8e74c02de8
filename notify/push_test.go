package notify

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	webpush "github.com/SherClockHolmes/webpush-go"
	"github.com/uptrace/bun"

	"dialoog/db"
	"dialoog/db/dbtest"
	"dialoog/netguard"
	"dialoog/notify/notifytest"
)

func insertUser(t *testing.T, d *db.DB, email string) int64 {
	t.Helper()
	var id int64
	err := d.NewRaw("INSERT INTO users (email, kind, status, created_at, updated_at) VALUES (?, 'external', 'active', ?, ?) RETURNING id", email, time.Now(), time.Now()).Scan(context.Background(), &id)
	if err != nil {
		t.Fatalf("insert user: %v", err)
	}
	return id
}

// TestWebPushLane: a notification queued for a person goes out on the push
// lane to each of their own subscriptions (not another person's), signed
// with the VAPID key and encrypted so that only the browser reads it, and
// holds nothing but the fixed title and the inbox URL; a 410 of the push
// service removes the subscription and fails the row.
func TestWebPushLane(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		v := testVault(t, 7)
		priv, pub, err := GenerateVAPID()
		if err != nil {
			t.Fatal(err)
		}
		const subject = "mailto:beheer@dialoog.test"
		ps := notifytest.StartPushService(t, pub, subject)
		jan := insertUser(t, d, "jan@example.test")
		piet := insertUser(t, d, "piet@example.test")
		phone, phoneP, phoneA := ps.NewBrowser("jan-phone")
		phoneKeys := PushKeys{P256dh: phoneP, Auth: phoneA}
		laptop, laptopP, laptopA := ps.NewBrowser("jan-laptop")
		laptopKeys := PushKeys{P256dh: laptopP, Auth: laptopA}
		other, otherP, otherA := ps.NewBrowser("piet")
		otherKeys := PushKeys{P256dh: otherP, Auth: otherA}
		if err := d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
			if err := Subscribe(ctx, tx, v, jan, phone, phoneKeys, "Phone", pub, time.Now()); err != nil {
				return err
			}
			if err := Subscribe(ctx, tx, v, jan, laptop, laptopKeys, "Laptop", pub, time.Now()); err != nil {
				return err
			}
			return Subscribe(ctx, tx, v, piet, other, otherKeys, "Other", pub, time.Now())
		}); err != nil {
			t.Fatal(err)
		}

		w := NewWorker(d, v, nil, nil, testLogger(t), WorkerOptions{
			Push: &WebPush{DB: d, Vault: v, Keys: VAPID{Public: pub, Private: priv, Subject: subject}, Client: ps.Client(), Loopback: true},
		})
		ob := NewOutbox(v)
		var n int
		if err := d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
			n, err = ob.QueuePush(ctx, tx, jan, "Nieuw bericht in Dialoog", "/berichten", nil, 0)
			return err
		}); err != nil || n != 2 {
			t.Fatalf("queue push: %d rows, %v", n, err)
		}
		if _, err := w.RunOnce(ctx); err != nil {
			t.Fatal(err)
		}
		got, errs := ps.Received()
		if len(errs) > 0 {
			t.Fatalf("push service: %v", errs)
		}
		if len(got) != 2 {
			t.Fatalf("push service got %d notifications, want 2 (Jan's two browsers): %q", len(got), got)
		}
		for _, g := range got {
			var p map[string]any
			if err := json.Unmarshal([]byte(g), &p); err != nil {
				t.Fatalf("payload %q: %v", g, err)
			}
			if len(p) != 2 || p["title"] != "Nieuw bericht in Dialoog" || p["url"] != "/berichten" {
				t.Fatalf("payload %q holds more than the fixed title and URL", g)
			}
		}

		// The laptop's browser dropped the subscription.
		ps.Gone("jan-laptop")
		if err := d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
			_, err := ob.QueuePush(ctx, tx, jan, "Nieuw bericht in Dialoog", "/berichten", nil, 0)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		if _, err := w.RunOnce(ctx); err != nil {
			t.Fatal(err)
		}
		if n, err := PushDevices(ctx, d, jan); err != nil || n != 1 {
			t.Fatalf("after a 410 Jan has %d subscriptions (%v), want 1", n, err)
		}
		var failed int
		if err := d.NewRaw("SELECT count(*) FROM outbox WHERE channel = 'push' AND status = 'failed'").Scan(ctx, &failed); err != nil || failed != 1 {
			t.Fatalf("failed push rows: %d %v", failed, err)
		}
		if got, _ := ps.Received(); len(got) != 3 {
			t.Fatalf("push service got %d notifications in all, want 3", len(got))
		}

		// Switching off removes the subscription; a later push queues nothing.
		if err := d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error { _, err := Unsubscribe(ctx, tx, jan, phone); return err }); err != nil {
			t.Fatal(err)
		}
		if err := d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
			n, err = ob.QueuePush(ctx, tx, jan, "Nieuw bericht in Dialoog", "/berichten", nil, 0)
			return err
		}); err != nil || n != 0 {
			t.Fatalf("after switching off: %d rows, %v", n, err)
		}
	})
}

func devices(t *testing.T, d *db.DB, userID int64) int {
	t.Helper()
	var n int
	if err := d.NewRaw("SELECT push_devices FROM users WHERE id = ?", userID).Scan(context.Background(), &n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestPushDevicesAndStaleKeys: users.push_devices follows the
// subscriptions (subscribe, a browser moving to another person, switching
// off, forgetting), a person keeps at most MaxPushDevices, and a new VAPID
// key pair drops the subscriptions made with the old one, with their rows.
func TestPushDevicesAndStaleKeys(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		v := testVault(t, 7)
		_, oldPub, _ := GenerateVAPID()
		_, newPub, _ := GenerateVAPID()
		ps := notifytest.StartPushService(t, oldPub, "mailto:x@example.test")
		jan := insertUser(t, d, "jan@example.test")
		piet := insertUser(t, d, "piet@example.test")
		sub := func(user int64, name, key string) string {
			ep, p, a := ps.NewBrowser(name)
			if err := d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
				return Subscribe(ctx, tx, v, user, ep, PushKeys{P256dh: p, Auth: a}, "UA", key, time.Now())
			}); err != nil {
				t.Fatal(err)
			}
			return ep
		}
		shared := sub(jan, "shared", oldPub)
		sub(jan, "b", newPub)
		if devices(t, d, jan) != 2 {
			t.Fatalf("jan has %d devices, want 2", devices(t, d, jan))
		}
		// The shared browser is signed in as Piet now.
		_, p, a := ps.NewBrowser("shared")
		if err := d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
			return Subscribe(ctx, tx, v, piet, shared, PushKeys{P256dh: p, Auth: a}, "UA", oldPub, time.Now())
		}); err != nil {
			t.Fatal(err)
		}
		if devices(t, d, jan) != 1 || devices(t, d, piet) != 1 {
			t.Fatalf("after moving: jan %d, piet %d", devices(t, d, jan), devices(t, d, piet))
		}
		ob := NewOutbox(v)
		if err := d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
			_, err := ob.QueuePush(ctx, tx, piet, "t", "/berichten", nil, 0)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		n, err := DropStalePush(ctx, d, newPub)
		if err != nil || n != 1 {
			t.Fatalf("dropped %d (%v), want Piet's one made with the old key", n, err)
		}
		var rows int
		if err := d.NewRaw("SELECT count(*) FROM outbox WHERE channel = 'push'").Scan(ctx, &rows); err != nil || rows != 0 {
			t.Fatalf("queued rows of a dropped subscription: %d %v", rows, err)
		}
		if devices(t, d, piet) != 0 || devices(t, d, jan) != 1 {
			t.Fatalf("after dropping: jan %d, piet %d", devices(t, d, jan), devices(t, d, piet))
		}
		for i := 0; i < MaxPushDevices+2; i++ {
			sub(jan, fmt.Sprintf("many-%d", i), newPub)
		}
		if n, _ := PushDevices(ctx, d, jan); n != MaxPushDevices || devices(t, d, jan) != MaxPushDevices {
			t.Fatalf("jan keeps %d devices (counted %d), want %d", n, devices(t, d, jan), MaxPushDevices)
		}
		if err := d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error { return ForgetPush(ctx, tx, jan) }); err != nil {
			t.Fatal(err)
		}
		if devices(t, d, jan) != 0 {
			t.Fatalf("after forgetting: %d", devices(t, d, jan))
		}
	})
}

// TestLoadOrCreateVAPID: the pair is generated once into the data dir with
// mode 0600 and read back the same; a damaged file is an error, not a new
// key.
func TestLoadOrCreateVAPID(t *testing.T) {
	dir := t.TempDir()
	priv, pub, err := LoadOrCreateVAPID(dir)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(filepath.Join(dir, VAPIDKeyFile))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v %v", fi, err)
	}
	priv2, pub2, err := LoadOrCreateVAPID(dir)
	if err != nil || priv2 != priv || pub2 != pub {
		t.Fatalf("second load gave another pair (%v)", err)
	}
	if got, err := VAPIDPublic(priv); err != nil || got != pub {
		t.Fatalf("public of private: %q %v", got, err)
	}
	if err := os.WriteFile(filepath.Join(dir, VAPIDKeyFile), []byte("kapot\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := LoadOrCreateVAPID(dir); err == nil {
		t.Fatal("a damaged key file was accepted")
	}
}

// TestParseSubscription: only what a browser's Push API gives is accepted.
func TestParseSubscription(t *testing.T) {
	ps := notifytest.StartPushService(t, mustPub(t), "mailto:x@example.test")
	_, p, a := ps.NewBrowser("x")
	good := func(endpoint, p, a string) string {
		return fmt.Sprintf(`{"endpoint":%q,"expirationTime":null,"keys":{"p256dh":%q,"auth":%q}}`, endpoint, p, a)
	}
	ep, keys, err := ParseSubscription([]byte(good("https://push.example.test/abc", p, a)), false)
	if err != nil || ep != "https://push.example.test/abc" || keys.P256dh != p || keys.Auth != a {
		t.Fatalf("a browser's subscription was refused: %v", err)
	}
	bad := map[string]string{
		"http endpoint":   good("http://push.example.test/abc", p, a),
		"no endpoint":     good("", p, a),
		"credentials":     good("https://u:p@push.example.test/abc", p, a),
		"short p256dh":    good("https://push.example.test/abc", p[:20], a),
		"not a point":     good("https://push.example.test/abc", "B"+strings.Repeat("A", 86), a),
		"long auth":       good("https://push.example.test/abc", p, a+"AAAA"),
		"unknown field":   `{"endpoint":"https://push.example.test/abc","keys":{"p256dh":"` + p + `","auth":"` + a + `"},"x":1}`,
		"two values":      good("https://push.example.test/abc", p, a) + "{}",
		"not json":        "endpoint=https://push.example.test",
		"too long":        good("https://push.example.test/"+strings.Repeat("a", MaxSubscriptionBytes), p, a),
		"endpoint > 2000": good("https://push.example.test/"+strings.Repeat("a", 2000), p, a),
	}
	for name, body := range bad {
		if _, _, err := ParseSubscription([]byte(body), false); !errors.Is(err, ErrBadSubscription) {
			t.Errorf("%s: accepted (%v)", name, err)
		}
	}
}

func mustPub(t *testing.T) string {
	_, pub, err := GenerateVAPID()
	if err != nil {
		t.Fatal(err)
	}
	return pub
}

// TestPushServiceStandInRefuses proves that the stand-in's checks can
// fail: a notification signed with another VAPID private key (but naming
// the server's public key), with another key named, or encrypted for
// another browser is refused and recorded; one done right is decrypted.
func TestPushServiceStandInRefuses(t *testing.T) {
	priv, pub, err := GenerateVAPID()
	if err != nil {
		t.Fatal(err)
	}
	otherPriv, otherPub, err := GenerateVAPID()
	if err != nil {
		t.Fatal(err)
	}
	const subject = "beheer@dialoog.test"
	ps := notifytest.StartTLSPushService(t, pub, "mailto:"+subject)
	endpoint, p256dh, authKey := ps.NewBrowser("phone")
	_, otherP256dh, otherAuth := ps.NewBrowser("other")
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: certPool(t, ps.CertPEM())}}}
	send := func(p256dh, authKey, vapidPriv, vapidPub string) int {
		t.Helper()
		resp, err := webpush.SendNotification([]byte(`{"title":"x"}`), &webpush.Subscription{
			Endpoint: endpoint, Keys: webpush.Keys{P256dh: p256dh, Auth: authKey},
		}, &webpush.Options{HTTPClient: client, Subscriber: subject, VAPIDPublicKey: vapidPub, VAPIDPrivateKey: vapidPriv, TTL: 60})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	cases := []struct {
		name                         string
		p256dh, auth, vapidPriv, pub string
		want                         string
	}{
		{"signed with another key", p256dh, authKey, otherPriv, pub, "does not verify"},
		{"another key named", p256dh, authKey, otherPriv, otherPub, "not the server's public key"},
		{"encrypted for another browser", otherP256dh, otherAuth, priv, pub, "decrypt"},
	}
	for i, c := range cases {
		if code := send(c.p256dh, c.auth, c.vapidPriv, c.pub); code < 400 {
			t.Errorf("%s: answered %d", c.name, code)
		}
		got, errs := ps.Received()
		if len(got) != 0 || len(errs) != i+1 || !strings.Contains(errs[i], c.want) {
			t.Errorf("%s: received %q, errors %q, want an error with %q", c.name, got, errs, c.want)
		}
	}
	if code := send(p256dh, authKey, priv, pub); code != http.StatusCreated {
		t.Fatalf("a right notification: %d", code)
	}
	if got, _ := ps.Received(); len(got) != 1 || got[0] != `{"title":"x"}` {
		t.Fatalf("decrypted %q", got)
	}
}

func certPool(t *testing.T, pemCert []byte) *x509.CertPool {
	t.Helper()
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pemCert) {
		t.Fatal("no certificate in the stand-in's PEM")
	}
	return pool
}

// A browser's User-Agent is stored as one clean line cut between
// characters, as a session's is: a cut inside a character would store
// invalid UTF-8.
func TestPushUserAgentCutBetweenCharacters(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		v := testVault(t, 7)
		_, pub, _ := GenerateVAPID()
		ps := notifytest.StartPushService(t, pub, "mailto:x@example.test")
		jan := insertUser(t, d, "jan@example.test")
		ep, p, a := ps.NewBrowser("long")
		long := strings.Repeat("a", 299) + "éé\u202e"
		if err := d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
			return Subscribe(ctx, tx, v, jan, ep, PushKeys{P256dh: p, Auth: a}, long, pub, time.Now())
		}); err != nil {
			t.Fatal(err)
		}
		var stored string
		if err := d.NewSelect().Model((*db.PushSubscription)(nil)).Column("user_agent").Where("endpoint = ?", ep).Scan(ctx, &stored); err != nil {
			t.Fatal(err)
		}
		if stored != strings.Repeat("a", 299) {
			t.Errorf("stored User-Agent %q (%d bytes)", stored, len(stored))
		}
	})
}

// TestParseSubscriptionRefusesNonPublicEndpoints: an endpoint on an
// address of the installation's own network (loopback, private, unique
// local, link local, CGNAT, unspecified, multicast, broadcast, in IPv4,
// IPv6 and IPv4-mapped forms, localhost names, numeric host names that
// resolvers read as IPv4) or on another port than 443 is refused: the
// server would post to it on every new message. The push services'
// endpoints and public addresses on 443 are accepted.
func TestParseSubscriptionRefusesNonPublicEndpoints(t *testing.T) {
	ps := notifytest.StartPushService(t, mustPub(t), "mailto:x@example.test")
	_, p, a := ps.NewBrowser("x")
	body := func(endpoint string) []byte {
		return fmt.Appendf(nil, `{"endpoint":%q,"expirationTime":null,"keys":{"p256dh":%q,"auth":%q}}`, endpoint, p, a)
	}
	for _, ep := range []string{
		"https://fcm.googleapis.com/fcm/send/abc:def",
		"https://updates.push.services.mozilla.com/wpush/v2/gAAAA",
		"https://web.push.apple.com/QGx",
		"https://wns2-par02p.notify.windows.com/w/?token=BQYAAA",
		"https://push.example.test:443/abc",
		"https://8.8.8.8/abc",
		"https://[2001:4860:4860::8888]/abc",
	} {
		if _, _, err := ParseSubscription(body(ep), false); err != nil {
			t.Errorf("%s: refused: %v", ep, err)
		}
	}
	for _, ep := range []string{
		"https://127.0.0.1/abc",
		"https://127.0.0.1:5432/abc",
		"https://127.9.9.9/abc",
		"https://10.0.0.7/abc",
		"https://172.16.3.4/abc",
		"https://192.168.1.1/abc",
		"https://169.254.169.254/latest/meta-data/",
		"https://100.64.0.1/abc",
		"https://0.0.0.0/abc",
		"https://255.255.255.255/abc",
		"https://224.0.0.1/abc",
		"https://[::1]/abc",
		"https://[::]/abc",
		"https://[fe80::1]/abc",
		"https://[fe80::1%25eth0]/abc",
		"https://[fd00::7]/abc",
		"https://[fc00::1]/abc",
		"https://[ff02::1]/abc",
		"https://[::ffff:127.0.0.1]/abc",
		"https://[::ffff:10.0.0.7]/abc",
		"https://[::ffff:169.254.169.254]/abc",
		"https://[::ffff:7f00:1]/abc",
		"https://[64:ff9b::a00:7]/abc",
		"https://localhost/abc",
		"https://LOCALHOST/abc",
		"https://localhost./abc",
		"https://push.localhost/abc",
		"https://2130706433/abc",
		"https://0x7f000001/abc",
		"https://127.1/abc",
		"https://push.example.test:8443/abc",
		"https://push.example.test:0443/abc",
		"https://8.8.8.8:22/abc",
	} {
		if _, _, err := ParseSubscription(body(ep), false); !errors.Is(err, ErrBadSubscription) {
			t.Errorf("%s: accepted (%v)", ep, err)
		}
	}
}

// TestParseSubscriptionOnADevelopmentServer: a development server
// (loopback) also takes an endpoint on this machine's loopback, on any
// port, and still nothing else that is not public, nor another port of a
// public host.
func TestParseSubscriptionOnADevelopmentServer(t *testing.T) {
	ps := notifytest.StartPushService(t, mustPub(t), "mailto:x@example.test")
	_, p, a := ps.NewBrowser("x")
	body := func(endpoint string) []byte {
		return fmt.Appendf(nil, `{"endpoint":%q,"expirationTime":null,"keys":{"p256dh":%q,"auth":%q}}`, endpoint, p, a)
	}
	for _, ep := range []string{"https://127.0.0.1:5432/abc", "https://localhost:8443/abc", "https://[::1]:9/abc", "https://fcm.googleapis.com/fcm/send/abc"} {
		if _, _, err := ParseSubscription(body(ep), true); err != nil {
			t.Errorf("%s: refused: %v", ep, err)
		}
		if u, _ := url.Parse(ep); netguard.Loopback(u.Hostname()) {
			if _, _, err := ParseSubscription(body(ep), false); !errors.Is(err, ErrBadSubscription) {
				t.Errorf("%s: accepted outside development (%v)", ep, err)
			}
		}
	}
	for _, ep := range []string{"https://10.0.0.7/abc", "https://169.254.169.254/latest/meta-data/", "https://[fd00::7]:8443/abc", "https://push.example.test:8443/abc"} {
		if _, _, err := ParseSubscription(body(ep), true); !errors.Is(err, ErrBadSubscription) {
			t.Errorf("%s: accepted (%v)", ep, err)
		}
	}
}

// pushOnce subscribes a person at endpoint directly (without
// ParseSubscription's check), queues one push for them and runs a worker
// round whose WebPush uses client (nil: the production default), and
// returns the push's outbox row.
func pushOnce(t *testing.T, d *db.DB, endpoint string, client *http.Client) db.OutboxItem {
	t.Helper()
	ctx := context.Background()
	v := testVault(t, 7)
	priv, pub, err := GenerateVAPID()
	if err != nil {
		t.Fatal(err)
	}
	ps := notifytest.StartPushService(t, pub, "mailto:x@example.test")
	_, p, a := ps.NewBrowser("keys")
	jan := insertUser(t, d, "jan@example.test")
	if err := d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		return Subscribe(ctx, tx, v, jan, endpoint, PushKeys{P256dh: p, Auth: a}, "UA", pub, time.Now())
	}); err != nil {
		t.Fatal(err)
	}
	w := NewWorker(d, v, nil, nil, testLogger(t), WorkerOptions{
		Push: &WebPush{DB: d, Vault: v, Keys: VAPID{Public: pub, Private: priv, Subject: "mailto:x@example.test"}, Client: client},
	})
	if _, err := NewOutbox(v).QueuePush(ctx, d, jan, "Nieuw bericht in Dialoog", "/berichten", nil, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := w.RunOnce(ctx); err != nil {
		t.Fatal(err)
	}
	var it db.OutboxItem
	if err := d.NewSelect().Model(&it).Where("channel = ?", db.ChannelPush).Scan(ctx); err != nil {
		t.Fatal(err)
	}
	return it
}

// TestWebPushRefusesPrivateAddress: a subscription stored without
// ParseSubscription's check, at an address in the installation's own
// network, is not sent by the production client: the server there sees no
// connection, and the row fails at once as rejected with an error that
// does not hold the endpoint. (The address fails the rule before any
// dial; a name that resolves to such an address is refused by the
// client's dialer, netguard's TestClientRefusesLoopback.)
func TestWebPushRefusesPrivateAddress(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		var conns, requests atomic.Int32
		srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			requests.Add(1)
			w.WriteHeader(http.StatusCreated)
		}))
		srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
			if s == http.StateNew {
				conns.Add(1)
			}
		}
		srv.StartTLS()
		t.Cleanup(srv.Close)
		it := pushOnce(t, d, srv.URL+"/push/secret-capability", nil)
		if n, m := conns.Load(), requests.Load(); n != 0 || m != 0 {
			t.Errorf("the server on 127.0.0.1 saw %d connections and %d requests, want none", n, m)
		}
		if it.Status != db.OutboxFailed {
			t.Errorf("row is %s after one attempt (%q), want failed as rejected", it.Status, it.LastError)
		}
		if strings.Contains(it.LastError, "secret-capability") {
			t.Errorf("stored error holds the endpoint: %q", it.LastError)
		}
	})
}

// TestWebPushRedirectIsRejected: a push service does not redirect, so a
// redirect (which the production client does not follow) fails the row at
// once instead of being retried for a day.
func TestWebPushRedirectIsRejected(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		srv := httptest.NewTLSServer(http.RedirectHandler("https://10.0.0.7/internal", http.StatusTemporaryRedirect))
		t.Cleanup(srv.Close)
		client := srv.Client()
		client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
		it := pushOnce(t, d, srv.URL+"/push/x", client)
		if it.Status != db.OutboxFailed {
			t.Errorf("row is %s after a redirect (%q), want failed as rejected", it.Status, it.LastError)
		}
	})
}

// TestWebPushForgetsAnEndpointTheRuleRefuses: a subscription stored before
// ParseSubscription refused private endpoints (or any other way past it)
// can never be sent: its row fails as rejected without a connection, and
// the subscription goes, with the person's count of devices, so that it
// is not tried again for every new message.
func TestWebPushForgetsAnEndpointTheRuleRefuses(t *testing.T) {
	for _, endpoint := range []string{"https://10.1.2.3/push/x", "https://push.example.com:8443/push/x", "https://localhost/push/x"} {
		t.Run(endpoint, func(t *testing.T) {
			dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
				ctx := context.Background()
				it := pushOnce(t, d, endpoint, &http.Client{Transport: roundTripFunc(func(*http.Request) (*http.Response, error) {
					t.Error("a request was made")
					return nil, errors.New("no request expected")
				})})
				if it.Status != db.OutboxFailed {
					t.Errorf("row is %s (%q), want failed as rejected", it.Status, it.LastError)
				}
				if strings.Contains(it.LastError, "/push/x") {
					t.Errorf("stored error holds the endpoint: %q", it.LastError)
				}
				if n, err := d.NewSelect().Model((*db.PushSubscription)(nil)).Count(ctx); err != nil || n != 0 {
					t.Errorf("%d subscriptions left (%v), want none", n, err)
				}
				var devices int
				if err := d.NewSelect().Model((*db.User)(nil)).Column("push_devices").Limit(1).Scan(ctx, &devices); err != nil || devices != 0 {
					t.Errorf("the person counts %d devices (%v), want 0", devices, err)
				}
			})
		})
	}
}

// roundTripFunc adapts a function to http.RoundTripper.
type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
