// Package blob stores opaque byte streams under string keys: in a directory
// (the data dir, the default with SQLite), in PostgreSQL (the default with
// PostgreSQL, so that several instances share the files through the
// database) or in S3-compatible object storage. A store streams in both
// directions, so memory does not grow with a blob's size, and a write is
// all or nothing. It knows nothing of encryption or attachments: callers
// encrypt before they put.
package blob

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"
)

// ErrNotFound is returned by Get for a key that holds no blob.
var ErrNotFound = errors.New("blob: not found")

// ErrNoSpace is wrapped by Put when the storage is full (a full disk, a
// database out of disk space, a bucket over its quota).
var ErrNoSpace = errors.New("blob: no space left")

// Store keeps blobs. Keys are chosen by the caller: lower-case hex, at
// least two characters.
type Store interface {
	// Put stores everything r yields under key. On any error (including
	// one returned by r) nothing is left under key and no partial data
	// stays behind.
	Put(ctx context.Context, key string, r io.Reader) error
	// Get opens the blob under key for reading; ErrNotFound if there is
	// none. The caller closes it. Reading may go on after ctx's request
	// returned, so pass a context that lives as long as the reading.
	Get(ctx context.Context, key string) (io.ReadCloser, error)
	// Delete removes the blob under key; a missing blob is fine.
	Delete(ctx context.Context, key string) error
	// String names the store for logs, without credentials.
	String() string
}

// CheckWrite writes, reads back and deletes a small probe blob: whether
// the store can take a write now (for the readiness probe).
func CheckWrite(ctx context.Context, s Store) error {
	if d, ok := s.(*Database); ok {
		// Not through a stream slot, which slow downloads may all hold.
		s = d.probe()
	}
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	key := "probe-" + hex.EncodeToString(b)
	want := []byte("dialoog readiness probe " + key)
	if err := s.Put(ctx, key, bytes.NewReader(want)); err != nil {
		return fmt.Errorf("write probe to %s: %w", s, err)
	}
	defer s.Delete(context.WithoutCancel(ctx), key)
	r, err := s.Get(ctx, key)
	if err != nil {
		return fmt.Errorf("read probe from %s: %w", s, err)
	}
	defer r.Close()
	got, err := io.ReadAll(io.LimitReader(r, int64(len(want))+1))
	if err != nil {
		return fmt.Errorf("read probe from %s: %w", s, err)
	}
	if !bytes.Equal(got, want) {
		return fmt.Errorf("read probe from %s: content differs", s)
	}
	if err := s.Delete(ctx, key); err != nil {
		return fmt.Errorf("delete probe from %s: %w", s, err)
	}
	return nil
}

// validKey reports whether key is safe as a file name, an object name and
// a database value: lower-case letters, digits and '-', 2 to 128 long.
func validKey(key string) bool {
	if len(key) < 2 || len(key) > 128 {
		return false
	}
	for i := 0; i < len(key); i++ {
		c := key[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

func checkKey(key string) error {
	if !validKey(key) {
		return fmt.Errorf("blob: invalid key %q", key)
	}
	return nil
}

// Kind names where blobs are kept, as chosen by DIALOOG_BLOB_URL.
type Kind string

// The store kinds.
const (
	KindDir      Kind = "datadir"  // files in the data dir
	KindDatabase Kind = "postgres" // chunks in the PostgreSQL database
	KindS3       Kind = "s3"       // objects in an S3-compatible bucket
)

// Location is a parsed DIALOOG_BLOB_URL.
type Location struct {
	Kind Kind
	S3   *S3Config // for KindS3
}

// ParseURL reads DIALOOG_BLOB_URL: "datadir", "postgres" or
// s3://ACCESS:SECRET@host[:port]/bucket[?region=...&insecure=1].
// Error messages never repeat the secret.
func ParseURL(raw string) (Location, error) {
	switch raw {
	case string(KindDir), "dir":
		return Location{Kind: KindDir}, nil
	case string(KindDatabase), "postgresql", "database":
		return Location{Kind: KindDatabase}, nil
	}
	if !strings.HasPrefix(raw, "s3://") {
		return Location{}, errors.New("must be datadir, postgres or s3://ACCESS:SECRET@host:port/bucket?region=...")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return Location{}, errors.New("is not a valid s3:// URL")
	}
	if _, err := url.ParseQuery(u.RawQuery); err != nil {
		return Location{}, errors.New("s3:// has a malformed query")
	}
	cfg, err := s3ConfigFrom(u)
	if err != nil {
		return Location{}, err
	}
	return Location{Kind: KindS3, S3: cfg}, nil
}
