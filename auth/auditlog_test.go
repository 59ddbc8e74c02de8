package auth_test

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"dialoog/auth"
	"dialoog/db"
	"dialoog/db/dbtest"
	"dialoog/identity"
)

// auditScan is a plan line that reads every audit row.
var auditScan = regexp.MustCompile(`^SCAN (ae|x|audit_events)( |$)|^Seq Scan on audit_events$`)

// TestAuditLogPlans checks with EXPLAIN, on both engines and with and
// without planner statistics, that a page of Beheer's audit log, searched
// by person and days or not, reads an organisation's rows through indexes
// among 6,000 rows of two organisations and of people outside both.
func TestAuditLogPlans(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		orgs := seedAudit(t, d)
		a := &auth.Admin{Accounts: &auth.Accounts{DB: d}}
		queries := map[string]auth.AuditQuery{
			"page 1":          {},
			"page 1 by days":  {From: "2026-03-03", To: "2026-03-04"},
			"person":          {Person: "u07@"},
			"person and days": {Person: "u07@", From: "2026-03-03"},
			"many people":     {Person: "@example.nl"},
		}
		check := func(t *testing.T) {
			for name, q := range queries {
				sql := a.AuditSQL(orgs[0], q)
				plan := dbtest.Plan(t, d, sql)
				if testing.Verbose() {
					t.Logf("%s:\n  %s", name, strings.Join(plan, "\n  "))
				}
				for _, line := range plan {
					if auditScan.MatchString(line) {
						t.Errorf("%s reads every audit row: %q in\n%s\n%s", name, line, strings.Join(plan, "\n"), sql)
					}
				}
			}
		}
		t.Run("without statistics", check)
		if _, err := d.ExecContext(ctx, "ANALYZE"); err != nil {
			t.Fatal(err)
		}
		t.Run("with statistics", check)
	})
}

// TestAuditLogReadsAPage checks with EXPLAIN, on both engines and with and
// without planner statistics, that a page of Beheer's audit log and a
// batch of its CSV export read the organisation's newest rows under a
// LIMIT, from indexes in the log's order: not every row of the
// organisation and its people, gathered and sorted for each page (which
// made the export read the whole log once per batch). On PostgreSQL every
// read of audit_events sits under a Limit with no sort in between; on
// SQLite no read of audit_events is sorted (only the few candidates the
// limited reads return are) and none goes through the organisation's
// users. The primary key lookups of the page's candidates are not reads
// of the log.
//
// A search by person that few people match reads each one's rows from
// their own indexes, the same way (TestAuditLogPersonReadsTheirRows
// checks that it does not walk the organisation's log); one that more
// people match walks the organisation's rows newest first until it has a
// page of theirs, which for rare ones is the organisation's rows in full
// (TestAuditLogPlans checks that it reads only those).
func TestAuditLogReadsAPage(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		orgs := seedAudit(t, d)
		a := &auth.Admin{Accounts: &auth.Accounts{DB: d}}
		row := auth.AuditRow{At: time.Date(2026, 3, 3, 12, 0, 0, 0, time.UTC), ID: 3000}.Cursor()
		queries := map[string]string{
			"page 1":         a.AuditSQL(orgs[0], auth.AuditQuery{}),
			"older page":     a.AuditSQL(orgs[0], auth.AuditQuery{After: row}),
			"newer page":     a.AuditSQL(orgs[0], auth.AuditQuery{Before: row}),
			"page 1 by days": a.AuditSQL(orgs[0], auth.AuditQuery{From: "2026-03-03", To: "2026-03-04"}),
			"export batch":   a.AuditBatchSQL(orgs[0], auth.AuditQuery{}),
			"export by days": a.AuditBatchSQL(orgs[0], auth.AuditQuery{From: "2026-03-03"}),
			"person":         a.AuditSQL(orgs[0], auth.AuditQuery{Person: "u07@"}),
			"person older":   a.AuditSQL(orgs[0], auth.AuditQuery{Person: "u0", After: row}),
			"person newer":   a.AuditSQL(orgs[0], auth.AuditQuery{Person: "u0", Before: row}),
			"export person":  a.AuditBatchSQL(orgs[0], auth.AuditQuery{Person: "u07@"}),
		}
		check := func(t *testing.T) {
			for name, sql := range queries {
				paths := dbtest.PlanPaths(t, d, sql)
				var plan []string
				for _, p := range paths {
					plan = append(plan, strings.Repeat("  ", len(p)-1)+p[len(p)-1])
				}
				if testing.Verbose() {
					t.Logf("%s:\n%s", name, strings.Join(plan, "\n"))
				}
				for _, p := range paths {
					line := p[len(p)-1]
					switch {
					case d.Postgres() && strings.Contains(line, " on audit_events") && !strings.HasSuffix(line, "using audit_events_pkey") && !limitedRead(p):
						t.Errorf("%s reads audit rows without a limit: %q in\n%s\n%s", name, line, strings.Join(plan, "\n"), sql)
					case !d.Postgres() && line == "USE TEMP B-TREE FOR ORDER BY" && sortsLogRows(paths, p):
						t.Errorf("%s sorts audit rows before the page's limit in\n%s\n%s", name, strings.Join(plan, "\n"), sql)
					case !d.Postgres() && strings.HasPrefix(line, "SEARCH xu "):
						t.Errorf("%s gathers the rows of every user of the organisation in\n%s\n%s", name, strings.Join(plan, "\n"), sql)
					}
				}
			}
		}
		t.Run("without statistics", check)
		if _, err := d.ExecContext(ctx, "ANALYZE"); err != nil {
			t.Fatal(err)
		}
		t.Run("with statistics", check)
	})
}

