package messaging

import (
	"context"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/uptrace/bun"

	"dialoog/apperr"
	"dialoog/auth"
	"dialoog/db"
	"dialoog/identity"
)

// Case files (dossiers). A case groups an organisation's conversations
// about one external person under the organisation's reference (a
// personnel number) and has a status, open or closed. Only internal users
// of the case's organisation create, see and change cases (caseFor); to
// anyone else a case does not exist, and an external person is never told
// which case a conversation is in (the reference is internal). A closed
// case's conversations are read-only for everyone: threadWithOrg loads
// the case's status with the thread, and messageToDelete with the message,
// so that reply, "add participant" and "delete for everyone" refuse
// without another statement (on PostgreSQL under a share lock on the
// case's row, so that each takes turns with a close).
// A medical conversation in a case is listed on the case page, to a
// colleague the medical rule refuses, as existence only (RedactedSummary).

// MaxCaseReference bounds a case's reference, in characters.
const MaxCaseReference = 50

// maxCaseThreads bounds what a case page lists of each kind.
const maxCaseThreads = 500

// errCaseClosed is the refusal of a change in a closed case's conversation.
var errCaseClosed = apperr.New(apperr.Conflict, "case.closed_readonly")

// CaseInfo is a case as its organisation's internal users see it.
type CaseInfo struct {
	ID          int64
	Reference   string
	Closed      bool
	SubjectID   int64
	SubjectName string // empty once the person stopped with Dialoog
	CreatedAt   time.Time
	ClosedAt    time.Time
}

// CaseThread is a conversation on a case page. Redacted: a medical
// conversation the viewer may not read, of which only the existence and
// the last activity are shown. CanOpen: the viewer takes part (and may
// read it), so it links to the conversation.
type CaseThread struct {
	ID            int64
	Subject       string
	LastMessageAt time.Time
	Medical       bool
	Redacted      bool
	CanOpen       bool
}

// CaseAttachment is a file in a case's conversations; CanOpen: the viewer
// may download it (it is in their box), so it links to the file.
type CaseAttachment struct {
	AttachmentView
	ThreadID  int64
	CreatedAt time.Time
	CanOpen   bool
}

// CaseView is the case page.
type CaseView struct {
	CaseInfo
	Threads      []CaseThread
	Participants []string
	Attachments  []CaseAttachment
}

// CaseSubject is an external participant a case about a conversation can
// be created for.
type CaseSubject struct {
	UserID int64
	Name   string
}

// ThreadCase is what a conversation page shows of cases, to the internal
// users of its organisation: the case it is in, the open cases it could be
// added to (about one of its external participants) and those participants.
type ThreadCase struct {
	Current  *CaseInfo
	Choices  []CaseInfo
	Subjects []CaseSubject
}

// caseRow is a case with its subject's names.
type caseRow struct {
	db.Case      `bun:",extend"`
	SFirstName   string
	SInitials    string
	SNamePrefix  string
	SLastName    string
	SEmail       string
	SubjectKnown bool
}

func (r *caseRow) info() CaseInfo {
	ci := CaseInfo{ID: r.ID, Reference: r.Reference, Closed: r.Status == db.CaseClosed, CreatedAt: r.CreatedAt, ClosedAt: r.ClosedAt.Time}
	if r.SubjectID != nil {
		ci.SubjectID = *r.SubjectID
	}
	if r.SubjectKnown {
		ci.SubjectName = DisplayName(&db.User{FirstName: r.SFirstName, Initials: r.SInitials, NamePrefix: r.SNamePrefix, LastName: r.SLastName, Email: r.SEmail})
	}
	return ci
}

