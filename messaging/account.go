package messaging

import (
	"context"
	"encoding/hex"
	"fmt"
	"strconv"
	"time"

	"github.com/uptrace/bun"

	"dialoog/auth"
	"dialoog/db"
	"dialoog/i18n"
	"dialoog/identity"
	"dialoog/notify"
)

// The user owns their box (terms of use): they can take it with them (see
// boxexport.go) and stop with the service, which deletes the box and the
// account.

// AuditAccountDeleted is the audit kind of a stopped account; its detail
// is a keyed hash of the user id, so the event names no person.
const AuditAccountDeleted = "account.deleted"

// StopService ends the user's use of Dialoog: every message leaves their
// box (messages nobody keeps any more are deleted, with their files), their
// unsent uploads are deleted, and so is the account with its sessions
// (whose live connections close: SessionsEnded), factors, codes and
// participations. Messages they sent stay in the other participants' boxes
// without a sender. One transaction; files are removed after the commit.
func (s *Service) StopService(ctx context.Context, who *identity.User) error {
	user := db.UserOf(who)
	var keys []storedFile
	var sessions []int64
	var later []Event
	err := s.DB.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		// The sessions go with the account (ON DELETE CASCADE): their
		// sockets, in other browsers too, are closed after the commit.
		if err := tx.NewSelect().Model((*db.Session)(nil)).Column("id").
			Where("user_id = ? AND ended_at IS NULL", user.ID).Scan(ctx, &sessions); err != nil && !db.ErrNoRows(err) {
			return fmt.Errorf("load sessions: %w", err)
		}
		var err error
		keys, later, err = s.deleteAccount(ctx, tx, user, AuditAccountDeleted)
		return err
	})
	if err != nil {
		return fmt.Errorf("stop service: %w", err)
	}
	if len(sessions) > 0 && s.SessionsEnded != nil {
		s.SessionsEnded(ctx, sessions)
	}
	s.queued() // a mail the deletion queued (a request that lapsed)
	s.publish(ctx, later)
	s.removeFiles(ctx, keys)
	// SQLite overwrites deleted rows (secure_delete), but the write-ahead
	// log still holds the pages as they were until a checkpoint.
	if err := s.DB.Checkpoint(ctx); err != nil {
		s.Log.Warn("checkpoint after account deletion", "err", err)
	}
	s.Log.Info("account deleted", "user", s.userHash(user.ID))
	return nil
}

// deleteAccount deletes the user's box and account in the caller's
// transaction (see StopService) and writes the audit row of kind, which
// names the account by its keyed hash only. It returns the storage keys of
// the files to remove and the live events to publish after the commit.
func (s *Service) deleteAccount(ctx context.Context, tx bun.Tx, user *db.User, kind string) ([]storedFile, []Event, error) {
	var later []Event
	// The cases about the person or opened by them, whose rows the
	// deletion of the account changes (their subject and creator go: ON
	// DELETE SET NULL) once it holds the person's conversations: a case's
	// row comes before its conversations' (see the lock order above
	// threadToWrite), as a reply in the case takes them (a share lock on
	// the case, then the conversation).
	if s.DB.Postgres() {
		var ids []int64
		if err := tx.NewSelect().Model((*db.Case)(nil)).Column("id").Where("subject_id = ? OR created_by = ?", user.ID, user.ID).
			Order("id").For("NO KEY UPDATE").Scan(ctx, &ids); err != nil {
			return nil, nil, fmt.Errorf("hold cases: %w", err)
		}
	}
	// The signing requests the deletion changes or deletes once it holds
	// the person's conversations (holdOwnThreads): those of the
	// conversations whose messages and rows go, and those the person asked
	// for or is a signer of (requested_by and the signer's user_id go).
	// Their rows come first, in id order, as signing takes them (the
	// request, then its conversation: Finish), and so do those that
	// AccountLeaving lapses. A request made in the meantime refers to a
	// new message that others have, which stays, or waits for the person
	// and AccountLeaving, still before the conversations, locks it.
	// One IN over a UNION of the three lookups, each through its index:
	// PostgreSQL answers an OR of IN conditions by reading every request
	// and testing each against them.
	if err := s.holdRequests(ctx, tx, `id IN (SELECT sr.id FROM signing_requests AS sr WHERE sr.thread_id IN (`+ownThreads+`)
  UNION SELECT sr.id FROM signing_requests AS sr WHERE sr.requested_by = ?
  UNION SELECT sg.request_id FROM signing_signers AS sg WHERE sg.user_id = ?)`, user.ID, user.ID, user.ID, user.ID); err != nil {
		return nil, nil, err
	}
	if s.AccountLeaving != nil {
		var err error
		if later, err = s.AccountLeaving(ctx, tx, user.ID); err != nil {
			return nil, nil, err
		}
	}
	keys, err := s.deleteAccountRows(ctx, tx, user, kind)
	if err != nil {
		return nil, nil, err
	}
	return keys, later, nil
}

