package auth_test

import (
	"context"
	"encoding/base32"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"dialoog/apperr"
	"dialoog/auth"
	"dialoog/db"
	"dialoog/db/dbtest"
	"dialoog/i18n"
	"dialoog/notify"
)

type accFixture struct {
	*fixture
	acc *auth.Accounts
}

func newAccFixture(t *testing.T, d *db.DB) *accFixture {
	t.Helper()
	f := newFixture(t, d)
	if err := auth.EnsureTerms(context.Background(), d, f.clk.Now); err != nil {
		t.Fatal(err)
	}
	acc := &auth.Accounts{
		DB: d, Vault: f.v, Outbox: notify.NewOutbox(f.v).WithClock(f.clk.Now), Sessions: f.inv.Sessions, Limiter: f.inv.Limiter, Now: f.clk.Now,
		Log: discardLog(), SMSText: func(lang, code string) string { return "Je Dialoog-code is " + code },
		BaseURL: "http://dialoog.test", ResetMail: resetMail{}, Requested: f.inv.Requested,
	}
	f.req.Accounts = acc
	return &accFixture{fixture: f, acc: acc}
}

// invited returns a session token of a freshly invited user.
func (f *accFixture) invited(t *testing.T, email string) string {
	t.Helper()
	link, _, err := f.inv.Invite(context.Background(), auth.InviteInput{Email: email, OrgID: f.org.ID})
	if err != nil {
		t.Fatal(err)
	}
	tok, _, err := f.inv.Accept(context.Background(), token(link), "127.0.0.1", "test")
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func (f *accFixture) cur(t *testing.T, tok string) *auth.Current {
	t.Helper()
	c, err := f.acc.Resolve(context.Background(), tok)
	if err != nil {
		t.Fatalf("resolve: %v", err)
	}
	return c
}

var codeRE = regexp.MustCompile(`\d{6}`)

func (f *accFixture) lastSMSCode(t *testing.T, phone string) string {
	t.Helper()
	s, err := notify.LatestDevSMSTo(context.Background(), f.d, f.v, phone)
	if err != nil {
		t.Fatal(err)
	}
	return codeRE.FindString(s.Body)
}

func (f *accFixture) smsCount(t *testing.T, phone string) int {
	t.Helper()
	n, err := f.d.NewSelect().Model((*db.OutboxItem)(nil)).Where("channel = ? AND recipient = ?", db.ChannelSMS, phone).Count(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return int(n)
}

func totpNow(t *testing.T, secret string, at time.Time) string {
	t.Helper()
	raw, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(secret)
	if err != nil {
		t.Fatal(err)
	}
	return auth.HOTP(raw, at.Unix()/30, 6)
}

func wantKey(t *testing.T, err error, key string) {
	t.Helper()
	var we *auth.WaitError
	if errors.As(err, &we) && we.Err.Key == key {
		return
	}
	e, ok := apperr.As(err)
	if !ok || e.Key != key {
		if fs := apperr.FieldsOf(err); len(fs) > 0 && fs[0].Key == key {
			return
		}
		t.Fatalf("want %s, got %v", key, err)
	}
}

const goodPassword = "paard batterij nietje correct"

// throughPassword accepts the terms and sets the password.
func (f *accFixture) throughPassword(t *testing.T, tok string) string {
	t.Helper()
	ctx := context.Background()
	terms, _ := auth.CurrentTerms(ctx, f.d)
	tok, err := f.acc.AcceptTerms(ctx, f.cur(t, tok), terms.ID, true, "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	tok, err = f.acc.SetPassword(ctx, f.cur(t, tok), goodPassword, goodPassword, "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func TestFirstVisitSMSRoute(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newAccFixture(t, d)
		tok := f.invited(t, "jan@example.nl")
		cur := f.cur(t, tok)
		if cur.Stage != auth.StageTerms {
			t.Fatalf("stage %s", cur.Stage)
		}

		t.Run("LaterStepsRefusedEarly", func(t *testing.T) {
			_, err := f.acc.SetPassword(ctx, cur, goodPassword, goodPassword, "ip")
			wantKey(t, err, "stage.wrong")
			_, err = f.acc.SendSetupSMS(ctx, cur, "0612345678", "ip")
			wantKey(t, err, "stage.wrong")
			_, err = f.acc.SaveProfile(ctx, cur, auth.Profile{Initials: "J", FirstName: "Jan", LastName: "Jansen"}, "ip")
			wantKey(t, err, "stage.wrong")
		})
		terms, _ := auth.CurrentTerms(ctx, d)
		t.Run("TermsUncheckedRefused", func(t *testing.T) {
			_, err := f.acc.AcceptTerms(ctx, cur, terms.ID, false, "ip")
			wantKey(t, err, "terms.must_accept")
		})
		t.Run("TermsSessionRotates", func(t *testing.T) {
			newTok, err := f.acc.AcceptTerms(ctx, cur, terms.ID, true, "127.0.0.1")
			if err != nil || newTok == tok {
				t.Fatalf("accept: %v", err)
			}
			if _, err := f.acc.Resolve(ctx, tok); err == nil {
				t.Fatal("old session id still valid after a stage change")
			}
			tok = newTok
		})
		cur = f.cur(t, tok)
		if cur.Stage != auth.StagePassword {
			t.Fatalf("stage %s", cur.Stage)
		}
		t.Run("PasswordMismatch", func(t *testing.T) {
			_, err := f.acc.SetPassword(ctx, cur, goodPassword, goodPassword+"x", "ip")
			wantKey(t, err, "password.mismatch")
			_, err = f.acc.SetPassword(ctx, cur, "jan@example.nl-geheim", "jan@example.nl-geheim", "ip")
			wantKey(t, err, "password.contains_email")
		})
		tok, err := f.acc.SetPassword(ctx, cur, goodPassword, goodPassword, "ip")
		if err != nil {
			t.Fatal(err)
		}
		cur = f.cur(t, tok)
		if cur.Stage != auth.StageSecondFactor {
			t.Fatalf("stage %s", cur.Stage)
		}
		t.Run("SkipBothRefused", func(t *testing.T) {
			_, err := f.acc.SkipApp(ctx, cur)
			wantKey(t, err, "factor.required")
		})
		t.Run("BadNumber", func(t *testing.T) {
			_, err := f.acc.SendSetupSMS(ctx, cur, "020 123 4567", "ip")
			wantKey(t, err, "phone.not_mobile")
		})
		const phone = "+31612345678"
		st, err := f.acc.SendSetupSMS(ctx, cur, "06 12345678", "ip")
		if err != nil || st.Phone != phone || st.ResendIn != auth.SMSResendAfter {
			t.Fatalf("send: %+v %v", st, err)
		}
		t.Run("ReloadNeverResends", func(t *testing.T) {
			before := f.smsCount(t, phone)
			for range 3 {
				st, err := f.acc.SMSSetupState(ctx, cur.User.ID)
				if err != nil || st.Phone != phone {
					t.Fatal(st, err)
				}
			}
			if f.smsCount(t, phone) != before {
				t.Fatal("a reload sent a text")
			}
		})
		t.Run("Cooldown", func(t *testing.T) {
			f.clk.Add(30 * time.Second)
			_, err := f.acc.ResendSetupSMS(ctx, cur, "ip")
			var we *auth.WaitError
			if !errors.As(err, &we) || we.Wait != 30*time.Second {
				t.Fatalf("want a 30 s wait, got %v", err)
			}
			f.clk.Add(30 * time.Second)
			if _, err := f.acc.ResendSetupSMS(ctx, cur, "ip"); err != nil {
				t.Fatalf("resend after cooldown: %v", err)
			}
		})
		t.Run("Expiry", func(t *testing.T) {
			code := f.lastSMSCode(t, phone)
			f.clk.Add(auth.SMSCodeTTL)
			_, err := f.acc.VerifySetupSMS(ctx, cur, code, "ip")
			wantKey(t, err, "code.expired")
		})
		t.Run("ChangeNumber", func(t *testing.T) {
			if err := f.acc.ChangeSetupPhone(ctx, cur); err != nil {
				t.Fatal(err)
			}
			st, _ := f.acc.SMSSetupState(ctx, cur.User.ID)
			if st.Phone != "" {
				t.Fatalf("pending number kept after change: %+v", st)
			}
			// The dropped number comes back to the form, to be corrected.
			if st.Previous != phone {
				t.Fatalf("previous number %q, want %q", st.Previous, phone)
			}
		})
		t.Run("Tries", func(t *testing.T) {
			if _, err := f.acc.SendSetupSMS(ctx, cur, "0687654321", "ip"); err != nil {
				t.Fatal(err)
			}
			code := f.lastSMSCode(t, "+31687654321")
			wrong := "000000"
			if code == wrong {
				wrong = "111111"
			}
			for range auth.SMSCodeTries {
				_, err := f.acc.VerifySetupSMS(ctx, cur, wrong, "ip")
				wantKey(t, err, "code.wrong")
			}
			_, err := f.acc.VerifySetupSMS(ctx, cur, code, "ip")
			wantKey(t, err, "code.too_many_tries")
		})
		t.Run("PerNumberCap", func(t *testing.T) {
			other := f.invited(t, "buur@example.nl")
			o := f.cur(t, f.throughPassword(t, other))
			// +31612345678 got 2 texts above; 3 more fill the hour.
			for range 3 {
				f.clk.Add(auth.SMSResendAfter)
				if _, err := f.acc.SendSetupSMS(ctx, o, "0612345678", "ip2"); err != nil {
					t.Fatal(err)
				}
			}
			f.clk.Add(auth.SMSResendAfter)
			_, err := f.acc.SendSetupSMS(ctx, o, "0612345678", "ip2")
			wantKey(t, err, "sms.number_cap")
			f.clk.Add(time.Hour)
		})
		if _, err := f.acc.SendSetupSMS(ctx, cur, "0612345678", "ip"); err != nil {
			t.Fatal(err)
		}
		tok, err = f.acc.VerifySetupSMS(ctx, cur, f.lastSMSCode(t, phone), "ip")
		if err != nil {
			t.Fatalf("verify: %v", err)
		}
		cur = f.cur(t, tok)
		if cur.Stage != auth.StageSecondFactor || cur.NeedsSecondFactor {
			t.Fatalf("after sms: stage %s needs %v", cur.Stage, cur.NeedsSecondFactor)
		}
		// SMS verified: the app step may now be skipped.
		if tok, err = f.acc.SkipApp(ctx, cur); err != nil {
			t.Fatal(err)
		}
		cur = f.cur(t, tok)
		if cur.Stage != auth.StageRecovery {
			t.Fatalf("stage %s", cur.Stage)
		}
		codes, err := f.acc.NewRecoveryCodes(ctx, cur)
		if err != nil || len(codes) != 10 {
			t.Fatal(codes, err)
		}
		_, err = f.acc.ConfirmRecoveryCodes(ctx, cur, false, codes, "ip")
		wantKey(t, err, "recovery.must_confirm")
		if tok, err = f.acc.ConfirmRecoveryCodes(ctx, cur, true, codes, "ip"); err != nil {
			t.Fatal(err)
		}
		cur = f.cur(t, tok)
		if cur.Stage != auth.StageProfile {
			t.Fatalf("stage %s", cur.Stage)
		}
		t.Run("ProfileValidation", func(t *testing.T) {
			_, err := f.acc.SaveProfile(ctx, cur, auth.Profile{Gender: "robot", FirstName: "Jan", AwayEnabled: true, AwayFrom: "2026-03-10", AwayUntil: "2026-03-01"}, "ip")
			fs := apperr.FieldsOf(err)
			got := map[string]string{}
			for _, e := range fs {
				got[e.Field] = e.Key
			}
			want := map[string]string{"gender": "profile.gender_invalid", "initials": "profile.required", "last_name": "profile.required",
				"away_message": "profile.away_message_required", "away_until": "profile.period_order"}
			for k, v := range want {
				if got[k] != v {
					t.Fatalf("field %s: got %q want %q (all: %v)", k, got[k], v, got)
				}
			}
			// A direction override or a control character would make a
			// name read as something else; it is refused, not stored.
			_, err = f.acc.SaveProfile(ctx, cur, auth.Profile{Initials: "J.", FirstName: "Jan\u202e", NamePrefix: "van\u2066", LastName: "Berg\x1b[2J"}, "ip")
			got = map[string]string{}
			for _, e := range apperr.FieldsOf(err) {
				got[e.Field] = e.Key
			}
			for _, f := range []string{"first_name", "name_prefix", "last_name"} {
				if got[f] != "profile.hidden_chars" {
					t.Fatalf("field %s: got %q, want profile.hidden_chars (all: %v)", f, got[f], got)
				}
			}
		})
		tok, err = f.acc.SaveProfile(ctx, cur, auth.Profile{Initials: "J.", FirstName: "Jan", NamePrefix: "van der", LastName: "Berg", AwayEnabled: true, AwayMessage: "Tot maandag"}, "ip")
		if err != nil {
			t.Fatal(err)
		}
		cur = f.cur(t, tok)
		if cur.Stage != auth.StageDone || cur.User.Status != db.StatusActive || cur.User.Gender != "unknown" || cur.User.NamePrefix != "van der" {
			t.Fatalf("after profile: %s %+v", cur.Stage, cur.User)
		}
		// The absence message is sealed at rest and reads back.
		var row db.User
		if err := d.NewSelect().Model(&row).Where("id = ?", cur.User.ID).Scan(ctx); err != nil {
			t.Fatal(err)
		}
		if row.AwayMessage != "" || len(row.AwaySealed) == 0 || strings.Contains(string(row.AwaySealed), "maandag") {
			t.Fatalf("absence message stored in plain text: %q %q", row.AwayMessage, row.AwaySealed)
		}
		if msg, err := f.acc.AwayMessage(cur); err != nil || msg != "Tot maandag" {
			t.Fatalf("absence message: %q %v", msg, err)
		}

		t.Run("LoginWithSMS", func(t *testing.T) {
			res, err := f.acc.Login(ctx, "JAN@example.nl", goodPassword, "127.0.0.1", "t")
			if err != nil || len(res.Factors) != 1 || res.Factors[0].Kind != db.FactorSMS || res.Factors[0].Phone != "••••••••5678" {
				t.Fatalf("login: %+v %v", res, err)
			}
			lc := f.cur(t, res.Token)
			if !lc.NeedsSecondFactor {
				t.Fatal("password alone must not complete a login")
			}
			before := f.smsCount(t, phone)
			if f.smsCount(t, phone) != before {
				t.Fatal("a login sent a text before it was asked for")
			}
			if _, err := f.acc.SendLoginSMS(ctx, lc, "127.0.0.1"); err != nil {
				t.Fatal(err)
			}
			done, err := f.acc.VerifyLoginFactor(ctx, lc, db.FactorSMS, f.lastSMSCode(t, phone), "127.0.0.1")
			if err != nil || done == res.Token {
				t.Fatalf("verify: %v (session id must change)", err)
			}
			if f.cur(t, done).NeedsSecondFactor {
				t.Fatal("still needs the factor")
			}
		})
		t.Run("RecoveryCodeSingleUseMayReplaceFactor", func(t *testing.T) {
			f.clk.Add(time.Hour) // past the per-number cap of the tests above
			res, _ := f.acc.Login(ctx, "jan@example.nl", goodPassword, "127.0.0.1", "t")
			done, err := f.acc.VerifyLoginFactor(ctx, f.cur(t, res.Token), "recovery", strings.ToUpper(codes[3]), "127.0.0.1")
			if err != nil {
				t.Fatal(err)
			}
			rc := f.cur(t, done)
			if rc.Stage != auth.StageDone || rc.NeedsSecondFactor || !rc.MayEnrolFactor {
				t.Fatalf("after a recovery code: stage %s, needs %v, may enrol %v", rc.Stage, rc.NeedsSecondFactor, rc.MayEnrolFactor)
			}
			if fs, _ := f.acc.LoginFactors(ctx, rc); len(fs) != 1 {
				t.Fatalf("a recovery code must keep the factors: %+v", fs)
			}
			if n, _ := f.acc.RecoveryCodesLeft(ctx, rc); n != 9 {
				t.Fatalf("%d codes left, want 9", n)
			}
			// The lost phone is replaced by a new number.
			if _, err := f.acc.SendSetupSMS(ctx, rc, "0611223344", "127.0.0.1"); err != nil {
				t.Fatal(err)
			}
			tok, err := f.acc.VerifySetupSMS(ctx, rc, f.lastSMSCode(t, "+31611223344"), "127.0.0.1")
			if err != nil {
				t.Fatal(err)
			}
			if fs, _ := f.acc.LoginFactors(ctx, f.cur(t, tok)); len(fs) != 1 || fs[0].Phone != "••••••••3344" {
				t.Fatalf("factors after replacing the number: %+v", fs)
			}
			res, _ = f.acc.Login(ctx, "jan@example.nl", goodPassword, "127.0.0.1", "t")
			_, err = f.acc.VerifyLoginFactor(ctx, f.cur(t, res.Token), "recovery", codes[3], "127.0.0.1")
			wantKey(t, err, "code.wrong")
			if _, err := f.acc.VerifyLoginFactor(ctx, f.cur(t, res.Token), "recovery", codes[4], "127.0.0.1"); err != nil {
				t.Fatalf("another recovery code: %v", err)
			}
		})
	})
}

func TestAppRouteAndLogin(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newAccFixture(t, d)
		cur := f.cur(t, f.throughPassword(t, f.invited(t, "app@example.nl")))
		key, err := f.acc.TOTPSetup(ctx, cur, "OSAW")
		if err != nil {
			t.Fatal(err)
		}
		again, _ := f.acc.TOTPSetup(ctx, cur, "OSAW")
		if again.Secret != key.Secret || !strings.Contains(again.URI, "issuer=OSAW") {
			t.Fatal("a reload must show the same secret")
		}
		var stored db.SecondFactor
		d.NewSelect().Model(&stored).Where("user_id = ?", cur.User.ID).Scan(ctx)
		if strings.Contains(string(stored.TOTPSecret), key.Secret) {
			t.Fatal("totp secret stored in plain text")
		}
		_, err = f.acc.VerifySetupTOTP(ctx, cur, "000000", "ip")
		if err == nil && totpNow(t, key.Secret, f.clk.Now()) != "000000" {
			t.Fatal("wrong first token accepted")
		}
		tok, err := f.acc.VerifySetupTOTP(ctx, cur, totpNow(t, key.Secret, f.clk.Now()), "ip")
		if err != nil {
			t.Fatal(err)
		}
		cur = f.cur(t, tok)
		if cur.Stage != auth.StageRecovery {
			t.Fatalf("app verified: stage %s", cur.Stage)
		}
		codes, _ := f.acc.NewRecoveryCodes(ctx, cur)
		tok, _ = f.acc.ConfirmRecoveryCodes(ctx, cur, true, codes, "ip")
		tok, err = f.acc.SaveProfile(ctx, f.cur(t, tok), auth.Profile{Initials: "A", FirstName: "Ada", LastName: "Peters"}, "ip")
		if err != nil {
			t.Fatal(err)
		}

		t.Run("UnknownAddressGenericAnswer", func(t *testing.T) {
			_, err := f.acc.Login(ctx, "niemand@example.nl", goodPassword, "127.0.0.1", "t")
			wantKey(t, err, "login.failed")
			_, err = f.acc.Login(ctx, "app@example.nl", "verkeerd wachtwoord hier", "127.0.0.1", "t")
			wantKey(t, err, "login.failed")
		})
		f.clk.Add(time.Minute)
		res, err := f.acc.Login(ctx, "app@example.nl", goodPassword, "127.0.0.1", "t")
		if err != nil || len(res.Factors) != 1 || res.Factors[0].Kind != db.FactorTOTP {
			t.Fatalf("login: %+v %v", res, err)
		}
		lc := f.cur(t, res.Token)
		code := totpNow(t, key.Secret, f.clk.Now())
		if _, err := f.acc.VerifyLoginFactor(ctx, lc, db.FactorTOTP, code, "ip"); err != nil {
			t.Fatal(err)
		}
		t.Run("ReplayRefused", func(t *testing.T) {
			res, _ := f.acc.Login(ctx, "app@example.nl", goodPassword, "127.0.0.1", "t")
			_, err := f.acc.VerifyLoginFactor(ctx, f.cur(t, res.Token), db.FactorTOTP, code, "ip")
			wantKey(t, err, "code.wrong")
			n, _ := d.NewSelect().Model((*db.AuditEvent)(nil)).Where("kind = ? AND detail = ?", "login.failed", "totp-replay").Count(ctx)
			if n != 1 {
				t.Fatalf("replay not logged: %d", n)
			}
		})
		t.Run("ResetDoesNotBypassFactor", func(t *testing.T) {
			live, err := f.acc.Login(ctx, "app@example.nl", goodPassword, "127.0.0.1", "t")
			if err != nil {
				t.Fatal(err)
			}
			if err := f.acc.RequestPasswordReset(ctx, "app@example.nl", "ip"); err != nil {
				t.Fatal(err)
			}
			m, err := notify.LatestDevMailTo(ctx, d, f.v, "app@example.nl")
			if err != nil {
				t.Fatal(err)
			}
			link := m.Text[strings.Index(m.Text, "http"):]
			for range 2 { // GET does not consume
				if email, _, err := f.acc.CheckPasswordReset(ctx, token(link), "127.0.0.1"); err != nil || email != "app@example.nl" {
					t.Fatal(email, err)
				}
			}
			sess, err := f.acc.ResetPassword(ctx, token(link), "een heel nieuw wachtwoord graag", "een heel nieuw wachtwoord graag", "ip", "t")
			if err != nil {
				t.Fatal(err)
			}
			if !f.cur(t, sess).NeedsSecondFactor {
				t.Fatal("a password reset bypassed the second factor")
			}
			if _, err := f.acc.Resolve(ctx, live.Token); err == nil {
				t.Fatal("other sessions must end after a reset")
			}
			_, err = f.acc.ResetPassword(ctx, token(link), "nog een ander wachtwoord dan", "nog een ander wachtwoord dan", "ip", "t")
			wantKey(t, err, "reset.invalid")
		})
	})
}

