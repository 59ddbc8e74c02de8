package auth_test

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"dialoog/auth"
	"dialoog/db"
	"dialoog/db/dbtest"
	"dialoog/identity"
)

// adminPeople is an installation of two organisations, A and B, seeded
// in bulk for Beheer's user list: people[i] is, by i%10, 0 an internal
// user of A, 5 one of B, 1, 2 and 4 an outsider in A's conversations (4
// also in B's), 3 one in B's only, 6 an invitee of A, 7 one of B, 8 and 9
// an outsider of neither. Every other internal user of B also takes part
// in one of A's conversations; A lists them no more than B's outsiders.
type adminPeople struct {
	orgs   [2]int64
	people []db.User
}

// inA reports whether people[i] is one of A's people in Beheer.
func (p *adminPeople) inA(i int) bool {
	switch i % 10 {
	case 0, 1, 2, 4, 6:
		return true
	}
	return false
}

// seedAdminPeople makes n people and threads conversations of A (and a
// tenth of that of B) with two participants each.
func seedAdminPeople(t *testing.T, d *db.DB, n, threads int) *adminPeople {
	t.Helper()
	ctx := context.Background()
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	out := &adminPeople{}
	for k, name := range []string{"OSAW", "Ander"} {
		o := &db.Organisation{Name: name, CreatedAt: now}
		if _, err := d.NewInsert().Model(o).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		out.orgs[k] = o.ID
	}
	a, b := out.orgs[0], out.orgs[1]
	out.people = make([]db.User, n)
	for i := range out.people {
		// The addresses' order is not the order of the ids.
		u := db.User{Email: fmt.Sprintf("p%05d@example.nl", (i*7919)%n), Kind: db.KindExternal, Status: db.StatusActive,
			Language: "nl", Gender: "unknown", FirstName: "Voor", LastName: fmt.Sprintf("Achter%05d", i), CreatedAt: now, UpdatedAt: now}
		switch i % 10 {
		case 0:
			u.Kind, u.OrgID = db.KindInternal, &a
		case 5:
			u.Kind, u.OrgID = db.KindInternal, &b
		}
		out.people[i] = u
	}
	if _, err := d.NewInsert().Model(&out.people).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	pick := func(classes ...int) []int64 {
		var ids []int64
		for i, u := range out.people {
			for _, c := range classes {
				if i%10 == c && (c != 5 || i%20 == 5) {
					ids = append(ids, u.ID)
				}
			}
		}
		return ids
	}
	converse := func(org int64, count int, insiders, outsiders []int64) {
		ths := make([]db.Thread, count)
		for k := range ths {
			ths[k] = db.Thread{OrgID: org, Subject: "s", CreatedAt: now, LastMessageAt: now}
		}
		if _, err := d.NewInsert().Model(&ths).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		ps := make([]db.Participant, 0, 2*count)
		for k, th := range ths {
			ps = append(ps, db.Participant{ThreadID: th.ID, UserID: insiders[k%len(insiders)], AddedAt: now},
				db.Participant{ThreadID: th.ID, UserID: outsiders[k%len(outsiders)], AddedAt: now})
		}
		if _, err := d.NewInsert().Model(&ps).Exec(ctx); err != nil {
			t.Fatal(err)
		}
	}
	converse(a, threads, pick(0), pick(1, 2, 4, 5))
	converse(b, max(threads/10, 1), pick(5), pick(3, 4))
	var invs []db.Invitation
	for i, u := range out.people {
		if c := i % 10; c == 6 || c == 7 {
			org := a
			if c == 7 {
				org = b
			}
			invs = append(invs, db.Invitation{UserID: u.ID, OrgID: org, TokenHash: []byte(fmt.Sprintf("t%d", i)), CreatedAt: now, ExpiresAt: now.Add(72 * time.Hour)})
		}
	}
	if len(invs) > 0 {
		if _, err := d.NewInsert().Model(&invs).Exec(ctx); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// orgGather is a plan line that collects every conversation, internal
// user or invitation of the organisation: a read of threads or users
// through their organisation's index, of invitations by organisation
// alone, or of a whole table (other than the walk of the users by
// address, which the sort check bounds).
var orgGather = regexp.MustCompile(`threads_org|users_org_idx|invitations_org_user_idx \(org_id=\?\)$|^SCAN (u|users)$|^SCAN (p|participants|i|invitations|t|threads)( |$)|^Seq Scan on (users|participants|invitations|threads)$`)

// wholeRead is a plan line of the statements that read a small
// organisation's people (or count them) that reads more than the
// organisation: the users walked by address, a whole table or index
// (SQLite's SCAN, other than of the subquery c; PostgreSQL's sequential
// scans), or a hash of one (which PostgreSQL fills from a whole read).
var wholeRead = regexp.MustCompile(`users_email|^SCAN (u|cu|ou|users|p|tp|participants|i|invitations|t|threads)( |$)|^Seq Scan on |^Hash Join|^Hash$|^Bitmap`)

// gatherReads are what the statements that read a small organisation's
// people read: each source through its index by organisation, the
// participants by conversation and (not when counting) each person's
// row by its key.
var gatherReads = map[string]*regexp.Regexp{
	"internal users": regexp.MustCompile(`users_org_idx`),
	"invitations":    regexp.MustCompile(`invitations_org_user_idx`),
	"conversations":  regexp.MustCompile(`threads_org_activity_idx`),
	"participants":   regexp.MustCompile(`^SEARCH (p|tp) USING COVERING INDEX .*\(thread_id=\?\)$|^Index Only Scan on participants using (participants_thread_id_user_id_key|participants_thread_idx)$`),
	"people":         regexp.MustCompile(`^SEARCH u USING INTEGER PRIMARY KEY|^Index Scan on users using users_pkey$`),
}

// TestAdminUsersPlans checks with EXPLAIN, on both engines and with and
// without planner statistics, that a page of Beheer's user list costs a
// page or the organisation, among 3,000 people and 3,000 conversations
// of the organisation. The walk, which such an organisation's page
// takes, walks the users in address order under the LIMIT (or,
// searching, reads the people the search index finds), and asks of each
// candidate whether they belong to the organisation; it neither collects
// the whole organisation (its conversations' participants, its internal
// users, its invitations) nor sorts it. The statements of a small
// organisation's page, which gather its people, and the count that
// decides, read the organisation's people through their indexes and
// nothing of the rest of the installation.
func TestAdminUsersPlans(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		s := seedAdminPeople(t, d, 3000, 3000)
		a := &auth.Admin{Accounts: &auth.Accounts{DB: d, Now: func() time.Time { return time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC) }}}
		check := func(t *testing.T) {
			for _, c := range []struct{ query, after, before string }{
				{"", "", ""}, {"", "p01234@example.nl", ""}, {"", "", "p01234@example.nl"},
				{"p01", "", ""}, {"achter0012", "p00010@example.nl", ""}, {"p0", "", ""},
			} {
				sql := a.UsersSQL(s.orgs[0], c.query, c.after, c.before)
				paths := dbtest.PlanPaths(t, d, sql)
				var plan []string
				searchIndex := false
				for _, p := range paths {
					line := p[len(p)-1]
					plan = append(plan, strings.Repeat("  ", len(p)-1)+line)
					searchIndex = searchIndex || strings.Contains(line, "users_fts") || strings.Contains(line, "_trgm")
				}
				if d.Postgres() {
					// A hashed subplan reads the whole set it tests
					// membership of once: all of the organisation.
					var text []string
					if err := d.NewRaw("EXPLAIN "+sql).Scan(ctx, &text); err != nil {
						t.Fatal(err)
					}
					for _, l := range text {
						if strings.Contains(l, "hashed SubPlan") {
							t.Errorf("%+v: a hashed subplan collects the organisation: %q in\n%s", c, l, strings.Join(text, "\n"))
						}
					}
					if len(c.query) >= 3 {
						// At test volume reading every user is rightly
						// cheaper than the trigram indexes (reached only
						// through bitmaps); with only bitmap paths left,
						// the search must find them.
						if !strings.Contains(strings.Join(bitmapPlan(t, d, sql), "\n"), "_trgm") {
							t.Errorf("%+v: the search does not use the people search index:\n%s", c, strings.Join(bitmapPlan(t, d, sql), "\n"))
						}
						searchIndex = true
					}
				}
				if testing.Verbose() {
					t.Logf("%+v:\n%s", c, strings.Join(plan, "\n"))
				}
				for _, p := range paths {
					line := p[len(p)-1]
					switch {
					case orgGather.MatchString(line):
						t.Errorf("%+v collects the whole organisation: %q in\n%s\n%s", c, line, strings.Join(plan, "\n"), sql)
					case (line == "USE TEMP B-TREE FOR ORDER BY" || strings.HasSuffix(line, "Sort")) && !searchIndex:
						t.Errorf("%+v sorts the people it read: %q in\n%s\n%s", c, line, strings.Join(plan, "\n"), sql)
					case strings.HasSuffix(line, " on users using users_email_key") && !limitedRead(p):
						t.Errorf("%+v walks the users not under the LIMIT: %q in\n%s\n%s", c, line, strings.Join(plan, "\n"), sql)
					}
				}
			}
		}
		gather := func(t *testing.T) {
			sqls := []string{a.UsersCountSQL(s.orgs[0])}
			for _, c := range []struct{ query, after, before string }{
				{"", "", ""}, {"", "p01234@example.nl", ""}, {"", "", "p01234@example.nl"}, {"p01", "", ""}, {"achter0012", "p00010@example.nl", ""},
			} {
				sqls = append(sqls, a.UsersGatherSQL(s.orgs[0], c.query, c.after, c.before))
			}
			for k, sql := range sqls {
				paths := dbtest.PlanPaths(t, d, sql)
				var plan []string
				found := map[string]bool{}
				for _, p := range paths {
					line := p[len(p)-1]
					plan = append(plan, strings.Repeat("  ", len(p)-1)+line)
					if wholeRead.MatchString(line) {
						t.Errorf("%s\nreads more than the organisation: %q", sql, line)
					}
					for what, re := range gatherReads {
						found[what] = found[what] || re.MatchString(line)
					}
				}
				if d.Postgres() {
					var text []string
					if err := d.NewRaw("EXPLAIN "+sql).Scan(ctx, &text); err != nil {
						t.Fatal(err)
					}
					for _, l := range text {
						if strings.Contains(l, "hashed SubPlan") {
							t.Errorf("%s\nhashes a whole read: %q", sql, l)
						}
					}
				}
				for what := range gatherReads {
					if !found[what] && (k > 0 || what != "people") {
						t.Errorf("%s\ndoes not read the %s through their index:\n%s", sql, what, strings.Join(plan, "\n"))
					}
				}
				if testing.Verbose() {
					t.Logf("%s:\n%s", sql, strings.Join(plan, "\n"))
				}
			}
		}
		// The organisation's people come in more rows than a page gathers:
		// its page is the walk.
		stmts := dbtest.CountStatements(d)
		cur := &auth.Current{User: &identity.User{ID: s.people[0].ID, OrgID: &s.orgs[0], Email: s.people[0].Email, Kind: db.KindInternal,
			IsAdmin: true, Status: db.StatusActive}}
		walked := false
		for _, sql := range stmts.Run(func(ctx context.Context) {
			if _, err := a.Users(ctx, cur, "", auth.UsersAt{}); err != nil {
				t.Fatal(err)
			}
		}) {
			walked = walked || sql == a.UsersSQL(s.orgs[0], "", "", "")
		}
		if !walked {
			t.Error("the page of an organisation of 3,000 people and 3,000 conversations does not walk the users")
		}
		t.Run("without statistics", check)
		t.Run("gathering, without statistics", gather)
		if _, err := d.ExecContext(ctx, "ANALYZE"); err != nil {
			t.Fatal(err)
		}
		t.Run("with statistics", check)
		t.Run("gathering, with statistics", gather)
	})
}

