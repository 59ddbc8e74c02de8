package auth_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"dialoog/auth"
	"dialoog/db"
	"dialoog/db/dbtest"
	"dialoog/identity"
)

// TestAuditLogManyPeopleReadTheirRows: a search of the audit log by a
// text that some dozens of people match (the employees of one client,
// "@klant1234") reads those people's rows, not the organisation's log:
// what its statements read (dbtest.ReadVolume) is compared between an
// organisation with 300 rows of other people and one with 30,000, with
// statistics; its two pages hold each of their rows once, in the log's
// order. Before, a text that more than 25 people matched walked the
// organisation's log newest first and tested each row's people until it
// had a page; for people with fewer rows than a page that is every row
// of the organisation: at 1,000,000 rows 4.2 s for the page on either
// engine, 4.6 to 7.9 s for the export.
func TestAuditLogManyPeopleReadTheirRows(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
		stmts := dbtest.CountStatements(d)
		a := &auth.Admin{Accounts: &auth.Accounts{DB: d, Now: func() time.Time { return now }}}
		const matched = 40
		type volume struct {
			admin  *auth.Current
			person string
		}
		seed := func(n int) volume {
			o := &db.Organisation{Name: fmt.Sprintf("Org %d", n), CreatedAt: now}
			if _, err := d.NewInsert().Model(o).Exec(ctx); err != nil {
				t.Fatal(err)
			}
			users := make([]db.User, 10+matched)
			for i := range users {
				users[i] = db.User{Email: fmt.Sprintf("v%d-busy%02d@example.nl", n, i), Kind: db.KindInternal, OrgID: &o.ID, Status: db.StatusActive,
					Language: "nl", Gender: "unknown", CreatedAt: now, UpdatedAt: now}
				if i >= 10 {
					users[i].Email = fmt.Sprintf("w%02d@v%d-klant.nl", i, n)
				}
			}
			if _, err := d.NewInsert().Model(&users).Exec(ctx); err != nil {
				t.Fatal(err)
			}
			// The people who match have two rows each, the oldest of the
			// log (more than a page); the busy ones the rest.
			evs := make([]db.AuditEvent, n+2*matched)
			for i := range evs {
				u := users[i%10].ID
				if i < 2*matched {
					u = users[10+i%matched].ID
				}
				evs[i] = db.AuditEvent{UserID: &u, ActorID: &u, Kind: "login.ok", Detail: fmt.Sprint(i), CreatedAt: now.Add(time.Duration(i) * time.Second)}
				if i%10 == 5 {
					evs[i].OrgID = &o.ID
				}
			}
			insertAuditEvents(t, d, evs)
			admin := &auth.Current{User: &identity.User{ID: users[0].ID, OrgID: &o.ID, Kind: db.KindInternal, IsAdmin: true, Status: db.StatusActive}}
			return volume{admin: admin, person: fmt.Sprintf("@v%d-klant", n)}
		}
		small, large := seed(300), seed(30000)
		dbtest.Statistics(t, d)
		read := func(v volume) int {
			var page *auth.AuditPage
			var err error
			sqls := stmts.Run(func(ctx context.Context) { page, err = a.AuditLog(ctx, v.admin, auth.AuditQuery{Person: v.person}) })
			if err != nil {
				t.Fatal(err)
			}
			if len(page.Rows) != auth.AuditPageSize || !page.More {
				t.Fatalf("%s: %d rows (more %v), want a full page of the %d people's %d", v.person, len(page.Rows), page.More, matched, 2*matched)
			}
			next, err := a.AuditLog(ctx, v.admin, auth.AuditQuery{Person: v.person, After: page.Rows[len(page.Rows)-1].Cursor()})
			if err != nil {
				t.Fatal(err)
			}
			if len(next.Rows) != 2*matched-auth.AuditPageSize || next.More || !next.Prev {
				t.Fatalf("%s: the next page has %d rows (more %v, prev %v), want the other %d", v.person, len(next.Rows), next.More, next.Prev, 2*matched-auth.AuditPageSize)
			}
			rows := append(slices.Clone(page.Rows), next.Rows...)
			seen := map[int64]bool{}
			for i, r := range rows {
				if seen[r.ID] || i > 0 && (r.At.After(rows[i-1].At) || r.At.Equal(rows[i-1].At) && r.ID > rows[i-1].ID) {
					t.Fatalf("%s: row %d (%d) is twice or out of order", v.person, i, r.ID)
				}
				seen[r.ID] = true
			}
			total := 0
			for _, sql := range sqls {
				if strings.Contains(sql, "audit_events") {
					total += dbtest.ReadVolume(t, d, sql)
				}
			}
			return total
		}
		r1, r2 := read(small), read(large)
		t.Logf("a search that %d people match read %d beside 300 rows of others, %d beside 30,000", matched, r1, r2)
		// The same people, the same rows of theirs: what the larger log
		// adds must be a small part of its 29,700 more rows.
		if r2-r1 > 297 {
			t.Errorf("a search that %d people match read %d beside 30,000 rows of others, %d beside 300: it walks the organisation's log", matched, r2, r1)
		}
	})
}
