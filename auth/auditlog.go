package auth

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/uptrace/bun"

	"dialoog/apperr"
	"dialoog/db"
	"dialoog/i18n"
)

// AuditPageSize is how many rows a page of Beheer's audit log shows.
const AuditPageSize = 50

// auditExportBatch is how many rows the CSV export reads at a time.
const auditExportBatch = 500

// AuditQuery narrows the organisation's audit log: Person is part of the
// address or name of the person an event is about or of who did it; From
// and To are days ("2006-01-02", Dutch time), both included, either may
// be empty. A page starts after the row After (AuditRow.Cursor: older
// rows), or ends before the row Before (newer rows), or is the newest
// when neither is given or is not a cursor; After wins over Before.
type AuditQuery struct {
	Person        string
	From, To      string
	After, Before string
}

// AuditRow is one event of the log.
type AuditRow struct {
	ID     int64
	At     time.Time
	Kind   string
	Person string // mail address of whom it is about, "" when none
	Actor  string // mail address of who did it, "" when the person
	Detail string
	IP     string
}

// Cursor names the row's place in the log, for AuditQuery's After and
// Before.
func (r AuditRow) Cursor() string {
	return strconv.FormatInt(r.At.UnixNano(), 10) + "." + strconv.FormatInt(r.ID, 10)
}

// AuditPage is a page of the log, newest first (by time, then by id):
// Prev when there are newer rows, More when there are older ones.
type AuditPage struct {
	Rows       []AuditRow
	Prev, More bool
}

// parseAuditCursor reads AuditRow.Cursor; nil for anything else.
func parseAuditCursor(s string, back bool) *auditCursor {
	at, id, ok := strings.Cut(s, ".")
	if !ok {
		return nil
	}
	ns, err := strconv.ParseInt(at, 10, 64)
	if err != nil {
		return nil
	}
	n, err := strconv.ParseInt(id, 10, 64)
	if err != nil {
		return nil
	}
	return &auditCursor{at: time.Unix(0, ns).UTC(), id: n, back: back}
}

// auditPeopleMax is the most people a search by person reads the log of
// one by one, each in the log's order under the page's limit
// (auditPeople).
const auditPeopleMax = 25

// auditManyPeopleMax and auditManyRowsMax bound a search that more than
// auditPeopleMax people match: up to auditManyPeopleMax people whose rows
// (about or by them, any organisation's) are few have those rows read
// together and sorted. A text that more people match, or whose people
// have more rows, walks the organisation's log in its order instead,
// where so many rows of theirs fill a page soon. Few is at most
// auditManyRowsMax, and at most sqrt(AuditPageSize * rows of the log):
// reading R rows of the people costs R, a walk about AuditPageSize times
// the log's rows over R. (Variables for the tests.)
var (
	auditManyPeopleMax = 1000
	auditManyRowsMax   = 20000
)

// auditPeople returns the ids of the users whose address or name contains
// person (as auditCandidates matches them), found through the people
// search index when the text is long enough for it; nil when person is
// empty, or when more than auditManyPeopleMax users match or more than
// auditPeopleMax whose rows number more than auditManyRowsMax (counted
// through the people's indexes, without reading the rows). Any user
// counts, also of another organisation or none: whose rows the
// organisation sees is auditCandidates' rule.
func (s *Admin) auditPeople(ctx context.Context, person string) ([]int64, error) {
	if person == "" {
		return nil, nil
	}
	idb := s.Accounts.DB
	pat := likePattern(person)
	q := idb.NewSelect().TableExpr("users AS u").ColumnExpr("u.id").
		Where("(LOWER(u.email) LIKE ? ESCAPE '!' OR "+nameExpr("u")+" LIKE ? ESCAPE '!')", pat, pat)
	if utf8.RuneCountInString(person) >= db.MinSearchIndexed {
		sub, args := peopleIndexed(idb.Postgres(), person)
		q = q.Where("u.id IN ("+sub+")", args...)
	}
	ids := []int64{}
	if err := q.Limit(int64(auditManyPeopleMax+1)).Scan(ctx, &ids); err != nil {
		return nil, fmt.Errorf("admin: audit log people: %w", err)
	}
	if len(ids) > auditManyPeopleMax {
		return nil, nil
	}
	if len(ids) <= auditPeopleMax {
		return ids, nil
	}
	// Their rows, counted up to the bound through each column's index
	// (the person first), and the size of the log (its last id).
	var c struct {
		N    int
		Last int64
	}
	if err := idb.NewRaw(`SELECT (SELECT count(*) FROM (SELECT 1 FROM audit_events WHERE user_id IN (?) LIMIT ?) AS a)
  + (SELECT count(*) FROM (SELECT 1 FROM audit_events WHERE actor_id IN (?) LIMIT ?) AS b) AS n,
  (SELECT COALESCE(max(id), 0) FROM audit_events) AS last`,
		bun.In(ids), auditManyRowsMax+1, bun.In(ids), auditManyRowsMax+1).Scan(ctx, &c); err != nil {
		return nil, fmt.Errorf("admin: audit log people's rows: %w", err)
	}
	if c.N > auditManyRowsMax || c.N*c.N > AuditPageSize*int(c.Last) {
		return nil, nil
	}
	return ids, nil
}

