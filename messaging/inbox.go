package messaging

import (
	"context"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/uptrace/bun"

	"dialoog/db"
)

// The inbox reads what it shows per conversation from the user's
// participant row (unread count, box count, last activity), which every
// change keeps up to date in its own transaction. A page is therefore an
// index range scan of participants_inbox_idx, and search looks up the
// matching threads and people through an index (FTS5 trigram on SQLite,
// pg_trgm on PostgreSQL) before it meets the user's box: neither reads a
// row per conversation in the box before LIMIT.

// MinSearchIndexed is the shortest query searched through the index;
// shorter queries (one or two characters) are matched against the user's
// own box only.
const MinSearchIndexed = 3

// maxQuery bounds a search query, in characters.
const maxQuery = 100

// Inbox lists the threads in the user's box, newest first; query searches
// subjects, the organisation's name and the names of the other
// participants, and their addresses where the user may see them (see
// searchableAddress).
func (s *Service) Inbox(ctx context.Context, user *db.User, page int, query string) (*InboxPage, error) {
	if page < 1 {
		page = 1
	}
	query = strings.TrimSpace(query)
	if utf8.RuneCountInString(query) > maxQuery {
		query = string([]rune(query)[:maxQuery])
	}
	rows, err := s.inboxRows(ctx, s.DB, user, query, PageSize+1, (page-1)*PageSize)
	if err != nil {
		return nil, fmt.Errorf("inbox: %w", err)
	}
	out := &InboxPage{Page: page, Query: query}
	if len(rows) > PageSize {
		out.More = true
		rows = rows[:PageSize]
	}
	names, err := s.otherNames(ctx, user.ID, rows)
	if err != nil {
		return nil, err
	}
	for _, r := range rows {
		out.Threads = append(out.Threads, ThreadSummary{ID: r.ID, Subject: r.Subject, OrgName: r.OrgName,
			LastMessageAt: r.LastMessageAt, Unread: r.Unread, From: joinNames(names[r.ID])})
	}
	if out.Unread, err = s.UnreadCount(ctx, user.ID); err != nil {
		return nil, err
	}
	return out, nil
}

// inboxPageQuery is an inbox page without search: a range scan of
// participants_inbox_idx. It runs as a prepared statement.
const inboxPageQuery = `SELECT p.thread_id AS id, t.subject, o.name AS org_name, t.last_message_at, p.unread_count AS unread
FROM participants AS p JOIN threads AS t ON t.id = p.thread_id JOIN organisations AS o ON o.id = t.org_id
WHERE p.user_id = ? AND p.box_count > 0 ORDER BY p.last_activity_at DESC, p.thread_id DESC LIMIT ? OFFSET ?`

// searchQuery builds the query of one page of search results.
func (s *Service) searchQuery(idb bun.IDB, user *db.User, query string, limit, offset int) *bun.SelectQuery {
	q := idb.NewSelect().TableExpr("participants AS p").
		ColumnExpr("p.thread_id AS id, t.subject, o.name AS org_name, t.last_message_at, p.unread_count AS unread").
		Join("JOIN threads AS t ON t.id = p.thread_id").
		Join("JOIN organisations AS o ON o.id = t.org_id").
		Where("p.user_id = ? AND p.box_count > 0", user.ID)
	q = s.searchWhere(q, user, query)
	return q.OrderExpr("p.last_activity_at DESC, p.thread_id DESC").Limit(int64(limit)).Offset(int64(offset))
}

func (s *Service) inboxRows(ctx context.Context, idb bun.IDB, user *db.User, query string, limit, offset int) ([]inboxRow, error) {
	var rows []inboxRow
	if query != "" {
		if err := s.searchQuery(idb, user, query, limit, offset).Scan(ctx, &rows); err != nil {
			return nil, err
		}
		return rows, nil
	}
	if err := s.scanPrepared(ctx, &rows, inboxPageQuery, user.ID, limit, offset); err != nil {
		return nil, err
	}
	return rows, nil
}

