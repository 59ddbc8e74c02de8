package db_test

import (
	"context"
	"reflect"
	"testing"
	"time"

	"dialoog/db"
	"dialoog/db/dbtest"
)

// TestUserCarriesNoPasswordHash: the user that auth hands to handlers,
// templates and live updates has no password hash to leak; the hash is
// read and written through db.Password alone.
func TestUserCarriesNoPasswordHash(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		table := d.Dialect().Tables().Get(reflect.TypeOf(db.User{}))
		for _, f := range table.Fields {
			if f.Name == "password_hash" {
				t.Fatalf("db.User maps the column password_hash (field %s)", f.GoName)
			}
		}
		ctx := context.Background()
		now := time.Now().UTC()
		u := &db.User{Email: "jan@example.nl", Kind: db.KindExternal, Status: db.StatusActive, Language: "nl", Gender: "unknown", CreatedAt: now, UpdatedAt: now}
		if _, err := d.NewInsert().Model(u).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := d.NewUpdate().Model(&db.Password{ID: u.ID, Hash: "$argon2id$stored"}).WherePK().Exec(ctx); err != nil {
			t.Fatal(err)
		}
		p := db.Password{ID: u.ID}
		if err := d.NewSelect().Model(&p).WherePK().Scan(ctx); err != nil || p.Hash != "$argon2id$stored" {
			t.Fatalf("password read back as %q, %v", p.Hash, err)
		}
		// Every column of the users table but the hash is in db.User (the
		// inbox version as a column that only the session's query reads).
		got := map[string]bool{}
		for name := range table.FieldMap {
			got[name] = true
		}
		rows, err := d.QueryContext(ctx, "SELECT * FROM users WHERE id = ?", u.ID)
		if err != nil {
			t.Fatal(err)
		}
		cols, err := rows.Columns()
		rows.Close()
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range cols {
			if !got[c] && c != "password_hash" {
				t.Errorf("users.%s is not in db.User", c)
			}
		}
	})
}
