package main

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"time"

	"dialoog/blob"
	"dialoog/config"
	"dialoog/db"
	"dialoog/messaging"
	"dialoog/vault"
)

// attachmentsDir is the data dir's folder of attachments: the store with
// SQLite, and where attachments stored before the blob store are.
func attachmentsDir(cfg *config.Config) string { return filepath.Join(cfg.DataDir, "attachments") }

// staleTempFile is how long a temporary file of the data dir store must
// have gone unwritten before start-up takes it for a left-over of a
// process that died: far longer than an upload pauses (the server's read
// timeout cuts off a client that stops sending).
const staleTempFile = time.Hour

// openFiles opens the attachment store DIALOOG_BLOB_URL chooses (see
// config.Config.Blob). An S3 bucket must exist: start-up fails, naming
// the bucket, when it does not or cannot be reached.
func openFiles(ctx context.Context, cfg *config.Config, d *db.DB, v *vault.Vault, log *slog.Logger) (*messaging.Files, error) {
	legacy := &blob.Dir{Root: attachmentsDir(cfg)}
	var store blob.Store
	switch cfg.Blob.Kind {
	case blob.KindDatabase:
		// Transfers hold a connection each for as long as their client
		// takes: half the pool at most, the other half serves the pages.
		store = &blob.Database{DB: d, MaxStreams: max(1, d.PoolSize()/2)}
	case blob.KindS3:
		s3, err := blob.NewS3(cfg.Blob.S3)
		if err != nil {
			return nil, fmt.Errorf("DIALOOG_BLOB_URL: %w", err)
		}
		ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
		defer cancel()
		ok, err := s3.Client().BucketExists(ctx, s3.Bucket())
		if err != nil {
			return nil, fmt.Errorf("DIALOOG_BLOB_URL: reach %s: %w", s3, err)
		}
		if !ok {
			return nil, fmt.Errorf("DIALOOG_BLOB_URL: bucket %q does not exist on %s", s3.Bucket(), cfg.Blob.S3.Endpoint)
		}
		store = s3
	default:
		store = legacy
		// A process that died while writing left a temporary file. The
		// server may be writing one now (this is a command run beside
		// it): only files nobody wrote to for a while are left-overs.
		if n, err := legacy.CleanTemp(time.Now().Add(-staleTempFile)); err != nil {
			log.Warn("clean temporary attachment files", "err", err)
		} else if n > 0 {
			log.Info("removed temporary attachment files", "count", n)
		}
	}
	log.Info("attachment store", "store", store.String())
	return &messaging.Files{Store: store, Legacy: legacy, Vault: v}, nil
}

// moveSealedFiles moves the attachments stored before the blob store into
// it, once at start, in the background (they are read where they are
// until then).
func (a *app) moveSealedFiles(ctx context.Context) {
	n, err := a.messages.MoveSealedFiles(ctx)
	switch {
	case err != nil && ctx.Err() == nil:
		a.log.Error("move attachments into the blob store", "err", err, "moved", n)
	case n > 0:
		a.log.Info("moved attachments into the blob store", "count", n)
	}
}
