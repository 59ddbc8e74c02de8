package notify

import (
	"bytes"
	"context"
	"crypto/ecdh"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	webpush "github.com/SherClockHolmes/webpush-go"
	"github.com/uptrace/bun"

	"dialoog/db"
	"dialoog/netguard"
	"dialoog/usertext"
	"dialoog/vault"
)

// Push is a Web Push notification to one subscription (one browser of one
// user). It never carries message content: the title says only that there
// is something new ("Nieuw bericht in Dialoog"), URL is where a click goes.
type Push struct {
	Subscription int64  `json:"subscription"`
	Title        string `json:"title"`
	URL          string `json:"url"`
	// Notice is as Mail.Notice; it stays on the server.
	Notice *Notice `json:"-"`
}

// PushTTL is how long a push service keeps a notification for a browser
// that is offline, and how long the outbox keeps trying: a notice that
// arrives a day late only confuses.
const PushTTL = 24 * time.Hour

// PushSender delivers one notification; Name is recorded as the transport.
type PushSender interface {
	Name() string
	Send(ctx context.Context, key string, p Push) error
}

// PushKeys are a subscription's keys as the browser's PushSubscription
// gives them (base64url).
type PushKeys struct {
	P256dh string `json:"p256dh"`
	Auth   string `json:"auth"`
}

// MaxPushDevices is how many browsers a person can switch notifications
// on for; a further one replaces the oldest.
const MaxPushDevices = 10

// maxUserAgent bounds a subscription's stored User-Agent, in bytes.
const maxUserAgent = 300

// Subscribe stores a browser's subscription for userID in idb (a
// transaction), sealing its keys and remembering the VAPID public key it
// was made with, and now (the caller's clock) as its creation. A known
// endpoint moves to this user with the new keys (a browser has one
// endpoint a site).
func Subscribe(ctx context.Context, idb bun.IDB, v *vault.Vault, userID int64, endpoint string, keys PushKeys, userAgent, vapidKey string, now time.Time) error {
	plain, err := json.Marshal(keys)
	if err != nil {
		return fmt.Errorf("subscribe: encode keys: %w", err)
	}
	var old []db.PushSubscription
	if err := idb.NewSelect().Model(&old).Column("id", "user_id").Where("endpoint = ?", endpoint).Scan(ctx); err != nil {
		return fmt.Errorf("subscribe: find endpoint: %w", err)
	}
	for _, o := range old {
		if err := forgetSubscriptions(ctx, idb, []int64{o.ID}, o.UserID); err != nil {
			return fmt.Errorf("subscribe: replace endpoint: %w", err)
		}
	}
	sub := &db.PushSubscription{UserID: userID, Endpoint: endpoint, Keys: v.Seal(plain, []byte(endpoint)), UserAgent: usertext.LineWithin(userAgent, maxUserAgent),
		VAPIDKey: vapidKey, CreatedAt: now}
	if _, err := idb.NewInsert().Model(sub).Exec(ctx); err != nil {
		return fmt.Errorf("subscribe: insert: %w", err)
	}
	var ids []int64
	if err := idb.NewSelect().Model((*db.PushSubscription)(nil)).Column("id").Where("user_id = ?", userID).
		Order("id DESC").Scan(ctx, &ids); err != nil {
		return fmt.Errorf("subscribe: oldest: %w", err)
	}
	if len(ids) > MaxPushDevices {
		return forgetSubscriptions(ctx, idb, ids[MaxPushDevices:], userID)
	}
	return countDevices(ctx, idb, userID)
}

// Unsubscribe removes userID's subscription with endpoint, if any, and the
// notifications still queued for it. It reports whether there was one.
func Unsubscribe(ctx context.Context, idb bun.IDB, userID int64, endpoint string) (bool, error) {
	var ids []int64
	if err := idb.NewSelect().Model((*db.PushSubscription)(nil)).Column("id").
		Where("user_id = ? AND endpoint = ?", userID, endpoint).Scan(ctx, &ids); err != nil {
		return false, fmt.Errorf("unsubscribe: %w", err)
	}
	return len(ids) > 0, forgetSubscriptions(ctx, idb, ids, userID)
}

