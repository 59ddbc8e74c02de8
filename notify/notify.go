// Package notify delivers mail and text messages through a durable outbox:
// the code that causes a message writes an outbox row in its own transaction
// (QueueMail, QueueSMS), and a Worker delivers the rows afterwards through an
// SMTP server (Mailer) or an SMS gateway (SMSSender). A message is therefore
// sent if and only if the state change that caused it committed.
//
// # The outbox row
//
// A row carries a random 128-bit idempotency key, the channel, the bare
// recipient (for the dev outbox listing) and the payload: the JSON of the Mail
// or SMS, sealed by the vault with the idempotency key as associated data, so
// that a payload cannot be moved to another row unnoticed. After a delivery
// through a real transport the payload is cleared (set to NULL); rows
// delivered by the dev transport keep it so that the dev outbox can show them.
//
// # Lanes
//
// Each channel is a lane with its own deliveries in flight (SMS 4, mail 2 by
// default) and its own timeout (10 s for an SMS request, 30 s for a whole
// SMTP session), so a hanging SMTP server never holds up a login code. A lane
// claims only rows of its channel, and only as many as it has free slots, so
// every claimed row is being delivered.
//
// # Delivery semantics
//
// Claiming happens in a short transaction. A row is due when it is pending
// with next_attempt_at <= now, or when it is sending with locked_until < now
// (a worker crashed or was stopped in the middle of a delivery). Due rows are
// claimed as status sending, locked_until = now + Lease (6 s by default),
// attempts + 1. While it sends, the worker renews the lease every Lease/3,
// so a slow delivery keeps its row, and the rows of a worker that died are
// claimed again by another within seconds. On PostgreSQL the select uses FOR
// UPDATE SKIP LOCKED, so several instances share the work without blocking
// each other; on SQLite transactions are IMMEDIATE (one writer at a time), so
// a plain select and update inside the transaction is safe.
//
// Delivery happens outside the transaction. The result, like every renewal,
// is recorded only if the row is still the claim this worker made (same
// status and attempt count), so a worker that lost its lease never
// overwrites a newer claim (and a renewal that finds the row claimed again
// cancels the delivery):
//   - success: status sent, sent_at, transport = the sender's Name(), payload
//     cleared unless the transport is "dev";
//   - a rejection (RejectedError: an SMTP 5xx reply to RCPT TO or to the
//     message, a gateway's 400/413/422): failed at once, with the reason;
//   - any other failure: last_error = the error (never credentials: URLs in
//     errors are redacted, SMTP passwords are scrubbed) and status pending
//     again with next_attempt_at = now + BaseBackoff*2^(attempts-1), capped at
//     MaxBackoff (1 h), minus up to a quarter of jitter;
//   - a row that still only meets temporary errors MaxAge (72 h) after it was
//     queued is failed at its next failure. "Failed" thus means that the
//     message was refused, or that delivery was impossible for three days;
//     an outage of a day or a weekend fails nothing;
//   - a payload that cannot be opened or parsed: failed at once, with the reason.
//
// A failure that is not about the row (no connection, a timeout, TLS or login
// trouble, a gateway's 5xx) marks the lane down: it then sends one row at a
// time. The first answer of the transport about a row (a success, a
// rejection, a deferral) marks it up again and re-arms the lane: every
// pending row of the channel waiting out a backoff becomes due at once, so
// the queue goes out as soon as the transport recovers instead of row by row
// as each backoff ends. A lane starts down, so that the first success after a
// restart re-arms rows that failed before it.
//
// When the worker's own context ends during a delivery, the outcome is
// unknown and nothing is recorded: the row stays sending until its lease
// expires and is then delivered again.
//
// This is at-least-once delivery towards the transport. What keeps a row from
// reaching a person twice after a crash is the idempotency key, which goes with
// every attempt of the same row: mail carries a Message-ID derived from it
// (<key@domain-of-from>), by which receiving systems and clients recognise a
// duplicate; the webhook gateway receives it in the Idempotency-Key header and
// Twilio in I-Twilio-Idempotency-Token, so the gateway deduplicates a retried
// request. A gateway that ignores these headers may deliver a re-sent text twice.
//
// The worker logs through log/slog with row ids, channels and transports; it
// never logs payloads or recipients.
package notify

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/mail"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect"

	"dialoog/db"
	"dialoog/vault"
)