// caseQuery selects cases (aliased c) with their subjects' names.
func caseQuery(idb bun.IDB) *bun.SelectQuery {
	return idb.NewSelect().TableExpr("cases AS c").
		ColumnExpr("c.*").
		ColumnExpr("COALESCE(su.first_name, '') AS s_first_name, COALESCE(su.initials, '') AS s_initials").
		ColumnExpr("COALESCE(su.name_prefix, '') AS s_name_prefix, COALESCE(su.last_name, '') AS s_last_name, COALESCE(su.email, '') AS s_email").
		ColumnExpr("su.id IS NOT NULL AS subject_known").
		Join("LEFT JOIN users AS su ON su.id = c.subject_id")
}

// caseOrg is the organisation whose cases the user may see and change: an
// internal user's own; 0 for anyone else.
func caseOrg(user *db.User) int64 {
	if user == nil || user.Kind != db.KindInternal || user.OrgID == nil {
		return 0
	}
	return *user.OrgID
}

// caseFor loads a case the user may see: NotFound for anyone but the
// internal users of its organisation.
func (s *Service) caseFor(ctx context.Context, idb bun.IDB, user *db.User, caseID int64) (*caseRow, error) {
	return loadCase(ctx, idb, user, caseID, false)
}

// caseToJoin is caseFor for the case a conversation goes into, in the
// transaction tx that puts it there: on PostgreSQL it takes a share lock
// on the case's row, so that the change and closing the case take turns:
// a conversation put in a case as it closes is in it before the close
// goes on (which then ends its signing requests), or the change waits for
// the close and is refused. One statement as caseFor. The lock is already
// held (holdCasesOfMove), before the conversation's.
func (s *Service) caseToJoin(ctx context.Context, tx bun.Tx, user *db.User, caseID int64) (*caseRow, error) {
	return loadCase(ctx, tx, user, caseID, s.DB.Postgres())
}

func loadCase(ctx context.Context, idb bun.IDB, user *db.User, caseID int64, share bool) (*caseRow, error) {
	org := caseOrg(user)
	if org == 0 {
		return nil, errNotFound
	}
	var r caseRow
	q := caseQuery(idb).Where("c.id = ? AND c.org_id = ?", caseID, org)
	if share {
		q = q.For("SHARE OF c")
	}
	err := q.Scan(ctx, &r)
	if db.ErrNoRows(err) {
		return nil, errNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("load case %d: %w", caseID, err)
	}
	return &r, nil
}

// CaseByID is a case for its header in the inbox; NotFound for anyone but
// the internal users of its organisation.
func (s *Service) CaseByID(ctx context.Context, who *identity.User, caseID int64) (*CaseInfo, error) {
	user := db.UserOf(who)
	r, err := s.caseFor(ctx, s.DB, user, caseID)
	if err != nil {
		return nil, err
	}
	ci := r.info()
	return &ci, nil
}

// holdCasesOfMove takes, on PostgreSQL, share locks on the rows of the
// case a conversation goes into and of the case it is in, in the order of
// their ids, before the conversation's lock (caseThread): a case's row
// comes before its conversations' (see the lock order above
// threadToWrite). Before, the case it goes into was locked after the
// conversation, and the deletion of the account of the person the case is
// about, which locks the person's cases and then their conversations,
// could wait for the move while the move waited for it. The case it is in
// is read without a lock; a move of the conversation between this and
// caseThread, which locks the case the conversation is in then, is the
// one order this does not hold. (SQLite's writers take turns.)
func (s *Service) holdCasesOfMove(ctx context.Context, tx bun.Tx, threadID, caseID int64) error {
	if !s.DB.Postgres() {
		return nil
	}
	var ids []int64
	if err := tx.NewSelect().Model((*db.Case)(nil)).Column("id").
		Where("id = ? OR id = (SELECT t.case_id FROM threads AS t WHERE t.id = ?)", caseID, threadID).
		Order("id").For("SHARE").Scan(ctx, &ids); err != nil {
		return fmt.Errorf("hold cases: %w", err)
	}
	return nil
}

