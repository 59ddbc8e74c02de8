package messaging

import (
	"archive/zip"
	"context"
	"encoding/hex"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"dialoog/auth"
	"dialoog/db"
	"dialoog/notify"
)

// The user owns their box (terms of use): they can take it with them and
// stop with the service, which deletes the box and the account.

// DeletedSender names the sender of a message whose account was deleted,
// in the export (the pages translate it themselves).
const DeletedSender = "Verwijderde gebruiker"

// AuditAccountDeleted is the audit kind of a stopped account; its detail
// is a keyed hash of the user id, so the event names no person.
const AuditAccountDeleted = "account.deleted"

// BoxExport is a user's box ready to be written as a ZIP file:
// berichten.txt with every conversation (newest first) and its messages in
// the box (oldest first), and the attachments of those messages under
// bijlagen/. Only what is in the user's own box, nothing they removed.
type BoxExport struct {
	s     *Service
	now   time.Time
	text  string
	files []exportFile
}

// exportFile is an attachment of the export.
type exportFile struct {
	id   int64
	name string
	at   time.Time
}

// Export loads the user's box for a download: everything but the
// attachments' contents, which WriteTo streams into the ZIP file, so that
// an error here can still be shown as a page and memory does not grow
// with the files.
func (s *Service) Export(ctx context.Context, user *db.User) (*BoxExport, error) {
	var threads []struct {
		ID            int64
		Subject       string
		OrgName       string
		LastMessageAt time.Time
	}
	err := s.DB.NewSelect().TableExpr("threads AS t").
		ColumnExpr("t.id, t.subject, o.name AS org_name, t.last_message_at").
		Join("JOIN organisations AS o ON o.id = t.org_id").
		Where("EXISTS (SELECT 1 FROM participants AS p WHERE p.thread_id = t.id AND p.user_id = ? AND p.box_count > 0)", user.ID).
		OrderExpr("t.last_message_at DESC, t.id DESC").Scan(ctx, &threads)
	if err != nil {
		return nil, fmt.Errorf("export threads: %w", err)
	}
	e := &BoxExport{s: s, now: s.Now().UTC()}
	var text strings.Builder
	fmt.Fprintf(&text, "Dialoog - berichten van %s\nGemaakt op %s\n", user.Email, e.now.Format(time.RFC3339))
	if len(threads) == 0 {
		text.WriteString("\nEr staan geen berichten in je berichtenbox.\n")
	}
	for _, th := range threads {
		v, err := s.Thread(ctx, user, th.ID)
		if err != nil {
			return nil, fmt.Errorf("export thread %d: %w", th.ID, err)
		}
		names := make([]string, len(v.Participants))
		for i, p := range v.Participants {
			names[i] = p.Name
		}
		fmt.Fprintf(&text, "\n%s\nOnderwerp: %s\nOrganisatie: %s\nDeelnemers: %s\n", strings.Repeat("=", 72), v.Subject, v.OrgName, strings.Join(names, ", "))
		for _, m := range v.Messages {
			sender := m.SenderName
			if m.SenderDeleted {
				sender = DeletedSender
			}
			if m.System == SystemParticipantAdded {
				fmt.Fprintf(&text, "\n(%s is toegevoegd door %s, %s)\n", m.SystemSubject, sender, m.CreatedAt.UTC().Format(time.RFC3339))
				continue
			}
			fmt.Fprintf(&text, "\n%s\nVan: %s\nDatum: %s\n", strings.Repeat("-", 72), sender, m.CreatedAt.UTC().Format(time.RFC3339))
			if m.AutoReply {
				text.WriteString("(automatisch antwoord)\n")
			}
			text.WriteString("\n" + m.Body + "\n")
			for _, a := range m.Attachments {
				name := exportName(v.ID, m.ID, a.Name)
				fmt.Fprintf(&text, "Bijlage: %s\n", name)
				e.files = append(e.files, exportFile{id: a.ID, name: name, at: m.CreatedAt})
			}
		}
	}
	e.text = text.String()
	return e, nil
}

// WriteTo writes the ZIP file to w, streaming each attachment from the
// blob store into it. An error after the first bytes leaves w with a cut
// off (unreadable) ZIP file; the caller logs it.
func (e *BoxExport) WriteTo(ctx context.Context, w io.Writer) error {
	zw := zip.NewWriter(w)
	for _, f := range e.files {
		if err := e.s.exportFile(ctx, zw, f); err != nil {
			return err
		}
	}
	tw, err := zw.CreateHeader(&zip.FileHeader{Name: "berichten.txt", Method: zip.Deflate, Modified: e.now})
	if err != nil {
		return fmt.Errorf("export text: %w", err)
	}
	if _, err := io.WriteString(tw, e.text); err != nil {
		return fmt.Errorf("export text: %w", err)
	}
	if err := zw.Close(); err != nil {
		return fmt.Errorf("export zip: %w", err)
	}
	return nil
}

// exportName is an attachment's path in the export; cleanFilename already
// keeps slashes and control characters out of stored names.
func exportName(threadID, messageID int64, filename string) string {
	return "bijlagen/" + strconv.FormatInt(threadID, 10) + "-" + strconv.FormatInt(messageID, 10) + "-" + cleanFilename(filename)
}

