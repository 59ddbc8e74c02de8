package messaging

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/uptrace/bun"

	"dialoog/apperr"
	"dialoog/db"
	"dialoog/i18n"
	"dialoog/identity"
	"dialoog/usertext"
)

// DisplayName builds a person's name from the profile of the seed
// (voornaam or voorletters, tussenvoegsels, achternaam), falling back to
// the mail address before the profile is filled in.
func DisplayName(u *db.User) string {
	if u == nil {
		return ""
	}
	first := u.FirstName
	if first == "" {
		first = u.Initials
	}
	name, plain := plainName(first, u.NamePrefix, u.LastName)
	if !plain {
		// Names stored before the rule against hidden characters are
		// cleaned as they are shown.
		name = cleanName(first, u.NamePrefix, u.LastName)
	}
	if name == "" {
		return u.Email
	}
	return name
}

// cleanName is a name's parts joined, cleaned of hidden characters, with
// single spaces.
func cleanName(first, prefix, last string) string {
	return strings.Join(strings.Fields(CleanLine(first+" "+prefix+" "+last)), " ")
}

// plainName joins the non-empty parts of a name with single spaces, and
// plain is true, when no part holds a space or anything CleanLine would
// change: then that is what cleaning and splitting the name gives, made
// without their copies (a page of the inbox names a few people per row).
func plainName(first, prefix, last string) (name string, plain bool) {
	var b strings.Builder
	b.Grow(len(first) + len(prefix) + len(last) + 2)
	for _, part := range [3]string{first, prefix, last} {
		if part == "" {
			continue
		}
		if strings.ContainsFunc(part, unicode.IsSpace) || usertext.Hidden(part) {
			return "", false
		}
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(part)
	}
	return b.String(), true
}

// NameOf is the name of the person behind a request, as DisplayName
// makes it: for the menu and "Ingelogd als".
func NameOf(p *identity.User) string {
	if p == nil {
		return ""
	}
	return DisplayName(&db.User{FirstName: p.FirstName, Initials: p.Initials, NamePrefix: p.NamePrefix, LastName: p.LastName, Email: p.Email})
}

// NameFor is how viewer sees u. Internal users see everyone as
// DisplayName does; an external user never sees another external user's
// mail address: an invitee without a name shows as "Genodigde" with the
// initials of the address's local part, in the viewer's language.
func NameFor(viewer, u *db.User) string {
	if u == nil {
		return ""
	}
	name := DisplayName(u)
	if name != u.Email || !hidesAddress(viewer, u) {
		return name
	}
	return i18n.For(viewer.Language).T("person.invitee", "Initials", addressInitials(u.Email))
}

// NotifiedFrom is who the new-message mail tells reader a message is
// from: when an internal user wrote to an external reader, the team the
// author wrote for (team, nil when none), else the organisation of the
// conversation (orgName), as the reader deals with them; otherwise the
// person who wrote, as the reader sees them (NameFor). So nobody is told of
// their own organisation, and an external user never learns another
// external user's address. A medical team is never named: the mail leaves
// Dialoog, often for a mailbox at work that others read, and "a new message
// from the occupational doctor" is itself confidential; it names the
// organisation instead.
func NotifiedFrom(reader, author *db.User, orgName string, team *db.Team) string {
	if author != nil && author.Kind == db.KindInternal && reader.Kind != db.KindInternal {
		if team != nil && team.Name != "" && !team.Medical {
			return team.Name
		}
		if orgName != "" {
			return orgName
		}
	}
	return NameFor(reader, author)
}

// hidesAddress reports whether viewer may not see u's mail address and
// last-seen time: both are external and not the same person.
func hidesAddress(viewer, u *db.User) bool {
	return viewer != nil && viewer.Kind != db.KindInternal && u.Kind != db.KindInternal && viewer.ID != u.ID
}

// addressInitials turns "piet.de-groot@example.nl" into "P.D.G.".
func addressInitials(email string) string {
	local, _, _ := strings.Cut(email, "@")
	var b strings.Builder
	for _, part := range strings.FieldsFunc(local, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }) {
		r, _ := utf8.DecodeRuneInString(part)
		b.WriteRune(unicode.ToUpper(r))
		b.WriteByte('.')
		if b.Len() >= 8 {
			break
		}
	}
	return b.String()
}

