// Package signing owns Ondertekenen: a PDF of a conversation put to some of
// its participants for agreement, each confirming with a code bound to the
// document (SMS, or their authenticator app), the evidence of every
// agreement, and the sealed PDF added to the conversation once all agreed.
// It builds on messaging's access rule and never renders or speaks HTTP;
// producing the seal itself is package seal's (behind Sealer).
package signing

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/uptrace/bun"

	"dialoog/apperr"
	"dialoog/auth"
	"dialoog/db"
	"dialoog/identity"
	"dialoog/messaging"
	"dialoog/notify"
	"dialoog/seal"
	"dialoog/vault"
)

// Rules of the codes and of a request.
const (
	CodeTTL        = 10 * time.Minute
	CodeTries      = 5
	ResendAfter    = 60 * time.Second
	MaxSigners     = messaging.MaxRecipients
	MaxReason      = 1000
	RemindBefore   = 48 * time.Hour
	smsPerIPHour   = 20
	codePurposeFmt = "signing:%d" // one_time_codes.purpose of a signer's code
)

// EventSigning is the live event of a change to a request: MessageID
// carries the request's id; every participant's open page renders its card.
const EventSigning = "signing"

// EventSigningNew is the live event of a new request: its card is added
// to the open conversation.
const EventSigningNew = "signing_new"

// Sealer produces the sealed PDF: the original with an evidence page and
// the organisation's seal (seal.Store).
type Sealer interface {
	Seal(ctx context.Context, orgID int64, original []byte, ev seal.Evidence) ([]byte, error)
}

// PageCounter counts the pages of a PDF (seal.PageCount); an error means
// the file is no PDF it can read.
type PageCounter func(pdf []byte) (int, error)

// Mails renders the content-free mails of signing: a reminder to a signer
// who has not acted, and the notices to the requester that a request
// expired or lapsed. None names the document or the conversation.
type Mails interface {
	SigningReminderMail(lang, link string) (notify.Mail, error)
	SigningExpiredMail(lang, link string) (notify.Mail, error)
	SigningLapsedMail(lang, link string) (notify.Mail, error)
}

// Codes checks the codes of an authenticator app and counts attempts at
// codes under the login's allowance (auth.Accounts).
type Codes interface {
	AttemptCode(ctx context.Context, userID int64, ip string) error
	CodeSucceeded(ctx context.Context, userID int64)
	UseAppCodeTx(ctx context.Context, tx bun.Tx, userID int64, code string) error
}

var _ Codes = (*auth.Accounts)(nil)

// Service implements the signing rules.
type Service struct {
	DB       *db.DB
	Vault    *vault.Vault
	Messages *messaging.Service
	Outbox   *notify.Outbox
	Limiter  *auth.Limiter
	Codes    Codes
	Sealer   Sealer
	Pages    PageCounter
	Mail     Mails
	// CodeText renders the text message with a signing code.
	CodeText func(lang, code string) string
	BaseURL  string
	Now      func() time.Time
	Log      *slog.Logger
	// Queued wakes the outbox worker after a commit that queued mail or
	// a text.
	Queued func()
}

func (s *Service) queued() {
	if s.Queued != nil {
		s.Queued()
	}
}

// RequestInput asks the participants SignerIDs to agree to the PDF of a
// message.
type RequestInput struct {
	SignerIDs []int64
	// AllRecipients makes every participant but the requester a signer,
	// in the order they joined (the order of a new conversation's
	// addresses), instead of SignerIDs; members through a team are not
	// asked.
	AllRecipients bool
	InOrder       bool
	Deadline      time.Time // zero: none
	IP            string
}