// ForgetPush removes every subscription of userID and the notifications
// queued for them: when the person deletes their account, is disabled or
// is forgotten.
func ForgetPush(ctx context.Context, idb bun.IDB, userID int64) error {
	var ids []int64
	if err := idb.NewSelect().Model((*db.PushSubscription)(nil)).Column("id").
		Where("user_id = ?", userID).Scan(ctx, &ids); err != nil {
		return fmt.Errorf("forget push subscriptions: %w", err)
	}
	return forgetSubscriptions(ctx, idb, ids, userID)
}

// DropStalePush removes the subscriptions made with another VAPID public
// key than vapidKey (the key pair was replaced): their push services
// refuse the server's signature, and the browsers subscribe again when
// their people switch notifications on. It returns how many.
func DropStalePush(ctx context.Context, d *db.DB, vapidKey string) (int, error) {
	var subs []db.PushSubscription
	if err := d.NewSelect().Model(&subs).Column("id", "user_id").Where("vapid_key <> ?", vapidKey).Scan(ctx); err != nil {
		return 0, fmt.Errorf("find push subscriptions of another VAPID key: %w", err)
	}
	if len(subs) == 0 {
		return 0, nil
	}
	err := d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		for _, s := range subs {
			if err := forgetSubscriptions(ctx, tx, []int64{s.ID}, s.UserID); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("drop push subscriptions of another VAPID key: %w", err)
	}
	return len(subs), nil
}

// forgetSubscriptions deletes the subscriptions ids of userID with their
// queued rows and counts userID's devices again.
func forgetSubscriptions(ctx context.Context, idb bun.IDB, ids []int64, userID int64) error {
	if len(ids) == 0 {
		return nil
	}
	recipients := make([]string, len(ids))
	for i, id := range ids {
		recipients[i] = pushRecipient(id)
	}
	if err := Forget(ctx, idb, recipients); err != nil {
		return err
	}
	if _, err := idb.NewDelete().Model((*db.PushSubscription)(nil)).Where("id IN (?)", bun.In(ids)).Exec(ctx); err != nil {
		return fmt.Errorf("delete push subscriptions: %w", err)
	}
	return countDevices(ctx, idb, userID)
}

// countDevices sets users.push_devices of userID from the subscriptions:
// counted, not incremented, so that it cannot drift.
func countDevices(ctx context.Context, idb bun.IDB, userID int64) error {
	if _, err := idb.NewUpdate().Model((*db.User)(nil)).
		Set("push_devices = (SELECT COUNT(*) FROM push_subscriptions AS s WHERE s.user_id = ?)", userID).
		Where("id = ?", userID).Exec(ctx); err != nil {
		return fmt.Errorf("count push subscriptions: %w", err)
	}
	return nil
}

// PushDevices is the number of userID's subscribed browsers.
func PushDevices(ctx context.Context, idb bun.IDB, userID int64) (int, error) {
	n, err := idb.NewSelect().Model((*db.PushSubscription)(nil)).Where("user_id = ?", userID).Count(ctx)
	if err != nil {
		return 0, fmt.Errorf("count push subscriptions: %w", err)
	}
	return int(n), nil
}

// pushRecipient is the outbox recipient of a push row: the subscription,
// never an address.
func pushRecipient(id int64) string { return "push:" + strconv.FormatInt(id, 10) }

// queuePushQuery queues one row for each of a user's subscriptions in one
// statement. The rows share one sealed payload (the fixed title and URL,
// sealed with the batch key as associated data); each row's idempotency
// key is the batch key, a dot and its subscription.
const queuePushQuery = `INSERT INTO outbox (idempotency_key, channel, recipient, payload, status, next_attempt_at, created_at, send_by)
SELECT ? || '.' || CAST(s.id AS TEXT), ?, 'push:' || CAST(s.id AS TEXT), ?, ?, ?, ?, ?
FROM push_subscriptions AS s WHERE s.user_id = ?`

