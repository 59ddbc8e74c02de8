package messaging_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"dialoog/blob"
	"dialoog/db"
	"dialoog/db/dbtest"
	"dialoog/messaging"
)

// failingDeletes is a store whose deletes fail while fail is set (an
// object store that is down when a message is deleted).
type failingDeletes struct {
	blob.Store
	fail atomic.Bool
}

func (s *failingDeletes) Delete(ctx context.Context, key string) error {
	if s.fail.Load() {
		return errors.New("store unavailable")
	}
	return s.Store.Delete(ctx, key)
}

// TestFileRemovedLater: when the store fails to delete the content of a
// deleted attachment after the commit, the content is not left for ever:
// the deletion queued it in its own transaction, and the daily cleanup
// removes it. Contents removed at once leave nothing queued.
func TestFileRemovedLater(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := setup(t, d)
		// The store the service had, failing deletes when asked to.
		store := &failingDeletes{Store: f.svc.Files.Store}
		f.svc.Files = &messaging.Files{Store: store, Vault: f.svc.Vault}
		files := f.files
		queued := func() int {
			t.Helper()
			n, err := d.NewSelect().Table("blob_deletions").Count(ctx)
			if err != nil {
				t.Fatal(err)
			}
			return int(n)
		}

		kept := f.composeWithFile(t, "jan@example.nl", "Blijft")
		gone := f.composeWithFile(t, "piet@example.nl", "Weg")
		if files() != 2 {
			t.Fatalf("%d files stored, want 2", files())
		}
		// Removed at once: nothing queued.
		jan, piet := f.user(t, "jan@example.nl"), f.user(t, "piet@example.nl")
		if err := f.svc.RemoveThreadFromBox(ctx, f.hr.Identity(), kept); err != nil {
			t.Fatal(err)
		}
		if err := f.svc.StopService(ctx, jan.Identity()); err != nil {
			t.Fatal(err)
		}
		if files() != 1 || queued() != 0 {
			t.Fatalf("after a removal: %d files, %d queued; want 1 and 0", files(), queued())
		}
		store.fail.Store(true)
		if err := f.svc.RemoveThreadFromBox(ctx, f.hr.Identity(), gone); err != nil {
			t.Fatal(err)
		}
		if err := f.svc.StopService(ctx, piet.Identity()); err != nil {
			t.Fatal(err)
		}
		if files() != 1 || queued() != 1 {
			t.Fatalf("after a failed removal: %d files, %d queued; want 1 and 1", files(), queued())
		}
		store.fail.Store(false)
		if _, err := f.svc.RunDaily(ctx); err != nil { // schedules the cleanup
			t.Fatal(err)
		}
		f.clk.Add(26 * time.Hour)
		res, err := f.svc.RunDaily(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if files() != 0 || queued() != 0 {
			t.Fatalf("after the cleanup: %d files, %d queued (%+v)", files(), queued(), res)
		}
	})
}

// TestUnfinishedWriteRemovedLater: a file written to the store whose
// attachment row was never stored (the process died in between, as when
// a sealed PDF is written and the instance stops before the transaction
// that posts it) does not stay stored for ever: the write was recorded
// before it began, and the daily cleanup removes the file once the record
// is older than any upload may take. Storing the attachment row clears the
// record, so files of uploads and messages stay; a write still under way
// is left alone.
func TestUnfinishedWriteRemovedLater(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := setup(t, d)
		writes := func() int {
			t.Helper()
			n, err := d.NewSelect().Table("blob_writes").Count(ctx)
			if err != nil {
				t.Fatal(err)
			}
			return int(n)
		}
		f.composeWithFile(t, "jan@example.nl", "Blijft")
		if n := writes(); n != 0 {
			t.Fatalf("%d writes recorded after their attachment rows were stored, want 0", n)
		}
		if _, err := f.svc.StoreDocument(ctx, "application/pdf", []byte("%PDF-1.4\n%%EOF\n")); err != nil {
			t.Fatal(err)
		}
		if files, n := f.files(), writes(); files != 2 || n != 1 {
			t.Fatalf("%d files and %d writes recorded, want 2 and 1", files, n)
		}
		if _, err := f.svc.RunDaily(ctx); err != nil { // schedules the cleanup
			t.Fatal(err)
		}
		f.clk.Add(26 * time.Hour)
		// A write that began just now: its attachment row may still come.
		if _, err := f.svc.StoreDocument(ctx, "application/pdf", []byte("%PDF-1.4\n% new\n%%EOF\n")); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.RunDaily(ctx); err != nil {
			t.Fatal(err)
		}
		// Left: the sent message's file and the new write; gone: the
		// unfinished write of a day ago.
		if files, n := f.files(), writes(); files != 2 || n != 1 {
			t.Fatalf("after the cleanup: %d files and %d writes recorded, want 2 and 1", files, n)
		}
	})
}
