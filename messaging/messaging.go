// Package messaging owns the domain rules of threads, messages,
// attachments, read state, deletion and automatic replies. It checks that
// the user is a participant before every read or change, and encrypts
// bodies and files at rest. It knows nothing of HTTP.
package messaging

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/uptrace/bun"

	"dialoog/apperr"
	"dialoog/auth"
	"dialoog/db"
	"dialoog/i18n"
	"dialoog/identity"
	"dialoog/notify"
	"dialoog/vault"
)

// Limits (DESIGN, messaging rules).
const (
	MaxSubject        = 200
	MaxBody           = 20_000
	MaxRecipients     = 20
	MaxAttachments    = 10
	MaxAttachmentSize = 25 << 20
	NotifyEvery       = 15 * time.Minute
	// DefaultNotifyDelay is the default of Service.NotifyDelay
	// (DIALOOG_NOTIFY_DELAY).
	DefaultNotifyDelay = 2 * time.Minute
	PageSize           = 20
	// MaxPendingUploads bounds a user's uploads not yet sent.
	MaxPendingUploads = 3 * MaxAttachments
	// StaleUpload is how long an uploaded file may wait for its message.
	StaleUpload = 24 * time.Hour
)

// Event kinds published after a commit.
const (
	EventMessage   = "message"
	EventAutoReply = "auto_reply"
	EventRead      = "read"
	EventDeleted   = "deleted"
	// EventAssigned: a team's conversation got a member handling it; the
	// inbox lines of the members change.
	EventAssigned = "assigned"
	// EventCaseClosed and EventCaseReopened: the conversation's case was
	// closed (the conversation became read-only) or reopened; open pages
	// of the conversation drop or regain the reply form.
	EventCaseClosed   = "case_closed"
	EventCaseReopened = "case_reopened"
)

// Event tells the live layer what changed; it carries ids only.
type Event struct {
	Kind      string
	ThreadID  int64
	MessageID int64
	UserIDs   []int64 // who should hear of it
	ActorID   int64
}

// Publisher delivers events to live connections.
type Publisher interface {
	// PublishTx is called inside the transaction of a change, before its
	// commit. A publisher that carries events through the same database
	// (PostgreSQL NOTIFY, delivered at the commit and dropped on a
	// rollback) sends them there and reports true, so that an event exists
	// if and only if its change does; otherwise the events go to Publish
	// after the commit.
	PublishTx(ctx context.Context, tx bun.Tx, evs []Event) (sent bool, err error)
	// Publish delivers an event of a committed change.
	Publish(ctx context.Context, ev Event)
}

// NotificationMail renders the content-free "you have a new message" mail;
// from is who wrote, as NotifiedFrom names them for the reader.
type NotificationMail interface {
	NewMessageMail(lang, from, link string) (notify.Mail, error)
}

// Service implements the messaging rules.
type Service struct {
	DB          *db.DB
	Vault       *vault.Vault
	Files       *Files
	Outbox      *notify.Outbox
	Invitations *auth.Invitations
	Mail        NotificationMail
	Summary     SummaryMail // the daily summary mail (SendDailySummaries needs it)
	BaseURL     string
	// NotifyDelay is how long the mail and push notice of a new message
	// wait before they go out; they go out only if the message is still
	// unread then (NoticeWanted), so someone reading the conversation as
	// it happens gets no mail per message. 0 sends them at once.
	NotifyDelay time.Duration
	Now         func() time.Time
	Log         *slog.Logger
	Events      Publisher // may be nil
	// SessionsEnded is told, after the commit, of sessions that ended with
	// an account that was deleted, so that their live connections close on
	// every instance (the session sweep cannot find rows that are gone).
	// May be nil.
	SessionsEnded func(ctx context.Context, sessionIDs []int64)
	// AccountLeaving is told, in the transaction that deletes an account
	// (stopping with Dialoog, or the cleanup of people invited in vain),
	// before anything of it goes: Ondertekenen ends what can no longer be
	// completed without them (signing.Service.Leave). It returns the live
	// events of what it changed (staged: StageEvents), published after the
	// commit. May be nil.
	AccountLeaving func(ctx context.Context, tx bun.Tx, userID int64) ([]Event, error)
	// TeamLeaving is told, in the transaction that ends userID's
	// membership of team teamID, before their rows of the team's
	// conversations go: Ondertekenen ends the requests that wait for them
	// there (signing.Service.LeaveTeam). Events as AccountLeaving's. May
	// be nil.
	TeamLeaving func(ctx context.Context, tx bun.Tx, userID, teamID int64) ([]Event, error)
	// ParticipantLeaving is told, in the transaction that takes userID
	// out of conversation threadID again (RemoveParticipant, by actorID),
	// before their rows go: Ondertekenen ends the requests that wait for
	// them there (signing.Service.LeaveThread). Events as
	// AccountLeaving's. May be nil.
	ParticipantLeaving func(ctx context.Context, tx bun.Tx, userID, threadID, actorID int64) ([]Event, error)
	// CaseClosing is told, in the transaction that closes case caseID
	// (actorID closes it), that its conversations become read-only:
	// Ondertekenen ends their open requests (signing.Service.CloseCase).
	// Events as AccountLeaving's. May be nil.
	CaseClosing func(ctx context.Context, tx bun.Tx, caseID, actorID int64) ([]Event, error)
	// ExportSigning returns, for the box export of who, the requests for
	// agreement of the conversations threadIDs (a batch of the export) as
	// they see them, as data for each one's JSON file, by conversation; a
	// conversation without any is left out (signing.Service.ExportRequests).
	// It runs a fixed number of statements for the batch. May be nil.
	ExportSigning func(ctx context.Context, who *identity.User, threadIDs []int64) (map[int64]any, error)
	// Queued wakes the outbox worker after a commit that queued mail.
	Queued func()
	// MaxExports bounds the exports of boxes this instance writes at
	// once (DefaultMaxExports when 0).
	MaxExports int
	// ExportWait is how long an export waits for its turn on a busy
	// instance before it is refused (DefaultExportWait when 0).
	ExportWait time.Duration
	exports    exportSlots
	inbox      inboxCache
	// searchPlan, when set, is the way every search goes (tests compare
	// the two: searchWalk, searchMatches).
	searchPlan searchPlan
}