type resetMail struct{}

func (resetMail) PasswordResetMail(lang, link string) (notify.Mail, error) {
	return notify.Mail{Subject: "Wachtwoord", Text: "Nieuw wachtwoord: " + link}, nil
}

func TestAccountThrottling(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newAccFixture(t, d)
		f.throughPassword(t, f.invited(t, "t@example.nl"))
		// Four free failures, then waits of 1, 2, 4 ... seconds, at most 5 minutes.
		waits := []time.Duration{}
		failures := 0
		for failures < 100 && f.clk.Now().Before(time.Date(2026, 2, 23, 10, 0, 0, 0, time.UTC)) {
			_, err := f.acc.Login(ctx, "t@example.nl", "fout fout fout fout", "127.0.0.1", "t")
			var we *auth.WaitError
			if errors.As(err, &we) {
				waits = append(waits, we.Wait)
				f.clk.Add(we.Wait)
				continue
			}
			wantKey(t, err, "login.failed")
			failures++
		}
		if len(waits) < 3 || waits[0] != time.Second || waits[1] != 2*time.Second || waits[2] != 4*time.Second {
			t.Fatalf("waits: %v", waits)
		}
		for _, w := range waits {
			if w > 5*time.Minute {
				t.Fatalf("a wait of %s locks a person out too long", w)
			}
		}
		if failures > 100 {
			t.Fatalf("%d failures within an hour", failures)
		}
		// The right password is recognised once the wait has passed; this
		// user has no factor yet, so the invitation link must finish it.
		f.clk.Add(5 * time.Minute)
		_, err := f.acc.Login(ctx, "t@example.nl", goodPassword, "127.0.0.1", "t")
		wantKey(t, err, "login.finish_signup")

		// An unknown address is throttled the same way, so a wait reveals
		// no account.
		var unknownWaits []time.Duration
		for i := 0; i < 8; i++ {
			_, err := f.acc.Login(ctx, "onbekend@example.nl", "fout fout fout fout", "127.0.0.2", "t")
			var we *auth.WaitError
			if errors.As(err, &we) {
				unknownWaits = append(unknownWaits, we.Wait)
				f.clk.Add(we.Wait)
			}
		}
		if len(unknownWaits) == 0 || unknownWaits[0] != time.Second {
			t.Fatalf("unknown address waits: %v", unknownWaits)
		}
	})
}