// Mail is a message to one mail address.
type Mail struct {
	To string `json:"to"` // a mail address, may include a display name
	// FromName, when set, replaces the display name of the sender; the
	// address stays the installation's.
	FromName string `json:"from_name,omitempty"`
	Subject  string `json:"subject"`
	HTML     string `json:"html"`
	Text     string `json:"text"`
	// Notice, when set, makes the mail a notice of a new message that is
	// sent only while WorkerOptions.NoticeWanted says it still has
	// something to tell.
	Notice *Notice `json:"notice,omitempty"`
	// Delay is how long after queueing the mail is first tried. Not part of
	// the payload.
	Delay time.Duration `json:"-"`
}

// Notice names what a content-free notice of a new message tells of: the
// messaging participant row (a person in a conversation) and the moment
// the notice was decided. The worker asks WorkerOptions.NoticeWanted
// before sending it, so that a message read in the meantime is not mailed.
type Notice struct {
	Participant int64     `json:"participant"`
	At          time.Time `json:"at"`
	// Author is the account whose message the notice tells of (0 in
	// notices queued before it was recorded): a mail that names them can
	// be found again when they delete their account (RewriteNotices).
	Author int64 `json:"author,omitempty"`
}

// SMS is a text message to one mobile number.
type SMS struct {
	To   string `json:"to"` // E.164, e.g. +31612345678
	Body string `json:"body"`
	// SendBy, when not zero, is when the text stops being worth sending
	// (a code's expiry): it is then never sent. Not part of the payload.
	SendBy time.Time `json:"-"`
}

// Outbox queues messages in the caller's transaction.
type Outbox struct {
	vault *vault.Vault
	// Now is the clock that stamps the rows it queues (created_at, and
	// next_attempt_at as a delay after it): the clock of the service that
	// queues them, so that a row's times agree with the rest of its
	// transaction. Default time.Now.
	Now func() time.Time
}

// NewOutbox returns an outbox that seals payloads with v, on the machine's
// clock (see WithClock).
func NewOutbox(v *vault.Vault) *Outbox { return &Outbox{vault: v} }

// WithClock sets o's clock (Outbox.Now) and returns o.
func (o *Outbox) WithClock(now func() time.Time) *Outbox {
	o.Now = now
	return o
}

// now is the time of o's clock.
func (o *Outbox) now() time.Time {
	if o.Now == nil {
		return time.Now()
	}
	return o.Now()
}

var e164 = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)

// QueueMail inserts a pending outbox row for m using idb (normally the
// caller's transaction) and returns its id.
func (o *Outbox) QueueMail(ctx context.Context, idb bun.IDB, m Mail) (int64, error) {
	addr, err := mailAddress(m)
	if err != nil {
		return 0, err
	}
	return o.queueMail(ctx, idb, addr, m)
}

// mailAddress checks m (a recipient's address and a body) and returns the
// address alone, for QueueMail and QueueMails.
func mailAddress(m Mail) (string, error) {
	addr, err := mail.ParseAddress(m.To)
	if err != nil {
		return "", fmt.Errorf("queue mail: recipient: %w", err)
	}
	if m.HTML == "" && m.Text == "" {
		return "", errors.New("queue mail: empty body")
	}
	return addr.Address, nil
}

// sealMail returns a new idempotency key for m and m's payload sealed
// under it.
func (o *Outbox) sealMail(m Mail) (key string, payload []byte, err error) {
	plain, err := json.Marshal(m)
	if err != nil {
		return "", nil, fmt.Errorf("queue mail: encode: %w", err)
	}
	if key, err = newIdempotencyKey(); err != nil {
		return "", nil, fmt.Errorf("queue mail: %w", err)
	}
	return key, o.vault.Seal(plain, []byte(key)), nil
}

// queueMailQuery inserts a mail row unless the address belongs to a
// disabled account, in one statement: the rule "no mail to a disabled
// user", whatever asks for the mail (a message alert, an invitation, a
// security mail, the daily summary). QueueMails keeps the same rule for a
// batch, with a lookup of the disabled addresses before its insert.
const queueMailQuery = `INSERT INTO outbox (idempotency_key, channel, recipient, payload, status, next_attempt_at, created_at)
SELECT ?, ?, ?, ?, ?, ?, ? WHERE NOT EXISTS (SELECT 1 FROM users WHERE email = ? AND status = ?) RETURNING id`

