package auth_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"testing"

	"github.com/fxamacker/cbor/v2"

	"dialoog/apperr"
	"dialoog/auth"
	"dialoog/db"
	"dialoog/db/dbtest"
)

// softKey is a passkey authenticator in software (ES256, attestation
// "none", user verified), so that the server's checks meet the bytes a
// real one sends: an authenticator data with the RP ID's hash, flags and
// counter, a client data JSON with type, challenge and origin, and an
// ECDSA signature over both.
type softKey struct {
	t      *testing.T
	key    *ecdsa.PrivateKey
	id     []byte
	handle []byte
	count  uint32
	rpID   string // the site the authenticator thinks it talks to
	origin string // the origin the browser reports
}

func newSoftKey(t *testing.T) *softKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	id := make([]byte, 16)
	rand.Read(id)
	return &softKey{t: t, key: k, id: id, rpID: "dialoog.test", origin: "http://dialoog.test"}
}

var b64 = base64.RawURLEncoding

// options reads challenge and user handle of a ceremony's options.
func options(t *testing.T, raw []byte) (challenge string, userID []byte) {
	t.Helper()
	var o struct {
		PublicKey struct {
			Challenge string `json:"challenge"`
			User      struct {
				ID string `json:"id"`
			} `json:"user"`
		} `json:"publicKey"`
	}
	if err := json.Unmarshal(raw, &o); err != nil {
		t.Fatalf("options %s: %v", raw, err)
	}
	if o.PublicKey.User.ID != "" {
		var err error
		if userID, err = b64.DecodeString(o.PublicKey.User.ID); err != nil {
			t.Fatal(err)
		}
	}
	return o.PublicKey.Challenge, userID
}

func (k *softKey) clientData(typ, challenge string) []byte {
	b, _ := json.Marshal(map[string]any{"type": typ, "challenge": challenge, "origin": k.origin, "crossOrigin": false})
	return b
}

func (k *softKey) authData(flags byte, attested []byte) []byte {
	rp := sha256.Sum256([]byte(k.rpID))
	out := append(rp[:], flags)
	out = binary.BigEndian.AppendUint32(out, k.count)
	return append(out, attested...)
}

// create answers registration options.
func (k *softKey) create(opts []byte) []byte {
	k.t.Helper()
	challenge, handle := options(k.t, opts)
	k.handle = handle
	x, y := k.key.PublicKey.X.FillBytes(make([]byte, 32)), k.key.PublicKey.Y.FillBytes(make([]byte, 32))
	cose, err := cbor.Marshal(map[int]any{1: 2, 3: -7, -1: 1, -2: x, -3: y})
	if err != nil {
		k.t.Fatal(err)
	}
	attested := make([]byte, 16) // AAGUID: none
	attested = binary.BigEndian.AppendUint16(attested, uint16(len(k.id)))
	attested = append(append(attested, k.id...), cose...)
	// UP, UV, AT
	att, err := cbor.Marshal(map[string]any{"fmt": "none", "attStmt": map[string]any{}, "authData": k.authData(0x45, attested)})
	if err != nil {
		k.t.Fatal(err)
	}
	out, _ := json.Marshal(map[string]any{
		"id": b64.EncodeToString(k.id), "rawId": b64.EncodeToString(k.id), "type": "public-key",
		"response": map[string]any{
			"clientDataJSON":    b64.EncodeToString(k.clientData("webauthn.create", challenge)),
			"attestationObject": b64.EncodeToString(att),
			"transports":        []string{"internal"},
		},
		"clientExtensionResults": map[string]any{},
	})
	return out
}

