package messaging_test

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"

	"dialoog/db"
	"dialoog/db/dbtest"
	"dialoog/messaging"
	"dialoog/messaging/messagingtest"
)

// fullScan matches plan lines that read a whole table of conversations or
// messages, or sort rows the index should have given in order.
var fullScan = regexp.MustCompile(`^(SCAN (t|m|ms|p|op|threads|messages|message_states|participants)( |$)|USE TEMP B-TREE FOR ORDER BY)|^Seq Scan on (threads|messages|message_states|participants)$`)

// TestInboxPlans checks with EXPLAIN, on both engines and with and without
// planner statistics, that an inbox page, a search (of the whole box and
// of a team's box) and the unread count
// read through indexes: no full scan of threads, messages, read states or
// participants, and no sort of the whole box.
func TestInboxPlans(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := setup(t, d)
		// A case manager with 3,000 conversations, and a colleague with a
		// small box, so that the planner sees a skewed table.
		_, err := messagingtest.Seed(ctx, d, f.v, messagingtest.Box{OrgID: f.org.ID, Owner: f.hr, Threads: 3000, Messages: 2, Others: 300, UnreadEvery: 7})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := messagingtest.Seed(ctx, d, f.v, messagingtest.Box{OrgID: f.org.ID, Owner: f.boss, Threads: 20, Messages: 1, Others: 5}); err != nil {
			t.Fatal(err)
		}
		// Every third of the case manager's conversations is her team's.
		team, err := f.svc.CreateTeam(ctx, f.org.ID, "OSAW Verzuim", false, true)
		if err != nil {
			t.Fatal(err)
		}
		if err := f.svc.AddTeamMember(ctx, team.ID, f.hr.Email); err != nil {
			t.Fatal(err)
		}
		if _, err := d.NewRaw("UPDATE participants SET via_team_id = ? WHERE user_id = ? AND thread_id % 3 = 0", team.ID, f.hr.ID).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		queries := map[string]func() (string, []any){
			"inbox page 1":           func() (string, []any) { return f.svc.InboxSQL(f.hr, "", 1) },
			"inbox page 40":          func() (string, []any) { return f.svc.InboxSQL(f.hr, "", 40) },
			"search subject":         func() (string, []any) { return f.svc.InboxSQL(f.hr, "gesprek 0012", 1) },
			"search name":            func() (string, []any) { return f.svc.InboxSQL(f.hr, "werker0004", 1) },
			"search short":           func() (string, []any) { return f.svc.InboxSQL(f.hr, "w", 1) },
			"search every":           func() (string, []any) { return f.svc.InboxSQL(f.hr, "gesprek", 1) },
			"search every, page 3":   func() (string, []any) { return f.svc.InboxSQL(f.hr, "gesprek", 3) },
			"external search":        func() (string, []any) { return f.svc.InboxSQL(f.boss, "medewerker", 1) },
			"unread count":           func() (string, []any) { return f.svc.UnreadSQL(f.hr.ID) },
			"unread count (small)":   func() (string, []any) { return f.svc.UnreadSQL(f.boss.ID) },
			"inbox page 1 (small)":   func() (string, []any) { return f.svc.InboxSQL(f.boss, "", 1) },
			"search subject (small)": func() (string, []any) { return f.svc.InboxSQL(f.boss, "gesprek", 1) },
			"team box page 1":        func() (string, []any) { return f.svc.TeamBoxSQL(f.hr, team.ID, 1) },
			"team box page 40":       func() (string, []any) { return f.svc.TeamBoxSQL(f.hr, team.ID, 40) },
			"team search subject":    func() (string, []any) { return f.svc.TeamSearchSQL(f.hr, team.ID, "gesprek 0012", 1) },
			"team search name":       func() (string, []any) { return f.svc.TeamSearchSQL(f.hr, team.ID, "werker0004", 1) },
			"team search short":      func() (string, []any) { return f.svc.TeamSearchSQL(f.hr, team.ID, "w", 1) },
			"team search every":      func() (string, []any) { return f.svc.TeamSearchSQL(f.hr, team.ID, "gesprek", 1) },
			"team search page 2":     func() (string, []any) { return f.svc.TeamSearchSQL(f.hr, team.ID, "gesprek", 2) },
			"case box page 1":        func() (string, []any) { return f.svc.CaseBoxSQL(f.hr, 1, 1) },
			"case box page 40":       func() (string, []any) { return f.svc.CaseBoxSQL(f.hr, 1, 40) },
			"case search subject":    func() (string, []any) { return f.svc.CaseSearchSQL(f.hr, 1, "gesprek 0012", 1) },
			"case search short":      func() (string, []any) { return f.svc.CaseSearchSQL(f.hr, 1, "w", 1) },
			"inbox page after":       func() (string, []any) { return f.svc.InboxAfterSQL(f.hr, 0, 0) },
			"team box page after":    func() (string, []any) { return f.svc.InboxAfterSQL(f.hr, team.ID, 0) },
			"case box page after":    func() (string, []any) { return f.svc.InboxAfterSQL(f.hr, 0, 1) },
			"mark read":              func() (string, []any) { return messaging.MarkReadSQL(f.hr.ID, 1) },
		}
		check := func(t *testing.T) {
			for name, query := range queries {
				q, args := query()
				plan := dbtest.Plan(t, d, q, args...)
				if testing.Verbose() {
					t.Logf("%s:\n  %s", name, strings.Join(plan, "\n  "))
				}
				// A search that reads the conversations that match first
				// (SCAN c: a few, at most 2,000; or, when the plan's
				// count found at most 200, those by id) sorts the user's
				// among them, and then its page of them.
				matches := slices.Contains(plan, "SCAN c") || slices.Contains(plan, "SEARCH th USING INTEGER PRIMARY KEY (rowid=?)")
				// A short text in a large box walks its most recent
				// conversations, read by a subquery p (a range of the
				// inbox index under a LIMIT): "SCAN p" reads those rows.
				recent := slices.Contains(plan, "CO-ROUTINE p") || slices.Contains(plan, "MATERIALIZE p")
				for _, line := range plan {
					if recent && line == "SCAN p" {
						continue
					}
					// A word in every subject walks the box, whose first
					// conversations fill the page: it tests each one's
					// subject, and does not read every subject that
					// matches from the index first. (Without statistics
					// PostgreSQL may guess the word rare and start from
					// the index.)
					if strings.Contains(name, "every") && strings.HasSuffix(t.Name(), "/with_statistics") && (strings.Contains(line, "threads_fts") || strings.Contains(line, "threads_subject_trgm")) {
						t.Errorf("%s reads every match: %q in\n%s\n%s", name, line, strings.Join(plan, "\n"), q)
					}
					if matches && line == "USE TEMP B-TREE FOR ORDER BY" {
						continue
					}
					if fullScan.MatchString(line) {
						t.Errorf("%s reads the whole table: %q in\n%s\n%s", name, line, strings.Join(plan, "\n"), q)
					}
				}
			}
		}
		t.Run("without statistics", check)
		if _, err := d.ExecContext(ctx, "ANALYZE"); err != nil {
			t.Fatal(err)
		}
		t.Run("with statistics", check)

		// And the queries answer what the box holds.
		page, err := f.svc.Inbox(ctx, f.hr.Identity(), 1, "")
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Threads) != messaging.PageSize || !page.More || page.Threads[0].Subject != "Verzuim gesprek 002999" || page.Unread != 429 {
			t.Fatalf("page 1: %d threads, more %v, first %q, unread %d", len(page.Threads), page.More, page.Threads[0].Subject, page.Unread)
		}
		for q, want := range map[string]int{"gesprek 00299": 10, "GESPREK 002998": 1, "Werker00004": 10, "werker00004 ": 10, "mede": 20, "e": 20, "x9": 0} {
			p, err := f.svc.Inbox(ctx, f.hr.Identity(), 1, q)
			if err != nil || len(p.Threads) != want {
				t.Errorf("search %q: %d threads, want %d (%v)", q, len(p.Threads), want, err)
			}
		}
		// A search in the team box finds the team's conversations of what
		// the whole box finds (one page of it), and only those.
		found := 0
		for _, q := range []string{"gesprek 00299", "gesprek 00150", "Werker00004", "Werker00005", "Werker00006"} {
			all, err := f.svc.Inbox(ctx, f.hr.Identity(), 1, q)
			if err != nil || all.More {
				t.Fatalf("search %q: more than a page (%v)", q, err)
			}
			var want []int64
			for _, th := range all.Threads {
				if th.ID%3 == 0 {
					want = append(want, th.ID)
				}
			}
			p, err := f.svc.TeamBoxAfter(ctx, f.hr.Identity(), team.ID, 1, "", q)
			if err != nil {
				t.Fatal(err)
			}
			var got []int64
			for _, th := range p.Threads {
				got = append(got, th.ID)
			}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("team search %q finds %v, want %v", q, got, want)
			}
			found += len(got)
		}
		if found == 0 {
			t.Error("the team searches found nothing at all")
		}
	})
}