// queueMail is queue for mail to recipient; it returns 0 and queues
// nothing for a disabled account's address.
func (o *Outbox) queueMail(ctx context.Context, idb bun.IDB, recipient string, m Mail) (int64, error) {
	key, payload, err := o.sealMail(m)
	if err != nil {
		return 0, err
	}
	now := o.now()
	var id int64
	err = idb.NewRaw(queueMailQuery, key, db.ChannelMail, recipient, payload, db.OutboxPending, now.Add(max(m.Delay, 0)), now,
		strings.ToLower(recipient), db.StatusDisabled).Scan(ctx, &id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("queue mail: insert outbox row: %w", err)
	}
	return id, nil
}

// queueMailsChunk is how many mails one statement of QueueMails names.
const queueMailsChunk = 500

// QueueMails is QueueMail for several mails at once (a new message's
// notices to everyone in a conversation, a run of daily summaries): two
// statements a chunk of queueMailsChunk, whatever the number of mails,
// instead of one per mail. It keeps the rule of queueMailQuery: no mail
// to a disabled account's address (looked up first, in idb, normally the
// caller's transaction, as that statement's snapshot would). It returns
// how many it queued.
func (o *Outbox) QueueMails(ctx context.Context, idb bun.IDB, ms []Mail) (int, error) {
	if len(ms) == 1 {
		// One mail is one statement (queueMailQuery).
		id, err := o.QueueMail(ctx, idb, ms[0])
		if err != nil || id == 0 {
			return 0, err
		}
		return 1, nil
	}
	queued := 0
	for chunk := range slices.Chunk(ms, queueMailsChunk) {
		recipients := make([]string, len(chunk))
		lower := make([]string, len(chunk))
		for i, m := range chunk {
			addr, err := mailAddress(m)
			if err != nil {
				return queued, err
			}
			recipients[i], lower[i] = addr, strings.ToLower(addr)
		}
		var disabled []string
		if err := idb.NewSelect().Table("users").Column("email").Where("email IN (?) AND status = ?", bun.In(lower), db.StatusDisabled).
			Scan(ctx, &disabled); err != nil && !errors.Is(err, sql.ErrNoRows) {
			return queued, fmt.Errorf("queue mails: disabled accounts: %w", err)
		}
		skip := make(map[string]bool, len(disabled))
		for _, e := range disabled {
			skip[e] = true
		}
		now := o.now()
		items := make([]db.OutboxItem, 0, len(chunk))
		for i, m := range chunk {
			if skip[lower[i]] {
				continue
			}
			key, payload, err := o.sealMail(m)
			if err != nil {
				return queued, err
			}
			items = append(items, db.OutboxItem{IdempotencyKey: key, Channel: db.ChannelMail, Recipient: recipients[i],
				Payload: payload, Status: db.OutboxPending, NextAttemptAt: now.Add(max(m.Delay, 0)), CreatedAt: now})
		}
		if len(items) == 0 {
			continue
		}
		if _, err := idb.NewInsert().Model(&items).Exec(ctx); err != nil {
			return queued, fmt.Errorf("queue mails: insert outbox rows: %w", err)
		}
		queued += len(items)
	}
	return queued, nil
}

// QueueSMS inserts a pending outbox row for s using idb (normally the
// caller's transaction) and returns its id.
func (o *Outbox) QueueSMS(ctx context.Context, idb bun.IDB, s SMS) (int64, error) {
	if !e164.MatchString(s.To) {
		return 0, errors.New("queue sms: recipient is not an E.164 number")
	}
	if s.Body == "" {
		return 0, errors.New("queue sms: empty body")
	}
	return o.queue(ctx, idb, db.ChannelSMS, s.To, s, s.SendBy)
}

func (o *Outbox) queue(ctx context.Context, idb bun.IDB, channel, recipient string, payload any, sendBy time.Time) (int64, error) {
	plain, err := json.Marshal(payload)
	if err != nil {
		return 0, fmt.Errorf("queue %s: encode: %w", channel, err)
	}
	key, err := newIdempotencyKey()
	if err != nil {
		return 0, fmt.Errorf("queue %s: %w", channel, err)
	}
	now := o.now()
	item := &db.OutboxItem{
		IdempotencyKey: key,
		Channel:        channel,
		Recipient:      recipient,
		Payload:        o.vault.Seal(plain, []byte(key)),
		Status:         db.OutboxPending,
		NextAttemptAt:  now,
		CreatedAt:      now,
		SendBy:         bun.NullTime{Time: sendBy},
	}
	if _, err := idb.NewInsert().Model(item).Exec(ctx); err != nil {
		return 0, fmt.Errorf("queue %s: insert outbox row: %w", channel, err)
	}
	return item.ID, nil
}