// ThreadSummary is one line of the inbox.
type ThreadSummary struct {
	ID            int64
	Subject       string
	OrgName       string
	LastMessageAt time.Time
	Unread        int
	From          string // the other participants, by name
	AssignedTo    string // the team member handling it (internal viewers)
}

// InboxPage is one page of a user's threads, newest first.
type InboxPage struct {
	Threads []ThreadSummary
	Page    int
	More    bool
	// Next is where the next page starts (InboxAfter), when there is one
	// and the page is not a search.
	Next   string
	Unread int // unread messages in all threads
	Query  string
	TeamID int64 // the team box shown (0: the whole inbox)
	CaseID int64 // the case whose conversations are shown (0: all)
	// Scope is, for a search too short for the indexes in a larger box,
	// how many of the most recent conversations it looked at (0: all;
	// ShortSearchScope).
	Scope int
}

type inboxRow struct {
	ID            int64
	Subject       string
	OrgName       string
	LastMessageAt time.Time
	Unread        int
	Others        string // see peopleLine
	Assignee      string // the assigned member's name fields
	TotalUnread   int
	// LastActivityAt is the row's time in the box's order (cursor).
	LastActivityAt time.Time
}

// ParticipantView is a person in a thread, with their sign-up status.
type ParticipantView struct {
	UserID     int64
	Name       string
	Email      string
	Internal   bool
	Status     string // invited, active, disabled
	LastSeenAt time.Time
	// MayRead: the participant may read the conversation (the medical
	// rule); only such a one can be asked to agree to a document.
	MayRead bool
	// Removable: the reader may take them out of the conversation
	// again ("Deelnemer verwijderen", RemoveParticipant).
	Removable bool
}

// Receipt says whether and when a recipient read a message.
type Receipt struct {
	Name   string
	ReadAt time.Time // zero while unread
}

// AttachmentView describes a file of a message.
type AttachmentView struct {
	ID          int64
	Name        string
	ContentType string
	Size        int64
}

// MessageView is one message as its reader sees it.
type MessageView struct {
	ID         int64
	SenderID   int64
	SenderName string
	SenderOrg  string // the organisation, for internal senders
	// SenderTeam: written on behalf of this team ("Hanna de Vries namens
	// OSAW Verzuim"). An outsider reading a team that hides its people
	// sees the team as SenderName and no SenderTeam.
	SenderTeam string
	// SenderDeleted: the sender stopped with Dialoog; SenderName is empty.
	SenderDeleted bool
	Mine          bool
	Body          string
	AutoReply     bool
	// System is the kind of a system line (SystemParticipantAdded), with
	// the person it is about; the sender caused it. It has no body.
	System        string
	SystemSubject string
	CreatedAt     time.Time
	ReadAt        time.Time // when this reader read it
	Attachments   []AttachmentView
	Receipts      []Receipt // for the sender: each other participant
	// CanDeleteForEveryone: the reader sent it and nobody else read it yet.
	CanDeleteForEveryone bool
}

// ThreadView is a thread with the messages in the reader's box, oldest
// first.
type ThreadView struct {
	// Medical: marked as containing medical information.
	Medical      bool
	ID           int64
	Subject      string
	OrgName      string
	OrgID        int64 // the organisation whose house style the page shows
	Participants []ParticipantView
	Messages     []MessageView
	// CanAddParticipants: internal users of the thread's organisation.
	// While its case is closed (ReadOnly) the service refuses, and the
	// page renders the form anyway, hidden by the stylesheet, so that
	// reopening the case shows it again without a page load.
	CanAddParticipants bool
	// CanResend: "Uitnodiging opnieuw versturen", for the same people,
	// in the same way.
	CanResend bool
	// ReadOnly: the conversation's case is closed; nobody may change it.
	ReadOnly bool
	// Team: the team whose conversation this is, for its members, with
	// who handles it and the colleagues it can be assigned to.
	TeamID       int64
	TeamName     string
	AssignedToID int64
	AssignedTo   string
	Members      []TeamMemberView
	// Earlier is set when the conversation holds messages (in the
	// reader's box) before those in Messages: the id of the oldest one
	// shown, from which ThreadPage reads the page before it.
	Earlier int64
}

// ThreadPageSize is how many messages a conversation's page shows: the
// newest, or those before a message (ThreadPage). A page of a long
// conversation costs what one of a short one does.
const ThreadPageSize = 200

// Thread loads a thread for a participant, with its newest messages;
// anything else is NotFound.
func (s *Service) Thread(ctx context.Context, who *identity.User, threadID int64) (*ThreadView, error) {
	return s.ThreadPage(ctx, who, threadID, 0)
}

