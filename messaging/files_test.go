package messaging_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"dialoog/apperr"
	"dialoog/blob"
	"dialoog/blob/blobtest"
	"dialoog/db"
	"dialoog/db/dbtest"
	"dialoog/messaging"
)

// oneByteReader hands out its content a byte at a time, so that every
// multi-byte character is split between reads.
type oneByteReader struct{ r io.Reader }

func (o oneByteReader) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	return o.r.Read(p[:1])
}

// TestUploadStreams: files stream through the type, size and UTF-8 checks
// into the store, and what is refused leaves no file.
func TestUploadStreams(t *testing.T) {
	ctx := context.Background()
	f := setup(t, dbtest.MustOpenSQLite(t))

	// Text of more than a sniffing window, with a multi-byte character
	// across every read boundary.
	text := []byte(strings.Repeat("Jürgen schreef één zin. ", 40))
	a, err := f.svc.UploadFrom(ctx, f.hr.Identity(), "notitie.txt", oneByteReader{bytes.NewReader(text)})
	if err != nil {
		t.Fatalf("valid UTF-8 text split between reads refused: %v", err)
	}
	if a.Size != int64(len(text)) || a.ContentType != "text/plain; charset=utf-8" {
		t.Fatalf("stored %+v", a)
	}
	if got, err := download(ctx, f.svc, f.hr, a.ID); err != nil || !bytes.Equal(got, text) {
		t.Fatalf("download: %v (%d bytes)", err, len(got))
	}
	var sum []byte
	if err := f.d.NewSelect().Model((*db.Attachment)(nil)).Column("sha256").Where("id = ?", a.ID).Scan(ctx, &sum); err != nil || len(sum) != 32 {
		t.Fatalf("sha256 %x: %v", sum, err)
	}
	files := f.files()

	for _, tc := range []struct {
		name, file string
		content    io.Reader
		key        string
	}{
		// Invalid UTF-8 only after the first 512 bytes.
		{"LateBadUTF8", "laat.txt", io.MultiReader(strings.NewReader(strings.Repeat("a", 2000)), bytes.NewReader([]byte{0xff, 'a'})), "attachment.type"},
		// A character cut off at the very end.
		{"CutCharacter", "kapot.txt", io.MultiReader(strings.NewReader(strings.Repeat("a", 600)), bytes.NewReader([]byte{0xc3})), "attachment.type"},
		// Larger than the limit, found while streaming (no size known).
		{"TooBig", "groot.pdf", io.MultiReader(strings.NewReader("%PDF-1.4\n"), io.LimitReader(zeros{}, messaging.MaxAttachmentSize)), "attachment.too_big"},
		{"Empty", "leeg.pdf", strings.NewReader(""), "attachment.empty"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := f.svc.UploadFrom(ctx, f.hr.Identity(), tc.file, tc.content)
			wantKey(t, err, tc.key)
			if n := f.files(); n != files {
				t.Fatalf("%d files after a refused upload, want %d", n, files)
			}
		})
	}
	t.Run("ReaderFails", func(t *testing.T) {
		boom := errors.New("connection reset")
		_, err := f.svc.UploadFrom(ctx, f.hr.Identity(), "half.pdf", io.MultiReader(strings.NewReader("%PDF-1.4\n"+strings.Repeat("x", 100_000)), errReader{boom}))
		if !errors.Is(err, boom) {
			t.Fatalf("err %v, want the reader's", err)
		}
		if n := f.files(); n != files {
			t.Fatalf("%d files after a failed upload, want %d", n, files)
		}
	})
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

// fullStore is a store whose disk is full.
type fullStore struct{ blob.Store }

func (fullStore) Put(context.Context, string, io.Reader) error {
	return blob.ErrNoSpace
}

func TestUploadNoSpace(t *testing.T) {
	ctx := context.Background()
	f := setup(t, dbtest.MustOpenSQLite(t))
	f.svc.Files.Store = fullStore{f.svc.Files.Store}
	_, err := f.svc.Upload(ctx, f.hr.Identity(), "brief.pdf", []byte("%PDF-1.4 vol"))
	if apperr.CodeOf(err) != apperr.NoSpace {
		t.Fatalf("err %v, want NoSpace", err)
	}
	if n, _ := f.d.NewSelect().Model((*db.Attachment)(nil)).Count(ctx); n != 0 {
		t.Fatalf("%d attachment rows after a failed upload", n)
	}
}

