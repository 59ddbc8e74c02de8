package messaging

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"io"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/uptrace/bun"

	"dialoog/apperr"
	"dialoog/auth"
	"dialoog/blob"
	"dialoog/db"
	"dialoog/identity"
)

// Upload stores a file for a message the user is about to send; data is
// the whole file. See UploadFrom.
func (s *Service) Upload(ctx context.Context, who *identity.User, name string, data []byte) (*AttachmentView, error) {
	return s.UploadFrom(ctx, who, name, bytes.NewReader(data))
}

// UploadFrom stores a file for a message the user is about to send,
// reading it from content as it streams into the blob store, encrypted:
// memory does not grow with the file. The type is checked by content (the
// first 512 bytes, and for text every byte), the size while it streams;
// a refused or failed file leaves nothing stored. It waits for its message
// for StaleUpload at most. A full store is apperr NoSpace.
func (s *Service) UploadFrom(ctx context.Context, who *identity.User, name string, content io.Reader) (*AttachmentView, error) {
	user := db.UserOf(who)
	name = cleanFilename(name)
	if _, ok := allowedTypes[strings.ToLower(filepath.Ext(name))]; !ok {
		return nil, apperr.Field("attachments", "attachment.type")
	}
	// Unsent uploads wait up to a day; a cap keeps one account from filling
	// the store with them.
	pending, err := s.DB.NewSelect().Model((*db.Attachment)(nil)).Where("uploader_id = ? AND message_id IS NULL", user.ID).Count(ctx)
	if err != nil {
		return nil, fmt.Errorf("count uploads: %w", err)
	}
	if pending >= MaxPendingUploads {
		return nil, apperr.Field("attachments", "attachment.too_many_pending")
	}
	head := make([]byte, sniffLen)
	n, err := io.ReadFull(content, head)
	switch {
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		head = head[:n]
	case err != nil:
		return nil, fmt.Errorf("read upload: %w", err)
	}
	if len(head) == 0 {
		return nil, apperr.Field("attachments", "attachment.empty")
	}
	whole := len(head) < sniffLen
	ctype, err := detectType(name, head, whole)
	if err != nil {
		return nil, err
	}
	check := &contentCheck{r: io.MultiReader(bytes.NewReader(head), content), hash: sha256.New(),
		text: strings.HasPrefix(ctype, "text/")}
	key := newStorageKey()
	keyID, err := s.writeFile(ctx, key, check)
	switch {
	case errors.Is(err, errTooBig):
		return nil, apperr.Field("attachments", "attachment.too_big")
	case errors.Is(err, errNotText):
		return nil, apperr.Field("attachments", "attachment.type")
	case errors.Is(err, blob.ErrNoSpace):
		return nil, &apperr.Error{Code: apperr.NoSpace, Key: "attachment.no_space", Field: "attachments", Err: err}
	case err != nil:
		return nil, err
	}
	a := &db.Attachment{UploaderID: &user.ID, NameSealed: s.Vault.Seal([]byte(name), nameAD(key)), ContentType: ctype, Size: check.size,
		StorageKey: key, KeyID: keyID, SHA256: s.Vault.MAC(check.hash.Sum(nil)), BlobFormat: formatStream, CreatedAt: s.Now().UTC()}
	if _, err := s.DB.NewInsert().Model(a).Exec(ctx); err != nil {
		s.removeUnclaimed(ctx, []storedFile{{key, formatStream}})
		return nil, fmt.Errorf("store attachment: %w", err)
	}
	return &AttachmentView{ID: a.ID, Name: name, ContentType: a.ContentType, Size: a.Size}, nil
}

// sniffLen is how much of a file content sniffing looks at.
const sniffLen = 512

var (
	errTooBig  = errors.New("attachment larger than the limit")
	errNotText = errors.New("text attachment is not UTF-8")
)

// contentCheck passes an upload through while it counts, hashes and (for
// text) validates it as UTF-8, and fails the read that goes past the size
// limit. It holds no more than an incomplete character between reads.
type contentCheck struct {
	r     io.Reader
	hash  hash.Hash
	size  int64
	text  bool
	carry [utf8.UTFMax]byte // an incomplete character at the end of the last read
	nc    int
}

func (c *contentCheck) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.size += int64(n)
	if c.size > MaxAttachmentSize {
		return 0, errTooBig
	}
	c.hash.Write(p[:n])
	if c.text && !c.validText(p[:n], errors.Is(err, io.EOF)) {
		return 0, errNotText
	}
	return n, err
}

// validText checks the next piece of a text file; done says it is the
// last.
func (c *contentCheck) validText(data []byte, done bool) bool {
	for c.nc > 0 && len(data) > 0 {
		c.carry[c.nc] = data[0]
		c.nc++
		data = data[1:]
		if utf8.FullRune(c.carry[:c.nc]) {
			if _, size := utf8.DecodeRune(c.carry[:c.nc]); size != c.nc || !utf8.Valid(c.carry[:c.nc]) {
				return false
			}
			c.nc = 0
		}
	}
	if c.nc > 0 {
		return !done
	}
	cut := completeRunes(data, done)
	if !utf8.Valid(data[:cut]) {
		return false
	}
	c.nc = copy(c.carry[:], data[cut:])
	return true
}