// caseThread loads a conversation whose case an internal user of its
// organisation may change: NotFound for anyone else, refused when its
// current case is closed. It loads it as a reply does (threadToWrite): on
// PostgreSQL under a share lock on its current case's row, then the
// conversation's row lock, so that the change and closing that case take
// turns: a conversation taken out of a case as it closes is out before
// the close goes on (which then does not end its signing requests), or
// the change waits for the close and is refused. One statement as before.
func (s *Service) caseThread(ctx context.Context, tx bun.Tx, user *db.User, threadID int64) (*db.Thread, error) {
	th, _, err := s.threadToWrite(ctx, tx, user.ID, threadID)
	if err != nil {
		return nil, err
	}
	if caseOrg(user) != th.OrgID {
		return nil, errNotFound
	}
	if th.CaseClosed {
		return nil, errCaseClosed
	}
	return th, nil
}

// externalParticipant reports whether the user is an external participant
// of the thread.
func externalParticipant(ctx context.Context, idb bun.IDB, threadID, userID int64) (bool, error) {
	ok, err := idb.NewSelect().TableExpr("participants AS p").Join("JOIN users AS u ON u.id = p.user_id").
		Where("p.thread_id = ? AND p.user_id = ? AND u.kind <> ?", threadID, userID, db.KindInternal).Exists(ctx)
	if err != nil {
		return false, fmt.Errorf("check case subject: %w", err)
	}
	return ok, nil
}

// CreateCaseForThread creates a case about one of the conversation's
// external participants and puts the conversation in it.
func (s *Service) CreateCaseForThread(ctx context.Context, who *identity.User, threadID, subjectID int64, reference string) (int64, error) {
	user := db.UserOf(who)
	reference = CleanLine(reference)
	var fields apperr.Fields
	switch {
	case reference == "":
		fields = append(fields, apperr.Field("reference", "case.reference_required"))
	case utf8.RuneCountInString(reference) > MaxCaseReference:
		fields = append(fields, apperr.Field("reference", "case.reference_too_long"))
	}
	if subjectID <= 0 {
		fields = append(fields, apperr.Field("subject", "case.subject_required"))
	}
	if len(fields) > 0 {
		return 0, fields
	}
	var caseID int64
	err := s.DB.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		th, err := s.caseThread(ctx, tx, user, threadID)
		if err != nil {
			return err
		}
		ok, err := externalParticipant(ctx, tx, th.ID, subjectID)
		if err != nil {
			return err
		}
		if !ok {
			return apperr.Field("subject", "case.subject_not_participant")
		}
		exists, err := tx.NewSelect().Model((*db.Case)(nil)).Where("org_id = ? AND reference = ?", th.OrgID, reference).Exists(ctx)
		if err != nil {
			return fmt.Errorf("check reference: %w", err)
		}
		if exists {
			return apperr.Field("reference", "case.reference_exists")
		}
		now := s.Now().UTC()
		c := &db.Case{OrgID: th.OrgID, SubjectID: &subjectID, Reference: reference, Status: db.CaseOpen, CreatedBy: &user.ID, CreatedAt: now}
		if _, err := tx.NewInsert().Model(c).Exec(ctx); err != nil {
			return fmt.Errorf("store case: %w", err)
		}
		caseID = c.ID
		if err := auth.Audit(ctx, tx, auth.AuditEntry{UserID: &subjectID, ActorID: &user.ID, Kind: "case.created",
			Detail: fmt.Sprintf("case %d", c.ID), Now: now, OrgID: &th.OrgID}); err != nil {
			return err
		}
		return s.setThreadCase(ctx, tx, user, th, &c.ID, now)
	})
	if err = onConflict(err, apperr.Field("reference", "case.reference_exists")); err != nil {
		return 0, fmt.Errorf("create case: %w", err)
	}
	return caseID, nil
}

