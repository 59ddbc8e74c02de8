// Package identity holds who is asking: the signed-in person and their
// session as plain values. The services (auth, messaging, signing) take and
// return these at their boundary, so handlers and templates never hold a
// database model (no bun model, no sealed column, no token hash); auth builds
// them from the rows it reads.
package identity

import "time"

// Kinds of user.
const (
	KindInternal = "internal" // a member of an organisation
	KindExternal = "external" // a person the organisation writes to
)

// Statuses of a user.
const (
	StatusInvited  = "invited"
	StatusActive   = "active"
	StatusDisabled = "disabled"
)

// User is a person as services hand them to the HTTP layer. A zero time
// means "never".
type User struct {
	ID    int64
	OrgID *int64 // nil for an external person
	Email string
	Kind  string
	// IsAdmin: an internal user who manages the organisation (Beheer).
	IsAdmin                                   bool
	Status                                    string
	Language                                  string
	Gender                                    string
	Initials, FirstName, NamePrefix, LastName string
	ProfileCompletedAt                        time.Time
	RecoveryConfirmedAt                       time.Time
	SecondFactorDoneAt                        time.Time
	PasswordChangedAt                         time.Time
	AwayEnabled                               bool
	// HasAwayMessage: an absence message is stored (its text is read
	// only where it is shown).
	HasAwayMessage          bool
	AwayFrom, AwayUntil     time.Time
	LastLoginAt, LastSeenAt time.Time
	CreatedAt               time.Time
	// UnreadTotal is the header's count of unread messages.
	UnreadTotal int
	// Notify is how the person hears of new messages (auth.Notify*).
	Notify string
	// InboxVersion changes with anything the person's inbox shows
	// (0 where it is not kept).
	InboxVersion int64
}

// Internal reports a member of an organisation.
func (u *User) Internal() bool { return u.Kind == KindInternal }

// Admin reports an internal user who manages the organisation.
func (u *User) Admin() bool { return u.IsAdmin && u.Kind == KindInternal }

// Session is a login session, without its token or the token's hash.
type Session struct {
	ID int64
	// SecondFactorAt is when this session passed the second factor.
	SecondFactorAt time.Time
	// FactorGrantUntil: after a recovery-code login, this session may set
	// up a second factor until then.
	FactorGrantUntil time.Time
	// ConfirmedAt is the last "confirm it is you" in this session.
	ConfirmedAt          time.Time
	CreatedAt, ExpiresAt time.Time
	IP, UserAgent        string
	// LiveUntil is when the session ends unless it is used again (its idle
	// or absolute end, auth.SessionEnd), as the request found it.
	LiveUntil time.Time
}