// PendingUploads returns the user's uploads that wait for a message, by id.
func (s *Service) PendingUploads(ctx context.Context, who *identity.User, ids []int64) ([]AttachmentView, error) {
	user := db.UserOf(who)
	if len(ids) == 0 {
		return nil, nil
	}
	var atts []db.Attachment
	if err := s.DB.NewSelect().Model(&atts).Where("id IN (?) AND uploader_id = ? AND message_id IS NULL", bun.In(ids), user.ID).Order("id").Scan(ctx); err != nil {
		return nil, fmt.Errorf("load uploads: %w", err)
	}
	out := make([]AttachmentView, len(atts))
	for i := range atts {
		v, err := s.attachmentView(&atts[i])
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	return out, nil
}

// DiscardUpload deletes a file the user uploaded and has not sent (its
// chip's "Verwijderen"), row and content at once: a file picked by
// mistake does not wait a day for PurgeStaleUploads, and leaves the cap of
// waiting uploads. Anything else, a sent file or another person's, is
// NotFound.
func (s *Service) DiscardUpload(ctx context.Context, who *identity.User, attachmentID int64) error {
	user := db.UserOf(who)
	var keys []storedFile
	if err := s.DB.NewRaw("DELETE FROM attachments WHERE id = ? AND uploader_id = ? AND message_id IS NULL RETURNING storage_key, blob_format",
		attachmentID, user.ID).Scan(ctx, &keys); err != nil && !db.ErrNoRows(err) {
		return fmt.Errorf("discard upload %d: %w", attachmentID, err)
	}
	if len(keys) == 0 {
		return errNotFound
	}
	s.removeFiles(ctx, keys)
	return nil
}

// Download opens an attachment of a message the user can see, or an upload
// of their own, as a stream the caller closes. Reading it may outlast the
// request: pass a context that lives as long as the reading.
func (s *Service) Download(ctx context.Context, who *identity.User, attachmentID int64) (*AttachmentView, io.ReadCloser, error) {
	user := db.UserOf(who)
	var a db.Attachment
	err := s.DB.NewSelect().Model(&a).Where("attachment.id = ?", attachmentID).
		Where(`(attachment.message_id IS NULL AND attachment.uploader_id = ?) OR EXISTS (
  SELECT 1 FROM message_states AS ms JOIN messages AS m ON m.id = ms.message_id JOIN threads AS t ON t.id = m.thread_id
  WHERE ms.message_id = attachment.message_id AND ms.user_id = ? AND ms.removed_at IS NULL AND `+medicalRule("t", "?")+`)`,
			user.ID, user.ID, user.ID, user.ID).
		Scan(ctx)
	if db.ErrNoRows(err) {
		return nil, nil, errNotFound
	}
	if err != nil {
		return nil, nil, fmt.Errorf("load attachment: %w", err)
	}
	v, err := s.attachmentView(&a)
	if err != nil {
		return nil, nil, err
	}
	rc, err := s.Files.Open(ctx, a.StorageKey, a.KeyID, a.BlobFormat)
	if err != nil {
		return nil, nil, fmt.Errorf("attachment %d: %w", a.ID, err)
	}
	return &v, rc, nil
}

// DeleteForEveryone removes a message the user sent, while nobody else has
// read it; its content and files are deleted from storage.
func (s *Service) DeleteForEveryone(ctx context.Context, who *identity.User, messageID int64) error {
	user := db.UserOf(who)
	var keys []storedFile
	var later []Event
	err := s.DB.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		m, caseClosed, err := s.messageToDelete(ctx, tx, user.ID, messageID, true)
		if err != nil {
			return err
		}
		if m.SenderID == nil || *m.SenderID != user.ID || m.IsAutoReply || m.SystemKind != "" {
			return apperr.New(apperr.Forbidden, "message.not_yours")
		}
		if s.DB.Postgres() {
			// A page marking it read at this moment holds its reader's
			// state: wait for it, so that the check below sees the read
			// (a read message is not taken back), and a page after this
			// lock finds the message gone. (SQLite's writers take turns.)
			var locked []int64
			if err := tx.NewSelect().Model((*db.MessageState)(nil)).Column("user_id").Where("message_id = ?", m.ID).
				For("UPDATE").Scan(ctx, &locked); err != nil {
				return fmt.Errorf("lock read states: %w", err)
			}
		}
		read, err := tx.NewSelect().Model((*db.MessageState)(nil)).
			Where("message_id = ? AND user_id <> ? AND read_at IS NOT NULL AND history = FALSE", m.ID, user.ID).Exists(ctx)
		if err != nil {
			return fmt.Errorf("check read: %w", err)
		}
		if read {
			return apperr.New(apperr.Conflict, "message.already_read")
		}
		// A message whose PDF was put to signers stays: the request, and
		// the evidence of any agreement, refer to its document. So this
		// deletion changes no request (one refers only to the message it
		// was made with, in that message's transaction, or to the sealed
		// PDF's line, refused above as a system line) and takes no request
		// lock before the case's and the conversation's (holdRequests,
		// which would also go against "case, then request").
		asked, err := tx.NewSelect().Table("signing_requests").Where("message_id = ?", m.ID).Exists(ctx)
		if err != nil {
			return fmt.Errorf("check signing requests: %w", err)
		}
		if asked {
			return apperr.New(apperr.Conflict, "signing.message_has_request")
		}
		if caseClosed {
			return errCaseClosed
		}
		var ps []int64
		if err := tx.NewSelect().Model((*db.Participant)(nil)).Column("user_id").Where("thread_id = ?", m.ThreadID).Scan(ctx, &ps); err != nil {
			return fmt.Errorf("load participants: %w", err)
		}
		ev := Event{Kind: EventDeleted, ThreadID: m.ThreadID, MessageID: m.ID, UserIDs: ps, ActorID: user.ID}
		// The message leaves the counters of everyone who has it in
		// their box, then goes.
		var states []struct {
			UserID int64
			ReadAt bun.NullTime
		}
		if err := tx.NewSelect().Model((*db.MessageState)(nil)).Column("user_id", "read_at").
			Where("message_id = ? AND removed_at IS NULL", m.ID).Scan(ctx, &states); err != nil && !db.ErrNoRows(err) {
			return fmt.Errorf("load read states: %w", err)
		}
		taken := make(map[int64]countDelta, len(states))
		for _, st := range states {
			taken[st.UserID] = taken[st.UserID].add(st.ReadAt.IsZero())
		}
		if err := takeCounts(ctx, tx, m.ThreadID, taken); err != nil {
			return err
		}
		if keys, err = s.purge(ctx, tx, m); err != nil {
			return err
		}
		files, leaving, err := s.withdrawInvitees(ctx, tx, ps, m.CreatedAt)
		if err != nil {
			return err
		}
		keys = append(keys, files...)
		later, err = s.stage(ctx, tx, append([]Event{ev}, leaving...))
		return err
	})
	if err != nil {
		return fmt.Errorf("delete for everyone: %w", err)
	}
	s.removeFiles(ctx, keys)
	s.publish(ctx, later)
	return nil
}

// withdrawInvitees deletes, in the transaction of a deletion for everyone
// of a message written at the time at, the invited people among userIDs
// (the conversation's participants) whom that message brought in and who
// now have nothing in Dialoog: it was their only conversation (it went
// with the message), they were invited by nobody before it, never used a
// link or had a session, and are in no team, no case and not an admin.
// Their sign-up link then no longer opens an account for a conversation
// that no longer exists (a message to a mistyped address, deleted at once),
// and the invitation mail still queued is withdrawn. They are deleted as
// the nightly cleanup deletes an invited person who takes part in nothing
// (deleteAccount), under the rows' locks, after the conversation's (the
// order of every change in a conversation). It returns the files and
// events of the deletions.
func (s *Service) withdrawInvitees(ctx context.Context, tx bun.Tx, userIDs []int64, at time.Time) ([]storedFile, []Event, error) {
	if len(userIDs) == 0 {
		return nil, nil, nil
	}
	var us []db.User
	q := tx.NewSelect().Model(&us).ModelTableExpr("users AS u").ColumnExpr(s.DB.Columns(db.User{}, "u")).
		Where("u.id IN (?)", bun.In(userIDs)).Where(invitedOnlyBy, at.UTC()).OrderExpr("u.id")
	if s.DB.Postgres() {
		q = q.For("UPDATE OF u")
	}
	if err := q.Scan(ctx); err != nil && !db.ErrNoRows(err) {
		return nil, nil, fmt.Errorf("load invited people of the message: %w", err)
	}
	var keys []storedFile
	var later []Event
	for i := range us {
		k, evs, err := s.deleteAccount(ctx, tx, &us[i], AuditInvitationWithdrawn)
		if err != nil {
			return nil, nil, err
		}
		keys = append(keys, k...)
		later = append(later, evs...)
	}
	return keys, later, nil
}

// invitedOnlyBy is withdrawInvitees' rule: an invited person with nothing
// in Dialoog but the invitations of a message written at the argument.
// Each term through an index of its column.
const invitedOnlyBy = `u.status = 'invited' AND u.is_admin = FALSE
  AND NOT EXISTS (SELECT 1 FROM participants AS p WHERE p.user_id = u.id)
  AND NOT EXISTS (SELECT 1 FROM team_members AS tm WHERE tm.user_id = u.id)
  AND NOT EXISTS (SELECT 1 FROM cases AS c WHERE c.subject_id = u.id)
  AND NOT EXISTS (SELECT 1 FROM invitations AS i WHERE i.user_id = u.id AND (i.created_at < ? OR i.used_at IS NOT NULL))
  AND NOT EXISTS (SELECT 1 FROM sessions AS se WHERE se.user_id = u.id)`