// stage hands evs to the publisher inside tx and returns those still to
// publish after the commit.
func (s *Service) stage(ctx context.Context, tx bun.Tx, evs []Event) ([]Event, error) {
	if s.Events == nil || len(evs) == 0 {
		return nil, nil
	}
	sent, err := s.Events.PublishTx(ctx, tx, evs)
	if err != nil {
		return nil, fmt.Errorf("publish live events: %w", err)
	}
	if sent {
		return nil, nil
	}
	return evs, nil
}

func (s *Service) publish(ctx context.Context, evs []Event) {
	if s.Events == nil {
		return
	}
	for _, ev := range evs {
		s.Events.Publish(ctx, ev)
	}
}

func (s *Service) queued() {
	if s.Queued != nil {
		s.Queued()
	}
}

// ComposeInput is a new thread.
type ComposeInput struct {
	To            []string // mail addresses
	Subject       string
	Body          string
	AttachmentIDs []int64 // uploaded by the sender, not yet sent
	// TeamID starts the conversation on behalf of one of the sender's
	// teams (0: personally): every member takes part.
	TeamID int64
	// Medical marks the conversation as containing medical information
	// (internal senders only): only the medical teams and the external
	// participants read it, so every internal participant must be in a
	// medical team of the organisation, and a team conversation must be a
	// medical team's.
	Medical bool
	// Within, when set, runs in the transaction after the first message is
	// stored (see ReplyInput.Within).
	Within WithinFunc
}

// ReplyInput is a message in an existing thread.
type ReplyInput struct {
	ThreadID      int64
	Body          string
	AttachmentIDs []int64
	// Within, when set, runs in the reply's transaction after the message
	// is stored, with its id: a change that belongs to the message (a
	// signing request of its PDF) commits with it or not at all.
	Within WithinFunc
}

func checkBody(body string) (string, error) {
	body = strings.TrimSpace(strings.ReplaceAll(body, "\r\n", "\n"))
	switch {
	case body == "":
		return "", apperr.Field("body", "message.body_required")
	case utf8.RuneCountInString(body) > MaxBody:
		return "", apperr.Field("body", "message.body_too_long")
	case !utf8.ValidString(body) || strings.ContainsRune(body, 0):
		return "", apperr.Field("body", "message.body_invalid")
	}
	return body, nil
}

// CheckCompose reports what Compose refuses in the fields of in as they
// were typed, looking nothing up, with a message for each field: a form
// refused for another reason (a file, the signing choice) says these too,
// so that one correction is enough.
func CheckCompose(who *identity.User, in ComposeInput) error {
	_, _, _, err := checkCompose(who, in)
	return err
}

// checkCompose returns the cleaned subject, body and recipients of in, or
// every refusal of its fields.
func checkCompose(who *identity.User, in ComposeInput) (subject, body string, recipients []string, err error) {
	var errs apperr.Fields
	// Control characters and bidirectional overrides are dropped: a
	// subject must show as what it says.
	subject = CleanLine(in.Subject)
	switch {
	case subject == "":
		errs = append(errs, apperr.Field("subject", "message.subject_required"))
	case utf8.RuneCountInString(subject) > MaxSubject:
		errs = append(errs, apperr.Field("subject", "message.subject_too_long"))
	}
	body, err = checkBody(in.Body)
	if err != nil {
		errs = append(errs, err.(*apperr.Error))
	}
	recipients, err = normalizeRecipients(in.To, who.Email)
	if err != nil {
		errs = append(errs, err.(*apperr.Error))
	}
	if len(in.AttachmentIDs) > MaxAttachments {
		errs = append(errs, apperr.Field("attachments", "attachment.too_many"))
	}
	if in.Medical && !who.Internal() {
		errs = append(errs, apperr.Field("medical", "medical.internal_only"))
	}
	if len(errs) > 0 {
		return "", "", nil, errs
	}
	return subject, body, recipients, nil
}

// CheckReply reports what Reply refuses in the fields of in as they were
// typed, looking nothing up, as CheckCompose does for a new conversation.
func CheckReply(in ReplyInput) error {
	_, err := checkReply(in)
	return err
}

func checkReply(in ReplyInput) (string, error) {
	var errs apperr.Fields
	body, err := checkBody(in.Body)
	if err != nil {
		errs = append(errs, err.(*apperr.Error))
	}
	if len(in.AttachmentIDs) > MaxAttachments {
		errs = append(errs, apperr.Field("attachments", "attachment.too_many"))
	}
	if len(errs) > 0 {
		return "", errs
	}
	return body, nil
}

