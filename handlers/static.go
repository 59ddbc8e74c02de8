package handlers

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"mime"
	"path"
	"strings"

	"github.com/gofiber/fiber/v2"
)

// asset is one embedded static file, prepared at start-up.
type asset struct {
	body         []byte
	contentType  string
	etag         string
	cacheControl string
}

// loadAssets reads every embedded file once. Vendored files carry their
// version in the name and are cached for a year; Dialoog's own CSS and JS
// keep their names across releases, so browsers revalidate them (cheap: the
// ETag is a content hash and the answer is a 304).
func loadAssets(fsys fs.FS) (map[string]asset, error) {
	assets := map[string]asset{}
	err := fs.WalkDir(fsys, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := fs.ReadFile(fsys, name)
		if err != nil {
			return fmt.Errorf("read static %s: %w", name, err)
		}
		ctype := mime.TypeByExtension(path.Ext(name))
		if ctype == "" {
			ctype = "application/octet-stream"
		}
		sum := sha256.Sum256(body)
		cache := "no-cache"
		if strings.HasPrefix(name, "vendor/") {
			cache = "public, max-age=31536000, immutable"
		}
		assets[name] = asset{
			body:         body,
			contentType:  ctype,
			etag:         `"` + hex.EncodeToString(sum[:16]) + `"`,
			cacheControl: cache,
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("load static files: %w", err)
	}
	return assets, nil
}

// static serves /static/* from the embedded files. Unknown names are a plain
// 404: there is no directory listing and no path walking, since only names
// found at start-up exist.
func (h *handler) static(c *fiber.Ctx) error {
	a, ok := h.assets[c.Params("*")]
	if !ok {
		return fiber.ErrNotFound
	}
	c.Set(fiber.HeaderCacheControl, a.cacheControl)
	c.Set(fiber.HeaderETag, a.etag)
	c.Set(fiber.HeaderContentType, a.contentType)
	if etagMatches(c.Get(fiber.HeaderIfNoneMatch), a.etag) {
		c.Status(fiber.StatusNotModified)
		return nil
	}
	return c.Send(a.body)
}

// etagMatches reports whether an If-None-Match header lists etag.
func etagMatches(header, etag string) bool {
	for _, v := range strings.Split(header, ",") {
		v = strings.TrimPrefix(strings.TrimSpace(v), "W/")
		if v == etag || v == "*" {
			return true
		}
	}
	return false
}