// QueuePush inserts one pending push row for each of userID's own
// subscriptions, in idb (the caller's transaction), with one statement,
// and returns how many. A notice of a new message (notice, see
// Mail.Notice) is first tried delay after queueing; nil and 0 for any
// other push.
func (o *Outbox) QueuePush(ctx context.Context, idb bun.IDB, userID int64, title, url string, notice *Notice, delay time.Duration) (int, error) {
	batch, payload, err := o.sealPush(pushContent{Title: title, URL: url, Notice: notice})
	if err != nil {
		return 0, err
	}
	now := o.now()
	res, err := idb.NewRaw(queuePushQuery, batch, db.ChannelPush, payload, db.OutboxPending,
		now.Add(max(delay, 0)), now, now.Add(PushTTL), userID).Exec(ctx)
	if err != nil {
		return 0, fmt.Errorf("queue push: insert outbox rows: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("queue push: %w", err)
	}
	return int(n), nil
}

// PushTo is one person's push of QueuePushes: the title, the URL and the
// notice (or nil) of QueuePush.
type PushTo struct {
	UserID     int64
	Title, URL string
	Notice     *Notice
}

// QueuePushes is QueuePush for several people at once (a new message's
// notices to everyone in a conversation): their subscriptions are read in
// one statement and their rows inserted in one a chunk of 500, whatever
// the number of people, instead of a statement a person. One person is
// QueuePush's one statement. It returns how many rows it queued.
func (o *Outbox) QueuePushes(ctx context.Context, idb bun.IDB, pushes []PushTo, delay time.Duration) (int, error) {
	switch len(pushes) {
	case 0:
		return 0, nil
	case 1:
		p := pushes[0]
		return o.QueuePush(ctx, idb, p.UserID, p.Title, p.URL, p.Notice, delay)
	}
	ids := make([]int64, len(pushes))
	for i, p := range pushes {
		ids[i] = p.UserID
	}
	var subs []db.PushSubscription
	if err := idb.NewSelect().Model(&subs).Column("id", "user_id").Where("user_id IN (?)", bun.In(ids)).Order("id").Scan(ctx); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("queue pushes: subscriptions: %w", err)
	}
	of := map[int64][]int64{}
	for _, sub := range subs {
		of[sub.UserID] = append(of[sub.UserID], sub.ID)
	}
	now := o.now()
	var rows []db.OutboxItem
	for _, p := range pushes {
		if len(of[p.UserID]) == 0 {
			continue
		}
		// As QueuePush: one sealed payload for the person's rows.
		batch, payload, err := o.sealPush(pushContent{Title: p.Title, URL: p.URL, Notice: p.Notice})
		if err != nil {
			return 0, err
		}
		for _, id := range of[p.UserID] {
			rows = append(rows, db.OutboxItem{IdempotencyKey: batch + "." + strconv.FormatInt(id, 10), Channel: db.ChannelPush,
				Recipient: pushRecipient(id), Payload: payload, Status: db.OutboxPending, NextAttemptAt: now.Add(max(delay, 0)),
				CreatedAt: now, SendBy: bun.NullTime{Time: now.Add(PushTTL)}})
		}
	}
	for chunk := range slices.Chunk(rows, 500) {
		if _, err := idb.NewInsert().Model(&chunk).Exec(ctx); err != nil {
			return 0, fmt.Errorf("queue pushes: insert outbox rows: %w", err)
		}
	}
	return len(rows), nil
}

// sealPush returns a new batch key (a person's push rows share it, each
// with its subscription's id appended) and c sealed under it.
func (o *Outbox) sealPush(c pushContent) (batch string, payload []byte, err error) {
	plain, err := json.Marshal(c)
	if err != nil {
		return "", nil, fmt.Errorf("queue push: encode: %w", err)
	}
	if batch, err = newIdempotencyKey(); err != nil {
		return "", nil, fmt.Errorf("queue push: %w", err)
	}
	return batch, o.vault.Seal(plain, pushAD(batch)), nil
}

// pushContent is what a push row's payload holds.
type pushContent struct {
	Title  string  `json:"title"`
	URL    string  `json:"url"`
	Notice *Notice `json:"notice,omitempty"`
}