// Compose starts a thread and sends its first message. Internal users write
// to any address; external users only to internal users they already have
// a thread with. Unknown addresses get an account and an invitation.
func (s *Service) Compose(ctx context.Context, who *identity.User, in ComposeInput) (int64, error) {
	sender := db.UserOf(who)
	subject, body, recipients, err := checkCompose(who, in)
	if err != nil {
		return 0, err
	}
	var threadID int64
	var later []Event
	err = s.DB.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		now := s.Now().UTC()
		org, err := s.senderOrg(ctx, tx, sender, recipients)
		if err != nil {
			return err
		}
		if err := s.countNewThread(ctx, tx, sender); err != nil {
			return err
		}
		var team *int64
		if in.TeamID != 0 {
			ok, err := isTeamMember(ctx, tx, in.TeamID, sender.ID)
			if err != nil {
				return err
			}
			if !ok || sender.Kind != db.KindInternal {
				return apperr.Field("team", "team.not_yours")
			}
			team = &in.TeamID
		}
		if in.Medical {
			if err := s.checkMedicalStart(ctx, tx, sender, org.ID, team); err != nil {
				return err
			}
		}
		th := &db.Thread{OrgID: org.ID, Subject: subject, CreatedBy: &sender.ID, CreatedAt: now, LastMessageAt: now, TeamID: team, Medical: in.Medical}
		if _, err := tx.NewInsert().Model(th).Exec(ctx); err != nil {
			return fmt.Errorf("create thread: %w", err)
		}
		threadID = th.ID
		// Everyone in the new conversation gets a new inbox version once
		// after all its rows are added, not once per row added after
		// theirs (db.HoldConversations).
		if err := db.HoldConversations(ctx, tx, "SELECT ?", []any{th.ID}, func() error {
			if team != nil {
				// Every member of the team takes part, the sender among them,
				// through the team.
				if _, err := tx.NewRaw(`INSERT INTO participants (thread_id, user_id, added_by, added_at, via_team_id, unread_count, box_count)
SELECT ?, tm.user_id, ?, ?, tm.team_id, 0, 0 FROM team_members AS tm WHERE tm.team_id = ?`, th.ID, sender.ID, now, *team).Exec(ctx); err != nil {
					return fmt.Errorf("add team: %w", err)
				}
			}
			users := []*db.User{}
			if team == nil {
				users = append(users, sender)
			}
			// The recipients who have an account, and accounts for the
			// addresses new to Dialoog, in a few statements; the new ones
			// are counted at once against the sender's allowance.
			known, created, err := s.Invitations.RecipientsTxCreated(ctx, tx, recipients, sender.Language)
			if err != nil {
				return err
			}
			within, err := s.countNewAddresses(ctx, tx, sender, len(created))
			if err != nil {
				return err
			}
			// The refusals come in the order of the addresses, as when each
			// new address was counted on its own: one over the allowance
			// is refused where it stands, after what the addresses before
			// it are refused for.
			fresh := 0
			for _, email := range recipients {
				u := known[email]
				if u == nil {
					return errors.New("load recipients: an address was not loaded")
				}
				if created[email] {
					if fresh++; fresh > within {
						return newAddressesLimit()
					}
				}
				if u.Status == db.StatusDisabled {
					return recipientError("message.recipient_disabled_named", u.Email)
				}
				if in.Medical {
					if err := refuseUncleared(ctx, tx, u, org.ID, "to"); err != nil {
						return err
					}
				}
				users = append(users, u)
			}
			members := map[int64]bool{}
			if team != nil && len(users) > 0 {
				// A recipient who is a member already takes part.
				ids := make([]int64, len(users))
				for i, u := range users {
					ids[i] = u.ID
				}
				var in []int64
				if err := tx.NewSelect().Model((*db.TeamMember)(nil)).Column("user_id").
					Where("team_id = ? AND user_id IN (?)", *team, bun.In(ids)).Scan(ctx, &in); err != nil && !db.ErrNoRows(err) {
					return fmt.Errorf("check team members: %w", err)
				}
				for _, id := range in {
					members[id] = true
				}
			}
			// One statement for all of them, in the order of the addresses
			// (the order of their rows is the order they joined).
			ps := make([]db.Participant, 0, len(users))
			for _, u := range users {
				if !members[u.ID] {
					ps = append(ps, db.Participant{ThreadID: th.ID, UserID: u.ID, AddedBy: &sender.ID, AddedAt: now})
				}
			}
			if len(ps) > 0 {
				if _, err := tx.NewInsert().Model(&ps).Exec(ctx); err != nil {
					return fmt.Errorf("add participants: %w", err)
				}
			}
			return nil
		}); err != nil {
			return err
		}
		evs, err := s.post(ctx, tx, th, org, sender, body, in.AttachmentIDs, 0, now)
		if err != nil {
			return err
		}
		if in.Within != nil {
			more, err := in.Within(ctx, tx, evs[0].MessageID)
			if err != nil {
				return err
			}
			evs = append(evs, more...)
		}
		later, err = s.stage(ctx, tx, evs)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("compose: %w", err)
	}
	s.queued()
	s.publish(ctx, later)
	return threadID, nil
}

// shownAddress is how long an address an error names may be, in
// characters; a longer one is cut off with "…".
const shownAddress = 60

// recipientError is the error of key for the address of the "to" field
// it is about, which it names: in a list, the writer sees which one.
func recipientError(key, address string) error {
	if r := []rune(address); len(r) > shownAddress {
		address = string(r[:shownAddress]) + "…"
	}
	return apperr.FieldArgs("to", key, "Address", address)
}

func normalizeRecipients(to []string, self string) ([]string, error) {
	seen := map[string]bool{}
	var out []string
	for _, raw := range to {
		// Commas, semicolons and any white space (a tab from a spreadsheet
		// row, a non-breaking space from a document) separate addresses.
		for _, part := range strings.FieldsFunc(raw, func(r rune) bool { return r == ',' || r == ';' || unicode.IsSpace(r) }) {
			e, err := auth.NormalizeEmail(part)
			if auth.HiddenEmail(err) {
				return nil, recipientError("message.recipient_hidden_named", part)
			}
			if err != nil {
				return nil, recipientError("message.recipient_invalid_named", part)
			}
			if e == self || seen[e] {
				continue
			}
			seen[e] = true
			out = append(out, e)
		}
	}
	if len(out) == 0 {
		return nil, apperr.Field("to", "message.recipient_required")
	}
	if len(out) > MaxRecipients {
		return nil, apperr.Field("to", "message.too_many_recipients")
	}
	return out, nil
}

// senderOrg decides in whose name a new thread is written: an internal
// sender's organisation; for an external sender, the organisation of the
// internal users they already share a thread with (all recipients must be
// such users).
func (s *Service) senderOrg(ctx context.Context, tx bun.Tx, sender *db.User, recipients []string) (*db.Organisation, error) {
	var org db.Organisation
	if sender.Kind == db.KindInternal {
		if sender.OrgID == nil {
			return nil, apperr.New(apperr.Forbidden, "error.forbidden")
		}
		if err := tx.NewSelect().Model(&org).Where("id = ?", *sender.OrgID).Scan(ctx); err != nil {
			return nil, fmt.Errorf("load organisation: %w", err)
		}
		return &org, nil
	}
	// The recipients and which of them share a thread with the sender,
	// in a statement each, whatever their number.
	var us []db.User
	if err := tx.NewSelect().Model(&us).Where("email IN (?) AND kind = ?", bun.In(recipients), db.KindInternal).Scan(ctx); err != nil {
		return nil, fmt.Errorf("load recipients: %w", err)
	}
	byEmail := make(map[string]*db.User, len(us))
	ids := make([]int64, len(us))
	for i := range us {
		byEmail[us[i].Email], ids[i] = &us[i], us[i].ID
	}
	shared := map[int64]bool{}
	if len(ids) > 0 {
		var sharing []int64
		if err := tx.NewSelect().TableExpr("participants AS a").ColumnExpr("DISTINCT b.user_id").
			Join("JOIN participants AS b ON b.thread_id = a.thread_id").
			Where("a.user_id = ? AND b.user_id IN (?)", sender.ID, bun.In(ids)).Scan(ctx, &sharing); err != nil && !db.ErrNoRows(err) {
			return nil, fmt.Errorf("check shared threads: %w", err)
		}
		for _, id := range sharing {
			shared[id] = true
		}
	}
	var orgID int64
	for _, email := range recipients {
		u := byEmail[email]
		if u == nil || !shared[u.ID] || u.OrgID == nil || (orgID != 0 && *u.OrgID != orgID) {
			return nil, apperr.Field("to", "message.recipient_not_allowed")
		}
		orgID = *u.OrgID
	}
	if err := tx.NewSelect().Model(&org).Where("id = ?", orgID).Scan(ctx); err != nil {
		return nil, fmt.Errorf("load organisation: %w", err)
	}
	return &org, nil
}

