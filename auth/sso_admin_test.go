package auth_test

import (
	"context"
	"sync"
	"testing"

	"dialoog/apperr"
	"dialoog/auth"
	"dialoog/db"
	"dialoog/db/dbtest"
)

// TestSSOSaveTwiceAtOnce: the provider form sent twice at once (a double
// click) stores it once without a server error, and two organisations
// claiming the same mail domain at the same moment leave it with one of
// them while the other gets the message that it is taken, on both
// engines.
func TestSSOSaveTwiceAtOnce(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newAccFixture(t, d)
		other := &db.Organisation{Name: "Ander", CreatedAt: f.clk.Now()}
		if _, err := d.NewInsert().Model(other).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		s := &auth.SSO{Accounts: f.acc, RedirectURL: "http://dialoog.test" + auth.PathSSOCallback}
		anna, eve := adminOf(t, d, f.org.ID, "anna@osaw.nl"), adminOf(t, d, other.ID, "eve@ander.nl")
		in := func(domains string) auth.SSOInput {
			return auth.SSOInput{Issuer: "https://login.example", ClientID: "dialoog", ClientSecret: "geheim", Domains: domains}
		}
		at := func(calls ...func() error) []error {
			errs := make([]error, len(calls))
			var wg sync.WaitGroup
			for i, call := range calls {
				wg.Add(1)
				go func() {
					defer wg.Done()
					errs[i] = call()
				}()
			}
			wg.Wait()
			return errs
		}
		for i := 0; i < 5; i++ {
			domains := "osaw.nl zorg" + string(rune('a'+i)) + ".nl"
			for _, err := range at(func() error { return s.Save(ctx, anna, in(domains), "127.0.0.1") },
				func() error { return s.Save(ctx, anna, in(domains), "127.0.0.1") }) {
				if err != nil {
					t.Errorf("round %d: the form sent twice: %v", i, err)
				}
			}
		}
		if err := s.Remove(ctx, anna, "127.0.0.1"); err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 5; i++ {
			domain := "gedeeld" + string(rune('a'+i)) + ".nl"
			errs := at(func() error { return s.Save(ctx, anna, in(domain), "127.0.0.1") },
				func() error { return s.Save(ctx, eve, in(domain), "127.0.0.1") })
			ok := 0
			for _, err := range errs {
				switch fs := apperr.FieldsOf(err); {
				case err == nil:
					ok++
				case len(fs) == 1 && fs[0].Key == "sso.domains.taken":
				default:
					t.Errorf("round %d: %v, want nil or the field error sso.domains.taken", i, err)
				}
			}
			if ok != 1 {
				t.Errorf("round %d: %d of two organisations got the domain, want 1", i, ok)
			}
			n, err := d.NewSelect().Table("sso_domains").Where("domain = ?", domain).Count(ctx)
			if err != nil || n != 1 {
				t.Errorf("round %d: %d rows of the domain, %v", i, n, err)
			}
			for _, cur := range []*auth.Current{anna, eve} {
				if err := s.Remove(ctx, cur, "127.0.0.1"); err != nil {
					t.Fatal(err)
				}
			}
		}
	})
}

// TestSSODomainOfAnotherOrganisationsColleagues: an admin cannot claim for
// their organisation's provider a mail domain in which another
// organisation has colleagues (internal users). Before, the first to save
// it had it: another organisation's admin could take osaw.nl before OSAW
// did, so that OSAW could never log in through its own provider, and their
// provider, which says who anyone at osaw.nl is, could create accounts for
// the addresses OSAW had not invited yet. The domain's own organisation
// keeps it (also when another organisation has a colleague there later), and
// a domain where only external people have an address may still be claimed
// (an organisation's own people may take part elsewhere as outsiders). Both
// engines, in Beheer and on the command line.
func TestSSODomainOfAnotherOrganisationsColleagues(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newAccFixture(t, d)
		other := &db.Organisation{Name: "Ander", CreatedAt: f.clk.Now()}
		if _, err := d.NewInsert().Model(other).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		s := &auth.SSO{Accounts: f.acc, RedirectURL: "http://dialoog.test" + auth.PathSSOCallback}
		anna, eve := adminOf(t, d, f.org.ID, "anna@osaw.nl"), adminOf(t, d, other.ID, "eve@ander.nl")
		in := func(domains string) auth.SSOInput {
			return auth.SSOInput{Issuer: "https://login.example", ClientID: "dialoog", ClientSecret: "geheim", Domains: domains, CreateUsers: true}
		}
		if _, _, err := f.inv.Invite(ctx, auth.InviteInput{Email: "jan@gmail.example", OrgID: f.org.ID}); err != nil {
			t.Fatal(err)
		}
		for _, domains := range []string{"osaw.nl", "ander.nl OSAW.nl"} {
			err := s.Save(ctx, eve, in(domains), "127.0.0.1")
			if fs := apperr.FieldsOf(err); len(fs) != 1 || fs[0].Key != "sso.domains.taken" {
				t.Fatalf("%q claimed by another organisation: %v, want the field error sso.domains.taken", domains, err)
			}
			if err := s.SaveForOrg(ctx, other.ID, in(domains)); apperr.FieldsOf(err) == nil {
				t.Fatalf("%q claimed on the command line for another organisation: %v", domains, err)
			}
		}
		if n, err := d.NewSelect().Table("sso_domains").Count(ctx); err != nil || n != 0 {
			t.Fatalf("%d domains stored after the refusals, %v", n, err)
		}
		if _, ok, err := s.Settings(ctx, eve); err != nil || ok {
			t.Fatalf("a provider stored for the other organisation (%v, %v)", ok, err)
		}
		// Its own people and outsiders' addresses do not stand in the way.
		if err := s.Save(ctx, eve, in("ander.nl gmail.example"), "127.0.0.1"); err != nil {
			t.Fatal(err)
		}
		if err := s.Save(ctx, anna, in("osaw.nl"), "127.0.0.1"); err != nil {
			t.Fatal(err)
		}
		// A domain the organisation holds stays its own: a colleague
		// another organisation gives an address in it later does not stop
		// it from saving its provider again.
		adminOf(t, d, other.ID, "piet@osaw.nl")
		if err := s.Save(ctx, anna, in("osaw.nl zorg.nl"), "127.0.0.1"); err != nil {
			t.Fatalf("saved again with a domain the organisation holds: %v", err)
		}
	})
}
