package db

import (
	"time"

	"dialoog/identity"

	"github.com/uptrace/bun"
)

// Organisation is a tenant: the internal users of one organisation write
// messages in its name.
type Organisation struct {
	bun.BaseModel `bun:"table:organisations"`
	ID            int64     `bun:",pk,autoincrement"`
	Name          string    `bun:",notnull"`
	CreatedAt     time.Time `bun:",notnull"`
	// SenderName is the organisation's sender name for mail
	// (organisation_branding), when the query that loaded it read it too;
	// nil when it did not.
	SenderName *string `bun:"sender_name,scanonly"`
}

// User kinds.
const (
	KindInternal = identity.KindInternal
	KindExternal = identity.KindExternal
)

// User statuses.
const (
	StatusInvited  = identity.StatusInvited  // never completed the first visit
	StatusActive   = identity.StatusActive   // completed the first visit
	StatusDisabled = identity.StatusDisabled // may not log in
)

// User is an internal or external person with a mail address.
type User struct {
	bun.BaseModel       `bun:"table:users"`
	ID                  int64  `bun:",pk,autoincrement"`
	OrgID               *int64 `bun:"org_id"`
	Email               string `bun:",notnull"`
	Kind                string `bun:",notnull"`
	IsAdmin             bool   `bun:",notnull"`
	Status              string `bun:",notnull"`
	Language            string `bun:",notnull"`
	Gender              string `bun:",notnull"`
	Initials            string `bun:",notnull"`
	FirstName           string `bun:",notnull"`
	NamePrefix          string `bun:",notnull"`
	LastName            string `bun:",notnull"`
	ProfileCompletedAt  bun.NullTime
	RecoveryConfirmedAt bun.NullTime
	SecondFactorDoneAt  bun.NullTime
	PasswordChangedAt   bun.NullTime
	AwayEnabled         bool   `bun:",notnull"`
	AwayMessage         string `bun:",notnull"` // before migration 0008 only; now AwaySealed
	AwaySealed          []byte
	AwayFrom            bun.NullTime
	AwayUntil           bun.NullTime
	AwayChangedAt       bun.NullTime
	LastLoginAt         bun.NullTime
	LastSeenAt          bun.NullTime
	CreatedAt           time.Time `bun:",notnull"`
	UpdatedAt           time.Time `bun:",notnull"`
	// UnreadTotal is the user's unread messages in all threads (the
	// header's count); messaging changes it only by increments in the
	// transactions that change the threads' counts (migration 0003).
	UnreadTotal int `bun:",notnull"`
	// Notify is how the person hears of new messages: a mail per message,
	// a daily summary or none (auth.Notify*; migration 0015).
	Notify string `bun:",notnull,default:'message'"`
	// LastSummaryAt is when the last daily summary was queued.
	LastSummaryAt bun.NullTime
	// PushDevices is the number of the user's push subscriptions, kept by
	// notify whenever they change (migration 0023): a new message looks
	// for subscriptions only when there are any.
	PushDevices int `bun:",notnull"`
	// InboxVersion changes with anything the user's inbox shows (migration
	// 0037; kept by triggers on SQLite). Only the session's query reads it
	// (0 elsewhere), and no model write touches it.
	InboxVersion int64 `bun:"inbox_version,scanonly"`
}

// Password is a user's password hash. It lives in the users table, but
// not in User: auth alone reads and writes it, through this model, so that
// no user handed to handlers, templates, logs or live updates carries it.
type Password struct {
	bun.BaseModel `bun:"table:users"`
	ID            int64  `bun:",pk"`
	Hash          string `bun:"password_hash,notnull"`
}

// Invitation is a sign-up link; only its hash is stored.
type Invitation struct {
	bun.BaseModel `bun:"table:invitations"`
	ID            int64  `bun:",pk,autoincrement"`
	UserID        int64  `bun:",notnull"`
	OrgID         int64  `bun:",notnull"`
	InvitedBy     *int64 `bun:"invited_by"`
	TokenHash     []byte `bun:",notnull"`
	CreatedAt     time.Time
	ExpiresAt     time.Time
	UsedAt        bun.NullTime
	RevokedAt     bun.NullTime
}

// Session is a server-side login session; only the hash of its id is stored.
type Session struct {
	bun.BaseModel  `bun:"table:sessions"`
	ID             int64  `bun:",pk,autoincrement"`
	TokenHash      []byte `bun:",notnull"`
	UserID         int64  `bun:",notnull"`
	SecondFactorAt bun.NullTime
	CreatedAt      time.Time
	LastSeenAt     time.Time
	ExpiresAt      time.Time
	EndedAt        bun.NullTime
	IP             string `bun:"ip,notnull"`
	UserAgent      string `bun:",notnull"`
	// FactorGrantUntil: after a recovery-code login, this session (and no
	// other) may set up a second factor until then.
	FactorGrantUntil bun.NullTime
	// ConfirmedAt is the last "confirm it is you" in this session.
	ConfirmedAt bun.NullTime
}