// ThreadPage is Thread with the messages before the message before
// (ThreadView.Earlier of a page; 0: the newest), at most ThreadPageSize of
// them, oldest first. A before that is not a message of the thread shows
// none.
func (s *Service) ThreadPage(ctx context.Context, who *identity.User, threadID, before int64) (*ThreadView, error) {
	user := db.UserOf(who)
	th, org, err := s.threadWithOrg(ctx, s.DB, user.ID, threadID)
	if err != nil {
		return nil, err
	}
	// Every open of a medical conversation by an internal user is on
	// record (live pushes are not opens).
	if err := s.auditMedicalOpen(ctx, user, th); err != nil {
		return nil, err
	}
	ps, users, err := s.participants(ctx, s.DB, th.ID)
	if err != nil {
		return nil, err
	}
	orgNames := map[int64]string{th.OrgID: org.Name}
	v := &ThreadView{ID: th.ID, Subject: CleanLine(th.Subject), OrgName: org.Name, OrgID: th.OrgID, Medical: th.Medical, ReadOnly: th.CaseClosed,
		CanAddParticipants: mayInvite(user, th.OrgID), CanResend: mayInvite(user, th.OrgID)}
	v.Participants = participantViews(user, ps, users)
	if v.CanAddParticipants {
		var subject int64
		if th.CaseID != nil {
			if err := s.DB.NewSelect().Model((*db.Case)(nil)).ColumnExpr("COALESCE(subject_id, 0)").Where("id = ?", *th.CaseID).Scan(ctx, &subject); err != nil {
				return nil, fmt.Errorf("load case subject: %w", err)
			}
		}
		markRemovable(user.ID, subject, ps, users, v.Participants)
	}
	for _, p := range ps {
		if p.UserID == user.ID && p.Team != nil && th.TeamID != nil && p.Team.ID == *th.TeamID {
			v.TeamID, v.TeamName = p.Team.ID, p.Team.Name
			if v.Members, err = s.TeamMembers(ctx, who, p.Team.ID); err != nil {
				return nil, err
			}
			if th.AssignedTo != nil {
				v.AssignedToID = *th.AssignedTo
				for _, m := range v.Members {
					if m.UserID == *th.AssignedTo {
						v.AssignedTo = m.Name
					}
				}
			}
		}
	}
	// The newest page (or the page before a message), read backwards
	// through messages_thread_idx, one more to know whether there are
	// earlier ones.
	var msgs []db.Message
	q := s.DB.NewSelect().Model(&msgs).
		Where("thread_id = ?", th.ID).
		Where("EXISTS (SELECT 1 FROM message_states AS ms WHERE ms.message_id = message.id AND ms.user_id = ? AND ms.removed_at IS NULL)", user.ID)
	if before > 0 {
		at := "(SELECT b.created_at FROM messages AS b WHERE b.id = ? AND b.thread_id = ?)"
		q = q.Where("(created_at < "+at+" OR (created_at = "+at+" AND id < ?))", before, th.ID, before, th.ID, before)
	}
	if err := q.OrderExpr("created_at DESC, id DESC").Limit(ThreadPageSize + 1).Scan(ctx); err != nil {
		return nil, fmt.Errorf("load messages: %w", err)
	}
	if len(msgs) > ThreadPageSize {
		msgs = msgs[:ThreadPageSize]
		v.Earlier = msgs[len(msgs)-1].ID
	}
	slices.Reverse(msgs)
	senders := (&senderOrgs{s: s, names: orgNames}).withTeams(ps)
	if v.Messages, err = s.messageViews(ctx, user, th.ID, msgs, users, senders); err != nil {
		return nil, err
	}
	if th.CaseClosed {
		for i := range v.Messages {
			v.Messages[i].CanDeleteForEveryone = false
		}
	}
	return v, nil
}