// Reply posts a message in a thread the author takes part in.
func (s *Service) Reply(ctx context.Context, who *identity.User, in ReplyInput) (int64, error) {
	author := db.UserOf(who)
	body, err := checkReply(in)
	if err != nil {
		return 0, err
	}
	var messageID int64
	var later []Event
	err = s.DB.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		th, org, err := s.threadToWrite(ctx, tx, author.ID, in.ThreadID)
		if err != nil {
			return err
		}
		if th.CaseClosed {
			return errCaseClosed
		}
		evs, err := s.post(ctx, tx, th, org, author, body, in.AttachmentIDs, 0, s.Now().UTC())
		if err != nil {
			return err
		}
		messageID = evs[0].MessageID
		if in.Within != nil {
			more, err := in.Within(ctx, tx, messageID)
			if err != nil {
				return err
			}
			evs = append(evs, more...)
		}
		later, err = s.stage(ctx, tx, evs)
		return err
	})
	if db.IsForeignKeyViolation(err) {
		// The conversation was deleted while the reply waited for it (see
		// dropEmpty): as for a reply after that.
		return 0, apperr.New(apperr.NotFound, "error.not_found")
	}
	if err != nil {
		return 0, fmt.Errorf("reply: %w", err)
	}
	s.queued()
	s.publish(ctx, later)
	return messageID, nil
}

// threadFor loads a thread the user takes part in and may read (the
// medical rule); anything else is NotFound, so that ids of other people's
// threads reveal nothing.
func (s *Service) threadFor(ctx context.Context, idb bun.IDB, userID, threadID int64) (*db.Thread, error) {
	th, _, err := s.threadWithOrg(ctx, idb, userID, threadID)
	return th, err
}

// threadWithOrg is threadFor with the thread's organisation, in one
// prepared query.
func (s *Service) threadWithOrg(ctx context.Context, idb bun.IDB, userID, threadID int64) (*db.Thread, *db.Organisation, error) {
	return s.loadThreadWithOrg(ctx, idb, s.DB.Text("messaging.threadFor", func() string { return threadForQuery(s.DB) }), userID, threadID)
}

// Row locks on PostgreSQL (SQLite's writers take turns). Each change
// takes them in this order, so that two changes wait for each other
// instead of deadlocking:
//
//   - a case's row before its conversations': a reply, a participant
//     added, a deletion for everyone and a change of a conversation's case
//     share-lock the conversation's case, then lock the conversation
//     (threadToWrite, messageToDelete); closing or reopening a case
//     updates its row and locks no conversation (it ends the signing
//     requests of its conversations, so a case's row comes before its
//     requests' too); the retention of closed cases locks a batch of
//     cases in id order, then the requests of their conversations, then
//     the conversations in id order. Moving a conversation into a case
//     share-locks the case it goes into and the one it is in, in id
//     order, before the conversation (holdCasesOfMove). The deletion of an
//     account, which empties the subject and the creator of the person's
//     cases (ON DELETE SET NULL), locks those cases first, in id order
//     (deleteAccount).
//   - a signing request's row before its conversation's: signing locks
//     the request (lockRequest) and then writes into its conversation
//     (Finish adds the sealed PDF). A change that locks conversations and
//     then changes or deletes requests that refer to what it deletes (ON
//     DELETE SET NULL or CASCADE) or that it lapses locks those requests
//     first, in id order (holdRequests): removing a message or a
//     conversation from one's box (RemoveFromBox, RemoveThreadFromBox),
//     the deletion of an account (deleteAccount, before AccountLeaving
//     lapses some of them), a member leaving a team (before TeamLeaving),
//     retention. A deletion for everyone changes no request (a message
//     put to signers stays) and takes none.
//   - a conversation's row before its participants' and their users'
//     rows: a deletion locks it FOR UPDATE first (messageToDelete,
//     threadToDelete), a reply FOR NO KEY UPDATE (threadToWrite), marking
//     read FOR SHARE (threadToRead), before the reader's read states, then
//     their participant row, then their user row.
//   - several conversations in the order of their ids: a team's member
//     joining share-locks the team's, one leaving locks them FOR NO KEY
//     UPDATE, as it clears its assignments (holdTeamThreads), the
//     deletion of an account locks the person's FOR UPDATE
//     (holdOwnThreads), retention locks a batch's FOR UPDATE.

// threadToWrite is threadWithOrg for a reply, a new participant or a
// change of the thread's case (caseThread), in its transaction tx: on
// PostgreSQL it also takes the thread's row lock, before the reply's
// statement locks the participants' rows in an order of its own, so that
// replies at once, a deletion in the thread (which locks the thread
// first, see messageToDelete, and then the participants and their users)
// and a participant added (who must get a reply sent meanwhile) take
// turns instead of deadlocking or missing each other.
// And it takes a share lock on the row of the thread's case (before the
// thread's, as the retention's deletion of a closed case locks them), so
// that closing the case (SetCaseClosed, which updates that row) and the
// change take turns: a change that checked the case open commits before
// the close goes on, and the close sees it; one that comes after the
// close's update waits for its commit and then finds the case closed.
// One statement as before.
func (s *Service) threadToWrite(ctx context.Context, tx bun.Tx, userID, threadID int64) (*db.Thread, *db.Organisation, error) {
	if !s.DB.Postgres() {
		return s.threadWithOrg(ctx, tx, userID, threadID)
	}
	return s.loadThreadWithOrg(ctx, tx, s.DB.Text("messaging.threadToWrite", func() string {
		return threadQuery(s.DB, true) + " FOR NO KEY UPDATE OF t"
	}), userID, threadID)
}

