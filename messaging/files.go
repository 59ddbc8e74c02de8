package messaging

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"unicode/utf8"

	"github.com/minio/sio"

	"dialoog/apperr"
	"dialoog/blob"
	"dialoog/vault"
)

// Files keeps attachment contents in a blob store, encrypted as they
// stream: DARE 2.0 (github.com/minio/sio), 64 KiB packages each sealed
// with AES-256-GCM and numbered, the last one marked, so a package that is
// changed, dropped, reordered or cut off fails to open. The key of each
// attachment is derived from the vault key named by its key id and its
// storage key, so a blob copied under another key does not open, and
// nothing new has to be configured. Neither side holds more than a package
// (plus the store's own buffer).
type Files struct {
	// Store holds attachments stored from migration 0004 on (format 1).
	Store blob.Store
	// Legacy holds attachments stored before (format 0): files in the data
	// dir sealed whole with the vault. Nil when there are none to read.
	Legacy blob.Store
	Vault  *vault.Vault
}

// Storage formats of an attachment (attachments.blob_format).
const (
	formatSealed = 0 // vault.Seal of the whole file in Legacy
	formatStream = 1 // DARE 2.0 stream in Store
)

func newStorageKey() string {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		panic("messaging: random: " + err.Error())
	}
	return hex.EncodeToString(b)
}

func (f *Files) config(keyID, storageKey string) (sio.Config, error) {
	k, err := f.Vault.DeriveKey(keyID, "attachment", []byte(storageKey))
	if err != nil {
		return sio.Config{}, err
	}
	return sio.Config{Key: k, MinVersion: sio.Version20, MaxVersion: sio.Version20, CipherSuites: []byte{sio.AES_256_GCM}}, nil
}

// Write encrypts r as it reads it into the store under storageKey and
// returns the id of the key it used. On any error (r's included) nothing
// is stored.
func (f *Files) Write(ctx context.Context, storageKey string, r io.Reader) (keyID string, err error) {
	keyID = f.Vault.KeyID()
	cfg, err := f.config(keyID, storageKey)
	if err != nil {
		return "", err
	}
	enc, err := sio.EncryptReader(r, cfg)
	if err != nil {
		return "", fmt.Errorf("encrypt attachment: %w", err)
	}
	if err := f.Store.Put(ctx, storageKey, enc); err != nil {
		return "", fmt.Errorf("store attachment: %w", err)
	}
	return keyID, nil
}

// Open returns the decrypted content of an attachment as a stream. A
// stream that was tampered with ends in an error where the change is.
func (f *Files) Open(ctx context.Context, storageKey, keyID string, format int) (io.ReadCloser, error) {
	switch format {
	case formatStream:
		cfg, err := f.config(keyID, storageKey)
		if err != nil {
			return nil, err
		}
		rc, err := f.Store.Get(ctx, storageKey)
		if err != nil {
			return nil, fmt.Errorf("open attachment: %w", err)
		}
		dec, err := sio.DecryptReader(rc, cfg)
		if err != nil {
			rc.Close()
			return nil, fmt.Errorf("decrypt attachment: %w", err)
		}
		return readCloser{dec, rc}, nil
	case formatSealed:
		data, err := f.readSealed(ctx, storageKey)
		if err != nil {
			return nil, err
		}
		return io.NopCloser(bytes.NewReader(data)), nil
	}
	return nil, fmt.Errorf("open attachment: unknown format %d", format)
}

// readSealed reads an attachment stored before migration 0004, sealed
// whole: it has to be read whole to be opened.
func (f *Files) readSealed(ctx context.Context, storageKey string) ([]byte, error) {
	if f.Legacy == nil {
		return nil, fmt.Errorf("open attachment: %w", blob.ErrNotFound)
	}
	rc, err := f.Legacy.Get(ctx, storageKey)
	if err != nil {
		return nil, fmt.Errorf("open attachment: %w", err)
	}
	defer rc.Close()
	sealed, err := io.ReadAll(io.LimitReader(rc, MaxAttachmentSize+1024))
	if err != nil {
		return nil, fmt.Errorf("read attachment: %w", err)
	}
	data, err := f.Vault.Open(sealed, []byte("attachment:"+storageKey))
	if err != nil {
		return nil, fmt.Errorf("open attachment: %w", err)
	}
	return data, nil
}

