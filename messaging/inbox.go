package messaging

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/uptrace/bun"

	"dialoog/db"
	"dialoog/identity"
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
const MinSearchIndexed = db.MinSearchIndexed

// maxQuery bounds a search query, in characters.
const maxQuery = 100

// Inbox lists the threads in the user's box, newest first; query searches
// subjects, the organisation's name and the names of the other
// participants, and their mail addresses where the user may see them:
// internal users see everyone's, external users only internal users'.
func (s *Service) Inbox(ctx context.Context, who *identity.User, page int, query string) (*InboxPage, error) {
	return s.InboxAfter(ctx, who, page, "", query)
}

// InboxAfter is Inbox from the conversation after the reference after
// (the InboxPage.Next of the page before; page is then only the number
// shown): a message that moved a conversation to the top meanwhile, as
// the open page shows it live, neither repeats nor skips one. An invalid
// or empty reference, or a search, counts pages by their number.
func (s *Service) InboxAfter(ctx context.Context, who *identity.User, page int, after, query string) (*InboxPage, error) {
	user := db.UserOf(who)
	if page < 1 {
		page = 1
	}
	query = cleanQuery(query)
	cur, keyed := parseCursor(after)
	if query != "" {
		keyed = false
	}
	read := func() (inboxEntry, error) {
		var rows []inboxRow
		var scope int
		var err error
		if keyed {
			rows, err = s.pageRows(ctx, s.DB.Text("messaging.inboxAfter", func() string { return s.pageWith(afterQuery(inboxPageQuery, "p.last_activity_at", "p.thread_id")) }),
				s.inboxArgs(user.ID, cur.args(PageSize+1)...)...)
		} else {
			rows, scope, err = s.inboxRows(ctx, s.DB, user, 0, query, PageSize+1, (page-1)*PageSize)
		}
		if err != nil {
			return inboxEntry{}, fmt.Errorf("inbox: %w", err)
		}
		out, err := s.inboxPage(ctx, user, rows, page, query)
		if out != nil {
			out.Scope = scope
		}
		return inboxEntry{page: out}, err
	}
	if query != "" {
		e, err := read()
		return e.page, err
	}
	key := inboxKey{user: user.ID, page: page, what: 'i'}
	if keyed {
		key.after = cur.String()
	}
	e, err := s.cachedPage(ctx, key, read)
	if err != nil {
		return nil, err
	}
	return e.pageCopy(), nil
}

// TeamBox lists the conversations of one of the user's teams in the user's
// box, newest first: one statement, like the inbox. A team the user is not
// a member of (of another organisation, or no team at all) is apperr
// NotFound, like every other object they may not see.
func (s *Service) TeamBox(ctx context.Context, who *identity.User, teamID int64, page int) (*InboxPage, error) {
	return s.TeamBoxAfter(ctx, who, teamID, page, "", "")
}

// TeamBoxAfter is TeamBox from the conversation after the reference after
// (see InboxAfter); query searches the team's conversations only, as
// Inbox searches the whole box (a search counts pages by their number).
func (s *Service) TeamBoxAfter(ctx context.Context, who *identity.User, teamID int64, page int, after, query string) (*InboxPage, error) {
	user := db.UserOf(who)
	if page < 1 {
		page = 1
	}
	query = cleanQuery(query)
	cur, keyed := parseCursor(after)
	if query != "" {
		keyed = false
	}
	read := func() (inboxEntry, error) {
		// Checked whenever the page is read: a page kept in memory was
		// read for a member, and leaving the team gives a new inbox
		// version (migration 0037, 0040), so it is never served after.
		// A search is never kept, and checked the same way.
		if user.Kind != db.KindInternal {
			return inboxEntry{}, errNotFound
		}
		member, err := isTeamMember(ctx, s.DB, teamID, user.ID)
		if err != nil {
			return inboxEntry{}, fmt.Errorf("team box: %w", err)
		}
		if !member {
			return inboxEntry{}, errNotFound
		}
		var rows []inboxRow
		var scope int
		if query != "" || !keyed {
			rows, scope, err = s.inboxRows(ctx, s.DB, user, teamID, query, PageSize+1, (page-1)*PageSize)
		} else {
			rows, err = s.pageRows(ctx, s.DB.Text("messaging.teamAfter", func() string { return s.pageWith(afterQuery(teamPageQuery, "p.last_activity_at", "p.thread_id")) }),
				s.teamArgs(user.ID, teamID, cur.args(PageSize+1)...)...)
		}
		if err != nil {
			return inboxEntry{}, fmt.Errorf("team box: %w", err)
		}
		out, err := s.inboxPage(ctx, user, rows, page, query)
		if err != nil {
			return inboxEntry{}, err
		}
		out.TeamID, out.Scope = teamID, scope
		return inboxEntry{page: out}, nil
	}
	if query != "" {
		e, err := read()
		return e.page, err
	}
	key := inboxKey{user: user.ID, team: teamID, page: page, what: 't'}
	if keyed {
		key.after = cur.String()
	}
	e, err := s.cachedPage(ctx, key, read)
	if err != nil {
		return nil, err
	}
	return e.pageCopy(), nil
}

