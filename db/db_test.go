package db_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"dialoog/db"
	"dialoog/db/dbtest"

	"github.com/uptrace/bun"
)

func TestMigrateIsIdempotent(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		applied, err := d.Migrate(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if len(applied) != 0 {
			t.Fatalf("second migrate applied %v", applied)
		}
	})
}

func TestConcurrentMigrate(t *testing.T) {
	ctx := context.Background()
	t.Run("postgres", func(t *testing.T) {
		url := dbtest.NewTestSchema(t)
		var wg sync.WaitGroup
		results := make([][]string, 4)
		errs := make([]error, 4)
		for i := range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				d, err := db.OpenPostgres(ctx, url)
				if err != nil {
					errs[i] = err
					return
				}
				defer d.Close()
				results[i], errs[i] = d.Migrate(ctx)
			}()
		}
		wg.Wait()
		total := 0
		for i := range 4 {
			if errs[i] != nil {
				t.Fatalf("instance %d: %v", i, errs[i])
			}
			if len(results[i]) > 0 {
				total++
			}
		}
		if total != 1 {
			t.Fatalf("%d instances applied migrations, want exactly one: %v", total, results)
		}
	})
	t.Run("sqlite", func(t *testing.T) {
		dir := t.TempDir()
		var wg sync.WaitGroup
		total := make(chan int, 4)
		for range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				d, err := db.Open(ctx, "", dir)
				if err != nil {
					t.Error(err)
					return
				}
				defer d.Close()
				applied, err := d.Migrate(ctx)
				if err != nil {
					t.Error(err)
				}
				total <- min(len(applied), 1)
			}()
		}
		wg.Wait()
		close(total)
		n := 0
		for v := range total {
			n += v
		}
		if n != 1 {
			t.Fatalf("%d instances applied migrations, want exactly one", n)
		}
	})
}

func TestUserStore(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		now := time.Now().UTC().Truncate(time.Microsecond)
		org := &db.Organisation{Name: "OSAW", CreatedAt: now}
		if _, err := d.NewInsert().Model(org).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		u := &db.User{OrgID: &org.ID, Email: "a@example.nl", Kind: db.KindExternal, Status: db.StatusInvited,
			Language: "nl", Gender: "unknown", NamePrefix: "van der", CreatedAt: now, UpdatedAt: now}
		t.Run("OK", func(t *testing.T) {
			if _, err := d.NewInsert().Model(u).Exec(ctx); err != nil {
				t.Fatal(err)
			}
			var got db.User
			if err := d.NewSelect().Model(&got).Where("email = ?", "a@example.nl").Scan(ctx); err != nil {
				t.Fatal(err)
			}
			if got.ID != u.ID || got.NamePrefix != "van der" || *got.OrgID != org.ID || !got.CreatedAt.Equal(now) || got.IsAdmin {
				t.Fatalf("round trip: %+v", got)
			}
		})
		t.Run("ErrUnique", func(t *testing.T) {
			dup := *u
			dup.ID = 0
			_, err := d.NewInsert().Model(&dup).Exec(ctx)
			if !db.IsUniqueViolation(err) {
				t.Fatalf("want unique violation, got %v", err)
			}
		})
		t.Run("ErrNoRows", func(t *testing.T) {
			err := d.NewSelect().Model(&db.User{}).Where("email = ?", "none@example.nl").Scan(ctx)
			if !db.ErrNoRows(err) {
				t.Fatalf("want no rows, got %v", err)
			}
		})
		t.Run("ForeignKeys", func(t *testing.T) {
			_, err := d.NewInsert().Model(&db.Invitation{UserID: 999999, OrgID: org.ID, TokenHash: []byte("x"), CreatedAt: now, ExpiresAt: now}).Exec(ctx)
			if err == nil {
				t.Fatal("foreign key not enforced")
			}
		})
		t.Run("TxRollsBack", func(t *testing.T) {
			err := d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
				if _, err := tx.NewInsert().Model(&db.Organisation{Name: "Weg", CreatedAt: now}).Exec(ctx); err != nil {
					return err
				}
				return context.Canceled
			})
			if err == nil {
				t.Fatal("want error")
			}
			n, err := d.NewSelect().Model((*db.Organisation)(nil)).Where("name = ?", "Weg").Count(ctx)
			if err != nil || n != 0 {
				t.Fatalf("row survived rollback: %d %v", n, err)
			}
		})
	})
}

