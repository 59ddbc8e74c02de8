package seal

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/x509"
	"sync"
	"testing"
	"time"

	"dialoog/apperr"
	"dialoog/db"
	"dialoog/db/dbtest"
	"dialoog/vault"
)

func testVault(t testing.TB) *vault.Vault {
	t.Helper()
	key := make([]byte, 32)
	rand.Read(key)
	v, err := vault.New(key)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func newOrg(t testing.TB, d *db.DB, name string) int64 {
	t.Helper()
	var id int64
	err := d.NewRaw("INSERT INTO organisations (name, created_at) VALUES (?, ?) RETURNING id", name, time.Now().UTC()).
		Scan(context.Background(), &id)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func TestKeyGeneratedOncePerOrganisation(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		v := testVault(t)
		org := newOrg(t, d, "Arbodienst Zuid")
		other := newOrg(t, d, "HR Noord")

		// Several instances (each its own Store and cache) race for the
		// first key of the organisation.
		const n = 6
		certs := make([][]byte, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				kp, err := NewStore(d, v, Config{}).KeyPair(ctx, org)
				if err != nil {
					t.Error(err)
					return
				}
				certs[i] = kp.Cert.Raw
			}()
		}
		wg.Wait()
		for i := 1; i < n; i++ {
			if !bytes.Equal(certs[i], certs[0]) {
				t.Fatalf("instance %d got another certificate", i)
			}
		}
		var rows int
		if err := d.NewRaw("SELECT COUNT(*) FROM organisation_seal_keys WHERE org_id = ?", org).Scan(ctx, &rows); err != nil {
			t.Fatal(err)
		}
		if rows != 1 {
			t.Fatalf("%d stored keys, want 1", rows)
		}

		kp, err := NewStore(d, v, Config{}).KeyPair(ctx, org)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(kp.Cert.Raw, certs[0]) {
			t.Fatal("a later start got another certificate")
		}
		if got := kp.Cert.Subject.CommonName; got != "Arbodienst Zuid" {
			t.Fatalf("subject = %q", got)
		}
		if ou := kp.Cert.Subject.OrganizationalUnit; len(ou) != 1 || ou[0] != "Dialoog seal" {
			t.Fatalf("subject OU = %v", ou)
		}
		if years := kp.Cert.NotAfter.Sub(kp.Cert.NotBefore).Hours() / 24 / 365; years < 9.9 {
			t.Fatalf("valid %.1f years", years)
		}
		otherKP, err := NewStore(d, v, Config{}).KeyPair(ctx, other)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Equal(otherKP.Cert.Raw, kp.Cert.Raw) {
			t.Fatal("two organisations share a key")
		}
		var sealed []byte
		if err := d.NewRaw("SELECT key_sealed FROM organisation_seal_keys WHERE org_id = ?", org).Scan(ctx, &sealed); err != nil {
			t.Fatal(err)
		}
		der, err := x509.MarshalPKCS8PrivateKey(kp.Key)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(sealed, der) {
			t.Fatal("key stored in the clear")
		}
		if _, err := NewStore(d, testVault(t), Config{}).KeyPair(ctx, org); err == nil {
			t.Fatal("key opened with another vault key")
		}
		if _, err := NewStore(d, v, Config{}).KeyPair(ctx, 999999); apperr.CodeOf(err) != apperr.NotFound {
			t.Fatalf("unknown organisation: %v", err)
		}
	})
}

func TestStoreSealAndVerify(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		v := testVault(t)
		s := NewStore(d, v, Config{})
		org := newOrg(t, d, "Arbodienst Zuid")
		original := twoPages(t)
		ev := testEvidence(original)
		ev.Organisation = ""
		sealed, err := s.Seal(ctx, org, original, ev)
		if err != nil {
			t.Fatal(err)
		}

		t.Run("OK", func(t *testing.T) {
			res, err := NewStore(d, v, Config{}).Verify(ctx, sealed)
			if err != nil {
				t.Fatal(err)
			}
			if !res.Sealed || !res.SignatureValid || !res.WholeFile || !res.Dialoog || res.OrgID != org ||
				res.Organisation != "Arbodienst Zuid" || res.Problem != "" {
				t.Fatalf("result = %+v", res)
			}
			if res.Evidence == nil || res.Evidence.SHA256 != ev.SHA256 || len(res.Evidence.Signatures) != 2 ||
				res.Evidence.Organisation != "Arbodienst Zuid" || res.Evidence.Pages != 2 {
				t.Fatalf("evidence = %+v", res.Evidence)
			}
		})
		t.Run("Tampered", func(t *testing.T) {
			res, err := s.Verify(ctx, tamper(t, sealed))
			if err != nil {
				t.Fatal(err)
			}
			if res.Sealed || res.Problem != ProblemChanged {
				t.Fatalf("result = %+v", res)
			}
		})
		t.Run("UnknownKey", func(t *testing.T) {
			_, foreign := sealForTest(t, testKeyPair(t, "Arbodienst Zuid"))
			res, err := s.Verify(ctx, foreign)
			if err != nil {
				t.Fatal(err)
			}
			if res.Sealed || res.Dialoog || !res.SignatureValid || res.Problem != ProblemForeign {
				t.Fatalf("result = %+v", res)
			}
		})
		t.Run("Unsigned", func(t *testing.T) {
			res, err := s.Verify(ctx, original)
			if err != nil {
				t.Fatal(err)
			}
			if res.Sealed || res.Problem != ProblemUnsigned {
				t.Fatalf("result = %+v", res)
			}
		})
		t.Run("NotPDF", func(t *testing.T) {
			res, err := s.Verify(ctx, []byte("no pdf at all"))
			if err != nil {
				t.Fatal(err)
			}
			if res.Sealed || res.Problem != ProblemNotPDF {
				t.Fatalf("result = %+v", res)
			}
		})
		t.Run("WrongHash", func(t *testing.T) {
			bad := ev
			bad.SHA256 = "00"
			if _, err := s.Seal(ctx, org, original, bad); apperr.CodeOf(err) != apperr.Invalid {
				t.Fatalf("err = %v, want Invalid", err)
			}
		})
		t.Run("Configured", func(t *testing.T) {
			kp := testKeyPair(t, "Dialoog-installatie")
			cs := NewStore(d, v, Config{Configured: kp})
			out, err := cs.Seal(ctx, org, original, ev)
			if err != nil {
				t.Fatal(err)
			}
			in, err := Inspect(out)
			if err != nil || !bytes.Equal(in.Signer.Raw, kp.Cert.Raw) {
				t.Fatalf("not sealed with the configured key: %v", err)
			}
			res, err := cs.Verify(ctx, out)
			if err != nil {
				t.Fatal(err)
			}
			if !res.Sealed || res.OrgID != 0 || res.Organisation != "Arbodienst Zuid" {
				t.Fatalf("result = %+v", res)
			}
			// An organisation's stored key stays Dialoog's after a
			// certificate is configured.
			if res, _ := cs.Verify(ctx, sealed); !res.Sealed || res.OrgID != org {
				t.Fatalf("earlier seal: %+v", res)
			}
		})
	})
}