// TestResolveCostsTwoQueries: resolving a session into the user and their
// stage, on every signed-in request, reads the database twice at every
// stage of the first visit.
func TestResolveCostsTwoQueries(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		f := newAccFixture(t, d)
		stmts := dbtest.CountStatements(d)
		tok := f.invited(t, "jan@example.nl")
		check := func(want auth.Stage) {
			t.Helper()
			var cur *auth.Current
			var err error
			sql := stmts.Run(func(ctx context.Context) { cur, err = f.acc.Resolve(ctx, tok) })
			if err != nil || cur.Stage != want {
				t.Fatalf("resolve: %v, stage %v, want %s", err, cur, want)
			}
			if len(sql) > 2 {
				t.Fatalf("resolve at stage %s ran %d statements:\n%s", want, len(sql), strings.Join(sql, "\n"))
			}
		}
		check(auth.StageTerms)
		tok = f.throughPassword(t, tok)
		check(auth.StageSecondFactor)
	})
}

// TestResolveSurvivesAddedColumn: a migration run by another instance (a
// rolling update) adds a column while this one runs; the session query it
// has prepared keeps working.
func TestResolveSurvivesAddedColumn(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		f := newAccFixture(t, d)
		tok := f.invited(t, "jan@example.nl")
		f.cur(t, tok) // prepares the statement
		if _, err := d.ExecContext(context.Background(), "ALTER TABLE users ADD COLUMN added_later TEXT NOT NULL DEFAULT ''"); err != nil {
			t.Fatal(err)
		}
		if cur := f.cur(t, tok); cur.User.Email != "jan@example.nl" {
			t.Fatalf("resolved %+v", cur.User)
		}
	})
}

