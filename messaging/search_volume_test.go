package messaging_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"dialoog/db"
	"dialoog/db/dbtest"
	"dialoog/messaging"
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

// TestSearchPlansAgree: a search finds the same conversations in the same
// order, page after page, whether it walks the box or reads the matching
// conversations first (and whichever way it chooses): by subject, by a
// person's name or address (an outsider finds internal addresses only,
// and never a team's members), under the medical rule, without removed
// conversations, in a team's box, and with ties in the box's order.
func TestSearchPlansAgree(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := setup(t, d)
		hr := f.hr
		ext := f.active(t, "eva@klant.nl", false, "Eva", "", "Extern")
		mate := f.active(t, "teun@osaw.nl", true, "Teun", "", "Teamlid")
		seeded, err := messagingtest.Seed(ctx, d, f.v, messagingtest.Box{OrgID: f.org.ID, Owner: hr, Threads: 150, Others: 20})
		if err != nil {
			t.Fatal(err)
		}
		team, err := f.svc.CreateTeam(ctx, f.org.ID, "OSAW Verzuim", false, true)
		if err != nil {
			t.Fatal(err)
		}
		medical, err := f.svc.CreateTeam(ctx, f.org.ID, "OSAW Medisch", true, true)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range []struct {
			team  int64
			email string
		}{{team.ID, hr.Email}, {team.ID, mate.Email}, {medical.ID, mate.Email}} {
			if err := f.svc.AddTeamMember(ctx, m.team, m.email); err != nil {
				t.Fatal(err)
			}
		}
		exec := func(q string, args ...any) {
			t.Helper()
			if _, err := d.NewRaw(q, args...).Exec(ctx); err != nil {
				t.Fatal(err)
			}
		}
		tie := time.Date(2025, 1, 1, 8, 30, 0, 0, time.UTC)
		for i, id := range seeded.Threads {
			at := time.Date(2025, 1, 1, 8, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Minute)
			if i < 60 {
				// The outsider takes part in the first 60.
				exec("INSERT INTO participants (thread_id, user_id, added_at, box_count, last_activity_at) VALUES (?, ?, ?, 1, ?)", id, ext.ID, at, at)
			}
			if i%4 == 0 {
				// The team's conversations: its colleague takes part through it.
				exec("UPDATE participants SET via_team_id = ? WHERE thread_id = ? AND user_id = ?", team.ID, id, hr.ID)
				exec("INSERT INTO participants (thread_id, user_id, via_team_id, added_at, box_count, last_activity_at) VALUES (?, ?, ?, ?, 1, ?)", id, mate.ID, team.ID, at, at)
			}
			if i == 3 || i == 23 {
				// Found by subject and by person at once.
				exec("UPDATE threads SET subject = subject || ' werker00003' WHERE id = ?", id)
			}
			if i%7 == 0 {
				exec("UPDATE threads SET medical = ? WHERE id = ?", true, id)
			}
			if i%11 == 0 {
				exec("UPDATE participants SET box_count = 0 WHERE thread_id = ? AND user_id = ?", id, hr.ID)
			}
			if i >= 20 && i < 40 || i >= 100 && i < 110 {
				exec("UPDATE participants SET last_activity_at = ? WHERE thread_id = ?", tie, id)
			}
		}
		if _, err := d.ExecContext(ctx, "ANALYZE"); err != nil {
			t.Fatal(err)
		}
		search := func(u *db.User, teamID int64, q, how string) string {
			t.Helper()
			f.svc.SearchBy(how)
			defer f.svc.SearchBy("")
			var out []string
			for page := 1; page <= 20; page++ {
				var p *messaging.InboxPage
				var err error
				if teamID != 0 {
					p, err = f.svc.TeamBoxAfter(ctx, u.Identity(), teamID, page, "", q)
				} else {
					p, err = f.svc.Inbox(ctx, u.Identity(), page, q)
				}
				if err != nil {
					t.Fatalf("search %q by %q: %v", q, how, err)
				}
				for _, th := range p.Threads {
					out = append(out, fmt.Sprintf("%d:%s:%d", th.ID, th.From, th.Unread))
				}
				if !p.More {
					break
				}
			}
			return strings.Join(out, " ")
		}
		queries := []string{"gesprek", "Gesprek 0001", "gesprek 000042", "werker00003", "medewerker00003", "teamlid", "teun@osaw",
			"extern", "eva@klant", "hr@osaw", "hanna", "zqxj", "mede"}
		found := 0
		for _, c := range []struct {
			who  *db.User
			team int64
		}{{hr, 0}, {ext, 0}, {mate, 0}, {hr, team.ID}, {mate, team.ID}} {
			for _, q := range append(queries, "osaw") {
				walk := search(c.who, c.team, q, "walk")
				// The name of an organisation matches: its conversations
				// are found only by walking the box.
				org := q == "osaw"
				if got := search(c.who, c.team, q, "matches"); got != walk && !org {
					t.Errorf("%s (team %d) searching %q: reading the matches finds\n%s\nwalking the box\n%s", c.who.Email, c.team, q, got, walk)
				}
				if got := search(c.who, c.team, q, ""); got != walk {
					t.Errorf("%s (team %d) searching %q: the chosen way finds\n%s\nwalking the box\n%s", c.who.Email, c.team, q, got, walk)
				}
				if walk != "" {
					found++
				}
			}
		}
		if found < 25 {
			t.Errorf("only %d searches found anything", found)
		}
	})
}