// TestFilesAuthenticated: a stored file is bound to its storage key and
// any change to it is found when it is read.
func TestFilesAuthenticated(t *testing.T) {
	ctx := context.Background()
	f := setup(t, dbtest.MustOpenSQLite(t))
	content := append([]byte("%PDF-1.4\n"), bytes.Repeat([]byte("inhoud "), 30_000)...)
	a, err := f.svc.Upload(ctx, f.hr.Identity(), "brief.pdf", content)
	if err != nil {
		t.Fatal(err)
	}
	var key string
	if err := f.d.NewSelect().Model((*db.Attachment)(nil)).Column("storage_key").Where("id = ?", a.ID).Scan(ctx, &key); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(f.dir, "attachments", key[:2], key)
	stored, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(stored, []byte("inhoud")) {
		t.Fatal("the stored file holds plaintext")
	}
	t.Run("Tampered", func(t *testing.T) {
		bad := bytes.Clone(stored)
		bad[len(bad)/2] ^= 1
		os.WriteFile(path, bad, 0o600)
		defer os.WriteFile(path, stored, 0o600)
		if _, err := download(ctx, f.svc, f.hr, a.ID); err == nil {
			t.Fatal("a changed file was read without error")
		}
	})
	t.Run("CutOff", func(t *testing.T) {
		os.WriteFile(path, stored[:len(stored)-(len(stored)%65536)], 0o600)
		defer os.WriteFile(path, stored, 0o600)
		if _, err := download(ctx, f.svc, f.hr, a.ID); err == nil {
			t.Fatal("a cut-off file was read without error")
		}
	})
	t.Run("MovedToAnotherKey", func(t *testing.T) {
		b, err := f.svc.Upload(ctx, f.hr.Identity(), "ander.pdf", []byte("%PDF-1.4 ander"))
		if err != nil {
			t.Fatal(err)
		}
		var other string
		f.d.NewSelect().Model((*db.Attachment)(nil)).Column("storage_key").Where("id = ?", b.ID).Scan(ctx, &other)
		otherPath := filepath.Join(f.dir, "attachments", other[:2], other)
		if err := os.WriteFile(otherPath, stored, 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := download(ctx, f.svc, f.hr, b.ID); err == nil {
			t.Fatal("a file copied under another key was read without error")
		}
	})
	if got, err := download(ctx, f.svc, f.hr, a.ID); err != nil || !bytes.Equal(got, content) {
		t.Fatalf("intact file: %v", err)
	}
}

// TestSealedFilesCarriedOver: attachments stored before the blob store
// (sealed whole in the data dir, blob_format 0) are still read, and
// MoveSealedFiles moves them into the store, on both engines.
func TestSealedFilesCarriedOver(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := setup(t, d)
		legacy := &blob.Dir{Root: filepath.Join(f.dir, "attachments")}
		f.svc.Files.Legacy = legacy
		if d.Postgres() {
			f.svc.Files.Store = &blob.Database{DB: d}
		}
		emp := f.active(t, "jan@example.nl", false, "Jan", "", "Berg")
		content := []byte("%PDF-1.4 van voor de blob store")
		// As the code before migration 0004 stored a file.
		const key = "0123456789abcdef0123456789abcdef"
		if err := legacy.Put(ctx, key, bytes.NewReader(f.v.Seal(content, []byte("attachment:"+key)))); err != nil {
			t.Fatal(err)
		}
		tid, err := f.svc.Compose(ctx, f.hr.Identity(), messaging.ComposeInput{To: []string{emp.Email}, Subject: "Oud", Body: "Met bijlage"})
		if err != nil {
			t.Fatal(err)
		}
		v, _ := f.svc.Thread(ctx, f.hr.Identity(), tid)
		old := &db.Attachment{MessageID: &v.Messages[0].ID, UploaderID: &f.hr.ID, Filename: "oud.pdf", ContentType: "application/pdf",
			Size: int64(len(content)), StorageKey: key, KeyID: f.v.KeyID(), SHA256: make([]byte, 32), CreatedAt: time.Now()}
		if _, err := d.NewInsert().Model(old).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		if got, err := download(ctx, f.svc, emp, old.ID); err != nil || !bytes.Equal(got, content) {
			t.Fatalf("sealed file before the move: %q %v", got, err)
		}
		n, err := f.svc.MoveSealedFiles(ctx)
		if err != nil || n != 1 {
			t.Fatalf("moved %d: %v", n, err)
		}
		var row db.Attachment
		if err := d.NewSelect().Model(&row).Where("id = ?", old.ID).Scan(ctx); err != nil {
			t.Fatal(err)
		}
		if row.BlobFormat != 1 || row.StorageKey == key {
			t.Fatalf("row after the move: format %d key %s", row.BlobFormat, row.StorageKey)
		}
		if _, err := os.Stat(filepath.Join(legacy.Root, key[:2], key)); !os.IsNotExist(err) {
			t.Fatalf("the sealed file is still there: %v", err)
		}
		if got, err := download(ctx, f.svc, emp, old.ID); err != nil || !bytes.Equal(got, content) {
			t.Fatalf("file after the move: %q %v", got, err)
		}
		if n, err := f.svc.MoveSealedFiles(ctx); err != nil || n != 0 {
			t.Fatalf("second run moved %d: %v", n, err)
		}
	})
}