// RemoveFromBox removes a message from the user's own box. When nobody has
// it in their box any more, its content and files are deleted.
func (s *Service) RemoveFromBox(ctx context.Context, who *identity.User, messageID int64) error {
	user := db.UserOf(who)
	var keys []storedFile
	err := s.DB.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		// The last box to lose the message deletes it (and perhaps the
		// emptied conversation), which changes or deletes the requests
		// that refer to them: their rows come before the conversation's.
		if err := s.holdRequests(ctx, tx, `thread_id = (SELECT m.thread_id FROM messages AS m WHERE m.id = ?)
  AND EXISTS (SELECT 1 FROM message_states AS ms WHERE ms.message_id = ? AND ms.user_id = ?)`, messageID, messageID, user.ID); err != nil {
			return err
		}
		m, _, err := s.messageToDelete(ctx, tx, user.ID, messageID, false)
		if err != nil {
			return err
		}
		keys, err = s.removeForUser(ctx, tx, user.ID, []*db.Message{m}, false)
		return err
	})
	if err != nil {
		return fmt.Errorf("remove message: %w", err)
	}
	s.removeFiles(ctx, keys)
	return nil
}

// RemoveThreadFromBox removes every message of a thread from the user's
// box; a later message brings the thread back.
func (s *Service) RemoveThreadFromBox(ctx context.Context, who *identity.User, threadID int64) error {
	user := db.UserOf(who)
	var keys []storedFile
	err := s.DB.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		// As in RemoveFromBox: the requests of the conversation first.
		if err := s.holdRequests(ctx, tx, "thread_id = ? AND EXISTS (SELECT 1 FROM participants AS p WHERE p.thread_id = ? AND p.user_id = ?)",
			threadID, threadID, user.ID); err != nil {
			return err
		}
		if _, err := s.threadToDelete(ctx, tx, user.ID, threadID); err != nil {
			return err
		}
		// Their ids only: a removal needs nothing else of them.
		var msgs []*db.Message
		if err := tx.NewSelect().Model(&msgs).Column("id", "thread_id").Where("thread_id = ?", threadID).Scan(ctx); err != nil {
			return fmt.Errorf("load messages: %w", err)
		}
		var err error
		if keys, err = s.removeForUser(ctx, tx, user.ID, msgs, false); err != nil {
			return err
		}
		_, err = tx.NewUpdate().Model((*db.Participant)(nil)).Set("removed_at = ?", s.Now().UTC()).
			Where("thread_id = ? AND user_id = ?", threadID, user.ID).Exec(ctx)
		return err
	})
	if err != nil {
		return fmt.Errorf("remove thread: %w", err)
	}
	s.removeFiles(ctx, keys)
	return nil
}

// threadToDelete is threadFor in a transaction that deletes messages of
// the thread: on PostgreSQL it also takes the thread's row lock, as
// messageToDelete does. One statement as threadFor.
func (s *Service) threadToDelete(ctx context.Context, tx bun.Tx, userID, threadID int64) (*db.Thread, error) {
	if !s.DB.Postgres() {
		return s.threadFor(ctx, tx, userID, threadID)
	}
	th, _, err := s.loadThreadWithOrg(ctx, tx, s.DB.Text("messaging.threadToDelete", func() string { return threadForQuery(s.DB) + " FOR UPDATE OF t" }), userID, threadID)
	return th, err
}

// removeForUser takes msgs out of the user's box in tx, and deletes those
// nobody keeps any more (purge, with the conversations they empty). Only
// the user's own counters change: a message that goes was in no other box
// (it would stay), so no one else's counts held it. They lose what the
// removal took out of the box (takeCounts, before the purge, whose
// emptied conversations then take the rest out of the totals), unless the
// user is leaving: their rows go with the account in the same
// transaction.
func (s *Service) removeForUser(ctx context.Context, tx bun.Tx, userID int64, msgs []*db.Message, leaving bool) ([]storedFile, error) {
	now := s.Now().UTC()
	taken := map[int64]countDelta{} // the user's, by thread
	var gone []*db.Message
	for chunk := range slices.Chunk(msgs, purgeChunk) {
		ids := make([]int64, len(chunk))
		threadOf := make(map[int64]int64, len(chunk))
		for i, m := range chunk {
			ids[i] = m.ID
			threadOf[m.ID] = m.ThreadID
		}
		// What leaves the box: the states still in it, and which of them
		// were unread.
		var out []struct {
			MessageID int64
			ReadAt    bun.NullTime
		}
		if err := tx.NewRaw(`UPDATE message_states SET removed_at = ? WHERE user_id = ? AND message_id IN (?) AND removed_at IS NULL
RETURNING message_id, read_at`, now, userID, bun.In(ids)).Scan(ctx, &out); err != nil && !db.ErrNoRows(err) {
			return nil, fmt.Errorf("remove from box: %w", err)
		}
		for _, o := range out {
			tid := threadOf[o.MessageID]
			taken[tid] = taken[tid].add(o.ReadAt.IsZero())
		}
		// The messages that stay: in someone else's box still, or (a
		// message whose PDF was put to signers) while someone else who
		// received it is still here: they see the request also after
		// removing the message (signing's receivedRule), and read and
		// agree to its document.
		var kept []int64
		if err := tx.NewRaw(`SELECT ms.message_id FROM message_states AS ms WHERE ms.message_id IN (?) AND ms.removed_at IS NULL
UNION SELECT sr.message_id FROM signing_requests AS sr WHERE sr.message_id IN (?)
  AND EXISTS (SELECT 1 FROM message_states AS ms WHERE ms.message_id = sr.message_id AND ms.user_id <> ?)`,
			bun.In(ids), bun.In(ids), userID).Scan(ctx, &kept); err != nil && !db.ErrNoRows(err) {
			return nil, fmt.Errorf("check boxes: %w", err)
		}
		stays := make(map[int64]bool, len(kept))
		for _, id := range kept {
			stays[id] = true
		}
		for _, m := range chunk {
			if !stays[m.ID] {
				gone = append(gone, m)
			}
		}
	}
	if !leaving {
		for _, tid := range slices.Sorted(maps.Keys(taken)) {
			if err := takeCounts(ctx, tx, tid, map[int64]countDelta{userID: taken[tid]}); err != nil {
				return nil, err
			}
		}
	}
	return s.purge(ctx, tx, gone...)
}

// purgeChunk is how many messages one statement of a removal or a purge
// names.
const purgeChunk = 500

// countDelta is what a change takes out of one person's counters of one
// conversation: messages from their box, and how many of those were
// unread.
type countDelta struct{ box, unread int64 }

// add counts one message more, unread or not.
func (d countDelta) add(unread bool) countDelta {
	d.box++
	if unread {
		d.unread++
	}
	return d
}