func (s *Service) loadThreadWithOrg(ctx context.Context, idb bun.IDB, query string, userID, threadID int64) (*db.Thread, *db.Organisation, error) {
	rows, err := s.DB.QueryPreparedIn(ctx, idb, query, threadID, userID, userID, userID)
	if err != nil {
		return nil, nil, fmt.Errorf("load thread %d: %w", threadID, err)
	}
	defer rows.Close()
	var row struct {
		db.Thread  `bun:",extend"`
		OrgName    string
		SenderName string `bun:"sender_name"`
		CaseStatus string
	}
	err = s.DB.ScanOne(ctx, rows, &row)
	if db.ErrNoRows(err) {
		return nil, nil, apperr.New(apperr.NotFound, "error.not_found")
	}
	if err != nil {
		return nil, nil, fmt.Errorf("load thread %d: %w", threadID, err)
	}
	row.Thread.CaseClosed = row.CaseStatus == db.CaseClosed
	return &row.Thread, &db.Organisation{ID: row.OrgID, Name: row.OrgName, SenderName: &row.SenderName}, nil
}

// threadForQuery also says whether the thread's case is closed, so that
// every change that loads its thread this way can refuse without another
// statement, and reads the organisation's sender name for the mails a new
// message may send.
func threadForQuery(d *db.DB) string { return threadQuery(d, false) }

// threadQuery is threadForQuery; with lockCase, for PostgreSQL, it reads
// the case's status under a share lock on the case's row (threadToWrite).
// (The lock cannot be on the outer join's side of the nullable case.)
func threadQuery(d *db.DB, lockCase bool) string {
	status, join := "COALESCE(c.status, '')", "\n  LEFT JOIN cases AS c ON c.id = t.case_id"
	if lockCase {
		status, join = "COALESCE((SELECT c.status FROM cases AS c WHERE c.id = t.case_id FOR SHARE), '')", ""
	}
	return `SELECT ` + d.Columns(db.Thread{}, "t") + `, o.name AS org_name, COALESCE(ob.sender_name, '') AS sender_name, ` + status + ` AS case_status
FROM threads AS t JOIN organisations AS o ON o.id = t.org_id LEFT JOIN organisation_branding AS ob ON ob.org_id = t.org_id` + join + `
WHERE t.id = ? AND EXISTS (SELECT 1 FROM participants AS p WHERE p.thread_id = t.id AND p.user_id = ?) AND ` + medicalRule("t", "?")
}

func (s *Service) participants(ctx context.Context, idb bun.IDB, threadID int64) ([]db.Participant, map[int64]*db.User, error) {
	ps, users, _, err := s.participantsFrom(ctx, idb, threadID, s.DB.Text("messaging.participants", func() string { return participantsQuery(s.DB) }), threadID)
	return ps, users, err
}

// participantsFrom runs query, a fixed query that ends in participantsQuery
// (its last argument the thread's id), and reads the participants of
// threadID it returns, and the column p_message_id when query selects one
// (storeMessage).
func (s *Service) participantsFrom(ctx context.Context, idb bun.IDB, threadID int64, query string, args ...any) ([]db.Participant, map[int64]*db.User, int64, error) {
	rows, err := s.DB.QueryPreparedIn(ctx, idb, query, args...)
	if err != nil {
		return nil, nil, 0, fmt.Errorf("load participants: %w", err)
	}
	defer rows.Close()
	var found []participantRow
	if err := s.DB.ScanRows(ctx, rows, &found); err != nil {
		return nil, nil, 0, fmt.Errorf("load participants: %w", err)
	}
	var messageID int64
	ps := make([]db.Participant, len(found))
	byID := make(map[int64]*db.User, len(found))
	for i := range found {
		f := &found[i]
		ps[i] = f.participant(threadID)
		byID[f.User.ID] = &f.User
		messageID = f.PMessageID
	}
	return ps, byID, messageID, nil
}

// participantsOf is participants for several threads at once (a batch of
// the box export), by thread, in one query.
func (s *Service) participantsOf(ctx context.Context, threadIDs []int64) (map[int64][]db.Participant, map[int64]map[int64]*db.User, error) {
	var found []participantRow
	if err := s.DB.NewRaw(participantsQueryWhere(s.DB, "p.thread_id AS p_thread_id, ", "p.thread_id IN (?)"), bun.In(threadIDs)).Scan(ctx, &found); err != nil {
		return nil, nil, fmt.Errorf("load participants: %w", err)
	}
	ps := map[int64][]db.Participant{}
	users := map[int64]map[int64]*db.User{}
	for i := range found {
		f := &found[i]
		ps[f.PThreadID] = append(ps[f.PThreadID], f.participant(f.PThreadID))
		if users[f.PThreadID] == nil {
			users[f.PThreadID] = map[int64]*db.User{}
		}
		users[f.PThreadID][f.User.ID] = &f.User
	}
	return ps, users, nil
}

// participant is the participant of threadID the row holds.
func (f *participantRow) participant(threadID int64) db.Participant {
	p := db.Participant{ID: f.PID, ThreadID: threadID, UserID: f.User.ID, AddedBy: f.PAddedBy, AddedAt: f.PAddedAt,
		LastNotifiedAt: f.PLastNotifiedAt, AutoRepliedAt: f.PAutoRepliedAt, RemovedAt: f.PRemovedAt,
		UnreadCount: f.PUnreadCount, BoxCount: f.PBoxCount, LastActivityAt: f.PLastActivityAt, ViaTeamID: f.PViaTeamID, User: &f.User, MayRead: f.PMayRead}
	if f.PViaTeamID != nil {
		p.Team = &db.Team{ID: *f.PViaTeamID, Name: f.PTeamName, ShowPerson: f.PTeamShowPerson, Medical: f.PTeamMedical}
	}
	return p
}

