package auth_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
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

// TestSSOProviderInTheOperatorsNetworks: on an installation shared by
// several organisations the operator lists the only non-public networks
// where providers may be (DIALOOG_SSO_NETWORKS, netguard.Networks), so
// that one organisation's admin cannot make every login fetch from any
// host of the operator's network. Unset, a provider on loopback works as
// before; with 127.0.0.1/32 listed it works too; with only 10.0.0.0/8
// listed (or public) its address is refused when saved, and a name that
// leads to loopback (localhost) is saved but not connected to.
func TestSSOProviderInTheOperatorsNetworks(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newSSOFixture(t, d, true) // saved with DIALOOG_SSO_NETWORKS unset
		in := func(issuer string) auth.SSOInput {
			return auth.SSOInput{Issuer: issuer, ClientID: ssoClient, ClientSecret: ssoSecret, Domains: "osaw.example"}
		}
		networks := func(s string) netguard.Networks {
			n, err := netguard.ParseNetworks(s)
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
		if _, err := f.login(t, "anna@osaw.example", "anna"); err != nil {
			t.Fatalf("unset: %v", err)
		}

		f.sso = &auth.SSO{Accounts: f.acc, RedirectURL: ssoCallback, Networks: networks("127.0.0.1/32")}
		if err := f.sso.SaveForOrg(ctx, f.org.ID, in(f.op.Issuer)); err != nil {
			t.Fatalf("127.0.0.1/32 listed: %v", err)
		}
		if _, err := f.login(t, "anna@osaw.example", "anna"); err != nil {
			t.Fatalf("127.0.0.1/32 listed: %v", err)
		}

		localhost := strings.Replace(f.op.Issuer, "127.0.0.1", "localhost", 1)
		for _, list := range []string{"10.0.0.0/8", "public"} {
			// The provider saved before the operator set the list is not
			// connected to either.
			f.sso = &auth.SSO{Accounts: f.acc, RedirectURL: ssoCallback, Networks: networks(list)}
			if _, err := f.sso.BeginSSO(ctx, "anna@osaw.example", "127.0.0.1"); !errors.Is(err, netguard.ErrNotPublic) {
				t.Errorf("%s: login through the provider saved before: %v, want netguard.ErrNotPublic", list, err)
			}
			for _, issuer := range []string{f.op.Issuer, "https://192.168.1.5/realms/osaw", "https://[::1]/", "https://169.254.169.254/"} {
				err := f.sso.SaveForOrg(ctx, f.org.ID, in(issuer))
				want := "sso.issuer.network_limited"
				if issuer == "https://169.254.169.254/" {
					want = "sso.issuer.network"
				}
				if fs := apperr.FieldsOf(err); len(fs) != 1 || fs[0].Key != want {
					t.Errorf("%s: %s: %v, want the field error %s", list, issuer, err, want)
				}
			}
			if list == "10.0.0.0/8" {
				if err := f.sso.SaveForOrg(ctx, f.org.ID, in("https://10.1.2.3/realms/osaw")); err != nil {
					t.Errorf("%s: a listed address: %v", list, err)
				}
			}
			if err := f.sso.SaveForOrg(ctx, f.org.ID, in(localhost)); err != nil {
				t.Fatalf("%s: %s: %v", list, localhost, err)
			}
			if _, err := f.sso.BeginSSO(ctx, "anna@osaw.example", "127.0.0.1"); !errors.Is(err, netguard.ErrNotPublic) {
				t.Errorf("%s: login through %s: %v, want netguard.ErrNotPublic", list, localhost, err)
			}
		}
	})
}