// takeCounts takes what left the boxes of the thread (by user) out of
// their participant rows' counters, and the unread out of their users'
// totals where the totals count the thread (the medical rule): the
// participants' rows first, then the users', in the order of every change
// in a conversation. Two statements whatever the number of people, and
// what a removal costs does not grow with the person's box (a recount of
// the thread from the read states went through their index by user).
func takeCounts(ctx context.Context, tx bun.Tx, threadID int64, taken map[int64]countDelta) error {
	users := slices.Sorted(maps.Keys(taken))
	var box, unread strings.Builder
	var boxArgs, unreadArgs []any
	var unreadUsers []int64
	for _, u := range users {
		d := taken[u]
		if d.box == 0 {
			continue
		}
		box.WriteString(" WHEN ? THEN ?")
		boxArgs = append(boxArgs, u, d.box)
		if d.unread > 0 {
			unread.WriteString(" WHEN ? THEN ?")
			unreadArgs = append(unreadArgs, u, d.unread)
			unreadUsers = append(unreadUsers, u)
		}
	}
	if len(boxArgs) == 0 {
		return nil
	}
	unreadCase := "0"
	if len(unreadArgs) > 0 {
		unreadCase = "CASE user_id" + unread.String() + " ELSE 0 END"
	}
	args := append(append(append([]any{}, boxArgs...), unreadArgs...), threadID, bun.In(users))
	if _, err := tx.NewRaw(`UPDATE participants SET box_count = box_count - CASE user_id`+box.String()+` ELSE 0 END,
unread_count = unread_count - `+unreadCase+` WHERE thread_id = ? AND user_id IN (?)`, args...).Exec(ctx); err != nil {
		return fmt.Errorf("take out of counters: %w", err)
	}
	if len(unreadUsers) == 0 {
		return nil
	}
	if _, err := tx.NewRaw(`UPDATE users SET unread_total = unread_total - CASE id`+unread.String()+` ELSE 0 END
WHERE id IN (?) AND EXISTS (SELECT 1 FROM threads AS t WHERE t.id = ? AND `+medicalRule("t", "users.id")+`)`,
		append(unreadArgs, bun.In(unreadUsers), threadID)...).Exec(ctx); err != nil {
		return fmt.Errorf("take out of unread totals: %w", err)
	}
	return nil
}

// purge deletes message rows with their states and attachment rows, a
// chunk of them a statement, then the threads they emptied (dropEmpty),
// and returns the storage keys of their files for removal after the
// commit.
func (s *Service) purge(ctx context.Context, tx bun.Tx, msgs ...*db.Message) ([]storedFile, error) {
	var keys []storedFile
	threads := map[int64]bool{}
	for chunk := range slices.Chunk(msgs, purgeChunk) {
		ids := make([]int64, len(chunk))
		for i, m := range chunk {
			ids[i] = m.ID
			threads[m.ThreadID] = true
		}
		var k []storedFile
		if err := tx.NewSelect().Model((*db.Attachment)(nil)).Column("storage_key", "blob_format").Where("message_id IN (?)", bun.In(ids)).Scan(ctx, &k); err != nil && !db.ErrNoRows(err) {
			return nil, fmt.Errorf("load attachment keys: %w", err)
		}
		keys = append(keys, k...)
		if _, err := tx.NewDelete().Model((*db.Attachment)(nil)).Where("message_id IN (?)", bun.In(ids)).Exec(ctx); err != nil {
			return nil, fmt.Errorf("delete attachments: %w", err)
		}
		if _, err := tx.NewDelete().Model((*db.MessageState)(nil)).Where("message_id IN (?)", bun.In(ids)).Exec(ctx); err != nil {
			return nil, fmt.Errorf("delete read states: %w", err)
		}
		if _, err := tx.NewDelete().Model((*db.Message)(nil)).Where("id IN (?)", bun.In(ids)).Exec(ctx); err != nil {
			return nil, fmt.Errorf("delete messages: %w", err)
		}
	}
	if err := s.dropEmpty(ctx, tx, slices.Collect(maps.Keys(threads))...); err != nil {
		return nil, err
	}
	return keys, nil
}

// dropEmpty deletes the threads that have no message left, with their
// participants; a thread with messages left gets the time of its newest
// one back. It works on a chunk of threads a statement (purgeChunk), in
// the order of their ids, so that a deletion that empties many
// conversations (a stop, retention) costs a few statements per chunk.
func (s *Service) dropEmpty(ctx context.Context, tx bun.Tx, threadIDs ...int64) error {
	for chunk := range slices.Chunk(slices.Sorted(slices.Values(threadIDs)), purgeChunk) {
		left, err := s.withMessages(ctx, tx, chunk)
		if err != nil {
			return err
		}
		empty := slices.DeleteFunc(slices.Clone(chunk), func(id int64) bool { return left[id] })
		if len(empty) > 0 && s.DB.Postgres() {
			// A reply being sent holds the thread's row (it sets its
			// time): wait for it and look again, so that the thread stays
			// with it, instead of deleting the thread after the reply's
			// commit and the committed reply with it (ON DELETE CASCADE).
			// A reply that comes after this lock waits, and then finds
			// the thread gone. (A deletion from a box or for everyone
			// holds it already, see messageToDelete, and a stop holds all
			// of the person's, holdOwnThreads; SQLite's writers take
			// turns.)
			var locked []int64
			if err := tx.NewSelect().Model((*db.Thread)(nil)).Column("id").Where("id IN (?)", bun.In(empty)).
				Order("id").For("UPDATE").Scan(ctx, &locked); err != nil {
				return fmt.Errorf("lock threads: %w", err)
			}
			again, err := s.withMessages(ctx, tx, empty)
			if err != nil {
				return err
			}
			for id := range again {
				left[id] = true
			}
			empty = slices.DeleteFunc(empty, func(id int64) bool { return left[id] })
		}
		if len(left) > 0 {
			// A thread's last activity is its newest message: a deleted
			// newest one takes the time back to the one before it, for
			// the inbox and for retention.
			kept := slices.Sorted(maps.Keys(left))
			if _, err := tx.NewRaw(`UPDATE threads SET last_message_at = `+newestMessage("threads.id")+`
WHERE id IN (?) AND last_message_at > `+newestMessage("threads.id"), bun.In(kept)).Exec(ctx); err != nil {
				return fmt.Errorf("touch threads: %w", err)
			}
			if _, err := tx.NewRaw(`UPDATE participants SET last_activity_at = `+newestMessage("participants.thread_id")+`
WHERE thread_id IN (?) AND last_activity_at > `+newestMessage("participants.thread_id"), bun.In(kept)).Exec(ctx); err != nil {
				return fmt.Errorf("touch participants: %w", err)
			}
		}
		if len(empty) == 0 {
			continue
		}
		// The participants go with the threads: their unread counts leave
		// their totals first (only what the totals count: the medical
		// rule).
		if err := uncountThreads(ctx, tx, empty); err != nil {
			return err
		}
		if _, err := tx.NewDelete().Model((*db.Thread)(nil)).Where("id IN (?)", bun.In(empty)).Exec(ctx); err != nil {
			return fmt.Errorf("delete empty threads: %w", err)
		}
	}
	return nil
}

// uncountThreads takes the unread counts of the threads' participants
// out of their users' totals, for the threads each may read (the totals
// count nothing else: medicalRule). Summed per user in one pass over those
// rows (UPDATE ... FROM): a chunk of threads costs its participant rows,
// where a subquery per user looked up every thread of the chunk for each
// of them.
func uncountThreads(ctx context.Context, tx bun.Tx, threadIDs []int64) error {
	if _, err := tx.NewRaw(`UPDATE users SET unread_total = unread_total - c.n
FROM (SELECT p.user_id, SUM(p.unread_count) AS n FROM participants AS p JOIN threads AS t ON t.id = p.thread_id
  WHERE p.thread_id IN (?) AND p.unread_count > 0 AND `+medicalRule("t", "p.user_id")+` GROUP BY p.user_id) AS c
WHERE users.id = c.user_id`, bun.In(threadIDs)).Exec(ctx); err != nil {
		return fmt.Errorf("uncount empty threads: %w", err)
	}
	return nil
}

// newestMessage is the time of the newest message of the thread whose id
// is the SQL expression thread.
func newestMessage(thread string) string {
	return "(SELECT MAX(m.created_at) FROM messages AS m WHERE m.thread_id = " + thread + ")"
}

