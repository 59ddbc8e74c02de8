package auth

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/uptrace/bun"

	"dialoog/apperr"
	"dialoog/db"
	"dialoog/notify"
)

// InvitationTTL is how long a sign-up link works.
const InvitationTTL = 7 * 24 * time.Hour

// Limits on "send me a new link".
const (
	newLinkPerIP      = 10
	newLinkPerAddress = 3
	newLinkWindow     = time.Hour
)

// InvitationMail renders the invitation mail in a language.
type InvitationMail interface {
	InvitationMail(lang, orgName, link, baseURL string) (notify.Mail, error)
}

// BrandedInvitationMail renders the invitation mail in the house style of
// the inviting organisation; a renderer that implements it is used instead
// of InvitationMail.
type BrandedInvitationMail interface {
	BrandedInvitationMail(lang string, brand OrgBrand, link, baseURL string) (notify.Mail, error)
}

// Invitations creates, checks and consumes sign-up links.
type Invitations struct {
	DB       *db.DB
	Outbox   *notify.Outbox
	Mail     InvitationMail
	Sessions *Sessions
	Limiter  *Limiter
	BaseURL  *url.URL
	Now      func() time.Time
	Log      *slog.Logger
	// Queued is called after a transaction that queued mail has committed,
	// to wake the outbox worker.
	Queued func()
	// Requested wakes MailRequests after a request was queued.
	Requested func()
}

// InviteInput describes whom to invite and on whose behalf.
type InviteInput struct {
	Email     string
	OrgID     int64
	Internal  bool
	Admin     bool
	Language  string // for a new user; "" means Dutch
	InvitedBy *int64
}

// InvitationInfo is what the sign-up page shows about a valid link.
type InvitationInfo struct {
	Email     string
	OrgID     int64
	OrgName   string
	Language  string
	ExpiresAt time.Time
}

// Invite creates the user when the address is new, replaces any earlier
// link, queues the invitation mail and returns the new sign-up link. It
// refuses users who already completed the first visit, and an invitation as
// a colleague (Internal or Admin) of an address already invited as an
// outsider or as another organisation's colleague; a colleague still
// invited is made an admin by an invitation with Admin.
func (s *Invitations) Invite(ctx context.Context, in InviteInput) (string, *db.User, error) {
	email, err := NormalizeEmail(in.Email)
	if err != nil {
		return "", nil, err
	}
	var link string
	var user db.User
	err = s.DB.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		var org db.Organisation
		if err := tx.NewSelect().Model(&org).Where("id = ?", in.OrgID).Scan(ctx); err != nil {
			if db.ErrNoRows(err) {
				return apperr.New(apperr.NotFound, "org.not_found")
			}
			return fmt.Errorf("load organisation %d: %w", in.OrgID, err)
		}
		now := s.Now().UTC()
		err := tx.NewSelect().Model(&user).Where("email = ?", email).Scan(ctx)
		switch {
		case db.ErrNoRows(err):
			user = db.User{Email: email, Kind: db.KindExternal, Status: db.StatusInvited, Language: lang(in.Language),
				Gender: "unknown", IsAdmin: in.Admin, CreatedAt: now, UpdatedAt: now}
			if in.Internal || in.Admin {
				user.Kind = db.KindInternal
				user.OrgID = &org.ID
			}
			if _, err := tx.NewInsert().Model(&user).Exec(ctx); err != nil {
				return fmt.Errorf("create user: %w", err)
			}
		case err != nil:
			return fmt.Errorf("load user: %w", err)
		case user.Status == db.StatusActive:
			return apperr.New(apperr.Conflict, "invite.already_active")
		case user.Status == db.StatusDisabled:
			return apperr.New(apperr.Forbidden, "invite.disabled")
		case (in.Internal || in.Admin) && (user.Kind != db.KindInternal || user.OrgID == nil || *user.OrgID != org.ID):
			// An outsider (or another organisation's colleague) who was
			// invited before stays what they are: inviting them again as
			// a colleague would say "queued" and make them nothing of the
			// kind.
			return apperr.New(apperr.Conflict, "invite.other_kind")
		case in.Admin && !user.IsAdmin:
			if _, err := tx.NewUpdate().Model((*db.User)(nil)).Set("is_admin = ?", true).Set("updated_at = ?", now).
				Where("id = ?", user.ID).Exec(ctx); err != nil {
				return fmt.Errorf("make invited colleague admin: %w", err)
			}
			user.IsAdmin = true
			if err := Audit(ctx, tx, AuditEntry{UserID: &user.ID, ActorID: in.InvitedBy, OrgID: &org.ID, Kind: "admin.user_invited", Detail: RoleAdmin, Now: now}); err != nil {
				return err
			}
		}
		var err2 error
		link, err2 = s.issue(ctx, tx, &user, &org, in.InvitedBy, now)
		return err2
	})
	if err != nil {
		return "", nil, fmt.Errorf("invite %s: %w", redactEmail(email), err)
	}
	s.queued()
	return link, &user, nil
}