func (s *Service) exportFile(ctx context.Context, zw *zip.Writer, f exportFile) error {
	var a db.Attachment
	if err := s.DB.NewSelect().Model(&a).Column("storage_key", "key_id", "blob_format").Where("id = ?", f.id).Scan(ctx); err != nil {
		return fmt.Errorf("export attachment %d: %w", f.id, err)
	}
	rc, err := s.Files.Open(ctx, a.StorageKey, a.KeyID, a.BlobFormat)
	if err != nil {
		return fmt.Errorf("export attachment %d: %w", f.id, err)
	}
	defer rc.Close()
	w, err := zw.CreateHeader(&zip.FileHeader{Name: f.name, Method: zip.Deflate, Modified: f.at.UTC()})
	if err != nil {
		return fmt.Errorf("export attachment %d: %w", f.id, err)
	}
	if _, err := io.Copy(w, rc); err != nil {
		return fmt.Errorf("export attachment %d: %w", f.id, err)
	}
	return nil
}

// StopService ends the user's use of Dialoog: every message leaves their
// box (messages nobody keeps any more are deleted, with their files), their
// unsent uploads are deleted, and so is the account with its sessions,
// factors, codes and participations. Messages they sent stay in the other
// participants' boxes without a sender. One transaction; files are removed
// after the commit.
func (s *Service) StopService(ctx context.Context, user *db.User) error {
	var keys []storedFile
	err := s.DB.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		var msgs []*db.Message
		if err := tx.NewSelect().Model(&msgs).
			Where("EXISTS (SELECT 1 FROM message_states AS ms WHERE ms.message_id = message.id AND ms.user_id = ? AND ms.removed_at IS NULL)", user.ID).
			Order("id").Scan(ctx); err != nil {
			return fmt.Errorf("load box: %w", err)
		}
		var err error
		if keys, err = s.removeForUser(ctx, tx, user.ID, msgs); err != nil {
			return err
		}
		var pending []storedFile
		if err := tx.NewSelect().Model((*db.Attachment)(nil)).Column("storage_key", "blob_format").
			Where("uploader_id = ? AND message_id IS NULL", user.ID).Scan(ctx, &pending); err != nil {
			return fmt.Errorf("load uploads: %w", err)
		}
		if _, err := tx.NewDelete().Model((*db.Attachment)(nil)).Where("uploader_id = ? AND message_id IS NULL", user.ID).Exec(ctx); err != nil {
			return fmt.Errorf("delete uploads: %w", err)
		}
		keys = append(keys, pending...)
		if err := s.forgetPerson(ctx, tx, user); err != nil {
			return err
		}
		// Sessions, factors, codes, invitations, participations and read
		// states go with the user (ON DELETE CASCADE); sent messages and
		// their attachments lose their sender (ON DELETE SET NULL).
		res, err := tx.NewDelete().Model((*db.User)(nil)).Where("id = ?", user.ID).Exec(ctx)
		if err != nil {
			return fmt.Errorf("delete user: %w", err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return errNotFound
		}
		return auth.Audit(ctx, tx, auth.AuditEntry{Kind: AuditAccountDeleted, Detail: s.userHash(user.ID), Now: s.Now()})
	})
	if err != nil {
		return fmt.Errorf("stop service: %w", err)
	}
	s.removeFiles(ctx, keys)
	// SQLite overwrites deleted rows (secure_delete), but the write-ahead
	// log still holds the pages as they were until a checkpoint.
	if err := s.DB.Checkpoint(ctx); err != nil {
		s.Log.Warn("checkpoint after account deletion", "err", err)
	}
	s.Log.Info("account deleted", "user", s.userHash(user.ID))
	return nil
}

// forgetPerson removes what names the person outside their own rows, in
// the deletion's transaction: queued mail and texts to their address and
// numbers are withdrawn and delivered ones erased (notify.Forget), and
// their audit rows are pseudonymised: no user, no IP address, and as
// detail the keyed hash of the account's id that the deletion's own audit
// row carries, so that the rows of one deleted account still belong
// together but name nobody.
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
	if _, err := tx.NewDelete().Table("mail_requests").Where("email = ?", user.Email).Exec(ctx); err != nil {
		return fmt.Errorf("withdraw mail requests: %w", err)
	}
	if _, err := tx.NewUpdate().Model((*db.AuditEvent)(nil)).Set("user_id = NULL").Set("ip = ''").Set("detail = ?", s.userHash(user.ID)).
		Where("user_id = ?", user.ID).Exec(ctx); err != nil {
		return fmt.Errorf("pseudonymise audit: %w", err)
	}
	if _, err := tx.NewUpdate().Model((*db.AuditEvent)(nil)).Set("actor_id = NULL").Where("actor_id = ?", user.ID).Exec(ctx); err != nil {
		return fmt.Errorf("pseudonymise audit: %w", err)
	}
	return nil
}

// userHash identifies a deleted account in the audit log without naming
// it: a hash keyed by the vault, so a small id cannot be guessed back.
func (s *Service) userHash(id int64) string {
	return hex.EncodeToString(s.Vault.MAC([]byte("user:" + strconv.FormatInt(id, 10))))[:32]
}