// withMessages returns which of the threads have a message.
func (s *Service) withMessages(ctx context.Context, tx bun.Tx, threadIDs []int64) (map[int64]bool, error) {
	var ids []int64
	if err := tx.NewSelect().TableExpr("threads AS t").Column("t.id").Where("t.id IN (?)", bun.In(threadIDs)).
		Where("EXISTS (SELECT 1 FROM messages AS m WHERE m.thread_id = t.id)").Scan(ctx, &ids); err != nil && !db.ErrNoRows(err) {
		return nil, fmt.Errorf("check threads: %w", err)
	}
	left := make(map[int64]bool, len(ids))
	for _, id := range ids {
		left[id] = true
	}
	return left, nil
}

// removeFiles deletes the contents of attachments whose rows are gone.
// It runs after the commit, also when the request ended meanwhile. The
// deleting transaction queued each one (blob_deletions, by a trigger); a
// removed file leaves the queue, one that fails to be deleted is logged
// and stays queued for the daily cleanup (removeLateFiles).
func (s *Service) removeFiles(ctx context.Context, files []storedFile) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	defer cancel()
	s.removeQueued(ctx, queueDeleted, files)
}

// removeUnclaimed deletes files written for attachment rows that were not
// stored after all (their transaction failed), and their records of the
// write (blob_writes, see writeFile); what it fails to delete the daily
// cleanup removes.
func (s *Service) removeUnclaimed(ctx context.Context, files []storedFile) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	defer cancel()
	s.removeQueued(ctx, queueWritten, files)
}

// The tables that hold files to remove: the contents of deleted
// attachments (filled by a trigger, migration 0045) and the files written
// for attachment rows still to come (writeFile, migration 0047).
const (
	queueDeleted = "blob_deletions"
	queueWritten = "blob_writes"
)

// removeQueued deletes files from the store and their rows of queue; it
// returns how many it removed.
func (s *Service) removeQueued(ctx context.Context, queue string, files []storedFile) int {
	removed := make([]string, 0, len(files))
	for _, f := range files {
		if err := s.Files.Remove(ctx, f.StorageKey, f.BlobFormat); err != nil {
			s.Log.Error("remove attachment file", "err", err)
			continue
		}
		removed = append(removed, f.StorageKey)
	}
	for batch := range slices.Chunk(removed, 500) {
		if _, err := s.DB.NewDelete().Table(queue).Where("storage_key IN (?)", bun.In(batch)).Exec(ctx); err != nil {
			s.Log.Warn("clear removed files from their queue", "queue", queue, "err", err)
		}
	}
	return len(removed)
}

// removeLateFiles removes the files of deleted attachments that the
// commit deleting them did not remove (the store failed, or the process
// died first), and the files written for an attachment row that was never
// stored, and returns how many it removed. A row is queued only once its
// attachment's deletion committed, so removing its file is right at any
// time; one the commit's own removal is deleting meanwhile is deleted
// twice, which a store takes as done. A write is taken only once it is
// older than WriteGrace: until then its attachment row may still come.
func (s *Service) removeLateFiles(ctx context.Context) (int, error) {
	cutoff := s.Now().UTC().Add(-WriteGrace)
	total := 0
	for _, q := range []struct {
		queue string
		list  func(*[]storedFile) error
	}{
		{queueDeleted, func(files *[]storedFile) error {
			return s.DB.NewSelect().Table(queueDeleted).Column("storage_key", "blob_format").
				OrderExpr("queued_at, storage_key").Limit(auth.CleanupBatch).Scan(ctx, files)
		}},
		{queueWritten, func(files *[]storedFile) error {
			return s.DB.NewSelect().Table(queueWritten).Column("storage_key", "blob_format").Where("started_at < ?", cutoff).
				OrderExpr("started_at, storage_key").Limit(auth.CleanupBatch).Scan(ctx, files)
		}},
	} {
		for {
			var files []storedFile
			if err := q.list(&files); err != nil {
				return total, fmt.Errorf("list files to remove: %w", err)
			}
			n := s.removeQueued(ctx, q.queue, files)
			total += n
			if len(files) < auth.CleanupBatch || n == 0 {
				break
			}
		}
	}
	return total, nil
}

// WriteGrace is how long a file written to the store may wait for the
// attachment row that claims it before the daily cleanup takes it for
// the remains of a write that never finished: longer than an upload may
// take (its read deadline renews for at most two hours).
const WriteGrace = 3 * time.Hour

// writeFile writes a file for an attachment row still to be stored. The
// write is recorded first (blob_writes), so that a file whose row never
// comes (the process died in between) is removed by the daily cleanup;
// storing the attachment row with key clears the record (a trigger,
// migration 0047).
func (s *Service) writeFile(ctx context.Context, key string, r io.Reader) (keyID string, err error) {
	err = s.DB.Write(ctx, func(ctx context.Context) error {
		_, err := s.DB.NewRaw(`INSERT INTO `+queueWritten+` (storage_key, blob_format, started_at) VALUES (?, ?, ?)`,
			key, formatStream, s.Now().UTC()).Exec(ctx)
		return err
	})
	if err != nil {
		return "", fmt.Errorf("record file write: %w", err)
	}
	if keyID, err = s.Files.Write(ctx, key, r); err != nil {
		// Whatever of it the store kept, and the record, go now.
		s.removeUnclaimed(ctx, []storedFile{{key, formatStream}})
	}
	return keyID, err
}

// MessageInBox reports whether message messageID of a conversation is in
// the user's box: a message route's check, by the read state's key, so it
// costs the same in a conversation of any length (BenchmarkMessageInBox)
// and loads no page (no open of a medical conversation). NotFound for a
// conversation the user does not take part in or may not read.
func (s *Service) MessageInBox(ctx context.Context, who *identity.User, threadID, messageID int64) (bool, error) {
	user := db.UserOf(who)
	if _, err := s.threadFor(ctx, s.DB, user.ID, threadID); err != nil {
		return false, err
	}
	ok, err := s.DB.NewSelect().TableExpr("message_states AS ms").Join("JOIN messages AS m ON m.id = ms.message_id").
		Where("ms.message_id = ? AND ms.user_id = ? AND ms.removed_at IS NULL AND m.thread_id = ?", messageID, user.ID, threadID).Exists(ctx)
	if err != nil {
		return false, fmt.Errorf("message %d in box: %w", messageID, err)
	}
	return ok, nil
}

// BoxHasMessages reports whether anything of a conversation is left in the
// user's box (after a removal), from their participant row's count.
// NotFound as MessageInBox.
func (s *Service) BoxHasMessages(ctx context.Context, who *identity.User, threadID int64) (bool, error) {
	user := db.UserOf(who)
	if _, err := s.threadFor(ctx, s.DB, user.ID, threadID); err != nil {
		return false, err
	}
	ok, err := s.DB.NewSelect().Model((*db.Participant)(nil)).
		Where("thread_id = ? AND user_id = ? AND box_count > 0", threadID, user.ID).Exists(ctx)
	if err != nil {
		return false, fmt.Errorf("messages of thread %d in box: %w", threadID, err)
	}
	return ok, nil
}

