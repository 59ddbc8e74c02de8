package db_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"dialoog/db"
)

// openBlobs opens a new SQLite database with a table of rows that take a
// page each.
func openBlobs(t *testing.T) (*db.DB, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), db.SQLiteFile)
	d, err := db.OpenSQLite(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	if _, err := d.ExecContext(context.Background(), "CREATE TABLE blobs (id INTEGER PRIMARY KEY, b BLOB)"); err != nil {
		t.Fatal(err)
	}
	return d, path
}

// writeBlob commits one row of 4,000 random bytes: a page of its own.
func writeBlob(t *testing.T, d *db.DB) {
	t.Helper()
	b := make([]byte, 4000)
	rand.Read(b)
	err := d.Tx(context.Background(), func(ctx context.Context, tx bun.Tx) error {
		_, err := tx.ExecContext(ctx, "INSERT INTO blobs (b) VALUES (?)", b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

func fileSize(t *testing.T, path string) int64 {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return st.Size()
}

// TestCommitsDoNotCheckpoint: no commit copies SQLite's write-ahead log
// into the database file (a checkpoint). Left to SQLite, the commit that
// took the log past 1,000 pages did, and the request that made it paid
// for the writes of the hundred before it: the tail of a reply and of a
// live push. With the checkpointer stopped, 1,200 pages of commits stay
// in the log.
func TestCommitsDoNotCheckpoint(t *testing.T) {
	d, path := openBlobs(t)
	db.StopCheckpointer(d)
	before := fileSize(t, path)
	for range 600 {
		writeBlob(t, d)
	}
	if after := fileSize(t, path); after != before {
		t.Fatalf("a commit checkpointed: the database file went from %d to %d bytes", before, after)
	}
	if wal := fileSize(t, path+"-wal"); wal < 600*4096 {
		t.Fatalf("the log holds %d bytes, fewer than the 600 rows written", wal)
	}
}

// TestCheckpointerKeepsLogShort: the checkpointer copies the log into the
// database file soon after writes, and keeps the log short even under
// writes without a pause, when a passive checkpoint never finds the whole
// log copied (without the writers' turn the log grew to all 37 MB
// written).
func TestCheckpointerKeepsLogShort(t *testing.T) {
	d, path := openBlobs(t)
	const rows = 3000
	var most int64
	for i := range rows {
		writeBlob(t, d)
		if i%25 == 0 {
			most = max(most, fileSize(t, path+"-wal"))
		}
	}
	most = max(most, fileSize(t, path+"-wal"))
	// A frame of the log is a page and its 24-byte header. The checkpointer
	// copies the log in the writers' turn once it holds CheckpointLimit
	// pages: allow three times that (it was all 37 MB written without).
	t.Logf("the log grew to %d bytes", most)
	if limit := int64(3*db.CheckpointLimit) * (4096 + 24); most > limit {
		t.Errorf("the log grew to %d bytes (limit %d) while %d rows of 4,000 bytes were written", most, limit, rows)
	}
	deadline := time.Now().Add(10 * time.Second)
	for fileSize(t, path) < rows*4000 {
		if time.Now().After(deadline) {
			t.Fatalf("10 s after the last write the database file holds %d bytes of the %d written", fileSize(t, path), rows*4000)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// longRead begins a read that holds the log at its snapshot until it is
// rolled back.
func longRead(t *testing.T, d *db.DB) *sql.Tx {
	t.Helper()
	ctx := context.Background()
	reader, err := d.DB.DB.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { reader.Rollback() })
	var n int
	if err := reader.QueryRowContext(ctx, "SELECT COUNT(*) FROM blobs").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return reader
}

// TestLogShrinksAfterLongRead: a long read (a large export, say) holds the
// log at its snapshot, so the log grows with every write meanwhile, and
// SQLite keeps the file at the size it reached unless told otherwise. Once
// the read ends, the next start of the log cuts the file back to
// db.WALSizeLimit.
func TestLogShrinksAfterLongRead(t *testing.T) {
	d, path := openBlobs(t)
	ctx := context.Background()
	reader := longRead(t, d)
	big := make([]byte, 64<<10)
	write := func() {
		t.Helper()
		rand.Read(big)
		err := d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
			_, err := tx.ExecContext(ctx, "INSERT INTO blobs (b) VALUES (?)", big)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	// 2.5 times the limit written while the read lasts.
	for range 5 * db.WALSizeLimit / 2 / len(big) {
		write()
	}
	grown := fileSize(t, path+"-wal")
	if grown <= db.WALSizeLimit {
		t.Fatalf("the log grew to %d bytes only, not past the limit of %d", grown, db.WALSizeLimit)
	}
	if err := reader.Rollback(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for fileSize(t, path+"-wal") > db.WALSizeLimit {
		if time.Now().After(deadline) {
			t.Fatalf("10 s after the long read ended the log file still holds %d bytes (it grew to %d; limit %d)",
				fileSize(t, path+"-wal"), grown, db.WALSizeLimit)
		}
		write()
		time.Sleep(50 * time.Millisecond)
	}
}

// TestTruncateDoesNotHoldWriters: emptying the log (Checkpoint, after an
// account or old messages are deleted) waits for readers on old
// snapshots and holds up every writer meanwhile. Behind a long read (a
// large export) it held all writes for SQLite's busy timeout, 10 s. It now
// gives up after a fifth of a second, and the checkpointer empties the log
// once the read has ended.
func TestTruncateDoesNotHoldWriters(t *testing.T) {
	d, path := openBlobs(t)
	ctx := context.Background()
	for range 10 {
		writeBlob(t, d)
	}
	reader := longRead(t, d)
	for range 10 {
		writeBlob(t, d)
	}
	done := make(chan time.Duration)
	go func() {
		start := time.Now()
		if err := d.Checkpoint(ctx); err != nil {
			t.Error(err)
		}
		done <- time.Since(start)
	}()
	var slowest time.Duration
	for took := time.Duration(-1); took < 0; {
		select {
		case took = <-done:
			t.Logf("Checkpoint returned after %v; the slowest write meanwhile took %v", took, slowest)
			if took > 2*time.Second {
				t.Errorf("Checkpoint waited %v for the long read", took)
			}
		default:
			start := time.Now()
			writeBlob(t, d)
			slowest = max(slowest, time.Since(start))
			time.Sleep(10 * time.Millisecond)
		}
	}
	if slowest > 2*time.Second {
		t.Errorf("a write waited %v for the log to be emptied", slowest)
	}
	if err := reader.Rollback(); err != nil {
		t.Fatal(err)
	}
	// With the read ended, the log is emptied soon, without another call.
	deadline := time.Now().Add(10 * time.Second)
	for fileSize(t, path+"-wal") > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("10 s after the long read ended the log still holds %d bytes", fileSize(t, path+"-wal"))
		}
		time.Sleep(50 * time.Millisecond)
	}
}