// TestSearchIndexesAsWritten: on PostgreSQL a search reads the
// conversations and people that match through the trigram indexes, with
// the planner's own choice, right after the application wrote them (no
// VACUUM in between, as in an installation between autovacuum's rounds).
// Before, the indexes kept new entries in GIN's pending list (fastupdate,
// up to 4 MB), which every search reads whole and which the planner
// counts: with 4,000 conversations and 2,000 people written it read
// threads and users
// whole instead (20,000 conversations: 11 ms for a word that matches
// nothing, 0.1 ms after a VACUUM).
func TestSearchIndexesAsWritten(t *testing.T) {
	d := dbtest.MustOpenPostgres(t)
	ctx := context.Background()
	f := setup(t, d)
	if _, err := messagingtest.Seed(ctx, d, f.v, messagingtest.Box{OrgID: f.org.ID, Owner: f.boss, Threads: 4000, Messages: 1, Others: 4000}); err != nil {
		t.Fatal(err)
	}
	if _, err := d.ExecContext(ctx, "ANALYZE"); err != nil {
		t.Fatal(err)
	}
	stmts := dbtest.CountStatements(d)
	for _, q := range []string{"zqxj", "gesprek 000123", "werker00003"} {
		sqls := stmts.Run(func(ctx context.Context) {
			if _, err := f.svc.Inbox(ctx, f.boss.Identity(), 1, q); err != nil {
				t.Fatal(err)
			}
		})
		for _, s := range sqls {
			if !strings.HasPrefix(strings.TrimSpace(s), "SELECT") {
				continue
			}
			var doc string
			if err := d.NewRaw("EXPLAIN (FORMAT JSON) "+s).Scan(ctx, &doc); err != nil {
				t.Fatal(err)
			}
			for _, table := range []string{"threads", "users"} {
				if seqScans(doc, table) {
					t.Errorf("search %q reads %s whole:\n%s\n%s", q, table, s, doc)
				}
			}
		}
	}
}

// seqScans reports whether a JSON plan of PostgreSQL reads table with a
// sequential scan.
func seqScans(doc, table string) bool {
	var plans []struct {
		Plan planNode `json:"Plan"`
	}
	if err := json.Unmarshal([]byte(doc), &plans); err != nil || len(plans) == 0 {
		return false
	}
	var walk func(n planNode) bool
	walk = func(n planNode) bool {
		if n.NodeType == "Seq Scan" && n.Relation == table {
			return true
		}
		for _, c := range n.Plans {
			if walk(c) {
				return true
			}
		}
		return false
	}
	return walk(plans[0].Plan)
}