// issue revokes the user's open links of the same organisation, stores a
// new one and queues its mail. A pending invitation belongs to its
// organisation: another organisation writing to the same person creates its
// own link and leaves the first one working.
func (s *Invitations) issue(ctx context.Context, tx bun.Tx, user *db.User, org *db.Organisation, by *int64, now time.Time) (string, error) {
	links, err := s.issueMany(ctx, tx, []*db.User{user}, org, by, now)
	if err != nil {
		return "", err
	}
	return links[0], nil
}

// issueChunk is how many people issueMany handles in one statement.
const issueChunk = 500

// issueMany is issue for each of users (different people) at once, in a
// few statements whatever their number: their open links of org revoked
// in one, their new links stored in one, the house style read once, the
// mails queued in a batch (notify.Outbox.QueueMails, which keeps the rule
// of no mail to a disabled account) and the audit rows written in one. It
// returns their links, in the order of users.
func (s *Invitations) issueMany(ctx context.Context, tx bun.Tx, users []*db.User, org *db.Organisation, by *int64, now time.Time) ([]string, error) {
	if len(users) == 0 {
		return nil, nil
	}
	ids := make([]int64, len(users))
	for i, u := range users {
		ids[i] = u.ID
	}
	for chunk := range slices.Chunk(ids, issueChunk) {
		if _, err := tx.NewUpdate().Model((*db.Invitation)(nil)).Set("revoked_at = ?", now).
			Where("user_id IN (?) AND org_id = ? AND used_at IS NULL AND revoked_at IS NULL", bun.In(chunk), org.ID).Exec(ctx); err != nil {
			return nil, fmt.Errorf("revoke older invitations: %w", err)
		}
	}
	links := make([]string, len(users))
	invs := make([]db.Invitation, len(users))
	for i, u := range users {
		token, hash := NewToken()
		invs[i] = db.Invitation{UserID: u.ID, OrgID: org.ID, InvitedBy: by, TokenHash: hash, CreatedAt: now, ExpiresAt: now.Add(InvitationTTL)}
		links[i] = s.BaseURL.String() + "/aanmelden/" + token
	}
	for chunk := range slices.Chunk(invs, issueChunk) {
		if _, err := tx.NewInsert().Model(&chunk).Exec(ctx); err != nil {
			return nil, fmt.Errorf("store invitation: %w", err)
		}
	}
	brand, err := LoadBrand(ctx, tx, org.ID)
	if err != nil {
		return nil, err
	}
	mails := make([]notify.Mail, len(users))
	audits := make([]AuditEntry, len(users))
	for i, u := range users {
		var m notify.Mail
		if bm, ok := s.Mail.(BrandedInvitationMail); ok {
			m, err = bm.BrandedInvitationMail(u.Language, brand, links[i], s.BaseURL.String())
		} else {
			m, err = s.Mail.InvitationMail(u.Language, brand.Name, links[i], s.BaseURL.String())
		}
		if err != nil {
			return nil, fmt.Errorf("render invitation mail: %w", err)
		}
		m.To = u.Email
		m.FromName = brand.SenderName
		mails[i] = m
		audits[i] = AuditEntry{UserID: &u.ID, ActorID: by, Kind: "invitation.sent", Now: now}
	}
	if _, err := s.Outbox.QueueMails(ctx, tx, mails); err != nil {
		return nil, fmt.Errorf("queue invitation mail: %w", err)
	}
	if err := AuditMany(ctx, tx, audits); err != nil {
		return nil, err
	}
	return links, nil
}

func (s *Invitations) queued() {
	if s.Queued != nil {
		s.Queued()
	}
}