// auditCandidates selects, as rows (id, created_at), the newest limit
// rows of the organisation's audit log, within the days from and to (zero:
// open), before the row at (nil: from the newest; when at.back, the
// oldest limit rows after it instead), and about or by a person matching
// person when it is not empty. An organisation's rows are
// its admins' actions and the helpdesk resets they started (org_id), and
// every event about or by one of its internal users (user_org_id and
// actor_org_id, which migration 0048's triggers keep equal to those
// users' org_id). Events of external users outside the organisation's own
// actions are theirs and other organisations' too, and are not shown.
//
// Without people (nil), each of the three is a range of its own index in
// the log's order (created_at, id) under the LIMIT, so a page reads at
// most limit rows of each, however long the organisation's log: never
// every row of the organisation, let alone of every organisation. A
// search by person then keeps the rows about or by a match as it walks,
// which for a person with few rows is the organisation's whole log; so
// when auditPeople found the people that match (at most auditPeopleMax,
// not empty), the rows are instead those about (user_id) or by
// (actor_id) each of them, each a range of that person's index in the
// log's order under the LIMIT, kept when they are the organisation's: a
// page reads at most limit rows of each person that are the
// organisation's, and of a person of another organisation the rows it
// passes over are that person's, never the organisation's log.
func auditCandidates(postgres bool, org int64, person string, people []int64, from, to time.Time, at *auditCursor, limit int) (string, []any) {
	var cond string
	var cargs []any
	if !from.IsZero() {
		cond += " AND x.created_at >= ?"
		cargs = append(cargs, from.UTC())
	}
	if !to.IsZero() {
		cond += " AND x.created_at < ?"
		cargs = append(cargs, to.UTC())
	}
	dir := " DESC"
	switch {
	case at != nil && at.back:
		dir = " ASC"
		// The first condition bounds the index range on either engine; the
		// second is the cursor.
		cond += " AND x.created_at >= ? AND (x.created_at, x.id) > (?, ?)"
		cargs = append(cargs, at.at.UTC(), at.at.UTC(), at.id)
	case at != nil:
		cond += " AND x.created_at <= ? AND (x.created_at, x.id) < (?, ?)"
		cargs = append(cargs, at.at.UTC(), at.at.UTC(), at.id)
	}
	join := ""
	var parts []string
	var args []any
	order := " ORDER BY x.created_at" + dir + ", x.id" + dir + " LIMIT ?"
	part := func(where string, wargs ...any) {
		parts = append(parts, "SELECT b.id, b.created_at FROM (SELECT x.id, x.created_at FROM audit_events AS x"+join+
			" WHERE "+where+cond+order+") AS b")
		args = append(append(append(args, wargs...), cargs...), limit)
	}
	switch {
	case len(people) > auditPeopleMax:
		// Many people with few rows (auditPeople): each column's rows of
		// all of them, through the column's index, sorted; the
		// organisation's columns a filter as below.
		for _, col := range []string{"user_id", "actor_id"} {
			part("x."+col+" IN (?) AND (x.org_id + 0 = ? OR x.user_org_id + 0 = ? OR x.actor_org_id + 0 = ?)", bun.In(people), org, org, org)
		}
	case len(people) > 0:
		if postgres {
			// The person's indexes hold (created_at) without the id (on
			// SQLite the rowid ends every index): the first limit rows in
			// time and those recorded at the same time as the last of them
			// are a range in the index's order, where sorting by id too
			// would sort all of the person's rows first. The page sorts
			// the ties.
			order = " ORDER BY x.created_at" + dir + " FETCH FIRST ? ROWS WITH TIES"
		}
		for _, p := range people {
			for _, col := range []string{"user_id", "actor_id"} {
				// The organisation's columns are a filter of the person's
				// rows, "+ 0" keeping them out of the index choice: either
				// engine would otherwise intersect the person's index with
				// all of the organisation's.
				part("x."+col+" = ? AND (x.org_id + 0 = ? OR x.user_org_id + 0 = ? OR x.actor_org_id + 0 = ?)", p, org, org, org)
			}
		}
	default:
		if person != "" {
			pat := likePattern(person)
			join = " LEFT JOIN users AS xs ON xs.id = x.user_id LEFT JOIN users AS xa ON xa.id = x.actor_id"
			cond += " AND (LOWER(xs.email) LIKE ? ESCAPE '!' OR " + nameExpr("xs") + " LIKE ? ESCAPE '!' OR LOWER(xa.email) LIKE ? ESCAPE '!' OR " + nameExpr("xa") + " LIKE ? ESCAPE '!')"
			cargs = append(cargs, pat, pat, pat, pat)
		}
		for _, col := range []string{"org_id", "user_org_id", "actor_org_id"} {
			part("x."+col+" = ?", org)
		}
	}
	return strings.Join(parts, " UNION "), args
}

