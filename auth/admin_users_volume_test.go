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

// smallOrg is a small organisation A among the users of an installation:
// its people (internal users, outsiders in its conversations, invitees),
// its admin, and B, an organisation of many of the other users.
type smallOrg struct {
	a, b   int64
	admin  *auth.Current // A's
	bAdmin *auth.Current // B's
	people []string      // A's people's addresses, in order
	filler int           // how many other users there are
}

// seedSmallOrg makes A with 12 internal users, 10 outsiders in its 20
// conversations (also an internal user of B, who is not A's), and 6
// invitees, their addresses spread over the alphabet.
func seedSmallOrg(t testing.TB, d *db.DB) *smallOrg {
	t.Helper()
	ctx := context.Background()
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	s := &smallOrg{}
	for k, name := range []string{"Klein", "Groot"} {
		o := &db.Organisation{Name: name, CreatedAt: now}
		if _, err := d.NewInsert().Model(o).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		if k == 0 {
			s.a = o.ID
		} else {
			s.b = o.ID
		}
	}
	user := func(email, kind string, org *int64) db.User {
		return db.User{Email: email, Kind: kind, OrgID: org, Status: db.StatusActive, Language: "nl", Gender: "unknown",
			FirstName: "Voor", LastName: "Klein", CreatedAt: now, UpdatedAt: now}
	}
	var people []db.User
	for i := range 28 {
		email := fmt.Sprintf("%c-klein%02d@example.nl", 'a'+(i*7)%26, i)
		switch {
		case i < 12:
			people = append(people, user(email, db.KindInternal, &s.a))
		default:
			people = append(people, user(email, db.KindExternal, nil))
		}
		s.people = append(s.people, email)
	}
	people = append(people, user("m-groot@example.nl", db.KindInternal, &s.b))
	if _, err := d.NewInsert().Model(&people).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	slices.Sort(s.people)
	ths := make([]db.Thread, 20)
	for k := range ths {
		ths[k] = db.Thread{OrgID: s.a, Subject: "s", CreatedAt: now, LastMessageAt: now}
	}
	if _, err := d.NewInsert().Model(&ths).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	var ps []db.Participant
	var invs []db.Invitation
	for k, th := range ths {
		ps = append(ps, db.Participant{ThreadID: th.ID, UserID: people[k%12].ID, AddedAt: now},
			db.Participant{ThreadID: th.ID, UserID: people[12+k%10].ID, AddedAt: now})
		if k == 0 {
			ps = append(ps, db.Participant{ThreadID: th.ID, UserID: people[28].ID, AddedAt: now})
		}
	}
	for i := 22; i < 28; i++ {
		invs = append(invs, db.Invitation{UserID: people[i].ID, OrgID: s.a, TokenHash: []byte(fmt.Sprintf("klein%d", i)),
			CreatedAt: now, ExpiresAt: now.Add(72 * time.Hour)})
	}
	if _, err := d.NewInsert().Model(&ps).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := d.NewInsert().Model(&invs).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	s.admin = &auth.Current{User: &identity.User{ID: people[0].ID, OrgID: &s.a, Email: people[0].Email, Kind: db.KindInternal,
		IsAdmin: true, Status: db.StatusActive}}
	s.bAdmin = &auth.Current{User: &identity.User{ID: people[28].ID, OrgID: &s.b, Email: people[28].Email, Kind: db.KindInternal,
		IsAdmin: true, Status: db.StatusActive}}
	return s
}

// grow adds users to the installation until it has n others than A's:
// every other one an internal user of B, the rest outsiders of neither,
// with conversations of B between them, their addresses spread over the
// alphabet among A's.
func (s *smallOrg) grow(t testing.TB, d *db.DB, n int) {
	t.Helper()
	ctx := context.Background()
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	var us []db.User
	for i := s.filler; i < n; i++ {
		u := db.User{Email: fmt.Sprintf("%c-ander%06d@example.nl", 'a'+(i*11)%26, i), Kind: db.KindExternal, Status: db.StatusActive,
			Language: "nl", Gender: "unknown", FirstName: "Voor", LastName: fmt.Sprintf("Ander%06d", i), CreatedAt: now, UpdatedAt: now}
		if i%2 == 0 {
			u.Kind, u.OrgID = db.KindInternal, &s.b
		}
		us = append(us, u)
	}
	for from := 0; from < len(us); from += 1000 {
		part := us[from:min(from+1000, len(us))]
		if _, err := d.NewInsert().Model(&part).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		ths := make([]db.Thread, len(part)/2)
		for k := range ths {
			ths[k] = db.Thread{OrgID: s.b, Subject: "s", CreatedAt: now, LastMessageAt: now}
		}
		if len(ths) == 0 {
			continue
		}
		if _, err := d.NewInsert().Model(&ths).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		ps := make([]db.Participant, 0, len(part))
		for k, th := range ths {
			ps = append(ps, db.Participant{ThreadID: th.ID, UserID: part[2*k].ID, AddedAt: now},
				db.Participant{ThreadID: th.ID, UserID: part[2*k+1].ID, AddedAt: now})
		}
		if _, err := d.NewInsert().Model(&ps).Exec(ctx); err != nil {
			t.Fatal(err)
		}
	}
	s.filler = n
}