// RequestTx puts the PDF attached to message messageID (just posted by the
// requester in tx, see messaging.ReplyInput.Within) to the signers, in the
// caller's transaction. Only internal users of the conversation's
// organisation ask (the document is sealed with its key); the signers must
// be participants of the conversation who may read it; the file must be a
// PDF by its content.
func (s *Service) RequestTx(ctx context.Context, tx bun.Tx, requester *db.User, threadID, messageID int64, in RequestInput) (int64, error) {
	now := s.Now().UTC()
	if requester.Kind != db.KindInternal {
		return 0, apperr.Field("signers", "signing.internal_only")
	}
	th, org, err := s.Messages.ThreadAccess(ctx, tx, requester, threadID)
	if err != nil {
		return 0, err
	}
	if requester.OrgID == nil || *requester.OrgID != th.OrgID {
		return 0, apperr.Field("signers", "signing.internal_only")
	}
	if in.AllRecipients {
		in.SignerIDs = nil
		if err := tx.NewSelect().Model((*db.Participant)(nil)).Column("user_id").
			Where("thread_id = ? AND user_id <> ? AND via_team_id IS NULL", th.ID, requester.ID).Order("id").Scan(ctx, &in.SignerIDs); err != nil {
			return 0, fmt.Errorf("load recipients: %w", err)
		}
	}
	if err := checkSigners(in.SignerIDs); err != nil {
		return 0, err
	}
	if !in.Deadline.IsZero() && !in.Deadline.After(now.Add(time.Hour)) {
		return 0, apperr.Field("deadline", "signing.deadline_past")
	}
	// Only participants who may read the conversation: a colleague who
	// left the medical team keeps their row in a medical one, but could
	// neither see the request nor ever agree to it.
	readers, err := s.Messages.Readers(ctx, tx, th.ID, in.SignerIDs)
	if err != nil {
		return 0, fmt.Errorf("check signers: %w", err)
	}
	if len(readers) != len(in.SignerIDs) {
		return 0, apperr.Field("signers", "signing.not_participant")
	}
	var atts []db.Attachment
	if err := tx.NewSelect().Model(&atts).Where("message_id = ?", messageID).Order("id").Scan(ctx); err != nil {
		return 0, fmt.Errorf("load attachments: %w", err)
	}
	var doc *db.Attachment
	for i := range atts {
		if atts[i].ContentType == "application/pdf" {
			doc = &atts[i]
			break
		}
	}
	if doc == nil {
		return 0, apperr.Field("attachments", "signing.pdf_required")
	}
	data, err := s.readAttachment(ctx, doc)
	if err != nil {
		return 0, err
	}
	if !bytes.HasPrefix(data, []byte("%PDF-")) {
		return 0, apperr.Field("attachments", "signing.pdf_required")
	}
	pages, err := s.Pages(data)
	if err != nil || pages < 1 {
		return 0, apperr.Field("attachments", "signing.pdf_unreadable")
	}
	name, err := s.Messages.AttachmentName(doc)
	if err != nil {
		return 0, err
	}
	sum := sha256.Sum256(data)
	r := &requestRow{ThreadID: th.ID, OrgID: org.ID, MessageID: &messageID, AttachmentID: &doc.ID, RequestedBy: &requester.ID,
		RequesterName: messaging.DisplayName(requester), SHA256: hex.EncodeToString(sum[:]), Pages: pages, InOrder: in.InOrder,
		Status: StatusOpen, CreatedAt: now, UpdatedAt: now}
	if !in.Deadline.IsZero() {
		r.Deadline = bun.NullTime{Time: in.Deadline.UTC()}
	}
	// The name is sealed under a placeholder first: its associated data
	// names the row, whose id the insert gives.
	r.NameSealed = []byte{}
	if _, err := tx.NewInsert().Model(r).Returning("id").Exec(ctx); err != nil {
		return 0, fmt.Errorf("store signing request: %w", err)
	}
	if _, err := tx.NewUpdate().Model((*requestRow)(nil)).Set("name_sealed = ?", s.Vault.Seal([]byte(name), nameAD(r.ID))).
		Where("id = ?", r.ID).Exec(ctx); err != nil {
		return 0, fmt.Errorf("store document name: %w", err)
	}
	signers := make([]signerRow, len(in.SignerIDs))
	for i, id := range in.SignerIDs {
		signers[i] = signerRow{RequestID: r.ID, UserID: &id, Position: i + 1, Status: SignerWaiting}
	}
	if _, err := tx.NewInsert().Model(&signers).Exec(ctx); err != nil {
		return 0, fmt.Errorf("store signers: %w", err)
	}
	if err := s.audit(ctx, tx, &requester.ID, org.ID, "signing.requested", r, in.IP); err != nil {
		return 0, err
	}
	return r.ID, nil
}

