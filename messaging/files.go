package messaging

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"unicode/utf8"

	"dialoog/apperr"
	"dialoog/vault"
)

// Files stores attachment contents encrypted in a directory, one file per
// attachment, named by a random storage key.
type Files struct {
	Dir   string
	Vault *vault.Vault
}

func newStorageKey() string {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		panic("messaging: random: " + err.Error())
	}
	return hex.EncodeToString(b)
}

func (f *Files) path(key string) string { return filepath.Join(f.Dir, key[:2], key) }

// Write seals data and stores it under key.
func (f *Files) Write(key string, data []byte) error {
	p := f.path(key)
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		return fmt.Errorf("attachment dir: %w", err)
	}
	sealed := f.Vault.Seal(data, []byte("attachment:"+key))
	tmp := p + ".tmp"
	if err := os.WriteFile(tmp, sealed, 0o600); err != nil {
		return fmt.Errorf("write attachment: %w", err)
	}
	if err := os.Rename(tmp, p); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("store attachment: %w", err)
	}
	return nil
}

// Read opens the attachment stored under key.
func (f *Files) Read(key string) ([]byte, error) {
	sealed, err := os.ReadFile(f.path(key))
	if err != nil {
		return nil, fmt.Errorf("read attachment: %w", err)
	}
	data, err := f.Vault.Open(sealed, []byte("attachment:"+key))
	if err != nil {
		return nil, fmt.Errorf("open attachment: %w", err)
	}
	return data, nil
}

// Remove deletes the attachment stored under key; a missing file is fine.
func (f *Files) Remove(key string) error {
	if err := os.Remove(f.path(key)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("remove attachment: %w", err)
	}
	return nil
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
func DetectType(name string, data []byte) (string, error) {
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
		if !strings.HasPrefix(sniffed, "text/plain") || !utf8.Valid(data) {
			return "", apperr.Field("attachments", "attachment.type")
		}
	default: // zip-based office documents
		if !bytes.HasPrefix(data, []byte("PK\x03\x04")) {
			return "", apperr.Field("attachments", "attachment.type")
		}
	}
	return want, nil
}

// cleanFilename keeps a file name displayable and safe in a header.
func cleanFilename(name string) string {
	name = filepath.Base(strings.ReplaceAll(name, "\\", "/"))
	var b strings.Builder
	for _, r := range name {
		if r < 0x20 || r == 0x7f || r == '"' || r == '/' {
			continue
		}
		b.WriteRune(r)
	}
	s := strings.TrimSpace(b.String())
	if utf8.RuneCountInString(s) > 120 {
		ext := filepath.Ext(s)
		s = string([]rune(s)[:120-len([]rune(ext))]) + ext
	}
	if s == "" || s == "." {
		s = "bijlage"
	}
	return s
}