// participantsQuery lists a thread's participants with their users, in the
// order they joined.
func participantsQuery(d *db.DB) string { return participantsQueryWith(d, "") }

// participantsQueryWith is participantsQuery with the select list's first
// columns given ("expr AS name, ").
func participantsQueryWith(d *db.DB, first string) string {
	return participantsQueryWhere(d, first, "p.thread_id = ?")
}

// participantsQueryWhere is participantsQueryWith for the participants
// rows where selects (of p, participants).
func participantsQueryWhere(d *db.DB, first, where string) string {
	return `SELECT ` + first + d.Columns(db.User{}, "u") + `, p.id AS p_id, p.added_by AS p_added_by, ` + db.TimeColumn(d, "p.added_at", "p_added_at") + `,
  ` + db.TimeColumn(d, "p.last_notified_at", "p_last_notified_at") + `, ` + db.TimeColumn(d, "p.auto_replied_at", "p_auto_replied_at") + `,
  ` + db.TimeColumn(d, "p.removed_at", "p_removed_at") + `, p.unread_count AS p_unread_count, p.box_count AS p_box_count,
  ` + db.TimeColumn(d, "p.last_activity_at", "p_last_activity_at") + `, p.via_team_id AS p_via_team_id, COALESCE(tm.name, '') AS p_team_name, COALESCE(tm.show_person, TRUE) AS p_team_show_person,
  COALESCE(tm.medical, FALSE) AS p_team_medical,
  ` + medicalRule("th", "p.user_id") + ` AS p_may_read
FROM participants AS p JOIN users AS u ON u.id = p.user_id JOIN threads AS th ON th.id = p.thread_id LEFT JOIN teams AS tm ON tm.id = p.via_team_id
WHERE ` + where + ` ORDER BY p.id`
}

type participantRow struct {
	db.User         `bun:",extend"`
	PID             int64        `bun:"p_id"`
	PAddedBy        *int64       `bun:"p_added_by"`
	PAddedAt        time.Time    `bun:"p_added_at"`
	PLastNotifiedAt bun.NullTime `bun:"p_last_notified_at"`
	PAutoRepliedAt  bun.NullTime `bun:"p_auto_replied_at"`
	PRemovedAt      bun.NullTime `bun:"p_removed_at"`
	PUnreadCount    int          `bun:"p_unread_count"`
	PBoxCount       int          `bun:"p_box_count"`
	PLastActivityAt bun.NullTime `bun:"p_last_activity_at"`
	PViaTeamID      *int64       `bun:"p_via_team_id"`
	PTeamName       string       `bun:"p_team_name"`
	PTeamShowPerson bool         `bun:"p_team_show_person"`
	PTeamMedical    bool         `bun:"p_team_medical"`
	PMayRead        bool         `bun:"p_may_read"`
	PMessageID      int64        `bun:"p_message_id"`
	PThreadID       int64        `bun:"p_thread_id"`
}

// post stores a message with its read states and attachments, re-invites
// or notifies the other participants, and posts the automatic replies it
// causes — all in the caller's transaction. answers is 0 for a message
// someone wrote; for an absence reply it is the author of the message it
// answers, who is in Dialoog at that moment and sees the reply there, so
// they get no mail or push about it.
func (s *Service) post(ctx context.Context, tx bun.Tx, th *db.Thread, org *db.Organisation, author *db.User, body string, attachmentIDs []int64, answers int64, now time.Time) ([]Event, error) {
	auto := answers != 0
	m := &db.Message{ThreadID: th.ID, SenderID: &author.ID, Body: s.sealBody(th.ID, body), KeyID: s.Vault.KeyID(), IsAutoReply: auto, CreatedAt: now}
	// The participants as they were before this message: their unread
	// counts are the "unread before" of the notification rule.
	ps, users, err := s.storeMessage(ctx, tx, m, th.ID, author.ID)
	if err != nil {
		return nil, err
	}
	if len(attachmentIDs) > 0 {
		res, err := tx.NewUpdate().Model((*db.Attachment)(nil)).Set("message_id = ?", m.ID).
			Where("id IN (?) AND uploader_id = ? AND message_id IS NULL", bun.In(attachmentIDs), author.ID).Exec(ctx)
		if err != nil {
			return nil, fmt.Errorf("attach files: %w", err)
		}
		if n, _ := res.RowsAffected(); int(n) != len(attachmentIDs) {
			return nil, apperr.Field("attachments", "attachment.gone")
		}
	}
	var others []int64
	for _, p := range ps {
		if p.UserID != author.ID {
			others = append(others, p.UserID)
		}
	}
	kind := EventMessage
	if auto {
		kind = EventAutoReply
	}
	evs := []Event{{Kind: kind, ThreadID: th.ID, MessageID: m.ID, UserIDs: append(others, author.ID), ActorID: author.ID}}
	// The team the author writes for (their participant row says so).
	var team *db.Team
	for _, p := range ps {
		if p.UserID == author.ID {
			team = p.Team
		}
	}
	// The notices are gathered and stored together below: a statement or
	// two whatever the number of people, not two each.
	var al alerts
	for _, p := range ps {
		if p.UserID == author.ID || p.UserID == answers || !p.MayRead {
			continue // nobody is told of what they may not read
		}
		u := users[p.UserID]
		if err := s.alert(ctx, tx, th, org, &p, u, author, team, now, &al); err != nil {
			return nil, err
		}
	}
	if err := s.storeAlerts(ctx, tx, &al, org, author, now); err != nil {
		return nil, err
	}
	if auto {
		return evs, nil
	}
	// Who answers with their absence message: recorded for all of them
	// in one statement, then each answer posted.
	var away []*db.User
	var answered []int64
	for _, p := range ps {
		u := users[p.UserID]
		// A member of the conversation's team is answered for by the team.
		if p.UserID == author.ID || p.ViaTeamID != nil || !p.MayRead || !auth.AwayOn(u, now) {
			continue
		}
		since := auth.AwaySince(u)
		if !p.AutoRepliedAt.IsZero() && !p.AutoRepliedAt.Before(since) {
			continue // already answered in this absence period
		}
		away, answered = append(away, u), append(answered, p.ID)
	}
	if len(answered) > 0 {
		if _, err := tx.NewUpdate().Model((*db.Participant)(nil)).Set("auto_replied_at = ?", now).Where("id IN (?)", bun.In(answered)).Exec(ctx); err != nil {
			return nil, fmt.Errorf("record auto-replies: %w", err)
		}
	}
	for _, u := range away {
		text, err := auth.AwayMessage(s.Vault, u)
		if err != nil {
			return nil, err
		}
		more, err := s.post(ctx, tx, th, org, u, text, nil, author.ID, now)
		if err != nil {
			return nil, fmt.Errorf("auto-reply: %w", err)
		}
		evs = append(evs, more...)
	}
	return evs, nil
}