func checkSigners(ids []int64) error {
	if len(ids) == 0 {
		return apperr.Field("signers", "signing.signers_required")
	}
	if len(ids) > MaxSigners {
		return apperr.Field("signers", "signing.too_many_signers")
	}
	seen := map[int64]bool{}
	for _, id := range ids {
		if seen[id] {
			return apperr.Field("signers", "signing.signer_twice")
		}
		seen[id] = true
	}
	return nil
}

func nameAD(requestID int64) []byte {
	return []byte("signing:name:" + strconv.FormatInt(requestID, 10))
}
func reasonAD(signerID int64) []byte {
	return []byte("signing:reason:" + strconv.FormatInt(signerID, 10))
}
func proofAD(signerID int64) []byte {
	return []byte("signing:evidence:" + strconv.FormatInt(signerID, 10))
}
func purpose(signerID int64) string { return fmt.Sprintf(codePurposeFmt, signerID) }
func requestDetail(r *requestRow) string {
	return fmt.Sprintf("request %d thread %d sha256 %s", r.ID, r.ThreadID, r.SHA256)
}

func (s *Service) audit(ctx context.Context, idb bun.IDB, userID *int64, orgID int64, kind string, r *requestRow, ip string) error {
	return auth.Audit(ctx, idb, auth.AuditEntry{UserID: userID, ActorID: userID, Kind: kind, Detail: requestDetail(r), IP: ip, Now: s.Now(), OrgID: &orgID})
}

// readAttachment reads the stored document whole (a PDF of at most the
// attachment limit).
func (s *Service) readAttachment(ctx context.Context, a *db.Attachment) ([]byte, error) {
	rc, err := s.Messages.Files.Open(ctx, a.StorageKey, a.KeyID, a.BlobFormat)
	if err != nil {
		return nil, fmt.Errorf("open document %d: %w", a.ID, err)
	}
	defer rc.Close()
	data, err := io.ReadAll(io.LimitReader(rc, messaging.MaxAttachmentSize+1))
	if err != nil {
		return nil, fmt.Errorf("read document %d: %w", a.ID, err)
	}
	return data, nil
}

// access loads a request whose conversation the user takes part in and
// may read, and whose message they received (receivedRule); anything else
// is NotFound.
func (s *Service) access(ctx context.Context, idb bun.IDB, user *db.User, requestID int64) (*requestRow, *db.Organisation, error) {
	r, err := loadRequest(ctx, idb, requestID)
	if err != nil {
		return nil, nil, err
	}
	_, org, err := s.Messages.ThreadAccess(ctx, idb, user, r.ThreadID)
	if err != nil {
		return nil, nil, err
	}
	ok, err := idb.NewSelect().Model((*requestRow)(nil)).Where("?TableAlias.id = ?", r.ID).Where(receivedRule, user.ID).Exists(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("check signing request %d: %w", r.ID, err)
	}
	if !ok {
		return nil, nil, errNotFound
	}
	return r, org, nil
}

// receivedRule is the condition, beside the participant check, under which
// the user given as its argument sees a request (the query's model): they
// received its message, which was put in their box (also when they removed
// it since). Someone added to the conversation with only the messages from
// now on did not, and sees neither the request nor its document, as they
// cannot download the message's attachment. A request whose message is
// gone is left to the participant check.
// LiveCards asks the same for several people at once (the read states of
// the message among them); a change here goes there too.
const receivedRule = `(?TableAlias.message_id IS NULL OR EXISTS (
  SELECT 1 FROM message_states AS ms WHERE ms.message_id = ?TableAlias.message_id AND ms.user_id = ?))`

// loadSignerFor loads request r's signers in idb and returns the user's
// row whose turn it is (signerFor) with all of them.
func loadSignerFor(ctx context.Context, idb bun.IDB, r *requestRow, userID int64, now time.Time) (*signerRow, []signerRow, error) {
	signers, err := loadSigners(ctx, idb, r.ID)
	if err != nil {
		return nil, nil, err
	}
	me, err := signerFor(r, signers, userID, now)
	return me, signers, err
}

