package db_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"dialoog/db"
)

// Deleted and overwritten rows leave no readable bytes in the SQLite file:
// a person who stops with Dialoog, or a name sealed after the fact, is
// gone from the disk too, not only from queries.
func TestSQLiteOverwritesDeletedBytes(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, db.SQLiteFile)
	d, err := db.OpenSQLite(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if _, err := d.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	const secret = "GEHEIM-verwijderd-91c2"
	org := &db.Organisation{Name: secret, CreatedAt: time.Now()}
	if _, err := d.NewInsert().Model(org).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := d.ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(path); !bytes.Contains(b, []byte(secret)) {
		t.Fatal("the row never reached the file: the test proves nothing")
	}
	if _, err := d.NewDelete().Model(org).WherePK().Exec(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := d.ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{path, path + "-wal"} {
		if b, _ := os.ReadFile(p); bytes.Contains(b, []byte(secret)) {
			t.Errorf("%s still holds the deleted row", filepath.Base(p))
		}
	}
}