// TestCodeTextSendBy: the text with a code is not sent after the code
// expired (the outbox row carries the code's expiry).
func TestCodeTextSendBy(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newAccFixture(t, d)
		tok := f.throughPassword(t, f.invited(t, "jan@example.nl"))
		if _, err := f.acc.SendSetupSMS(ctx, f.cur(t, tok), "0612345678", "ip"); err != nil {
			t.Fatal(err)
		}
		var item db.OutboxItem
		if err := d.NewSelect().Model(&item).Where("channel = ?", db.ChannelSMS).Scan(ctx); err != nil {
			t.Fatal(err)
		}
		var code db.OneTimeCode
		if err := d.NewSelect().Model(&code).Where("target = ?", "+31612345678").Scan(ctx); err != nil {
			t.Fatal(err)
		}
		if !item.SendBy.Time.Equal(code.ExpiresAt) {
			t.Fatalf("text sent by %v, code expires %v", item.SendBy.Time, code.ExpiresAt)
		}
	})
}

// Absence messages stored in plain text before migration 0008 are sealed
// at start, once, and still read back.
func TestLegacyAwaySealed(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newAccFixture(t, d)
		_, u, err := f.inv.Invite(ctx, auth.InviteInput{Email: "jan@example.nl", OrgID: f.org.ID})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := d.NewUpdate().Model((*db.User)(nil)).Set("away_message = ?", "GEHEIM-afwezig").Where("id = ?", u.ID).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		for range 2 {
			if err := auth.SealLegacyAway(ctx, d, f.v); err != nil {
				t.Fatal(err)
			}
		}
		var got db.User
		if err := d.NewSelect().Model(&got).Where("id = ?", u.ID).Scan(ctx); err != nil {
			t.Fatal(err)
		}
		if got.AwayMessage != "" || strings.Contains(string(got.AwaySealed), "GEHEIM") {
			t.Fatalf("not sealed: %q", got.AwayMessage)
		}
		if msg, err := f.acc.AwayMessage(auth.ActingAs(&got)); err != nil || msg != "GEHEIM-afwezig" {
			t.Fatalf("read back: %q %v", msg, err)
		}
	})
}