// signerFor is the user's waiting signer row of request r, whose turn it
// is at now: a non-signer gets NotFound, a signer who already acted or
// whose turn has not come Conflict, as does anyone once the deadline has
// passed (pastDeadline), before the periodic job marks the request expired.
func signerFor(r *requestRow, signers []signerRow, userID int64, now time.Time) (*signerRow, error) {
	var mine *signerRow
	for i := range signers {
		if signers[i].UserID != nil && *signers[i].UserID == userID {
			mine = &signers[i]
		}
	}
	if mine == nil {
		return nil, errNotFound
	}
	if r.Status != StatusOpen || mine.Status != SignerWaiting {
		return nil, apperr.New(apperr.Conflict, "signing.closed")
	}
	if r.pastDeadline(now) {
		return nil, apperr.New(apperr.Conflict, "signing.deadline_passed")
	}
	if r.InOrder && current(signers) != mine {
		return nil, apperr.New(apperr.Conflict, "signing.not_your_turn")
	}
	return mine, nil
}

// Method is how a signer confirms: a text to their verified number when
// they have one, else a code of their app.
type Method struct {
	Kind        string // seal.MethodSMS or seal.MethodApp
	Phone       string // E.164, for SMS
	MaskedPhone string
}

func (s *Service) method(ctx context.Context, idb bun.IDB, userID int64) (Method, error) {
	var fs []db.SecondFactor
	if err := idb.NewSelect().Model(&fs).Where("user_id = ? AND verified_at IS NOT NULL", userID).Order("id").Scan(ctx); err != nil {
		return Method{}, fmt.Errorf("load factors: %w", err)
	}
	return methodOf(fs)
}

// methods is method for several users at once, in one statement: the
// method of each of userIDs that has one.
func (s *Service) methods(ctx context.Context, idb bun.IDB, userIDs []int64) (map[int64]Method, error) {
	var fs []db.SecondFactor
	if err := idb.NewSelect().Model(&fs).Where("user_id IN (?) AND verified_at IS NOT NULL", bun.In(userIDs)).Order("user_id", "id").Scan(ctx); err != nil {
		return nil, fmt.Errorf("load factors: %w", err)
	}
	out := map[int64]Method{}
	for start := 0; start < len(fs); {
		end := start
		for end < len(fs) && fs[end].UserID == fs[start].UserID {
			end++
		}
		if m, err := methodOf(fs[start:end]); err == nil {
			out[fs[start].UserID] = m
		}
		start = end
	}
	return out, nil
}

// methodOf is how a user with the verified factors fs (oldest first)
// confirms: by text when they have a phone, else by their app.
func methodOf(fs []db.SecondFactor) (Method, error) {
	var m Method
	for _, f := range fs {
		switch f.Kind {
		case db.FactorSMS:
			return Method{Kind: seal.MethodSMS, Phone: f.Phone, MaskedPhone: auth.MaskPhone(f.Phone)}, nil
		case db.FactorTOTP:
			m.Kind = seal.MethodApp
		}
	}
	if m.Kind == "" {
		return m, apperr.New(apperr.Conflict, "signing.no_factor")
	}
	return m, nil
}

// codeMAC binds a signing code to its request, signer and document: a code
// sent for one document or one signer never matches another's.
func (s *Service) codeMAC(requestID, signerID int64, sha, code string) []byte {
	return s.Vault.MAC([]byte(fmt.Sprintf("signing|%d|%d|%s|%s", requestID, signerID, sha, code)))
}

func sixDigits() string {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("signing: random: " + err.Error())
	}
	return fmt.Sprintf("%06d", binary.BigEndian.Uint64(b[:])%1_000_000)
}

// View opens the original document of a request for a participant to
// read, and records that they did.
func (s *Service) View(ctx context.Context, who *identity.User, requestID int64, ip string) (string, []byte, error) {
	user := db.UserOf(who)
	r, org, err := s.access(ctx, s.DB, user, requestID)
	if err != nil {
		return "", nil, err
	}
	if r.AttachmentID == nil {
		return "", nil, errNotFound
	}
	var a db.Attachment
	if err := s.DB.NewSelect().Model(&a).Where("id = ?", *r.AttachmentID).Scan(ctx); err != nil {
		if db.ErrNoRows(err) {
			return "", nil, errNotFound
		}
		return "", nil, fmt.Errorf("load document: %w", err)
	}
	data, err := s.readAttachment(ctx, &a)
	if err != nil {
		return "", nil, err
	}
	name, err := s.Vault.Open(r.NameSealed, nameAD(r.ID))
	if err != nil {
		return "", nil, fmt.Errorf("open document name: %w", err)
	}
	if err := s.audit(ctx, s.DB, &user.ID, org.ID, "signing.viewed", r, ip); err != nil {
		return "", nil, err
	}
	return string(name), data, nil
}