// auditCursor is where a page or a batch of the export continues: after
// the row with id, recorded at at, in the log's order (older rows), or
// when back before it (newer rows).
type auditCursor struct {
	at   time.Time
	id   int64
	back bool
}

// auditBounds turns the query's days into times; apperr Invalid on
// "from" or "to" for a day that does not parse or a range that ends
// before it starts.
func auditBounds(q AuditQuery) (from, to time.Time, err error) {
	if q.From != "" {
		d, ok := parseDay(q.From, i18n.Zone)
		if !ok {
			return from, to, apperr.Field("from", "admin.audit.date_invalid")
		}
		from = d
	}
	if q.To != "" {
		d, ok := parseDay(q.To, i18n.Zone)
		if !ok {
			return from, to, apperr.Field("to", "admin.audit.date_invalid")
		}
		to = d.AddDate(0, 0, 1)
	}
	if !from.IsZero() && !to.IsZero() && !from.Before(to) {
		return from, to, apperr.Field("to", "admin.audit.range_invalid")
	}
	return from, to, nil
}

// auditSelect selects the rows of the log from the candidates of
// auditCandidates (at most limit of each of their ranges), in the log's
// order (reversed when at.back); the caller adds the page's LIMIT. people
// is auditPeople's answer for q.Person, and not empty.
func (s *Admin) auditSelect(org int64, q AuditQuery, people []int64, from, to time.Time, at *auditCursor, limit int) *bun.SelectQuery {
	page, args := auditCandidates(s.Accounts.DB.Postgres(), org, strings.TrimSpace(q.Person), people, from, to, at, limit)
	dir := " DESC"
	if at != nil && at.back {
		dir = " ASC"
	}
	return s.Accounts.DB.NewSelect().TableExpr("("+page+") AS page", args...).
		Join("JOIN audit_events AS ae ON ae.id = page.id").
		Join("LEFT JOIN users AS su ON su.id = ae.user_id").
		Join("LEFT JOIN users AS au ON au.id = ae.actor_id").
		ColumnExpr("ae.id, ae.created_at AS at, ae.kind, ae.detail, ae.ip").
		ColumnExpr("COALESCE(su.email, '') AS person, COALESCE(au.email, '') AS actor").
		OrderExpr("page.created_at" + dir + ", page.id" + dir)
}

// auditPageSelect is auditSelect for a page of q (a row more than a page,
// to tell whether there are more), and the page's cursor.
func (s *Admin) auditPageSelect(org int64, q AuditQuery, people []int64, from, to time.Time) (*bun.SelectQuery, *auditCursor) {
	at := parseAuditCursor(q.After, false)
	if at == nil {
		at = parseAuditCursor(q.Before, true)
	}
	return s.auditSelect(org, q, people, from, to, at, AuditPageSize+1).Limit(AuditPageSize + 1), at
}