// AddThreadToCase puts a conversation in an open case of its organisation
// about one of its external participants (moving it from another open
// case).
func (s *Service) AddThreadToCase(ctx context.Context, who *identity.User, threadID, caseID int64) error {
	user := db.UserOf(who)
	err := s.DB.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		// The case it goes into before the conversation (caseToJoin),
		// and with the one it is in, in the order of their ids.
		if err := s.holdCasesOfMove(ctx, tx, threadID, caseID); err != nil {
			return err
		}
		th, err := s.caseThread(ctx, tx, user, threadID)
		if err != nil {
			return err
		}
		c, err := s.caseToJoin(ctx, tx, user, caseID)
		if err != nil || c.OrgID != th.OrgID {
			return apperr.Field("case", "case.not_found")
		}
		if c.Status == db.CaseClosed {
			return apperr.Field("case", "case.closed")
		}
		ok := false
		if c.SubjectID != nil {
			if ok, err = externalParticipant(ctx, tx, th.ID, *c.SubjectID); err != nil {
				return err
			}
		}
		if !ok {
			return apperr.Field("case", "case.subject_not_participant")
		}
		return s.setThreadCase(ctx, tx, user, th, &c.ID, s.Now().UTC())
	})
	if err != nil {
		return fmt.Errorf("add to case: %w", err)
	}
	return nil
}

// RemoveThreadFromCase takes a conversation out of its (open) case.
func (s *Service) RemoveThreadFromCase(ctx context.Context, who *identity.User, threadID int64) error {
	user := db.UserOf(who)
	err := s.DB.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		th, err := s.caseThread(ctx, tx, user, threadID)
		if err != nil {
			return err
		}
		if th.CaseID == nil {
			return nil
		}
		return s.setThreadCase(ctx, tx, user, th, nil, s.Now().UTC())
	})
	if err != nil {
		return fmt.Errorf("remove from case: %w", err)
	}
	return nil
}

// setThreadCase stores a conversation's case, with an audit row.
func (s *Service) setThreadCase(ctx context.Context, tx bun.Tx, user *db.User, th *db.Thread, caseID *int64, now time.Time) error {
	if _, err := tx.NewUpdate().Model((*db.Thread)(nil)).Set("case_id = ?", caseID).Where("id = ?", th.ID).Exec(ctx); err != nil {
		return fmt.Errorf("store case of thread %d: %w", th.ID, err)
	}
	kind, detail := "case.thread_removed", fmt.Sprintf("thread %d", th.ID)
	if caseID != nil {
		kind, detail = "case.thread_added", fmt.Sprintf("thread %d, case %d", th.ID, *caseID)
	}
	if th.CaseID != nil {
		detail += fmt.Sprintf(", from case %d", *th.CaseID)
	}
	return auth.Audit(ctx, tx, auth.AuditEntry{ActorID: &user.ID, UserID: &user.ID, Kind: kind, Detail: detail, Now: now, OrgID: &th.OrgID})
}

// SetCaseStatus sets a case's status as the case's form sends it,
// CaseOpen or CaseClosed (see SetCaseClosed); apperr Malformed for any
// other value, which changes nothing.
func (s *Service) SetCaseStatus(ctx context.Context, who *identity.User, caseID int64, status string) error {
	if status != CaseOpen && status != CaseClosed {
		return apperr.New(apperr.Malformed, "case.status_invalid")
	}
	return s.SetCaseClosed(ctx, who, caseID, status == CaseClosed)
}