// TestIPv6NetworkIsOneAddress: the per-address limits count an IPv6
// address by its /64, the network a single subscriber gets and picks any
// address from: stepping through one's own addresses gets no more texts
// or reset requests than one address does. Another network has its own.
func TestIPv6NetworkIsOneAddress(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newAccFixture(t, d)
		for i := range 10 {
			if err := f.acc.RequestPasswordReset(ctx, "iemand@example.nl", fmt.Sprintf("2001:db8:1:2::%x", i+1)); err != nil {
				t.Fatalf("reset request %d: %v", i+1, err)
			}
		}
		var we *auth.WaitError
		if err := f.acc.RequestPasswordReset(ctx, "iemand@example.nl", "2001:db8:1:2:ffff::1"); !errors.As(err, &we) {
			t.Fatalf("the 11th reset request from one /64: %v", err)
		}
		if err := f.acc.RequestPasswordReset(ctx, "iemand@example.nl", "2001:db8:1:3::1"); err != nil {
			t.Fatalf("another network: %v", err)
		}

		// Texts: 20 an address an hour, to numbers of the sender's choice.
		sent := 0
		for i := range 25 {
			tok := f.throughPassword(t, f.invited(t, fmt.Sprintf("sms%d@example.nl", i)))
			_, err := f.acc.SendSetupSMS(ctx, f.cur(t, tok), fmt.Sprintf("06123456%02d", i), fmt.Sprintf("2001:db8:1:2::%x", 100+i))
			if err == nil {
				sent++
			} else if !errors.As(err, &we) {
				t.Fatal(err)
			}
		}
		if sent != 20 {
			t.Fatalf("%d texts from one /64, want 20", sent)
		}
	})
}

