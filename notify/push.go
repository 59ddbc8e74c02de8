package notify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	webpush "github.com/SherClockHolmes/webpush-go"
	"github.com/uptrace/bun"

	"dialoog/db"
	"dialoog/vault"
)

// Push is a Web Push notification to one subscription (one browser of one
// user). It never carries message content: the title says only that there
// is something new ("Nieuw bericht in Dialoog"), URL is where a click goes.
type Push struct {
	Subscription int64  `json:"subscription"`
	Title        string `json:"title"`
	URL          string `json:"url"`
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

// Subscribe stores a browser's subscription for userID in idb (a
// transaction), sealing its keys. A known endpoint moves to this user with
// the new keys (a browser has one endpoint a site).
func Subscribe(ctx context.Context, idb bun.IDB, v *vault.Vault, userID int64, endpoint string, keys PushKeys, userAgent string) error {
	plain, err := json.Marshal(keys)
	if err != nil {
		return fmt.Errorf("subscribe: encode keys: %w", err)
	}
	if _, err := idb.NewDelete().Model((*db.PushSubscription)(nil)).Where("endpoint = ?", endpoint).Exec(ctx); err != nil {
		return fmt.Errorf("subscribe: replace endpoint: %w", err)
	}
	if len(userAgent) > 300 {
		userAgent = userAgent[:300]
	}
	sub := &db.PushSubscription{UserID: userID, Endpoint: endpoint, Keys: v.Seal(plain, []byte(endpoint)), UserAgent: userAgent, CreatedAt: time.Now()}
	if _, err := idb.NewInsert().Model(sub).Exec(ctx); err != nil {
		return fmt.Errorf("subscribe: insert: %w", err)
	}
	return nil
}

// Unsubscribe removes userID's subscription with endpoint, if any, and the
// notifications still queued for it.
func Unsubscribe(ctx context.Context, idb bun.IDB, userID int64, endpoint string) error {
	var ids []int64
	if err := idb.NewSelect().Model((*db.PushSubscription)(nil)).Column("id").
		Where("user_id = ? AND endpoint = ?", userID, endpoint).Scan(ctx, &ids); err != nil {
		return fmt.Errorf("unsubscribe: %w", err)
	}
	return forgetSubscriptions(ctx, idb, ids)
}

// ForgetPush is the push part of deleting a person: every subscription of
// userID and the notifications queued for them.
func ForgetPush(ctx context.Context, idb bun.IDB, userID int64) error {
	var ids []int64
	if err := idb.NewSelect().Model((*db.PushSubscription)(nil)).Column("id").
		Where("user_id = ?", userID).Scan(ctx, &ids); err != nil {
		return fmt.Errorf("forget push subscriptions: %w", err)
	}
	return forgetSubscriptions(ctx, idb, ids)
}

func forgetSubscriptions(ctx context.Context, idb bun.IDB, ids []int64) error {
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

// QueuePush inserts one pending push row for each of userID's own
// subscriptions, in idb (the caller's transaction), and returns how many.
func (o *Outbox) QueuePush(ctx context.Context, idb bun.IDB, userID int64, title, url string) (int, error) {
	var ids []int64
	if err := idb.NewSelect().Model((*db.PushSubscription)(nil)).Column("id").
		Where("user_id = ?", userID).Order("id").Scan(ctx, &ids); err != nil {
		return 0, fmt.Errorf("queue push: subscriptions: %w", err)
	}
	sendBy := time.Now().Add(PushTTL)
	for _, id := range ids {
		if _, err := o.queue(ctx, idb, db.ChannelPush, pushRecipient(id), Push{Subscription: id, Title: title, URL: url}, sendBy); err != nil {
			return 0, err
		}
	}
	return len(ids), nil
}

// openPush decrypts and parses a push row's payload.
func openPush(v *vault.Vault, it *db.OutboxItem) (*Push, error) {
	if it.Payload == nil {
		return nil, errors.New("payload is empty")
	}
	plain, err := v.Open(it.Payload, []byte(it.IdempotencyKey))
	if err != nil {
		return nil, fmt.Errorf("open payload: %w", err)
	}
	var p Push
	if err := json.Unmarshal(plain, &p); err != nil {
		return nil, fmt.Errorf("parse push payload: %w", err)
	}
	return &p, nil
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

// WebPush sends notifications to the push services of the browsers
// (RFC 8030), encrypted for the subscription (RFC 8291) and signed with
// the VAPID key (RFC 8292). A push service's 404 or 410 means the browser
// dropped the subscription: it is removed with its queued rows.
type WebPush struct {
	DB     *db.DB
	Vault  *vault.Vault
	Keys   VAPID
	Client *http.Client // nil: a client with PushTimeout
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
		client = &http.Client{Timeout: PushTimeout}
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
	if err != nil {
		return fmt.Errorf("push service: %w", redactErr(err))
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		return nil
	case resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusGone:
		// The browser dropped the subscription: forget it. This row is
		// failed; other queued rows for it fail when their turn comes.
		if err := w.DB.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
			_, err := tx.NewDelete().Model((*db.PushSubscription)(nil)).Where("id = ?", sub.ID).Exec(ctx)
			return err
		}); err != nil {
			return fmt.Errorf("remove expired push subscription: %w", err)
		}
		return &RejectedError{Err: fmt.Errorf("push subscription expired (%d)", resp.StatusCode)}
	case resp.StatusCode == http.StatusBadRequest || resp.StatusCode == http.StatusRequestEntityTooLarge:
		return &RejectedError{Err: fmt.Errorf("push service refused the notification (%d)", resp.StatusCode)}
	default:
		return fmt.Errorf("push service answered %d", resp.StatusCode)
	}
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