// get answers login options, counting one use.
func (k *softKey) get(opts []byte) []byte {
	k.t.Helper()
	challenge, _ := options(k.t, opts)
	k.count++
	ad := k.authData(0x05, nil) // UP, UV
	cd := k.clientData("webauthn.get", challenge)
	sum := sha256.Sum256(cd)
	digest := sha256.Sum256(append(append([]byte{}, ad...), sum[:]...))
	sig, err := ecdsa.SignASN1(rand.Reader, k.key, digest[:])
	if err != nil {
		k.t.Fatal(err)
	}
	out, _ := json.Marshal(map[string]any{
		"id": b64.EncodeToString(k.id), "rawId": b64.EncodeToString(k.id), "type": "public-key",
		"response": map[string]any{
			"clientDataJSON":    b64.EncodeToString(cd),
			"authenticatorData": b64.EncodeToString(ad),
			"signature":         b64.EncodeToString(sig),
			"userHandle":        b64.EncodeToString(k.handle),
		},
		"clientExtensionResults": map[string]any{},
	})
	return out
}

func (f *accFixture) passkeys(t *testing.T) *auth.Passkeys {
	t.Helper()
	p, err := auth.NewPasskeys(f.acc, "http://dialoog.test", "Dialoog")
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// addPasskey registers k for the signed-in, confirmed session tok and
// returns the session's new token.
func (f *accFixture) addPasskey(t *testing.T, p *auth.Passkeys, tok string, k *softKey, name string) string {
	t.Helper()
	ctx := context.Background()
	cur := f.cur(t, tok)
	opts, err := p.BeginRegistration(ctx, cur)
	if err != nil {
		t.Fatalf("begin registration: %v", err)
	}
	tok, err = p.FinishRegistration(ctx, cur, name, k.create(opts), "127.0.0.1")
	if err != nil {
		t.Fatalf("finish registration: %v", err)
	}
	return tok
}

// passkeyLogin logs in with k alone.
func passkeyLogin(p *auth.Passkeys, k *softKey) (string, error) {
	ctx := context.Background()
	opts, browser, err := p.BeginLogin(ctx, "127.0.0.1")
	if err != nil {
		return "", err
	}
	return p.FinishLogin(ctx, browser, k.get(opts), "", "127.0.0.1", "t")
}

func wantRefused(t *testing.T, err error, what string) {
	t.Helper()
	e, ok := apperr.As(err)
	if !ok || e.Key != "passkey.refused" {
		t.Fatalf("%s: want passkey.refused, got %v", what, err)
	}
}

// TestPasskeyRegistrationAndLogin: a passkey added under "Tweede stap
// beheren" (after "confirm it is you") is listed, audited and mailed, ends
// the other sessions, and then logs in on its own (both factors) and as
// the second step after the password.
func TestPasskeyRegistrationAndLogin(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newAccFixture(t, d)
		p := f.passkeys(t)
		const email = "jan@example.nl"
		mb := f.mailbox(t, email)
		tok, _ := f.onboarded(t, email)
		mb.skip()
		device := f.acc.RememberDevice("", f.userID(t, email))
		other := f.fullLogin(t, email, goodPassword, device, recoveryPhone)

		// Without a recent confirmation nothing starts.
		_, err := p.BeginRegistration(ctx, f.cur(t, tok))
		wantKey(t, err, "confirm.required")

		k := newSoftKey(t)
		f.confirm(t, tok)
		cur := f.cur(t, tok)
		opts, err := p.BeginRegistration(ctx, cur)
		if err != nil {
			t.Fatal(err)
		}
		_, err = p.FinishRegistration(ctx, cur, "  ", k.create(opts), "127.0.0.1")
		wantKey(t, err, "passkey.name_required")
		tok = f.addPasskey(t, p, tok, k, "Telefoon\x00 van Jan")
		f.wantEnded(t, other, "passkey added")
		if n := f.auditCount(t, "passkey.added", "passkey Telefoon van Jan"); n != 1 {
			t.Fatalf("%d passkey.added rows", n)
		}
		wantMail(t, mb.next(), "Er is een tweede stap ingesteld voor je Dialoog-account")
		fs, err := f.acc.Factors(ctx, f.cur(t, tok))
		if err != nil || len(fs) != 2 || fs[1].Kind != auth.FactorPasskey || fs[1].Name != "Telefoon van Jan" {
			t.Fatalf("factors: %+v %v", fs, err)
		}

		// A passkey alone logs in: the session has passed the second step.
		login, err := passkeyLogin(p, k)
		if err != nil {
			t.Fatalf("passkey login: %v", err)
		}
		if c := f.cur(t, login); c.NeedsSecondFactor || c.Stage != auth.StageDone || c.User.Email != email {
			t.Fatalf("after a passkey login: %+v", c)
		}
		if n := f.auditCount(t, "login.passkey", "passkey Telefoon van Jan"); n != 1 {
			t.Fatalf("%d login.passkey rows", n)
		}
		mb.next() // a browser without the device mark

		// And as the second step after the password.
		res, err := f.acc.LoginOnDevice(ctx, email, goodPassword, device, "127.0.0.1", "t")
		if err != nil {
			t.Fatal(err)
		}
		kinds := map[string]bool{}
		for _, o := range res.Factors {
			kinds[o.Kind] = true
		}
		if !kinds[auth.FactorPasskey] || !kinds[db.FactorSMS] || len(res.Factors) != 2 {
			t.Fatalf("login offers %+v", res.Factors)
		}
		half := f.cur(t, res.Token)
		opts, err = p.BeginSecondStep(ctx, half, "127.0.0.1")
		if err != nil {
			t.Fatal(err)
		}
		full, err := p.FinishSecondStep(ctx, half, k.get(opts), device, "127.0.0.1")
		if err != nil {
			t.Fatalf("second step: %v", err)
		}
		if c := f.cur(t, full); c.NeedsSecondFactor {
			t.Fatal("the second step with a passkey did not count")
		}
		if n := f.auditCount(t, "login.ok", auth.FactorPasskey); n != 1 {
			t.Fatalf("%d login.ok rows for the passkey's second step", n)
		}
		mb.none("second step from a known browser")
	})
}