// errInvalidLink is the one answer for unknown, used, replaced and expired
// links: the page offers a new link in all cases.
var errInvalidLink = apperr.New(apperr.NotFound, "invite.invalid")

type invitationRow struct {
	db.Invitation `bun:",extend"`
	Email         string
	Language      string
	Status        string
	OrgName       string
}

func (s *Invitations) lookup(ctx context.Context, idb bun.IDB, token string) (*invitationRow, error) {
	if !ValidToken(token) {
		return nil, errInvalidLink
	}
	var row invitationRow
	err := idb.NewSelect().Model(&row).
		ColumnExpr("invitation.*").
		ColumnExpr("u.email, u.language, u.status").
		ColumnExpr("o.name AS org_name").
		Join("JOIN users AS u ON u.id = invitation.user_id").
		Join("JOIN organisations AS o ON o.id = invitation.org_id").
		Where("invitation.token_hash = ?", HashToken(token)).
		Scan(ctx)
	if db.ErrNoRows(err) {
		return nil, errInvalidLink
	}
	if err != nil {
		return nil, fmt.Errorf("load invitation: %w", err)
	}
	// A link only ever starts the first visit: once the person has an
	// account, no leftover link of another organisation opens it.
	if !row.UsedAt.IsZero() || !row.RevokedAt.IsZero() || !s.Now().Before(row.ExpiresAt) || row.Status != db.StatusInvited {
		return nil, errInvalidLink
	}
	return &row, nil
}

// Check reports what a valid link is for, without consuming it: mail
// scanners follow links, so only the POST of the page's button counts.
func (s *Invitations) Check(ctx context.Context, token string) (InvitationInfo, error) {
	row, err := s.lookup(ctx, s.DB, token)
	if err != nil {
		return InvitationInfo{}, err
	}
	return InvitationInfo{Email: row.Email, OrgID: row.OrgID, OrgName: row.OrgName, Language: row.Language, ExpiresAt: row.ExpiresAt}, nil
}

// IsFor reports whether token is a sign-up link of userID, in any state
// (used, replaced by a newer link, expired). A browser signed in as that
// person which opens it again, or presses AANMELDEN twice, goes on where
// the person is: the link did its work. It consumes and reveals nothing to
// anyone else.
func (s *Invitations) IsFor(ctx context.Context, token string, userID int64) (bool, error) {
	if !ValidToken(token) {
		return false, nil
	}
	ok, err := s.DB.NewSelect().Model((*db.Invitation)(nil)).Where("token_hash = ? AND user_id = ?", HashToken(token), userID).Exists(ctx)
	if err != nil {
		return false, fmt.Errorf("sign-up link's person: %w", err)
	}
	return ok, nil
}

// Accept consumes a valid link and starts a session for its user. It
// returns the session token and the user's next onboarding stage.
func (s *Invitations) Accept(ctx context.Context, token, ip, userAgent string) (string, Stage, error) {
	return s.AcceptIn(ctx, token, ip, userAgent, "")
}

