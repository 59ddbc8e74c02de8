package messaging

import (
	"context"
	"fmt"

	"dialoog/db"
)

// The live layer loads what one event means for one user with these, and
// renders it with the same components as the pages.

// ThreadSummaryFor returns the inbox line of one thread for a participant.
func (s *Service) ThreadSummaryFor(ctx context.Context, user *db.User, threadID int64) (*ThreadSummary, error) {
	var rows []inboxRow
	err := s.DB.NewSelect().TableExpr("participants AS p").
		ColumnExpr("p.thread_id AS id, t.subject, o.name AS org_name, t.last_message_at, p.unread_count AS unread").
		Join("JOIN threads AS t ON t.id = p.thread_id").
		Join("JOIN organisations AS o ON o.id = t.org_id").
		Where("p.thread_id = ? AND p.user_id = ?", threadID, user.ID).Scan(ctx, &rows)
	if err != nil {
		return nil, fmt.Errorf("thread summary %d: %w", threadID, err)
	}
	if len(rows) == 0 {
		return nil, errNotFound
	}
	names, err := s.otherNames(ctx, user.ID, rows)
	if err != nil {
		return nil, err
	}
	r := rows[0]
	return &ThreadSummary{ID: r.ID, Subject: r.Subject, OrgName: r.OrgName, LastMessageAt: r.LastMessageAt, Unread: r.Unread, From: joinNames(names[r.ID])}, nil
}

// MessageFor returns one message as a participant sees it (with read ticks
// for its sender), or NotFound when it is not in their box.
func (s *Service) MessageFor(ctx context.Context, user *db.User, messageID int64) (*MessageView, error) {
	m, err := s.messageFor(ctx, s.DB, user.ID, messageID)
	if err != nil {
		return nil, err
	}
	v, err := s.Thread(ctx, user, m.ThreadID)
	if err != nil {
		return nil, err
	}
	for i := range v.Messages {
		if v.Messages[i].ID == messageID {
			return &v.Messages[i], nil
		}
	}
	return nil, errNotFound
}

// ParticipantIDs returns the ids of a thread's participants, for a user who
// takes part in it (to tell the others that this user is typing).
func (s *Service) ParticipantIDs(ctx context.Context, user *db.User, threadID int64) ([]int64, error) {
	if _, err := s.threadFor(ctx, s.DB, user.ID, threadID); err != nil {
		return nil, err
	}
	var ids []int64
	if err := s.DB.NewSelect().Model((*db.Participant)(nil)).Column("user_id").Where("thread_id = ?", threadID).Order("id").Scan(ctx, &ids); err != nil {
		return nil, fmt.Errorf("participant ids: %w", err)
	}
	return ids, nil
}

// UserByID loads a user for rendering live updates for them.
func (s *Service) UserByID(ctx context.Context, id int64) (*db.User, error) {
	var u db.User
	if err := s.DB.NewSelect().Model(&u).Where("id = ?", id).Scan(ctx); err != nil {
		if db.ErrNoRows(err) {
			return nil, errNotFound
		}
		return nil, fmt.Errorf("load user %d: %w", id, err)
	}
	return &u, nil
}
