package messaging

import (
	"context"
	"fmt"
	"time"

	"dialoog/db"
	"dialoog/identity"
)

// The live layer loads what one event means for all its recipients on an
// instance at once: the message once (one row, opened once), and the
// thread's participants once, with every recipient's access and unread
// count in the same rows. Nothing depends on the
// length of the conversation.

// LiveReader is one recipient of a live update, with what their pages
// show of it.
type LiveReader struct {
	UserID   int64
	Name     string
	Language string
	Internal bool
	// CanResend: the reader may send an invitee a new link (ThreadView).
	CanResend bool
	Unread    int           // unread messages in all threads (the header)
	Thread    ThreadSummary // the inbox line of the thread
	// Message is the event's message as this reader sees it; nil when it is
	// not (or no longer) in their box.
	Message *MessageView
	// Participants is the conversation's participant list as this reader
	// sees it (as on the page, Thread): someone who signed up or was added
	// since the page was loaded shows at once.
	Participants []ParticipantView
	// Typist is who is typing (LiveTyping) as this reader sees them: to an
	// outsider, a member of a team that hides its people is the team.
	Typist string
}

// LiveUpdate returns, for the users among userIDs who take part in the
// thread and may read it (the medical rule), what a change to message
// messageID (0: none) of threadID shows them. Anyone else is left out.
func (s *Service) LiveUpdate(ctx context.Context, threadID, messageID int64, userIDs []int64) ([]LiveReader, error) {
	if len(userIDs) == 0 {
		return nil, nil
	}
	var th struct {
		Subject       string
		OrgID         int64
		OrgName       string
		LastMessageAt time.Time
		AssignedTo    *int64
		CaseSubjectID int64 // 0: no case, or one without a subject
	}
	err := s.DB.NewSelect().TableExpr("threads AS t").
		ColumnExpr("t.subject, t.org_id, o.name AS org_name, t.last_message_at, t.assigned_to").
		ColumnExpr("COALESCE((SELECT c.subject_id FROM cases AS c WHERE c.id = t.case_id), 0) AS case_subject_id").
		Join("JOIN organisations AS o ON o.id = t.org_id").Where("t.id = ?", threadID).Scan(ctx, &th)
	if db.ErrNoRows(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("live thread %d: %w", threadID, err)
	}
	ps, users, err := s.participants(ctx, s.DB, threadID)
	if err != nil {
		return nil, err
	}
	readers := mayReadAmong(ps, users, userIDs)
	if len(readers) == 0 {
		return nil, nil
	}
	msg, err := s.liveMessage(ctx, threadID, messageID)
	if err != nil {
		return nil, err
	}
	orgs := (&senderOrgs{s: s, names: map[int64]string{th.OrgID: th.OrgName}}).withTeams(ps)
	out := make([]LiveReader, 0, len(readers))
	for _, p := range readers {
		u := users[p.UserID]
		from := otherNames(u, ps, users)
		r := LiveReader{UserID: u.ID, Name: DisplayName(u), Language: u.Language, Internal: u.Kind == db.KindInternal,
			CanResend: mayInvite(u, th.OrgID), Unread: u.UnreadTotal,
			Thread: ThreadSummary{ID: threadID, Subject: CleanLine(th.Subject), OrgName: th.OrgName, LastMessageAt: th.LastMessageAt,
				Unread: p.UnreadCount, From: joinNames(from)},
			Participants: participantViews(u, ps, users)}
		if r.CanResend {
			markRemovable(u.ID, th.CaseSubjectID, ps, users, r.Participants)
		}
		if th.AssignedTo != nil && !outsider(u) && users[*th.AssignedTo] != nil {
			r.Thread.AssignedTo = DisplayName(users[*th.AssignedTo])
		}
		if msg != nil && msg.inBox(u.ID) {
			mv, err := messageView(ctx, &msg.m, msg.body, msg.atts, msg.states, users, orgs, u.ID)
			if err != nil {
				return nil, err
			}
			r.Message = &mv
		}
		out = append(out, r)
	}
	return out, nil
}

// liveMsg is one message loaded for a live update.
type liveMsg struct {
	m      db.Message
	body   string
	atts   []AttachmentView
	states []db.MessageState
}

func (l *liveMsg) inBox(userID int64) bool {
	for _, st := range l.states {
		if st.UserID == userID {
			return st.RemovedAt.IsZero()
		}
	}
	return false
}