// SendCode texts the signer a code for this request and document, when it
// is their turn and they confirm by SMS: valid CodeTTL, CodeTries tries; a
// new one after ResendAfter, within the per-number and per-IP caps of the
// first visit.
func (s *Service) SendCode(ctx context.Context, who *identity.User, requestID int64, ip string) error {
	user := db.UserOf(who)
	err := s.DB.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		now := s.Now().UTC()
		r, org, err := s.access(ctx, tx, user, requestID)
		if err != nil {
			return err
		}
		me, _, err := loadSignerFor(ctx, tx, r, user.ID, now)
		if err != nil {
			return err
		}
		m, err := s.method(ctx, tx, user.ID)
		if err != nil {
			return err
		}
		if m.Kind != seal.MethodSMS {
			return apperr.New(apperr.Conflict, "signing.use_app")
		}
		var last db.OneTimeCode
		err = tx.NewSelect().Model(&last).Where("user_id = ? AND purpose = ? AND used_at IS NULL", user.ID, purpose(me.ID)).Order("id DESC").Limit(1).Scan(ctx)
		if err != nil && !db.ErrNoRows(err) {
			return fmt.Errorf("load pending code: %w", err)
		}
		if err == nil {
			if wait := last.SentAt.Add(ResendAfter).Sub(now); wait > 0 {
				return waitError("code", wait)
			}
		}
		sent, err := tx.NewSelect().Model((*db.OneTimeCode)(nil)).Where("target = ? AND sent_at > ?", m.Phone, now.Add(-time.Hour)).Count(ctx)
		if err != nil {
			return fmt.Errorf("count texts to number: %w", err)
		}
		if sent >= auth.SMSPerNumberHour {
			return apperr.Field("code", "sms.number_cap")
		}
		// The address's texts are counted in this transaction, once the
		// text is going to be sent: a request refused above (not the
		// user's to sign, too soon) uses up nothing of the allowance of
		// others at the same address.
		if ok, wait, err := s.Limiter.AllowIn(ctx, tx, auth.IPKey("sms", ip), smsPerIPHour, time.Hour); err != nil {
			return err
		} else if !ok {
			return waitError("code", wait)
		}
		if _, err := tx.NewUpdate().Model((*db.OneTimeCode)(nil)).Set("used_at = ?", now).
			Where("user_id = ? AND purpose = ? AND used_at IS NULL", user.ID, purpose(me.ID)).Exec(ctx); err != nil {
			return fmt.Errorf("retire old code: %w", err)
		}
		code := sixDigits()
		otc := &db.OneTimeCode{UserID: user.ID, Purpose: purpose(me.ID), Target: m.Phone, CodeHash: s.codeMAC(r.ID, me.ID, r.SHA256, code),
			SentAt: now, ExpiresAt: now.Add(CodeTTL)}
		if _, err := tx.NewInsert().Model(otc).Exec(ctx); err != nil {
			return fmt.Errorf("store code: %w", err)
		}
		if _, err := s.Outbox.QueueSMS(ctx, tx, notify.SMS{To: m.Phone, Body: s.CodeText(user.Language, code), SendBy: otc.ExpiresAt}); err != nil {
			return err
		}
		return s.audit(ctx, tx, &user.ID, org.ID, "signing.code_sent", r, ip)
	})
	if err != nil {
		return fmt.Errorf("send signing code: %w", err)
	}
	s.queued()
	return nil
}

func waitError(field string, wait time.Duration) error {
	return &auth.WaitError{Err: &apperr.Error{Code: apperr.TooMany, Key: "error.wait", Field: field}, Wait: max(time.Second, wait.Round(time.Second))}
}

// AgreeInput is a signer's agreement.
type AgreeInput struct {
	Read      bool   // "Ik heb het document gelezen en ga akkoord"
	Code      string // from the text, or of the app
	IP        string
	UserAgent string
}