// messageToDelete loads a message in the user's box (and a conversation
// they may read) for its deletion in tx, from their box or for everyone.
// On PostgreSQL the same statement takes the row lock of the message's
// thread, before anything else of the deletion, so that deletions in a
// thread take turns (with each other, and with replies and participants
// added, see threadToWrite) and each one after the first sees what the
// one before it did: two deletions of a conversation's last two messages
// at once delete the conversation, as one after the other does, instead
// of each finding the other's message still there and leaving an empty
// conversation with counts of messages that are gone. FOR UPDATE, the
// lock dropEmpty needs to delete the thread. (SQLite's writers take
// turns.)
//
// forEveryone also reads whether the thread's case is closed (closed),
// which refuses a deletion for everyone: on PostgreSQL under a share lock
// on the case's row, taken before the thread's (the order of replies,
// see threadToWrite, and of the retention of closed cases), so that the
// deletion and closing the case take turns: a deletion that found the
// case open commits before the close goes on, and the close does not see
// the message; one that comes after the close's update waits for its
// commit and finds the case closed. Removing from one's own box stays
// possible in a closed case and takes no lock on it.
func (s *Service) messageToDelete(ctx context.Context, tx bun.Tx, userID, messageID int64, forEveryone bool) (m *db.Message, closed bool, err error) {
	var row messageRow
	q := tx.NewSelect().Model(&row).ColumnExpr("message.*").Join("JOIN threads AS t ON t.id = message.thread_id").Where("message.id = ?", messageID).
		Where("EXISTS (SELECT 1 FROM message_states AS ms WHERE ms.message_id = message.id AND ms.user_id = ? AND ms.removed_at IS NULL)", userID).
		Where(medicalRule("t", "?"), medicalArgs(userID)...)
	if forEveryone {
		lock := ""
		if s.DB.Postgres() {
			lock = " FOR SHARE"
		}
		q = q.ColumnExpr("COALESCE((SELECT c.status FROM cases AS c WHERE c.id = t.case_id" + lock + "), '') AS case_status")
	}
	if s.DB.Postgres() {
		q = q.For("UPDATE OF t")
	}
	err = q.Scan(ctx)
	if db.ErrNoRows(err) {
		return nil, false, errNotFound
	}
	if err != nil {
		return nil, false, fmt.Errorf("load message %d: %w", messageID, err)
	}
	return &row.Message, row.CaseStatus == db.CaseClosed, nil
}

// messageRow is a message with the status of its thread's case
// (messageToDelete).
type messageRow struct {
	db.Message `bun:",extend"`
	CaseStatus string
}

// participantAddress checks the one address of "Deelnemer toevoegen":
// asked for when empty, refused when it is none.
func participantAddress(email string) *apperr.Error {
	if strings.TrimSpace(email) == "" {
		return apperr.Field("to", "participant.email_required")
	}
	if _, err := auth.NormalizeEmail(email); auth.HiddenEmail(err) {
		return apperr.Field("to", "email.hidden_chars")
	} else if err != nil {
		return apperr.Field("to", "participant.email_invalid")
	}
	return nil
}

// History choices when adding a participant.
const (
	WithHistory = "all" // the newcomer reads the whole conversation
	FromNowOn   = "new" // the newcomer reads what is written from now on
)

// SystemParticipantAdded is the system line "X is toegevoegd door Y".
const SystemParticipantAdded = "participant_added"

// AddInput is "Deelnemer toevoegen" as typed.
type AddInput struct {
	Email   string
	History string // WithHistory or FromNowOn; the internal user must choose
}

// AddParticipant adds someone to a conversation: an internal user of its
// organisation chooses whether the newcomer reads the history (the
// messages the adder received) or only what follows. Everyone in the
// conversation gets a system line saying who added whom (unread for the
// newcomer only), the newcomer is invited or notified, and an audit row is
// written.
func (s *Service) AddParticipant(ctx context.Context, who *identity.User, threadID int64, in AddInput) error {
	user := db.UserOf(who)
	var later []Event
	err := s.DB.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		th, org, err := s.threadToWrite(ctx, tx, user.ID, threadID)
		if err != nil {
			return err
		}
		if th.CaseClosed {
			return errCaseClosed
		}
		if !mayInvite(user, th.OrgID) {
			return apperr.New(apperr.Forbidden, "error.forbidden")
		}
		var errs apperr.Fields
		if err := participantAddress(in.Email); err != nil {
			errs = append(errs, err)
		}
		if in.History != WithHistory && in.History != FromNowOn {
			errs = append(errs, apperr.Field("history", "participant.history_required"))
		}
		if len(errs) > 0 {
			return errs
		}
		u, created, err := s.Invitations.RecipientTxCreated(ctx, tx, in.Email, user.Language)
		if err != nil {
			if e, ok := apperr.As(err); ok && e.Field == "email" {
				return apperr.Field("to", "participant.email_invalid")
			}
			return err
		}
		if created {
			if err := s.countNewAddress(ctx, tx, user); err != nil {
				return err
			}
		}
		if u.Status == db.StatusDisabled {
			// As in a new conversation: a blocked account is written to
			// in none.
			return apperr.Field("to", "message.recipient_disabled")
		}
		exists, err := tx.NewSelect().Model((*db.Participant)(nil)).Where("thread_id = ? AND user_id = ?", th.ID, u.ID).Exists(ctx)
		if err != nil {
			return fmt.Errorf("check participant: %w", err)
		}
		if exists {
			return apperr.Field("to", "message.already_participant")
		}
		if th.Medical {
			if err := refuseUncleared(ctx, tx, u, th.OrgID, "to"); err != nil {
				return err
			}
		}
		now := s.Now().UTC()
		p := &db.Participant{ThreadID: th.ID, UserID: u.ID, AddedBy: &user.ID, AddedAt: now}
		if _, err := tx.NewInsert().Model(p).Exec(ctx); err != nil {
			return fmt.Errorf("add participant: %w", err)
		}
		n := 0
		if in.History == WithHistory {
			// The history, unread: one statement for the read states. It
			// is the history the adder has, no more: someone added with
			// only the messages from now on cannot hand on what came
			// before (to another address of theirs, say), and a message
			// the adder removed from their box is not theirs to hand on.
			res, err := tx.NewRaw(`INSERT INTO message_states (message_id, user_id) SELECT m.id, ? FROM messages AS m
WHERE m.thread_id = ? AND EXISTS (SELECT 1 FROM message_states AS ms WHERE ms.message_id = m.id AND ms.user_id = ? AND ms.removed_at IS NULL)`,
				u.ID, th.ID, user.ID).Exec(ctx)
			if err != nil {
				return fmt.Errorf("store read states: %w", err)
			}
			n64, err := res.RowsAffected()
			if err != nil {
				return fmt.Errorf("store read states: %w", err)
			}
			n = int(n64)
		}
		line, err := s.systemLine(ctx, tx, th, user, u, SystemParticipantAdded, now)
		if err != nil {
			return err
		}
		// The newcomer's counters: the history and the line, unread.
		p.UnreadCount, p.BoxCount, p.LastActivityAt = n+1, n+1, bun.NullTime{Time: now}
		if _, err := tx.NewUpdate().Model(p).Column("unread_count", "box_count", "last_activity_at").WherePK().Exec(ctx); err != nil {
			return fmt.Errorf("count messages of newcomer: %w", err)
		}
		if _, err := tx.NewUpdate().Model((*db.User)(nil)).Set("unread_total = unread_total + ?", n+1).Where("id = ?", u.ID).Exec(ctx); err != nil {
			return fmt.Errorf("count messages of newcomer: %w", err)
		}
		detail := fmt.Sprintf("thread %d, history %s", th.ID, in.History)
		if err := auth.Audit(ctx, tx, auth.AuditEntry{UserID: &u.ID, ActorID: &user.ID, Kind: "participant.added", Detail: detail, Now: now}); err != nil {
			return err
		}
		// The notification rule counts what was unread before the newest
		// message.
		p.UnreadCount = n
		team, err := writesFor(ctx, tx, th.ID, user.ID)
		if err != nil {
			return err
		}
		var al alerts
		if err := s.alert(ctx, tx, th, org, p, u, user, team, now, &al); err != nil {
			return err
		}
		if err := s.storeAlerts(ctx, tx, &al, org, user, now); err != nil {
			return err
		}
		later, err = s.stage(ctx, tx, []Event{line})
		return err
	})
	if err = onConflict(err, apperr.Field("to", "message.already_participant")); err != nil {
		return fmt.Errorf("add participant: %w", err)
	}
	s.queued()
	s.publish(ctx, later)
	return nil
}

