package messaging_test

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/uptrace/bun"

	"dialoog/db"
	"dialoog/db/dbtest"
	"dialoog/messaging"
)

// seedCases inserts n cases of the organisation about subject, with the
// references prefix-01 ... prefix-n.
func seedCases(t *testing.T, f *fx, d *db.DB, orgID, subject int64, prefix string, n int, status string) []int64 {
	t.Helper()
	cases := make([]db.Case, n)
	for i := range cases {
		cases[i] = db.Case{OrgID: orgID, SubjectID: &subject, Reference: fmt.Sprintf("%s-%04d", prefix, i+1), Status: status,
			CreatedAt: f.clk.Now()}
		if status == db.CaseClosed {
			cases[i].ClosedAt = bun.NullTime{Time: f.clk.Now()}
		}
	}
	if _, err := d.NewInsert().Model(&cases).Exec(context.Background()); err != nil {
		t.Fatal(err)
	}
	ids := make([]int64, n)
	for i := range cases {
		ids[i] = cases[i].ID
	}
	return ids
}

// TestCaseList: the list of an organisation's cases, for its internal users
// only; open or closed, paged by reference, searched by reference or by the
// name or address of the person a case is about, and never listing another
// organisation's cases (also when they have the same reference or person).
func TestCaseList(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := setup(t, d)
		jan := f.active(t, "jan@example.nl", false, "Jan", "", "Jansen")
		piet := f.active(t, "piet@example.nl", false, "Piet", "", "Post")
		seedCases(t, f, d, f.org.ID, jan.ID, "P", 27, db.CaseOpen)
		seedCases(t, f, d, f.org.ID, piet.ID, "Q", 3, db.CaseOpen)
		seedCases(t, f, d, f.org.ID, jan.ID, "Z", 2, db.CaseClosed)
		other := &db.Organisation{Name: "Ander", CreatedAt: f.clk.Now()}
		if _, err := d.NewInsert().Model(other).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		stranger := f.active(t, "hr@ander.nl", true, "Anna", "", "Ander")
		if _, err := d.NewUpdate().Model(stranger).Set("org_id = ?", other.ID).WherePK().Exec(ctx); err != nil {
			t.Fatal(err)
		}
		stranger.OrgID = &other.ID
		seedCases(t, f, d, other.ID, jan.ID, "P", 2, db.CaseOpen)

		refs := func(l *messaging.CaseList) string {
			var out []string
			for _, c := range l.Cases {
				out = append(out, c.Reference)
			}
			return strings.Join(out, " ")
		}
		list := func(u *db.User, in messaging.CaseListInput) *messaging.CaseList {
			t.Helper()
			l, err := f.svc.Cases(ctx, u.Identity(), in)
			if err != nil {
				t.Fatal(err)
			}
			return l
		}

		t.Run("OnlyInternalUsers", func(t *testing.T) {
			_, err := f.svc.Cases(ctx, jan.Identity(), messaging.CaseListInput{})
			wantNotFound(t, "an external user's case list", err)
		})
		t.Run("Pages", func(t *testing.T) {
			p1 := list(f.hr, messaging.CaseListInput{})
			if len(p1.Cases) != messaging.CasesPageSize || p1.Status != db.CaseOpen || p1.Next != "P-0025" ||
				p1.Cases[0].Reference != "P-0001" || p1.Cases[0].SubjectName != "Jan Jansen" {
				t.Fatalf("page 1: %s (next %q)", refs(p1), p1.Next)
			}
			p2 := list(f.hr, messaging.CaseListInput{After: p1.Next})
			if got := refs(p2); got != "P-0026 P-0027 Q-0001 Q-0002 Q-0003" || p2.Next != "" {
				t.Fatalf("page 2: %s (next %q)", got, p2.Next)
			}
		})
		t.Run("Closed", func(t *testing.T) {
			if got := refs(list(f.hr, messaging.CaseListInput{Status: db.CaseClosed})); got != "Z-0001 Z-0002" {
				t.Fatalf("closed: %s", got)
			}
		})
		t.Run("Search", func(t *testing.T) {
			for q, want := range map[string]string{
				"P-0007":         "P-0007",
				" Q-0002 ":       "Q-0002",
				"Post":           "Q-0001 Q-0002 Q-0003",
				"piet@example":   "Q-0001 Q-0002 Q-0003",
				"P-":             "",
				"Onbekend Mens":  "",
				"anna":           "",
				"hr@ander.nl":    "",
				"P-0001 OR 1=1":  "",
				`"jan" OR "piet`: "",
			} {
				if got := refs(list(f.hr, messaging.CaseListInput{Query: q})); got != want {
					t.Errorf("search %q: %q, want %q", q, got, want)
				}
			}
			if l := list(f.hr, messaging.CaseListInput{Query: "Jansen"}); len(l.Cases) != messaging.CasesPageSize || l.Next == "" {
				t.Errorf("search Jansen: %d cases, next %q", len(l.Cases), l.Next)
			}
			if got := refs(list(f.hr, messaging.CaseListInput{Query: "jansen", Status: db.CaseClosed})); got != "Z-0001 Z-0002" {
				t.Errorf("closed cases about Jan: %s", got)
			}
		})
		t.Run("OtherOrganisation", func(t *testing.T) {
			if got := refs(list(stranger, messaging.CaseListInput{Query: "Jansen"})); got != "P-0001 P-0002" {
				t.Fatalf("the other organisation sees %s", got)
			}
			for _, c := range list(stranger, messaging.CaseListInput{}).Cases {
				if _, err := f.svc.CaseByID(ctx, f.hr.Identity(), c.ID); err == nil {
					t.Fatalf("case %d of the other organisation opens for hr", c.ID)
				}
			}
		})
	})
}

