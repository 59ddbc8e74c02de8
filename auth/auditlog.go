package auth

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"dialoog/apperr"
	"dialoog/i18n"
)

// AuditPageSize is how many rows a page of Beheer's audit log shows.
const AuditPageSize = 50

// auditExportBatch is how many rows the CSV export reads at a time.
const auditExportBatch = 500

// AuditQuery narrows the organisation's audit log: Person is part of the
// address or name of the person an event is about or of who did it; From
// and To are days ("2006-01-02", Dutch time), both included, either may
// be empty.
type AuditQuery struct {
	Person   string
	From, To string
	Page     int
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

// AuditPage is a page of the log, newest first.
type AuditPage struct {
	Rows []AuditRow
	Page int
	More bool
}

// auditOrgIDs selects the ids of the audit rows that belong to an
// organisation, within the days from and to (zero: open): its admins' actions and the
// helpdesk resets they started (org_id), and every event about or by one
// of its internal users. Events of external users outside the
// organisation's own actions are theirs and other organisations' too, and
// are not shown.
//
// As SQL it is a list of ids (auditOrgIDs) gathered through indexes: the
// organisation's own rows (audit_events_org_idx), and the rows about or by
// each of its users (users_org_idx, then audit_events_user_idx and
// audit_events_actor_idx), each within the days asked for; never a scan of
// every organisation's rows.
func auditOrgIDs(org int64, from, to time.Time) (string, []any) {
	var rng string
	var rargs []any
	if !from.IsZero() {
		rng += " AND x.created_at >= ?"
		rargs = append(rargs, from.UTC())
	}
	if !to.IsZero() {
		rng += " AND x.created_at < ?"
		rargs = append(rargs, to.UTC())
	}
	sql := "SELECT x.id FROM audit_events AS x WHERE x.org_id = ?" + rng +
		" UNION SELECT x.id FROM users AS xu JOIN audit_events AS x ON x.user_id = xu.id WHERE xu.org_id = ?" + rng +
		" UNION SELECT x.id FROM users AS xu JOIN audit_events AS x ON x.actor_id = xu.id WHERE xu.org_id = ?" + rng
	var args []any
	for i := 0; i < 3; i++ {
		args = append(append(args, org), rargs...)
	}
	return sql, args
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

func (s *Admin) auditSelect(org int64, q AuditQuery, from, to time.Time) *bun.SelectQuery {
	sel := s.Accounts.DB.NewSelect().TableExpr("audit_events AS ae").
		Join("LEFT JOIN users AS su ON su.id = ae.user_id").
		Join("LEFT JOIN users AS au ON au.id = ae.actor_id").
		ColumnExpr("ae.id, ae.created_at AS at, ae.kind, ae.detail, ae.ip").
		ColumnExpr("COALESCE(su.email, '') AS person, COALESCE(au.email, '') AS actor")
	ids, args := auditOrgIDs(org, from, to)
	sel = sel.Where("ae.id IN ("+ids+")", args...)
	if p := strings.TrimSpace(q.Person); p != "" {
		pat := likePattern(p)
		sel = sel.Where("(LOWER(su.email) LIKE ? ESCAPE '!' OR "+nameExpr("su")+" LIKE ? ESCAPE '!' OR LOWER(au.email) LIKE ? ESCAPE '!' OR "+nameExpr("au")+" LIKE ? ESCAPE '!')",
			pat, pat, pat, pat)
	}
	if !from.IsZero() {
		sel = sel.Where("ae.created_at >= ?", from.UTC())
	}
	if !to.IsZero() {
		sel = sel.Where("ae.created_at < ?", to.UTC())
	}
	return sel
}

// AuditLog returns a page of the organisation's audit log, newest first.
func (s *Admin) AuditLog(ctx context.Context, cur *Current, q AuditQuery) (*AuditPage, error) {
	org, err := orgOf(cur)
	if err != nil {
		return nil, err
	}
	from, to, err := auditBounds(q)
	if err != nil {
		return nil, err
	}
	q.Page = adminPage(q.Page)
	var rows []AuditRow
	if err := s.auditSelect(org, q, from, to).OrderExpr("ae.id DESC").
		Limit(AuditPageSize+1).Offset(int64((q.Page-1)*AuditPageSize)).Scan(ctx, &rows); err != nil {
		return nil, fmt.Errorf("admin: audit log: %w", err)
	}
	out := &AuditPage{Page: q.Page, More: len(rows) > AuditPageSize}
	if out.More {
		rows = rows[:AuditPageSize]
	}
	out.Rows = rows
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
	var last int64
	for {
		var rows []AuditRow
		sel := s.auditSelect(org, q, from, to)
		if last > 0 {
			sel = sel.Where("ae.id < ?", last)
		}
		if err := sel.OrderExpr("ae.id DESC").Limit(auditExportBatch).Scan(ctx, &rows); err != nil {
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
		last = rows[len(rows)-1].ID
	}
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