// Second factor kinds.
const (
	FactorSMS  = "sms"
	FactorTOTP = "totp"
)

// SecondFactor is an SMS number or an authenticator app of a user.
type SecondFactor struct {
	bun.BaseModel `bun:"table:second_factors"`
	ID            int64  `bun:",pk,autoincrement"`
	UserID        int64  `bun:",notnull"`
	Kind          string `bun:",notnull"`
	Phone         string `bun:",notnull"`
	TOTPSecret    []byte `bun:"totp_secret"` // sealed by the vault
	TOTPLastStep  int64  `bun:"totp_last_step,notnull"`
	VerifiedAt    bun.NullTime
	LastUsedAt    bun.NullTime
	CreatedAt     time.Time
}

// RecoveryCode is a hashed single-use login code.
type RecoveryCode struct {
	bun.BaseModel `bun:"table:recovery_codes"`
	ID            int64  `bun:",pk,autoincrement"`
	UserID        int64  `bun:",notnull"`
	CodeHash      []byte `bun:",notnull"`
	// Keyed: CodeHash is a MAC under the server's key; false for a code
	// stored before migration 0014 (a plain SHA-256) not yet converted.
	Keyed     bool `bun:",notnull"`
	UsedAt    bun.NullTime
	CreatedAt time.Time
}

// OneTimeCode is a hashed code sent by SMS or mail for one purpose.
type OneTimeCode struct {
	bun.BaseModel `bun:"table:one_time_codes"`
	ID            int64  `bun:",pk,autoincrement"`
	UserID        int64  `bun:",notnull"`
	Purpose       string `bun:",notnull"`
	Target        string `bun:",notnull"`
	CodeHash      []byte `bun:",notnull"`
	Attempts      int    `bun:",notnull"`
	SentAt        time.Time
	ExpiresAt     time.Time
	UsedAt        bun.NullTime
}

// TermsVersion is one published text of the terms of use.
type TermsVersion struct {
	bun.BaseModel `bun:"table:terms_versions"`
	ID            int64  `bun:",pk,autoincrement"`
	Version       int    `bun:",notnull"`
	Body          string `bun:",notnull"`
	BodyEN        string `bun:"body_en,notnull"`
	PublishedBy   *int64
	PublishedAt   time.Time
}

// TermsAcceptance records that a user accepted a terms version.
type TermsAcceptance struct {
	bun.BaseModel  `bun:"table:terms_acceptances"`
	ID             int64  `bun:",pk,autoincrement"`
	UserID         int64  `bun:",notnull"`
	TermsVersionID int64  `bun:",notnull"`
	IP             string `bun:"ip,notnull"`
	AcceptedAt     time.Time
}

// Thread is a conversation with a subject within one organisation.
type Thread struct {
	bun.BaseModel `bun:"table:threads"`
	ID            int64  `bun:",pk,autoincrement"`
	OrgID         int64  `bun:",notnull"`
	Subject       string `bun:",notnull"`
	CreatedBy     *int64
	CreatedAt     time.Time
	LastMessageAt time.Time
	// TeamID is the team whose conversation this is (migration 0018);
	// AssignedTo the member handling it.
	TeamID     *int64
	AssignedTo *int64
	// Medical marks a conversation as containing medical information
	// (migration 0021): see messaging.medicalRule.
	Medical bool `bun:",notnull"`
	// CaseID is the case file the conversation belongs to (migration
	// 0024). CaseClosed is loaded with the thread where a change needs it:
	// a closed case's conversations are read-only.
	CaseID     *int64
	CaseClosed bool `bun:"-"`
}

// Case statuses.
const (
	CaseOpen   = "open"
	CaseClosed = "closed"
)

// The statuses of a signing request that is under way (signing's
// StatusOpen and StatusAgreed), which retention reads too.
const (
	RequestOpen   = "open"
	RequestAgreed = "agreed"
)

// Case is a case file (dossier): an organisation's conversations about one
// external person (migration 0024).
type Case struct {
	bun.BaseModel `bun:"table:cases"`
	ID            int64 `bun:",pk,autoincrement"`
	OrgID         int64 `bun:",notnull"`
	SubjectID     *int64
	Reference     string `bun:",notnull"`
	Status        string `bun:",notnull"`
	CreatedBy     *int64
	CreatedAt     time.Time
	ClosedAt      bun.NullTime
}