// alert tells a participant of a new message: a never-signed-up user gets
// the invitation again; an active user who chose a mail per message gets a
// content-free notification at most once per thread per NotifyEvery while
// earlier messages are unread (one who chose the daily summary or no mail
// gets nothing here).
//
// The notification mails and the record of who was told are added to al,
// for storeAlerts.
func (s *Service) alert(ctx context.Context, tx bun.Tx, th *db.Thread, org *db.Organisation, p *db.Participant, u *db.User, author *db.User, team *db.Team, now time.Time, al *alerts) error {
	if u.Status == db.StatusDisabled {
		return nil
	}
	// p is the participant as loaded before this message was counted. A
	// person is told again only once the last mail is NotifyEvery old, or
	// when everything before was read.
	unreadBefore := p.UnreadCount
	if unreadBefore > 0 && !p.LastNotifiedAt.IsZero() && now.Sub(p.LastNotifiedAt.Time) < NotifyEvery {
		return nil
	}
	if u.Status == db.StatusInvited {
		// The invitation again (its link replaces the last one), issued
		// with the others' by storeAlerts.
		al.invites = append(al.invites, u)
		al.told = append(al.told, p.ID)
		return nil
	}
	if auth.NotifySetting(u) != auth.NotifyMessage {
		return nil // the daily summary tells them, or nothing does
	}
	mail, err := s.Mail.NewMessageMail(u.Language, NotifiedFrom(u, author, org.Name, team), s.BaseURL+"/berichten")
	if err != nil {
		return fmt.Errorf("render notification: %w", err)
	}
	mail.To = u.Email
	// Under the sender name of the conversation's organisation, when it
	// chose one: read with the thread (threadWithOrg), or else by the first
	// mail of this message and kept for the others.
	if org.SenderName == nil {
		name, err := auth.SenderName(ctx, tx, org.ID)
		if err != nil {
			return fmt.Errorf("notification sender: %w", err)
		}
		org.SenderName = &name
	}
	mail.FromName = *org.SenderName
	// Sent NotifyDelay later, and only if still wanted then (NoticeWanted).
	notice := notify.Notice{Participant: p.ID, At: now, Author: author.ID}
	mail.Notice, mail.Delay = &notice, s.NotifyDelay
	al.mails = append(al.mails, mail)
	// The same content-free notice to each browser the person switched
	// notifications on for: looked for only for people who have any.
	if u.PushDevices > 0 {
		al.pushes = append(al.pushes, notify.PushTo{UserID: u.ID, Title: i18n.For(u.Language).T("push.new_message"), URL: PushURL, Notice: &notice})
	}
	al.told = append(al.told, p.ID)
	return nil
}

// alerts are the notices of a new message to store (alert, storeAlerts).
type alerts struct {
	invites []*db.User // people not signed up yet, invited again
	mails   []notify.Mail
	pushes  []notify.PushTo
	told    []int64 // the participant rows told of the message
}

// storeAlerts issues the invitations of al (by author, for org: the
// conversation's), queues its notification mails and pushes and records
// when its participants were told, in a statement or a few each, whatever
// their number.
func (s *Service) storeAlerts(ctx context.Context, tx bun.Tx, al *alerts, org *db.Organisation, author *db.User, now time.Time) error {
	if len(al.invites) > 0 {
		if err := s.Invitations.InviteManyTx(ctx, tx, al.invites, org, &author.ID); err != nil {
			return err
		}
	}
	if len(al.mails) > 0 {
		if _, err := s.Outbox.QueueMails(ctx, tx, al.mails); err != nil {
			return err
		}
	}
	if _, err := s.Outbox.QueuePushes(ctx, tx, al.pushes, s.NotifyDelay); err != nil {
		return err
	}
	return s.notified(ctx, tx, al.told, now)
}

// NoticeWanted is the rule the outbox asks just before it sends the notice
// n of a new message (alert): the notice goes out only while its
// conversation still has unread messages for the person and no later
// notice replaced it (the conversation was read in between and a new
// message was told of again). A person who left the conversation gets
// none.
func NoticeWanted(ctx context.Context, idb bun.IDB, n notify.Notice) (bool, error) {
	var p struct {
		UnreadCount    int
		LastNotifiedAt bun.NullTime
	}
	err := idb.NewSelect().Table("participants").
		ColumnExpr("unread_count").
		ColumnExpr(db.TimeColumn(idb, "last_notified_at", "last_notified_at")).
		Where("id = ?", n.Participant).Scan(ctx, &p)
	if db.ErrNoRows(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("notice of participant %d: %w", n.Participant, err)
	}
	// The time as stored may have lost digits of n.At (rounded, on some
	// engines): only a later notice, more than that, replaces this one.
	replaced := p.LastNotifiedAt.Sub(n.At) > time.Millisecond
	return p.UnreadCount > 0 && !replaced, nil
}

// PushURL is where a push notification's click goes: the inbox, never a
// conversation (the notification names nothing).
const PushURL = "/berichten"

// notified records when the participant rows ids were last told of the
// thread, in one statement a chunk of them.
func (s *Service) notified(ctx context.Context, tx bun.Tx, ids []int64, now time.Time) error {
	for chunk := range slices.Chunk(ids, purgeChunk) {
		if _, err := tx.NewUpdate().Model((*db.Participant)(nil)).Set("last_notified_at = ?", now).Where("id IN (?)", bun.In(chunk)).Exec(ctx); err != nil {
			return fmt.Errorf("record notification: %w", err)
		}
	}
	return nil
}

