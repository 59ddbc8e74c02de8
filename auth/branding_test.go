package auth_test

import (
	"context"
	"testing"
	"time"

	"dialoog/apperr"
	"dialoog/auth"
	"dialoog/db"
	"dialoog/db/dbtest"
	"dialoog/identity"
)

// adminOf is the signed-in admin of organisation org, as a request has
// them, for a user row inserted here.
func adminOf(t *testing.T, d *db.DB, org int64, email string) *auth.Current {
	t.Helper()
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	u := &db.User{Email: email, Kind: db.KindInternal, OrgID: &org, IsAdmin: true, Status: db.StatusActive, Language: "nl",
		Gender: "unknown", CreatedAt: now, UpdatedAt: now}
	if _, err := d.NewInsert().Model(u).Exec(context.Background()); err != nil {
		t.Fatal(err)
	}
	return &auth.Current{User: &identity.User{ID: u.ID, OrgID: &org, Email: email, Kind: db.KindInternal, IsAdmin: true, Status: db.StatusActive}}
}

// TestBrandingNameOfAnotherOrganisation: an admin who gives their
// organisation the name another organisation has gets a message on the
// name and changes nothing, on both engines (the name is unique), instead
// of a server error.
func TestBrandingNameOfAnotherOrganisation(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
		var orgs []int64
		for _, name := range []string{"OSAW", "Ander"} {
			o := &db.Organisation{Name: name, CreatedAt: now}
			if _, err := d.NewInsert().Model(o).Exec(ctx); err != nil {
				t.Fatal(err)
			}
			orgs = append(orgs, o.ID)
		}
		cur := adminOf(t, d, orgs[0], "hr@osaw.nl")
		b := &auth.Branding{DB: d, Now: func() time.Time { return now }}
		err := b.Save(ctx, cur, auth.BrandInput{Name: "Ander", SenderName: "Nieuw", Colour: "#123456"}, "127.0.0.1")
		if fs := apperr.FieldsOf(err); len(fs) != 1 || fs[0].Field != "name" || fs[0].Key != "branding.name_taken" {
			t.Fatalf("save with another organisation's name: %v, want the field error branding.name_taken on name", err)
		}
		got, err := b.Brand(ctx, cur)
		if err != nil {
			t.Fatal(err)
		}
		if got.Name != "OSAW" || got.SenderName != "" || got.Colour != "" {
			t.Errorf("after a refused save: %+v, want it unchanged", got)
		}
		// Its own name again, or a new one, is fine.
		for _, name := range []string{"OSAW", "OSAW Arbo"} {
			if err := b.Save(ctx, cur, auth.BrandInput{Name: name}, "127.0.0.1"); err != nil {
				t.Fatalf("save %q: %v", name, err)
			}
		}
	})
}
