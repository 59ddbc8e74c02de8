package auth

import (
	"context"
	"strings"
	"testing"
	"time"

	"dialoog/apperr"
	"dialoog/db"
	"dialoog/db/dbtest"
	"dialoog/identity"
)

// TestTermsSigningSentence: the built-in terms say that a signer's
// evidence stays in the others' copies; an installation on the earlier
// built-in text gets it as a new version (accepted at the next visit),
// once; terms an admin published are left alone.
func TestTermsSigningSentence(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		now := func() time.Time { return time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC) }
		if err := EnsureTerms(ctx, d, now); err != nil {
			t.Fatal(err)
		}
		cur, err := CurrentTerms(ctx, d)
		if err != nil {
			t.Fatal(err)
		}
		if cur.Version != 1 || !strings.Contains(cur.Body, "het verzegelde document is het bewijsstuk") || !strings.Contains(cur.BodyEN, "the sealed document is the record") {
			t.Fatalf("fresh terms: version %d", cur.Version)
		}

		// An installation still on the first built-in text.
		if _, err := d.NewDelete().Model((*db.TermsVersion)(nil)).Where("1 = 1").Exec(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := PublishTerms(ctx, d, termsV1NL, termsV1EN, nil, now); err != nil {
			t.Fatal(err)
		}
		for range 2 {
			if err := EnsureTerms(ctx, d, now); err != nil {
				t.Fatal(err)
			}
		}
		cur, err = CurrentTerms(ctx, d)
		if err != nil {
			t.Fatal(err)
		}
		if cur.Version != 2 || !strings.Contains(cur.Body, "ondertekenen") {
			t.Fatalf("upgraded terms: version %d", cur.Version)
		}

		// Terms of the organisation's own stay as they are.
		admin := &db.User{Email: "admin@osaw.nl", Kind: db.KindInternal, Status: db.StatusActive, Language: "nl", Gender: "unknown", CreatedAt: now(), UpdatedAt: now()}
		if _, err := d.NewInsert().Model(admin).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := PublishTerms(ctx, d, termsV1NL, termsV1EN, &admin.ID, now); err != nil {
			t.Fatal(err)
		}
		if err := EnsureTerms(ctx, d, now); err != nil {
			t.Fatal(err)
		}
		if cur, _ = CurrentTerms(ctx, d); cur.Version != 3 {
			t.Fatalf("an admin's terms were replaced: version %d", cur.Version)
		}
	})
}

// TestTermsInBeheerOnlyForOneOrganisation: publishing the terms from
// Beheer (PublishTermsInBeheer) is for an admin (apperr NotFound for a
// colleague), on an installation of one organisation; on one shared by
// several it is refused (apperr Forbidden)
// and stores nothing, as the terms bind everyone of every organisation.
// The command line (PublishTerms) stays the operator's. Both engines.
func TestTermsInBeheerOnlyForOneOrganisation(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		now := func() time.Time { return time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC) }
		if err := EnsureTerms(ctx, d, now); err != nil {
			t.Fatal(err)
		}
		org := func(name string) int64 {
			o := &db.Organisation{Name: name, CreatedAt: now()}
			if _, err := d.NewInsert().Model(o).Exec(ctx); err != nil {
				t.Fatal(err)
			}
			return o.ID
		}
		osaw := org("OSAW")
		admin := &db.User{Email: "admin@osaw.nl", Kind: db.KindInternal, OrgID: &osaw, IsAdmin: true, Status: db.StatusActive,
			Language: "nl", Gender: "unknown", CreatedAt: now(), UpdatedAt: now()}
		if _, err := d.NewInsert().Model(admin).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		if shared, err := TermsShared(ctx, d); err != nil || shared {
			t.Fatalf("one organisation: shared %v, %v", shared, err)
		}
		cur := &Current{User: &identity.User{ID: admin.ID, OrgID: &osaw, Email: admin.Email, Kind: db.KindInternal, IsAdmin: true, Status: db.StatusActive}}
		colleague := &Current{User: &identity.User{ID: admin.ID + 100, OrgID: &osaw, Email: "collega@osaw.nl", Kind: db.KindInternal, Status: db.StatusActive}}
		if _, err := PublishTermsInBeheer(ctx, d, colleague, "Versie twee", "Version two", now); apperr.CodeOf(err) != apperr.NotFound {
			t.Fatalf("published by a colleague who is no admin: %v, want NotFound", err)
		}
		if _, err := PublishTermsInBeheer(ctx, d, cur, "Versie twee", "Version two", now); err != nil {
			t.Fatal(err)
		}
		org("Ander")
		if shared, err := TermsShared(ctx, d); err != nil || !shared {
			t.Fatalf("two organisations: shared %v, %v", shared, err)
		}
		_, err := PublishTermsInBeheer(ctx, d, cur, "Versie drie", "Version three", now)
		if apperr.CodeOf(err) != apperr.Forbidden {
			t.Fatalf("published in Beheer of a shared installation: %v, want Forbidden", err)
		}
		if cur, _ := CurrentTerms(ctx, d); cur.Version != 2 {
			t.Fatalf("version %d after the refusal, want 2", cur.Version)
		}
		if _, err := PublishTerms(ctx, d, "Versie drie", "Version three", nil, now); err != nil {
			t.Fatalf("the command line: %v", err)
		}
	})
}