func pushAD(batch string) []byte { return []byte("push:" + batch) }

// openPush decrypts and parses a push row's payload; the subscription is
// the row's recipient.
func openPush(v *vault.Vault, it *db.OutboxItem) (*Push, error) {
	if it.Payload == nil {
		return nil, errors.New("payload is empty")
	}
	batch, subID, ok := strings.Cut(it.IdempotencyKey, ".")
	if !ok || "push:"+subID != it.Recipient {
		return nil, errors.New("push row's key does not name its subscription")
	}
	id, err := strconv.ParseInt(subID, 10, 64)
	if err != nil {
		return nil, fmt.Errorf("push row's subscription: %w", err)
	}
	plain, err := v.Open(it.Payload, pushAD(batch))
	if err != nil {
		return nil, fmt.Errorf("open payload: %w", err)
	}
	var c pushContent
	if err := json.Unmarshal(plain, &c); err != nil {
		return nil, fmt.Errorf("parse push payload: %w", err)
	}
	return &Push{Subscription: id, Title: c.Title, URL: c.URL, Notice: c.Notice}, nil
}

// VAPID is the server's application server key pair (RFC 8292), base64url
// as webpush-go and the browser's applicationServerKey take them, and the
// contact (mailto: or https:) that push services may use.
type VAPID struct {
	Public, Private string
	Subject         string
}

// GenerateVAPID returns a new P-256 key pair.
func GenerateVAPID() (private, public string, err error) {
	private, public, err = webpush.GenerateVAPIDKeys()
	if err != nil {
		return "", "", fmt.Errorf("generate VAPID keys: %w", err)
	}
	return private, public, nil
}

// VAPIDPublic returns the public key (base64url, uncompressed point) of a
// VAPID private key (base64url, 32 bytes), or an error when private is
// not a P-256 private key.
func VAPIDPublic(private string) (string, error) {
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(private, "="))
	if err != nil || len(raw) != 32 {
		return "", errors.New("a VAPID private key is 32 bytes in base64url")
	}
	k, err := ecdh.P256().NewPrivateKey(raw)
	if err != nil {
		return "", fmt.Errorf("not a P-256 private key: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(k.PublicKey().Bytes()), nil
}

// VAPIDKeyFile is the generated VAPID private key in the data dir.
const VAPIDKeyFile = "vapid.key"

// LoadOrCreateVAPID returns the VAPID key pair stored in dir, generating
// it (mode 0600) on first use. Unlike the encryption key, a new pair loses
// nothing but the subscriptions made with the old one (DropStalePush).
func LoadOrCreateVAPID(dir string) (private, public string, err error) {
	path := filepath.Join(dir, VAPIDKeyFile)
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		private, _, err = GenerateVAPID()
		if err != nil {
			return "", "", err
		}
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if errors.Is(err, os.ErrExist) { // another process won the race
			return LoadOrCreateVAPID(dir)
		}
		if err != nil {
			return "", "", fmt.Errorf("create VAPID key: %w", err)
		}
		if _, err := f.WriteString(private + "\n"); err != nil {
			f.Close()
			return "", "", fmt.Errorf("write VAPID key: %w", err)
		}
		if err := f.Close(); err != nil {
			return "", "", fmt.Errorf("write VAPID key: %w", err)
		}
		b = []byte(private)
	} else if err != nil {
		return "", "", fmt.Errorf("read VAPID key: %w", err)
	}
	private = strings.TrimSpace(string(b))
	public, err = VAPIDPublic(private)
	if err != nil {
		return "", "", fmt.Errorf("%s: %w", path, err)
	}
	return private, public, nil
}

// MaxSubscriptionBytes bounds the subscription JSON a browser posts.
const MaxSubscriptionBytes = 4096

// ErrBadSubscription is a posted subscription that is not one a browser's
// Push API gives.
var ErrBadSubscription = errors.New("not a push subscription")