// newIdempotencyKey returns 128 random bits in hex.
func newIdempotencyKey() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("idempotency key: %w", err)
	}
	return hex.EncodeToString(b), nil
}

// openPayload decrypts and parses the payload of a row into a Mail or SMS.
func openPayload(v *vault.Vault, it *db.OutboxItem) (*Mail, *SMS, error) {
	if it.Payload == nil {
		return nil, nil, errors.New("payload is empty")
	}
	plain, err := v.Open(it.Payload, []byte(it.IdempotencyKey))
	if err != nil {
		return nil, nil, fmt.Errorf("open payload: %w", err)
	}
	switch it.Channel {
	case db.ChannelMail:
		var m Mail
		if err := json.Unmarshal(plain, &m); err != nil {
			return nil, nil, fmt.Errorf("parse mail payload: %w", err)
		}
		return &m, nil, nil
	case db.ChannelSMS:
		var s SMS
		if err := json.Unmarshal(plain, &s); err != nil {
			return nil, nil, fmt.Errorf("parse sms payload: %w", err)
		}
		return nil, &s, nil
	default:
		return nil, nil, fmt.Errorf("unknown channel %q", it.Channel)
	}
}

// DevItem is an outbox row for the dev outbox page.
type DevItem struct {
	ID        int64
	Channel   string
	Recipient string
	Mail      *Mail // set for mail rows whose payload is still stored
	SMS       *SMS  // set for SMS rows whose payload is still stored
	Status    string
	CreatedAt time.Time
	SentAt    time.Time // zero while not sent
	LastError string
	Attempts  int
}

// DevItems lists outbox rows newest first with their payloads decrypted
// (rows delivered by the dev transport keep their payload; rows delivered
// through a real transport have none). limit <= 0 means 100.
func DevItems(ctx context.Context, d *db.DB, v *vault.Vault, limit int) ([]DevItem, error) {
	if limit <= 0 {
		limit = 100
	}
	var rows []db.OutboxItem
	if err := d.NewSelect().Model(&rows).Order("id DESC").Limit(int64(limit)).Scan(ctx); err != nil {
		return nil, fmt.Errorf("list outbox: %w", err)
	}
	out := make([]DevItem, 0, len(rows))
	for i := range rows {
		r := &rows[i]
		it := DevItem{
			ID:        r.ID,
			Channel:   r.Channel,
			Recipient: r.Recipient,
			Status:    r.Status,
			CreatedAt: r.CreatedAt,
			LastError: r.LastError,
			Attempts:  r.Attempts,
		}
		if !r.SentAt.IsZero() {
			it.SentAt = r.SentAt.Time
		}
		if r.Payload != nil {
			// A payload that does not open is shown without content.
			it.Mail, it.SMS, _ = openPayload(v, r)
		}
		out = append(out, it)
	}
	return out, nil
}

// LatestDevMailTo returns the newest queued mail to the address to (compared
// without display name and case) whose payload is still stored.
func LatestDevMailTo(ctx context.Context, d *db.DB, v *vault.Vault, to string) (*Mail, error) {
	if a, err := mail.ParseAddress(to); err == nil {
		to = a.Address
	}
	r, err := latest(ctx, d, db.ChannelMail, to)
	if err != nil {
		return nil, err
	}
	m, _, err := openPayload(v, r)
	if err != nil {
		return nil, fmt.Errorf("latest mail: outbox row %d: %w", r.ID, err)
	}
	return m, nil
}

// LatestDevSMSTo returns the newest queued text to the number to whose
// payload is still stored.
func LatestDevSMSTo(ctx context.Context, d *db.DB, v *vault.Vault, to string) (*SMS, error) {
	r, err := latest(ctx, d, db.ChannelSMS, strings.TrimSpace(to))
	if err != nil {
		return nil, err
	}
	_, s, err := openPayload(v, r)
	if err != nil {
		return nil, fmt.Errorf("latest sms: outbox row %d: %w", r.ID, err)
	}
	return s, nil
}

func latest(ctx context.Context, d *db.DB, channel, to string) (*db.OutboxItem, error) {
	r := new(db.OutboxItem)
	err := d.NewSelect().Model(r).
		Where("channel = ?", channel).
		Where("lower(recipient) = lower(?)", to).
		Where("payload IS NOT NULL").
		Order("id DESC").Limit(1).Scan(ctx)
	if db.ErrNoRows(err) {
		return nil, fmt.Errorf("latest %s: no outbox row for this recipient", channel)
	}
	if err != nil {
		return nil, fmt.Errorf("latest %s: %w", channel, err)
	}
	return r, nil
}

