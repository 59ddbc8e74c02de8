package blob

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// Dir keeps each blob in a file under a directory, in a subdirectory named
// by the key's first two characters. A write goes to a temporary file in
// the same directory that is synced and renamed into place, so a blob is
// either whole or absent; the temporary file is removed on any failure.
type Dir struct {
	Root string
}

var _ Store = (*Dir)(nil)

// tmpSuffix marks files being written; CleanTemp removes leftovers of a
// crashed process.
const tmpSuffix = ".tmp"

func (d *Dir) path(key string) string { return filepath.Join(d.Root, key[:2], key) }

func (d *Dir) String() string { return "data dir " + d.Root }

// Put writes r to a temporary file, syncs it and renames it to key.
func (d *Dir) Put(ctx context.Context, key string, r io.Reader) (err error) {
	if err := checkKey(key); err != nil {
		return err
	}
	p := d.path(key)
	dir := filepath.Dir(p)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fileErr("create blob dir", err)
	}
	f, err := os.CreateTemp(dir, key+".*"+tmpSuffix)
	if err != nil {
		return fileErr("create blob", err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if _, err := io.Copy(f, ctxReader{ctx, r}); err != nil {
		return fileErr("write blob", err)
	}
	if err := f.Sync(); err != nil {
		return fileErr("sync blob", err)
	}
	if err := f.Close(); err != nil {
		return fileErr("close blob", err)
	}
	if err := os.Rename(f.Name(), p); err != nil {
		return fileErr("store blob", err)
	}
	// The rename is durable once the directory is synced.
	if df, err := os.Open(dir); err == nil {
		df.Sync()
		df.Close()
	}
	return nil
}

// Get opens the blob's file.
func (d *Dir) Get(_ context.Context, key string) (io.ReadCloser, error) {
	if err := checkKey(key); err != nil {
		return nil, err
	}
	f, err := os.Open(d.path(key))
	if errors.Is(err, os.ErrNotExist) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("open blob: %w", err)
	}
	return f, nil
}

// Delete removes the blob's file.
func (d *Dir) Delete(_ context.Context, key string) error {
	if err := checkKey(key); err != nil {
		return err
	}
	if err := os.Remove(d.path(key)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("delete blob: %w", err)
	}
	return nil
}

// CleanTemp removes temporary files left by a process that died while
// writing: those last written to before before; it returns how many it
// removed. A write under way (of a server, while a command opens the same
// data dir) keeps writing to its file, so a cutoff well before the
// longest pause of a write leaves it alone.
func (d *Dir) CleanTemp(before time.Time) (int, error) {
	n := 0
	err := filepath.WalkDir(d.Root, func(p string, e os.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, os.ErrNotExist) {
				return nil
			}
			return err
		}
		if e.IsDir() || !strings.HasSuffix(e.Name(), tmpSuffix) {
			return nil
		}
		info, err := e.Info()
		if errors.Is(err, os.ErrNotExist) {
			return nil // renamed or removed by its writer meanwhile
		}
		if err != nil {
			return err
		}
		if !info.ModTime().Before(before) {
			return nil
		}
		if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
		n++
		return nil
	})
	if err != nil {
		return n, fmt.Errorf("clean temporary blobs: %w", err)
	}
	return n, nil
}

// fileErr wraps err, marking a full disk or quota as ErrNoSpace.
func fileErr(what string, err error) error {
	if errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) {
		return fmt.Errorf("%s: %w: %w", what, ErrNoSpace, err)
	}
	return fmt.Errorf("%s: %w", what, err)
}

// ctxReader stops a copy when ctx ends.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