// TestPasskeyFirstVisit: in the first visit a passkey is a second factor
// of its own and ends the step, as an app does.
func TestPasskeyFirstVisit(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		f := newAccFixture(t, d)
		p := f.passkeys(t)
		tok := f.throughPassword(t, f.invited(t, "kees@example.nl"))
		if c := f.cur(t, tok); c.Stage != auth.StageSecondFactor {
			t.Fatalf("stage %s", c.Stage)
		}
		tok = f.addPasskey(t, p, tok, newSoftKey(t), "Laptop")
		if c := f.cur(t, tok); c.Stage != auth.StageRecovery || c.NeedsSecondFactor {
			t.Fatalf("after a passkey in the first visit: stage %s, needs factor %v", c.Stage, c.NeedsSecondFactor)
		}
		if n := f.auditCount(t, "passkey.added", "passkey Laptop"); n != 1 {
			t.Fatalf("%d passkey.added rows", n)
		}
	})
}

// TestPasskeyRefusals: another site's passkey, another origin, a replayed
// answer (a used challenge) and a counter that does not go up are refused
// and audited; so is an unknown passkey.
func TestPasskeyRefusals(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newAccFixture(t, d)
		p := f.passkeys(t)
		const email = "jan@example.nl"
		tok, _ := f.onboarded(t, email)
		f.confirm(t, tok)
		k := newSoftKey(t)
		tok = f.addPasskey(t, p, tok, k, "Telefoon")

		t.Run("OtherRPID", func(t *testing.T) {
			evil := *k
			evil.rpID = "evil.test"
			_, err := passkeyLogin(p, &evil)
			wantRefused(t, err, "another site's RP ID")
			k.count = evil.count
		})
		t.Run("OtherOrigin", func(t *testing.T) {
			evil := *k
			evil.origin = "http://evil.test"
			_, err := passkeyLogin(p, &evil)
			wantRefused(t, err, "another origin")
			k.count = evil.count
		})
		t.Run("RegistrationForOtherRPID", func(t *testing.T) {
			cur := f.confirm(t, tok)
			opts, err := p.BeginRegistration(ctx, cur)
			if err != nil {
				t.Fatal(err)
			}
			evil := newSoftKey(t)
			evil.rpID = "evil.test"
			_, err = p.FinishRegistration(ctx, cur, "Vals", evil.create(opts), "127.0.0.1")
			wantRefused(t, err, "a registration for another site")
		})
		t.Run("ReusedChallenge", func(t *testing.T) {
			opts, browser, err := p.BeginLogin(ctx, "127.0.0.1")
			if err != nil {
				t.Fatal(err)
			}
			answer := k.get(opts)
			if _, err := p.FinishLogin(ctx, browser, answer, "", "127.0.0.1", "t"); err != nil {
				t.Fatalf("first use: %v", err)
			}
			_, err = p.FinishLogin(ctx, browser, answer, "", "127.0.0.1", "t")
			wantRefused(t, err, "the same answer again")
		})
		t.Run("CounterNotUp", func(t *testing.T) {
			k.count-- // get counts one up: the same counter as last time
			_, err := passkeyLogin(p, k)
			wantRefused(t, err, "the same counter")
			k.count -= 2
			_, err = passkeyLogin(p, k)
			wantRefused(t, err, "a lower counter")
			k.count += 5
			if _, err := passkeyLogin(p, k); err != nil {
				t.Fatalf("a higher counter: %v", err)
			}
		})
		t.Run("SecondStepReplay", func(t *testing.T) {
			res, err := f.acc.Login(ctx, email, goodPassword, "127.0.0.1", "t")
			if err != nil {
				t.Fatal(err)
			}
			half := f.cur(t, res.Token)
			opts, err := p.BeginSecondStep(ctx, half, "127.0.0.1")
			if err != nil {
				t.Fatal(err)
			}
			answer := k.get(opts)
			evil := *k
			evil.origin = "http://evil.test"
			_, err = p.FinishSecondStep(ctx, half, evil.get(opts), "", "127.0.0.1")
			wantRefused(t, err, "second step from another origin")
			// The challenge was used up by the refused answer.
			_, err = p.FinishSecondStep(ctx, half, answer, "", "127.0.0.1")
			wantRefused(t, err, "a used challenge")
		})
		t.Run("UnknownPasskey", func(t *testing.T) {
			stranger := newSoftKey(t)
			stranger.handle = k.handle
			_, err := passkeyLogin(p, stranger)
			wantRefused(t, err, "an unknown passkey")
		})
		if n := f.auditCount(t, "passkey.refused", "passkey login"); n < 6 {
			t.Fatalf("%d passkey.refused rows", n)
		}
	})
}

