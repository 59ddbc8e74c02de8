package auth

import (
	"context"
	"fmt"
	"strconv"

	"github.com/uptrace/bun"

	"dialoog/db"
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
func (a *Accounts) AwayMessage(u *db.User) (string, error) { return AwayMessage(a.Vault, u) }

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