// deleteAccountRows is deleteAccount past AccountLeaving.
func (s *Service) deleteAccountRows(ctx context.Context, tx bun.Tx, user *db.User, kind string) ([]storedFile, error) {
	if err := s.holdOwnThreads(ctx, tx, user.ID); err != nil {
		return nil, err
	}
	// The box, and the messages put to signers that they removed but that
	// stayed for them (see removeForUser): the last one to go takes those.
	var msgs []*db.Message
	if err := tx.NewSelect().Model(&msgs).Column("id", "thread_id").
		// Read from the person's read states (their index by user), not
		// by asking every message of the installation for one.
		Where(`message.id IN (SELECT ms.message_id FROM message_states AS ms WHERE ms.user_id = ?
  AND (ms.removed_at IS NULL OR EXISTS (SELECT 1 FROM signing_requests AS sr WHERE sr.message_id = ms.message_id)))`, user.ID).
		Order("id").Scan(ctx); err != nil {
		return nil, fmt.Errorf("load box: %w", err)
	}
	keys, err := s.removeForUser(ctx, tx, user.ID, msgs, true)
	if err != nil {
		return nil, err
	}
	var pending []storedFile
	if err := tx.NewSelect().Model((*db.Attachment)(nil)).Column("storage_key", "blob_format").
		Where("uploader_id = ? AND message_id IS NULL", user.ID).Scan(ctx, &pending); err != nil {
		return nil, fmt.Errorf("load uploads: %w", err)
	}
	if _, err := tx.NewDelete().Model((*db.Attachment)(nil)).Where("uploader_id = ? AND message_id IS NULL", user.ID).Exec(ctx); err != nil {
		return nil, fmt.Errorf("delete uploads: %w", err)
	}
	keys = append(keys, pending...)
	if err := s.forgetPerson(ctx, tx, user); err != nil {
		return nil, err
	}
	// Sessions, factors, codes, invitations, participations and read
	// states go with the user (ON DELETE CASCADE); sent messages and
	// their attachments lose their sender (ON DELETE SET NULL).
	res, err := tx.NewDelete().Model((*db.User)(nil)).Where("id = ?", user.ID).Exec(ctx)
	if err != nil {
		return nil, fmt.Errorf("delete user: %w", err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return nil, errNotFound
	}
	if err := auth.Audit(ctx, tx, auth.AuditEntry{Kind: kind, Detail: s.userHash(user.ID), Now: s.Now()}); err != nil {
		return nil, err
	}
	return keys, nil
}

// forgetPerson removes what names the person outside their own rows, in
// the deletion's transaction: queued mail and texts to their address and
// numbers are withdrawn and delivered ones erased (notify.Forget), and
// their audit rows are pseudonymised: no user, no IP address, and as
// detail the keyed hash of the account's id that the deletion's own audit
// row carries, so that the rows of one deleted account still belong
// together but name nobody. Rows of what they did to others lose the
// actor and the IP address (theirs).
func (s *Service) forgetPerson(ctx context.Context, tx bun.Tx, user *db.User) error {
	recipients := []string{user.Email}
	var phones []string
	if err := tx.NewSelect().Model((*db.SecondFactor)(nil)).Column("phone").Where("user_id = ? AND phone <> ''", user.ID).Scan(ctx, &phones); err != nil {
		return fmt.Errorf("load numbers: %w", err)
	}
	recipients = append(recipients, phones...)
	var targets []string
	if err := tx.NewSelect().Model((*db.OneTimeCode)(nil)).Column("target").Where("user_id = ? AND target <> ''", user.ID).Scan(ctx, &targets); err != nil {
		return fmt.Errorf("load code targets: %w", err)
	}
	recipients = append(recipients, targets...)
	if err := notify.Forget(ctx, tx, recipients); err != nil {
		return err
	}
	if err := notify.ForgetPush(ctx, tx, user.ID); err != nil {
		return err
	}
	if err := s.renameInNotices(ctx, tx, user); err != nil {
		return err
	}
	if err := auth.ForgetThrottles(ctx, tx, user.ID, user.Email); err != nil {
		return err
	}
	if _, err := tx.NewDelete().Table("mail_requests").Where("email = ?", user.Email).Exec(ctx); err != nil {
		return fmt.Errorf("withdraw mail requests: %w", err)
	}
	if _, err := tx.NewUpdate().Model((*db.AuditEvent)(nil)).Set("user_id = NULL").Set("ip = ''").Set("detail = ?", s.userHash(user.ID)).
		Where("user_id = ?", user.ID).Exec(ctx); err != nil {
		return fmt.Errorf("pseudonymise audit: %w", err)
	}
	// What they did to others stays in those people's rows, without them:
	// no actor, and not the address they did it from.
	if _, err := tx.NewUpdate().Model((*db.AuditEvent)(nil)).Set("actor_id = NULL").Set("ip = ''").Where("actor_id = ?", user.ID).Exec(ctx); err != nil {
		return fmt.Errorf("pseudonymise audit: %w", err)
	}
	return nil
}

// renameInNotices rewrites the new-message mails still queued (they wait
// NotifyDelay) to the other people of the conversations the user wrote in
// that tell of a message of theirs by their name: the message stays in
// those boxes and the mail still goes, but it names them as the
// conversation now does ("Verwijderde gebruiker"), not by the name the
// account no longer has. A mail that names the organisation or team (an
// internal author to an outsider, NotifiedFrom) stays as it is. It reads
// the participants of the conversations through the user's messages
// (messages_sender_idx) and the queued mails through their recipients.
func (s *Service) renameInNotices(ctx context.Context, tx bun.Tx, user *db.User) error {
	var readers []struct {
		ID       int64
		ThreadID int64
		Email    string
		Kind     string
		Language string
	}
	if err := tx.NewRaw(`SELECT p.id, p.thread_id, u.email, u.kind, u.language FROM participants AS p JOIN users AS u ON u.id = p.user_id
WHERE p.thread_id IN (SELECT m.thread_id FROM messages AS m WHERE m.sender_id = ?) AND p.user_id <> ?`, user.ID, user.ID).
		Scan(ctx, &readers); err != nil && !db.ErrNoRows(err) {
		return fmt.Errorf("load readers of notices: %w", err)
	}
	if len(readers) == 0 {
		return nil
	}
	type reader struct {
		thread   int64
		email    string
		internal bool
		language string
	}
	byParticipant := make(map[int64]reader, len(readers))
	var emails []string
	seen := map[string]bool{}
	for _, r := range readers {
		byParticipant[r.ID] = reader{thread: r.ThreadID, email: r.Email, internal: r.Kind == db.KindInternal, language: r.Language}
		if !seen[r.Email] {
			seen[r.Email] = true
			emails = append(emails, r.Email)
		}
	}
	_, err := s.Outbox.RewriteNotices(ctx, tx, emails, func(recipient string, m *notify.Mail) (bool, error) {
		r, ok := byParticipant[m.Notice.Participant]
		if !ok || r.email != recipient {
			return false, nil
		}
		if user.Kind == db.KindInternal && !r.internal {
			return false, nil // it names the team or the organisation
		}
		switch {
		case m.Notice.Author == user.ID:
		case m.Notice.Author != 0:
			return false, nil
		default:
			// Queued before notices named their author: the user's
			// message of that moment in the conversation.
			at := m.Notice.At.UTC()
			mine, err := tx.NewSelect().Model((*db.Message)(nil)).
				Where("thread_id = ? AND sender_id = ? AND created_at BETWEEN ? AND ?", r.thread, user.ID, at.Add(-time.Millisecond), at.Add(time.Millisecond)).
				Exists(ctx)
			if err != nil || !mine {
				return false, err
			}
		}
		mail, err := s.Mail.NewMessageMail(r.language, i18n.For(r.language).T("thread.deleted_user"), s.BaseURL+"/berichten")
		if err != nil {
			return false, fmt.Errorf("render notification: %w", err)
		}
		m.Subject, m.HTML, m.Text = mail.Subject, mail.HTML, mail.Text
		return true, nil
	})
	if err != nil {
		return fmt.Errorf("rename the person in queued notices: %w", err)
	}
	return nil
}

// userHash identifies a deleted account in the audit log without naming
// it: a hash keyed by the vault, so a small id cannot be guessed back.
func (s *Service) userHash(id int64) string {
	return hex.EncodeToString(s.Vault.MAC([]byte("user:" + strconv.FormatInt(id, 10))))[:32]
}

// holdOwnThreads takes, on PostgreSQL, the row locks of the threads the
// user takes part in or has messages of, and of those whose rows name
// them (namingThreads), in the order of their ids, at
// the start of their box's deletion in tx: FOR UPDATE, the lock a
// deletion in a thread takes first (see messageToDelete), so that a
// deletion by someone else in one of them (from their box or for
// everyone) and this one take turns and the later sees what the earlier
// did. Without it each still saw the other's box as it was: a message
// the other removed from the last other box at the same moment was kept
// for the other, in nobody's box, with its conversation. A reply or a
// participant added in one of them (threadToWrite) takes turns with it
// too, and so sees the person gone or is counted in their box before it
// goes. The box is read after the locks, so it holds what those before
// it committed. (SQLite's writers take turns.)
//
// The order: the signing requests the deletion touches (held in
// deleteAccount, before AccountLeaving lapses some of them), then the
// threads in id order, as team membership changes hold a team's
// threads (holdTeamThreads), then the participants' and users' rows, as
// every change in a thread does after its lock.
func (s *Service) holdOwnThreads(ctx context.Context, tx bun.Tx, userID int64) error {
	if !s.DB.Postgres() {
		return nil
	}
	var ids []int64
	if err := tx.NewSelect().Model((*db.Thread)(nil)).Column("id").
		Where("id IN ("+ownThreads+" UNION "+namingThreads+")", userID, userID, userID, userID, userID, userID, userID).
		Order("id").For("UPDATE").Scan(ctx, &ids); err != nil {
		return fmt.Errorf("hold own conversations: %w", err)
	}
	return nil
}

// namingThreads selects the ids of the threads whose rows name a user
// (the argument, five times) also where they no longer take part (they
// wrote or were assigned a team's conversation and left the team): the
// deletion of their account empties those references (ON DELETE SET
// NULL), so holdOwnThreads locks these threads too, in its order, and not
// only when the foreign keys change them at the end. Each through an
// index of its column.
const namingThreads = `SELECT t.id FROM threads AS t WHERE t.created_by = ?
  UNION SELECT t.id FROM threads AS t WHERE t.assigned_to = ?
  UNION SELECT m.thread_id FROM messages AS m WHERE m.sender_id = ?
  UNION SELECT m.thread_id FROM messages AS m WHERE m.subject_user_id = ?
  UNION SELECT p.thread_id FROM participants AS p WHERE p.added_by = ?`

// ownThreads selects the ids of the threads a user (the argument, twice)
// takes part in or has messages of.
const ownThreads = `SELECT p.thread_id FROM participants AS p WHERE p.user_id = ?
  UNION SELECT m.thread_id FROM message_states AS ms JOIN messages AS m ON m.id = ms.message_id WHERE ms.user_id = ?`