// cleanQuery is a search query as it is searched: one clean line of at
// most maxQuery characters.
func cleanQuery(query string) string {
	query = CleanLine(query)
	if utf8.RuneCountInString(query) > maxQuery {
		query = string([]rune(query)[:maxQuery])
	}
	return query
}

func (s *Service) inboxPage(ctx context.Context, user *db.User, rows []inboxRow, page int, query string) (*InboxPage, error) {
	var err error
	out := &InboxPage{Page: page, Query: query}
	if len(rows) > PageSize {
		out.More = true
		rows = rows[:PageSize]
		if query == "" {
			last := rows[len(rows)-1]
			out.Next = cursor{at: last.LastActivityAt, id: last.ID}.String()
		}
	}
	for _, r := range rows {
		out.Threads = append(out.Threads, ThreadSummary{ID: r.ID, Subject: CleanLine(r.Subject), OrgName: r.OrgName,
			LastMessageAt: r.LastMessageAt, Unread: r.Unread, From: peopleLine(user, r.Others)})
		if r.Assignee != "" && !outsider(user) {
			if f := strings.Split(r.Assignee, fieldSep); len(f) == 5 {
				out.Threads[len(out.Threads)-1].AssignedTo = DisplayName(&db.User{FirstName: f[0], Initials: f[1], NamePrefix: f[2], LastName: f[3], Email: f[4]})
			}
		}
	}
	if len(rows) > 0 {
		out.Unread = rows[0].TotalUnread
	} else if out.Unread, err = s.UnreadCount(ctx, user.ID); err != nil {
		return nil, err
	}
	return out, nil
}

// A page of the inbox is one statement: the page of the user's
// participant rows (an index range scan), and for those rows only the
// other participants' names, aggregated in joining order, and the user's
// total unread count (the same for every row). The names travel as their
// fields separated by fieldSep, people separated by personSep, and are
// turned into display names by peopleLine.
const (
	fieldSep  = "\x1f"
	personSep = "\x1e"
)

// pageWith wraps the query of a page of participant rows (columns id,
// subject, org_name, last_message_at, unread, last_activity_at) with the
// names and the total unread count; its arguments come first.
func (s *Service) pageWith(inner string) string {
	// PostgreSQL orders within the aggregate; SQLite would sort each row's
	// few names in a temporary b-tree, so it aggregates a subquery that
	// participants_thread_idx (thread_id, id) already gives in joining order.
	// Each person's team (when they take part through one) travels along:
	// an outsider sees the team instead of its members.
	others := `(SELECT string_agg(u.first_name || ? || u.initials || ? || u.name_prefix || ? || u.last_name || ? || u.email || ? || u.kind || ? || COALESCE(tm.name, ''), ? ORDER BY op.id)
    FROM participants AS op JOIN users AS u ON u.id = op.user_id LEFT JOIN teams AS tm ON tm.id = op.via_team_id WHERE op.thread_id = page.id AND op.user_id <> ?)`
	if !s.DB.Postgres() {
		others = `(SELECT group_concat(n.name, ?) FROM (SELECT u.first_name || ? || u.initials || ? || u.name_prefix || ? || u.last_name || ? || u.email || ? || u.kind || ? || COALESCE(tm.name, '') AS name
    FROM participants AS op JOIN users AS u ON u.id = op.user_id LEFT JOIN teams AS tm ON tm.id = op.via_team_id WHERE op.thread_id = page.id AND op.user_id <> ? ORDER BY op.id) AS n)`
	}
	return `SELECT page.id, page.subject, page.org_name, ` + db.TimeColumn(s.DB, "page.last_message_at", "last_message_at") + `, page.unread,
  ` + others + ` AS others,
  (SELECT a.first_name || ? || a.initials || ? || a.name_prefix || ? || a.last_name || ? || a.email FROM users AS a WHERE a.id = page.assigned_to) AS assignee,
  (SELECT x.unread_total FROM users AS x WHERE x.id = ?) AS total_unread, ` + db.TimeColumn(s.DB, "page.last_activity_at", "last_activity_at") + `
FROM (` + inner + `) AS page ORDER BY page.last_activity_at DESC, page.id DESC`
}