// mayInvite reports whether user may add participants to, and send
// invitations again in, a conversation of the organisation orgID: its
// internal users only.
func mayInvite(user *db.User, orgID int64) bool {
	return user.Kind == db.KindInternal && user.OrgID != nil && *user.OrgID == orgID
}

// systemLine stores a system line of kind about subject, caused by actor,
// in every box of the conversation: read for everyone but the subject, so
// that it informs without counting as news. It returns its live event.
// The caller counts it in the subject's box.
func (s *Service) systemLine(ctx context.Context, tx bun.Tx, th *db.Thread, actor, subject *db.User, kind string, now time.Time) (Event, error) {
	m := &db.Message{ThreadID: th.ID, SenderID: &actor.ID, Body: s.sealBody(th.ID, ""), KeyID: s.Vault.KeyID(),
		CreatedAt: now, SystemKind: kind, SubjectUserID: &subject.ID}
	if _, err := tx.NewInsert().Model(m).Returning("id").Exec(ctx); err != nil {
		return Event{}, fmt.Errorf("store system line: %w", err)
	}
	if _, err := s.DB.ExecPrepared(ctx, tx, "UPDATE threads SET last_message_at = ? WHERE id = ?", now, th.ID); err != nil {
		return Event{}, fmt.Errorf("touch thread: %w", err)
	}
	if _, err := tx.NewRaw(`INSERT INTO message_states (message_id, user_id, read_at)
SELECT ?, p.user_id, CASE WHEN p.user_id = ? THEN NULL ELSE t.last_message_at END
FROM participants AS p JOIN threads AS t ON t.id = p.thread_id WHERE p.thread_id = ?`, m.ID, subject.ID, th.ID).Exec(ctx); err != nil {
		return Event{}, fmt.Errorf("store read states of system line: %w", err)
	}
	if _, err := tx.NewRaw(`UPDATE participants SET box_count = box_count + 1, last_activity_at = ?, removed_at = NULL
WHERE thread_id = ? AND user_id <> ?`, now, th.ID, subject.ID).Exec(ctx); err != nil {
		return Event{}, fmt.Errorf("count system line: %w", err)
	}
	var ids []int64
	if err := tx.NewSelect().Model((*db.Participant)(nil)).Column("user_id").Where("thread_id = ?", th.ID).Order("id").Scan(ctx, &ids); err != nil {
		return Event{}, fmt.Errorf("load participants: %w", err)
	}
	return Event{Kind: EventMessage, ThreadID: th.ID, MessageID: m.ID, UserIDs: ids, ActorID: actor.ID}, nil
}

// ResendInvitation sends a participant who never signed up a new link.
// Like adding a participant, it is for the internal users of the
// conversation's organisation (mayInvite): anyone else who takes part,
// also an internal user of another organisation, gets apperr Forbidden;
// and like it, it is refused while the conversation's case is closed
// (the link lets someone into a conversation nobody may change). The
// thread is loaded as for a change (threadToWrite), so that closing the
// case and a resend take turns.
func (s *Service) ResendInvitation(ctx context.Context, who *identity.User, threadID, participantID int64) error {
	user := db.UserOf(who)
	err := s.DB.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		th, _, err := s.threadToWrite(ctx, tx, user.ID, threadID)
		if err != nil {
			return err
		}
		if th.CaseClosed {
			return errCaseClosed
		}
		if !mayInvite(user, th.OrgID) {
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
		return s.Invitations.ResendTx(ctx, tx, &u, &org, &user.ID)
	})
	if err != nil {
		return fmt.Errorf("resend invitation: %w", err)
	}
	s.queued()
	return nil
}

// SystemParticipantRemoved is the system line "X is verwijderd door Y".
const SystemParticipantRemoved = "participant_removed"

// AuditParticipantRemoved is the audit kind of "Deelnemer verwijderen":
// the removed person is its user, who removed them its actor.
const AuditParticipantRemoved = "thread.participant_removed"

// What a participant row p (the SQL alias) has of its conversation, which
// decides whether it may be removed (RemoveParticipant):
// a message of it they read (a system line counts only when it is about
// them, as only such a one reaches them unread), a message they wrote
// (also a system line they caused or an absence auto-reply), and being
// the subject of the conversation's case.
const (
	participantHasRead = `EXISTS (SELECT 1 FROM message_states AS ms JOIN messages AS m ON m.id = ms.message_id
  WHERE ms.user_id = p.user_id AND m.thread_id = p.thread_id AND ms.read_at IS NOT NULL AND (m.system_kind = '' OR m.subject_user_id = p.user_id))`
	participantHasWritten = `EXISTS (SELECT 1 FROM messages AS m WHERE m.thread_id = p.thread_id AND m.sender_id = p.user_id)`
	participantIsSubject  = `EXISTS (SELECT 1 FROM threads AS t JOIN cases AS c ON c.id = t.case_id WHERE t.id = p.thread_id AND c.subject_id = p.user_id)`
)