// limitedRead reports whether a PostgreSQL plan node (the last of its
// path) is read under a Limit that takes its rows in their order: the
// nearest Limit, Sort or Aggregate above it is a Limit.
func limitedRead(path []string) bool {
	for i := len(path) - 2; i >= 0; i-- {
		switch n := path[i]; {
		case n == "Limit":
			return true
		case strings.Contains(n, "Sort"), strings.Contains(n, "Aggregate"), strings.HasPrefix(n, "Hash"), strings.HasPrefix(n, "Unique"):
			return false
		}
	}
	return false
}

// sortsLogRows reports whether a SQLite sort node (path p among paths)
// sorts rows its query reads from audit_events itself (alias x), rather
// than the output of a subquery.
func sortsLogRows(paths [][]string, p []string) bool {
	parent := p[:len(p)-1]
	for _, q := range paths {
		if len(q) != len(p) || !slices.Equal(q[:len(q)-1], parent) {
			continue
		}
		if n := q[len(q)-1]; strings.HasPrefix(n, "SEARCH x ") || n == "SCAN x" || strings.HasPrefix(n, "SCAN x ") {
			return true
		}
	}
	return false
}

// seedAudit fills the audit log with 6,000 rows of two organisations and
// of people outside both, and returns the organisations.
func seedAudit(t *testing.T, d *db.DB) []int64 {
	t.Helper()
	ctx := context.Background()
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	var orgs []int64
	for _, name := range []string{"OSAW", "Ander"} {
		o := &db.Organisation{Name: name, CreatedAt: now}
		if _, err := d.NewInsert().Model(o).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		orgs = append(orgs, o.ID)
	}
	var users []int64
	for i := 0; i < 60; i++ {
		u := &db.User{Email: fmt.Sprintf("u%02d@example.nl", i), Kind: db.KindExternal, Status: db.StatusActive, Language: "nl",
			Gender: "unknown", CreatedAt: now, UpdatedAt: now}
		if i < 40 {
			u.Kind, u.OrgID = db.KindInternal, &orgs[i%2]
		}
		if _, err := d.NewInsert().Model(u).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		users = append(users, u.ID)
	}
	evs := make([]db.AuditEvent, 6000)
	for i := range evs {
		u := users[i%len(users)]
		evs[i] = db.AuditEvent{UserID: &u, ActorID: &u, Kind: "login.ok", CreatedAt: now.Add(time.Duration(i) * time.Minute)}
		if i%10 == 0 {
			evs[i].OrgID = &orgs[i%2]
		}
	}
	if _, err := d.NewInsert().Model(&evs).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	return orgs
}

