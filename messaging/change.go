package messaging

import (
	"context"
	"crypto/sha256"
	"fmt"

	"github.com/uptrace/bun"

	"dialoog/apperr"
	"dialoog/db"
)

// Upload stores a file for a message the user is about to send. The type
// is checked by content; the file is stored encrypted. It waits for its
// message for StaleUpload at most.
func (s *Service) Upload(ctx context.Context, user *db.User, name string, data []byte) (*AttachmentView, error) {
	if len(data) == 0 {
		return nil, apperr.Field("attachments", "attachment.empty")
	}
	if len(data) > MaxAttachmentSize {
		return nil, apperr.Field("attachments", "attachment.too_big")
	}
	name = cleanFilename(name)
	ctype, err := DetectType(name, data)
	if err != nil {
		return nil, err
	}
	// Unsent uploads wait up to a day; a cap keeps one account from filling
	// the disk with them.
	pending, err := s.DB.NewSelect().Model((*db.Attachment)(nil)).Where("uploader_id = ? AND message_id IS NULL", user.ID).Count(ctx)
	if err != nil {
		return nil, fmt.Errorf("count uploads: %w", err)
	}
	if pending >= MaxPendingUploads {
		return nil, apperr.Field("attachments", "attachment.too_many_pending")
	}
	key := newStorageKey()
	if err := s.Files.Write(key, data); err != nil {
		return nil, err
	}
	sum := sha256.Sum256(data)
	a := &db.Attachment{UploaderID: &user.ID, Filename: name, ContentType: ctype, Size: int64(len(data)), StorageKey: key,
		KeyID: s.Vault.KeyID(), SHA256: sum[:], CreatedAt: s.Now().UTC()}
	if _, err := s.DB.NewInsert().Model(a).Exec(ctx); err != nil {
		s.Files.Remove(key)
		return nil, fmt.Errorf("store attachment: %w", err)
	}
	return &AttachmentView{ID: a.ID, Name: a.Filename, ContentType: a.ContentType, Size: a.Size}, nil
}

// PendingUploads returns the user's uploads that wait for a message, by id.
func (s *Service) PendingUploads(ctx context.Context, user *db.User, ids []int64) ([]AttachmentView, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	var atts []db.Attachment
	if err := s.DB.NewSelect().Model(&atts).Where("id IN (?) AND uploader_id = ? AND message_id IS NULL", bun.In(ids), user.ID).Order("id").Scan(ctx); err != nil {
		return nil, fmt.Errorf("load uploads: %w", err)
	}
	out := make([]AttachmentView, len(atts))
	for i, a := range atts {
		out[i] = AttachmentView{ID: a.ID, Name: a.Filename, ContentType: a.ContentType, Size: a.Size}
	}
	return out, nil
}

// Download returns an attachment of a message the user can see, or an
// upload of their own.
func (s *Service) Download(ctx context.Context, user *db.User, attachmentID int64) (*AttachmentView, []byte, error) {
	var a db.Attachment
	err := s.DB.NewSelect().Model(&a).Where("attachment.id = ?", attachmentID).
		Where(`(attachment.message_id IS NULL AND attachment.uploader_id = ?) OR EXISTS (
  SELECT 1 FROM message_states AS ms JOIN messages AS m ON m.id = ms.message_id
  WHERE ms.message_id = attachment.message_id AND ms.user_id = ? AND ms.removed_at IS NULL)`, user.ID, user.ID).
		Scan(ctx)
	if db.ErrNoRows(err) {
		return nil, nil, errNotFound
	}
	if err != nil {
		return nil, nil, fmt.Errorf("load attachment: %w", err)
	}
	data, err := s.Files.Read(a.StorageKey)
	if err != nil {
		return nil, nil, err
	}
	return &AttachmentView{ID: a.ID, Name: a.Filename, ContentType: a.ContentType, Size: a.Size}, data, nil
}

