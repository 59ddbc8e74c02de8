package auth

import (
	"context"
	"fmt"
	"strings"

	"github.com/uptrace/bun"

	"dialoog/db"
)

// Bootstrap creates the organisation orgName when the database has none yet,
// with a first admin addressed at "beheerder@<host>", and returns that
// admin's sign-up link. On later starts it returns the organisation and an
// empty link. Instances starting at once create the organisation once.
func Bootstrap(ctx context.Context, inv *Invitations, orgName string) (*db.Organisation, string, string, error) {
	var org db.Organisation
	created := false
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
		org = db.Organisation{Name: orgName, CreatedAt: inv.Now().UTC()}
		if _, err := tx.NewInsert().Model(&org).Exec(ctx); err != nil {
			return fmt.Errorf("create organisation: %w", err)
		}
		created = true
		return nil
	})
	if err != nil && db.IsUniqueViolation(err) {
		// Another instance created it first.
		err = inv.DB.NewSelect().Model(&org).Where("name = ?", orgName).Scan(ctx)
	}
	if err != nil {
		return nil, "", "", fmt.Errorf("bootstrap: %w", err)
	}
	if !created {
		return &org, "", "", nil
	}
	host := inv.BaseURL.Hostname()
	if !strings.Contains(host, ".") && host != "localhost" {
		host = "localhost"
	}
	email := "beheerder@" + host
	link, _, err := inv.Invite(ctx, InviteInput{Email: email, OrgID: org.ID, Internal: true, Admin: true})
	if err != nil {
		return nil, "", "", fmt.Errorf("bootstrap: invite first admin: %w", err)
	}
	return &org, email, link, nil
}

// OrganisationByName finds an organisation.
func OrganisationByName(ctx context.Context, d *db.DB, name string) (*db.Organisation, error) {
	var org db.Organisation
	if err := d.NewSelect().Model(&org).Where("name = ?", name).Scan(ctx); err != nil {
		return nil, fmt.Errorf("organisation %q: %w", name, err)
	}
	return &org, nil
}