// TestAuditLogRowsOfOrganisation: the log lists exactly the rows of the
// organisation (its own, and those about or by its internal users as
// users.org_id says now, also after one moved to another organisation),
// newest first with ties in id order, the same in its pages as in an
// export of more than one batch, by days and by person (few people or
// more than a search reads the rows of one by one, or nobody); and never
// another organisation's or an external user's own rows.
func TestAuditLogRowsOfOrganisation(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
		var orgs []int64
		for _, name := range []string{"OSAW", "Ander"} {
			o := &db.Organisation{Name: name, CreatedAt: now}
			if _, err := d.NewInsert().Model(o).Exec(ctx); err != nil {
				t.Fatal(err)
			}
			orgs = append(orgs, o.ID)
		}
		var users []int64
		for i := 0; i < 12; i++ {
			u := &db.User{Email: fmt.Sprintf("p%02d@example.nl", i), Kind: db.KindExternal, Status: db.StatusActive, Language: "nl",
				Gender: "unknown", FirstName: fmt.Sprintf("Naam%02d", i), CreatedAt: now, UpdatedAt: now}
			if i < 8 {
				u.Kind, u.OrgID = db.KindInternal, &orgs[i%2]
			}
			if _, err := d.NewInsert().Model(u).Exec(ctx); err != nil {
				t.Fatal(err)
			}
			users = append(users, u.ID)
		}
		// People with no rows, so that a text all of them match is one
		// that more people match than a search reads the rows of one by
		// one.
		for i := 0; i < 20; i++ {
			u := &db.User{Email: fmt.Sprintf("q%02d@example.nl", i), Kind: db.KindExternal, Status: db.StatusActive, Language: "nl",
				Gender: "unknown", CreatedAt: now, UpdatedAt: now}
			if _, err := d.NewInsert().Model(u).Exec(ctx); err != nil {
				t.Fatal(err)
			}
		}
		// 2,600 rows; every fifth has the time of an earlier one (ties and
		// ids out of time order), every seventh has no actor, every
		// eleventh is an organisation's own.
		evs := make([]db.AuditEvent, 2600)
		for i := range evs {
			u, a := users[i%len(users)], users[(i/3)%len(users)]
			at := now.Add(time.Duration(i) * time.Minute)
			if i%5 == 0 {
				at = now.Add(time.Duration(i/2) * time.Minute)
			}
			evs[i] = db.AuditEvent{UserID: &u, ActorID: &a, Kind: "login.ok", Detail: fmt.Sprint(i), CreatedAt: at}
			if i%7 == 0 {
				evs[i].ActorID = nil
			}
			if i%11 == 0 {
				evs[i].OrgID = &orgs[(i/11)%2]
			}
		}
		if _, err := d.NewInsert().Model(&evs).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		// One of the organisation's people moves to the other.
		if _, err := d.NewUpdate().Table("users").Set("org_id = ?", orgs[1]).Where("id = ?", users[2]).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		admin := &auth.Current{User: &identity.User{ID: users[0], OrgID: &orgs[0], Kind: db.KindInternal, IsAdmin: true, Status: db.StatusActive}}
		a := &auth.Admin{Accounts: &auth.Accounts{DB: d, Now: func() time.Time { return now }}}

		// want lists the details of the organisation's rows by the
		// definition, read without the log's query.
		want := func(q auth.AuditQuery, from, to time.Time) []string {
			var rows []struct {
				ID     int64
				Detail string
				At     time.Time `bun:"created_at"`
			}
			sql := `SELECT ae.id, ae.detail, ae.created_at FROM audit_events AS ae LEFT JOIN users AS su ON su.id = ae.user_id LEFT JOIN users AS au ON au.id = ae.actor_id
WHERE (ae.org_id = ? OR su.org_id = ? OR au.org_id = ?) AND ae.kind <> 'admin.audit_exported'`
			args := []any{orgs[0], orgs[0], orgs[0]}
			if q.Person != "" {
				sql += " AND (su.email LIKE ? OR au.email LIKE ?)"
				args = append(args, "%"+q.Person+"%", "%"+q.Person+"%")
			}
			if !from.IsZero() {
				sql += " AND ae.created_at >= ?"
				args = append(args, from)
			}
			if !to.IsZero() {
				sql += " AND ae.created_at < ?"
				args = append(args, to)
			}
			if err := d.NewRaw(sql+" ORDER BY ae.created_at DESC, ae.id DESC", args...).Scan(ctx, &rows); err != nil {
				t.Fatal(err)
			}
			var out []string
			for _, r := range rows {
				out = append(out, r.Detail)
			}
			return out
		}
		for name, c := range map[string]struct {
			q        auth.AuditQuery
			from, to time.Time
		}{
			"all":     {},
			"days":    {q: auth.AuditQuery{From: "2026-03-02", To: "2026-03-02"}, from: time.Date(2026, 3, 1, 23, 0, 0, 0, time.UTC), to: time.Date(2026, 3, 2, 23, 0, 0, 0, time.UTC)},
			"person":  {q: auth.AuditQuery{Person: "p05@"}},
			"mover":   {q: auth.AuditQuery{Person: "p02@"}},
			"outside": {q: auth.AuditQuery{Person: "p11@"}},
			"many":    {q: auth.AuditQuery{Person: "@example.nl"}},
			"short":   {q: auth.AuditQuery{Person: "p1"}},
			"nobody":  {q: auth.AuditQuery{Person: "nobody@"}},
		} {
			t.Run(name, func(t *testing.T) {
				exp := want(c.q, c.from, c.to)
				if name == "all" && len(exp) < 2*500 {
					t.Fatalf("only %d rows: the export reads one batch", len(exp))
				}
				// Forward from the newest page, each after the last row of
				// the one before; then back from the last, each before the
				// first row of the one after, through the same pages.
				var paged []string
				var pages [][]string
				var firsts []string // cursor of each page's first row
				q := c.q
				for {
					page, err := a.AuditLog(ctx, admin, q)
					if err != nil {
						t.Fatal(err)
					}
					if page.Prev != (len(pages) > 0) {
						t.Fatalf("page %d: prev %v", len(pages)+1, page.Prev)
					}
					var details []string
					for _, r := range page.Rows {
						details = append(details, r.Detail)
						if r.Kind != "admin.audit_exported" {
							paged = append(paged, r.Detail)
						}
					}
					pages = append(pages, details)
					if len(page.Rows) > 0 {
						firsts = append(firsts, page.Rows[0].Cursor())
					}
					if !page.More {
						break
					}
					q.After = page.Rows[len(page.Rows)-1].Cursor()
				}
				if !slices.Equal(paged, exp) {
					t.Errorf("pages list %d rows, want %d:\n%v\n%v", len(paged), len(exp), paged, exp)
				}
				for i := len(pages) - 2; i >= 0; i-- {
					back := c.q
					back.Before = firsts[i+1]
					page, err := a.AuditLog(ctx, admin, back)
					if err != nil {
						t.Fatal(err)
					}
					var details []string
					for _, r := range page.Rows {
						details = append(details, r.Detail)
					}
					if !slices.Equal(details, pages[i]) || page.Prev != (i > 0) || !page.More {
						t.Errorf("back to page %d: %v (prev %v, more %v), want %v", i+1, details, page.Prev, page.More, pages[i])
					}
				}
				var buf strings.Builder
				if err := a.ExportAudit(ctx, admin, c.q, "", &buf); err != nil {
					t.Fatal(err)
				}
				recs, err := csv.NewReader(strings.NewReader(buf.String())).ReadAll()
				if err != nil {
					t.Fatal(err)
				}
				var exported []string
				for _, r := range recs[1:] {
					if r[1] != "admin.audit_exported" {
						exported = append(exported, r[4])
					}
				}
				if !slices.Equal(exported, exp) {
					t.Errorf("the export lists %d rows, want %d", len(exported), len(exp))
				}
			})
		}
	})
}