// DeleteForEveryone removes a message the user sent, while nobody else has
// read it; its content and files are deleted from storage.
func (s *Service) DeleteForEveryone(ctx context.Context, user *db.User, messageID int64) error {
	var keys []string
	var later []Event
	err := s.DB.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		m, err := s.messageFor(ctx, tx, user.ID, messageID)
		if err != nil {
			return err
		}
		if m.SenderID == nil || *m.SenderID != user.ID || m.IsAutoReply {
			return apperr.New(apperr.Forbidden, "message.not_yours")
		}
		read, err := tx.NewSelect().Model((*db.MessageState)(nil)).
			Where("message_id = ? AND user_id <> ? AND read_at IS NOT NULL", m.ID, user.ID).Exists(ctx)
		if err != nil {
			return fmt.Errorf("check read: %w", err)
		}
		if read {
			return apperr.New(apperr.Conflict, "message.already_read")
		}
		var ps []int64
		if err := tx.NewSelect().Model((*db.Participant)(nil)).Column("user_id").Where("thread_id = ?", m.ThreadID).Scan(ctx, &ps); err != nil {
			return fmt.Errorf("load participants: %w", err)
		}
		ev := Event{Kind: EventDeleted, ThreadID: m.ThreadID, MessageID: m.ID, UserIDs: ps, ActorID: user.ID}
		if keys, err = s.purge(ctx, tx, m); err != nil {
			return err
		}
		if err := s.syncCounters(ctx, tx, m.ThreadID, 0); err != nil {
			return err
		}
		later, err = s.stage(ctx, tx, []Event{ev})
		return err
	})
	if err != nil {
		return fmt.Errorf("delete for everyone: %w", err)
	}
	s.removeFiles(keys)
	s.publish(ctx, later)
	return nil
}

// RemoveFromBox removes a message from the user's own box. When nobody has
// it in their box any more, its content and files are deleted.
func (s *Service) RemoveFromBox(ctx context.Context, user *db.User, messageID int64) error {
	var keys []string
	err := s.DB.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		m, err := s.messageFor(ctx, tx, user.ID, messageID)
		if err != nil {
			return err
		}
		keys, err = s.removeForUser(ctx, tx, user.ID, []*db.Message{m})
		return err
	})
	if err != nil {
		return fmt.Errorf("remove message: %w", err)
	}
	s.removeFiles(keys)
	return nil
}

// RemoveThreadFromBox removes every message of a thread from the user's
// box; a later message brings the thread back.
func (s *Service) RemoveThreadFromBox(ctx context.Context, user *db.User, threadID int64) error {
	var keys []string
	err := s.DB.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		if _, err := s.threadFor(ctx, tx, user.ID, threadID); err != nil {
			return err
		}
		var msgs []*db.Message
		if err := tx.NewSelect().Model(&msgs).Where("thread_id = ?", threadID).Scan(ctx); err != nil {
			return fmt.Errorf("load messages: %w", err)
		}
		var err error
		if keys, err = s.removeForUser(ctx, tx, user.ID, msgs); err != nil {
			return err
		}
		_, err = tx.NewUpdate().Model((*db.Participant)(nil)).Set("removed_at = ?", s.Now().UTC()).
			Where("thread_id = ? AND user_id = ?", threadID, user.ID).Exec(ctx)
		return err
	})
	if err != nil {
		return fmt.Errorf("remove thread: %w", err)
	}
	s.removeFiles(keys)
	return nil
}

func (s *Service) removeForUser(ctx context.Context, tx bun.Tx, userID int64, msgs []*db.Message) ([]string, error) {
	now := s.Now().UTC()
	var keys []string
	// recount: the threads whose counters change, for this user (false) or
	// for everyone because a message was deleted (true).
	recount := map[int64]bool{}
	for _, m := range msgs {
		if _, err := tx.NewUpdate().Model((*db.MessageState)(nil)).Set("removed_at = ?", now).
			Where("message_id = ? AND user_id = ?", m.ID, userID).Exec(ctx); err != nil {
			return nil, fmt.Errorf("remove from box: %w", err)
		}
		left, err := tx.NewSelect().Model((*db.MessageState)(nil)).Where("message_id = ? AND removed_at IS NULL", m.ID).Exists(ctx)
		if err != nil {
			return nil, fmt.Errorf("check boxes: %w", err)
		}
		recount[m.ThreadID] = recount[m.ThreadID] || !left
		if !left {
			k, err := s.purge(ctx, tx, m)
			if err != nil {
				return nil, err
			}
			keys = append(keys, k...)
		}
	}
	for threadID, all := range recount {
		who := userID
		if all {
			who = 0
		}
		if err := s.syncCounters(ctx, tx, threadID, who); err != nil {
			return nil, err
		}
	}
	return keys, nil
}