// caseScan is a plan line that reads every case, or sorts them all.
var caseScan = regexp.MustCompile(`^(SCAN (c|cases)( |$)|USE TEMP B-TREE FOR ORDER BY)|^Seq Scan on cases$`)

// TestCaseListPlans checks with EXPLAIN, on both engines and with and
// without planner statistics, that a page of the case list and its
// searches read the cases through an index, among 4,000 cases of two
// organisations.
func TestCaseListPlans(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := setup(t, d)
		jan := f.active(t, "jan@example.nl", false, "Jan", "", "Jansen")
		seedCases(t, f, d, f.org.ID, jan.ID, "P", 1500, db.CaseOpen)
		seedCases(t, f, d, f.org.ID, jan.ID, "Z", 1500, db.CaseClosed)
		other := &db.Organisation{Name: "Ander", CreatedAt: f.clk.Now()}
		if _, err := d.NewInsert().Model(other).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		seedCases(t, f, d, other.ID, jan.ID, "X", 1000, db.CaseOpen)
		queries := map[string]struct {
			sql    string
			sorted bool // a search sorts what it matched
		}{
			"open page 1":    {f.svc.CaseListSQL(f.org.ID, db.CaseOpen, "", ""), false},
			"open page 40":   {f.svc.CaseListSQL(f.org.ID, db.CaseOpen, "", "P-1000"), false},
			"closed page 1":  {f.svc.CaseListSQL(f.org.ID, db.CaseClosed, "", ""), false},
			"reference":      {f.svc.CaseListSQL(f.org.ID, db.CaseOpen, "P-0007", ""), true},
			"short":          {f.svc.CaseListSQL(f.org.ID, db.CaseOpen, "P7", ""), true},
			"person":         {f.svc.CaseListSQL(f.org.ID, db.CaseOpen, "jansen", ""), true},
			"person, page 2": {f.svc.CaseListSQL(f.org.ID, db.CaseOpen, "jansen", "P-0025"), true},
		}
		check := func(t *testing.T) {
			for name, q := range queries {
				plan := dbtest.Plan(t, d, q.sql)
				if testing.Verbose() {
					t.Logf("%s:\n  %s", name, strings.Join(plan, "\n  "))
				}
				for _, line := range plan {
					if caseScan.MatchString(line) && !(q.sorted && strings.HasPrefix(line, "USE TEMP B-TREE")) {
						t.Errorf("%s reads every case: %q in\n%s\n%s", name, line, strings.Join(plan, "\n"), q.sql)
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
