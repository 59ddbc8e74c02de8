package messaging

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"dialoog/blob"
	"dialoog/db"
)

// MoveSealedFiles moves attachments stored before migration 0004 (sealed
// whole in this instance's data dir) into the blob store as streams, one
// at a time, so that every instance can serve them. Each gets a new
// storage key: its row switches to the new blob in one statement that
// also checks the row still names the old one, so a crash or a concurrent
// purge leaves either the old or the new blob reachable, never neither.
// Files another instance's data dir holds are skipped (that instance
// moves them). It returns how many it moved.
func (s *Service) MoveSealedFiles(ctx context.Context) (int, error) {
	if s.Files.Legacy == nil {
		return 0, nil
	}
	moved := 0
	var after int64
	for {
		var a db.Attachment
		err := s.DB.NewSelect().Model(&a).Where("blob_format = ? AND id > ?", formatSealed, after).Order("id").Limit(1).Scan(ctx)
		if db.ErrNoRows(err) {
			return moved, nil
		}
		if err != nil {
			return moved, fmt.Errorf("find sealed attachments: %w", err)
		}
		after = a.ID
		ok, err := s.moveSealed(ctx, &a)
		if err != nil {
			return moved, fmt.Errorf("move attachment %d: %w", a.ID, err)
		}
		if ok {
			moved++
		}
	}
}

func (s *Service) moveSealed(ctx context.Context, a *db.Attachment) (bool, error) {
	data, err := s.Files.readSealed(ctx, a.StorageKey)
	if errors.Is(err, blob.ErrNotFound) {
		s.Log.Info("sealed attachment not in this data dir; left for the instance that has it", "attachment", a.ID)
		return false, nil
	}
	if err != nil {
		return false, err
	}
	key := newStorageKey()
	keyID, err := s.Files.Write(ctx, key, bytes.NewReader(data))
	if err != nil {
		return false, err
	}
	res, err := s.DB.NewUpdate().Model((*db.Attachment)(nil)).
		Set("storage_key = ?, key_id = ?, blob_format = ?", key, keyID, formatStream).
		Where("id = ? AND storage_key = ? AND blob_format = ?", a.ID, a.StorageKey, formatSealed).Exec(ctx)
	if err != nil {
		s.removeFiles(ctx, []storedFile{{key, formatStream}})
		return false, fmt.Errorf("switch to the moved blob: %w", err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		// Purged meanwhile; its old file went with it.
		s.removeFiles(ctx, []storedFile{{key, formatStream}})
		return false, nil
	}
	s.removeFiles(ctx, []storedFile{{a.StorageKey, formatSealed}})
	return true, nil
}