// AcceptIn is Accept by a browser in which the person chose lang ("nl" or
// "en"; "" or anything else: no choice) before signing up, with the
// footer's switch on the invitation page: that choice, not the language
// the invitation was sent in, becomes the account's language (audited as
// a change), as the switch does from the first step on. So the steps after
// it, their texts and mails speak the language the person asked for.
func (s *Invitations) AcceptIn(ctx context.Context, token, ip, userAgent, lang string) (string, Stage, error) {
	var session string
	var stage Stage
	err := s.DB.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		row, err := s.lookup(ctx, tx, token)
		if err != nil {
			return err
		}
		now := s.Now().UTC()
		// Links of two organisations accepted at once take turns on the
		// person's row: each would otherwise hold its own link and wait
		// for the other's to revoke it (a deadlock on PostgreSQL). The
		// later one then finds its link revoked.
		if err := lockUser(ctx, tx, row.UserID, now); err != nil {
			return err
		}
		// The conditions repeat the checks so that two concurrent POSTs of
		// the same link cannot both succeed.
		res, err := tx.NewUpdate().Model((*db.Invitation)(nil)).Set("used_at = ?", now).
			Where("id = ? AND used_at IS NULL AND revoked_at IS NULL AND expires_at > ?", row.ID, now).Exec(ctx)
		if err != nil {
			return fmt.Errorf("consume invitation: %w", err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return errInvalidLink
		}
		// The person has proved their mailbox once: every other open link,
		// of any organisation, stops working.
		if _, err := tx.NewUpdate().Model((*db.Invitation)(nil)).Set("revoked_at = ?", now).
			Where("user_id = ? AND id <> ? AND used_at IS NULL AND revoked_at IS NULL", row.UserID, row.ID).Exec(ctx); err != nil {
			return fmt.Errorf("revoke other invitations: %w", err)
		}
		if session, err = s.Sessions.Create(ctx, tx, row.UserID, ip, userAgent); err != nil {
			return err
		}
		if err := Audit(ctx, tx, AuditEntry{UserID: &row.UserID, Kind: "invitation.accepted", IP: ip, Now: now}); err != nil {
			return err
		}
		if slices.Contains(Languages, lang) && lang != row.Language {
			if _, err := tx.NewUpdate().Model((*db.User)(nil)).Set("language = ?", lang).Set("updated_at = ?", now).
				Where("id = ?", row.UserID).Exec(ctx); err != nil {
				return fmt.Errorf("language chosen before signing up: %w", err)
			}
			if err := Audit(ctx, tx, AuditEntry{UserID: &row.UserID, Kind: "language.changed", IP: ip, Now: now}); err != nil {
				return err
			}
		}
		stage, err = StageOf(ctx, tx, row.UserID)
		return err
	})
	if err != nil {
		return "", "", fmt.Errorf("accept invitation: %w", err)
	}
	return session, stage, nil
}

// RequestNewLink asks for the invitation again ("Stuur mij een nieuwe
// link"). It only queues the request, the same work for every well-formed
// address, so neither the answer nor its time reveals who is known;
// MailRequests re-sends the invitation when the address belongs to a user
// who never completed the first visit.
func (s *Invitations) RequestNewLink(ctx context.Context, email, ip string) error {
	email, err := NormalizeEmail(email)
	if err != nil {
		return err
	}
	ok, _, err := s.Limiter.Allow(ctx, IPKey("newlink", ip), newLinkPerIP, newLinkWindow)
	if err != nil {
		return err
	}
	if !ok {
		return apperr.New(apperr.TooMany, "error.too_many")
	}
	// A per-address limit keeps anyone from flooding one mailbox; hitting it
	// is silent, like an unknown address.
	if ok, _, err := s.Limiter.Allow(ctx, newLinkKey(email), newLinkPerAddress, newLinkWindow); err != nil || !ok {
		return err
	}
	if err := queueMailRequest(ctx, s.DB, mailRequestNewLink, email, ip, s.Now()); err != nil {
		return fmt.Errorf("request new link: %w", err)
	}
	if s.Requested != nil {
		s.Requested()
	}
	return nil
}

// newLinkKey is the throttle key of the new-link requests for an address.
func newLinkKey(email string) string {
	sum := sha256.Sum256([]byte(email))
	return "newlink:addr:" + hex.EncodeToString(sum[:8])
}

// newLinkMail sends a new sign-up link when email belongs to a user who
// never completed the first visit, in the caller's transaction
// (MailRequests).
func (s *Invitations) newLinkMail(ctx context.Context, tx bun.Tx, email string) (bool, error) {
	var user db.User
	err := tx.NewSelect().Model(&user).Where("email = ?", email).Scan(ctx)
	if db.ErrNoRows(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("load user: %w", err)
	}
	if user.Status != db.StatusInvited {
		return false, nil
	}
	var last db.Invitation
	if err := tx.NewSelect().Model(&last).Where("user_id = ?", user.ID).Order("id DESC").Limit(1).Scan(ctx); err != nil {
		if db.ErrNoRows(err) {
			return false, nil
		}
		return false, fmt.Errorf("load last invitation: %w", err)
	}
	var org db.Organisation
	if err := tx.NewSelect().Model(&org).Where("id = ?", last.OrgID).Scan(ctx); err != nil {
		return false, fmt.Errorf("load organisation: %w", err)
	}
	if _, err := s.issue(ctx, tx, &user, &org, last.InvitedBy, s.Now().UTC()); err != nil {
		return false, err
	}
	return true, nil
}

func lang(l string) string {
	if l == "en" {
		return "en"
	}
	return "nl"
}

