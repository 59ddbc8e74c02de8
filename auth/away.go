package auth

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/uptrace/bun"

	"dialoog/db"
	"dialoog/i18n"
	"dialoog/vault"
)

// awayAD binds a sealed absence message to its user.
func awayAD(userID int64) []byte { return []byte("away:" + strconv.FormatInt(userID, 10)) }

// SealAway seals a user's absence message for storage, like message
// bodies; an empty message is stored as NULL.
func SealAway(v *vault.Vault, userID int64, text string) []byte {
	if text == "" {
		return nil
	}
	return v.Seal([]byte(text), awayAD(userID))
}

// AwayMessage opens u's absence message (a row from before migration 0008
// that was not converted yet still has it in plain text).
func AwayMessage(v *vault.Vault, u *db.User) (string, error) {
	if u.AwaySealed == nil {
		return u.AwayMessage, nil
	}
	plain, err := v.Open(u.AwaySealed, awayAD(u.ID))
	if err != nil {
		return "", fmt.Errorf("open absence message of user %d: %w", u.ID, err)
	}
	return string(plain), nil
}

// AwayMessage opens the user's own absence message.
func (a *Accounts) AwayMessage(cur *Current) (string, error) {
	return AwayMessage(a.Vault, &db.User{ID: cur.User.ID, AwaySealed: cur.awaySealed, AwayMessage: cur.awayLegacy})
}

// SealLegacyAway seals the plain absence messages stored before migration
// 0008. It runs at start and may run on several instances at once: a row
// is converted by one UPDATE that only matches it while it is unconverted.
func SealLegacyAway(ctx context.Context, d *db.DB, v *vault.Vault) error {
	for {
		var rows []db.User
		if err := d.NewSelect().Model(&rows).Column("id", "away_message").
			Where("away_message <> ''").Order("id").Limit(500).Scan(ctx); err != nil {
			return fmt.Errorf("load plain absence messages: %w", err)
		}
		if len(rows) == 0 {
			return nil
		}
		err := d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
			for _, u := range rows {
				if _, err := tx.NewUpdate().Model((*db.User)(nil)).
					Set("away_sealed = ?", SealAway(v, u.ID, u.AwayMessage)).Set("away_message = ''").
					Where("id = ? AND away_message = ?", u.ID, u.AwayMessage).Exec(ctx); err != nil {
					return fmt.Errorf("seal absence message of user %d: %w", u.ID, err)
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
}

// An absence period is a range of Dutch dates (AwayFrom and AwayUntil
// hold the dates, at midnight UTC): it starts at local midnight of its
// first day in i18n.Zone and ends at local midnight after its last day,
// in winter and in summer time.

// AwayOn reports whether u's absence reply applies at now.
func AwayOn(u *db.User, now time.Time) bool {
	return u.AwayEnabled && u.HasAwayMessage() && awayWithin(u.Status, u.AwayFrom.Time, u.AwayUntil.Time, now)
}

// awayWithin reports whether now is in the absence period from..until
// (dates; zero for open) of an active user.
func awayWithin(status string, from, until, now time.Time) bool {
	if status != db.StatusActive {
		return false
	}
	if !from.IsZero() && now.Before(localMidnight(from, 0)) {
		return false
	}
	if !until.IsZero() && !now.Before(localMidnight(until, 1)) {
		return false
	}
	return true
}

// AwaySince is when u's current absence period began for the rule "one
// reply per conversation per period": the later of its first day's local
// midnight and the last change of the setting.
func AwaySince(u *db.User) time.Time {
	since := u.AwayChangedAt.Time
	if !u.AwayFrom.IsZero() {
		if start := localMidnight(u.AwayFrom.Time, 0); start.After(since) {
			since = start
		}
	}
	return since
}

// localMidnight is the start, in i18n.Zone, of the date that date holds
// (as year, month and day in UTC) plus days.
func localMidnight(date time.Time, days int) time.Time {
	y, m, d := date.UTC().Date()
	return time.Date(y, m, d+days, 0, 0, 0, 0, i18n.Zone)
}

// AwayOn reports whether the signed-in user's absence reply applies at now.
func (c *Current) AwayOn(now time.Time) bool {
	u := c.User
	return u.AwayEnabled && u.HasAwayMessage && awayWithin(u.Status, u.AwayFrom, u.AwayUntil, now)
}