func TestIPKey(t *testing.T) {
	for in, want := range map[string]string{
		"203.0.113.7":          "sms:ip:203.0.113.7",
		"::ffff:203.0.113.7":   "sms:ip:203.0.113.7",
		"2001:db8:1:2:3:4:5:6": "sms:ip:2001:db8:1:2::/64",
		"2001:DB8:1:2::9":      "sms:ip:2001:db8:1:2::/64",
		"fe80::1%eth0":         "sms:ip:fe80::/64",
		"":                     "sms:ip:",
		"geen adres":           "sms:ip:geen adres",
	} {
		if got := auth.IPKey("sms", in); got != want {
			t.Errorf("%q: %q, want %q", in, got, want)
		}
	}
}

// TestSetupTextsPerAccount: one account texts codes to at most
// SMSSetupPerDay new numbers a day, whatever addresses it comes from, so
// an account cannot be used to pump texts to numbers of its choice; the
// refusal queues nothing, and a day later texts go again. Setting up the
// app stays possible meanwhile.
func TestSetupTextsPerAccount(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newAccFixture(t, d)
		cur := f.cur(t, f.throughPassword(t, f.invited(t, "pomp@example.nl")))
		for i := range auth.SMSSetupPerDay {
			if _, err := f.acc.SendSetupSMS(ctx, cur, fmt.Sprintf("06123400%02d", i), fmt.Sprintf("192.0.2.%d", i+1)); err != nil {
				t.Fatalf("text %d: %v", i+1, err)
			}
			f.clk.Add(time.Minute)
		}
		_, err := f.acc.SendSetupSMS(ctx, cur, "0687650000", "198.51.100.1")
		wantKey(t, err, "sms.account_cap")
		if n := f.smsCount(t, "+31687650000"); n != 0 {
			t.Fatalf("%d texts queued past the cap", n)
		}
		f.clk.Add(24 * time.Hour)
		if _, err := f.acc.SendSetupSMS(ctx, cur, "0687650000", "198.51.100.1"); err != nil {
			t.Fatalf("a day later: %v", err)
		}
	})
}

