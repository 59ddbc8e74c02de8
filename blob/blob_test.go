package blob_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"dialoog/blob"
	"dialoog/blob/blobtest"
	"dialoog/db/dbtest"
)

// eachStore runs fn against every store kind: the data dir, the database
// (PostgreSQL, and SQLite, which can hold the table too) and an S3 server
// started by the test.
func eachStore(t *testing.T, fn func(t *testing.T, s blob.Store)) {
	t.Run("dir", func(t *testing.T) { fn(t, &blob.Dir{Root: t.TempDir()}) })
	t.Run("sqlite", func(t *testing.T) { fn(t, &blob.Database{DB: dbtest.MustOpenSQLite(t)}) })
	t.Run("postgres", func(t *testing.T) { fn(t, &blob.Database{DB: dbtest.MustOpenPostgres(t)}) })
	t.Run("s3", func(t *testing.T) {
		st, err := blob.NewS3(blobtest.NewS3Server(t).Config)
		if err != nil {
			t.Fatal(err)
		}
		fn(t, st)
	})
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

func TestStores(t *testing.T) {
	eachStore(t, func(t *testing.T, s blob.Store) {
		ctx := context.Background()
		t.Run("RoundTrip", func(t *testing.T) {
			// Sizes around the database chunk and the S3 part size.
			for _, n := range []int{0, 1, blob.ChunkSize - 1, blob.ChunkSize, 3*blob.ChunkSize + 7, blob.S3PartSize + 1} {
				if _, isS3 := s.(*blob.S3); isS3 && n == 0 {
					// gofakes3 refuses an empty PUT (minio-go sends no
					// Content-Length for it); encrypted blobs are never
					// empty.
					continue
				}
				want := randomBytes(n)
				key := "ab" + strings.Repeat("c", n%5) + "-" + strings.Repeat("0", 3)
				if err := s.Put(ctx, key, bytes.NewReader(want)); err != nil {
					t.Fatalf("put %d bytes: %v", n, err)
				}
				r, err := s.Get(ctx, key)
				if err != nil {
					t.Fatalf("get %d bytes: %v", n, err)
				}
				got, err := io.ReadAll(r)
				r.Close()
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(got, want) {
					t.Fatalf("%d bytes: got %d bytes back, different", n, len(got))
				}
				if err := s.Delete(ctx, key); err != nil {
					t.Fatal(err)
				}
			}
		})
		t.Run("ErrNotFound", func(t *testing.T) {
			if _, err := s.Get(ctx, "ffff"); !errors.Is(err, blob.ErrNotFound) {
				t.Fatalf("get missing: %v, want ErrNotFound", err)
			}
			if err := s.Delete(ctx, "ffff"); err != nil {
				t.Fatalf("delete missing: %v", err)
			}
		})
		t.Run("FailedWriteLeavesNothing", func(t *testing.T) {
			// The reader fails after more than a chunk and a part.
			boom := errors.New("client went away")
			r := io.MultiReader(bytes.NewReader(randomBytes(blob.S3PartSize+blob.ChunkSize+10)), errReader{boom})
			err := s.Put(ctx, "dead00", r)
			if !errors.Is(err, boom) {
				t.Fatalf("put: %v, want the reader's error", err)
			}
			if _, err := s.Get(ctx, "dead00"); !errors.Is(err, blob.ErrNotFound) {
				t.Fatalf("get after failed put: %v, want ErrNotFound", err)
			}
			if d, ok := s.(*blob.Dir); ok {
				if files := listFiles(t, d.Root); len(files) != 0 {
					t.Fatalf("files left after a failed write: %v", files)
				}
			}
		})
		t.Run("ClosedEarly", func(t *testing.T) {
			// A download the client breaks off frees what it held: the
			// store serves the next reads (on PostgreSQL, the COPY's
			// connection must not go back to the pool mid-protocol).
			want := randomBytes(4*blob.ChunkSize + 3)
			if err := s.Put(ctx, "ea71", bytes.NewReader(want)); err != nil {
				t.Fatal(err)
			}
			for range 25 {
				r, err := s.Get(ctx, "ea71")
				if err != nil {
					t.Fatal(err)
				}
				if _, err := io.ReadFull(r, make([]byte, blob.ChunkSize+10)); err != nil {
					t.Fatal(err)
				}
				r.Close()
			}
			r, err := s.Get(ctx, "ea71")
			if err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(r)
			r.Close()
			if err != nil || !bytes.Equal(got, want) {
				t.Fatalf("after early closes: %d bytes, %v", len(got), err)
			}
		})
		t.Run("InvalidKey", func(t *testing.T) {
			for _, k := range []string{"", "a", "../etc", "AB", "a/b"} {
				if err := s.Put(ctx, k, strings.NewReader("x")); err == nil {
					t.Errorf("put %q accepted", k)
				}
			}
		})
		t.Run("CheckWrite", func(t *testing.T) {
			if err := blob.CheckWrite(ctx, s); err != nil {
				t.Fatal(err)
			}
		})
	})
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

func listFiles(t *testing.T, root string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			out = append(out, p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestDirCleanTemp(t *testing.T) {
	d := &blob.Dir{Root: t.TempDir()}
	if err := d.Put(context.Background(), "abcd", strings.NewReader("kept")); err != nil {
		t.Fatal(err)
	}
	left := filepath.Join(d.Root, "ab", "abce.123.tmp")
	if err := os.WriteFile(left, []byte("half"), 0o600); err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-2 * time.Hour)
	if err := os.Chtimes(left, old, old); err != nil {
		t.Fatal(err)
	}
	// A write under way (written to a moment ago) is left alone.
	writing := filepath.Join(d.Root, "ab", "abcf.456.tmp")
	if err := os.WriteFile(writing, []byte("being written"), 0o600); err != nil {
		t.Fatal(err)
	}
	n, err := d.CleanTemp(time.Now().Add(-time.Hour))
	if err != nil || n != 1 {
		t.Fatalf("CleanTemp = %d, %v; want 1", n, err)
	}
	if files := listFiles(t, d.Root); len(files) != 2 || filepath.Base(files[0]) != "abcd" || filepath.Base(files[1]) != "abcf.456.tmp" {
		t.Fatalf("files %v, want the blob and the write under way", files)
	}
}

func TestParseURL(t *testing.T) {
	for _, ok := range []string{"datadir", "postgres", "s3://AK:SK@s3.example.nl/bucket", "s3://AK:SK@127.0.0.1:9000/b/sub/dir?region=eu-west-1&insecure=1"} {
		if _, err := blob.ParseURL(ok); err != nil {
			t.Errorf("%s: %v", ok, err)
		}
	}
	loc, _ := blob.ParseURL("s3://AK:SK@127.0.0.1:9000/b/sub/dir?region=eu-west-1&insecure=1")
	if c := loc.S3; c.Bucket != "b" || c.Prefix != "sub/dir/" || c.Region != "eu-west-1" || !c.Insecure || c.Endpoint != "127.0.0.1:9000" {
		t.Errorf("parsed %+v", c)
	}
	if s := loc.S3.String(); strings.Contains(s, "SK") {
		t.Errorf("String() shows the secret: %s", s)
	}
	for _, bad := range []string{"", "s3://", "s3://host/bucket", "s3://AK:SK@host", "s3://AK:SK@host/b?insecure=maybe", "s3://AK:SK@host/b?foo=1", "ftp://x", "s3://AK:TOPSECRET@host/b?x=%zz"} {
		_, err := blob.ParseURL(bad)
		if err == nil {
			t.Errorf("%q accepted", bad)
			continue
		}
		if strings.Contains(err.Error(), "TOPSECRET") {
			t.Errorf("%q: error shows the secret: %v", bad, err)
		}
	}
}

// TestDatabaseMaxStreams: on PostgreSQL a stream holds a connection of its
// own while it is open; beyond MaxStreams one waits for another to close,
// or gives up with its context, instead of taking the pool.
func TestDatabaseMaxStreams(t *testing.T) {
	d := dbtest.MustOpenPostgres(t)
	s := &blob.Database{DB: d, MaxStreams: 1}
	ctx := context.Background()
	want := randomBytes(3 * blob.ChunkSize)
	if err := s.Put(ctx, "abcd", bytes.NewReader(want)); err != nil {
		t.Fatal(err)
	}
	first, err := s.Get(ctx, "abcd")
	if err != nil {
		t.Fatal(err)
	}
	short, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	if _, err := s.Get(short, "abcd"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("second stream while the first is open: %v, want to wait until the deadline", err)
	}
	if err := s.Put(short, "abce", bytes.NewReader(want)); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("a write while a stream is open: %v, want to wait until the deadline", err)
	}
	got := make(chan error, 1)
	go func() {
		r, err := s.Get(ctx, "abcd")
		if err == nil {
			var b []byte
			if b, err = io.ReadAll(r); err == nil && !bytes.Equal(b, want) {
				err = errors.New("content differs")
			}
			r.Close()
		}
		got <- err
	}()
	first.Close() // left early: the slot is given back all the same
	select {
	case err := <-got:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the waiting stream did not get the slot of the closed one")
	}
}

// TestCheckWriteWhileStreamsBusy: the readiness probe's write and read
// need no stream slot: slow downloads holding every slot do not make the
// instance look not ready (a load balancer would take it out of rotation).
func TestCheckWriteWhileStreamsBusy(t *testing.T) {
	d := dbtest.MustOpenPostgres(t)
	s := &blob.Database{DB: d, MaxStreams: 1}
	ctx := context.Background()
	if err := s.Put(ctx, "abcd", bytes.NewReader(randomBytes(3*blob.ChunkSize))); err != nil {
		t.Fatal(err)
	}
	busy, err := s.Get(ctx, "abcd")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	probe, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if err := blob.CheckWrite(probe, s); err != nil {
		t.Fatalf("readiness probe while a stream holds the only slot: %v", err)
	}
}