// purge deletes a message row with its states and attachment rows, and
// returns the storage keys of its files for removal after the commit.
func (s *Service) purge(ctx context.Context, tx bun.Tx, m *db.Message) ([]string, error) {
	var keys []string
	if err := tx.NewSelect().Model((*db.Attachment)(nil)).Column("storage_key").Where("message_id = ?", m.ID).Scan(ctx, &keys); err != nil {
		return nil, fmt.Errorf("load attachment keys: %w", err)
	}
	if _, err := tx.NewDelete().Model((*db.Attachment)(nil)).Where("message_id = ?", m.ID).Exec(ctx); err != nil {
		return nil, fmt.Errorf("delete attachments: %w", err)
	}
	if _, err := tx.NewDelete().Model((*db.MessageState)(nil)).Where("message_id = ?", m.ID).Exec(ctx); err != nil {
		return nil, fmt.Errorf("delete read states: %w", err)
	}
	if _, err := tx.NewDelete().Model((*db.Message)(nil)).Where("id = ?", m.ID).Exec(ctx); err != nil {
		return nil, fmt.Errorf("delete message: %w", err)
	}
	left, err := tx.NewSelect().Model((*db.Message)(nil)).Where("thread_id = ?", m.ThreadID).Exists(ctx)
	if err != nil {
		return nil, fmt.Errorf("check thread: %w", err)
	}
	if !left {
		if _, err := tx.NewDelete().Model((*db.Thread)(nil)).Where("id = ?", m.ThreadID).Exec(ctx); err != nil {
			return nil, fmt.Errorf("delete empty thread: %w", err)
		}
	}
	return keys, nil
}

func (s *Service) removeFiles(keys []string) {
	for _, k := range keys {
		if err := s.Files.Remove(k); err != nil {
			s.Log.Error("remove attachment file", "err", err)
		}
	}
}

func (s *Service) messageFor(ctx context.Context, idb bun.IDB, userID, messageID int64) (*db.Message, error) {
	var m db.Message
	err := idb.NewSelect().Model(&m).Where("id = ?", messageID).
		Where("EXISTS (SELECT 1 FROM message_states AS ms WHERE ms.message_id = message.id AND ms.user_id = ? AND ms.removed_at IS NULL)", userID).
		Scan(ctx)
	if db.ErrNoRows(err) {
		return nil, errNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("load message %d: %w", messageID, err)
	}
	return &m, nil
}

// AddParticipant adds a person by mail address to a thread of the user's
// organisation; they see the whole thread and are invited or notified.
func (s *Service) AddParticipant(ctx context.Context, user *db.User, threadID int64, email string) error {
	err := s.DB.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		th, err := s.threadFor(ctx, tx, user.ID, threadID)
		if err != nil {
			return err
		}
		if user.Kind != db.KindInternal || user.OrgID == nil || *user.OrgID != th.OrgID {
			return apperr.New(apperr.Forbidden, "error.forbidden")
		}
		u, err := s.Invitations.RecipientTx(ctx, tx, email, user.Language)
		if err != nil {
			if e, ok := apperr.As(err); ok && e.Field == "email" {
				return apperr.Field("to", "message.recipient_invalid")
			}
			return err
		}
		exists, err := tx.NewSelect().Model((*db.Participant)(nil)).Where("thread_id = ? AND user_id = ?", th.ID, u.ID).Exists(ctx)
		if err != nil {
			return fmt.Errorf("check participant: %w", err)
		}
		if exists {
			return apperr.Field("to", "message.already_participant")
		}
		now := s.Now().UTC()
		p := &db.Participant{ThreadID: th.ID, UserID: u.ID, AddedBy: &user.ID, AddedAt: now}
		if _, err := tx.NewInsert().Model(p).Exec(ctx); err != nil {
			return fmt.Errorf("add participant: %w", err)
		}
		var ids []int64
		if err := tx.NewSelect().Model((*db.Message)(nil)).Column("id").Where("thread_id = ?", th.ID).Order("id").Scan(ctx, &ids); err != nil {
			return fmt.Errorf("load messages: %w", err)
		}
		// The newcomer sees the whole thread, unread: one statement for the
		// read states, and the counters the inbox reads.
		if _, err := tx.NewRaw("INSERT INTO message_states (message_id, user_id) SELECT m.id, ? FROM messages AS m WHERE m.thread_id = ?",
			u.ID, th.ID).Exec(ctx); err != nil {
			return fmt.Errorf("store read states: %w", err)
		}
		p.UnreadCount, p.BoxCount, p.LastActivityAt = len(ids), len(ids), bun.NullTime{Time: th.LastMessageAt}
		if _, err := tx.NewUpdate().Model(p).Column("unread_count", "box_count", "last_activity_at").WherePK().Exec(ctx); err != nil {
			return fmt.Errorf("count messages of newcomer: %w", err)
		}
		// The notification rule counts what was unread before the newest
		// message.
		p.UnreadCount = max(0, len(ids)-1)
		var org db.Organisation
		if err := tx.NewSelect().Model(&org).Where("id = ?", th.OrgID).Scan(ctx); err != nil {
			return fmt.Errorf("load organisation: %w", err)
		}
		if len(ids) == 0 {
			return nil
		}
		return s.alert(ctx, tx, th, &org, p, u, user, ids[len(ids)-1], now)
	})
	if err != nil {
		return fmt.Errorf("add participant: %w", err)
	}
	s.queued()
	return nil
}

