package auth

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"dialoog/db"
	"dialoog/notify"
)

// SecurityEvent names a change to an account that the person is told
// about by mail.
type SecurityEvent string

// The security events that send a mail.
const (
	SecurityPasswordReset SecurityEvent = "password_reset"
	SecurityRecoveryUsed  SecurityEvent = "recovery_used"
	SecurityFactorAdded   SecurityEvent = "factor_added"
	// SecurityPasswordChanged: the person changed their password on the
	// account page.
	SecurityPasswordChanged SecurityEvent = "password_changed"
	// SecurityFactorRemoved: a second factor was removed.
	SecurityFactorRemoved SecurityEvent = "factor_removed"
	// SecurityPhoneChanged: the SMS factor's number was replaced by a
	// newly verified one.
	SecurityPhoneChanged SecurityEvent = "phone_changed"
	// SecurityRecoveryRegenerated: new recovery codes replaced the old ones.
	SecurityRecoveryRegenerated SecurityEvent = "recovery_regenerated"
	// SecurityNewBrowser: a login was completed in a browser that had not
	// completed one of this account before (no valid device mark).
	SecurityNewBrowser SecurityEvent = "new_browser"
)

// SecurityMail renders the short mail about a security event: what
// happened and when (at, shown in Dutch local time), and what to do if it
// was not the person; never anything of their messages.
type SecurityMail interface {
	SecurityMail(lang string, event SecurityEvent, at time.Time) (notify.Mail, error)
}

// queueSecurityMail queues the mail about event to u in the caller's
// transaction; without a renderer nothing is sent.
func (a *Accounts) queueSecurityMail(ctx context.Context, tx bun.Tx, u *db.User, event SecurityEvent, at time.Time) error {
	if a.Mail == nil {
		return nil
	}
	m, err := a.Mail.SecurityMail(u.Language, event, at)
	if err != nil {
		return fmt.Errorf("render security mail: %w", err)
	}
	m.To = u.Email
	if _, err := a.Outbox.QueueMail(ctx, tx, m); err != nil {
		return fmt.Errorf("queue security mail: %w", err)
	}
	return nil
}