// SetCaseClosed closes a case (its conversations become read-only for
// everyone) or reopens it, with an audit row; the participants' open pages
// of its conversations hear of it (EventCaseClosed, EventCaseReopened).
func (s *Service) SetCaseClosed(ctx context.Context, who *identity.User, caseID int64, closed bool) error {
	user := db.UserOf(who)
	var later []Event
	err := s.DB.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		later = nil
		c, err := s.caseFor(ctx, tx, user, caseID)
		if err != nil {
			return err
		}
		if (c.Status == db.CaseClosed) == closed {
			return nil
		}
		now := s.Now().UTC()
		status, closedAt, kind := db.CaseOpen, bun.NullTime{}, "case.reopened"
		if closed {
			status, closedAt, kind = db.CaseClosed, bun.NullTime{Time: now}, "case.closed"
		}
		if _, err := tx.NewUpdate().Model((*db.Case)(nil)).Set("status = ?", status).Set("closed_at = ?", closedAt).
			Where("id = ?", c.ID).Exec(ctx); err != nil {
			return fmt.Errorf("store case status: %w", err)
		}
		if err := auth.Audit(ctx, tx, auth.AuditEntry{UserID: c.SubjectID, ActorID: &user.ID, Kind: kind,
			Detail: fmt.Sprintf("case %d", c.ID), Now: now, OrgID: &c.OrgID}); err != nil {
			return err
		}
		if closed && s.CaseClosing != nil {
			if later, err = s.CaseClosing(ctx, tx, c.ID, user.ID); err != nil {
				return err
			}
		}
		evs, err := caseStatusEvents(ctx, tx, c.ID, user.ID, closed)
		if err != nil {
			return err
		}
		staged, err := s.stage(ctx, tx, evs)
		later = append(later, staged...)
		return err
	})
	if err != nil {
		return fmt.Errorf("set case status: %w", err)
	}
	s.publish(ctx, later)
	return nil
}

// caseStatusEvents are the live events of a case closed or reopened: one
// per conversation of the case, to its participants.
func caseStatusEvents(ctx context.Context, tx bun.Tx, caseID, actorID int64, closed bool) ([]Event, error) {
	var rows []struct {
		ThreadID int64
		UserID   int64
	}
	if err := tx.NewSelect().TableExpr("participants AS p").Column("p.thread_id", "p.user_id").
		Join("JOIN threads AS t ON t.id = p.thread_id").Where("t.case_id = ?", caseID).
		OrderExpr("p.thread_id, p.user_id").Scan(ctx, &rows); err != nil {
		return nil, fmt.Errorf("participants of case %d: %w", caseID, err)
	}
	kind := EventCaseReopened
	if closed {
		kind = EventCaseClosed
	}
	var evs []Event
	for _, r := range rows {
		if len(evs) == 0 || evs[len(evs)-1].ThreadID != r.ThreadID {
			evs = append(evs, Event{Kind: kind, ThreadID: r.ThreadID, ActorID: actorID})
		}
		evs[len(evs)-1].UserIDs = append(evs[len(evs)-1].UserIDs, r.UserID)
	}
	return evs, nil
}

// ThreadCase is what the conversation page shows of cases; nil for anyone
// but the internal users of the conversation's organisation (who must take
// part and may read it, like the page).
func (s *Service) ThreadCase(ctx context.Context, who *identity.User, threadID int64) (*ThreadCase, error) {
	user := db.UserOf(who)
	th, err := s.threadFor(ctx, s.DB, user.ID, threadID)
	if err != nil {
		return nil, err
	}
	if caseOrg(user) != th.OrgID {
		return nil, nil
	}
	out := &ThreadCase{}
	var rows []caseRow
	err = caseQuery(s.DB).Where("c.org_id = ?", th.OrgID).
		Where("(c.id = ? OR (c.status = ? AND c.subject_id IN (SELECT p.user_id FROM participants AS p JOIN users AS pu ON pu.id = p.user_id WHERE p.thread_id = ? AND pu.kind <> ?)))",
			th.CaseID, db.CaseOpen, th.ID, db.KindInternal).
		OrderExpr("c.reference").Limit(maxCaseThreads).Scan(ctx, &rows)
	if err != nil {
		return nil, fmt.Errorf("cases of thread %d: %w", th.ID, err)
	}
	for i := range rows {
		ci := rows[i].info()
		if th.CaseID != nil && *th.CaseID == ci.ID {
			out.Current = &ci
			continue
		}
		out.Choices = append(out.Choices, ci)
	}
	var us []db.User
	if err := s.DB.NewSelect().Model(&us).
		Where("kind <> ? AND id IN (SELECT p.user_id FROM participants AS p WHERE p.thread_id = ?)", db.KindInternal, th.ID).
		Order("id").Scan(ctx); err != nil {
		return nil, fmt.Errorf("external participants of thread %d: %w", th.ID, err)
	}
	for i := range us {
		out.Subjects = append(out.Subjects, CaseSubject{UserID: us[i].ID, Name: NameFor(user, &us[i])})
	}
	return out, nil
}