// evidence is what is stored of one agreement (sealed).
type evidence struct {
	Name        string    `json:"name"`
	Email       string    `json:"email"`
	Method      string    `json:"method"`
	MaskedPhone string    `json:"masked_phone,omitempty"`
	At          time.Time `json:"at"`
	IP          string    `json:"ip"`
	UserAgent   string    `json:"user_agent"`
	SHA256      string    `json:"sha256"`
}

// Agree records the user's agreement to a request, confirmed by a code: it
// must be their turn, the code must be the one sent for this request,
// signer and document (or a current code of their app), and the stored
// document must still have the SHA-256 it had when it was put to them.
// When it is the last agreement, the sealed PDF is added to the
// conversation.
func (s *Service) Agree(ctx context.Context, who *identity.User, requestID int64, in AgreeInput) error {
	user := db.UserOf(who)
	r, _, err := s.access(ctx, s.DB, user, requestID)
	if err != nil {
		return err
	}
	me, _, err := loadSignerFor(ctx, s.DB, r, user.ID, s.Now().UTC())
	if err != nil {
		return err
	}
	if !in.Read {
		return apperr.Field("read", "signing.read_required")
	}
	code := strings.ReplaceAll(strings.TrimSpace(in.Code), " ", "")
	if len(code) != 6 {
		return apperr.Field("code", "code.wrong")
	}
	m, err := s.method(ctx, s.DB, user.ID)
	if err != nil {
		return err
	}
	if err := s.Codes.AttemptCode(ctx, user.ID, in.IP); err != nil {
		return err
	}
	var codeID int64
	if m.Kind == seal.MethodSMS {
		if codeID, err = s.claimCode(ctx, user.ID, me.ID); err != nil {
			return err
		}
	}
	// The document as stored now, compared with what was put to the
	// signers.
	var a db.Attachment
	if r.AttachmentID == nil {
		return apperr.New(apperr.Conflict, "signing.document_changed")
	}
	if err := s.DB.NewSelect().Model(&a).Where("id = ?", *r.AttachmentID).Scan(ctx); err != nil {
		if db.ErrNoRows(err) {
			return apperr.New(apperr.Conflict, "signing.document_changed")
		}
		return fmt.Errorf("load document: %w", err)
	}
	data, err := s.readAttachment(ctx, &a)
	if err != nil {
		s.Log.WarnContext(ctx, "signing document unreadable", "request", r.ID, "err", err)
		return apperr.New(apperr.Conflict, "signing.document_changed")
	}
	sum := sha256.Sum256(data)
	if !hmac.Equal([]byte(hex.EncodeToString(sum[:])), []byte(r.SHA256)) {
		s.Log.WarnContext(ctx, "signing document changed since the request", "request", r.ID)
		return apperr.New(apperr.Conflict, "signing.document_changed")
	}
	var complete bool
	var later []messaging.Event
	err = s.DB.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		now := s.Now().UTC()
		r, err := lockRequest(ctx, tx, r.ID, now)
		if err != nil {
			return err
		}
		me, signers, err := loadSignerFor(ctx, tx, r, user.ID, now)
		if err != nil {
			return err
		}
		switch m.Kind {
		case seal.MethodSMS:
			var c db.OneTimeCode
			err := tx.NewSelect().Model(&c).Where("id = ? AND user_id = ? AND purpose = ? AND used_at IS NULL", codeID, user.ID, purpose(me.ID)).Scan(ctx)
			if db.ErrNoRows(err) {
				return apperr.Field("code", "code.none")
			}
			if err != nil {
				return fmt.Errorf("load code: %w", err)
			}
			if !hmac.Equal(s.codeMAC(r.ID, me.ID, r.SHA256, code), c.CodeHash) || c.Target != m.Phone {
				return apperr.Field("code", "code.wrong")
			}
			if _, err := tx.NewUpdate().Model((*db.OneTimeCode)(nil)).Set("used_at = ?", now).Where("id = ?", c.ID).Exec(ctx); err != nil {
				return fmt.Errorf("use code: %w", err)
			}
		default:
			if err := s.Codes.UseAppCodeTx(ctx, tx, user.ID, code); err != nil {
				return err
			}
		}
		ev := evidence{Name: messaging.DisplayName(user), Email: user.Email, Method: m.Kind, MaskedPhone: m.MaskedPhone, At: now,
			IP: in.IP, UserAgent: clip(in.UserAgent, 512), SHA256: r.SHA256}
		plain, err := json.Marshal(ev)
		if err != nil {
			return fmt.Errorf("encode evidence: %w", err)
		}
		res, err := tx.NewUpdate().Model((*signerRow)(nil)).Set("status = ?", SignerAgreed).Set("decided_at = ?", now).
			Set("evidence_sealed = ?", s.Vault.Seal(plain, proofAD(me.ID))).Where("id = ? AND status = ?", me.ID, SignerWaiting).Exec(ctx)
		if err != nil {
			return fmt.Errorf("store agreement: %w", err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return apperr.New(apperr.Conflict, "signing.closed")
		}
		me.Status = SignerAgreed
		complete = current(signers) == nil
		if complete {
			if _, err := tx.NewUpdate().Model((*requestRow)(nil)).Set("status = ?", StatusAgreed).Where("id = ?", r.ID).Exec(ctx); err != nil {
				return fmt.Errorf("complete request: %w", err)
			}
		}
		if err := s.audit(ctx, tx, &user.ID, r.OrgID, "signing.agreed", r, in.IP); err != nil {
			return err
		}
		later, err = s.stageChange(ctx, tx, r)
		return err
	})
	if err != nil {
		return fmt.Errorf("agree: %w", err)
	}
	s.Codes.CodeSucceeded(ctx, user.ID)
	s.Messages.PublishEvents(ctx, later)
	if complete {
		// A failure here leaves the request agreed; the periodic run
		// tries again.
		if err := s.Finish(ctx, r.ID); err != nil {
			s.Log.ErrorContext(ctx, "seal agreed document", "request", r.ID, "err", err)
		}
	}
	return nil
}