// ParseSubscription reads a browser's PushSubscription JSON strictly: an
// https endpoint (no credentials, at most 2000 characters, on port 443,
// not at a localhost name or an address literal that is not public), a
// p256dh key that is a P-256 point and a 16-byte auth secret, nothing
// unknown.
//
// With loopback (a development server, DIALOOG_DEV, which listens on
// loopback only), an endpoint on this machine's loopback is accepted on
// any port too: a push service of the developer's own.
func ParseSubscription(body []byte, loopback bool) (endpoint string, keys PushKeys, err error) {
	bad := func(why string) (string, PushKeys, error) {
		return "", PushKeys{}, fmt.Errorf("%w: %s", ErrBadSubscription, why)
	}
	if len(body) > MaxSubscriptionBytes {
		return bad("too long")
	}
	var in struct {
		Endpoint       string   `json:"endpoint"`
		ExpirationTime *float64 `json:"expirationTime"`
		Keys           PushKeys `json:"keys"`
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		return bad("not JSON of a subscription")
	}
	if dec.More() {
		return bad("more than one value")
	}
	u, err := url.Parse(in.Endpoint)
	if err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil || u.Fragment != "" || len(in.Endpoint) > 2000 {
		return bad("endpoint is not an https URL")
	}
	if why := refusedEndpoint(u, loopback); why != "" {
		return bad(why)
	}
	p, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(in.Keys.P256dh, "="))
	if err != nil || len(p) != 65 {
		return bad("p256dh is not 65 bytes in base64url")
	}
	if _, err := ecdh.P256().NewPublicKey(p); err != nil {
		return bad("p256dh is not a P-256 point")
	}
	a, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(in.Keys.Auth, "="))
	if err != nil || len(a) != 16 {
		return bad("auth is not 16 bytes in base64url")
	}
	return in.Endpoint, in.Keys, nil
}

// refusedEndpoint says why the server must not post to the endpoint u,
// "" when it may. The server posts to it on every new message: it must not
// lead into the installation's own network (the dialer checks the address
// a name resolves to). The push services of the browsers (FCM, Mozilla,
// Apple, Windows) all listen on 443. With loopback (see ParseSubscription)
// an endpoint on this machine's loopback may use any port.
func refusedEndpoint(u *url.URL, loopback bool) string {
	if loopback && netguard.Loopback(u.Hostname()) {
		return ""
	}
	if err := netguard.CheckHost(u.Hostname()); err != nil {
		return "endpoint is not on a public address"
	}
	if p := u.Port(); p != "" && p != "443" {
		return "endpoint is not on port 443"
	}
	return ""
}

// WebPush sends notifications to the push services of the browsers
// (RFC 8030), encrypted for the subscription (RFC 8291) and signed with
// the VAPID key (RFC 8292). A push service's 404 or 410 means the browser
// dropped the subscription: it is removed with its queued rows.
type WebPush struct {
	DB    *db.DB
	Vault *vault.Vault
	Keys  VAPID
	// Client makes the requests to push services. nil: netguard's client
	// with PushTimeout, which connects only to public addresses and
	// follows no redirect (an endpoint is chosen by a browser, so by a
	// person). Tests set their own to reach a stand-in on 127.0.0.1.
	Client *http.Client
	// Loopback: the default client may also reach this machine's loopback
	// addresses (a development server; see ParseSubscription).
	Loopback bool
}

// PushTimeout bounds one request to a push service.
const PushTimeout = 10 * time.Second

// Name is the transport name recorded on delivered rows.
func (w *WebPush) Name() string { return "webpush" }

// errSubscriptionGone fails a row whose subscription no longer exists.
var errSubscriptionGone = errors.New("push subscription no longer exists")