// TestPasskeyLastFactor: a passkey counts as a factor, so the last one of
// SMS, app and passkeys is never removed, in either direction; removing
// needs the confirmation and another person's passkey is not found.
func TestPasskeyLastFactor(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newAccFixture(t, d)
		p := f.passkeys(t)
		const email = "jan@example.nl"
		tok, _ := f.onboarded(t, email)
		f.confirm(t, tok)
		tok = f.addPasskey(t, p, tok, newSoftKey(t), "Sleutel")
		f.clk.Add(auth.ConfirmTTL)
		fs, _ := f.acc.Factors(ctx, f.cur(t, tok))
		if len(fs) != 2 {
			t.Fatalf("factors %+v", fs)
		}
		smsID, keyID := fs[0].ID, fs[1].ID
		wantKey(t, p.RemovePasskey(ctx, f.cur(t, tok), keyID, "127.0.0.1"), "confirm.required")

		cur := f.confirm(t, tok)
		if err := f.acc.RemoveFactor(ctx, cur, smsID, "127.0.0.1"); err != nil {
			t.Fatalf("remove sms beside a passkey: %v", err)
		}
		wantKey(t, p.RemovePasskey(ctx, f.cur(t, tok), keyID, "127.0.0.1"), "factor.last")

		// With two passkeys, one goes.
		tok = f.addPasskey(t, p, tok, newSoftKey(t), "Tweede sleutel")
		if err := p.RemovePasskey(ctx, f.cur(t, tok), keyID, "127.0.0.1"); err != nil {
			t.Fatalf("remove one of two passkeys: %v", err)
		}
		if n := f.auditCount(t, "passkey.removed", "passkey Sleutel"); n != 1 {
			t.Fatalf("%d passkey.removed rows", n)
		}
		fs, _ = f.acc.Factors(ctx, f.cur(t, tok))
		if len(fs) != 1 {
			t.Fatalf("factors %+v", fs)
		}
		wantKey(t, p.RemovePasskey(ctx, f.cur(t, tok), fs[0].ID, "127.0.0.1"), "factor.last")

		tok2, _ := f.onboarded(t, "piet@example.nl")
		wantCode(t, p.RemovePasskey(ctx, f.confirm(t, tok2), fs[0].ID, "127.0.0.1"), apperr.NotFound)
	})
}