// TestAttachmentsInS3: the messaging rules over the S3 store, against an
// S3 server started by the test: upload, download, purge.
func TestAttachmentsInS3(t *testing.T) {
	ctx := context.Background()
	f := setup(t, dbtest.MustOpenSQLite(t))
	srv := blobtest.NewS3Server(t)
	st, err := blob.NewS3(srv.Config)
	if err != nil {
		t.Fatal(err)
	}
	f.svc.Files.Store = st
	emp := f.active(t, "jan@example.nl", false, "Jan", "", "Berg")
	content := append([]byte("%PDF-1.4\n"), bytes.Repeat([]byte{'x'}, 6<<20)...) // more than one S3 part
	a, err := f.svc.Upload(ctx, f.hr.Identity(), "groot.pdf", content)
	if err != nil {
		t.Fatal(err)
	}
	if objs := srv.Objects(t); len(objs) != 1 {
		t.Fatalf("objects %v, want one", objs)
	}
	tid, err := f.svc.Compose(ctx, f.hr.Identity(), messaging.ComposeInput{To: []string{emp.Email}, Subject: "S3", Body: "b", AttachmentIDs: []int64{a.ID}})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := download(ctx, f.svc, emp, a.ID); err != nil || !bytes.Equal(got, content) {
		t.Fatalf("download: %v (%d bytes)", err, len(got))
	}
	if err := f.svc.RemoveThreadFromBox(ctx, emp.Identity(), tid); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.RemoveThreadFromBox(ctx, f.hr.Identity(), tid); err != nil {
		t.Fatal(err)
	}
	if objs := srv.Objects(t); len(objs) != 0 {
		t.Fatalf("objects %v left after the last box removed the message", objs)
	}
}

// TestDiscardUpload: "Verwijderen" on a file not yet sent deletes it at
// once, row and content (a file picked by mistake, say someone else's
// report, does not stay stored for a day), and frees its place under the
// cap of waiting uploads. Only the uploader's own unsent file goes: a sent
// one, or another person's, is not found and stays.
func TestDiscardUpload(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := setup(t, d)
		jan := f.active(t, "jan@example.nl", false, "Jan", "", "Jansen")
		wrong, err := f.svc.Upload(ctx, f.hr.Identity(), "verkeerd.pdf", []byte("%PDF-1.4 iemand anders"))
		if err != nil {
			t.Fatal(err)
		}
		sent, err := f.svc.Upload(ctx, f.hr.Identity(), "goed.pdf", []byte("%PDF-1.4 goed"))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Compose(ctx, f.hr.Identity(), messaging.ComposeInput{To: []string{jan.Email}, Subject: "S", Body: "B", AttachmentIDs: []int64{sent.ID}}); err != nil {
			t.Fatal(err)
		}
		theirs, err := f.svc.Upload(ctx, jan.Identity(), "van jan.pdf", []byte("%PDF-1.4 jan"))
		if err != nil {
			t.Fatal(err)
		}
		if n := f.files(); n != 3 {
			t.Fatalf("%d files, want 3", n)
		}
		if err := f.svc.DiscardUpload(ctx, f.hr.Identity(), wrong.ID); err != nil {
			t.Fatal(err)
		}
		if n := f.files(); n != 2 {
			t.Errorf("%d files after discarding, want 2", n)
		}
		if _, _, err := f.svc.Download(ctx, f.hr.Identity(), wrong.ID); apperr.CodeOf(err) != apperr.NotFound {
			t.Errorf("the discarded file: %v, want not found", err)
		}
		if n, _ := d.NewSelect().Table("attachments").Where("id = ?", wrong.ID).Count(ctx); n != 0 {
			t.Errorf("the discarded file's row stays")
		}
		for name, id := range map[string]int64{"sent": sent.ID, "another's": theirs.ID, "discarded": wrong.ID} {
			if err := f.svc.DiscardUpload(ctx, f.hr.Identity(), id); apperr.CodeOf(err) != apperr.NotFound {
				t.Errorf("discarding a %s file: %v, want not found", name, err)
			}
		}
		if n := f.files(); n != 2 {
			t.Errorf("%d files, want the sent one and Jan's", n)
		}
		if _, err := download(ctx, f.svc, jan, sent.ID); err != nil {
			t.Errorf("the sent file: %v", err)
		}
		if _, err := download(ctx, f.svc, jan, theirs.ID); err != nil {
			t.Errorf("Jan's own upload: %v", err)
		}
		// Discarded files leave the cap of waiting uploads.
		for i := 0; i < messaging.MaxPendingUploads+5; i++ {
			a, err := f.svc.Upload(ctx, f.hr.Identity(), "probeer.pdf", []byte("%PDF-1.4 probeer"))
			if err != nil {
				t.Fatalf("upload %d after discarding the ones before: %v", i, err)
			}
			if err := f.svc.DiscardUpload(ctx, f.hr.Identity(), a.ID); err != nil {
				t.Fatal(err)
			}
		}
	})
}