// participantViews is a thread's participants as user sees them: an
// external user sees no other external user's address or last-seen time.
func participantViews(user *db.User, ps []db.Participant, users map[int64]*db.User) []ParticipantView {
	out := make([]ParticipantView, 0, len(ps))
	teams := map[int64]bool{}
	for _, p := range ps {
		u := users[p.UserID]
		if p.Team != nil && outsider(user) {
			// An outsider sees a team's members as the team.
			if !teams[p.Team.ID] {
				teams[p.Team.ID] = true
				out = append(out, ParticipantView{Name: p.Team.Name, Internal: true, Status: db.StatusActive, MayRead: true})
			}
			continue
		}
		pv := ParticipantView{UserID: u.ID, Name: NameFor(user, u), Email: u.Email,
			Internal: u.Kind == db.KindInternal, Status: u.Status, LastSeenAt: lastSeen(u), MayRead: p.MayRead}
		if hidesAddress(user, u) {
			pv.Email, pv.LastSeenAt = "", time.Time{}
		}
		out = append(out, pv)
	}
	return out
}

// markRemovable sets Removable on views, the participants ps as viewerID
// (who may remove participants, so an internal user who sees every row)
// sees them, for those whose rows show at once that they have seen and
// own nothing of the conversation: a person's own row, not the viewer's
// and not the case's subject (caseSubject, 0 for none), with something
// unread, no absence auto-reply sent, and either nothing read in their
// box (no system line about someone else either, which comes read) or no
// visit to Dialoog since they were added. It reads nothing more, so a
// page or a live push costs the same in a conversation of any length;
// RemoveParticipant checks the messages themselves, and refuses, with its
// reason, anyone this lets through who read or wrote after all.
func markRemovable(viewerID, caseSubject int64, ps []db.Participant, users map[int64]*db.User, views []ParticipantView) {
	may := make(map[int64]bool, len(ps))
	for _, p := range ps {
		u := users[p.UserID]
		may[p.UserID] = p.ViaTeamID == nil && p.UserID != viewerID && p.UserID != caseSubject && p.UnreadCount > 0 && p.AutoRepliedAt.IsZero() &&
			(p.UnreadCount == p.BoxCount || lastSeen(u).Before(p.AddedAt))
	}
	for i := range views {
		views[i].Removable = may[views[i].UserID]
	}
}

// outsider: the viewer is not of an organisation, and sees its teams, not
// their members.
func outsider(viewer *db.User) bool { return viewer != nil && viewer.Kind != db.KindInternal }

// otherNames names a conversation's participants other than viewer as the
// viewer sees them, in joining order: to an outsider a team's members are
// the team, once.
func otherNames(viewer *db.User, ps []db.Participant, users map[int64]*db.User) []string {
	var names []string
	teams := map[int64]bool{}
	for _, o := range ps {
		if o.UserID == viewer.ID {
			continue
		}
		if o.Team != nil && outsider(viewer) {
			if !teams[o.Team.ID] {
				teams[o.Team.ID] = true
				names = append(names, o.Team.Name)
			}
			continue
		}
		names = append(names, NameFor(viewer, users[o.UserID]))
	}
	return names
}

// messageViews turns messages of a thread in the user's box into what the
// user sees of them, loading their read states and attachments in one
// query each: the thread page passes all of them, the export a page at a
// time.
func (s *Service) messageViews(ctx context.Context, user *db.User, threadID int64, msgs []db.Message,
	users map[int64]*db.User, senders *senderOrgs) ([]MessageView, error) {
	if len(msgs) == 0 {
		return nil, nil
	}
	users, err := s.withFormer(ctx, users, msgs)
	if err != nil {
		return nil, err
	}
	ids := messageIDs(msgs)
	parts, err := s.viewPartsOf(ctx, ids, ids)
	if err != nil {
		return nil, err
	}
	return s.viewsFrom(ctx, user, threadID, msgs, users, senders, parts)
}

func messageIDs(msgs []db.Message) []int64 {
	ids := make([]int64, len(msgs))
	for i, m := range msgs {
		ids[i] = m.ID
	}
	return ids
}

// viewParts are what the views of messages need besides the messages and
// their people: every participant's read state and the stored
// attachments, by message id.
type viewParts struct {
	states map[int64][]db.MessageState
	atts   map[int64][]db.Attachment
}