// bitmapPlan is the PostgreSQL plan of query with bitmap scans as the only
// way to read a table, one line per node.
func bitmapPlan(t *testing.T, d *db.DB, query string) []string {
	t.Helper()
	ctx := context.Background()
	var text []string
	err := d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		for _, off := range []string{"enable_seqscan", "enable_indexscan", "enable_indexonlyscan"} {
			if _, err := tx.ExecContext(ctx, "SET LOCAL "+off+" = off"); err != nil {
				return err
			}
		}
		return tx.NewRaw("EXPLAIN "+query).Scan(ctx, &text)
	})
	if err != nil {
		t.Fatal(err)
	}
	return text
}

// TestAdminUsersPagesList: the pages of Beheer's user list, followed
// forwards by their last address and backwards by their first, list
// exactly the organisation's people in address order (its internal
// users, its conversations' participants, its invitees; not another
// organisation's users nor outsiders), with and without a search, short
// or long enough for the search index, on both engines, read either way:
// walking the users in address order or gathering the organisation's
// people (and as the list decides, here gathering).
func TestAdminUsersPagesList(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		s := seedAdminPeople(t, d, 400, 300)
		a := &auth.Admin{Accounts: &auth.Accounts{DB: d, Now: func() time.Time { return time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC) }}}
		cur := &auth.Current{User: &identity.User{ID: s.people[0].ID, OrgID: &s.orgs[0], Email: s.people[0].Email, Kind: db.KindInternal,
			IsAdmin: true, Status: db.StatusActive}}
		for _, c := range []struct{ how, query string }{
			{"", ""}, {"", "p0"}, {"", "p002"}, {"", "ACHTER0012"}, {"", "achter001"}, {"", "niemand"},
			{"walk", ""}, {"walk", "p0"}, {"walk", "achter001"}, {"gather", ""}, {"gather", "p0"}, {"gather", "achter001"},
		} {
			a.UsersBy(c.how)
			query := c.query
			var want []string
			for i, u := range s.people {
				name := strings.ToLower(u.FirstName + " " + u.NamePrefix + " " + u.LastName)
				if s.inA(i) && (query == "" || strings.Contains(u.Email, strings.ToLower(query)) || strings.Contains(name, strings.ToLower(query))) {
					want = append(want, u.Email)
				}
			}
			slices.Sort(want)
			var got []string
			var pages []*auth.UsersPage
			at := auth.UsersAt{}
			for n := 0; ; n++ {
				p, err := a.Users(ctx, cur, query, at)
				if err != nil {
					t.Fatal(err)
				}
				if p.Prev != (n > 0) || len(p.Users) > auth.UsersPageSize || p.More && len(p.Users) < auth.UsersPageSize {
					t.Fatalf("%q (%q) page %d: prev %v, more %v, %d people", query, c.how, n, p.Prev, p.More, len(p.Users))
				}
				pages = append(pages, p)
				for _, u := range p.Users {
					got = append(got, u.Email)
				}
				if !p.More {
					break
				}
				at = auth.UsersAt{After: p.Users[len(p.Users)-1].Email}
			}
			if !slices.Equal(got, want) {
				t.Errorf("%q (%q): the pages list %d people, want %d:\n%v\n%v", query, c.how, len(got), len(want), got, want)
			}
			// Backwards from the last page, each page is the one before.
			for n := len(pages) - 1; n > 0; n-- {
				p, err := a.Users(ctx, cur, query, auth.UsersAt{Before: pages[n].Users[0].Email})
				if err != nil {
					t.Fatal(err)
				}
				var emails, before []string
				for _, u := range p.Users {
					emails = append(emails, u.Email)
				}
				for _, u := range pages[n-1].Users {
					before = append(before, u.Email)
				}
				if !slices.Equal(emails, before) || p.Prev != (n > 1) || !p.More {
					t.Errorf("%q (%q): page before %d is %v (prev %v, more %v), want %v", query, c.how, n, emails, p.Prev, p.More, before)
				}
			}
		}
	})
}