// RemoveParticipant is "Deelnemer verwijderen": it undoes the addition of
// someone who should not have been in the conversation (a mistyped
// address, the wrong colleague). Like adding, it is for the internal
// users of the conversation's organisation (anyone else who takes part
// gets apperr Forbidden, anyone who does not NotFound), and refused while
// the conversation's case is closed. Only a person's own row goes (not a
// team member's, nor the actor's), and only while they have seen and own
// nothing of the conversation: once they read or wrote a message, or as
// the subject of its case, the removal is refused (apperr Conflict), as a
// deletion for everyone is once the message was read.
//
// In one transaction the conversation leaves their box as when they
// remove it themselves (removeForUser: read states, unread counters and
// total), their participant row and read states go, their queued notices
// of it are cancelled, everyone who stays gets the line "X is verwijderd
// door Y" (pushed live to open pages; the removed person gets nothing
// more of it), an audit row records who removed whom, and an invited
// person whom only this conversation brought in has the invitation
// withdrawn, as a deletion for everyone does (withdrawInvitees).
//
// Open signing requests of the conversation that wait for them lapse
// (ParticipantLeaving).
func (s *Service) RemoveParticipant(ctx context.Context, who *identity.User, threadID, participantID int64) error {
	user := db.UserOf(who)
	var keys []storedFile
	var later []Event
	err := s.DB.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		keys, later = nil, nil
		// As in RemoveThreadFromBox: the requests of the conversation
		// before it, as the removal from the box may delete messages
		// they refer to.
		if err := s.holdRequests(ctx, tx, "thread_id = ? AND EXISTS (SELECT 1 FROM participants AS p WHERE p.thread_id = ? AND p.user_id = ?)",
			threadID, threadID, user.ID); err != nil {
			return err
		}
		th, _, err := s.threadToWrite(ctx, tx, user.ID, threadID)
		if err != nil {
			return err
		}
		if !mayInvite(user, th.OrgID) {
			return apperr.New(apperr.Forbidden, "error.forbidden")
		}
		if th.CaseClosed {
			return errCaseClosed
		}
		var p struct {
			ID          int64
			AddedAt     time.Time
			Team        bool
			HasRead     bool
			HasWritten  bool
			CaseSubject bool
			Email       string
		}
		q := `SELECT p.id, p.added_at, p.via_team_id IS NOT NULL AS team, ` + participantHasRead + ` AS has_read, ` + participantHasWritten + ` AS has_written, ` +
			participantIsSubject + ` AS case_subject, u.email
FROM participants AS p JOIN users AS u ON u.id = p.user_id WHERE p.thread_id = ? AND p.user_id = ?`
		if s.DB.Postgres() {
			q += " FOR UPDATE OF p"
		}
		err = tx.NewRaw(q, th.ID, participantID).Scan(ctx, &p)
		if db.ErrNoRows(err) {
			return errNotFound
		}
		if err != nil {
			return fmt.Errorf("load participant: %w", err)
		}
		switch {
		case participantID == user.ID:
			return apperr.New(apperr.Conflict, "participant.remove_self")
		case p.Team:
			return apperr.New(apperr.Conflict, "participant.remove_team")
		case p.CaseSubject:
			return apperr.New(apperr.Conflict, "participant.remove_case_subject")
		case p.HasWritten:
			return apperr.New(apperr.Conflict, "participant.remove_wrote")
		case p.HasRead:
			return apperr.New(apperr.Conflict, "participant.remove_read")
		}
		// Requests that wait for them can no longer be completed; they go
		// first, as the requests were held first.
		var lapsed []Event
		if s.ParticipantLeaving != nil {
			if lapsed, err = s.ParticipantLeaving(ctx, tx, participantID, th.ID, user.ID); err != nil {
				return err
			}
		}
		now := s.Now().UTC()
		subject := &db.User{ID: participantID}
		// The line is for those who stay: first, so that the conversation
		// keeps a message whatever leaves with the removed person's box.
		line, err := s.systemLine(ctx, tx, th, user, subject, SystemParticipantRemoved, now)
		if err != nil {
			return err
		}
		if _, err := tx.NewDelete().Model((*db.MessageState)(nil)).Where("message_id = ? AND user_id = ?", line.MessageID, participantID).Exec(ctx); err != nil {
			return fmt.Errorf("remove line from the removed box: %w", err)
		}
		line.UserIDs = slices.DeleteFunc(line.UserIDs, func(id int64) bool { return id == participantID })
		var msgs []*db.Message
		if err := tx.NewSelect().Model(&msgs).Column("id", "thread_id").Where("thread_id = ?", th.ID).Scan(ctx); err != nil {
			return fmt.Errorf("load messages: %w", err)
		}
		if keys, err = s.removeForUser(ctx, tx, participantID, msgs, false); err != nil {
			return err
		}
		// Then what is left of them in the conversation: the read states
		// the removal kept (marked removed) and their row.
		if _, err := tx.NewRaw(`DELETE FROM message_states WHERE user_id = ? AND message_id IN (SELECT m.id FROM messages AS m WHERE m.thread_id = ?)`,
			participantID, th.ID).Exec(ctx); err != nil {
			return fmt.Errorf("remove read states: %w", err)
		}
		if _, err := tx.NewDelete().Model((*db.Participant)(nil)).Where("id = ?", p.ID).Exec(ctx); err != nil {
			return fmt.Errorf("remove participant: %w", err)
		}
		if _, err := s.Outbox.CancelNotices(ctx, tx, p.Email, participantID, p.ID); err != nil {
			return err
		}
		if err := auth.Audit(ctx, tx, auth.AuditEntry{UserID: &participantID, ActorID: &user.ID, Kind: AuditParticipantRemoved,
			Detail: fmt.Sprintf("thread %d", th.ID), Now: now}); err != nil {
			return err
		}
		files, leaving, err := s.withdrawInvitees(ctx, tx, []int64{participantID}, p.AddedAt)
		if err != nil {
			return err
		}
		keys = append(keys, files...)
		later, err = s.stage(ctx, tx, append([]Event{line}, leaving...))
		later = append(lapsed, later...)
		return err
	})
	if err != nil {
		return fmt.Errorf("remove participant: %w", err)
	}
	s.removeFiles(ctx, keys)
	s.publish(ctx, later)
	return nil
}

// contactsFrom is how many of the user's most recent conversations the
// compose form's suggestions come from.
const contactsFrom = 300

// Contacts suggests addresses the user wrote with before, for the compose
// form: the other people of the user's most recent conversations (the
// first contactsFrom of their box, in the order of the inbox), the people
// of the newest conversation first, those of one conversation by address.
// It reads those conversations only, an index range of the box
// (participants_inbox_idx) with a LIMIT, so the suggestions cost as much
// in a box of fifty thousand conversations as in one of a few hundred;
// before, every participant of every conversation in the box was read,
// then sorted by address.
func (s *Service) Contacts(ctx context.Context, who *identity.User, limit int) ([]string, error) {
	user := db.UserOf(who)
	args := []any{user.ID, contactsFrom, user.ID}
	// Only conversations the user may read: who takes part in a medical
	// one is not theirs to learn once they lost access. The rule is
	// applied to the recent conversations, not before their LIMIT, so
	// that the read stays the same few hundred rows of the box.
	where := "WHERE " + medicalRule("t", "?")
	args = append(args, medicalArgs(user.ID)...)
	// Nobody blocked: a message to them is refused (recipients).
	where += " AND u.status <> ?"
	args = append(args, db.StatusDisabled)
	if user.Kind != db.KindInternal {
		// External users may only write to internal users, and must not
		// learn the addresses of other outsiders in their threads, nor of
		// the members of a team, whom they see as the team (whose people
		// may be hidden from them).
		where += " AND u.kind = ? AND other.via_team_id IS NULL"
		args = append(args, db.KindInternal)
	}
	var emails []string
	err := s.DB.NewRaw(`SELECT u.email FROM (SELECT p.thread_id, p.last_activity_at FROM participants AS p
  WHERE p.user_id = ? AND p.box_count > 0 ORDER BY p.last_activity_at DESC, p.thread_id DESC LIMIT ?) AS r
JOIN threads AS t ON t.id = r.thread_id
JOIN participants AS other ON other.thread_id = r.thread_id AND other.user_id <> ?
JOIN users AS u ON u.id = other.user_id
`+where+`
GROUP BY u.email ORDER BY MAX(r.last_activity_at) DESC, u.email LIMIT ?`, append(args, limit)...).Scan(ctx, &emails)
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
	var keys []storedFile
	if err := s.DB.NewRaw("DELETE FROM attachments WHERE message_id IS NULL AND created_at < ? RETURNING storage_key, blob_format", cutoff).Scan(ctx, &keys); err != nil {
		return 0, fmt.Errorf("delete stale uploads: %w", err)
	}
	s.removeFiles(ctx, keys)
	return len(keys), nil
}

// writesFor returns the team that user takes part in thread for (nil when
// they take part for themselves).
func writesFor(ctx context.Context, idb bun.IDB, threadID, userID int64) (*db.Team, error) {
	team := new(db.Team)
	err := idb.NewSelect().Model(team).
		Where("id = (SELECT p.via_team_id FROM participants AS p WHERE p.thread_id = ? AND p.user_id = ?)", threadID, userID).
		Scan(ctx)
	if db.ErrNoRows(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("load the team of the author: %w", err)
	}
	return team, nil
}
