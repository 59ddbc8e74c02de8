package auth

import (
	"context"
	"time"

	"github.com/uptrace/bun"

	"dialoog/apperr"
	"dialoog/db"
)

// How a person hears of new messages ("Meldingen per e-mail"). Invitations
// and security mail are sent whatever is chosen.
const (
	// NotifyMessage is a content-free mail per new message (at most one per
	// conversation per quarter of an hour while unread): the default.
	NotifyMessage = "message"
	// NotifyDaily is one content-free mail a day with the number of unread
	// messages.
	NotifyDaily = "daily"
	// NotifyNone sends no mail about messages: the person sees them when
	// they log in.
	NotifyNone = "none"
)

// NotifySettings are the choices, in the order the form shows them.
var NotifySettings = []string{NotifyMessage, NotifyDaily, NotifyNone}

// NotifySetting returns the person's stored choice; anything unknown (a
// row written before migration 0015 by an older model) counts as the
// default.
func NotifySetting(u *db.User) string {
	switch u.Notify {
	case NotifyDaily, NotifyNone:
		return u.Notify
	}
	return NotifyMessage
}

// SetNotifications sets how the person hears of new messages.
func (a *Accounts) SetNotifications(ctx context.Context, cur *Current, setting, ip string) error {
	ok := false
	for _, s := range NotifySettings {
		ok = ok || s == setting
	}
	if !ok {
		return apperr.Field("notify", "settings.notify_invalid")
	}
	return a.settingsChange(ctx, cur, "notifications.changed", ip, func(ctx context.Context, tx bun.Tx, now time.Time) error {
		_, err := tx.NewUpdate().Model((*db.User)(nil)).Set("notify = ?", setting).Set("updated_at = ?", now).
			Where("id = ?", cur.User.ID).Exec(ctx)
		return err
	})
}

// Notify is how the signed-in user hears of new messages.
func (c *Current) Notify() string { return NotifySetting(c.row()) }