// Remove deletes an attachment's content; a missing one is fine.
func (f *Files) Remove(ctx context.Context, storageKey string, format int) error {
	st := f.Store
	if format == formatSealed {
		if st = f.Legacy; st == nil {
			return nil
		}
	}
	if err := st.Delete(ctx, storageKey); err != nil {
		return fmt.Errorf("remove attachment: %w", err)
	}
	return nil
}

type readCloser struct {
	io.Reader
	io.Closer
}

// storedFile names an attachment's content for removal after a commit.
type storedFile struct {
	StorageKey string
	BlobFormat int
}

// allowedTypes maps a file-name extension to the content type that the
// content itself must show. Office formats are zip files.
var allowedTypes = map[string]string{
	".pdf":  "application/pdf",
	".png":  "image/png",
	".jpg":  "image/jpeg",
	".jpeg": "image/jpeg",
	".gif":  "image/gif",
	".webp": "image/webp",
	".txt":  "text/plain; charset=utf-8",
	".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
	".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
	".pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
	".odt":  "application/vnd.oasis.opendocument.text",
	".ods":  "application/vnd.oasis.opendocument.spreadsheet",
}

// DetectType checks a file by its content, not only its name, and returns
// the content type to store; types outside the allow-list are refused.
// data is the whole file.
func DetectType(name string, data []byte) (string, error) {
	return detectType(name, data, true)
}

// detectType is DetectType on the first bytes of a file (up to 512 are
// what content sniffing reads) when whole is false: a character cut off at
// the end of head is no reason to refuse a text file. The rest of a text
// file is checked as it streams (see contentCheck).
func detectType(name string, data []byte, whole bool) (string, error) {
	ext := strings.ToLower(filepath.Ext(name))
	want, ok := allowedTypes[ext]
	if !ok {
		return "", apperr.Field("attachments", "attachment.type")
	}
	sniffed := http.DetectContentType(data)
	switch ext {
	case ".pdf", ".png", ".jpg", ".jpeg", ".gif", ".webp":
		if !strings.HasPrefix(sniffed, want) {
			return "", apperr.Field("attachments", "attachment.type")
		}
	case ".txt":
		if !strings.HasPrefix(sniffed, "text/plain") || !utf8.Valid(data[:completeRunes(data, whole)]) {
			return "", apperr.Field("attachments", "attachment.type")
		}
	default: // zip-based office documents
		if !bytes.HasPrefix(data, []byte("PK\x03\x04")) {
			return "", apperr.Field("attachments", "attachment.type")
		}
	}
	return want, nil
}

// cleanFilename keeps a file name displayable and safe in a header: no
// path, no quotes, no control characters and no bidirectional overrides
// (CleanLine), at most 120 characters with its extension.
// Limits of a stored file name, in characters.
const (
	maxFilenameRunes = 120
	maxExtRunes      = 16
)

func cleanFilename(name string) string {
	name = filepath.Base(strings.ReplaceAll(name, "\\", "/"))
	s := strings.TrimSpace(strings.ReplaceAll(CleanLine(name), `"`, ""))
	if utf8.RuneCountInString(s) > maxFilenameRunes {
		// Keep the extension (it decides the type) when it is a short one;
		// a long "extension" is just the end of a long name.
		ext := []rune(filepath.Ext(s))
		if len(ext) > maxExtRunes {
			ext = nil
		}
		base := []rune(strings.TrimSuffix(s, string(ext)))
		s = string(base[:maxFilenameRunes-len(ext)]) + string(ext)
	}
	if s == "" || s == "." {
		s = "bijlage"
	}
	return s
}

// completeRunes is the length of data without a trailing incomplete UTF-8
// sequence, when more may follow (whole is false).
func completeRunes(data []byte, whole bool) int {
	if whole {
		return len(data)
	}
	for i := len(data) - 1; i >= 0 && i >= len(data)-utf8.UTFMax; i-- {
		if utf8.RuneStart(data[i]) {
			if !utf8.FullRune(data[i:]) {
				return i
			}
			break
		}
	}
	return len(data)
}

// CheckWrite reports whether the store takes a write now: a small probe
// blob is written, read back and deleted (for the readiness probe).
func (f *Files) CheckWrite(ctx context.Context) error {
	return blob.CheckWrite(ctx, f.Store)
}