// viewPartsOf loads the read states of the messages stateIDs and the
// attachments of the messages fileIDs, which may be of several threads, in
// one query each (none for an empty list).
func (s *Service) viewPartsOf(ctx context.Context, stateIDs, fileIDs []int64) (viewParts, error) {
	parts := viewParts{states: map[int64][]db.MessageState{}, atts: map[int64][]db.Attachment{}}
	if len(stateIDs) > 0 {
		var states []db.MessageState
		if err := s.DB.NewSelect().Model(&states).Where("message_id IN (?)", bun.In(stateIDs)).Scan(ctx); err != nil {
			return parts, fmt.Errorf("load read states: %w", err)
		}
		for _, st := range states {
			parts.states[st.MessageID] = append(parts.states[st.MessageID], st)
		}
	}
	if len(fileIDs) > 0 {
		var atts []db.Attachment
		if err := s.DB.NewSelect().Model(&atts).Where("message_id IN (?)", bun.In(fileIDs)).Order("id").Scan(ctx); err != nil {
			return parts, fmt.Errorf("load attachments: %w", err)
		}
		for _, a := range atts {
			parts.atts[*a.MessageID] = append(parts.atts[*a.MessageID], a)
		}
	}
	return parts, nil
}

// viewsFrom is messageViews from what the caller loaded: users with the
// former senders (withFormer) and the parts of msgs.
func (s *Service) viewsFrom(ctx context.Context, user *db.User, threadID int64, msgs []db.Message,
	users map[int64]*db.User, senders *senderOrgs, parts viewParts) ([]MessageView, error) {
	out := make([]MessageView, 0, len(msgs))
	for _, m := range msgs {
		var atts []AttachmentView
		for i := range parts.atts[m.ID] {
			v, err := s.attachmentView(&parts.atts[m.ID][i])
			if err != nil {
				return nil, err
			}
			atts = append(atts, v)
		}
		body, err := s.Vault.Open(m.Body, bodyAD(threadID))
		if err != nil {
			return nil, fmt.Errorf("open message %d: %w", m.ID, err)
		}
		mv, err := messageView(ctx, &m, string(body), atts, parts.states[m.ID], users, senders, user.ID)
		if err != nil {
			return nil, err
		}
		out = append(out, mv)
	}
	return out, nil
}

// MarkRead marks the user's unread messages of a thread as read and tells
// their senders.
func (s *Service) MarkRead(ctx context.Context, who *identity.User, threadID int64) (int, error) {
	return s.MarkReadUpTo(ctx, who, threadID, 0)
}

// markReadQueries find what opening a conversation marks read: the
// user's unread messages of it, and those that came read with a team's
// history (message_states.history), in two branches, each through its
// own index (message_states_user_idx; the partial
// message_states_history_idx), so that the cost follows what is unread,
// not the conversation's length (BenchmarkMarkReadBigBox). [1] stops at
// a message id.
var markReadQueries = func() [2]string {
	var out [2]string
	for i, upTo := range []string{"", " AND ms.message_id <= ?"} {
		branch := func(state string) string {
			return `SELECT ms.message_id, m.sender_id, ms.history FROM message_states AS ms JOIN messages AS m ON m.id = ms.message_id
WHERE ms.user_id = ? AND ` + state + ` AND ms.removed_at IS NULL AND m.thread_id = ?` + upTo
		}
		out[i] = branch("ms.read_at IS NULL") + "\nUNION ALL\n" + branch("ms.history = TRUE")
	}
	return out
}()

// toMark is a message markReadQueries found, with its sender.
type toMark struct {
	MessageID int64
	SenderID  *int64
	History   bool
}