// TestSetupTextCapSaysWhen: the cap on setup texts counts the last 24
// hours, not a calendar day, so its refusal says when texts go again
// instead of "try again tomorrow": ten texts from 20:00 in Amsterdam are
// still refused at 00:30, the next day, with a wait until 20:00, and at
// 20:00 a text goes again.
func TestSetupTextCapSaysWhen(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newAccFixture(t, d)
		cur := f.cur(t, f.throughPassword(t, f.invited(t, "pomp@example.nl")))
		first := time.Date(2026, 2, 23, 20, 0, 0, 0, i18n.Zone)
		f.clk.Add(first.Sub(f.clk.Now()))
		for i := range auth.SMSSetupPerDay {
			if _, err := f.acc.SendSetupSMS(ctx, cur, fmt.Sprintf("06123400%02d", i), fmt.Sprintf("192.0.2.%d", i+1)); err != nil {
				t.Fatalf("text %d: %v", i+1, err)
			}
			f.clk.Add(time.Minute)
		}
		f.clk.Add(time.Date(2026, 2, 24, 0, 30, 0, 0, i18n.Zone).Sub(f.clk.Now()))
		_, err := f.acc.SendSetupSMS(ctx, cur, "0687650000", "198.51.100.1")
		wantKey(t, err, "sms.account_cap")
		var we *auth.WaitError
		if !errors.As(err, &we) || we.Wait != 19*time.Hour+30*time.Minute {
			t.Fatalf("refusal %#v, want a wait of 19h30m (until 20:00)", err)
		}
		f.clk.Add(we.Wait)
		if _, err := f.acc.SendSetupSMS(ctx, cur, "0687650000", "198.51.100.1"); err != nil {
			t.Fatalf("at 20:00: %v", err)
		}
	})
}

// TestPurgeCodes: the daily cleanup deletes one-time codes (with the
// number they went to) a day after they expired, used or not, and keeps
// younger ones, which the per-number and per-account caps count.
func TestPurgeCodes(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newAccFixture(t, d)
		cur := f.cur(t, f.throughPassword(t, f.invited(t, "oud@example.nl")))
		if _, err := f.acc.SendSetupSMS(ctx, cur, "0612340001", "192.0.2.1"); err != nil {
			t.Fatal(err)
		}
		f.clk.Add(20 * time.Hour)
		if _, err := f.acc.SendSetupSMS(ctx, cur, "0612340002", "192.0.2.1"); err != nil {
			t.Fatal(err)
		}
		f.clk.Add(5 * time.Hour)
		n, err := auth.PurgeCodes(ctx, d, f.clk.Now())
		if err != nil || n != 1 {
			t.Fatalf("purged %d, %v; want 1", n, err)
		}
		var targets []string
		if err := d.NewSelect().Model((*db.OneTimeCode)(nil)).Column("target").Scan(ctx, &targets); err != nil {
			t.Fatal(err)
		}
		if len(targets) != 1 || targets[0] != "+31612340002" {
			t.Fatalf("left: %v", targets)
		}
	})
}