// Send delivers p to its subscription.
func (w *WebPush) Send(ctx context.Context, key string, p Push) error {
	sub := new(db.PushSubscription)
	err := w.DB.NewSelect().Model(sub).Where("id = ?", p.Subscription).Scan(ctx)
	if db.ErrNoRows(err) {
		return &RejectedError{Err: errSubscriptionGone}
	}
	if err != nil {
		return fmt.Errorf("load push subscription: %w", err)
	}
	// A subscription stored before ParseSubscription refused endpoints in
	// the installation's own network can never be sent: forget it, as a
	// push service's 404 would.
	if u, err := url.Parse(sub.Endpoint); err != nil || refusedEndpoint(u, w.Loopback) != "" {
		if err := w.drop(ctx, sub); err != nil {
			return fmt.Errorf("remove refused push subscription: %w", err)
		}
		return &RejectedError{Err: errors.New("push subscription endpoint is not public: removed")}
	}
	plain, err := w.Vault.Open(sub.Keys, []byte(sub.Endpoint))
	if err != nil {
		return &RejectedError{Err: fmt.Errorf("open push subscription keys: %w", err)}
	}
	var keys PushKeys
	if err := json.Unmarshal(plain, &keys); err != nil {
		return &RejectedError{Err: fmt.Errorf("parse push subscription keys: %w", err)}
	}
	body, err := json.Marshal(struct {
		Title string `json:"title"`
		URL   string `json:"url"`
	}{p.Title, p.URL})
	if err != nil {
		return fmt.Errorf("encode push: %w", err)
	}
	client := w.Client
	if client == nil {
		client = netguard.Client(PushTimeout)
		if w.Loopback {
			client = netguard.LoopbackClient(PushTimeout)
		}
	}
	resp, err := webpush.SendNotificationWithContext(ctx, body, &webpush.Subscription{
		Endpoint: sub.Endpoint,
		Keys:     webpush.Keys{P256dh: keys.P256dh, Auth: keys.Auth},
	}, &webpush.Options{
		HTTPClient: client,
		// webpush-go adds "mailto:" itself unless the subject is https:.
		Subscriber:      strings.TrimPrefix(w.Keys.Subject, "mailto:"),
		VAPIDPublicKey:  w.Keys.Public,
		VAPIDPrivateKey: w.Keys.Private,
		TTL:             int(PushTTL / time.Second),
		Urgency:         webpush.UrgencyNormal,
		Topic:           "dialoog",
	})
	if errors.Is(err, netguard.ErrNotPublic) {
		// The endpoint's name leads into the installation's own network:
		// no retry changes that.
		return &RejectedError{Err: fmt.Errorf("push service: %w", redactErr(err))}
	}
	if err != nil {
		return fmt.Errorf("push service: %w", redactErr(err))
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		return nil
	case resp.StatusCode >= 300 && resp.StatusCode < 400:
		// Push services do not redirect, and the client does not follow.
		return &RejectedError{Err: fmt.Errorf("push service redirected (%d)", resp.StatusCode)}
	case resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusGone:
		// The browser dropped the subscription: forget it.
		if err := w.drop(ctx, sub); err != nil {
			return fmt.Errorf("remove expired push subscription: %w", err)
		}
		return &RejectedError{Err: fmt.Errorf("push subscription expired (%d)", resp.StatusCode)}
	case resp.StatusCode == http.StatusBadRequest || resp.StatusCode == http.StatusRequestEntityTooLarge:
		return &RejectedError{Err: fmt.Errorf("push service refused the notification (%d)", resp.StatusCode)}
	default:
		return fmt.Errorf("push service answered %d", resp.StatusCode)
	}
}

// drop deletes the subscription sub and counts its person's devices
// again. The row being sent fails; other queued rows for it fail when
// their turn comes.
func (w *WebPush) drop(ctx context.Context, sub *db.PushSubscription) error {
	return w.DB.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.NewDelete().Model((*db.PushSubscription)(nil)).Where("id = ?", sub.ID).Exec(ctx); err != nil {
			return err
		}
		return countDevices(ctx, tx, sub.UserID)
	})
}

// redactErr keeps a push endpoint (a capability URL) out of an error
// that is logged and stored: only the push service's host remains.
func redactErr(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		host := ""
		if u, perr := url.Parse(ue.URL); perr == nil {
			host = u.Host
		}
		return fmt.Errorf("%s %s: %w", ue.Op, host, ue.Err)
	}
	return err
}

// devPush records a notification as sent without sending it.
type devPush struct{}

func (devPush) Name() string                             { return DevTransport }
func (devPush) Send(context.Context, string, Push) error { return nil }
