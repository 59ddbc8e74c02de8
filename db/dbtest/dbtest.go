// Package dbtest opens fresh, migrated databases of both engines for tests.
package dbtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"github.com/uptrace/bun"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"dialoog/db"
)

// TestPostgresURL returns the PostgreSQL server tests use:
// DIALOOG_TEST_DATABASE_URL, or the machine's local server.
func TestPostgresURL() string {
	if v := os.Getenv("DIALOOG_TEST_DATABASE_URL"); v != "" {
		return v
	}
	return "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
}

// MustOpenSQLite opens a migrated SQLite database in a temporary directory.
func MustOpenSQLite(tb testing.TB) *db.DB {
	tb.Helper()
	d, err := db.OpenSQLite(context.Background(), filepath.Join(tb.TempDir(), db.SQLiteFile))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { d.Close() })
	if _, err := d.Migrate(context.Background()); err != nil {
		tb.Fatal(err)
	}
	return d
}

// NewTestSchema creates a fresh PostgreSQL schema and returns a URL that
// selects it, dropping it when the test ends. Without a reachable server the
// test is skipped, unless CI is set, where it fails.
func NewTestSchema(tb testing.TB) string {
	tb.Helper()
	ctx := context.Background()
	admin, err := db.OpenPostgres(ctx, TestPostgresURL())
	if err != nil {
		if os.Getenv("CI") != "" {
			tb.Fatalf("PostgreSQL is required under CI: %v", err)
		}
		tb.Skipf("PostgreSQL not reachable: %v", err)
	}
	b := make([]byte, 6)
	rand.Read(b)
	schema := "t_" + hex.EncodeToString(b)
	if _, err := admin.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		admin.Close()
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		admin.ExecContext(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
		admin.Close()
	})
	u := TestPostgresURL()
	sep := "?"
	if strings.Contains(u, "?") {
		sep = "&"
	}
	return fmt.Sprintf("%s%ssearch_path=%s", u, sep, schema)
}

// MustOpenPostgres opens a migrated database in a fresh PostgreSQL schema.
func MustOpenPostgres(tb testing.TB) *db.DB {
	tb.Helper()
	return MustOpenPostgresURL(tb, NewTestSchema(tb))
}

// MustOpenPostgresURL opens and migrates the PostgreSQL database of url
// (from NewTestSchema, when the test also needs the URL).
func MustOpenPostgresURL(tb testing.TB, url string) *db.DB {
	tb.Helper()
	d, err := db.OpenPostgres(context.Background(), url)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { d.Close() })
	if _, err := d.Migrate(context.Background()); err != nil {
		tb.Fatal(err)
	}
	return d
}

// ForEachEngine runs fn as a subtest against SQLite and PostgreSQL.
func ForEachEngine(t *testing.T, fn func(t *testing.T, d *db.DB)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) { fn(t, MustOpenSQLite(t)) })
	t.Run("postgres", func(t *testing.T) { fn(t, MustOpenPostgres(t)) })
}

// Plan returns the query plan of query, one line per plan node: SQLite's
// EXPLAIN QUERY PLAN details ("SEARCH p USING INDEX ...", "SCAN t"), and for
// PostgreSQL "<Node Type> on <relation> using <index>" from EXPLAIN (FORMAT
// JSON), so that a test can check which tables a query reads how.
//
// On PostgreSQL the plan is made with enable_seqscan off: on a test-sized
// table a sequential scan is rightly the cheaper plan, so the check is
// whether an index path exists at all (without one PostgreSQL still shows a
// Seq Scan).
func Plan(tb testing.TB, d *db.DB, query string, args ...any) []string {
	tb.Helper()
	paths := planTree(tb, d, []string{"enable_seqscan"}, query, args...)
	out := make([]string, len(paths))
	for i, p := range paths {
		out[i] = p[len(p)-1]
	}
	return out
}

// PlanPaths is Plan as a tree: one entry per plan node, the lines of its
// ancestors first and its own line last, so that a test can check where in
// the plan a node sits (a sort at the top, a scan under a Limit).
//
// On PostgreSQL bitmap scans are off too, besides sequential scans: on a
// test-sized table reading all of an organisation's rows and sorting them
// is rightly cheaper than an ordered index scan under a LIMIT, so the
// check is whether the ordered path exists (a bitmap scan returns rows in
// no order, and at volume is the plan that reads them all).
func PlanPaths(tb testing.TB, d *db.DB, query string, args ...any) [][]string {
	tb.Helper()
	return planTree(tb, d, []string{"enable_seqscan", "enable_bitmapscan"}, query, args...)
}

