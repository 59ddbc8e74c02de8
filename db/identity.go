package db

import (
	"strings"
	"time"

	"github.com/uptrace/bun"

	"dialoog/identity"
)

// Identity is the user as services hand them to the HTTP layer: plain
// values, a copy that shares nothing with u.
func (u *User) Identity() *identity.User {
	if u == nil {
		return nil
	}
	out := &identity.User{
		ID: u.ID, Email: u.Email, Kind: u.Kind, IsAdmin: u.IsAdmin, Status: u.Status, Language: u.Language,
		Gender: u.Gender, Initials: u.Initials, FirstName: u.FirstName, NamePrefix: u.NamePrefix, LastName: u.LastName,
		ProfileCompletedAt: u.ProfileCompletedAt.Time, RecoveryConfirmedAt: u.RecoveryConfirmedAt.Time,
		SecondFactorDoneAt: u.SecondFactorDoneAt.Time, PasswordChangedAt: u.PasswordChangedAt.Time,
		AwayEnabled: u.AwayEnabled, HasAwayMessage: u.HasAwayMessage(), AwayFrom: u.AwayFrom.Time, AwayUntil: u.AwayUntil.Time,
		LastLoginAt: u.LastLoginAt.Time, LastSeenAt: u.LastSeenAt.Time, CreatedAt: u.CreatedAt,
		UnreadTotal: u.UnreadTotal, Notify: u.Notify, InboxVersion: u.InboxVersion,
	}
	if u.OrgID != nil {
		org := *u.OrgID
		out.OrgID = &org
	}
	return out
}

// Identity is the session without its token hash.
func (s *Session) Identity() *identity.Session {
	if s == nil {
		return nil
	}
	return &identity.Session{ID: s.ID, SecondFactorAt: s.SecondFactorAt.Time, FactorGrantUntil: s.FactorGrantUntil.Time,
		ConfirmedAt: s.ConfirmedAt.Time, CreatedAt: s.CreatedAt, ExpiresAt: s.ExpiresAt, IP: s.IP, UserAgent: s.UserAgent}
}

// UserOf is the person behind a request as a service works with them: the
// values identity carries, and nothing of the row that it leaves out (the
// sealed absence message, the push devices, the summary's time). It is
// never written back; a service that needs those columns reads them.
func UserOf(p *identity.User) *User {
	if p == nil {
		return nil
	}
	u := &User{
		ID: p.ID, Email: p.Email, Kind: p.Kind, IsAdmin: p.IsAdmin, Status: p.Status, Language: p.Language,
		Gender: p.Gender, Initials: p.Initials, FirstName: p.FirstName, NamePrefix: p.NamePrefix, LastName: p.LastName,
		ProfileCompletedAt: nullTime(p.ProfileCompletedAt), RecoveryConfirmedAt: nullTime(p.RecoveryConfirmedAt),
		SecondFactorDoneAt: nullTime(p.SecondFactorDoneAt), PasswordChangedAt: nullTime(p.PasswordChangedAt),
		AwayEnabled: p.AwayEnabled, AwayFrom: nullTime(p.AwayFrom), AwayUntil: nullTime(p.AwayUntil),
		LastLoginAt: nullTime(p.LastLoginAt), LastSeenAt: nullTime(p.LastSeenAt), CreatedAt: p.CreatedAt,
		UnreadTotal: p.UnreadTotal, Notify: p.Notify, InboxVersion: p.InboxVersion,
	}
	if p.OrgID != nil {
		org := *p.OrgID
		u.OrgID = &org
	}
	return u
}

// HasAwayMessage reports an absence message to send: sealed, or in plain
// text from before migration 0008.
func (u *User) HasAwayMessage() bool {
	return u.AwaySealed != nil || strings.TrimSpace(u.AwayMessage) != ""
}

func nullTime(t time.Time) bun.NullTime { return bun.NullTime{Time: t} }