// Case is the case page: its conversations (a medical one the viewer may
// not read as existence only), the people in the conversations the viewer
// may read, and their files, linked where the viewer may download them.
func (s *Service) Case(ctx context.Context, who *identity.User, caseID int64) (*CaseView, error) {
	user := db.UserOf(who)
	c, err := s.caseFor(ctx, s.DB, user, caseID)
	if err != nil {
		return nil, err
	}
	v := &CaseView{CaseInfo: c.info()}
	var threads []struct {
		ID            int64
		Subject       string
		LastMessageAt time.Time
		Medical       bool
		MayRead       bool
		Mine          bool
	}
	err = s.DB.NewRaw(caseThreadsQuery, caseThreadsArgs(user.ID, c.ID)...).Scan(ctx, &threads)
	if err != nil {
		return nil, fmt.Errorf("conversations of case %d: %w", c.ID, err)
	}
	for _, t := range threads {
		if !t.MayRead {
			r := RedactedSummary(t.ID, t.LastMessageAt)
			v.Threads = append(v.Threads, CaseThread{ID: r.ID, LastMessageAt: r.LastMessageAt, Medical: r.Medical, Redacted: true})
			continue
		}
		v.Threads = append(v.Threads, CaseThread{ID: t.ID, Subject: CleanLine(t.Subject), LastMessageAt: t.LastMessageAt, Medical: t.Medical, CanOpen: t.Mine})
	}
	var people []db.User
	err = s.casePeopleSelect(&people, user.ID, c.ID).Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("participants of case %d: %w", c.ID, err)
	}
	for i := range people {
		v.Participants = append(v.Participants, NameFor(user, &people[i]))
	}
	var files []struct {
		db.Attachment `bun:",extend"`
		ThreadID      int64
		Mine          bool
	}
	err = s.DB.NewRaw(caseFilesQuery, caseFilesArgs(user.ID, c.ID)...).Scan(ctx, &files)
	if err != nil {
		return nil, fmt.Errorf("files of case %d: %w", c.ID, err)
	}
	for i := range files {
		av, err := s.attachmentView(&files[i].Attachment)
		if err != nil {
			return nil, err
		}
		v.Attachments = append(v.Attachments, CaseAttachment{AttachmentView: av, ThreadID: files[i].ThreadID, CreatedAt: files[i].CreatedAt, CanOpen: files[i].Mine})
	}
	return v, nil
}

// caseThreadsQuery lists a case's conversations for the case page, newest
// first (threads_case_idx), with whether the viewer may read each and has
// it in their box; arguments from caseThreadsArgs.
var caseThreadsQuery = `SELECT t.id, t.subject, t.last_message_at, t.medical, ` + medicalRule("t", "?") + ` AS may_read,
  EXISTS (SELECT 1 FROM participants AS p WHERE p.thread_id = t.id AND p.user_id = ? AND p.box_count > 0) AS mine
FROM threads AS t WHERE t.case_id = ? ORDER BY t.last_message_at DESC, t.id DESC LIMIT ?`

func caseThreadsArgs(userID, caseID int64) []any {
	return append(medicalArgs(userID), userID, caseID, maxCaseThreads)
}