func (s *Service) pageArgs(userID int64) []any {
	if s.DB.Postgres() {
		return []any{fieldSep, fieldSep, fieldSep, fieldSep, fieldSep, fieldSep, personSep, userID, fieldSep, fieldSep, fieldSep, fieldSep, userID}
	}
	return []any{personSep, fieldSep, fieldSep, fieldSep, fieldSep, fieldSep, fieldSep, userID, fieldSep, fieldSep, fieldSep, fieldSep, userID}
}

// peopleLine turns the aggregated fields of the other participants into
// the line of their display names, as joinNames(otherNames(...)) makes it
// from loaded rows: in joining order, and to an outsider a team's members
// are the team, once. It works on the aggregated text in place: a page
// after every change to the box comes through here for each of its rows.
func peopleLine(viewer *db.User, others string) string {
	if others == "" {
		return ""
	}
	var b strings.Builder
	var teamsSeen [4]string
	teams := teamsSeen[:0]
	named := 0
	for rest := others; rest != ""; {
		var person string
		person, rest, _ = strings.Cut(rest, personSep)
		f, ok := personFields(person)
		if !ok {
			continue // a name with a separator in it: leave it out rather than garble it
		}
		name := f[6]
		if name != "" && outsider(viewer) {
			if slices.Contains(teams, name) {
				continue
			}
			teams = append(teams, name)
		} else {
			name = NameFor(viewer, &db.User{FirstName: f[0], Initials: f[1], NamePrefix: f[2], LastName: f[3], Email: f[4], Kind: f[5]})
		}
		if named > 0 {
			b.WriteString(nameSep)
		}
		b.WriteString(name)
		named++
	}
	return b.String()
}

// personFields splits one person's aggregated fields (first name,
// initials, prefix, last name, address, kind, team); ok is false unless
// there are exactly seven.
func personFields(person string) (f [7]string, ok bool) {
	for i := range f {
		var more bool
		f[i], person, more = strings.Cut(person, fieldSep)
		if more != (i < len(f)-1) {
			return f, false
		}
	}
	return f, true
}

// inboxPageQuery is the page of participant rows of an inbox without
// search: a range scan of participants_inbox_idx, leaving out medical
// conversations the user may not read (medicalRule; its subqueries are
// evaluated once for the statement).
var inboxPageQuery = `SELECT p.thread_id AS id, t.subject, o.name AS org_name, t.last_message_at, p.unread_count AS unread, p.last_activity_at, t.assigned_to
FROM participants AS p JOIN threads AS t ON t.id = p.thread_id JOIN organisations AS o ON o.id = t.org_id
WHERE p.user_id = ? AND p.box_count > 0 AND ` + medicalRule("t", "?") + ` ORDER BY p.last_activity_at DESC, p.thread_id DESC LIMIT ? OFFSET ?`

// inboxArgs are the arguments of pageWith(inboxPageQuery): page, limit
// and offset (or a cursor's args for afterQuery's).
func (s *Service) inboxArgs(userID int64, page ...any) []any {
	args := append(s.pageArgs(userID), userID)
	return append(append(args, medicalArgs(userID)...), page...)
}

// teamArgs are the arguments of pageWith(teamPageQuery) (see inboxArgs).
func (s *Service) teamArgs(userID, teamID int64, page ...any) []any {
	args := append(s.pageArgs(userID), userID, teamID)
	return append(append(args, medicalArgs(userID)...), page...)
}

// afterQuery turns a page query that ends in "ORDER BY at DESC, id DESC
// LIMIT ? OFFSET ?" into the page after a cursor: the rows whose (at, id)
// come after it in that order, the offset left at 0 (cursor.args).
func afterQuery(query, at, id string) string {
	i := strings.LastIndex(query, "ORDER BY ")
	if i < 0 {
		panic("messaging: afterQuery: no ORDER BY in " + query)
	}
	return query[:i] + "AND (" + at + ", " + id + ") < (?, ?) " + query[i:]
}

// cursor is where a page of a box starts: after the conversation with id,
// whose time in the box's order was at (InboxPage.Next).
type cursor struct {
	at time.Time
	id int64
}

// String is the cursor as it travels in an address: the time in
// nanoseconds since 1970 and the id.
func (c cursor) String() string {
	return strconv.FormatInt(c.at.UnixNano(), 10) + "-" + strconv.FormatInt(c.id, 10)
}

// args are the arguments of an afterQuery: the cursor, the limit and a
// zero offset.
func (c cursor) args(limit int) []any { return []any{c.at, c.id, limit, 0} }