// scanPrepared runs a fixed query as a prepared statement and scans its
// rows into dest.
func (s *Service) scanPrepared(ctx context.Context, dest any, query string, args ...any) error {
	rows, err := s.DB.QueryPrepared(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	return s.DB.ScanRows(ctx, rows, dest)
}

// nameExpr is the text a person is found by: "first prefix last", "first
// last" and the initials, of the users row aliased a. Without alias it must
// stay identical to the expression of the users_name_trgm index
// (PostgreSQL) and the users_fts triggers (SQLite).
func nameExpr(a string) string {
	if a != "" {
		a += "."
	}
	return strings.Join([]string{a + "first_name", a + "name_prefix", a + "last_name", a + "first_name", a + "last_name", a + "initials"}, " || ' ' || ")
}

// searchWhere restricts an inbox query to threads that match query: by
// subject, by the organisation's name, or by another participant's name
// or (where searchableAddress allows) mail address.
func (s *Service) searchWhere(q *bun.SelectQuery, user *db.User, query string) *bun.SelectQuery {
	lower := strings.ToLower(query)
	like := "%" + strings.NewReplacer(`\`, `\\`, "%", `\%`, "_", `\_`).Replace(lower) + "%"
	internal := user.Kind == db.KindInternal
	orgMatch := "t.org_id IN (SELECT org.id FROM organisations AS org WHERE LOWER(org.name) LIKE ? ESCAPE '\\')"
	if utf8.RuneCountInString(query) < MinSearchIndexed {
		// Too short for trigrams: match within the user's own box.
		return q.Where(`(LOWER(t.subject) LIKE ? ESCAPE '\' OR `+orgMatch+` OR EXISTS (
  SELECT 1 FROM participants AS op JOIN users AS ou ON ou.id = op.user_id
  WHERE op.thread_id = p.thread_id AND op.user_id <> ? AND (LOWER(`+nameExpr("ou")+`) LIKE ? ESCAPE '\'
    OR (LOWER(ou.email) LIKE ? ESCAPE '\' AND (? OR ou.kind = ?)))))`,
			like, like, user.ID, like, like, internal, db.KindInternal)
	}
	var subjects, people string
	var subjectArgs, peopleArgs []any
	if s.DB.Postgres() {
		subjects = "SELECT th.id FROM threads AS th WHERE LOWER(th.subject) LIKE ? ESCAPE '\\'"
		subjectArgs = []any{like}
		people = "SELECT u.id FROM users AS u WHERE LOWER(" + nameExpr("") + ") LIKE ? ESCAPE '\\' OR (LOWER(u.email) LIKE ? ESCAPE '\\' AND (? OR u.kind = ?))"
		peopleArgs = []any{like, like, internal, db.KindInternal}
	} else {
		phrase := `"` + strings.ReplaceAll(lower, `"`, `""`) + `"`
		subjects = "SELECT rowid FROM threads_fts WHERE threads_fts MATCH ?"
		subjectArgs = []any{"subject : " + phrase}
		people = "SELECT rowid FROM users_fts WHERE users_fts MATCH ? UNION SELECT f.rowid FROM users_fts AS f JOIN users AS u ON u.id = f.rowid WHERE users_fts MATCH ? AND (? OR u.kind = ?)"
		peopleArgs = []any{"name : " + phrase, "email : " + phrase, internal, db.KindInternal}
	}
	args := append([]any{}, subjectArgs...)
	args = append(args, peopleArgs...)
	args = append(args, user.ID, like)
	return q.Where("(p.thread_id IN ("+subjects+") OR p.thread_id IN (SELECT op.thread_id FROM participants AS op WHERE op.user_id IN ("+people+") AND op.user_id <> ?) OR "+orgMatch+")", args...)
}

// UnreadCount counts the user's unread messages: a sum over the rows of
// participants_unread_idx, that is over the threads with unread messages.
func (s *Service) UnreadCount(ctx context.Context, userID int64) (int, error) {
	rows, err := s.DB.QueryPrepared(ctx, unreadQuery, userID)
	if err != nil {
		return 0, fmt.Errorf("count unread: %w", err)
	}
	defer rows.Close()
	var n int
	if rows.Next() {
		if err := rows.Scan(&n); err != nil {
			return 0, fmt.Errorf("count unread: %w", err)
		}
	}
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("count unread: %w", err)
	}
	return n, nil
}

const unreadQuery = "SELECT COALESCE(SUM(p.unread_count), 0) FROM participants AS p WHERE p.user_id = ? AND p.unread_count > 0"

// syncCounters recounts the inbox counters of a thread's participants from
// their read states, after a change that removed messages from boxes; a
// userID of 0 recounts every participant. Only rare changes (removal,
// deletion) recount; sending and reading adjust the counters directly.
func (s *Service) syncCounters(ctx context.Context, tx bun.Tx, threadID, userID int64) error {
	sql := `UPDATE participants SET
unread_count = (SELECT COUNT(*) FROM message_states AS ms JOIN messages AS m ON m.id = ms.message_id
  WHERE m.thread_id = participants.thread_id AND ms.user_id = participants.user_id AND ms.read_at IS NULL AND ms.removed_at IS NULL),
box_count = (SELECT COUNT(*) FROM message_states AS ms JOIN messages AS m ON m.id = ms.message_id
  WHERE m.thread_id = participants.thread_id AND ms.user_id = participants.user_id AND ms.removed_at IS NULL)
WHERE thread_id = ?`
	args := []any{threadID}
	if userID != 0 {
		sql += " AND user_id = ?"
		args = append(args, userID)
	}
	if _, err := tx.NewRaw(sql, args...).Exec(ctx); err != nil {
		return fmt.Errorf("recount thread %d: %w", threadID, err)
	}
	return nil
}
