package messaging

import (
	"context"
	"fmt"

	"github.com/uptrace/bun"

	"dialoog/db"
	"dialoog/vault"
)

// nameAD binds a sealed attachment name to its stored content.
func nameAD(storageKey string) []byte { return []byte("attachment:name:" + storageKey) }

// attachmentView opens what the reader sees of an attachment: its name is
// sealed like message bodies (a row from before migration 0008 that was
// not converted yet still has it in plain text).
func (s *Service) attachmentView(a *db.Attachment) (AttachmentView, error) {
	name := a.Filename
	if a.NameSealed != nil {
		plain, err := s.Vault.Open(a.NameSealed, nameAD(a.StorageKey))
		if err != nil {
			return AttachmentView{}, fmt.Errorf("open name of attachment %d: %w", a.ID, err)
		}
		name = string(plain)
	}
	// Cleaned when shown too: names stored before the rule may hold
	// control or bidirectional override characters.
	return AttachmentView{ID: a.ID, Name: cleanFilename(name), ContentType: a.ContentType, Size: a.Size}, nil
}

// sealBatch is how many rows one transaction of a conversion changes.
const sealBatch = 500

// SealLegacyAttachments converts the attachments stored before migration
// 0008: it seals each plain name and replaces the unkeyed SHA-256 by its
// keyed MAC. It runs at start, in batches, and may run on several
// instances at once: a row is converted by one UPDATE that only matches
// it while it is unconverted.
func SealLegacyAttachments(ctx context.Context, d *db.DB, v *vault.Vault) error {
	for {
		var rows []db.Attachment
		if err := d.NewSelect().Model(&rows).Column("id", "filename", "storage_key", "sha256").
			Where("name_sealed IS NULL").Order("id").Limit(sealBatch).Scan(ctx); err != nil {
			return fmt.Errorf("load unsealed attachments: %w", err)
		}
		if len(rows) == 0 {
			return nil
		}
		err := d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
			for _, a := range rows {
				if _, err := tx.NewUpdate().Model((*db.Attachment)(nil)).
					Set("name_sealed = ?", v.Seal([]byte(a.Filename), nameAD(a.StorageKey))).
					Set("filename = ''").Set("sha256 = ?", v.MAC(a.SHA256)).
					Where("id = ? AND name_sealed IS NULL", a.ID).Exec(ctx); err != nil {
					return fmt.Errorf("seal attachment %d: %w", a.ID, err)
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
		if len(rows) < sealBatch {
			return nil
		}
	}
}
