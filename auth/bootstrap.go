package auth

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"dialoog/apperr"
	"dialoog/db"
)

// SetupTTL is how long the first admin's setup link works.
const SetupTTL = 7 * 24 * time.Hour

// SetupPath is where the setup link points, followed by its token.
const SetupPath = "/eerste-beheerder/"

// errInvalidSetup is the one answer for an unknown, used or expired setup
// link.
var errInvalidSetup = apperr.New(apperr.NotFound, "setup.invalid")

// Bootstrap creates the organisation orgName when the database has none yet
// and returns a one-time setup link, with which the person who started
// Dialoog chooses the mail address of the organisation's first admin
// (ChooseFirstAdmin). Nobody is invented at an address that may not exist.
// On later starts it returns the organisation and an empty link. Instances
// starting at once create the organisation once.
func Bootstrap(ctx context.Context, inv *Invitations, orgName string) (*db.Organisation, string, error) {
	var org db.Organisation
	var token string
	err := inv.DB.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		n, err := tx.NewSelect().Model((*db.Organisation)(nil)).Count(ctx)
		if err != nil {
			return fmt.Errorf("count organisations: %w", err)
		}
		if n > 0 {
			err := tx.NewSelect().Model(&org).Where("name = ?", orgName).Scan(ctx)
			if db.ErrNoRows(err) {
				return tx.NewSelect().Model(&org).Order("id").Limit(1).Scan(ctx)
			}
			return err
		}
		now := inv.Now().UTC()
		org = db.Organisation{Name: orgName, CreatedAt: now}
		if _, err := tx.NewInsert().Model(&org).Exec(ctx); err != nil {
			return fmt.Errorf("create organisation: %w", err)
		}
		// The setup columns stay out of db.Organisation, so that reading
		// an organisation never depends on them.
		var hash []byte
		token, hash = NewToken()
		if _, err := tx.NewUpdate().Model((*db.Organisation)(nil)).Set("setup_token_hash = ?", hash).
			Set("setup_expires_at = ?", now.Add(SetupTTL)).Where("id = ?", org.ID).Exec(ctx); err != nil {
			return fmt.Errorf("store setup link: %w", err)
		}
		return nil
	})
	if err != nil && db.IsUniqueViolation(err) {
		// Another instance created it first.
		token = ""
		err = inv.DB.NewSelect().Model(&org).Where("name = ?", orgName).Scan(ctx)
	}
	if err != nil {
		return nil, "", fmt.Errorf("bootstrap: %w", err)
	}
	if token == "" {
		return &org, "", nil
	}
	return &org, inv.BaseURL.String() + SetupPath + token, nil
}

// CheckSetup returns the name of the organisation whose first admin the
// setup link token chooses; NotFound when it is unknown, used or expired.
// It changes nothing, so opening the link twice is harmless.
func (s *Invitations) CheckSetup(ctx context.Context, token string) (string, error) {
	if !ValidToken(token) {
		return "", errInvalidSetup
	}
	var org db.Organisation
	err := s.DB.NewSelect().Model(&org).Where("setup_token_hash = ? AND setup_expires_at > ?", HashToken(token), s.Now().UTC()).Scan(ctx)
	if db.ErrNoRows(err) {
		return "", errInvalidSetup
	}
	if err != nil {
		return "", fmt.Errorf("check setup link: %w", err)
	}
	return org.Name, nil
}

// ChooseFirstAdmin uses the setup link token: in one transaction the link
// stops working, the person at email becomes an internal admin of its
// organisation and is invited (the mail is queued as for anyone), and the
// new sign-up link is returned, so that whoever chose can go on at once.
// language is the new account's language. A mistake in the address leaves the
// link working.
func (s *Invitations) ChooseFirstAdmin(ctx context.Context, token, email, language, ip string) (string, error) {
	if !ValidToken(token) {
		return "", errInvalidSetup
	}
	addr, err := NormalizeEmail(email)
	if err != nil {
		return "", err
	}
	var link string
	err = s.DB.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		now := s.Now().UTC()
		var org db.Organisation
		hash := HashToken(token)
		err := tx.NewSelect().Model(&org).Where("setup_token_hash = ? AND setup_expires_at > ?", hash, now).Scan(ctx)
		if db.ErrNoRows(err) {
			return errInvalidSetup
		}
		if err != nil {
			return fmt.Errorf("load setup link: %w", err)
		}
		res, err := tx.NewUpdate().Model((*db.Organisation)(nil)).Set("setup_token_hash = NULL").Set("setup_expires_at = NULL").
			Where("id = ? AND setup_token_hash = ?", org.ID, hash).Exec(ctx)
		if err != nil {
			return fmt.Errorf("use setup link: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil || n != 1 {
			return errInvalidSetup // used at the same moment by another request
		}
		exists, err := tx.NewSelect().Model((*db.User)(nil)).Where("email = ?", addr).Exists(ctx)
		if err != nil {
			return fmt.Errorf("load user: %w", err)
		}
		if exists {
			return apperr.Field("email", "setup.email_taken")
		}
		user := db.User{Email: addr, Kind: db.KindInternal, OrgID: &org.ID, IsAdmin: true, Status: db.StatusInvited,
			Language: lang(language), Gender: "unknown", CreatedAt: now, UpdatedAt: now}
		if _, err := tx.NewInsert().Model(&user).Exec(ctx); err != nil {
			return fmt.Errorf("create first admin: %w", err)
		}
		if err := Audit(ctx, tx, AuditEntry{UserID: &user.ID, Kind: "setup.first_admin", IP: ip, Now: now}); err != nil {
			return err
		}
		link, err = s.issue(ctx, tx, &user, &org, nil, now)
		return err
	})
	if err != nil {
		return "", fmt.Errorf("choose first admin %s: %w", redactEmail(addr), err)
	}
	s.queued()
	return link, nil
}

// OrganisationByName finds an organisation.
func OrganisationByName(ctx context.Context, d *db.DB, name string) (*db.Organisation, error) {
	var org db.Organisation
	if err := d.NewSelect().Model(&org).Where("name = ?", name).Scan(ctx); err != nil {
		return nil, fmt.Errorf("organisation %q: %w", name, err)
	}
	return &org, nil
}