// claimCode counts a try at the signer's newest pending code before it is
// checked, outside any transaction (so a wrong code stays counted), and
// returns its id; at most CodeTries tries of a code are checked.
func (s *Service) claimCode(ctx context.Context, userID, signerID int64) (int64, error) {
	now := s.Now().UTC()
	var id int64
	err := s.DB.NewRaw(`UPDATE one_time_codes SET attempts = attempts + 1
WHERE id = (SELECT MAX(id) FROM one_time_codes WHERE user_id = ? AND purpose = ? AND used_at IS NULL)
  AND attempts < ? AND expires_at > ?
RETURNING id`, userID, purpose(signerID), CodeTries, now).Scan(ctx, &id)
	if err == nil {
		return id, nil
	}
	if !db.ErrNoRows(err) {
		return 0, fmt.Errorf("count code try: %w", err)
	}
	var c db.OneTimeCode
	err = s.DB.NewSelect().Model(&c).Where("user_id = ? AND purpose = ? AND used_at IS NULL", userID, purpose(signerID)).Order("id DESC").Limit(1).Scan(ctx)
	switch {
	case db.ErrNoRows(err):
		return 0, apperr.Field("code", "code.none")
	case err != nil:
		return 0, fmt.Errorf("load code: %w", err)
	case !now.Before(c.ExpiresAt):
		return 0, apperr.Field("code", "code.expired")
	default:
		return 0, apperr.Field("code", "code.too_many_tries")
	}
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// Decline records that the user does not agree, with a reason the others
// see; the request is closed.
func (s *Service) Decline(ctx context.Context, who *identity.User, requestID int64, reason, ip string) error {
	user := db.UserOf(who)
	reason = strings.TrimSpace(messaging.CleanLine(reason))
	var later []messaging.Event
	err := s.DB.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		now := s.Now().UTC()
		if _, _, err := s.access(ctx, tx, user, requestID); err != nil {
			return err
		}
		r, err := lockRequest(ctx, tx, requestID, now)
		if err != nil {
			return err
		}
		me, _, err := loadSignerFor(ctx, tx, r, user.ID, now)
		if err != nil {
			return err
		}
		switch {
		case reason == "":
			return apperr.Field("reason", "signing.reason_required")
		case utf8.RuneCountInString(reason) > MaxReason:
			return apperr.Field("reason", "signing.reason_too_long")
		}
		if _, err := tx.NewUpdate().Model((*signerRow)(nil)).Set("status = ?", SignerDeclined).Set("decided_at = ?", now).
			Set("reason_sealed = ?", s.Vault.Seal([]byte(reason), reasonAD(me.ID))).Where("id = ?", me.ID).Exec(ctx); err != nil {
			return fmt.Errorf("store decline: %w", err)
		}
		if _, err := tx.NewUpdate().Model((*requestRow)(nil)).Set("status = ?", StatusDeclined).Set("closed_at = ?", now).
			Where("id = ?", r.ID).Exec(ctx); err != nil {
			return fmt.Errorf("close request: %w", err)
		}
		if err := s.audit(ctx, tx, &user.ID, r.OrgID, "signing.declined", r, ip); err != nil {
			return err
		}
		later, err = s.stageChange(ctx, tx, r)
		return err
	})
	if err != nil {
		return fmt.Errorf("decline: %w", err)
	}
	s.Messages.PublishEvents(ctx, later)
	return nil
}