// parseCursor reads a cursor.String; ok is false for anything else.
func parseCursor(s string) (c cursor, ok bool) {
	at, id, found := strings.Cut(s, "-")
	if !found || len(s) > 40 {
		return c, false
	}
	ns, err := strconv.ParseInt(at, 10, 64)
	if err != nil || ns <= 0 {
		return c, false
	}
	c.id, err = strconv.ParseInt(id, 10, 64)
	if err != nil || c.id <= 0 {
		return c, false
	}
	c.at = time.Unix(0, ns).UTC()
	return c, true
}

// teamPageQuery is a page of one team's box for one member: a range scan
// of participants_team_box_idx, under the medical rule too.
var teamPageQuery = `SELECT p.thread_id AS id, t.subject, o.name AS org_name, t.last_message_at, p.unread_count AS unread, p.last_activity_at, t.assigned_to
FROM participants AS p JOIN threads AS t ON t.id = p.thread_id JOIN organisations AS o ON o.id = t.org_id
WHERE p.user_id = ? AND p.via_team_id = ? AND p.box_count > 0 AND ` + medicalRule("t", "?") + ` ORDER BY p.last_activity_at DESC, p.thread_id DESC LIMIT ? OFFSET ?`

// searchBox is where a search looks: the whole box (zero), a team's box
// (team, whose membership the caller has checked) or one case's
// conversations (kase, for the internal users of its organisation only).
type searchBox struct{ team, kase int64 }

// searchQuery builds the query of one page of search results in box,
// in one of two ways (searchPlanFor): walking the box in its order and
// testing each conversation until the page is full, or reading the
// conversations that match and sorting the user's among them. It returns
// no query (and no error) when the plan found that nothing matches.
func (s *Service) searchQuery(ctx context.Context, idb bun.IDB, user *db.User, box searchBox, query string, limit, offset int) (*bun.SelectQuery, searchChoice, error) {
	// A case's list is in the order of its conversations' last messages,
	// as casePageQuery reads it from threads_case_idx (a case has few
	// conversations); a box in the order of the participant's activity.
	activity, order := "p.last_activity_at", "p.last_activity_at DESC, p.thread_id DESC"
	if box.kase != 0 {
		activity, order = "t.last_message_at AS last_activity_at", "t.last_message_at DESC, t.id DESC"
	}
	columns := "p.thread_id AS id, t.subject, o.name AS org_name, t.last_message_at, p.unread_count AS unread, " + activity + ", t.assigned_to"
	plan, err := s.searchPlanFor(ctx, idb, user, box, query)
	if err != nil {
		return nil, plan, err
	}
	var q *bun.SelectQuery
	if plan.how == searchMatches {
		// The matching conversations first, then the user's row of each
		// (the unique index on thread and user): a CROSS JOIN keeps
		// SQLite to that order, a LATERAL subquery that is not pulled up
		// (OFFSET 0) keeps PostgreSQL to it. Where the plan read the
		// matches already, the page takes them by id instead of finding
		// them again.
		var matches string
		var args []any
		switch {
		case plan.ids == nil:
			matches, args = s.searchMatching(user, query)
		case len(plan.ids) == 0:
			return nil, plan, nil // nothing matches: no page to read
		default:
			matches, args = "SELECT th.id FROM threads AS th WHERE th.id IN (?)", []any{bun.In(plan.ids)}
		}
		from := "(" + matches + ") AS c CROSS JOIN participants AS p"
		where := "p.thread_id = c.id AND p.user_id = ? AND p.box_count > 0"
		if s.DB.Postgres() {
			from = "(" + matches + ") AS c CROSS JOIN LATERAL (SELECT * FROM participants AS cp WHERE cp.thread_id = c.id AND cp.user_id = ? OFFSET 0) AS p"
			where = "p.box_count > 0"
			args = append(args, user.ID)
		}
		q = idb.NewSelect().TableExpr(from, args...).ColumnExpr(columns).
			Join("JOIN threads AS t ON t.id = p.thread_id").
			Join("JOIN organisations AS o ON o.id = t.org_id")
		if s.DB.Postgres() {
			q = q.Where(where)
		} else {
			q = q.Where(where, user.ID)
		}
	} else {
		from, fromArgs := "participants AS p", []any(nil)
		if plan.scope > 0 {
			// The most recent conversations only, in the box's order.
			recent, args := boxRows("bp.thread_id, bp.user_id, bp.box_count, bp.via_team_id, bp.unread_count, bp.last_activity_at", user, box)
			from, fromArgs = "("+recent+" ORDER BY bp.last_activity_at DESC, bp.thread_id DESC LIMIT ?) AS p", append(args, plan.scope)
		}
		q = idb.NewSelect().TableExpr(from, fromArgs...).ColumnExpr(columns).
			Join("JOIN threads AS t ON t.id = p.thread_id").
			Join("JOIN organisations AS o ON o.id = t.org_id").
			Where("p.user_id = ? AND p.box_count > 0", user.ID)
	}
	if box.team != 0 {
		q = q.Where("p.via_team_id = ?", box.team)
	}
	if box.kase != 0 {
		q = q.Where("t.case_id = ? AND "+caseOfOrgRule, box.kase, box.kase, user.ID)
	}
	q = q.Where(medicalRule("t", "?"), medicalArgs(user.ID)...)
	if plan.how != searchMatches {
		q = s.searchWhere(q, user, query, plan)
	}
	return q.OrderExpr(order).Limit(int64(limit)).Offset(int64(offset)), plan, nil
}