// Forget is the outbox's part of deleting a person, in the caller's
// transaction: mail and texts still queued for any of recipients (mail
// addresses, E.164 numbers) are withdrawn, and delivered or failed rows
// keep no trace of them (recipient, payload and error text are erased; the
// row itself stays for the delivery statistics).
func Forget(ctx context.Context, idb bun.IDB, recipients []string) error {
	if len(recipients) == 0 {
		return nil
	}
	if err := Withdraw(ctx, idb, recipients); err != nil {
		return err
	}
	if _, err := idb.NewUpdate().Model((*db.OutboxItem)(nil)).
		Set("recipient = ''").Set("payload = NULL").Set("last_error = ''").
		Where("recipient IN (?)", bun.In(recipients)).Exec(ctx); err != nil {
		return fmt.Errorf("erase delivered messages: %w", err)
	}
	return nil
}

// RewriteNotices lets change rewrite the notices of new messages (mails
// with a Notice) still queued for any of recipients, in the caller's
// transaction: change gets the row's recipient and its mail, and returns
// whether it changed the mail; a changed mail is sealed again under the
// row's own idempotency key. It returns how many rows it changed. Only
// rows not yet claimed are rewritten; on PostgreSQL they are locked, so
// that a worker claims them (SKIP LOCKED) only after the caller's commit,
// with the new payload.
func (o *Outbox) RewriteNotices(ctx context.Context, idb bun.IDB, recipients []string, change func(recipient string, m *Mail) (bool, error)) (int, error) {
	n := 0
	err := o.queuedNotices(ctx, idb, db.ChannelMail, recipients, func(r *db.OutboxItem, m *Mail) error {
		changed, err := change(r.Recipient, m)
		if err != nil || !changed {
			return err
		}
		plain, err := json.Marshal(m)
		if err != nil {
			return fmt.Errorf("rewrite notice: encode: %w", err)
		}
		if _, err := idb.NewUpdate().Model((*db.OutboxItem)(nil)).Set("payload = ?", o.vault.Seal(plain, []byte(r.IdempotencyKey))).
			Where("id = ? AND status = ?", r.ID, db.OutboxPending).Exec(ctx); err != nil {
			return fmt.Errorf("rewrite notice: %w", err)
		}
		n++
		return nil
	})
	return n, err
}

// CancelNotices takes out of the outbox, in the caller's transaction, the
// notices of new messages still queued for the participant row
// participant (Notice.Participant) of the person with address email and
// id userID: the mails to the address and the pushes to their
// subscriptions (someone taken out of a conversation is told nothing
// more of it). Other mail to them stays. It returns how many rows it took
// out. A row a worker claimed already is left to it (NoticeWanted finds
// nothing to tell of a participant row that is gone).
func (o *Outbox) CancelNotices(ctx context.Context, idb bun.IDB, email string, userID, participant int64) (int, error) {
	var subs []int64
	if err := idb.NewSelect().Model((*db.PushSubscription)(nil)).Column("id").Where("user_id = ?", userID).Scan(ctx, &subs); err != nil && !db.ErrNoRows(err) {
		return 0, fmt.Errorf("cancel notices: subscriptions: %w", err)
	}
	pushes := make([]string, len(subs))
	for i, id := range subs {
		pushes[i] = pushRecipient(id)
	}
	var ids []int64
	for _, q := range []struct {
		channel    string
		recipients []string
	}{{db.ChannelMail, []string{email}}, {db.ChannelPush, pushes}} {
		err := o.queuedNotices(ctx, idb, q.channel, q.recipients, func(r *db.OutboxItem, m *Mail) error {
			ids = append(ids, r.ID)
			return nil
		}, participant)
		if err != nil {
			return 0, err
		}
	}
	n := 0
	for chunk := range slices.Chunk(ids, 500) {
		res, err := idb.NewDelete().Model((*db.OutboxItem)(nil)).Where("id IN (?) AND status = ?", bun.In(chunk), db.OutboxPending).Exec(ctx)
		if err != nil {
			return n, fmt.Errorf("cancel notices: %w", err)
		}
		k, err := res.RowsAffected()
		if err != nil {
			return n, fmt.Errorf("cancel notices: %w", err)
		}
		n += int(k)
	}
	return n, nil
}

