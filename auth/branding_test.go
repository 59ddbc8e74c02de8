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

// TestBrandingChangeAudited: the audit row of a change of "Organisatie"
// says what changed: the organisation's name and the sender name from
// what to what, and whether the support text changed, besides the colour
// and the language of the evidence.
func TestBrandingChangeAudited(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
		o := &db.Organisation{Name: "OSAW", CreatedAt: now}
		if _, err := d.NewInsert().Model(o).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		cur := adminOf(t, d, o.ID, "hr@osaw.nl")
		b := &auth.Branding{DB: d, Now: func() time.Time { return now }}
		detail := func() string {
			t.Helper()
			var ds []string
			if err := d.NewSelect().Model((*db.AuditEvent)(nil)).Column("detail").Where("kind = ? AND org_id = ?", "admin.branding_changed", o.ID).
				OrderExpr("id DESC").Limit(1).Scan(ctx, &ds); err != nil || len(ds) != 1 {
				t.Fatalf("audit row: %v %v", ds, err)
			}
			return ds[0]
		}
		if err := b.Save(ctx, cur, auth.BrandInput{Name: "OSAW Arbo", SenderName: "OSAW Verzuim", SupportText: "Bel 030", Colour: "#123456"}, "127.0.0.1"); err != nil {
			t.Fatal(err)
		}
		want := `name "OSAW" to "OSAW Arbo", sender "" to "OSAW Verzuim", support text changed, colour #123456, evidence nl`
		if got := detail(); got != want {
			t.Errorf("first change: %q, want %q", got, want)
		}
		if err := b.Save(ctx, cur, auth.BrandInput{Name: "OSAW Arbo", SenderName: "OSAW Verzuim", SupportText: "Bel 030", Colour: "#123456", EvidenceLanguage: auth.EvidenceEnglish}, "127.0.0.1"); err != nil {
			t.Fatal(err)
		}
		if got, want := detail(), "colour #123456, evidence en"; got != want {
			t.Errorf("only the evidence's language: %q, want %q", got, want)
		}
	})
}
