package messaging

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/uptrace/bun"

	"dialoog/apperr"
	"dialoog/auth"
	"dialoog/db"
	"dialoog/identity"
)

// A reply or new message typed while the writer's session lapsed (idle or
// at its absolute end) is not lost: it is kept, sealed like message
// bodies, for the person who wrote it, bound to their browser by a random
// token in a cookie, and offered again on its form when they log in again
// in that browser. Nothing is sent until they send it.
const (
	// KeptFor is how long a kept text waits for its writer.
	KeptFor = 24 * time.Hour
	// MaxKeptTexts bounds the kept texts of one person; keeping one more
	// drops the oldest.
	MaxKeptTexts = 10
	// maxKeptTo bounds the kept recipients field, in bytes: room for
	// MaxRecipients long addresses.
	maxKeptTo = MaxRecipients * 320
)

// KeptInput is what a form held when it was kept: for a reply
// (ThreadID set) only Body counts.
type KeptInput struct {
	ThreadID          int64 // 0: a new message
	To, Subject, Body string
	// Medical ("Bevat medische informatie") and TeamID ("Namens", 0:
	// personally) are a new message's choices of who may read it: kept
	// with it, so that it is not sent without them (checked when sent).
	Medical bool
	TeamID  int64
	// WithFiles says that the form had attachments, which are not kept.
	WithFiles bool
}

// KeptText is a kept form, opened.
type KeptText struct {
	ThreadID          int64 // 0: a new message
	To, Subject, Body string
	Medical           bool
	TeamID            int64
	WithFiles         bool
}

// keptFields is what is sealed of a kept form.
type keptFields struct {
	To      string `json:"to,omitempty"`
	Subject string `json:"subject,omitempty"`
	Body    string `json:"body"`
	Medical bool   `json:"medical,omitempty"`
	Team    int64  `json:"team,omitempty"`
}

// keptAD binds a kept text to its writer and its form.
func keptAD(userID, threadID int64) []byte {
	return fmt.Appendf(nil, "kept:user:%d:thread:%d", userID, threadID)
}

// checkKept refuses what is larger than a message may be (or holds what
// no form sends), and what holds nothing worth keeping. What would fail
// otherwise (no recipient, an empty subject) is kept: the writer sees why
// when they send it.
func checkKept(in KeptInput) (keptFields, error) {
	f := keptFields{Body: in.Body}
	if in.ThreadID == 0 {
		f.To, f.Subject, f.Medical, f.Team = in.To, in.Subject, in.Medical, max(in.TeamID, 0)
	}
	tooLong := utf8.RuneCountInString(f.Body) > MaxBody || utf8.RuneCountInString(f.Subject) > MaxSubject || len(f.To) > maxKeptTo
	invalid := false
	for _, v := range []string{f.To, f.Subject, f.Body} {
		invalid = invalid || !utf8.ValidString(v) || strings.ContainsRune(v, 0)
	}
	if tooLong || invalid {
		return f, apperr.New(apperr.Invalid, "message.body_too_long")
	}
	if strings.TrimSpace(f.To+f.Subject+f.Body) == "" {
		return f, apperr.New(apperr.Invalid, "message.body_required")
	}
	return f, nil
}

// KeepText keeps what the user typed in a form (in) for them, bound to
// the browser's token (a new one when token is not one made here), and
// returns the token for the browser's cookie. It replaces what the user
// kept before for the same form, in any browser, and drops their oldest
// when they keep more than MaxKeptTexts. A reply to a conversation the
// user cannot read is not kept (apperr.NotFound); a text larger than a
// message may be, or an empty one, neither (apperr.Invalid).
func (s *Service) KeepText(ctx context.Context, userID int64, token string, in KeptInput) (string, error) {
	f, err := checkKept(in)
	if err != nil {
		return "", err
	}
	plain, err := json.Marshal(f)
	if err != nil {
		return "", fmt.Errorf("keep text: %w", err)
	}
	token = KeptToken(token)
	now := s.Now().UTC()
	var thread *int64
	if in.ThreadID != 0 {
		thread = &in.ThreadID
	}
	err = s.DB.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		if thread != nil {
			if _, err := s.threadFor(ctx, tx, userID, in.ThreadID); err != nil {
				return err
			}
		}
		if _, err := tx.NewRaw(`INSERT INTO kept_texts (user_id, thread_id, token_hash, sealed, with_files, created_at, expires_at)
VALUES (?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (user_id, COALESCE(thread_id, 0)) DO UPDATE SET token_hash = excluded.token_hash, sealed = excluded.sealed,
  with_files = excluded.with_files, created_at = excluded.created_at, expires_at = excluded.expires_at`,
			userID, thread, auth.HashToken(token), s.Vault.Seal(plain, keptAD(userID, in.ThreadID)), in.WithFiles, now, now.Add(KeptFor)).Exec(ctx); err != nil {
			return fmt.Errorf("store kept text: %w", err)
		}
		// The user's expired ones, and the oldest beyond the limit.
		if _, err := tx.NewRaw(`DELETE FROM kept_texts WHERE user_id = ? AND (expires_at <= ? OR id NOT IN (
  SELECT id FROM kept_texts WHERE user_id = ? ORDER BY created_at DESC, id DESC LIMIT ?))`, userID, now, userID, MaxKeptTexts).Exec(ctx); err != nil {
			return fmt.Errorf("trim kept texts: %w", err)
		}
		return nil
	})
	if db.IsForeignKeyViolation(err) {
		// The conversation or the account went meanwhile.
		return "", apperr.New(apperr.NotFound, "error.not_found")
	}
	if err != nil {
		return "", err
	}
	return token, nil
}

