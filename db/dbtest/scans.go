package dbtest

import (
	"context"
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/uptrace/bun"

	"dialoog/db"
)

// tableScan is a plan line that reads a whole table: SQLite's "SCAN x"
// (also through an index, in its order; not "SCAN CONSTANT ROW"),
// PostgreSQL's sequential scan (Plan turns them off, so one shows only
// where no index serves).
var tableScan = regexp.MustCompile(`^SCAN |^Seq Scan on `)

// notATable is a SQLite scan of no table: the one row of a SELECT without
// FROM, the rows of a multi-row INSERT's VALUES.
var notATable = regexp.MustCompile(`^SCAN (CONSTANT ROW|\d+-ROW VALUES CLAUSE)$`)

// TableScans explains each of sqls (from Statements.Run) that reads or writes rows (SELECT,
// INSERT, UPDATE, DELETE, WITH) and reports each plan line that reads a
// whole table, with its statement. It returns how many it explained.
// On SQLite the answer is meant for a database without statistics, where
// the planner plans as for large tables and takes any index that serves;
// with statistics it rightly reads a test's small tables whole.
func TableScans(t testing.TB, d *db.DB, sqls []string) int {
	t.Helper()
	return TableScansExcept(t, d, sqls)
}

// TableScansExcept is TableScans but for whole reads of the tables named
// in small (by name, or on SQLite by the alias a statement gives them):
// configuration tables of a few rows each, which cost what they hold,
// not what the installation holds.
func TableScansExcept(t testing.TB, d *db.DB, sqls []string, small ...string) int {
	t.Helper()
	explained := 0
	for _, sql := range sqls {
		fields := strings.Fields(sql)
		if len(fields) == 0 {
			continue
		}
		switch strings.ToUpper(fields[0]) {
		case "SELECT", "INSERT", "UPDATE", "DELETE", "WITH":
		default:
			continue
		}
		explained++
		plan := Plan(t, d, sql)
		if testing.Verbose() {
			t.Logf("%s\n  %s", sql, strings.Join(plan, "\n  "))
		}
		// SQLite reads the rows of a subquery in FROM (a CO-ROUTINE or
		// MATERIALIZE step) as "SCAN <its alias>": no table.
		var subqueries []string
		for _, line := range plan {
			if name, ok := strings.CutPrefix(line, "CO-ROUTINE "); ok {
				subqueries = append(subqueries, name)
			} else if name, ok := strings.CutPrefix(line, "MATERIALIZE "); ok {
				subqueries = append(subqueries, name)
			}
		}
		for _, line := range plan {
			if tableScan.MatchString(line) && !notATable.MatchString(line) && !scansOneOf(line, small) && !scansOneOf(line, subqueries) {
				t.Errorf("reads a whole table: %q in\n%s", line, sql)
			}
		}
		if d.Postgres() {
			for _, line := range wholeIndexReads(t, d, sql) {
				if !scansOneOf(line, small) {
					t.Errorf("reads a whole index: %q in\n%s", line, sql)
				}
			}
		}
	}
	return explained
}

// wholeIndexReads returns, for PostgreSQL, the index scans of sql's plan
// that read a whole index: with sequential scans off (Plan), PostgreSQL
// reads a table through any index of it rather than whole, also through
// one whose leading column the statement does not constrain, which reads
// every entry (a lookup by a B-tree's second column). Reported as
// "Seq Scan on <table> (through <index>, <condition>)" lines: an index
// scan whose condition does not name the index's first column, or that
// has none but filters the rows it reads, under no Limit (an ordered read
// of the first rows is no whole read). An index read whole as an input
// of a join (merge or hash), or unfiltered for a hashed subquery, is left
// out: that is the planner's choice for a test's small table, not one it
// makes at volume.
// Partial indexes and indexes on expressions are left out: they hold only
// the rows they are for, or are searched by their own operators. With
// statistics, a table of the test's that holds fewer than 1,000 rows is
// left out too: PostgreSQL rightly reads such a table's few entries in
// the order it needs rather than look them up (as SQLite with statistics
// reads small tables whole, see TableScans).
func wholeIndexReads(t testing.TB, d *db.DB, sql string) []string {
	t.Helper()
	ctx := context.Background()
	var doc string
	err := d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.ExecContext(ctx, "SET LOCAL enable_seqscan = off"); err != nil {
			return err
		}
		return tx.NewRaw("EXPLAIN (FORMAT JSON) "+sql).Scan(ctx, &doc)
	})
	if err != nil {
		t.Fatalf("explain %s: %v", sql, err)
	}
	var plans []struct {
		Plan condPlan `json:"Plan"`
	}
	if err := json.Unmarshal([]byte(doc), &plans); err != nil {
		t.Fatalf("explain %s: %v", sql, err)
	}
	var out []string
	var walk func(p condPlan, limited, joined bool)
	walk = func(p condPlan, limited, joined bool) {
		limited = limited || p.NodeType == "Limit"
		if p.Index != "" {
			lead := leadingColumn(t, d, p.Index)
			switch {
			case lead == "":
			case p.IndexCond == "" && p.Filter != "" && !limited && !joined,
				p.IndexCond != "" && !regexp.MustCompile(`(^|[^a-z0-9_.])([a-z0-9_]+\.)?`+regexp.QuoteMeta(lead)+`\b`).MatchString(p.IndexCond):
				rel, rows := tableOfIndex(t, d, p.Index)
				if rows >= 0 && rows < 1000 {
					break
				}
				out = append(out, "Seq Scan on "+rel+" (through "+p.Index+", "+p.IndexCond+")")
			}
		}
		for _, c := range p.Plans {
			walk(c, limited, strings.HasSuffix(p.NodeType, "Join") || p.NodeType == "Nested Loop")
		}
	}
	for _, p := range plans {
		walk(p.Plan, false, false)
	}
	return out
}