// TestAdminUsersSmallOrgReadsNoInstallation: a page of Beheer's user list
// for a small organisation costs the organisation, not the installation.
// What its statements read (dbtest.ReadVolume: pages on SQLite, rows on
// PostgreSQL) is compared between an installation of 500 other users and
// one of 5,000, the organisation unchanged, with statistics: the first
// page, the next, the one before it, and searches short and long enough
// for the search index. A page of B's, which has most of the users, costs
// a page too, the walk through the users finding its people early.
// Before, every page walked all users in address
// order and asked of each whether they were the organisation's: at
// 50,000 users 106-191 ms on SQLite and 166-267 ms on PostgreSQL.
func TestAdminUsersSmallOrgReadsNoInstallation(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		s := seedSmallOrg(t, d)
		a := &auth.Admin{Accounts: &auth.Accounts{DB: d, Now: func() time.Time { return time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC) }}}
		stmts := dbtest.CountStatements(d)
		cases := []struct {
			query string
			at    auth.UsersAt
			want  []string
			big   bool // B's, a full page
		}{
			{"", auth.UsersAt{}, s.people[:auth.UsersPageSize], false},
			{"", auth.UsersAt{After: s.people[auth.UsersPageSize-1]}, s.people[auth.UsersPageSize:], false},
			{"", auth.UsersAt{Before: s.people[3]}, s.people[:3], false},
			{"-k", auth.UsersAt{}, s.people[:auth.UsersPageSize], false},
			{"klein05", auth.UsersAt{}, nil, false},
			{"", auth.UsersAt{}, nil, true},
			{"", auth.UsersAt{After: "m"}, nil, true},
			{"", auth.UsersAt{Before: "m"}, nil, true},
		}
		for _, e := range s.people {
			if strings.Contains(e, "klein05") {
				cases[4].want = []string{e}
			}
		}
		read := func() []int {
			t.Helper()
			if _, err := d.ExecContext(ctx, "ANALYZE"); err != nil {
				t.Fatal(err)
			}
			var out []int
			for _, c := range cases {
				var got []string
				var err error
				cur := s.admin
				if c.big {
					cur = s.bAdmin
				}
				sqls := stmts.Run(func(ctx context.Context) {
					var p *auth.UsersPage
					if p, err = a.Users(ctx, cur, c.query, c.at); err == nil {
						for _, u := range p.Users {
							got = append(got, u.Email)
						}
					}
				})
				if err != nil {
					t.Fatal(err)
				}
				if c.big && len(got) == auth.UsersPageSize && !slices.ContainsFunc(got, func(e string) bool { return strings.Contains(e, "-klein") }) {
					// B's page: any full page of B's people will do.
				} else if !slices.Equal(got, c.want) {
					t.Fatalf("%q from %+v: %v, want %v", c.query, c.at, got, c.want)
				}
				total := 0
				for _, q := range sqls {
					// The page's users are listed; what counts is finding them.
					if strings.HasPrefix(strings.TrimSpace(strings.ToUpper(q)), "SELECT") && strings.Contains(q, "users") &&
						!strings.Contains(q, "second_factors") && !strings.Contains(q, "sso_links") && !strings.Contains(q, "t.org_id <> ") {
						total += dbtest.ReadVolume(t, d, q)
					}
				}
				out = append(out, total)
			}
			return out
		}
		s.grow(t, d, 500)
		small := read()
		s.grow(t, d, 5000)
		large := read()
		for k, c := range cases {
			t.Logf("%q from %+v (B's %v): read %d among 500 other users, %d among 5,000", c.query, c.at, c.big, small[k], large[k])
			// The same statements for both: what the 4,500 more users add
			// must be a small part of them.
			if large[k]-small[k] > 450 {
				t.Errorf("%q from %+v (B's %v) read %d among 5,000 other users, %d among 500: it reads the installation", c.query, c.at, c.big, large[k], small[k])
			}
		}
	})
}
