package auth_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"dialoog/apperr"
	"dialoog/auth"
	"dialoog/db"
	"dialoog/db/dbtest"
	"dialoog/netguard"
)

// TestSSOProviderNotAtAMetadataService: an organisation's admin sets the
// address of its identity provider, and every login then makes the server
// fetch from it. A provider may live in the organisation's own network
// (loopback, a private address), but never at a cloud instance's metadata
// service or another link-local address, which hands out the instance's
// credentials: such an address is refused when saved, and the server does
// not connect to it when a provider's answer leads there.
func TestSSOProviderNotAtAMetadataService(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newAccFixture(t, d)
		s := &auth.SSO{Accounts: f.acc, RedirectURL: "http://dialoog.test" + auth.PathSSOCallback}
		anna := adminOf(t, d, f.org.ID, "anna@osaw.nl")
		in := func(issuer string) auth.SSOInput {
			return auth.SSOInput{Issuer: issuer, ClientID: "dialoog", ClientSecret: "geheim", Domains: "osaw.nl"}
		}
		for _, issuer := range []string{"https://169.254.169.254/latest", "https://[fe80::1]/", "https://[fd00:ec2::254]/", "http://169.254.169.254/", "https://100.100.100.200/", "https://0.0.0.0/"} {
			err := s.Save(ctx, anna, in(issuer), "127.0.0.1")
			if fs := apperr.FieldsOf(err); len(fs) != 1 || fs[0].Key != "sso.issuer.network" {
				t.Errorf("%s: %v, want the field error sso.issuer.network", issuer, err)
			}
		}
		for _, issuer := range []string{"https://10.0.0.7/realms/osaw", "https://idp.osaw.nl"} {
			if err := s.Save(ctx, anna, in(issuer), "127.0.0.1"); err != nil {
				t.Errorf("%s: %v", issuer, err)
			}
		}

		// A provider on loopback whose discovery redirects to the metadata
		// service: the server follows the redirect but does not connect.
		idp := httptest.NewServer(http.RedirectHandler("http://169.254.169.254/latest/meta-data/", http.StatusFound))
		t.Cleanup(idp.Close)
		if err := s.Save(ctx, anna, in(idp.URL), "127.0.0.1"); err != nil {
			t.Fatal(err)
		}
		_, err := s.BeginSSO(ctx, "anna@osaw.nl", "127.0.0.1")
		if !errors.Is(err, netguard.ErrNotPublic) {
			t.Fatalf("login through a provider that leads to the metadata service: %v, want netguard.ErrNotPublic", err)
		}
	})
}