// TestOptimizeGathersStatistics: PRAGMA optimize leaves the planner
// statistics SQLite needs to keep choosing indexes.
func TestOptimizeGathersStatistics(t *testing.T) {
	d := dbtest.MustOpenSQLite(t)
	ctx := context.Background()
	now := time.Now().UTC()
	org := &db.Organisation{Name: "OSAW", CreatedAt: now}
	if _, err := d.NewInsert().Model(org).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	for i := range 50 {
		if _, err := d.NewInsert().Model(&db.Thread{OrgID: org.ID, Subject: "s", CreatedAt: now, LastMessageAt: now.Add(time.Duration(i))}).Exec(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if err := d.Optimize(ctx); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := d.NewRaw("SELECT COUNT(*) FROM sqlite_stat1 WHERE tbl = 'threads'").Scan(ctx, &n); err != nil || n == 0 {
		t.Fatalf("no statistics for threads after optimize (%d rows, %v)", n, err)
	}
}

// TestSQLiteTimesOneFormat: a time bound as a parameter (prepared
// statements) and a time bun writes into the SQL text are stored in the
// same text format, so that they sort and compare as text.
func TestSQLiteTimesOneFormat(t *testing.T) {
	d := dbtest.MustOpenSQLite(t)
	ctx := context.Background()
	at := time.Date(2026, 3, 1, 9, 30, 15, 123456000, time.UTC)
	if _, err := d.ExecPrepared(ctx, d, "INSERT INTO organisations (name, created_at) VALUES (?, ?)", "param", at); err != nil {
		t.Fatal(err)
	}
	if _, err := d.NewInsert().Model(&db.Organisation{Name: "bun", CreatedAt: at}).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	var stored []string
	if err := d.NewRaw("SELECT CAST(created_at AS TEXT) FROM organisations ORDER BY name").Scan(ctx, &stored); err != nil {
		t.Fatal(err)
	}
	if len(stored) != 2 || stored[0] != stored[1] {
		t.Fatalf("stored as %q", stored)
	}
}

// TestExecAtomic: the statements of ExecAtomic take effect together or not
// at all, on PostgreSQL sent as one query, on SQLite in a transaction.
func TestExecAtomic(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		start := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
		insert := func(key string) *bun.InsertQuery {
			return d.NewInsert().Model(&db.Throttle{Key: key, Count: 1, WindowStart: start, Allowed: 1})
		}
		count := func() int {
			n, err := d.NewSelect().Model((*db.Throttle)(nil)).Count(ctx)
			if err != nil {
				t.Fatal(err)
			}
			return int(n)
		}
		if err := d.ExecAtomic(ctx, insert("a"), insert("b"), d.NewDelete().Model((*db.Throttle)(nil)).Where("key = ?", "a")); err != nil {
			t.Fatal(err)
		}
		if n := count(); n != 1 {
			t.Fatalf("%d rows after insert a, b and delete a, want 1", n)
		}
		// The third statement violates the primary key: the first two must
		// not stay.
		err := d.ExecAtomic(ctx, insert("c"), d.NewDelete().Model((*db.Throttle)(nil)).Where("key = ?", "b"), insert("c"))
		if !db.IsUniqueViolation(err) {
			t.Fatalf("want a unique violation, got %v", err)
		}
		if n := count(); n != 1 {
			t.Fatalf("%d rows after a failed batch, want the 1 from before", n)
		}
		if exists, err := d.NewSelect().Model((*db.Throttle)(nil)).Where("key = ?", "b").Exists(ctx); err != nil || !exists {
			t.Fatalf("b is gone after a failed batch (%v)", err)
		}
		// The text goes out as it was formatted: a question mark or a quote
		// in a value is not taken for a placeholder.
		odd := `a ? b ' c " $1`
		if err := d.ExecAtomic(ctx, insert(odd)); err != nil {
			t.Fatal(err)
		}
		if exists, err := d.NewSelect().Model((*db.Throttle)(nil)).Where("key = ?", odd).Exists(ctx); err != nil || !exists {
			t.Fatalf("%q not stored as it was (%v)", odd, err)
		}
	})
}