// searchChoice is what searchPlanFor decided: how the page is read and,
// when the matching conversations are few and were read while deciding,
// their ids (nil: not read). For a walk that follows a count (counted) it
// says whether an organisation's name matches, and, when the people who
// match take part in few conversations, those conversations (nil: too
// many to list): the walk then tests those on each row as a list instead
// of as subqueries, which PostgreSQL's planner charges to every row and
// so sorted the whole box rather than walk it.
type searchChoice struct {
	how          searchPlan
	ids          []int64
	counted, org bool
	peopleIDs    []int64
	// scope is, for a text too short for the indexes in a box larger
	// than ShortSearchScope, how many of the most recent conversations
	// the walk looks at (0: all).
	scope int
}

// ShortSearchScope is how many of the most recent conversations of a box
// a search of a text too short for the indexes (one or two characters)
// looks at: it tests each conversation in turn, so that a larger box
// would cost what it holds on every pause while typing. The page says so
// (InboxPage.Scope); three characters search the whole box.
const ShortSearchScope = 1000

// searchPlan is a way a search reads its page (searchQuery).
type searchPlan int

const (
	searchAuto    searchPlan = iota // searchPlanFor decides
	searchWalk                      // walk the box in its order, testing each conversation
	searchMatches                   // read the matching conversations, then the user's rows of them
)

// searchMatchesMax is the most matching conversations (by subject, and
// of the people who match) a search reads to find the user's among them;
// with more it walks the box, where the matches are then likely dense
// enough to fill a page early.
const searchMatchesMax = 2000

// searchMatchesFew is how many matches a search reads without first
// counting the box: fewer lookups than a page's walk costs.
const searchMatchesFew = 200