// TestPasskeysNeedDomain: WebAuthn ties a passkey to a domain name, so a
// base URL with an IP address has no passkeys (the server starts without).
func TestPasskeysNeedDomain(t *testing.T) {
	for _, base := range []string{"http://127.0.0.1:8080", "http://[::1]:8080"} {
		if _, err := auth.NewPasskeys(&auth.Accounts{}, base, "Dialoog"); !errors.Is(err, auth.ErrPasskeysNeedDomain) {
			t.Errorf("%s: %v", base, err)
		}
	}
	if _, err := auth.NewPasskeys(&auth.Accounts{}, "https://dialoog.example.nl", "Dialoog"); err != nil {
		t.Errorf("a domain: %v", err)
	}
}

// TestPasskeyThrottled: wrong passkey answers count against the account
// like wrong codes (counted before the signature is checked), for a login
// with the passkey alone and for the second step: after four free
// failures the account waits, and during the wait even a right answer is
// not checked.
func TestPasskeyThrottled(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newAccFixture(t, d)
		p := f.passkeys(t)
		const email = "jan@example.nl"
		tok, _ := f.onboarded(t, email)
		f.confirm(t, tok)
		k := newSoftKey(t)
		f.addPasskey(t, p, tok, k, "Telefoon")
		evil := *k
		evil.origin = "http://evil.test"

		var wait *auth.WaitError
		for i := 0; i < 10 && wait == nil; i++ {
			_, err := passkeyLogin(p, &evil)
			if !errors.As(err, &wait) {
				wantRefused(t, err, "another origin")
			}
		}
		if wait == nil {
			t.Fatal("ten wrong passkey answers and no wait")
		}
		k.count = evil.count
		_, err := passkeyLogin(p, k)
		if !errors.As(err, &wait) {
			t.Fatalf("a right answer during the wait: %v", err)
		}
		f.clk.Add(wait.Wait)
		if _, err := passkeyLogin(p, k); err != nil {
			t.Fatalf("after the wait: %v", err)
		}

		// The second step counts the same way.
		res, err := f.acc.Login(ctx, email, goodPassword, "127.0.0.1", "t")
		if err != nil {
			t.Fatal(err)
		}
		half := f.cur(t, res.Token)
		wait = nil
		for i := 0; i < 10 && wait == nil; i++ {
			opts, err := p.BeginSecondStep(ctx, half, "127.0.0.1")
			if err != nil {
				t.Fatal(err)
			}
			_, err = p.FinishSecondStep(ctx, half, evil.get(opts), "", "127.0.0.1")
			if !errors.As(err, &wait) {
				wantRefused(t, err, "second step from another origin")
			}
		}
		if wait == nil {
			t.Fatal("ten wrong second steps and no wait")
		}
	})
}