type condPlan struct {
	NodeType  string     `json:"Node Type"`
	Relation  string     `json:"Relation Name"`
	Index     string     `json:"Index Name"`
	IndexCond string     `json:"Index Cond"`
	Filter    string     `json:"Filter"`
	Plans     []condPlan `json:"Plans"`
}

// leadingColumn is the first column of a plain B-tree index; "" for a
// partial index, one on an expression, or another kind.
func leadingColumn(t testing.TB, d *db.DB, index string) string {
	t.Helper()
	var cols []string
	err := d.NewRaw(`SELECT a.attname FROM pg_index AS i
JOIN pg_class AS c ON c.oid = i.indexrelid
JOIN pg_am AS am ON am.oid = c.relam
JOIN pg_attribute AS a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
WHERE c.relname = ? AND c.relnamespace = current_schema()::regnamespace AND i.indpred IS NULL AND am.amname = 'btree'`, index).Scan(context.Background(), &cols)
	if err != nil {
		t.Fatalf("index %s: %v", index, err)
	}
	if len(cols) == 0 {
		return ""
	}
	return cols[0]
}

// tableOfIndex names the table of an index (a Bitmap Index Scan names no
// relation) and the rows the statistics say it holds (-1: none yet).
func tableOfIndex(t testing.TB, d *db.DB, index string) (string, float64) {
	t.Helper()
	var rows []struct {
		Name string  `bun:"relname"`
		Rows float64 `bun:"reltuples"`
	}
	err := d.NewRaw(`SELECT t.relname, t.reltuples FROM pg_index AS i JOIN pg_class AS c ON c.oid = i.indexrelid JOIN pg_class AS t ON t.oid = i.indrelid
WHERE c.relname = ? AND c.relnamespace = current_schema()::regnamespace`, index).Scan(context.Background(), &rows)
	if err != nil || len(rows) == 0 {
		t.Fatalf("table of index %s: %v", index, err)
	}
	return rows[0].Name, rows[0].Rows
}

// scansOneOf reports whether the whole-table read line reads one of
// tables.
func scansOneOf(line string, tables []string) bool {
	name := strings.TrimPrefix(strings.TrimPrefix(line, "SCAN "), "Seq Scan on ")
	name, _, _ = strings.Cut(name, " ")
	for _, t := range tables {
		if name == t {
			return true
		}
	}
	return false
}

// ForStatistics runs fn for the plan checks of TableScans: as "without
// statistics" on both engines and, on PostgreSQL, again as "with
// statistics" after ANALYZE (SQLite with statistics rightly reads a test's
// small tables whole, see TableScans). run names the pass, "a" or "b",
// for what each pass must create anew (addresses, names).
func ForStatistics(t *testing.T, d *db.DB, fn func(t *testing.T, run string)) {
	t.Helper()
	t.Run("without statistics", func(t *testing.T) { fn(t, "a") })
	if !d.Postgres() {
		return
	}
	if _, err := d.ExecContext(context.Background(), "ANALYZE"); err != nil {
		t.Fatal(err)
	}
	t.Run("with statistics", func(t *testing.T) { fn(t, "b") })
}

// ExplainOp runs fn with a context of s (Run) and fails the test when fn
// fails or runs no statement; then, as the subtest what, it reports the
// whole-table reads of what fn ran (TableScansExcept with small; with -v
// every plan is logged).
func (s *Statements) ExplainOp(t *testing.T, d *db.DB, what string, fn func(ctx context.Context) error, small ...string) {
	t.Helper()
	var err error
	sqls := s.Run(func(ctx context.Context) { err = fn(ctx) })
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	if len(sqls) == 0 {
		t.Fatalf("%s: no statements recorded", what)
	}
	t.Run(what, func(t *testing.T) { TableScansExcept(t, d, sqls, small...) })
}

// Statistics gives the planners what a running installation has of d's
// tables after seeding, for benchmarks: SQLite's PRAGMA optimize
// (db.Optimize, as the server runs it) and PostgreSQL's ANALYZE (what its
// autovacuum would have done).
func Statistics(tb testing.TB, d *db.DB) {
	tb.Helper()
	ctx := context.Background()
	if err := d.Optimize(ctx); err != nil {
		tb.Fatal(err)
	}
	if d.Postgres() {
		if _, err := d.ExecContext(ctx, "ANALYZE"); err != nil {
			tb.Fatal(err)
		}
	}
}
