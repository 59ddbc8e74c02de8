package db_test

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"

	"dialoog/db"
	"dialoog/db/dbtest"
)

// neverDeleted are the tables whose rows the application never deletes,
// so that nothing looks up the rows that refer to one of them: a
// foreign key to them needs no index for that.
var neverDeleted = []string{"organisations", "teams", "terms_versions"}

// TestForeignKeysIndexed, on both engines: every foreign key to a table
// whose rows are deleted (users, sessions, messages, threads, ...) has an
// index that starts with its column, usable for the key's lookup. A
// deleted row makes the database find the rows that refer to it (ON
// DELETE SET NULL or CASCADE, or the check of NO ACTION); without an index
// each deletion reads the whole referring table. Before, deleting an
// account (a stop, an invitation that expired) read all messages (twice),
// participants, threads, attachments, cases, invitations and signing
// requests of the installation, with the deletion's locks held.
func TestForeignKeysIndexed(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		keys, err := foreignKeys(context.Background(), d)
		if err != nil {
			t.Fatal(err)
		}
		if len(keys) < 50 {
			t.Fatalf("only %d foreign keys found: the query no longer sees the schema", len(keys))
		}
		for _, k := range keys {
			if slices.Contains(neverDeleted, k.parent) || k.indexed {
				continue
			}
			t.Errorf("%s.%s refers to %s without an index", k.table, k.column, k.parent)
		}
	})
}

type foreignKey struct {
	table, column, parent string
	indexed               bool
}

// foreignKeys lists the schema's single-column foreign keys, each with
// whether an index starts with its column and either has no condition or
// only that the column is not NULL (which the key's lookup, an equality,
// implies).
func foreignKeys(ctx context.Context, d *db.DB) ([]foreignKey, error) {
	if d.Postgres() {
		rows, err := d.QueryContext(ctx, `SELECT c.conrelid::regclass::text, a.attname, c.confrelid::regclass::text,
  EXISTS (SELECT 1 FROM pg_index AS i WHERE i.indrelid = c.conrelid AND i.indkey[0] = c.conkey[1]
    AND (i.indpred IS NULL OR pg_get_expr(i.indpred, i.indrelid) = '(' || quote_ident(a.attname) || ' IS NOT NULL)'))
FROM pg_constraint AS c JOIN pg_attribute AS a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
WHERE c.contype = 'f' AND c.connamespace = current_schema()::regnamespace AND cardinality(c.conkey) = 1
ORDER BY 1, 2`)
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		var out []foreignKey
		for rows.Next() {
			var k foreignKey
			if err := rows.Scan(&k.table, &k.column, &k.parent, &k.indexed); err != nil {
				return nil, err
			}
			out = append(out, k)
		}
		return out, rows.Err()
	}
	var tables []string
	if err := d.NewRaw(`SELECT name FROM sqlite_master WHERE type = 'table' AND sql LIKE '%REFERENCES%' ORDER BY name`).Scan(ctx, &tables); err != nil {
		return nil, err
	}
	var out []foreignKey
	for _, table := range tables {
		var fks []struct {
			ID     int    `bun:"id"`
			Seq    int    `bun:"seq"`
			Parent string `bun:"table"`
			From   string `bun:"from"`
		}
		if err := d.NewRaw(`SELECT id, seq, "table", "from" FROM pragma_foreign_key_list(?)`, table).Scan(ctx, &fks); err != nil {
			return nil, fmt.Errorf("foreign keys of %s: %w", table, err)
		}
		// The first column of each index, and whether it is usable.
		var indexes []struct {
			Name    string `bun:"name"`
			Partial bool   `bun:"partial"`
			First   string `bun:"first"`
			SQL     string `bun:"sql"`
		}
		if err := d.NewRaw(`SELECT il.name, il.partial, (SELECT ii.name FROM pragma_index_info(il.name) AS ii WHERE ii.seqno = 0) AS first,
  COALESCE((SELECT m.sql FROM sqlite_master AS m WHERE m.type = 'index' AND m.name = il.name), '') AS sql
FROM pragma_index_list(?) AS il`, table).Scan(ctx, &indexes); err != nil {
			return nil, fmt.Errorf("indexes of %s: %w", table, err)
		}
		multi := map[int]bool{}
		for _, fk := range fks {
			if fk.Seq > 0 {
				multi[fk.ID] = true
			}
		}
		for _, fk := range fks {
			if multi[fk.ID] {
				continue
			}
			k := foreignKey{table: table, column: fk.From, parent: fk.Parent}
			notNull := regexp.MustCompile(`(?i)\bWHERE\s+"?` + regexp.QuoteMeta(fk.From) + `"?\s+IS\s+NOT\s+NULL\s*$`)
			for _, ix := range indexes {
				if ix.First == fk.From && (!ix.Partial || notNull.MatchString(strings.TrimSpace(ix.SQL))) {
					k.indexed = true
				}
			}
			out = append(out, k)
		}
	}
	return out, nil
}