// Participant is a user's membership of a thread.
type Participant struct {
	bun.BaseModel  `bun:"table:participants"`
	ID             int64 `bun:",pk,autoincrement"`
	ThreadID       int64 `bun:",notnull"`
	UserID         int64 `bun:",notnull"`
	AddedBy        *int64
	AddedAt        time.Time
	LastNotifiedAt bun.NullTime
	AutoRepliedAt  bun.NullTime
	RemovedAt      bun.NullTime
	// UnreadCount and BoxCount count the thread's messages that are unread
	// and in the user's box; LastActivityAt is when the thread last got a
	// message. The inbox reads them directly (see migration 0003).
	UnreadCount    int `bun:",notnull"`
	BoxCount       int `bun:",notnull"`
	LastActivityAt bun.NullTime
	// ViaTeamID: the user takes part as a member of this team; leaving the
	// team removes the row.
	ViaTeamID *int64
	// MayRead: the user may read the thread under the medical rule, where
	// messaging loads it (not stored).
	MayRead bool `bun:"-"`

	// User is loaded with Relation("User") where a query needs the person.
	User *User `bun:"rel:belongs-to,join:user_id=id"`
	// Team is the team of ViaTeamID, where a query loads it.
	Team *Team `bun:"rel:belongs-to,join:via_team_id=id"`
}

// Message is one message in a thread; Body is sealed by the vault.
type Message struct {
	bun.BaseModel `bun:"table:messages"`
	ID            int64 `bun:",pk,autoincrement"`
	ThreadID      int64 `bun:",notnull"`
	SenderID      *int64
	Body          []byte
	KeyID         string `bun:",notnull"`
	IsAutoReply   bool   `bun:",notnull"`
	CreatedAt     time.Time
	DeletedAt     bun.NullTime
	// SystemKind marks a system line (migration 0007), e.g.
	// "participant_added", about SubjectUserID; the sender caused it.
	SystemKind    string `bun:",notnull"`
	SubjectUserID *int64
	// TeamID: written by a member on behalf of the team (migration 0018).
	TeamID *int64
}

// MessageState is a participant's read and removal state of a message.
type MessageState struct {
	bun.BaseModel `bun:"table:message_states"`
	MessageID     int64 `bun:",pk"`
	UserID        int64 `bun:",pk"`
	ReadAt        bun.NullTime
	RemovedAt     bun.NullTime
	// History: the state came read with the conversation's history when
	// the person joined its team; they have not read it (no receipt)
	// until they open the conversation.
	History bool `bun:",notnull"`
}

// Attachment is an encrypted file of a message; its content is in the blob
// store (package blob) under StorageKey.
type Attachment struct {
	bun.BaseModel `bun:"table:attachments"`
	ID            int64 `bun:",pk,autoincrement"`
	MessageID     *int64
	UploaderID    *int64 // NULL once the uploader's account is deleted
	Filename      string `bun:",notnull"` // before migration 0008 only; now NameSealed
	NameSealed    []byte
	ContentType   string `bun:",notnull"`
	Size          int64  `bun:",notnull"`
	StorageKey    string `bun:",notnull"`
	KeyID         string `bun:",notnull"`
	// SHA256 is the keyed checksum, HMAC(key, SHA-256(content)), once
	// NameSealed is set; before migration 0008 the plain SHA-256.
	SHA256 []byte `bun:"sha256,notnull"`
	// BlobFormat says how the content is stored (migration 0004): 0 sealed
	// whole in the data dir, 1 streamed in the blob store.
	BlobFormat int `bun:",notnull"`
	CreatedAt  time.Time
}

// Outbox channels and statuses.
const (
	ChannelMail = "mail"
	ChannelSMS  = "sms"
	ChannelPush = "push"

	OutboxPending = "pending"
	OutboxSending = "sending"
	OutboxSent    = "sent"
	OutboxFailed  = "failed"
)

// OutboxItem is a mail or text to deliver; Payload is sealed by the vault.
type OutboxItem struct {
	bun.BaseModel  `bun:"table:outbox"`
	ID             int64  `bun:",pk,autoincrement"`
	IdempotencyKey string `bun:",notnull"`
	Channel        string `bun:",notnull"`
	Recipient      string `bun:",notnull"`
	Payload        []byte
	Status         string `bun:",notnull"`
	Attempts       int    `bun:",notnull"`
	NextAttemptAt  time.Time
	LockedUntil    bun.NullTime
	LastError      string `bun:",notnull"`
	Transport      string `bun:",notnull"`
	CreatedAt      time.Time
	SentAt         bun.NullTime
	// SendBy, when set, is when the row stops being worth sending (a
	// login code's expiry); the worker fails it instead after that.
	SendBy bun.NullTime
}