// casePeopleSelect selects the people in the conversations of a case the
// viewer may read, by name.
func (s *Service) casePeopleSelect(dest *[]db.User, userID, caseID int64) *bun.SelectQuery {
	return s.DB.NewSelect().Model(dest).
		Where(`id IN (SELECT p.user_id FROM participants AS p JOIN threads AS t ON t.id = p.thread_id WHERE t.case_id = ? AND `+medicalRule("t", "?")+`)`,
			append([]any{caseID}, medicalArgs(userID)...)...).
		Order("last_name", "first_name", "id").Limit(maxCaseThreads)
}

// caseFilesQuery lists the files of the conversations of a case the
// viewer may read, oldest first; arguments from caseFilesArgs.
var caseFilesQuery = `SELECT a.*, m.thread_id,
  EXISTS (SELECT 1 FROM message_states AS ms WHERE ms.message_id = a.message_id AND ms.user_id = ? AND ms.removed_at IS NULL) AS mine
FROM attachments AS a JOIN messages AS m ON m.id = a.message_id JOIN threads AS t ON t.id = m.thread_id
WHERE t.case_id = ? AND ` + medicalRule("t", "?") + ` ORDER BY a.created_at, a.id LIMIT ?`

func caseFilesArgs(userID, caseID int64) []any {
	return append(append([]any{userID, caseID}, medicalArgs(userID)...), maxCaseThreads)
}

// CaseBox lists the conversations of a case in the user's box, newest
// first: one statement, like the inbox. The statement itself checks that
// the user is an internal user of the case's organisation, so that nobody
// else can filter by a case.
func (s *Service) CaseBox(ctx context.Context, who *identity.User, caseID int64, page int) (*InboxPage, error) {
	return s.CaseBoxAfter(ctx, who, caseID, page, "", "")
}

// CaseBoxAfter is CaseBox from the conversation after the reference after
// (see InboxAfter); search searches the case's conversations only, as
// Inbox searches the whole box.
func (s *Service) CaseBoxAfter(ctx context.Context, who *identity.User, caseID int64, page int, after, search string) (*InboxPage, error) {
	user := db.UserOf(who)
	if page < 1 {
		page = 1
	}
	search = cleanQuery(search)
	var rows []inboxRow
	var err error
	if search != "" {
		// A search typed in the case's list stays in the case (pages
		// counted by their number, as every search's).
		rows, _, err = s.searchRows(ctx, s.DB, user, searchBox{kase: caseID}, search, PageSize+1, (page-1)*PageSize)
	} else {
		query := s.DB.Text("messaging.casePage", func() string { return s.pageWith(casePageQuery) })
		args := s.caseArgs(user.ID, caseID, PageSize+1, (page-1)*PageSize)
		if cur, ok := parseCursor(after); ok {
			query = s.DB.Text("messaging.caseAfter", func() string { return s.pageWith(afterQuery(casePageQuery, "t.last_message_at", "t.id")) })
			args = s.caseArgs(user.ID, caseID, cur.args(PageSize+1)...)
		}
		rows, err = s.pageRows(ctx, query, args...)
	}
	if err != nil {
		return nil, fmt.Errorf("case box: %w", err)
	}
	out, err := s.inboxPage(ctx, user, rows, page, search)
	if err != nil {
		return nil, err
	}
	out.CaseID = caseID
	return out, nil
}

// casePageQuery is a page of one case's conversations in a user's box: a
// range scan of threads_case_idx (a case has few conversations), each
// joined to the user's participant row, under the medical rule, for an
// internal user of the case's organisation only.
var casePageQuery = `SELECT t.id, t.subject, o.name AS org_name, t.last_message_at, p.unread_count AS unread, t.last_message_at AS last_activity_at, t.assigned_to
FROM threads AS t JOIN participants AS p ON p.thread_id = t.id AND p.user_id = ? JOIN organisations AS o ON o.id = t.org_id
WHERE t.case_id = ? AND p.box_count > 0 AND ` + medicalRule("t", "?") + `
  AND ` + caseOfOrgRule + `
ORDER BY t.last_message_at DESC, t.id DESC LIMIT ? OFFSET ?`