// AuditLog returns a page of the organisation's audit log, newest first.
// A page reads from after or before the row of its cursor (keyset), so
// the hundredth page costs what the first does.
func (s *Admin) AuditLog(ctx context.Context, cur *Current, q AuditQuery) (*AuditPage, error) {
	org, err := orgOf(cur)
	if err != nil {
		return nil, err
	}
	from, to, err := auditBounds(q)
	if err != nil {
		return nil, err
	}
	people, err := s.auditPeople(ctx, strings.TrimSpace(q.Person))
	if err != nil {
		return nil, err
	}
	if people != nil && len(people) == 0 {
		// Nobody matches: no row is about or by them.
		return &AuditPage{}, nil
	}
	var rows []AuditRow
	sel, at := s.auditPageSelect(org, q, people, from, to)
	if err := sel.Scan(ctx, &rows); err != nil {
		return nil, fmt.Errorf("admin: audit log: %w", err)
	}
	full := len(rows) > AuditPageSize
	if full {
		rows = rows[:AuditPageSize]
	}
	out := &AuditPage{Rows: rows}
	if at != nil && at.back {
		// Read backwards from Before: put the page in the log's order. It
		// was reached from an older page, so older rows come after it.
		slices.Reverse(rows)
		out.Prev, out.More = full, true
	} else {
		out.Prev, out.More = at != nil, full
	}
	return out, nil
}

// CheckAuditQuery validates a query before an export starts streaming
// (apperr Invalid as AuditLog), and NotFound for a non-admin.
func (s *Admin) CheckAuditQuery(cur *Current, q AuditQuery) error {
	if _, err := orgOf(cur); err != nil {
		return err
	}
	_, _, err := auditBounds(q)
	return err
}

// ExportAudit writes every row of the query (all pages) to w as CSV,
// newest first, reading auditExportBatch rows at a time; the export is
// itself audited. Cells that a spreadsheet would take for a formula
// (starting with = + - @, tab or carriage return) get a leading quote.
func (s *Admin) ExportAudit(ctx context.Context, cur *Current, q AuditQuery, ip string, w io.Writer) error {
	org, err := orgOf(cur)
	if err != nil {
		return err
	}
	from, to, err := auditBounds(q)
	if err != nil {
		return err
	}
	if err := Audit(ctx, s.Accounts.DB, AuditEntry{UserID: &cur.User.ID, ActorID: &cur.User.ID, OrgID: &org, Kind: "admin.audit_exported", IP: ip, Now: s.Accounts.Now()}); err != nil {
		return err
	}
	cw := csv.NewWriter(w)
	if err := cw.Write([]string{"time", "event", "person", "by", "detail", "ip"}); err != nil {
		return fmt.Errorf("audit export: %w", err)
	}
	people, err := s.auditPeople(ctx, strings.TrimSpace(q.Person))
	if err != nil {
		return err
	}
	var after *auditCursor
	for people == nil || len(people) > 0 {
		var rows []AuditRow
		if err := s.auditSelect(org, q, people, from, to, after, auditExportBatch).Limit(auditExportBatch).Scan(ctx, &rows); err != nil {
			return fmt.Errorf("audit export: %w", err)
		}
		for _, r := range rows {
			rec := []string{r.At.In(i18n.Zone).Format(time.RFC3339), r.Kind, r.Person, r.Actor, r.Detail, r.IP}
			for i := range rec {
				rec[i] = CSVCell(rec[i])
			}
			if err := cw.Write(rec); err != nil {
				return fmt.Errorf("audit export: %w", err)
			}
		}
		cw.Flush()
		if err := cw.Error(); err != nil {
			return fmt.Errorf("audit export: %w", err)
		}
		if len(rows) < auditExportBatch {
			return nil
		}
		last := rows[len(rows)-1]
		after = &auditCursor{at: last.At, id: last.ID}
	}
	// Nobody matches: the header alone.
	cw.Flush()
	return cw.Error()
}

// CSVCell guards a cell against formula injection: a value a spreadsheet
// would evaluate gets a leading apostrophe. The CSV writer does the
// quoting.
func CSVCell(v string) string {
	if v != "" && strings.ContainsRune("=+-@\t\r", rune(v[0])) {
		return "'" + v
	}
	return v
}