// searchPlanFor decides how a search reads its page. A search walks the
// box when the query is too short for the indexes, in a case (few
// conversations), when an organisation's name matches (its conversations
// are usually most of a box, so the walk ends early), when more than
// searchMatchesMax conversations match, or when the box holds no more
// conversations than match. Otherwise it reads the matches: then what a
// page costs follows the matches, not the box. Both give the same rows
// in the same order: without an organisation that matches, a
// conversation of the box is found exactly when it is among the matches.
// When at most searchMatchesFew match, the statement that counts them
// also returns them, and the page reads them by id: the trigram lists
// are read once per search, not twice.
func (s *Service) searchPlanFor(ctx context.Context, idb bun.IDB, user *db.User, box searchBox, query string) (searchChoice, error) {
	short := utf8.RuneCountInString(query) < MinSearchIndexed
	if short && box.kase == 0 {
		// A case holds few conversations; a box may hold thousands.
		inBox, err := s.boxCount(ctx, idb, user, box, ShortSearchScope+1)
		if err != nil {
			return searchChoice{}, err
		}
		if inBox > ShortSearchScope {
			return searchChoice{how: searchWalk, scope: ShortSearchScope}, nil
		}
	}
	if s.searchPlan != searchAuto {
		return searchChoice{how: s.searchPlan}, nil
	}
	if box.kase != 0 || short {
		return searchChoice{how: searchWalk}, nil
	}
	subjects, subjectArgs, people, peopleArgs := s.searchMatchParts(user, query)
	orgs, orgArgs := s.orgsMatching(query)
	args := append(append(append([]any{}, subjectArgs...), searchMatchesMax+1), peopleArgs...)
	args = append(append(append(args, searchMatchesMax+1), orgArgs...), searchMatchesFew, searchMatchesFew)
	// Each list is read once (MATERIALIZED: both engines would otherwise
	// read it again for the ids).
	list := func(from string) string { return "(SELECT group_concat(m.id, ',') FROM (" + from + ") AS m)" }
	if s.DB.Postgres() {
		list = func(from string) string { return "(SELECT string_agg(m.id::text, ',') FROM (" + from + ") AS m)" }
	}
	var subjectCount, peopleCount int
	var org bool
	var ids, peopleIDs sql.NullString
	err := idb.NewRaw("WITH cs AS MATERIALIZED ("+subjects+" LIMIT ?), cp AS MATERIALIZED ("+people+" LIMIT ?)"+
		" SELECT c.ns, c.np, EXISTS ("+orgs+"),"+
		" CASE WHEN c.ns + c.np <= ? THEN "+list("SELECT id FROM cs UNION SELECT id FROM cp")+" END,"+
		" CASE WHEN c.np <= ? THEN "+list("SELECT DISTINCT id FROM cp")+" END"+
		" FROM (SELECT (SELECT COUNT(*) FROM cs) AS ns, (SELECT COUNT(*) FROM cp) AS np) AS c", args...).
		Scan(ctx, &subjectCount, &peopleCount, &org, &ids, &peopleIDs)
	if err != nil {
		return searchChoice{}, fmt.Errorf("search: %w", err)
	}
	n := subjectCount + peopleCount
	walk := searchChoice{how: searchWalk, counted: true, org: org}
	if peopleCount <= searchMatchesFew {
		if walk.peopleIDs, err = parseIDs(peopleIDs.String); err != nil {
			return searchChoice{}, fmt.Errorf("search: %w", err)
		}
	}
	if org || n > searchMatchesMax {
		return walk, nil
	}
	if n <= searchMatchesFew {
		found, err := parseIDs(ids.String)
		if err != nil {
			return searchChoice{}, fmt.Errorf("search: %w", err)
		}
		return searchChoice{how: searchMatches, ids: found}, nil
	}
	// Are there more conversations in the box than match? The count
	// stops there.
	inBox, err := s.boxCount(ctx, idb, user, box, n+1)
	if err != nil {
		return searchChoice{}, err
	}
	if inBox > n {
		return searchChoice{how: searchMatches}, nil
	}
	return walk, nil
}

// boxRows is the query of the user's participant rows in box (the whole
// box or a team's), with its arguments: a range of participants_inbox_idx
// or participants_team_box_idx.
func boxRows(columns string, user *db.User, box searchBox) (string, []any) {
	q, args := "SELECT "+columns+" FROM participants AS bp WHERE bp.user_id = ? AND bp.box_count > 0", []any{user.ID}
	if box.team != 0 {
		q, args = q+" AND bp.via_team_id = ?", append(args, box.team)
	}
	return q, args
}

// boxCount counts the conversations in box, up to limit.
func (s *Service) boxCount(ctx context.Context, idb bun.IDB, user *db.User, box searchBox, limit int) (int, error) {
	q, args := boxRows("1", user, box)
	var n int
	if err := idb.NewRaw("SELECT COUNT(*) FROM ("+q+" LIMIT ?) AS b", append(args, limit)...).Scan(ctx, &n); err != nil {
		return 0, fmt.Errorf("search: count the box: %w", err)
	}
	return n, nil
}

// parseIDs reads a comma-separated list of ids, as the engines aggregate
// them ("" for none: an empty list, not nil).
func parseIDs(list string) ([]int64, error) {
	if list == "" {
		return []int64{}, nil
	}
	out := make([]int64, 0, strings.Count(list, ",")+1)
	for f := range strings.SplitSeq(list, ",") {
		id, err := strconv.ParseInt(f, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("id %q: %w", f, err)
		}
		out = append(out, id)
	}
	return out, nil
}

// inboxRows reads one page of the whole box (teamID 0) or of a team's
// box: the plain box as a prepared statement, a search as a built one
// (its text differs per query), with the search's scope.
func (s *Service) inboxRows(ctx context.Context, idb bun.IDB, user *db.User, teamID int64, query string, limit, offset int) ([]inboxRow, int, error) {
	if query != "" {
		return s.searchRows(ctx, idb, user, searchBox{team: teamID}, query, limit, offset)
	}
	var rows []inboxRow
	var err error
	if teamID != 0 {
		rows, err = s.pageRows(ctx, s.DB.Text("messaging.teamPage", func() string { return s.pageWith(teamPageQuery) }), s.teamArgs(user.ID, teamID, limit, offset)...)
	} else {
		rows, err = s.pageRows(ctx, s.DB.Text("messaging.inboxPage", func() string { return s.pageWith(inboxPageQuery) }), s.inboxArgs(user.ID, limit, offset)...)
	}
	return rows, 0, err
}