// ResendInvitation sends a participant who never signed up a new link.
func (s *Service) ResendInvitation(ctx context.Context, user *db.User, threadID, participantID int64) error {
	err := s.DB.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		th, err := s.threadFor(ctx, tx, user.ID, threadID)
		if err != nil {
			return err
		}
		if user.Kind != db.KindInternal {
			return apperr.New(apperr.Forbidden, "error.forbidden")
		}
		var u db.User
		err = tx.NewSelect().Model(&u).Where("id = ?", participantID).
			Where("EXISTS (SELECT 1 FROM participants AS p WHERE p.thread_id = ? AND p.user_id = ?)", th.ID, participantID).Scan(ctx)
		if db.ErrNoRows(err) {
			return errNotFound
		}
		if err != nil {
			return fmt.Errorf("load participant: %w", err)
		}
		var org db.Organisation
		if err := tx.NewSelect().Model(&org).Where("id = ?", th.OrgID).Scan(ctx); err != nil {
			return fmt.Errorf("load organisation: %w", err)
		}
		return s.Invitations.InviteTx(ctx, tx, &u, &org, &user.ID)
	})
	if err != nil {
		return fmt.Errorf("resend invitation: %w", err)
	}
	s.queued()
	return nil
}

// Contacts suggests addresses the user wrote with before, for the compose
// form.
func (s *Service) Contacts(ctx context.Context, user *db.User, limit int) ([]string, error) {
	var emails []string
	q := s.DB.NewSelect().TableExpr("participants AS mine").
		ColumnExpr("DISTINCT u.email").
		Join("JOIN participants AS other ON other.thread_id = mine.thread_id AND other.user_id <> mine.user_id").
		Join("JOIN users AS u ON u.id = other.user_id").
		Where("mine.user_id = ?", user.ID)
	if user.Kind != db.KindInternal {
		// External users may only write to internal users, and must not
		// learn the addresses of other outsiders in their threads.
		q = q.Where("u.kind = ?", db.KindInternal)
	}
	err := q.OrderExpr("u.email").Limit(int64(limit)).Scan(ctx, &emails)
	if err != nil {
		return nil, fmt.Errorf("contacts: %w", err)
	}
	return emails, nil
}

// PurgeStaleUploads deletes uploads that never got a message. Only the
// files of rows this statement deleted are removed, so an upload attached
// in the meantime keeps its file.
func (s *Service) PurgeStaleUploads(ctx context.Context) (int, error) {
	cutoff := s.Now().UTC().Add(-StaleUpload)
	var keys []string
	if err := s.DB.NewRaw("DELETE FROM attachments WHERE message_id IS NULL AND created_at < ? RETURNING storage_key", cutoff).Scan(ctx, &keys); err != nil {
		return 0, fmt.Errorf("delete stale uploads: %w", err)
	}
	s.removeFiles(keys)
	return len(keys), nil
}