// redactEmail keeps logs useful without spelling out addresses.
func redactEmail(e string) string {
	sum := sha256.Sum256([]byte(e))
	return "mail#" + hex.EncodeToString(sum[:4])
}

// RecipientTx returns the user with mail address email, creating an invited
// external user when the address is new, in the caller's transaction. It is
// how writing to an address makes an account for its owner.
func (s *Invitations) RecipientTx(ctx context.Context, tx bun.Tx, email, language string) (*db.User, error) {
	u, _, err := s.RecipientTxCreated(ctx, tx, email, language)
	return u, err
}

// RecipientTxCreated is RecipientTx that also reports whether the address
// was new (the user was created).
func (s *Invitations) RecipientTxCreated(ctx context.Context, tx bun.Tx, email, language string) (*db.User, bool, error) {
	email, err := NormalizeEmail(email)
	if err != nil {
		return nil, false, err
	}
	users, created, err := s.RecipientsTxCreated(ctx, tx, []string{email}, language)
	if err != nil {
		return nil, false, err
	}
	return users[email], created[email], nil
}

// recipientsChunk is how many addresses RecipientsTxCreated looks up or
// creates in one statement.
const recipientsChunk = 500

// RecipientsTxCreated is RecipientTxCreated for several addresses at once,
// in a few statements whatever their number: the users of emails by
// normalised address, those new created as invited external users (in
// the order of emails) with one insert, and which of them were created
// here. An address someone else stored meanwhile is loaded as they stored
// it and was not created here, as with RecipientTxCreated.
func (s *Invitations) RecipientsTxCreated(ctx context.Context, tx bun.Tx, emails []string, language string) (map[string]*db.User, map[string]bool, error) {
	addrs := make([]string, 0, len(emails))
	seen := make(map[string]bool, len(emails))
	for _, e := range emails {
		e, err := NormalizeEmail(e)
		if err != nil {
			return nil, nil, err
		}
		if !seen[e] {
			seen[e] = true
			addrs = append(addrs, e)
		}
	}
	users := make(map[string]*db.User, len(addrs))
	if err := usersByEmail(ctx, tx, addrs, users); err != nil {
		return nil, nil, fmt.Errorf("load recipients: %w", err)
	}
	var fresh []db.User
	for _, e := range addrs {
		if users[e] == nil {
			fresh = append(fresh, db.User{Email: e, Kind: db.KindExternal, Status: db.StatusInvited, Language: lang(language), Gender: "unknown"})
		}
	}
	created := make(map[string]bool, len(fresh))
	if len(fresh) == 0 {
		return users, created, nil
	}
	now := s.Now().UTC()
	for i := range fresh {
		fresh[i].CreatedAt, fresh[i].UpdatedAt = now, now
	}
	// As in RecipientTxCreated, someone else may be writing to the same
	// new address at this moment: the insert then waits for them (on
	// PostgreSQL) and leaves their row as it is. What it returns is what
	// it stored.
	type storedRow struct {
		ID    int64  `bun:"id"`
		Email string `bun:"email"`
	}
	var stored []storedRow
	for chunk := range slices.Chunk(fresh, recipientsChunk) {
		var rows []storedRow
		if err := tx.NewInsert().Model(&chunk).On("CONFLICT (email) DO NOTHING").Returning("id, email").Scan(ctx, &rows); err != nil && !db.ErrNoRows(err) {
			return nil, nil, fmt.Errorf("create recipients: %w", err)
		}
		stored = append(stored, rows...)
	}
	ids := make(map[string]int64, len(stored))
	for _, r := range stored {
		ids[r.Email] = r.ID
	}
	var meanwhile []string
	for i := range fresh {
		u := &fresh[i]
		if id, ok := ids[u.Email]; ok {
			u.ID = id
			users[u.Email], created[u.Email] = u, true
		} else {
			meanwhile = append(meanwhile, u.Email)
		}
	}
	if len(meanwhile) > 0 {
		if err := usersByEmail(ctx, tx, meanwhile, users); err != nil {
			return nil, nil, fmt.Errorf("load recipients stored meanwhile: %w", err)
		}
		for _, e := range meanwhile {
			if users[e] == nil {
				return nil, nil, fmt.Errorf("load recipient stored meanwhile: %s not found", redactEmail(e))
			}
		}
	}
	return users, created, nil
}