// searchRows reads one page of search results in box, and the scope of
// the search (searchChoice.scope).
func (s *Service) searchRows(ctx context.Context, idb bun.IDB, user *db.User, box searchBox, query string, limit, offset int) ([]inboxRow, int, error) {
	q, plan, err := s.searchQuery(ctx, idb, user, box, query, limit, offset)
	if err != nil || q == nil {
		return nil, plan.scope, err
	}
	rows, err := idb.QueryContext(ctx, s.pageWith(q.String()), s.pageArgs(user.ID)...)
	if err != nil {
		return nil, 0, err
	}
	found, err := scanPageRows(rows)
	return found, plan.scope, err
}

// pageRows runs a fixed page query (pageWith) as a prepared statement.
func (s *Service) pageRows(ctx context.Context, query string, args ...any) ([]inboxRow, error) {
	rows, err := s.DB.QueryPrepared(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	return scanPageRows(rows)
}

// scanPageRows reads the rows of a page query in pageWith's column order,
// and closes them. It scans by hand: bun's scan by reflection took about
// a sixth of a page read from the database, and every page after a change
// to the box (a new message, a read) is read from the database.
func scanPageRows(rows *sql.Rows) ([]inboxRow, error) {
	defer rows.Close()
	out := make([]inboxRow, 0, PageSize+1)
	// One set of destinations for all rows: Scan sets each of them (a NULL
	// included), and destinations passed to Scan live on the heap.
	var r inboxRow
	var last, activity bun.NullTime
	var others, assignee sql.NullString
	var total sql.NullInt64
	for rows.Next() {
		if err := rows.Scan(&r.ID, &r.Subject, &r.OrgName, &last, &r.Unread, &others, &assignee, &total, &activity); err != nil {
			return nil, fmt.Errorf("scan page: %w", err)
		}
		r.LastMessageAt, r.Others, r.Assignee, r.TotalUnread, r.LastActivityAt = last.Time, others.String, assignee.String, int(total.Int64), activity.Time
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("scan page: %w", err)
	}
	return out, nil
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

// nameExpr is the text a person is found by (db.PersonNameExpr): without
// alias it is the expression of the people search index.
func nameExpr(a string) string { return db.PersonNameExpr(a) }

// searchWhere restricts an inbox query to threads that match query: by
// subject, by the organisation's name, or by another participant's name
// or mail address (for an external user, only an internal user's address,
// and never of someone taking part through a team: an outsider sees the
// team, not its members).
func (s *Service) searchWhere(q *bun.SelectQuery, user *db.User, query string, plan searchChoice) *bun.SelectQuery {
	// contains is the condition that the text expr contains query in any
	// case, with its argument. SQLite's LOWER and LIKE fold ASCII letters
	// only: there a GLOB pattern names every case form of each letter.
	like := db.ContainsPattern(query)
	contains := func(expr string) string { return "LOWER(" + expr + ") LIKE ? ESCAPE '\\'" }
	pattern := like
	if !s.DB.Postgres() {
		contains = func(expr string) string { return expr + " GLOB ?" }
		pattern = foldGlob(query)
	}
	internal := user.Kind == db.KindInternal
	orgs, orgArgs := s.orgsMatching(query)
	orgMatch := "t.org_id IN (" + orgs + ")"
	if utf8.RuneCountInString(query) < MinSearchIndexed {
		// Too short for trigrams: match within the user's own box.
		return q.Where(`(`+contains("t.subject")+` OR `+orgMatch+` OR EXISTS (
  SELECT 1 FROM participants AS op JOIN users AS ou ON ou.id = op.user_id
  WHERE op.thread_id = p.thread_id AND op.user_id <> ? AND (? OR op.via_team_id IS NULL) AND (`+contains(nameExpr("ou"))+`
    OR (`+contains("ou.email")+` AND (? OR ou.kind = ?)))))`,
			pattern, orgArgs[0], user.ID, internal, pattern, pattern, internal, db.KindInternal)
	}
	// The subject is tested on the row the walk reads anyway: through the
	// index it would be every matching subject of the installation, read
	// before the walk could stop at a full page. What the plan's count
	// found (plan.counted) spares the walk the subqueries it answered.
	where, args := contains("t.subject"), []any{pattern}
	switch {
	case plan.peopleIDs == nil:
		_, _, people, peopleArgs := s.searchMatchParts(user, query)
		where, args = where+" OR p.thread_id IN ("+people+")", append(args, peopleArgs...)
	case len(plan.peopleIDs) > 0:
		where, args = where+" OR p.thread_id IN (?)", append(args, bun.In(plan.peopleIDs))
	}
	if !plan.counted || plan.org {
		where, args = where+" OR "+orgMatch, append(args, orgArgs...)
	}
	return q.Where("("+where+")", args...)
}

// orgsMatching is a subquery of the ids of the organisations whose name
// contains query, with its argument.
func (s *Service) orgsMatching(query string) (string, []any) {
	if s.DB.Postgres() {
		return "SELECT org.id FROM organisations AS org WHERE LOWER(org.name) LIKE ? ESCAPE '\\'", []any{db.ContainsPattern(query)}
	}
	return "SELECT org.id FROM organisations AS org WHERE org.name GLOB ?", []any{foldGlob(query)}
}

// searchMatchParts are the subqueries of the conversations that match
// query (of at least MinSearchIndexed characters) installation-wide,
// each of a column id, with their arguments: by subject, through
// threads_fts (SQLite) or the trigram index of threads.subject
// (PostgreSQL), and those of the other people who match by name or
// address (peopleMatching; for an external user, only through their own
// account, never through a team: an outsider sees the team, not its
// members).
func (s *Service) searchMatchParts(user *db.User, query string) (subjects string, subjectArgs []any, people string, peopleArgs []any) {
	if s.DB.Postgres() {
		subjects = "SELECT th.id FROM threads AS th WHERE LOWER(th.subject) LIKE ? ESCAPE '\\'"
		subjectArgs = []any{db.ContainsPattern(query)}
	} else {
		subjects = "SELECT rowid AS id FROM threads_fts WHERE threads_fts MATCH ?"
		subjectArgs = []any{"subject : " + db.FTSPhrase(query)}
	}
	internal := user.Kind == db.KindInternal
	who, whoArgs := s.peopleMatching(query, internal)
	people = "SELECT op.thread_id AS id FROM participants AS op WHERE op.user_id IN (" + who + ") AND op.user_id <> ? AND (? OR op.via_team_id IS NULL)"
	peopleArgs = append(append([]any{}, whoArgs...), user.ID, internal)
	return subjects, subjectArgs, people, peopleArgs
}

// searchMatching is the subquery of the conversations that match query
// by subject or person (searchMatchParts), each once, with its
// arguments.
func (s *Service) searchMatching(user *db.User, query string) (string, []any) {
	subjects, subjectArgs, people, peopleArgs := s.searchMatchParts(user, query)
	return subjects + " UNION " + people, append(append([]any{}, subjectArgs...), peopleArgs...)
}

// foldGlob is a GLOB pattern (SQLite) of the texts that contain s in any
// case: each letter with other case forms becomes the set of all of them
// ([éÉ]), and GLOB's own special characters stand for themselves.
func foldGlob(s string) string {
	var b strings.Builder
	b.WriteByte('*')
	for _, r := range s {
		if f := unicode.SimpleFold(r); f != r {
			b.WriteByte('[')
			b.WriteRune(r)
			for ; f != r; f = unicode.SimpleFold(f) {
				b.WriteRune(f)
			}
			b.WriteByte(']')
			continue
		}
		switch r {
		case '*', '?', '[':
			b.WriteByte('[')
			b.WriteRune(r)
			b.WriteByte(']')
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('*')
	return b.String()
}

// peopleMatching is a subquery of the ids of the users whose name or mail
// address contains query (an address only when internal is set, or of an
// internal user), through the users_name_trgm index (PostgreSQL) or
// users_fts (SQLite); query must have at least MinSearchIndexed
// characters.
func (s *Service) peopleMatching(query string, internal bool) (string, []any) {
	if s.DB.Postgres() {
		like := db.ContainsPattern(query)
		return "SELECT u.id FROM users AS u WHERE LOWER(" + nameExpr("") + ") LIKE ? ESCAPE '\\' OR (LOWER(u.email) LIKE ? ESCAPE '\\' AND (? OR u.kind = ?))",
			[]any{like, like, internal, db.KindInternal}
	}
	phrase := db.FTSPhrase(query)
	return "SELECT rowid FROM users_fts WHERE users_fts MATCH ? UNION SELECT f.rowid FROM users_fts AS f JOIN users AS u ON u.id = f.rowid WHERE users_fts MATCH ? AND (? OR u.kind = ?)",
		[]any{"name : " + phrase, "email : " + phrase, internal, db.KindInternal}
}

// UnreadCount counts the user's unread messages: their stored total (the
// session's user row carries it too).
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

const unreadQuery = "SELECT u.unread_total FROM users AS u WHERE u.id = ?"