// planTree is PlanPaths with the PostgreSQL planner settings turned off
// for the plan (SET LOCAL ... = off), in the plan's order (a node before
// its children).
func planTree(tb testing.TB, d *db.DB, off []string, query string, args ...any) [][]string {
	tb.Helper()
	ctx := context.Background()
	if !d.Postgres() {
		var rows []struct {
			ID      int    `bun:"id"`
			Parent  int    `bun:"parent"`
			NotUsed int    `bun:"notused"`
			Detail  string `bun:"detail"`
		}
		if err := d.NewRaw("EXPLAIN QUERY PLAN "+query, args...).Scan(ctx, &rows); err != nil {
			tb.Fatalf("explain %s: %v", query, err)
		}
		paths := map[int][]string{}
		out := make([][]string, len(rows))
		for i, r := range rows {
			p := append(append([]string(nil), paths[r.Parent]...), r.Detail)
			paths[r.ID], out[i] = p, p
		}
		return out
	}
	var doc string
	err := d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		for _, setting := range off {
			if _, err := tx.ExecContext(ctx, "SET LOCAL "+setting+" = off"); err != nil {
				return err
			}
		}
		return tx.NewRaw("EXPLAIN (FORMAT JSON) "+query, args...).Scan(ctx, &doc)
	})
	if err != nil {
		tb.Fatalf("explain %s: %v", query, err)
	}
	var plans []struct {
		Plan pgPlan `json:"Plan"`
	}
	if err := json.Unmarshal([]byte(doc), &plans); err != nil {
		tb.Fatalf("explain %s: %v", query, err)
	}
	var out [][]string
	var walk func(p pgPlan, above []string)
	walk = func(p pgPlan, above []string) {
		line := p.NodeType
		if p.Relation != "" {
			line += " on " + p.Relation
		}
		if p.Index != "" {
			line += " using " + p.Index
		}
		path := append(append([]string(nil), above...), line)
		out = append(out, path)
		for _, c := range p.Plans {
			walk(c, path)
		}
	}
	for _, p := range plans {
		walk(p.Plan, nil)
	}
	return out
}

type pgPlan struct {
	NodeType string   `json:"Node Type"`
	Relation string   `json:"Relation Name"`
	Index    string   `json:"Index Name"`
	Plans    []pgPlan `json:"Plans"`
}

// Statements records the SQL a database runs on behalf of a context marked
// by Run, for tests that bound what an operation costs.
type Statements struct {
	mu  sync.Mutex
	sql []string
}

type statementsKey struct{}

// CountStatements installs a Statements hook on d.
func CountStatements(d *db.DB) *Statements {
	s := &Statements{}
	d.AddQueryHook(s)
	return s
}

// BeforeQuery implements bun.QueryHook.
func (s *Statements) BeforeQuery(ctx context.Context, ev *bun.QueryEvent) context.Context {
	if ctx.Value(statementsKey{}) == s {
		q := ev.Query
		// A prepared statement (db.QueryPrepared, ExecPrepared) comes with
		// its ? placeholders and arguments apart, as it is sent; bun's own
		// statements come formatted. The prepared ones are recorded with
		// their arguments written in, as bun writes them, so that the SQL
		// can be run or explained again (TableScans) on either engine.
		if len(ev.QueryArgs) > 0 && ev.Query == ev.QueryTemplate && ev.DB != nil {
			q = ev.DB.QueryGen().FormatQuery(ev.Query, ev.QueryArgs...)
		}
		s.mu.Lock()
		s.sql = append(s.sql, q)
		s.mu.Unlock()
	}
	return ctx
}

// AfterQuery implements bun.QueryHook.
func (s *Statements) AfterQuery(context.Context, *bun.QueryEvent) {}

// Run calls fn with a marked context and returns the statements run under
// it.
func (s *Statements) Run(fn func(ctx context.Context)) []string {
	s.mu.Lock()
	s.sql = nil
	s.mu.Unlock()
	fn(context.WithValue(context.Background(), statementsKey{}, s))
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.sql...)
}

// Engines names the engines ForEachEngine runs, for benchmarks that take
// each as a sub-benchmark and open it with MustOpen.
var Engines = []string{"sqlite", "postgres"}

// MustOpen opens a fresh, migrated database of engine ("sqlite" or
// "postgres").
func MustOpen(tb testing.TB, engine string) *db.DB {
	tb.Helper()
	if engine == "postgres" {
		return MustOpenPostgres(tb)
	}
	return MustOpenSQLite(tb)
}