// caseOfOrgRule is the condition that the conversation t belongs to the
// organisation of the case (the first argument) and the user (the second)
// is an internal user of it.
const caseOfOrgRule = `t.org_id IN (SELECT cc.org_id FROM cases AS cc JOIN users AS cu ON cu.org_id = cc.org_id WHERE cc.id = ? AND cu.id = ? AND cu.kind = '` + db.KindInternal + `')`

// caseArgs are the arguments of pageWith(casePageQuery).
func (s *Service) caseArgs(userID, caseID int64, page ...any) []any {
	args := append(s.pageArgs(userID), userID, caseID)
	args = append(args, medicalArgs(userID)...)
	return append(append(args, caseID, userID), page...)
}

// CasesPageSize is how many cases a page of the case list shows.
const CasesPageSize = 25

// Statuses of a case (CaseListInput.Status).
const (
	CaseOpen   = db.CaseOpen
	CaseClosed = db.CaseClosed
)

// CaseListInput asks for a page of the organisation's cases: open ones
// (Status "" or CaseOpen) or closed ones, optionally matching Query (a
// reference, exactly, or the name or mail address of the person a case is
// about), after the reference After (the previous page's last).
type CaseListInput struct {
	Status string
	Query  string
	After  string
}

// CaseList is a page of the case list, in the order of the references;
// Next is the reference to ask the next page after ("" on the last page).
type CaseList struct {
	Cases  []CaseInfo
	Status string
	Query  string
	Next   string
}

// Cases is the list of the cases of the user's organisation, for its
// internal users only (NotFound for anyone else): CasesPageSize a page,
// open or closed, in the order of the references, paged by the last
// reference (a range of cases_org_status_ref_idx). A search matches a
// reference exactly (the unique index of the references) or the person a
// case is about by name or mail address (the search index of people, then
// cases_subject_idx); a query shorter than MinSearchIndexed matches
// references only. Nothing of another organisation is ever listed.
func (s *Service) Cases(ctx context.Context, who *identity.User, in CaseListInput) (*CaseList, error) {
	user := db.UserOf(who)
	org := caseOrg(user)
	if org == 0 {
		return nil, errNotFound
	}
	status := db.CaseOpen
	if in.Status == db.CaseClosed {
		status = db.CaseClosed
	}
	query := CleanLine(in.Query)
	if utf8.RuneCountInString(query) > 100 {
		query = string([]rune(query)[:100])
	}
	out := &CaseList{Status: status, Query: query}
	q := s.caseListQuery(org, status, query, in.After)
	var rows []caseRow
	if err := q.Scan(ctx, &rows); err != nil {
		return nil, fmt.Errorf("list cases: %w", err)
	}
	if len(rows) > CasesPageSize {
		rows = rows[:CasesPageSize]
		out.Next = rows[len(rows)-1].Reference
	}
	for i := range rows {
		out.Cases = append(out.Cases, rows[i].info())
	}
	return out, nil
}

// caseListQuery is one page of the case list (see Cases).
func (s *Service) caseListQuery(org int64, status, query, after string) *bun.SelectQuery {
	q := caseQuery(s.DB).Where("c.org_id = ? AND c.status = ?", org, status)
	if after != "" {
		q = q.Where("c.reference > ?", after)
	}
	if query != "" {
		if utf8.RuneCountInString(query) < MinSearchIndexed {
			q = q.Where("c.reference = ?", query)
		} else {
			// One list of ids, so that each half uses its own index
			// (an OR would walk every case of the organisation).
			people, args := s.peopleMatching(query, true)
			q = q.Where("c.id IN (SELECT cr.id FROM cases AS cr WHERE cr.org_id = ? AND cr.reference = ?"+
				" UNION SELECT cs.id FROM cases AS cs WHERE cs.org_id = ? AND cs.subject_id IN ("+people+"))",
				append([]any{org, query, org}, args...)...)
		}
	}
	return q.OrderExpr("c.reference").Limit(CasesPageSize + 1)
}