type planNode struct {
	NodeType string     `json:"Node Type"`
	Relation string     `json:"Relation Name"`
	Plans    []planNode `json:"Plans"`
}

// TestShortSearchLooksAtRecent: a search of one or two characters, too
// short for the indexes, tests the conversations of the box one by one;
// in a box larger than messaging.ShortSearchScope it looks at that many
// of the most recent and says so (InboxPage.Scope), so that what it reads
// does not grow with the box: before, a text found nowhere read the whole
// box (20,000 conversations: 150 ms on SQLite, 135 ms on PostgreSQL, for
// each pause while typing). A text of three characters or more still
// searches the whole box.
func TestShortSearchLooksAtRecent(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := setup(t, d)
		small, large := f.hr, f.boss
		seeded := map[int64]*messagingtest.Seeded{}
		for _, b := range []struct {
			owner   *db.User
			threads int
		}{{small, messaging.ShortSearchScope}, {large, 10 * messaging.ShortSearchScope}} {
			s, err := messagingtest.Seed(ctx, d, f.v, messagingtest.Box{OrgID: f.org.ID, Owner: b.owner, Threads: b.threads, Others: 100})
			if err != nil {
				t.Fatal(err)
			}
			seeded[b.owner.ID] = s
		}
		dbtest.Statistics(t, d)
		stmts := dbtest.CountStatements(d)
		read := func(u *db.User, q string) (int, *messaging.InboxPage) {
			t.Helper()
			var p *messaging.InboxPage
			var err error
			sqls := stmts.Run(func(ctx context.Context) { p, err = f.svc.Inbox(ctx, u.Identity(), 1, q) })
			if err != nil {
				t.Fatal(err)
			}
			total := 0
			for _, s := range sqls {
				if strings.HasPrefix(strings.TrimSpace(strings.ToUpper(s)), "SELECT") {
					total += dbtest.ReadVolume(t, d, s)
				}
			}
			return total, p
		}
		a, pa := read(small, "qx")
		b, pb := read(large, "qx")
		t.Logf("search \"qx\": read %d in a box of %d, %d in a box of %d", a, messaging.ShortSearchScope, b, 10*messaging.ShortSearchScope)
		// Both look at the same number of conversations (the whole small
		// box, the most recent of the large one).
		if b > a+a/4 {
			t.Errorf("a short search read %d in a box of %d conversations, %d in one of %d: it reads the whole box", b, 10*messaging.ShortSearchScope, a, messaging.ShortSearchScope)
		}
		if len(pa.Threads) != 0 || len(pb.Threads) != 0 || pa.Scope != 0 || pb.Scope != messaging.ShortSearchScope {
			t.Errorf("\"qx\": %d and %d found, scope %d and %d", len(pa.Threads), len(pb.Threads), pa.Scope, pb.Scope)
		}
		// What a short text finds in the large box: only among its most
		// recent conversations, page after page.
		ids := seeded[large.ID].Threads
		recent := map[int64]bool{}
		for _, id := range ids[len(ids)-messaging.ShortSearchScope:] {
			recent[id] = true
		}
		found := 0
		for page := 1; page <= 100; page++ {
			p, err := f.svc.Inbox(ctx, large.Identity(), page, "99")
			if err != nil {
				t.Fatal(err)
			}
			if p.Scope != messaging.ShortSearchScope {
				t.Fatalf("page %d: scope %d", page, p.Scope)
			}
			for _, th := range p.Threads {
				if !recent[th.ID] {
					t.Fatalf("\"99\" found %d (%s), not among the %d most recent", th.ID, th.Subject, messaging.ShortSearchScope)
				}
				found++
			}
			if !p.More {
				break
			}
		}
		if found == 0 {
			t.Fatal("\"99\" found nothing among the most recent conversations")
		}
		// Three characters or more search the whole box.
		p, err := f.svc.Inbox(ctx, large.Identity(), 1, "gesprek 000099")
		if err != nil || len(p.Threads) != 1 || p.Threads[0].ID != ids[99] || p.Scope != 0 {
			t.Fatalf("\"gesprek 000099\": %+v (%v)", p, err)
		}
	})
}

