package messaging

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"

	"github.com/uptrace/bun"

	"dialoog/db"
)

// SystemSigned is the kind of the system line that carries the sealed PDF
// of a signing request that every signer agreed to; the sender is the
// requester (NULL once they stopped with Dialoog).
const SystemSigned = "signing_sealed"

// ThreadAccess loads a thread the user takes part in and may read, with its
// organisation, in idb (the caller's transaction): the one access check of
// messaging for packages that build on conversations (signing). Anything
// else is NotFound.
func (s *Service) ThreadAccess(ctx context.Context, idb bun.IDB, user *db.User, threadID int64) (*db.Thread, *db.Organisation, error) {
	return s.threadWithOrg(ctx, idb, user.ID, threadID)
}

// Readers returns those of userIDs who take part in the thread and may
// read it (the medical rule), in idb: ThreadAccess for several people at
// once, such as the signers a request is put to.
func (s *Service) Readers(ctx context.Context, idb bun.IDB, threadID int64, userIDs []int64) ([]int64, error) {
	if len(userIDs) == 0 {
		return nil, nil
	}
	var ids []int64
	if err := idb.NewSelect().TableExpr("participants AS p").ColumnExpr("p.user_id").
		Join("JOIN threads AS t ON t.id = p.thread_id").
		Where("p.thread_id = ? AND p.user_id IN (?)", threadID, bun.In(userIDs)).
		Where(medicalRule("t", "p.user_id")).
		Scan(ctx, &ids); err != nil {
		return nil, fmt.Errorf("readers of thread %d: %w", threadID, err)
	}
	return ids, nil
}

// ReadableThreads returns those of threadIDs that user takes part in and
// may read (the medical rule), in idb: ThreadAccess for several
// conversations at once, such as those of a page of the box export.
func (s *Service) ReadableThreads(ctx context.Context, idb bun.IDB, user *db.User, threadIDs []int64) ([]int64, error) {
	if len(threadIDs) == 0 {
		return nil, nil
	}
	var ids []int64
	if err := idb.NewSelect().TableExpr("participants AS p").ColumnExpr("p.thread_id").
		Join("JOIN threads AS t ON t.id = p.thread_id").
		Where("p.user_id = ? AND p.thread_id IN (?)", user.ID, bun.In(threadIDs)).
		Where(medicalRule("t", "p.user_id")).
		Scan(ctx, &ids); err != nil {
		return nil, fmt.Errorf("readable threads of user %d: %w", user.ID, err)
	}
	return ids, nil
}

// AttachmentName opens the stored name of an attachment.
func (s *Service) AttachmentName(a *db.Attachment) (string, error) {
	v, err := s.attachmentView(a)
	if err != nil {
		return "", err
	}
	return v.Name, nil
}

// StoredDocument is a file written to the blob store for a message that a
// transaction is about to add (PostDocumentTx); Discard removes it when
// that transaction did not commit.
type StoredDocument struct {
	key   string
	keyID string
	size  int64
	sum   []byte
	ctype string
}

// StoreDocument writes a file produced by Dialoog itself (a sealed PDF) to
// the blob store, encrypted like an upload, before the transaction that
// adds it to a conversation.
func (s *Service) StoreDocument(ctx context.Context, contentType string, data []byte) (*StoredDocument, error) {
	key := newStorageKey()
	keyID, err := s.writeFile(ctx, key, bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("store document: %w", err)
	}
	sum := sha256.Sum256(data)
	return &StoredDocument{key: key, keyID: keyID, size: int64(len(data)), sum: s.Vault.MAC(sum[:]), ctype: contentType}, nil
}

// Discard removes a stored document whose transaction rolled back.
func (s *Service) Discard(ctx context.Context, d *StoredDocument) {
	if d != nil {
		s.removeUnclaimed(ctx, []storedFile{{d.key, formatStream}})
	}
}

// PostDocumentTx adds a system line of kind with the stored document as its
// attachment to the thread, in the caller's transaction: in every box of
// the conversation, unread for everyone but the actor (it is news: the
// document they agreed to, sealed). actorID may be nil (a sender who
// stopped with Dialoog). It returns the live event to publish.
func (s *Service) PostDocumentTx(ctx context.Context, tx bun.Tx, threadID int64, actorID *int64, kind, name string, d *StoredDocument) (Event, error) {
	now := s.Now().UTC()
	m := &db.Message{ThreadID: threadID, SenderID: actorID, Body: s.sealBody(threadID, ""), KeyID: s.Vault.KeyID(),
		CreatedAt: now, SystemKind: kind}
	if _, err := tx.NewInsert().Model(m).Returning("id").Exec(ctx); err != nil {
		return Event{}, fmt.Errorf("store document line: %w", err)
	}
	name = cleanFilename(name)
	a := &db.Attachment{MessageID: &m.ID, UploaderID: actorID, NameSealed: s.Vault.Seal([]byte(name), nameAD(d.key)), ContentType: d.ctype,
		Size: d.size, StorageKey: d.key, KeyID: d.keyID, SHA256: d.sum, BlobFormat: formatStream, CreatedAt: now}
	if _, err := tx.NewInsert().Model(a).Exec(ctx); err != nil {
		return Event{}, fmt.Errorf("store document attachment: %w", err)
	}
	var actor int64
	if actorID != nil {
		actor = *actorID
	}
	// Counted as any new message is (unread for those who may read it).
	if err := s.countNewMessage(ctx, tx, m.ID, threadID, actor, now); err != nil {
		return Event{}, fmt.Errorf("document line: %w", err)
	}
	var ids []int64
	if err := tx.NewSelect().Model((*db.Participant)(nil)).Column("user_id").Where("thread_id = ?", threadID).Order("id").Scan(ctx, &ids); err != nil {
		return Event{}, fmt.Errorf("load participants: %w", err)
	}
	return Event{Kind: EventMessage, ThreadID: threadID, MessageID: m.ID, UserIDs: ids, ActorID: actor}, nil
}

// StageEvents hands events of a change made in tx to the publisher (see
// Publisher.PublishTx) and returns those to Publish after the commit.
func (s *Service) StageEvents(ctx context.Context, tx bun.Tx, evs []Event) ([]Event, error) {
	return s.stage(ctx, tx, evs)
}

// PublishEvents publishes events of a committed change.
func (s *Service) PublishEvents(ctx context.Context, evs []Event) { s.publish(ctx, evs) }

// WithinFunc is a change that runs in the transaction of a reply (see
// ReplyInput.Within); the live events it returns are published with the
// reply's.
type WithinFunc = func(ctx context.Context, tx bun.Tx, messageID int64) ([]Event, error)

// holdRequests takes, on PostgreSQL, the row locks of the signing requests
// that where selects (with args), in the order of their ids, in a change
// that will lock conversations and then update or delete such requests
// (ON DELETE SET NULL or CASCADE of a message, an attachment, a thread or
// a user they refer to): a request's row comes before its conversation's
// (see the lock order above threadToWrite), as signing takes them
// (lockRequest, then the conversation: Finish adds the sealed PDF).
// FOR UPDATE, which a deletion of the row needs. (SQLite's writers take
// turns.)
func (s *Service) holdRequests(ctx context.Context, tx bun.Tx, where string, args ...any) error {
	if !s.DB.Postgres() {
		return nil
	}
	var ids []int64
	if err := tx.NewSelect().Table("signing_requests").Column("id").Where(where, args...).
		Order("id").For("UPDATE").Scan(ctx, &ids); err != nil {
		return fmt.Errorf("hold signing requests: %w", err)
	}
	return nil
}