// KeptToken is the browser's token of its kept texts: token when it is
// one made here, else a new one.
func KeptToken(token string) string {
	if !auth.ValidToken(token) {
		token, _ = auth.NewToken()
	}
	return token
}

// ofForm narrows a query of kept_texts to the user's text for one form
// (threadID 0: a new message) kept in the browser of token.
func ofForm[Q interface{ Where(string, ...any) Q }](q Q, userID int64, token string, threadID int64) Q {
	q = q.Where("user_id = ?", userID).Where("token_hash = ?", auth.HashToken(token))
	if threadID == 0 {
		return q.Where("thread_id IS NULL")
	}
	return q.Where("thread_id = ?", threadID)
}

// KeptText returns what the user kept in the browser of token for the
// form of threadID (0: a new message), or nil. A kept reply to a
// conversation the user can no longer read is deleted, and nothing is
// returned; so is an expired one.
func (s *Service) KeptText(ctx context.Context, who *identity.User, token string, threadID int64) (*KeptText, error) {
	if !auth.ValidToken(token) {
		return nil, nil
	}
	var k db.KeptText
	err := ofForm(s.DB.NewSelect().Model(&k), who.ID, token, threadID).Where("expires_at > ?", s.Now().UTC()).Scan(ctx)
	if db.ErrNoRows(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("load kept text: %w", err)
	}
	if threadID != 0 {
		if _, err := s.threadFor(ctx, s.DB, who.ID, threadID); apperr.CodeOf(err) == apperr.NotFound {
			return nil, s.dropKept(ctx, k.ID)
		} else if err != nil {
			return nil, err
		}
	}
	return s.openKept(&k)
}

// openKept opens a stored kept text.
func (s *Service) openKept(k *db.KeptText) (*KeptText, error) {
	var threadID int64
	if k.ThreadID != nil {
		threadID = *k.ThreadID
	}
	plain, err := s.Vault.Open(k.Sealed, keptAD(k.UserID, threadID))
	if err != nil {
		return nil, fmt.Errorf("open kept text %d: %w", k.ID, err)
	}
	var f keptFields
	if err := json.Unmarshal(plain, &f); err != nil {
		return nil, fmt.Errorf("read kept text %d: %w", k.ID, err)
	}
	return &KeptText{ThreadID: threadID, To: f.To, Subject: f.Subject, Body: f.Body, Medical: f.Medical, TeamID: f.Team, WithFiles: k.WithFiles}, nil
}

// keptOf returns every kept text of the user that has not expired, in
// whichever browser it was kept, oldest first, with when each was kept and
// when it expires: for their export, which holds what is theirs.
func (s *Service) keptOf(ctx context.Context, userID int64) ([]keptJSON, error) {
	var kept []db.KeptText
	if err := s.DB.NewSelect().Model(&kept).Where("user_id = ?", userID).Where("expires_at > ?", s.Now().UTC()).
		Order("created_at", "id").Scan(ctx); err != nil {
		return nil, fmt.Errorf("load kept texts: %w", err)
	}
	out := make([]keptJSON, 0, len(kept))
	for i := range kept {
		k, err := s.openKept(&kept[i])
		if err != nil {
			return nil, err
		}
		out = append(out, keptJSON{Conversation: kept[i].ThreadID, To: k.To, Subject: k.Subject, Body: k.Body, Medical: k.Medical,
			Team: k.TeamID, WithFiles: k.WithFiles, KeptAt: kept[i].CreatedAt.UTC(), ExpiresAt: kept[i].ExpiresAt.UTC()})
	}
	return out, nil
}

// keptJSON is a kept text in the export (bewaarde-teksten.json): the
// conversation of a reply (null for a new message) and what the form held.
type keptJSON struct {
	Conversation *int64    `json:"conversation"`
	To           string    `json:"to,omitempty"`
	Subject      string    `json:"subject,omitempty"`
	Body         string    `json:"body"`
	Medical      bool      `json:"medical,omitempty"`
	Team         int64     `json:"team,omitempty"`
	WithFiles    bool      `json:"with_files"`
	KeptAt       time.Time `json:"kept_at"`
	ExpiresAt    time.Time `json:"expires_at"`
}