// auditByOrgIndex is a plan line that reads the audit log through one of
// the organisation's indexes, or whole: a walk of the organisation's log.
var auditByOrgIndex = regexp.MustCompile(`audit_events_(org|user_org|actor_org)_idx|^SCAN (ae|x|audit_events)( |$)|^Seq Scan on audit_events$`)

// TestAuditLogPersonReadsTheirRows: a page of Beheer's audit log searched
// by a person reads that person's rows, not the organisation's log. An
// organisation with 200 and one with 20,000 rows of other people each
// have a person with three rows, the oldest of the log; a search for
// that person must not walk the organisation's log through its indexes
// (on both engines, with and without planner statistics), and on
// PostgreSQL EXPLAIN ANALYZE must find that the page reads as many audit
// rows in the large organisation as in the small one. A walk in the log's
// order reads every row of the organisation for a person with fewer rows
// than a page.
func TestAuditLogPersonReadsTheirRows(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
		stmts := dbtest.CountStatements(d)
		a := &auth.Admin{Accounts: &auth.Accounts{DB: d, Now: func() time.Time { return now }}}
		type volume struct {
			admin  *auth.Current
			person string
		}
		seed := func(n int) volume {
			o := &db.Organisation{Name: fmt.Sprintf("Org %d", n), CreatedAt: now}
			if _, err := d.NewInsert().Model(o).Exec(ctx); err != nil {
				t.Fatal(err)
			}
			var users []int64
			for i := 0; i < 11; i++ {
				u := &db.User{Email: fmt.Sprintf("v%d-busy%02d@example.nl", n, i), Kind: db.KindInternal, OrgID: &o.ID, Status: db.StatusActive,
					Language: "nl", Gender: "unknown", CreatedAt: now, UpdatedAt: now}
				if i == 10 {
					u.Email = fmt.Sprintf("v%d-rare@example.nl", n)
				}
				if _, err := d.NewInsert().Model(u).Exec(ctx); err != nil {
					t.Fatal(err)
				}
				users = append(users, u.ID)
			}
			evs := make([]db.AuditEvent, n+3)
			for i := range evs {
				u := users[i%10]
				if i < 3 {
					u = users[10]
				}
				evs[i] = db.AuditEvent{UserID: &u, ActorID: &u, Kind: "login.ok", Detail: fmt.Sprint(i), CreatedAt: now.Add(time.Duration(i) * time.Second)}
				if i%10 == 5 {
					evs[i].OrgID = &o.ID
				}
			}
			insertAuditEvents(t, d, evs)
			admin := &auth.Current{User: &identity.User{ID: users[0], OrgID: &o.ID, Kind: db.KindInternal, IsAdmin: true, Status: db.StatusActive}}
			return volume{admin: admin, person: fmt.Sprintf("v%d-rare@", n)}
		}
		volumes := map[int]volume{200: seed(200), 20000: seed(20000)}
		check := func(t *testing.T) {
			read := map[int]int{}
			for _, n := range []int{200, 20000} {
				v := volumes[n]
				var page *auth.AuditPage
				var err error
				sqls := stmts.Run(func(ctx context.Context) { page, err = a.AuditLog(ctx, v.admin, auth.AuditQuery{Person: v.person}) })
				if err != nil {
					t.Fatal(err)
				}
				if len(page.Rows) != 3 || page.More {
					t.Fatalf("at %d: %d rows (more %v), want the person's 3", n, len(page.Rows), page.More)
				}
				for _, sql := range sqls {
					if !strings.Contains(sql, "audit_events") {
						continue
					}
					plan := dbtest.Plan(t, d, sql)
					for _, line := range plan {
						if auditByOrgIndex.MatchString(line) {
							t.Errorf("at %d the search walks the organisation's log: %q in\n%s", n, line, strings.Join(plan, "\n"))
						}
					}
					if d.Postgres() {
						read[n] += auditRowsRead(t, d, sql)
					}
				}
			}
			if d.Postgres() {
				t.Logf("audit rows read: %d at 200, %d at 20,000", read[200], read[20000])
				if read[20000] > read[200] {
					t.Errorf("the page reads %d audit rows at 200 rows of other people, %d at 20,000", read[200], read[20000])
				}
			}
		}
		t.Run("without statistics", check)
		if _, err := d.ExecContext(ctx, "ANALYZE"); err != nil {
			t.Fatal(err)
		}
		t.Run("with statistics", check)
	})
}