// MarkReadUpTo is MarkRead for the messages up to the one with id upTo
// (0: all): those a page showed, so that a message that arrived after it
// was loaded stays unread and its sender is not told it was read.
func (s *Service) MarkReadUpTo(ctx context.Context, who *identity.User, threadID, upTo int64) (int, error) {
	user := db.UserOf(who)
	var later []Event
	var n int
	err := s.DB.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		if _, err := s.threadFor(ctx, tx, user.ID, threadID); err != nil {
			return err
		}
		// The unread messages, and those that came read with the history
		// when the person joined the team (read now, for the receipts).
		var unread []toMark
		query, args := markReadQueries[0], []any{user.ID, threadID, user.ID, threadID}
		if upTo > 0 {
			query, args = markReadQueries[1], []any{user.ID, threadID, upTo, user.ID, threadID, upTo}
		}
		rows, err := s.DB.QueryPreparedIn(ctx, tx, query, args...)
		if err != nil {
			return fmt.Errorf("load unread: %w", err)
		}
		for rows.Next() {
			var u toMark
			if err = rows.Scan(&u.MessageID, &u.SenderID, &u.History); err != nil {
				break
			}
			unread = append(unread, u)
		}
		if err == nil {
			err = rows.Err()
		}
		if cerr := rows.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("load unread: %w", err)
		}
		if len(unread) == 0 {
			return nil
		}
		// Something to mark: the conversation's lock, before any row is
		// written (threadToRead), and only now, so that a return to a
		// conversation with nothing unread stays a read, with no lock to
		// write (BenchmarkMarkReadBigBox). What changed since the query
		// above, the updates below see: they change only states still
		// unread and in the box, and count what they changed.
		if s.DB.Postgres() {
			if _, err := s.threadToRead(ctx, tx, user.ID, threadID); err != nil {
				return err
			}
		}
		var ids, history []int64
		for _, u := range unread {
			if u.History {
				history = append(history, u.MessageID)
			} else {
				ids = append(ids, u.MessageID)
			}
		}
		now := s.Now().UTC()
		if len(history) > 0 {
			if _, err := tx.NewUpdate().Model((*db.MessageState)(nil)).Set("read_at = ?, history = FALSE", now).
				Where("user_id = ? AND history = TRUE AND message_id IN (?)", user.ID, bun.In(history)).Exec(ctx); err != nil {
				return fmt.Errorf("mark history read: %w", err)
			}
		}
		var marked int64
		if len(ids) > 0 {
			// Only what the counters count (unread and in the box) leaves
			// them. (The thread's lock already keeps a removal from the
			// box from coming between the query above and this; the
			// condition keeps the decrement to the counters' own rule.)
			res, err := tx.NewUpdate().Model((*db.MessageState)(nil)).Set("read_at = ?", now).
				Where("user_id = ? AND read_at IS NULL AND removed_at IS NULL AND message_id IN (?)", user.ID, bun.In(ids)).Exec(ctx)
			if err != nil {
				return fmt.Errorf("mark read: %w", err)
			}
			// What this statement marked (another tab may have marked some
			// meantime) leaves the counts.
			if marked, err = res.RowsAffected(); err != nil {
				return fmt.Errorf("mark read: %w", err)
			}
		}
		if marked > 0 {
			// The participant's row before the user's, in the order of
			// every change in a conversation (see threadToRead).
			if _, err := tx.NewUpdate().Model((*db.Participant)(nil)).Set("unread_count = unread_count - ?", marked).
				Where("thread_id = ? AND user_id = ?", threadID, user.ID).Exec(ctx); err != nil {
				return fmt.Errorf("count read: %w", err)
			}
			if _, err := tx.NewRaw(`UPDATE users SET unread_total = unread_total - ? WHERE id = ?`, marked, user.ID).Exec(ctx); err != nil {
				return fmt.Errorf("count read: %w", err)
			}
		}
		n = int(marked)
		var evs []Event
		for _, u := range unread {
			if u.SenderID != nil && *u.SenderID != user.ID {
				evs = append(evs, Event{Kind: EventRead, ThreadID: threadID, MessageID: u.MessageID, UserIDs: []int64{*u.SenderID, user.ID}, ActorID: user.ID})
			}
		}
		later, err = s.stage(ctx, tx, evs)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("mark read: %w", err)
	}
	s.publish(ctx, later)
	return n, nil
}

// threadToRead is threadFor for marking read (MarkReadUpTo) in its
// transaction tx: on PostgreSQL the same statement share-locks the
// thread's row, before the reader's read states, participant row and
// user row, in the order of every other change in a conversation (see
// the row locks above threadToWrite). Without it, marking read took
// those rows with no lock on the conversation, against that order:
//
//   - a removal from the box (RemoveFromBox, RemoveThreadFromBox,
//     DeleteForEveryone, the retention, a stop), which locks the thread
//     FOR UPDATE and then moves the counters by what it took out, saw
//     the read states as they were before the marking committed (when it
//     still recounted them, its subqueries kept their snapshot while they
//     waited for a row), or the marking counted a state the removal had
//     just taken out of the box: the counters lost or took away one more
//     than they should;
//   - a member leaving the team (holdTeamThreads, FOR NO KEY UPDATE),
//     who gives back their personal rows and then deletes their read
//     states, waited for the reader's read states while the reader
//     waited for that participant row: a deadlock.
//
// FOR SHARE, not FOR KEY SHARE, so that it also takes turns with a
// member leaving, a reply and a participant added (FOR NO KEY UPDATE),
// which change the same counters: the reply's one statement (see
// storeMessage) updates the users' rows before the participants', the
// other way round from marking read. Readers of one conversation, and a
// member joining (holdTeamThreads, FOR SHARE), do not wait for each
// other: a join updates the newcomer's participant rows and then (a
// medical team) their user row, and marking read takes them in that
// order too. MarkReadUpTo takes it once it found something to mark (a
// statement more then, which checks access again), so that opening a
// conversation with nothing unread writes no lock. (SQLite's writers
// take turns.)
func (s *Service) threadToRead(ctx context.Context, tx bun.Tx, userID, threadID int64) (*db.Thread, error) {
	if !s.DB.Postgres() {
		return s.threadFor(ctx, tx, userID, threadID)
	}
	th, _, err := s.loadThreadWithOrg(ctx, tx, s.DB.Text("messaging.threadToRead", func() string { return threadForQuery(s.DB) + " FOR SHARE OF t" }), userID, threadID)
	return th, err
}