// TestInboxCountersFollowChanges checks after each kind of change that the
// counters the inbox reads equal what the read states say.
func TestInboxCountersFollowChanges(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := setup(t, d)
		emp := f.active(t, "jan@example.nl", false, "Jan", "", "Jansen")
		check := func(step string) {
			t.Helper()
			var bad []struct {
				ThreadID, UserID, UnreadCount, BoxCount, Unread, Box int64
			}
			err := d.NewRaw(`SELECT * FROM (SELECT p.thread_id, p.user_id, p.unread_count, p.box_count,
  (SELECT COUNT(*) FROM message_states AS ms JOIN messages AS m ON m.id = ms.message_id
    WHERE m.thread_id = p.thread_id AND ms.user_id = p.user_id AND ms.read_at IS NULL AND ms.removed_at IS NULL) AS unread,
  (SELECT COUNT(*) FROM message_states AS ms JOIN messages AS m ON m.id = ms.message_id
    WHERE m.thread_id = p.thread_id AND ms.user_id = p.user_id AND ms.removed_at IS NULL) AS box
  FROM participants AS p) AS x WHERE unread_count <> unread OR box_count <> box`).Scan(ctx, &bad)
			if err != nil {
				t.Fatal(err)
			}
			if len(bad) > 0 {
				t.Fatalf("after %s the counters are off: %+v", step, bad)
			}
			var badTotals []struct{ ID, UnreadTotal, Sum int64 }
			if err := d.NewRaw(`SELECT * FROM (SELECT u.id, u.unread_total,
  (SELECT COALESCE(SUM(p.unread_count), 0) FROM participants AS p WHERE p.user_id = u.id) AS sum FROM users AS u) AS x
  WHERE unread_total <> sum`).Scan(ctx, &badTotals); err != nil {
				t.Fatal(err)
			}
			if len(badTotals) > 0 {
				t.Fatalf("after %s the users' totals are off: %+v", step, badTotals)
			}
		}
		t1, err := f.svc.Compose(ctx, f.hr.Identity(), messaging.ComposeInput{To: []string{emp.Email}, Subject: "Eén", Body: "Hallo"})
		if err != nil {
			t.Fatal(err)
		}
		check("compose")
		for i := range 3 {
			if _, err := f.svc.Reply(ctx, f.hr.Identity(), messaging.ReplyInput{ThreadID: t1, Body: fmt.Sprint("nog ", i)}); err != nil {
				t.Fatal(err)
			}
		}
		check("replies")
		if n, _ := f.svc.UnreadCount(ctx, emp.ID); n != 4 {
			t.Fatalf("unread %d, want 4", n)
		}
		if err := f.svc.AddParticipant(ctx, f.hr.Identity(), t1, messaging.AddInput{Email: f.boss.Email, History: messaging.WithHistory}); err != nil {
			t.Fatal(err)
		}
		check("add participant")
		if p, _ := f.svc.Inbox(ctx, emp.Identity(), 1, ""); len(p.Threads) != 1 || p.Threads[0].From != "Hanna de Vries, Bram Arts" {
			t.Fatalf("the others in joining order: %+v", p.Threads)
		}
		if n, _ := f.svc.UnreadCount(ctx, f.boss.ID); n != 5 { // the history and the line about the addition
			t.Fatalf("newcomer unread %d, want 5", n)
		}
		if _, err := f.svc.MarkRead(ctx, emp.Identity(), t1); err != nil {
			t.Fatal(err)
		}
		check("mark read")
		v, _ := f.svc.Thread(ctx, emp.Identity(), t1)
		if err := f.svc.RemoveFromBox(ctx, emp.Identity(), v.Messages[0].ID); err != nil {
			t.Fatal(err)
		}
		check("remove one message")
		last, err := f.svc.Reply(ctx, f.hr.Identity(), messaging.ReplyInput{ThreadID: t1, Body: "vergissing"})
		if err != nil {
			t.Fatal(err)
		}
		if err := f.svc.DeleteForEveryone(ctx, f.hr.Identity(), last); err != nil {
			t.Fatal(err)
		}
		check("delete for everyone")
		if err := f.svc.RemoveThreadFromBox(ctx, emp.Identity(), t1); err != nil {
			t.Fatal(err)
		}
		check("remove thread")
		if p, _ := f.svc.Inbox(ctx, emp.Identity(), 1, ""); len(p.Threads) != 0 {
			t.Fatalf("removed thread still listed: %+v", p.Threads)
		}
		if _, err := f.svc.Reply(ctx, f.hr.Identity(), messaging.ReplyInput{ThreadID: t1, Body: "terug"}); err != nil {
			t.Fatal(err)
		}
		check("a new message after removal")
		if p, _ := f.svc.Inbox(ctx, emp.Identity(), 1, ""); len(p.Threads) != 1 || p.Threads[0].Unread != 1 || p.Unread != 1 {
			t.Fatalf("thread not back with one unread: %+v", p)
		}
		if err := f.svc.StopService(ctx, emp.Identity()); err != nil {
			t.Fatal(err)
		}
		check("stop service")
		only, err := f.svc.Compose(ctx, f.hr.Identity(), messaging.ComposeInput{To: []string{f.boss.Email}, Subject: "Eenmalig", Body: "Oeps"})
		if err != nil {
			t.Fatal(err)
		}
		v, _ = f.svc.Thread(ctx, f.hr.Identity(), only)
		if err := f.svc.DeleteForEveryone(ctx, f.hr.Identity(), v.Messages[0].ID); err != nil {
			t.Fatal(err)
		}
		check("delete the only, unread message of a thread")
	})
}

