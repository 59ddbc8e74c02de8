package auth

import (
	"context"
	_ "embed"
	"fmt"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"dialoog/apperr"
	"dialoog/db"
)

//go:embed terms/v1.nl.txt
var termsV1NL string

//go:embed terms/v1.en.txt
var termsV1EN string

// The built-in text in force: the first one with the sentence that a
// signer's evidence stays in the others' copies after they stop
// (Ondertekenen).
//
//go:embed terms/v2.nl.txt
var termsV2NL string

//go:embed terms/v2.en.txt
var termsV2EN string

// CurrentTerms returns the newest published terms of use.
func CurrentTerms(ctx context.Context, idb bun.IDB) (*db.TermsVersion, error) {
	var t db.TermsVersion
	if err := idb.NewSelect().Model(&t).Order("version DESC").Limit(1).Scan(ctx); err != nil {
		return nil, fmt.Errorf("load current terms: %w", err)
	}
	return &t, nil
}

// TermsByVersion returns one published version.
func TermsByVersion(ctx context.Context, idb bun.IDB, version int) (*db.TermsVersion, error) {
	var t db.TermsVersion
	err := idb.NewSelect().Model(&t).Where("version = ?", version).Scan(ctx)
	if db.ErrNoRows(err) {
		return nil, apperr.New(apperr.NotFound, "error.not_found")
	}
	if err != nil {
		return nil, fmt.Errorf("load terms %d: %w", version, err)
	}
	return &t, nil
}

// EnsureTerms publishes the built-in text when no version exists, and as a
// new version (which everyone accepts at their next visit) when the
// newest one is the earlier built-in text: an installation whose admins
// published terms of their own keeps them, and must add the sentence on
// signing evidence themselves (see README, Ondertekenen).
func EnsureTerms(ctx context.Context, d *db.DB, now func() time.Time) error {
	n, err := d.NewSelect().Model((*db.TermsVersion)(nil)).Count(ctx)
	if err != nil {
		return fmt.Errorf("count terms: %w", err)
	}
	if n > 0 {
		cur, err := CurrentTerms(ctx, d)
		if err != nil {
			return err
		}
		if cur.PublishedBy != nil || strings.TrimSpace(cur.Body) != strings.TrimSpace(termsV1NL) {
			return nil
		}
	}
	_, err = PublishTerms(ctx, d, termsV2NL, termsV2EN, nil, now)
	if db.IsUniqueViolation(err) { // another instance published it first
		return nil
	}
	return err
}

// TermsShared reports whether the installation serves several
// organisations. Its terms bind everyone of every organisation and every
// outsider, so they are then the operator's (`dialoog terms publish`), not
// one organisation's admins' (PublishTermsInBeheer).
func TermsShared(ctx context.Context, idb bun.IDB) (bool, error) {
	n, err := idb.NewSelect().Model((*db.Organisation)(nil)).Limit(2).Count(ctx)
	if err != nil {
		return false, fmt.Errorf("count organisations: %w", err)
	}
	return n > 1, nil
}

// PublishTermsInBeheer is PublishTerms by the admin cur, in Beheer:
// apperr NotFound for anyone who is no admin (AdminOrg), and only on an
// installation of one organisation (TermsShared); on one shared by
// several it is apperr Forbidden and stores nothing, as one
// organisation's admin would make everyone of the others accept their
// text.
func PublishTermsInBeheer(ctx context.Context, d *db.DB, cur *Current, bodyNL, bodyEN string, now func() time.Time) (*db.TermsVersion, error) {
	if _, err := AdminOrg(cur); err != nil {
		return nil, err
	}
	return publishTerms(ctx, d, bodyNL, bodyEN, &cur.User.ID, true, now)
}

// PublishTerms stores a new version of the terms; everyone accepts it at
// their next login. It is the operator's (the command line); Beheer
// publishes with PublishTermsInBeheer.
func PublishTerms(ctx context.Context, d *db.DB, bodyNL, bodyEN string, by *int64, now func() time.Time) (*db.TermsVersion, error) {
	return publishTerms(ctx, d, bodyNL, bodyEN, by, false, now)
}

func publishTerms(ctx context.Context, d *db.DB, bodyNL, bodyEN string, by *int64, beheer bool, now func() time.Time) (*db.TermsVersion, error) {
	bodyNL, bodyEN = strings.TrimSpace(bodyNL), strings.TrimSpace(bodyEN)
	if bodyNL == "" {
		return nil, apperr.Field("body", "terms.empty")
	}
	if len(bodyNL) > 200_000 || len(bodyEN) > 200_000 {
		return nil, apperr.Field("body", "terms.too_long")
	}
	var t db.TermsVersion
	err := d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		if beheer {
			shared, err := TermsShared(ctx, tx)
			if err != nil {
				return err
			}
			if shared {
				return apperr.New(apperr.Forbidden, "admin_terms.shared")
			}
		}
		var last int
		if err := tx.NewSelect().Model((*db.TermsVersion)(nil)).ColumnExpr("COALESCE(MAX(version), 0)").Scan(ctx, &last); err != nil {
			return fmt.Errorf("last terms version: %w", err)
		}
		t = db.TermsVersion{Version: last + 1, Body: bodyNL, BodyEN: bodyEN, PublishedBy: by, PublishedAt: now().UTC()}
		if _, err := tx.NewInsert().Model(&t).Exec(ctx); err != nil {
			return fmt.Errorf("store terms: %w", err)
		}
		return Audit(ctx, tx, AuditEntry{ActorID: by, Kind: "terms.published", Detail: fmt.Sprintf("version %d", t.Version), Now: now()})
	})
	if err != nil {
		return nil, fmt.Errorf("publish terms: %w", err)
	}
	return &t, nil
}