// newMessageWrites count a new message in its thread: the thread's time,
// the participants' counters the inbox reads (a new message also brings the
// thread back into the boxes it was removed from), and the unread totals of
// the participants who may read it (medicalRule); newStatesQuery adds
// every participant's read state of it. Their arguments are newMessageArgs.
// No statement reads what another one writes, so that PostgreSQL can run
// them as one (see storeMessage).
var newMessageWrites = []string{
	"UPDATE threads SET last_message_at = ? WHERE id = ?",
	`UPDATE participants SET unread_count = unread_count + CASE WHEN user_id = ? THEN 0 ELSE 1 END,
box_count = box_count + 1, last_activity_at = ?, removed_at = NULL WHERE thread_id = ?`,
	`UPDATE users SET unread_total = unread_total + 1
WHERE id IN (SELECT p.user_id FROM participants AS p JOIN threads AS t ON t.id = p.thread_id
  WHERE p.thread_id = ? AND p.user_id <> ? AND ` + medicalRule("t", "p.user_id") + `)`,
}

// newMessageArgs are the arguments of each of newMessageWrites.
func newMessageArgs(threadID, authorID int64, now time.Time) [][]any {
	return [][]any{{now, threadID}, {authorID, now, threadID}, {threadID, authorID}}
}

// newStatesQuery stores every participant's read state of the new message
// read from the table or clause named by its %s as m (read by its author).
const newStatesQuery = `INSERT INTO message_states (message_id, user_id, read_at)
SELECT m.id, p.user_id, CASE WHEN p.user_id = m.sender_id THEN m.created_at END
FROM %s AS m JOIN participants AS p ON p.thread_id = m.thread_id`

// The statements of storeMessage on SQLite: the message, and its read
// states from the stored row.
var (
	insertMessageReturningID = insertMessageQuery + " RETURNING id"
	newStatesOfMessage       = fmt.Sprintf(newStatesQuery, "messages") + " WHERE m.id = ?"
)

// storeMessage stores m (and sets its id), counts it in its thread
// (newMessageWrites, newStatesQuery) and returns the thread's participants
// as they were before it. SQLite, in the process, runs one statement after
// the other. On PostgreSQL, where each statement is a round trip, it is one
// statement: the message and the writes are data-modifying WITH clauses of
// the participants' query, which sees the rows as they were before them
// (one snapshot for the whole statement), and the read states read the new
// message from the clause that stores it.
func (s *Service) storeMessage(ctx context.Context, tx bun.Tx, m *db.Message, threadID, authorID int64) ([]db.Participant, map[int64]*db.User, error) {
	insertArgs := []any{m.ThreadID, m.SenderID, m.Body, m.KeyID, m.IsAutoReply, m.CreatedAt, threadID, authorID}
	writeArgs := newMessageArgs(threadID, authorID, m.CreatedAt)
	if s.DB.Postgres() {
		query := s.DB.Text("messaging.storeMessage", func() string {
			var b strings.Builder
			b.WriteString("WITH nm AS (" + insertMessageQuery + " RETURNING id, thread_id, sender_id, created_at),\n")
			b.WriteString("  states AS (" + fmt.Sprintf(newStatesQuery, "nm") + ")")
			for i, w := range newMessageWrites {
				fmt.Fprintf(&b, ",\n  w%d AS (%s)", i, w)
			}
			return b.String() + "\n" + participantsQueryWith(s.DB, "(SELECT id FROM nm) AS p_message_id, ")
		})
		args := insertArgs
		for _, a := range writeArgs {
			args = append(args, a...)
		}
		ps, users, id, err := s.participantsFrom(ctx, tx, threadID, query, append(args, threadID)...)
		if err != nil {
			return nil, nil, fmt.Errorf("store message: %w", err)
		}
		if id == 0 {
			return nil, nil, errors.New("store message: no id returned")
		}
		m.ID = id
		return ps, users, nil
	}
	rows, err := s.DB.QueryPreparedIn(ctx, tx, insertMessageReturningID, insertArgs...)
	if err != nil {
		return nil, nil, fmt.Errorf("store message: %w", err)
	}
	if rows.Next() {
		err = rows.Scan(&m.ID)
	}
	if cerr := rows.Close(); err == nil {
		err = cerr
	}
	if err == nil && m.ID == 0 {
		err = errors.New("no id returned")
	}
	if err != nil {
		return nil, nil, fmt.Errorf("store message: %w", err)
	}
	ps, users, err := s.participants(ctx, tx, threadID)
	if err != nil {
		return nil, nil, err
	}
	if err := s.countNewMessage(ctx, tx, m.ID, threadID, authorID, m.CreatedAt); err != nil {
		return nil, nil, err
	}
	return ps, users, nil
}

// countNewMessage stores every participant's read state of the stored
// message messageID and counts it in its thread (newStatesQuery,
// newMessageWrites), one statement after the other.
func (s *Service) countNewMessage(ctx context.Context, tx bun.Tx, messageID, threadID, authorID int64, now time.Time) error {
	if _, err := s.DB.ExecPrepared(ctx, tx, newStatesOfMessage, messageID); err != nil {
		return fmt.Errorf("store read states: %w", err)
	}
	args := newMessageArgs(threadID, authorID, now)
	for i, w := range newMessageWrites {
		if _, err := s.DB.ExecPrepared(ctx, tx, w, args[i]...); err != nil {
			return fmt.Errorf("count message: %w", err)
		}
	}
	return nil
}

// insertMessageQuery stores a message; written by a member of the
// conversation's team (their participant row says so), it is written on
// behalf of the team.
const insertMessageQuery = `INSERT INTO messages (thread_id, sender_id, body, key_id, is_auto_reply, created_at, team_id)
VALUES (?, ?, ?, ?, ?, ?, (SELECT p.via_team_id FROM participants AS p WHERE p.thread_id = ? AND p.user_id = ?))`

func (s *Service) sealBody(threadID int64, body string) []byte {
	return s.Vault.Seal([]byte(body), bodyAD(threadID))
}

func bodyAD(threadID int64) []byte { return []byte(fmt.Sprintf("message:thread:%d", threadID)) }