// liveMessage loads and opens message id of the thread with its read states
// and attachments; nil when it is gone.
func (s *Service) liveMessage(ctx context.Context, threadID, id int64) (*liveMsg, error) {
	if id == 0 {
		return nil, nil
	}
	var l liveMsg
	err := s.DB.NewSelect().Model(&l.m).Where("id = ? AND thread_id = ?", id, threadID).Scan(ctx)
	if db.ErrNoRows(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("live message %d: %w", id, err)
	}
	body, err := s.Vault.Open(l.m.Body, bodyAD(threadID))
	if err != nil {
		return nil, fmt.Errorf("open message %d: %w", id, err)
	}
	l.body = string(body)
	if err := s.DB.NewSelect().Model(&l.states).Where("message_id = ?", id).Scan(ctx); err != nil {
		return nil, fmt.Errorf("live read states %d: %w", id, err)
	}
	var atts []db.Attachment
	if err := s.DB.NewSelect().Model(&atts).Where("message_id = ?", id).Order("id").Scan(ctx); err != nil {
		return nil, fmt.Errorf("live attachments %d: %w", id, err)
	}
	for i := range atts {
		v, err := s.attachmentView(&atts[i])
		if err != nil {
			return nil, err
		}
		l.atts = append(l.atts, v)
	}
	return &l, nil
}

// LiveTyping returns the readers among userIDs to tell that actorID is
// typing in threadID: the other participants who may read it, each with
// the name they see (Typist). Nothing when actorID does not take part or
// may not read it.
func (s *Service) LiveTyping(ctx context.Context, threadID, actorID int64, userIDs []int64) ([]LiveReader, error) {
	ps, users, err := s.participants(ctx, s.DB, threadID)
	if err != nil {
		return nil, err
	}
	actor := users[actorID]
	if actor == nil {
		return nil, nil
	}
	var team *db.Team
	for _, p := range ps {
		if p.UserID == actorID {
			if !p.MayRead {
				return nil, nil
			}
			team = p.Team
		}
	}
	wanted := make(map[int64]bool, len(userIDs))
	for _, id := range userIDs {
		wanted[id] = true
	}
	var out []LiveReader
	for _, p := range ps {
		u := users[p.UserID]
		if u == nil || u.ID == actorID || !wanted[u.ID] || !p.MayRead {
			continue
		}
		typist := NameFor(u, actor)
		if team != nil && !team.ShowPerson && outsider(u) {
			typist = team.Name // as the team's messages show to them
		}
		out = append(out, LiveReader{UserID: u.ID, Name: DisplayName(u), Language: u.Language, Internal: u.Kind == db.KindInternal, Typist: typist})
	}
	return out, nil
}

// LiveReaders returns the readers among userIDs who take part in threadID
// and may read it: whom a change of the conversation itself (its case
// closed or reopened) is pushed to.
func (s *Service) LiveReaders(ctx context.Context, threadID int64, userIDs []int64) ([]LiveReader, error) {
	ps, users, err := s.participants(ctx, s.DB, threadID)
	if err != nil {
		return nil, err
	}
	var out []LiveReader
	for _, p := range mayReadAmong(ps, users, userIDs) {
		u := users[p.UserID]
		out = append(out, LiveReader{UserID: u.ID, Name: DisplayName(u), Language: u.Language, Internal: u.Kind == db.KindInternal})
	}
	return out, nil
}

// mayReadAmong returns the participants among userIDs who may read the
// conversation, in the order of ps. The medical rule is checked once per
// recipient: it came with the participant rows (MayRead).
func mayReadAmong(ps []db.Participant, users map[int64]*db.User, userIDs []int64) []*db.Participant {
	wanted := make(map[int64]bool, len(userIDs))
	for _, id := range userIDs {
		wanted[id] = true
	}
	var out []*db.Participant
	for i := range ps {
		if wanted[ps[i].UserID] && users[ps[i].UserID] != nil && ps[i].MayRead {
			out = append(out, &ps[i])
		}
	}
	return out
}

// ParticipantIDs returns the ids of a thread's participants, for a user who
// takes part in it (to tell the others that this user is typing).
func (s *Service) ParticipantIDs(ctx context.Context, who *identity.User, threadID int64) ([]int64, error) {
	user := db.UserOf(who)
	if _, err := s.threadFor(ctx, s.DB, user.ID, threadID); err != nil {
		return nil, err
	}
	var ids []int64
	if err := s.DB.NewSelect().Model((*db.Participant)(nil)).Column("user_id").Where("thread_id = ?", threadID).Order("id").Scan(ctx, &ids); err != nil {
		return nil, fmt.Errorf("participant ids: %w", err)
	}
	return ids, nil
}
