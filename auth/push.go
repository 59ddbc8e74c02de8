package auth

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/uptrace/bun"

	"dialoog/apperr"
	"dialoog/notify"
)

// SubscribePush switches Web Push notifications on for the browser whose
// PushSubscription JSON is body (notify.ParseSubscription checks it
// strictly), for the signed-in person; the browser's user agent is kept
// to tell devices apart. A refused body is apperr.Invalid.
func (a *Accounts) SubscribePush(ctx context.Context, cur *Current, body []byte, userAgent, ip string) error {
	endpoint, keys, err := notify.ParseSubscription(body, a.PushLoopback)
	if err != nil {
		return &apperr.Error{Code: apperr.Invalid, Key: "settings.push_invalid", Field: "push", Err: err}
	}
	if a.VAPIDPublic == "" {
		return errors.New("push: no VAPID key configured")
	}
	return a.settingsChange(ctx, cur, "push.subscribed", ip, func(ctx context.Context, tx bun.Tx, now time.Time) error {
		return notify.Subscribe(ctx, tx, a.Vault, cur.User.ID, endpoint, keys, userAgent, a.VAPIDPublic, now)
	})
}

// UnsubscribePush switches notifications off for the browser whose
// subscription (JSON with at least its endpoint) is body: only the
// person's own subscription is removed, with its queued notifications.
func (a *Accounts) UnsubscribePush(ctx context.Context, cur *Current, body []byte, ip string) error {
	if len(body) > notify.MaxSubscriptionBytes {
		return apperr.Field("push", "settings.push_invalid")
	}
	var in struct {
		Endpoint string `json:"endpoint"`
	}
	if err := json.Unmarshal(body, &in); err != nil || in.Endpoint == "" {
		return apperr.Field("push", "settings.push_invalid")
	}
	return a.settingsChange(ctx, cur, "push.unsubscribed", ip, func(ctx context.Context, tx bun.Tx, _ time.Time) error {
		_, err := notify.Unsubscribe(ctx, tx, cur.User.ID, in.Endpoint)
		return err
	})
}

// PushKey is the server's VAPID public key that browsers subscribe with;
// empty when push is off.
func (a *Accounts) PushKey() string { return a.VAPIDPublic }
