package messaging_test

import (
	"context"
	"strings"
	"testing"

	"dialoog/db"
	"dialoog/db/dbtest"
	"dialoog/messaging/messagingtest"
)

// TestSearchReadsNoWholeBox: a search for a word that matches few
// conversations costs those matches, not the user's whole box. What its
// statements read (dbtest.ReadVolume: pages on SQLite, rows on
// PostgreSQL) is compared between a box of 400 conversations and one of
// 4,000 in the same database, with statistics, for a word that matches
// nothing and for a subject that matches one conversation in each box, and the
// same in a team's box. Before, the search walked the box in its order
// and tested each conversation until the page was full: at 50,000
// conversations 27-54 ms on SQLite and 130-150 ms on PostgreSQL for a
// word that matches nothing.
func TestSearchReadsNoWholeBox(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := setup(t, d)
		small, large := f.hr, f.boss
		team, err := f.svc.CreateTeam(ctx, f.org.ID, "OSAW Verzuim", false, true)
		if err != nil {
			t.Fatal(err)
		}
		for _, b := range []struct {
			owner   *db.User
			threads int
		}{{small, 400}, {large, 4000}} {
			if _, err := messagingtest.Seed(ctx, d, f.v, messagingtest.Box{OrgID: f.org.ID, Owner: b.owner, Threads: b.threads, Others: 150}); err != nil {
				t.Fatal(err)
			}
			if err := f.svc.AddTeamMember(ctx, team.ID, b.owner.Email); err != nil {
				t.Fatal(err)
			}
			if _, err := d.NewRaw(`UPDATE participants SET via_team_id = ? WHERE user_id = ?
  AND (thread_id % 3 = 0 OR thread_id IN (SELECT id FROM threads WHERE subject = 'Verzuim gesprek 000123'))`, team.ID, b.owner.ID).Exec(ctx); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := d.ExecContext(ctx, "ANALYZE"); err != nil {
			t.Fatal(err)
		}
		stmts := dbtest.CountStatements(d)
		for _, c := range []struct {
			query string
			team  bool
			want  int
		}{{"zqxj", false, 0}, {"gesprek 000123", false, 1}, {"zqxj", true, 0}, {"gesprek 000123", true, 1}} {
			read := func(u *db.User) int {
				t.Helper()
				var n int
				var err error
				sqls := stmts.Run(func(ctx context.Context) {
					if c.team {
						p, e := f.svc.TeamBoxAfter(ctx, u.Identity(), team.ID, 1, "", c.query)
						if e == nil {
							n = len(p.Threads)
						}
						err = e
						return
					}
					p, e := f.svc.Inbox(ctx, u.Identity(), 1, c.query)
					if e == nil {
						n = len(p.Threads)
					}
					err = e
				})
				if err != nil {
					t.Fatal(err)
				}
				if n != c.want {
					t.Fatalf("search %q (team %v): %d conversations, want %d", c.query, c.team, n, c.want)
				}
				total := 0
				for _, q := range sqls {
					if strings.HasPrefix(strings.TrimSpace(strings.ToUpper(q)), "SELECT") {
						total += dbtest.ReadVolume(t, d, q)
					}
				}
				return total
			}
			a, b := read(small), read(large)
			t.Logf("search %q (team %v): read %d in a box of 400, %d in a box of 4,000", c.query, c.team, a, b)
			// The same statements for both: what the larger box adds must
			// be a small part of its 3,600 more conversations (on
			// PostgreSQL both also read what ReadVolume's plans without
			// bitmap scans read of the trigram-indexed tables whole).
			if b-a > 360 {
				t.Errorf("search %q (team %v) read %d in a box of 4,000 conversations, %d in a box of 400: it reads the whole box", c.query, c.team, b, a)
			}
		}
	})
}