// queuedNotices calls each for every notice of a new message of channel
// (mail or push) still queued for any of recipients and not yet claimed,
// with its row and, for a mail, the mail; with participants given, only
// for the notices of those participant rows. On PostgreSQL the rows are
// locked, so that a worker claims them (SKIP LOCKED) only after the
// caller's commit. A payload that does not open is left to the worker,
// which fails it.
func (o *Outbox) queuedNotices(ctx context.Context, idb bun.IDB, channel string, recipients []string, each func(r *db.OutboxItem, m *Mail) error, participants ...int64) error {
	for chunk := range slices.Chunk(recipients, 500) {
		var rows []db.OutboxItem
		q := idb.NewSelect().Model(&rows).Column("id", "idempotency_key", "channel", "recipient", "payload").
			Where("recipient IN (?) AND channel = ? AND status = ?", bun.In(chunk), channel, db.OutboxPending)
		if idb.Dialect().Name() == dialect.PG {
			q = q.For("UPDATE")
		}
		if err := q.Scan(ctx); err != nil && !db.ErrNoRows(err) {
			return fmt.Errorf("load queued notices: %w", err)
		}
		for i := range rows {
			r := &rows[i]
			var m *Mail
			var n *Notice
			if channel == db.ChannelPush {
				p, err := openPush(o.vault, r)
				if err != nil {
					continue
				}
				n = p.Notice
			} else {
				var err error
				if m, _, err = openPayload(o.vault, r); err != nil || m == nil {
					continue
				}
				n = m.Notice
			}
			if n == nil || (len(participants) > 0 && !slices.Contains(participants, n.Participant)) {
				continue
			}
			if err := each(r, m); err != nil {
				return err
			}
		}
	}
	return nil
}

// DeliveredKept is how long a delivered mail or text stays in the outbox.
const DeliveredKept = 7 * 24 * time.Hour

// FailedKept is how long a mail or text that failed for good stays in the
// outbox after it was queued (it fails within MaxAge of that), for its
// reason (last_error); then its address and content go too.
const FailedKept = 30 * 24 * time.Hour

// PurgeDelivered deletes the outbox rows delivered before cutoff, and those
// that failed for good and were queued and last tried before failedCutoff,
// at most batch rows a statement, and returns how many it deleted.
func PurgeDelivered(ctx context.Context, idb bun.IDB, cutoff, failedCutoff time.Time, batch int) (int, error) {
	total := 0
	// Each a range of an index, so that a night's cleanup reads the rows it
	// deletes, not the week of everything sent: the delivered rows in the
	// order of outbox_sent_idx; the failed ones, which have no index by
	// when they were queued, through the lanes' index (outbox_lane_due_idx)
	// of every channel by their last try (next_attempt_at, which is never
	// before they were queued, and at most MaxAge after), in no order (a
	// sort by id makes SQLite walk the outbox in id order instead). A
	// failed row thus goes once its last try, too, is failedCutoff old.
	for _, q := range []struct {
		where string
		args  []any
	}{
		{"status = ? AND sent_at < ? ORDER BY sent_at", []any{db.OutboxSent, cutoff.UTC()}},
		{"channel IN (?) AND status = ? AND next_attempt_at < ? AND created_at < ?",
			[]any{bun.In([]string{db.ChannelMail, db.ChannelSMS, db.ChannelPush}), db.OutboxFailed, failedCutoff.UTC(), failedCutoff.UTC()}},
	} {
		for {
			res, err := idb.NewRaw(`DELETE FROM outbox WHERE id IN (
  SELECT id FROM outbox WHERE `+q.where+` LIMIT ?)`, append(q.args, batch)...).Exec(ctx)
			if err != nil {
				return total, fmt.Errorf("delete old outbox rows: %w", err)
			}
			n, err := res.RowsAffected()
			if err != nil {
				return total, fmt.Errorf("delete old outbox rows: %w", err)
			}
			total += int(n)
			if n < int64(batch) {
				break
			}
		}
	}
	return total, nil
}

// Withdraw takes mail and texts still queued for any of recipients (mail
// addresses, E.164 numbers) out of the outbox, in the caller's
// transaction; delivered rows stay as they are. A disabled account's
// queued mail and SMS go this way.
func Withdraw(ctx context.Context, idb bun.IDB, recipients []string) error {
	if len(recipients) == 0 {
		return nil
	}
	if _, err := idb.NewDelete().Model((*db.OutboxItem)(nil)).
		Where("recipient IN (?) AND status IN (?, ?)", bun.In(recipients), db.OutboxPending, db.OutboxSending).Exec(ctx); err != nil {
		return fmt.Errorf("withdraw queued messages: %w", err)
	}
	return nil
}