// usersByEmail adds the users of the (normalised) addresses emails that
// have an account to out, by address, in one statement a chunk of
// recipientsChunk.
func usersByEmail(ctx context.Context, idb bun.IDB, emails []string, out map[string]*db.User) error {
	for chunk := range slices.Chunk(emails, recipientsChunk) {
		var us []db.User
		if err := idb.NewSelect().Model(&us).Where("email IN (?)", bun.In(chunk)).Scan(ctx); err != nil && !db.ErrNoRows(err) {
			return err
		}
		for i := range us {
			out[us[i].Email] = &us[i]
		}
	}
	return nil
}

// Limits on sending an invitation again by hand ("Uitnodiging opnieuw
// versturen", in a conversation or in Beheer): each new mail kills the
// link of the one before, so a second click within InvitationResendAfter
// of the last invitation sends nothing, and one person gets at most
// invitationResendsPerHour such mails an hour, whoever asks.
const (
	InvitationResendAfter    = time.Minute
	invitationResendsPerHour = 3
)

// ResendTx is InviteTx asked for by hand, within the resend limits; a
// refusal is a *WaitError with the key "invite.resend_wait".
func (s *Invitations) ResendTx(ctx context.Context, tx bun.Tx, user *db.User, org *db.Organisation, by *int64) error {
	if user.Status != db.StatusInvited {
		return apperr.New(apperr.Conflict, "invite.already_active")
	}
	if err := s.resendAllowed(ctx, tx, user.ID, org.ID); err != nil {
		return err
	}
	_, err := s.issue(ctx, tx, user, org, by, s.Now().UTC())
	return err
}

// resendAllowed applies the resend limits to a new invitation of userID
// by orgID, counting it in tx (so a refused or failed one is not counted).
func (s *Invitations) resendAllowed(ctx context.Context, tx bun.Tx, userID, orgID int64) error {
	now := s.Now().UTC()
	// Two requests at once (a double click, two colleagues) take turns on
	// the person's row, so that the later one finds the link just sent
	// and waits, instead of mailing a second link that kills the first.
	if err := lockUser(ctx, tx, userID, now); err != nil {
		return err
	}
	var last db.Invitation
	err := tx.NewSelect().Model(&last).Where("user_id = ? AND org_id = ?", userID, orgID).Order("id DESC").Limit(1).Scan(ctx)
	switch {
	case err == nil:
		if wait := last.CreatedAt.Add(InvitationResendAfter).Sub(now); wait > 0 {
			return resendWait(wait)
		}
	case !db.ErrNoRows(err):
		return fmt.Errorf("load last invitation: %w", err)
	}
	key := "invite:resend:" + strconv.FormatInt(orgID, 10) + ":" + strconv.FormatInt(userID, 10)
	ok, wait, err := s.Limiter.AllowIn(ctx, tx, key, invitationResendsPerHour, time.Hour)
	if err != nil {
		return err
	}
	if !ok {
		return resendWait(wait)
	}
	return nil
}

func resendWait(wait time.Duration) error {
	return &WaitError{Err: &apperr.Error{Code: apperr.TooMany, Key: "invite.resend_wait"}, Wait: max(time.Second, wait.Round(time.Second))}
}

// InviteTx sends a new sign-up link to a user who has not finished signing
// up, in the caller's transaction; older links stop working. The caller
// calls Queued after the commit.
func (s *Invitations) InviteTx(ctx context.Context, tx bun.Tx, user *db.User, org *db.Organisation, by *int64) error {
	if user.Status != db.StatusInvited {
		return apperr.New(apperr.Conflict, "invite.already_active")
	}
	_, err := s.issue(ctx, tx, user, org, by, s.Now().UTC())
	return err
}

// InviteManyTx is InviteTx for each of users (different people) at once,
// in a few statements whatever their number (issueMany).
func (s *Invitations) InviteManyTx(ctx context.Context, tx bun.Tx, users []*db.User, org *db.Organisation, by *int64) error {
	for _, u := range users {
		if u.Status != db.StatusInvited {
			return apperr.New(apperr.Conflict, "invite.already_active")
		}
	}
	_, err := s.issueMany(ctx, tx, users, org, by, s.Now().UTC())
	return err
}

// Kick wakes the outbox worker after a commit that queued mail.
func (s *Invitations) Kick() { s.queued() }