// stageChange stages the live event of a change to r for every
// participant of its conversation.
func (s *Service) stageChange(ctx context.Context, tx bun.Tx, r *requestRow) ([]messaging.Event, error) {
	return s.stageChanges(ctx, tx, []*requestRow{r})
}

// stageChanges is stageChange for each of rs, their conversations'
// participants read at once.
func (s *Service) stageChanges(ctx context.Context, tx bun.Tx, rs []*requestRow) ([]messaging.Event, error) {
	if len(rs) == 0 {
		return nil, nil
	}
	var tids []int64
	for _, r := range rs {
		if !slices.Contains(tids, r.ThreadID) {
			tids = append(tids, r.ThreadID)
		}
	}
	var ps []struct {
		ThreadID int64
		UserID   int64
	}
	if err := tx.NewSelect().Model((*db.Participant)(nil)).Column("thread_id", "user_id").Where("thread_id IN (?)", bun.In(tids)).
		Order("thread_id", "id").Scan(ctx, &ps); err != nil {
		return nil, fmt.Errorf("load participants: %w", err)
	}
	users := make(map[int64][]int64, len(tids))
	for _, p := range ps {
		users[p.ThreadID] = append(users[p.ThreadID], p.UserID)
	}
	evs := make([]messaging.Event, len(rs))
	for i, r := range rs {
		evs[i] = messaging.Event{Kind: EventSigning, ThreadID: r.ThreadID, MessageID: r.ID, UserIDs: slices.Clone(users[r.ThreadID])}
	}
	return s.Messages.StageEvents(ctx, tx, evs)
}

// Within is RequestTx as the reply's own change (messaging.ReplyInput.Within):
// the reply and the request commit together or not at all.
func (s *Service) Within(who *identity.User, threadID int64, in RequestInput) messaging.WithinFunc {
	requester := db.UserOf(who)
	return func(ctx context.Context, tx bun.Tx, messageID int64) ([]messaging.Event, error) {
		id, err := s.RequestTx(ctx, tx, requester, threadID, messageID, in)
		if err != nil {
			return nil, err
		}
		var ids []int64
		if err := tx.NewSelect().Model((*db.Participant)(nil)).Column("user_id").Where("thread_id = ?", threadID).Order("id").Scan(ctx, &ids); err != nil {
			return nil, fmt.Errorf("load participants: %w", err)
		}
		return []messaging.Event{{Kind: EventSigningNew, ThreadID: threadID, MessageID: id, UserIDs: ids, ActorID: requester.ID}}, nil
	}
}

// WithinCompose is Within for a conversation being started
// (messaging.ComposeInput.Within), whose id the message names.
func (s *Service) WithinCompose(who *identity.User, in RequestInput) messaging.WithinFunc {
	return func(ctx context.Context, tx bun.Tx, messageID int64) ([]messaging.Event, error) {
		var threadID int64
		if err := tx.NewSelect().Model((*db.Message)(nil)).Column("thread_id").Where("id = ?", messageID).Scan(ctx, &threadID); err != nil {
			return nil, fmt.Errorf("load new conversation: %w", err)
		}
		return s.Within(who, threadID, in)(ctx, tx, messageID)
	}
}