// TestSearchHidesOutsidersAddresses: an external user does not find a
// conversation by another outsider's mail address (which would let them
// recover it a character at a time); an internal user does.
func TestSearchHidesOutsidersAddresses(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := setup(t, d)
		jan := f.active(t, "jan@example.nl", false, "Jan", "", "Jansen")
		f.active(t, "geheim.adres@example.nl", false, "Piet", "", "Post")
		if _, err := f.svc.Compose(ctx, f.hr.Identity(), messaging.ComposeInput{To: []string{jan.Email, "geheim.adres@example.nl"}, Subject: "Overleg", Body: "Hallo"}); err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			who   *db.User
			query string
			want  int
		}{
			{jan, "geheim", 0}, {jan, "Post", 1}, {jan, "osaw.nl", 1}, {f.hr, "geheim", 1},
		} {
			p, err := f.svc.Inbox(ctx, c.who.Identity(), 1, c.query)
			if err != nil || len(p.Threads) != c.want {
				t.Errorf("%s searching %q: %d threads, want %d (%v)", c.who.Email, c.query, len(p.Threads), c.want, err)
			}
		}
	})
}

// TestInboxPageFromIndexes checks with SQLite's EXPLAIN QUERY PLAN that a
// page of the inbox, of a team box and of a case box reads the participant
// rows of the page and each conversation's other participants from indexes
// alone, without the table rows behind them (migration 0036).
func TestInboxPageFromIndexes(t *testing.T) {
	d := dbtest.MustOpenSQLite(t)
	ctx := context.Background()
	f := setup(t, d)
	if _, err := messagingtest.Seed(ctx, d, f.v, messagingtest.Box{OrgID: f.org.ID, Owner: f.hr, Threads: 300, Messages: 2, Others: 30, UnreadEvery: 7}); err != nil {
		t.Fatal(err)
	}
	if _, err := d.ExecContext(ctx, "ANALYZE"); err != nil {
		t.Fatal(err)
	}
	for name, query := range map[string]func() (string, []any){
		"inbox page 1":    func() (string, []any) { return f.svc.InboxSQL(f.hr, "", 1) },
		"inbox page 5":    func() (string, []any) { return f.svc.InboxSQL(f.hr, "", 5) },
		"team box page 1": func() (string, []any) { return f.svc.TeamBoxSQL(f.hr, 1, 1) },
	} {
		q, args := query()
		plan := strings.Join(dbtest.Plan(t, d, q, args...), "\n")
		for _, want := range []string{"SEARCH op USING COVERING INDEX participants_thread_idx", "SEARCH p USING COVERING INDEX participants_"} {
			if !strings.Contains(plan, want) {
				t.Errorf("%s: no %q in the plan:\n%s", name, want, plan)
			}
		}
	}
}