// auditRowsRead runs sql under EXPLAIN (ANALYZE, FORMAT JSON) on
// PostgreSQL and returns how many rows its plan's reads of audit_events
// took from the table or an index (a bitmap index scan counts the
// entries it found): the rows they returned and those their filters
// removed (EXPLAIN gives both per loop), over all their loops.
func auditRowsRead(t *testing.T, d *db.DB, sql string) int {
	t.Helper()
	var doc string
	if err := d.NewRaw("EXPLAIN (ANALYZE, FORMAT JSON) "+sql).Scan(context.Background(), &doc); err != nil {
		t.Fatalf("explain %s: %v", sql, err)
	}
	type node struct {
		Relation string  `json:"Relation Name"`
		Index    string  `json:"Index Name"`
		Rows     float64 `json:"Actual Rows"`
		Loops    float64 `json:"Actual Loops"`
		Filtered float64 `json:"Rows Removed by Filter"`
		Recheck  float64 `json:"Rows Removed by Index Recheck"`
		Plans    []node  `json:"Plans"`
	}
	var plans []struct {
		Plan node `json:"Plan"`
	}
	if err := json.Unmarshal([]byte(doc), &plans); err != nil {
		t.Fatal(err)
	}
	total := 0.0
	var walk func(n node)
	walk = func(n node) {
		if n.Relation == "audit_events" || strings.HasPrefix(n.Index, "audit_events_") && n.Relation == "" {
			total += (n.Rows + n.Filtered + n.Recheck) * n.Loops
		}
		for _, c := range n.Plans {
			walk(c)
		}
	}
	for _, p := range plans {
		walk(p.Plan)
	}
	return int(total)
}

// insertAuditEvents stores evs, 2,000 rows a statement.
func insertAuditEvents(t *testing.T, d *db.DB, evs []db.AuditEvent) {
	t.Helper()
	for batch := range slices.Chunk(evs, 2000) {
		if _, err := d.NewInsert().Model(&batch).Exec(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
}