// senderOrgs names the organisations of internal senders, loading the few
// that are not the thread's own once, and the teams messages were written
// on behalf of (a conversation has at most one); through holds the team
// each participant takes part through (withTeams), by user id.
type senderOrgs struct {
	s       *Service
	names   map[int64]string
	teams   map[int64]teamView
	through map[int64]*db.Team
}

// withTeams records the teams the participants ps take part through, by
// which an outsider's read receipts name a team instead of its members.
func (o *senderOrgs) withTeams(ps []db.Participant) *senderOrgs {
	for _, p := range ps {
		if p.Team != nil {
			if o.through == nil {
				o.through = map[int64]*db.Team{}
			}
			o.through[p.UserID] = p.Team
		}
	}
	return o
}

func (o *senderOrgs) team(ctx context.Context, id int64) (teamView, error) {
	if t, ok := o.teams[id]; ok {
		return t, nil
	}
	var t db.Team
	err := o.s.DB.NewSelect().Model(&t).Where("id = ?", id).Scan(ctx)
	if err != nil && !db.ErrNoRows(err) {
		return teamView{}, fmt.Errorf("load team: %w", err)
	}
	if o.teams == nil {
		o.teams = map[int64]teamView{}
	}
	o.teams[id] = teamView{Name: t.Name, ShowPerson: t.ShowPerson}
	return o.teams[id], nil
}

func (o senderOrgs) name(ctx context.Context, orgID int64) (string, error) {
	if n, ok := o.names[orgID]; ok {
		return n, nil
	}
	var org db.Organisation
	if err := o.s.DB.NewSelect().Model(&org).Where("id = ?", orgID).Scan(ctx); err != nil {
		return "", fmt.Errorf("load sender organisation: %w", err)
	}
	o.names[org.ID] = org.Name
	return org.Name, nil
}

// messageView is message m as readerID sees it, from what the caller
// loaded once for all: its opened body, attachments, every participant's
// read state of it, and the participants by user id.
func messageView(ctx context.Context, m *db.Message, body string, atts []AttachmentView, states []db.MessageState,
	users map[int64]*db.User, orgs *senderOrgs, readerID int64) (MessageView, error) {
	mv := MessageView{ID: m.ID, Body: body, AutoReply: m.IsAutoReply, CreatedAt: m.CreatedAt, Attachments: atts}
	if m.SenderID == nil {
		mv.SenderDeleted = true
	} else {
		mv.SenderID = *m.SenderID
		if u := users[*m.SenderID]; u != nil {
			mv.SenderName = NameFor(users[readerID], u)
			if u.Kind == db.KindInternal && u.OrgID != nil {
				name, err := orgs.name(ctx, *u.OrgID)
				if err != nil {
					return mv, err
				}
				mv.SenderOrg = name
			}
		}
	}
	if m.TeamID != nil {
		t, err := orgs.team(ctx, *m.TeamID)
		if err != nil {
			return mv, err
		}
		if t.Name != "" {
			// The team names the organisation; an outsider of a team that
			// hides its people sees the team only.
			mv.SenderOrg, mv.SenderTeam = "", t.Name
			if r := users[readerID]; r != nil && r.Kind != db.KindInternal && !t.ShowPerson {
				mv.SenderName, mv.SenderTeam = t.Name, ""
			}
		}
	}
	mv.Mine = mv.SenderID == readerID
	if m.SystemKind != "" {
		mv.System = m.SystemKind
		// Who caused the line: to an outsider, a member of a team that
		// hides its people is the team, as on the team's messages.
		if m.SenderID != nil && outsider(users[readerID]) {
			if t := orgs.through[*m.SenderID]; t != nil && !t.ShowPerson {
				mv.SenderName, mv.SenderOrg = t.Name, ""
			}
		}
		if m.SubjectUserID != nil {
			mv.SystemSubject = NameFor(users[readerID], users[*m.SubjectUserID])
		}
		return mv, nil
	}
	othersRead := false
	// To an outsider a team's members are the team, once: its receipt is
	// read when the first member read the message. Made at the first
	// such receipt: most views have none.
	var teamReceipt map[int64]int
	for _, st := range states {
		if st.UserID == readerID {
			mv.ReadAt = st.ReadAt.Time
			continue
		}
		if st.History {
			// Came with the history when they joined: not read by them.
			st.ReadAt = bun.NullTime{}
		}
		if !st.ReadAt.IsZero() {
			othersRead = true
		}
		if !mv.Mine {
			continue
		}
		if t := orgs.through[st.UserID]; t != nil && outsider(users[readerID]) {
			i, ok := teamReceipt[t.ID]
			if !ok {
				if teamReceipt == nil {
					teamReceipt = map[int64]int{}
				}
				teamReceipt[t.ID] = len(mv.Receipts)
				mv.Receipts = append(mv.Receipts, Receipt{Name: t.Name, ReadAt: st.ReadAt.Time})
				continue
			}
			if r := &mv.Receipts[i]; !st.ReadAt.IsZero() && (r.ReadAt.IsZero() || st.ReadAt.Time.Before(r.ReadAt)) {
				r.ReadAt = st.ReadAt.Time
			}
			continue
		}
		mv.Receipts = append(mv.Receipts, Receipt{Name: NameFor(users[readerID], users[st.UserID]), ReadAt: st.ReadAt.Time})
	}
	mv.CanDeleteForEveryone = mv.Mine && !othersRead && !m.IsAutoReply
	return mv, nil
}