// TestSearchWaysAgreeBeyondASCII: the walk, the matches and the search's
// own choice find the same conversations for a capital that Go lowers
// into two characters (the Turkish "İ": "i" and a combining dot), on
// both engines. SQLite's FTS5 folds case itself; the phrase it got was
// lowered by Go first, so "İbrahim" found nothing through the index
// while the walk's GLOB found the subject.
func TestSearchWaysAgreeBeyondASCII(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := setup(t, d)
		ext := f.active(t, "eva@klant.nl", false, "Eva", "", "Extern")
		if _, err := f.svc.Compose(ctx, f.hr.Identity(), messaging.ComposeInput{To: []string{ext.Email}, Subject: "Verzuim İbrahim Yılmaz", Body: "Tekst"}); err != nil {
			t.Fatal(err)
		}
		for _, q := range []string{"ibrahim", "İbrahim", "yılmaz", "YILMAZ", "Yılmaz"} {
			got := map[string]int{}
			for _, how := range []string{"walk", "matches", ""} {
				f.svc.SearchBy(how)
				p, err := f.svc.Inbox(ctx, f.hr.Identity(), 1, q)
				f.svc.SearchBy("")
				if err != nil {
					t.Fatal(err)
				}
				got[how] = len(p.Threads)
			}
			if got["walk"] != got["matches"] || got["walk"] != got[""] {
				t.Errorf("%q: walk %d, matches %d, auto %d", q, got["walk"], got["matches"], got[""])
			}
		}
		if p, err := f.svc.Inbox(ctx, f.hr.Identity(), 1, "İbrahim"); err != nil || len(p.Threads) != 1 {
			t.Errorf("\"İbrahim\" does not find \"Verzuim İbrahim Yılmaz\": %v", err)
		}
	})
}

// TestSearchReadsItsIndexOnce: a search with few matches reads the
// subject index (FTS5 on SQLite, the trigram index on PostgreSQL) in one
// statement: the count that chooses the plan returns the matches, and the
// page reads them by id. Before, the page read the index again; and a
// word that matches nothing reads no page at all.
func TestSearchReadsItsIndexOnce(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := setup(t, d)
		if _, err := messagingtest.Seed(ctx, d, f.v, messagingtest.Box{OrgID: f.org.ID, Owner: f.hr, Threads: 300, Others: 30}); err != nil {
			t.Fatal(err)
		}
		index := "threads_fts"
		if d.Postgres() {
			index = "LOWER(th.subject) LIKE"
		}
		stmts := dbtest.CountStatements(d)
		for _, c := range []struct {
			query        string
			found, pages int
		}{{"gesprek 000123", 1, 1}, {"zqxj", 0, 0}} {
			var p *messaging.InboxPage
			var err error
			sqls := stmts.Run(func(ctx context.Context) { p, err = f.svc.Inbox(ctx, f.hr.Identity(), 1, c.query) })
			if err != nil || len(p.Threads) != c.found {
				t.Fatalf("%q: %d found (%v)", c.query, len(p.Threads), err)
			}
			reads, pages := 0, 0
			for _, q := range sqls {
				if strings.Contains(q, index) {
					reads++
				}
				if strings.Contains(q, "page.id") {
					pages++
				}
			}
			if reads != 1 || pages != c.pages {
				t.Errorf("%q: %d statements read the subject index, %d read a page; want 1 and %d:\n%s", c.query, reads, pages, c.pages, strings.Join(sqls, "\n"))
			}
		}
	})
}
