package db_test

import (
	"context"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"dialoog/db/dbtest"
)

type timed struct {
	bun.BaseModel `bun:"table:timed"`
	ID            int64 `bun:",pk,autoincrement"`
	At            time.Time
	Maybe         bun.NullTime
}

// TestTimeColumns: a time read through Columns (TimeColumn, which on
// SQLite hands bun the stored text instead of the driver's parse) is the
// time read from the column itself, whichever way it was written: bound
// as a parameter, written into the SQL by bun, as SQLite's own text without
// a zone, and NULL.
func TestTimeColumns(t *testing.T) {
	for _, engine := range dbtest.Engines {
		t.Run(engine, func(t *testing.T) {
			d := dbtest.MustOpen(t, engine)
			ctx := context.Background()
			kind := "DATETIME"
			if d.Postgres() {
				kind = "TIMESTAMPTZ"
			}
			if _, err := d.ExecContext(ctx, "CREATE TABLE timed (id INTEGER PRIMARY KEY, at "+kind+" NOT NULL, maybe "+kind+")"); err != nil {
				t.Fatal(err)
			}
			at := time.Date(2026, 12, 6, 1, 2, 3, 456789000, time.UTC)
			amsterdam := time.FixedZone("CET", 3600)
			writes := []func() error{
				func() error {
					_, err := d.ExecContext(ctx, "INSERT INTO timed (id, at, maybe) VALUES (1, ?, ?)", at, at.In(amsterdam))
					return err
				},
				func() error {
					_, err := d.NewInsert().Model(&timed{ID: 2, At: at, Maybe: bun.NullTime{Time: at}}).Exec(ctx)
					return err
				},
				func() error {
					_, err := d.ExecContext(ctx, "INSERT INTO timed (id, at, maybe) VALUES (3, '2026-12-06 01:02:03', NULL)")
					return err
				},
			}
			for _, w := range writes {
				if err := w(); err != nil {
					t.Fatal(err)
				}
			}
			var plain, through []timed
			if err := d.NewSelect().Model(&plain).Order("id").Scan(ctx); err != nil {
				t.Fatal(err)
			}
			if err := d.NewRaw("SELECT "+d.Columns(timed{}, "x")+" FROM timed AS x ORDER BY x.id").Scan(ctx, &through); err != nil {
				t.Fatal(err)
			}
			if len(plain) != 3 || len(through) != 3 {
				t.Fatalf("read %d and %d rows, want 3", len(plain), len(through))
			}
			for i := range plain {
				p, q := plain[i], through[i]
				if !p.At.Equal(q.At) || p.At.Location().String() != q.At.Location().String() ||
					!p.Maybe.Equal(q.Maybe.Time) || p.Maybe.IsZero() != q.Maybe.IsZero() {
					t.Errorf("row %d: column %v / %v, through Columns %v / %v", p.ID, p.At, p.Maybe, q.At, q.Maybe)
				}
			}
			if !plain[0].At.Equal(at) || !plain[1].Maybe.Equal(at) || !plain[2].Maybe.IsZero() {
				t.Errorf("stored times read back as %+v", plain)
			}
		})
	}
}