// withFormer adds to users the senders and subjects of msgs who no longer
// take part (a member who left the team), in one query, so that their
// messages keep their names.
func (s *Service) withFormer(ctx context.Context, users map[int64]*db.User, msgs []db.Message) (map[int64]*db.User, error) {
	out, err := s.withFormerAll(ctx, []map[int64]*db.User{users}, [][]db.Message{msgs})
	if err != nil {
		return nil, err
	}
	return out[0], nil
}

// withFormerAll is withFormer for several threads at once (a batch of the
// export): users[i] are the participants of the thread of msgs[i]. The
// missing people of all of them are loaded in one query; a thread's map is
// copied only when it gains someone.
func (s *Service) withFormerAll(ctx context.Context, users []map[int64]*db.User, msgs [][]db.Message) ([]map[int64]*db.User, error) {
	var missing []int64
	for i := range users {
		for _, m := range msgs[i] {
			for _, id := range []*int64{m.SenderID, m.SubjectUserID} {
				if id != nil && users[i][*id] == nil {
					missing = append(missing, *id)
				}
			}
		}
	}
	if len(missing) == 0 {
		return users, nil
	}
	var former []db.User
	if err := s.DB.NewSelect().Model(&former).Where("id IN (?)", bun.In(missing)).Scan(ctx); err != nil {
		return nil, fmt.Errorf("load former participants: %w", err)
	}
	byID := make(map[int64]*db.User, len(former))
	for i := range former {
		byID[former[i].ID] = &former[i]
	}
	out := make([]map[int64]*db.User, len(users))
	for i, us := range users {
		out[i] = us
		copied := false
		for _, m := range msgs[i] {
			for _, id := range []*int64{m.SenderID, m.SubjectUserID} {
				if id == nil || out[i][*id] != nil || byID[*id] == nil {
					continue
				}
				if !copied {
					out[i], copied = make(map[int64]*db.User, len(us)+1), true
					maps.Copy(out[i], us)
				}
				out[i][*id] = byID[*id]
			}
		}
	}
	return out, nil
}

func joinNames(names []string) string { return strings.Join(names, nameSep) }

// nameSep separates the names of a conversation's participants.
const nameSep = ", "

// lastSeen is when the user was last active, or last logged in.
func lastSeen(u *db.User) time.Time {
	if u.LastSeenAt.After(u.LastLoginAt.Time) {
		return u.LastSeenAt.Time
	}
	return u.LastLoginAt.Time
}

// errNotFound is the one answer for objects a user may not see.
var errNotFound = apperr.New(apperr.NotFound, "error.not_found")