func (s *Service) dropKept(ctx context.Context, id int64) error {
	if _, err := s.DB.NewDelete().Model((*db.KeptText)(nil)).Where("id = ?", id).Exec(ctx); err != nil {
		return fmt.Errorf("delete kept text: %w", err)
	}
	return nil
}

// KeptForm returns the form of the user's newest kept text in the browser
// of token, which their login goes on to: the conversation's id, or 0 for
// a new message. ok is false when there is none the user may still send:
// kept replies to conversations they can no longer read are deleted on
// the way.
func (s *Service) KeptForm(ctx context.Context, who *identity.User, token string) (threadID int64, ok bool, err error) {
	if !auth.ValidToken(token) {
		return 0, false, nil
	}
	var kept []db.KeptText
	if err := s.DB.NewSelect().Model(&kept).Column("id", "thread_id").
		Where("user_id = ?", who.ID).Where("token_hash = ?", auth.HashToken(token)).Where("expires_at > ?", s.Now().UTC()).
		Order("created_at DESC", "id DESC").Scan(ctx); err != nil {
		return 0, false, fmt.Errorf("load kept texts: %w", err)
	}
	for _, k := range kept {
		if k.ThreadID == nil {
			return 0, true, nil
		}
		_, err := s.threadFor(ctx, s.DB, who.ID, *k.ThreadID)
		if err == nil {
			return *k.ThreadID, true, nil
		}
		if apperr.CodeOf(err) != apperr.NotFound {
			return 0, false, err
		}
		if err := s.dropKept(ctx, k.ID); err != nil {
			return 0, false, err
		}
	}
	return 0, false, nil
}

// DiscardKept deletes what the user kept in the browser of token for the
// form of threadID (0: a new message), if anything, and reports whether
// the user keeps anything else in that browser (else its cookie may go).
// A conversation the user cannot read is NotFound, as on every route of
// one.
func (s *Service) DiscardKept(ctx context.Context, who *identity.User, token string, threadID int64) (bool, error) {
	if threadID != 0 {
		if _, err := s.threadFor(ctx, s.DB, who.ID, threadID); err != nil {
			return false, err
		}
	}
	if !auth.ValidToken(token) {
		return false, nil
	}
	var more bool
	err := s.DB.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		if err := deleteKept(ctx, tx, who.ID, token, threadID); err != nil {
			return err
		}
		var err error
		more, err = keptAny(ctx, tx, who.ID, token)
		return err
	})
	if err != nil {
		return false, fmt.Errorf("discard kept text: %w", err)
	}
	return more, nil
}

// KeptAny reports whether the user keeps anything in the browser of token
// (else its cookie may go): after a send, whose transaction deleted the
// text of its form (SentKept).
func (s *Service) KeptAny(ctx context.Context, who *identity.User, token string) (bool, error) {
	if !auth.ValidToken(token) {
		return false, nil
	}
	more, err := keptAny(ctx, s.DB, who.ID, token)
	if err != nil {
		return false, fmt.Errorf("kept texts: %w", err)
	}
	return more, nil
}

func keptAny(ctx context.Context, idb bun.IDB, userID int64, token string) (bool, error) {
	return idb.NewSelect().Model((*db.KeptText)(nil)).Where("user_id = ?", userID).
		Where("token_hash = ?", auth.HashToken(token)).Exists(ctx)
}

func deleteKept(ctx context.Context, idb bun.IDB, userID int64, token string, threadID int64) error {
	if _, err := ofForm(idb.NewDelete().Model((*db.KeptText)(nil)), userID, token, threadID).Exec(ctx); err != nil {
		return fmt.Errorf("delete kept text: %w", err)
	}
	return nil
}

// SentKept wraps then (the Within of a reply or a new message, may be
// nil) so that the message's transaction also deletes what the user kept
// in the browser of token for its form (threadID 0: a new message): a
// kept text that was sent is gone with the sending, or stays when the
// sending fails.
func SentKept(who *identity.User, token string, threadID int64, then WithinFunc) WithinFunc {
	if !auth.ValidToken(token) {
		return then
	}
	return func(ctx context.Context, tx bun.Tx, messageID int64) ([]Event, error) {
		if err := deleteKept(ctx, tx, who.ID, token, threadID); err != nil {
			return nil, err
		}
		if then == nil {
			return nil, nil
		}
		return then(ctx, tx, messageID)
	}
}

// PurgeKeptTexts deletes, for the daily cleanup, the kept texts that
// expired before now, through kept_texts_expires_idx.
func PurgeKeptTexts(ctx context.Context, idb bun.IDB, now time.Time) (int, error) {
	return auth.DeleteBatches(ctx, idb, "expired kept texts", `DELETE FROM kept_texts WHERE id IN (
  SELECT id FROM kept_texts WHERE expires_at < ? LIMIT ?)`, now.UTC())
}
