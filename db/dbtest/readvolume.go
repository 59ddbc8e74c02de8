package dbtest

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/uptrace/bun"
	"modernc.org/sqlite"

	"dialoog/db"
)

// ReadVolume runs query (a statement that returns rows, as Statements.Run
// recorded it) and returns how much it read: on SQLite the pages of
// tables and indexes its connection asked for (cache hits and misses,
// sqlite3_db_status), on PostgreSQL the rows its scans of tables and
// indexes went through (EXPLAIN (ANALYZE, FORMAT JSON): the rows each
// scan returned and those its filters removed, times its loops), with
// sequential and bitmap scans off as for PlanPaths: on a test's small
// tables a whole read is rightly the cheaper plan, while at volume the
// planner takes the index paths, whose reads are what counts. The two
// units differ, so a test compares a statement's volumes on one engine
// only: between a small volume of data and a large one in the same
// database, a read that grows with the data fails without timing
// anything. Pages would not do on PostgreSQL: there a plan that reads a
// test's tables whole, hashed, touches each page once, and their pages
// are as many whichever person the statement is for.
//
// On SQLite the connection reads without memory mapping meanwhile: pages
// read through the map are not counted.
func ReadVolume(tb testing.TB, d *db.DB, query string, args ...any) int {
	tb.Helper()
	ctx := context.Background()
	if d.Postgres() {
		var doc string
		err := d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
			for _, setting := range []string{"enable_seqscan", "enable_bitmapscan"} {
				if _, err := tx.ExecContext(ctx, "SET LOCAL "+setting+" = off"); err != nil {
					return err
				}
			}
			return tx.NewRaw("EXPLAIN (ANALYZE, FORMAT JSON) "+query, args...).Scan(ctx, &doc)
		})
		if err != nil {
			tb.Fatalf("explain analyze %s: %v", query, err)
		}
		var plans []struct {
			Plan analyzedPlan `json:"Plan"`
		}
		if err := json.Unmarshal([]byte(doc), &plans); err != nil || len(plans) == 0 {
			tb.Fatalf("explain analyze %s: %v", query, err)
		}
		var rows float64
		var walk func(p analyzedPlan)
		walk = func(p analyzedPlan) {
			if p.Relation != "" {
				rows += (p.Rows + p.Filtered + p.Rechecked) * p.Loops
			}
			for _, c := range p.Plans {
				walk(c)
			}
		}
		walk(plans[0].Plan)
		return int(rows + 0.5)
	}
	conn, err := d.DB.DB.Conn(ctx)
	if err != nil {
		tb.Fatal(err)
	}
	defer conn.Close()
	var mmap int64
	if err := conn.QueryRowContext(ctx, "PRAGMA mmap_size").Scan(&mmap); err != nil {
		tb.Fatal(err)
	}
	if _, err := conn.ExecContext(ctx, "PRAGMA mmap_size = 0"); err != nil {
		tb.Fatal(err)
	}
	defer func() {
		if _, err := conn.ExecContext(ctx, fmt.Sprintf("PRAGMA mmap_size = %d", mmap)); err != nil {
			tb.Error(err)
		}
	}()
	pages := func(reset bool) int {
		tb.Helper()
		total := 0
		err := conn.Raw(func(dc any) error {
			for _, op := range []sqlite.DBStatusOp{sqlite.DBStatusCacheHit, sqlite.DBStatusCacheMiss} {
				cur, _, err := dc.(sqlite.DBStatus).Status(op, reset)
				if err != nil {
					return err
				}
				total += cur
			}
			return nil
		})
		if err != nil {
			tb.Fatal(err)
		}
		return total
	}
	// Prepared first, so that reading the schema is not counted.
	stmt, err := conn.PrepareContext(ctx, query)
	if err != nil {
		tb.Fatalf("prepare %s: %v", query, err)
	}
	defer stmt.Close()
	pages(true)
	rows, err := stmt.QueryContext(ctx, args...)
	if err != nil {
		tb.Fatalf("query %s: %v", query, err)
	}
	for rows.Next() {
	}
	if err := rows.Err(); err != nil {
		tb.Fatalf("query %s: %v", query, err)
	}
	rows.Close()
	return pages(false)
}

// analyzedPlan is a node of EXPLAIN (ANALYZE, FORMAT JSON); the counts
// are per loop.
type analyzedPlan struct {
	Relation  string         `json:"Relation Name"`
	Rows      float64        `json:"Actual Rows"`
	Loops     float64        `json:"Actual Loops"`
	Filtered  float64        `json:"Rows Removed by Filter"`
	Rechecked float64        `json:"Rows Removed by Index Recheck"`
	Plans     []analyzedPlan `json:"Plans"`
}