// PushSubscription is one browser (device) of a user that receives Web
// Push notifications. Keys is the sealed JSON of the subscription's p256dh
// and auth keys, with the endpoint as associated data.
type PushSubscription struct {
	bun.BaseModel `bun:"table:push_subscriptions"`
	ID            int64  `bun:",pk,autoincrement"`
	UserID        int64  `bun:",notnull"`
	Endpoint      string `bun:",notnull"`
	Keys          []byte `bun:",notnull"`
	UserAgent     string `bun:",notnull"`
	// VAPIDKey is the server's VAPID public key the browser subscribed
	// with; the push service refuses notifications signed with another.
	VAPIDKey  string `bun:"vapid_key,notnull"`
	CreatedAt time.Time
}

// AuditEvent is a security-relevant event a user can see in their activity.
type AuditEvent struct {
	bun.BaseModel `bun:"table:audit_events"`
	ID            int64 `bun:",pk,autoincrement"`
	UserID        *int64
	ActorID       *int64
	Kind          string `bun:",notnull"`
	Detail        string `bun:",notnull"`
	IP            string `bun:"ip,notnull"`
	CreatedAt     time.Time
	// OrgID names the organisation of an admin action (migration 0019),
	// whose admins find it in Beheer; NULL for other events.
	OrgID *int64 `bun:"org_id"`
}

// HelpdeskReset is an admin's reset of a person's second factor
// (migration 0019): the mailed link (TokenHash) and the code the admin
// gives by phone (CodeMAC) together open the setup of a new factor.
type HelpdeskReset struct {
	bun.BaseModel `bun:"table:helpdesk_resets"`
	ID            int64  `bun:",pk,autoincrement"`
	UserID        int64  `bun:",notnull"`
	OrgID         int64  `bun:",notnull"`
	StartedBy     *int64 `bun:"started_by"`
	TokenHash     []byte `bun:",notnull"`
	CodeMAC       []byte `bun:"code_mac,notnull"`
	Attempts      int    `bun:",notnull"`
	CreatedAt     time.Time
	ExpiresAt     time.Time
	UsedAt        bun.NullTime
	RevokedAt     bun.NullTime
}

// MailRequest is a request for a mail about an address ("Wachtwoord
// vergeten", a new sign-up link), waiting for the background worker that
// finds out whether the address gets one.
type MailRequest struct {
	bun.BaseModel `bun:"table:mail_requests"`
	ID            int64  `bun:",pk,autoincrement"`
	Kind          string `bun:",notnull"`
	Email         string `bun:",notnull"`
	IP            string `bun:"ip,notnull"`
	CreatedAt     time.Time
}

// Throttle counts events for a key within a window.
type Throttle struct {
	bun.BaseModel `bun:"table:throttles"`
	Key           string `bun:",pk"`
	Count         int    `bun:",notnull"`
	WindowStart   time.Time
	BlockedUntil  bun.NullTime
	// Allowed is the decision of the latest Attempt (1 = evaluated).
	Allowed int `bun:",notnull"`
}

// ExportLease marks the one export of a user's box that is being written
// (migration 0012); Holder names the export, so that only it renews or
// ends the lease.
type ExportLease struct {
	bun.BaseModel `bun:"table:export_leases"`
	UserID        int64  `bun:",pk"`
	Holder        string `bun:",notnull"`
	ExpiresAt     time.Time
}

// Team is a functional box of an organisation (migration 0018).
type Team struct {
	bun.BaseModel `bun:"table:teams"`
	ID            int64  `bun:",pk,autoincrement"`
	OrgID         int64  `bun:",notnull"`
	Name          string `bun:",notnull"`
	Medical       bool   `bun:",notnull"`
	// ShowPerson: outsiders see who wrote on behalf of the team.
	ShowPerson bool `bun:",notnull"`
	CreatedAt  time.Time
}

// TeamMember is a user's membership of a team.
type TeamMember struct {
	bun.BaseModel `bun:"table:team_members"`
	TeamID        int64 `bun:",pk"`
	UserID        int64 `bun:",pk"`
	AddedAt       time.Time
}

// KeptText is a reply (ThreadID set) or new message (ThreadID nil) typed
// while its writer's session lapsed, kept for them to send after logging
// in again in the same browser (messaging.Service.KeepText): Sealed holds
// the typed fields, TokenHash the hash of the browser's cookie.
type KeptText struct {
	bun.BaseModel `bun:"table:kept_texts"`
	ID            int64  `bun:",pk,autoincrement"`
	UserID        int64  `bun:",notnull"`
	ThreadID      *int64 `bun:"thread_id"`
	TokenHash     []byte `bun:",notnull"`
	Sealed        []byte `bun:",notnull"`
	WithFiles     bool   `bun:",notnull"`
	CreatedAt     time.Time
	ExpiresAt     time.Time
}
