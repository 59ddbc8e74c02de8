package auth_test

import (
	"context"
	"errors"
	"net/mail"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"dialoog/apperr"
	"dialoog/auth"
	"dialoog/db"
	"dialoog/db/dbtest"
	"dialoog/notify"
	"dialoog/notify/notifytest"
)

// mailbox is the security mail of one person as the real SMTP test server
// receives it, through the outbox worker.
type mailbox struct {
	t    *testing.T
	w    *notify.Worker
	srv  *notifytest.SMTPServer
	to   string
	seen int
}

// mailbox switches the security mails on and returns to's mailbox, with
// what was queued so far (the invitation) already delivered and counted.
func (f *accFixture) mailbox(t *testing.T, to string) *mailbox {
	t.Helper()
	f.acc.Mail = componentMail{}
	srv := notifytest.StartSMTP(t, "127.0.0.1:0", "", "")
	mailer, err := notify.NewMailer(&url.URL{Scheme: "smtp", Host: srv.Addr}, &mail.Address{Name: "Dialoog", Address: "no-reply@dialoog.test"})
	if err != nil {
		t.Fatal(err)
	}
	sms, err := notify.NewSMSSender(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	mb := &mailbox{t: t, w: notify.NewWorker(f.d, f.v, mailer, sms, discardLog(), notify.WorkerOptions{}), srv: srv, to: to}
	return mb
}

func (mb *mailbox) deliver() int {
	mb.t.Helper()
	if _, err := mb.w.RunOnce(context.Background()); err != nil {
		mb.t.Fatal(err)
	}
	n := 0
	for _, m := range mb.srv.Messages() {
		if len(m.To) > 0 && m.To[0] == mb.to {
			n++
		}
	}
	return n
}

// skip delivers what is queued and forgets it.
func (mb *mailbox) skip() {
	mb.t.Helper()
	mb.seen = mb.deliver()
}

// next returns the next mail to the person.
func (mb *mailbox) next() receivedMail {
	mb.t.Helper()
	mb.deliver()
	m := mb.srv.WaitMail(mb.t, mb.to, mb.seen, 5*time.Second)
	mb.seen++
	return decodeMail(mb.t, m.Data)
}

// none checks that nothing more was mailed to the person.
func (mb *mailbox) none(what string) {
	mb.t.Helper()
	if n := mb.deliver(); n != mb.seen {
		var subjects []string
		for _, m := range mb.srv.Messages()[mb.seen:] {
			subjects = append(subjects, decodeMail(mb.t, m.Data).Subject)
		}
		mb.t.Fatalf("%s: %d mails, e.g. %q", what, n-mb.seen, subjects)
	}
}

// fullLogin logs email in with the password and a text code in another
// browser that logged in before (device), and returns the session token.
func (f *accFixture) fullLogin(t *testing.T, email, password, device, phone string) string {
	t.Helper()
	ctx := context.Background()
	res, err := f.acc.LoginOnDevice(ctx, email, password, device, "127.0.0.1", "t")
	if err != nil {
		t.Fatalf("login: %v", err)
	}
	if _, err := f.acc.SendLoginSMS(ctx, f.cur(t, res.Token), "127.0.0.1"); err != nil {
		t.Fatal(err)
	}
	tok, err := f.acc.VerifyLoginFactorOnDevice(ctx, f.cur(t, res.Token), db.FactorSMS, f.lastSMSCode(t, phone), device, "127.0.0.1")
	if err != nil {
		t.Fatalf("second step: %v", err)
	}
	return tok
}

func (f *accFixture) userID(t *testing.T, email string) int64 {
	t.Helper()
	var id int64
	if err := f.d.NewSelect().Model((*db.User)(nil)).Column("id").Where("email = ?", email).Scan(context.Background(), &id); err != nil {
		t.Fatal(err)
	}
	return id
}

// wantEnded checks that the session of tok no longer opens anything.
func (f *accFixture) wantEnded(t *testing.T, tok, what string) {
	t.Helper()
	if _, err := f.acc.Resolve(context.Background(), tok); apperr.CodeOf(err) != apperr.Unauthorized {
		t.Fatalf("%s: the other session still resolves (%v)", what, err)
	}
}

func (f *accFixture) confirm(t *testing.T, tok string) *auth.Current {
	t.Helper()
	cur := f.cur(t, tok)
	if err := f.acc.Confirm(context.Background(), cur, auth.ConfirmPassword, goodPassword, "127.0.0.1"); err != nil {
		t.Fatalf("confirm: %v", err)
	}
	return f.cur(t, tok)
}

// TestPasswordChange: the current password is the re-authentication
// (throttled and audited like "confirm it is you"), the new one follows
// the rules of the first visit, a mistake in the new one costs no attempt,
// and a change ends the other sessions, gives this one a new id, is
// audited and mailed.
func TestPasswordChange(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newAccFixture(t, d)
		const email = "jan@example.nl"
		mb := f.mailbox(t, email)
		tok, _ := f.onboarded(t, email)
		device := f.acc.RememberDevice("", f.userID(t, email))
		other := f.fullLogin(t, email, goodPassword, device, recoveryPhone)
		mb.skip()
		const newPW = "vier losse woorden als zin"

		cur := f.cur(t, tok)
		_, err := f.acc.ChangePassword(ctx, cur, "", "kort", "anders", "127.0.0.1")
		fs := apperr.FieldsOf(err)
		if len(fs) != 2 || fs[0].Field != "current_password" || fs[1].Key != "password.too_short" {
			t.Fatalf("empty current and short new: %v", err)
		}
		_, err = f.acc.ChangePassword(ctx, cur, goodPassword, newPW, newPW+"x", "127.0.0.1")
		wantKey(t, err, "password.mismatch")
		_, err = f.acc.ChangePassword(ctx, cur, goodPassword, "jan@example.nl wordt dit", "jan@example.nl wordt dit", "127.0.0.1")
		wantKey(t, err, "password.contains_email")
		if n := f.auditCount(t, "reauth.failed", "password"); n != 0 {
			t.Fatalf("mistakes in the new password counted as %d attempts", n)
		}
		// A wrong current password is a counted, audited attempt.
		_, err = f.acc.ChangePassword(ctx, cur, "geraden", newPW, newPW, "127.0.0.1")
		if fs := apperr.FieldsOf(err); len(fs) != 1 || fs[0].Field != "current_password" || fs[0].Key != "confirm.wrong_password" {
			t.Fatalf("wrong current password: %v", err)
		}
		if n := f.auditCount(t, "reauth.failed", "password"); n != 1 {
			t.Fatalf("wrong current password audited %d times", n)
		}
		mb.none("refused changes")

		f.clk.Add(time.Minute)
		newTok, err := f.acc.ChangePassword(ctx, cur, goodPassword, newPW, newPW, "127.0.0.1")
		if err != nil {
			t.Fatal(err)
		}
		if newTok == tok {
			t.Fatal("the session kept its id")
		}
		f.wantEnded(t, tok, "old id of this session")
		f.wantEnded(t, other, "password change")
		if c := f.cur(t, newTok); c.Stage != auth.StageDone || c.NeedsSecondFactor {
			t.Fatalf("this session after the change: %+v", c)
		}
		if n := f.auditCount(t, "password.changed", ""); n != 1 {
			t.Fatalf("%d password.changed rows", n)
		}
		wantMail(t, mb.next(), "Je wachtwoord voor Dialoog is gewijzigd", "Op 23 februari 2026 om 10:01 uur (Nederlandse tijd) is het wachtwoord van je Dialoog-account gewijzigd",
			"Was jij dit niet?")
		if _, err := f.acc.Login(ctx, email, goodPassword, "127.0.0.1", "t"); err == nil {
			t.Fatal("the old password still works")
		}
		if _, err := f.acc.Login(ctx, email, newPW, "127.0.0.1", "t"); err != nil {
			t.Fatalf("the new password: %v", err)
		}

		// Throttled like every confirmation: guesses of the current password
		// from many addresses run into the account's allowance.
		cur = f.cur(t, newTok)
		var we *auth.WaitError
		blocked := false
		for i := range 10 {
			_, err := f.acc.ChangePassword(ctx, cur, "gok "+strconv.Itoa(i), "nog een heel ander wachtwoord", "nog een heel ander wachtwoord", "10.9.0."+strconv.Itoa(i))
			if errors.As(err, &we) {
				blocked = true
				break
			}
		}
		if !blocked {
			t.Fatal("ten wrong current passwords were all checked")
		}
	})
}

// TestFactorChangesNeedConfirmation: every change of "Tweede stap
// beheren" is refused without a "confirm it is you" in the last five
// minutes of this session, and works with one.
func TestFactorChangesNeedConfirmation(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newAccFixture(t, d)
		tok, _ := f.onboarded(t, "jan@example.nl")
		var smsID int64
		if err := d.NewSelect().Model((*db.SecondFactor)(nil)).Column("id").Where("kind = ?", db.FactorSMS).Scan(ctx, &smsID); err != nil {
			t.Fatal(err)
		}
		refused := func(what string) {
			t.Helper()
			cur := f.cur(t, tok)
			if f.acc.MayAddFactor(cur) || f.acc.MayChangeFactors(cur) {
				t.Fatalf("%s: forms open", what)
			}
			_, err := f.acc.SendFactorSMS(ctx, cur, "0687654321", "127.0.0.1")
			wantKey(t, err, "confirm.required")
			_, err = f.acc.VerifyFactorSMS(ctx, cur, "123456", "127.0.0.1")
			wantKey(t, err, "confirm.required")
			_, err = f.acc.FactorTOTPSetup(ctx, cur, "OSAW")
			wantKey(t, err, "confirm.required")
			_, err = f.acc.VerifyFactorTOTP(ctx, cur, "123456", "127.0.0.1")
			wantKey(t, err, "confirm.required")
			wantKey(t, f.acc.RemoveFactor(ctx, cur, smsID, "127.0.0.1"), "confirm.required")
			_, err = f.acc.RegenerateRecoveryCodes(ctx, cur, "127.0.0.1")
			wantKey(t, err, "confirm.required")
		}
		refused("never confirmed")
		if n := f.smsCount(t, "+31687654321"); n != 0 {
			t.Fatalf("%d texts sent without a confirmation", n)
		}

		cur := f.confirm(t, tok)
		if !f.acc.MayAddFactor(cur) || !f.acc.MayChangeFactors(cur) {
			t.Fatal("forms closed after a confirmation")
		}
		if _, err := f.acc.SendFactorSMS(ctx, cur, "0687654321", "127.0.0.1"); err != nil {
			t.Fatal(err)
		}
		// A session ended between the page and the change is refused by
		// the check in the change's transaction: cur still says it was
		// confirmed.
		device := f.acc.RememberDevice("", cur.User.ID)
		elsewhere := f.cur(t, f.fullLogin(t, "jan@example.nl", goodPassword, device, recoveryPhone))
		if _, err := f.acc.EndOtherSessions(ctx, elsewhere, "127.0.0.1"); err != nil {
			t.Fatal(err)
		}
		_, err := f.acc.VerifyFactorSMS(ctx, cur, f.lastSMSCode(t, "+31687654321"), "127.0.0.1")
		wantKey(t, err, "confirm.required")
		wantKey(t, f.acc.RemoveFactor(ctx, cur, smsID, "127.0.0.1"), "confirm.required")
		tok = f.fullLogin(t, "jan@example.nl", goodPassword, device, recoveryPhone)
		cur = f.confirm(t, tok)
		f.clk.Add(auth.ConfirmTTL)
		refused("five minutes after the confirmation")
		if fs, _ := f.acc.Factors(ctx, f.cur(t, tok)); len(fs) != 1 || fs[0].Phone != auth.MaskPhone(recoveryPhone) {
			t.Fatalf("factors after refused changes: %+v", fs)
		}
	})
}

// TestAddAndRemoveFactors: an app added after the first visit, then the
// SMS number removed; the last factor is never removed. Each change ends
// the other sessions, is audited and mailed, and a removed number's
// pending login code stops working.
func TestAddAndRemoveFactors(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newAccFixture(t, d)
		const email = "jan@example.nl"
		mb := f.mailbox(t, email)
		tok, _ := f.onboarded(t, email)
		device := f.acc.RememberDevice("", f.userID(t, email))
		mb.skip()

		cur := f.confirm(t, tok)
		fs, err := f.acc.Factors(ctx, cur)
		if err != nil || len(fs) != 1 {
			t.Fatalf("factors: %+v %v", fs, err)
		}
		smsID := fs[0].ID
		wantKey(t, f.acc.RemoveFactor(ctx, cur, smsID, "127.0.0.1"), "factor.last")
		if n := f.auditCount(t, "factor.removed", "sms "+auth.MaskPhone(recoveryPhone)); n != 0 {
			t.Fatal("the last factor's removal was audited")
		}

		other := f.fullLogin(t, email, goodPassword, device, recoveryPhone)
		mb.none("login from a known browser")
		f.clk.Add(time.Minute)
		cur = f.confirm(t, tok)
		key, err := f.acc.FactorTOTPSetup(ctx, cur, "OSAW")
		if err != nil {
			t.Fatal(err)
		}
		again, err := f.acc.FactorTOTPSetup(ctx, cur, "OSAW")
		if err != nil || again.Secret != key.Secret {
			t.Fatalf("a reload gave another secret: %v", err)
		}
		wantKey(t, func() error {
			_, err := f.acc.VerifyFactorTOTP(ctx, cur, "000000", "127.0.0.1")
			return err
		}(), "code.wrong")
		tok, err = f.acc.VerifyFactorTOTP(ctx, cur, totpNow(t, key.Secret, f.clk.Now()), "127.0.0.1")
		if err != nil {
			t.Fatal(err)
		}
		f.wantEnded(t, other, "new app")
		if n := f.auditCount(t, "factor.added", "totp"); n != 1 {
			t.Fatalf("%d factor.added rows for the app", n)
		}
		wantMail(t, mb.next(), "Er is een tweede stap ingesteld voor je Dialoog-account")
		if fs, _ := f.acc.Factors(ctx, f.cur(t, tok)); len(fs) != 2 || fs[0].Kind != db.FactorSMS || fs[1].Kind != db.FactorTOTP {
			t.Fatalf("factors after adding the app: %+v", fs)
		}

		// A login code on its way to the number that is removed.
		other = f.fullLogin(t, email, goodPassword, device, recoveryPhone)
		pending, err := f.acc.LoginOnDevice(ctx, email, goodPassword, device, "127.0.0.1", "t")
		if err != nil {
			t.Fatal(err)
		}
		f.clk.Add(time.Minute)
		if _, err := f.acc.SendLoginSMS(ctx, f.cur(t, pending.Token), "127.0.0.1"); err != nil {
			t.Fatal(err)
		}
		code := f.lastSMSCode(t, recoveryPhone)
		cur = f.cur(t, tok) // confirmed two minutes ago
		if err := f.acc.RemoveFactor(ctx, cur, smsID, "127.0.0.1"); err != nil {
			t.Fatal(err)
		}
		f.wantEnded(t, other, "factor removed")
		f.wantEnded(t, pending.Token, "factor removed (a login halfway)")
		if n := f.auditCount(t, "factor.removed", "sms "+auth.MaskPhone(recoveryPhone)); n != 1 {
			t.Fatalf("%d factor.removed rows", n)
		}
		wantMail(t, mb.next(), "Er is een tweede stap verwijderd van je Dialoog-account", "is een tweede stap", "verwijderd van je Dialoog-account")
		res, err := f.acc.LoginOnDevice(ctx, email, goodPassword, device, "127.0.0.1", "t")
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Factors) != 1 || res.Factors[0].Kind != db.FactorTOTP {
			t.Fatalf("login offers %+v", res.Factors)
		}
		_, err = f.acc.VerifyLoginFactor(ctx, f.cur(t, res.Token), db.FactorSMS, code, "127.0.0.1")
		if err == nil {
			t.Fatal("a removed number's login code still works")
		}
		// The app is now the last one.
		appID := f.factorID(t, db.FactorTOTP)
		wantKey(t, f.acc.RemoveFactor(ctx, f.cur(t, tok), appID, "127.0.0.1"), "factor.last")
		// Another person's factor is not found.
		tok2, _ := f.onboarded(t, "piet@example.nl")
		wantCode(t, f.acc.RemoveFactor(ctx, f.confirm(t, tok2), appID, "127.0.0.1"), apperr.NotFound)
	})
}

func (f *accFixture) factorID(t *testing.T, kind string) int64 {
	t.Helper()
	var id int64
	if err := f.d.NewSelect().Model((*db.SecondFactor)(nil)).Column("id").Where("kind = ? AND verified_at IS NOT NULL", kind).
		OrderExpr("id DESC").Limit(1).Scan(context.Background(), &id); err != nil {
		t.Fatal(err)
	}
	return id
}

// TestRemoveFactorsRace: two removals at once, of the two factors, leave
// one: never none, on either engine.
func TestRemoveFactorsRace(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newAccFixture(t, d)
		tok, _ := f.onboarded(t, "jan@example.nl")
		cur := f.confirm(t, tok)
		key, err := f.acc.FactorTOTPSetup(ctx, cur, "OSAW")
		if err != nil {
			t.Fatal(err)
		}
		if tok, err = f.acc.VerifyFactorTOTP(ctx, cur, totpNow(t, key.Secret, f.clk.Now()), "127.0.0.1"); err != nil {
			t.Fatal(err)
		}
		cur = f.cur(t, tok)
		for round := range 3 {
			ids := []int64{f.factorID(t, db.FactorSMS), f.factorID(t, db.FactorTOTP)}
			var wg sync.WaitGroup
			errs := make([]error, 2)
			start := make(chan struct{})
			for i, id := range ids {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					errs[i] = f.acc.RemoveFactor(ctx, cur, id, "127.0.0.1")
				}()
			}
			close(start)
			wg.Wait()
			ok := 0
			for _, err := range errs {
				if err == nil {
					ok++
				} else if e, _ := apperr.As(err); e == nil || e.Key != "factor.last" {
					t.Fatalf("round %d: %v", round, err)
				}
			}
			left, _ := f.acc.Factors(ctx, cur)
			if ok != 1 || len(left) != 1 {
				t.Fatalf("round %d: %d removals, %d factors left", round, ok, len(left))
			}
			// Back to two for the next round.
			if left[0].Kind == db.FactorTOTP {
				if _, err := f.acc.SendFactorSMS(ctx, cur, "06 1234 5678", "127.0.0.1"); err != nil {
					t.Fatal(err)
				}
				if tok, err = f.acc.VerifyFactorSMS(ctx, cur, f.lastSMSCode(t, recoveryPhone), "127.0.0.1"); err != nil {
					t.Fatal(err)
				}
			} else {
				f.clk.Add(30 * time.Second)
				key, err := f.acc.FactorTOTPSetup(ctx, cur, "OSAW")
				if err != nil {
					t.Fatal(err)
				}
				if tok, err = f.acc.VerifyFactorTOTP(ctx, cur, totpNow(t, key.Secret, f.clk.Now()), "127.0.0.1"); err != nil {
					t.Fatal(err)
				}
			}
			cur = f.cur(t, tok)
		}
	})
}

// TestPhoneNumberChange: a new number is verified before the old one is
// dropped: until then the old number still logs in; after it, the old
// number's pending code does not, and the change is audited and mailed.
func TestPhoneNumberChange(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newAccFixture(t, d)
		const email, newPhone = "jan@example.nl", "+31687654321"
		mb := f.mailbox(t, email)
		tok, _ := f.onboarded(t, email)
		device := f.acc.RememberDevice("", f.userID(t, email))
		mb.skip()
		cur := f.confirm(t, tok)
		_, err := f.acc.SendFactorSMS(ctx, cur, "020 123 4567", "127.0.0.1")
		wantKey(t, err, "phone.not_mobile")
		st, err := f.acc.SendFactorSMS(ctx, cur, "06 8765 4321", "127.0.0.1")
		if err != nil || st.Phone != newPhone {
			t.Fatalf("send: %+v %v", st, err)
		}
		// Not yet verified: the old number still works.
		other := f.fullLogin(t, email, goodPassword, device, recoveryPhone)
		if fs, _ := f.acc.Factors(ctx, cur); len(fs) != 1 || fs[0].Phone != auth.MaskPhone(recoveryPhone) {
			t.Fatalf("factors before the new number is verified: %+v", fs)
		}
		pending, err := f.acc.LoginOnDevice(ctx, email, goodPassword, device, "127.0.0.1", "t")
		if err != nil {
			t.Fatal(err)
		}
		f.clk.Add(time.Minute)
		if _, err := f.acc.SendLoginSMS(ctx, f.cur(t, pending.Token), "127.0.0.1"); err != nil {
			t.Fatal(err)
		}
		oldCode := f.lastSMSCode(t, recoveryPhone)

		_, err = f.acc.VerifyFactorSMS(ctx, cur, "000000", "127.0.0.1")
		wantKey(t, err, "code.wrong")
		tok, err = f.acc.VerifyFactorSMS(ctx, cur, f.lastSMSCode(t, newPhone), "127.0.0.1")
		if err != nil {
			t.Fatal(err)
		}
		f.wantEnded(t, other, "phone number changed")
		fs, _ := f.acc.Factors(ctx, f.cur(t, tok))
		if len(fs) != 1 || fs[0].Phone != auth.MaskPhone(newPhone) {
			t.Fatalf("factors after the change: %+v", fs)
		}
		if n := f.auditCount(t, "factor.phone_changed", "sms "+auth.MaskPhone(newPhone)); n != 1 {
			t.Fatalf("%d factor.phone_changed rows", n)
		}
		wantMail(t, mb.next(), "Het telefoonnummer voor je Dialoog-account is gewijzigd", "Het oude nummer krijgt geen codes meer.")
		res, err := f.acc.Login(ctx, email, goodPassword, "127.0.0.1", "t")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.acc.VerifyLoginFactor(ctx, f.cur(t, res.Token), db.FactorSMS, oldCode, "127.0.0.1"); err == nil {
			t.Fatal("the old number's login code still works")
		}
		f.fullLogin(t, email, goodPassword, device, newPhone)
	})
}

// TestRegenerateRecoveryCodes: new codes are shown once; the old ones stop
// working at once; the change ends the other sessions, is audited and
// mailed.
func TestRegenerateRecoveryCodes(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newAccFixture(t, d)
		const email = "jan@example.nl"
		mb := f.mailbox(t, email)
		tok, old := f.onboarded(t, email)
		device := f.acc.RememberDevice("", f.userID(t, email))
		other := f.fullLogin(t, email, goodPassword, device, recoveryPhone)
		mb.skip()

		codes, err := f.acc.RegenerateRecoveryCodes(ctx, f.confirm(t, tok), "127.0.0.1")
		if err != nil {
			t.Fatal(err)
		}
		if len(codes) != auth.RecoveryCodeCount {
			t.Fatalf("%d codes", len(codes))
		}
		f.wantEnded(t, other, "new recovery codes")
		if n := f.auditCount(t, "recovery.regenerated", ""); n != 1 {
			t.Fatalf("%d recovery.regenerated rows", n)
		}
		wantMail(t, mb.next(), "Er zijn nieuwe herstelcodes gemaakt voor je Dialoog-account", "De oude herstelcodes werken niet meer.")
		if left, _ := f.acc.RecoveryCodesLeft(ctx, f.cur(t, tok)); left != auth.RecoveryCodeCount {
			t.Fatalf("%d codes left", left)
		}
		for _, c := range old[:3] {
			if _, err := f.acc.VerifyLoginFactor(ctx, f.passwordOnly(t, email), "recovery", c, "127.0.0.1"); err == nil {
				t.Fatalf("old recovery code %s still works", c)
			}
		}
		if _, err := f.acc.VerifyLoginFactor(ctx, f.passwordOnly(t, email), "recovery", codes[0], "127.0.0.1"); err != nil {
			t.Fatalf("new recovery code: %v", err)
		}
	})
}

// TestRecoveryGrantAddsFactor: after a recovery-code login, that session
// adds a factor without another confirmation while its grant lasts; it
// still needs one to remove a factor or make new recovery codes.
func TestRecoveryGrantAddsFactor(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newAccFixture(t, d)
		const email = "jan@example.nl"
		first, codes := f.onboarded(t, email)
		tok, err := f.acc.VerifyLoginFactor(ctx, f.passwordOnly(t, email), "recovery", codes[0], "127.0.0.1")
		if err != nil {
			t.Fatal(err)
		}
		cur := f.cur(t, tok)
		if !f.acc.MayAddFactor(cur) || f.acc.MayChangeFactors(cur) {
			t.Fatal("a recovery grant should open adding, and only adding")
		}
		wantKey(t, f.acc.RemoveFactor(ctx, cur, f.factorID(t, db.FactorSMS), "127.0.0.1"), "confirm.required")
		_, err = f.acc.RegenerateRecoveryCodes(ctx, cur, "127.0.0.1")
		wantKey(t, err, "confirm.required")
		if _, err := f.acc.SendFactorSMS(ctx, cur, "0687654321", "127.0.0.1"); err != nil {
			t.Fatal(err)
		}
		if tok, err = f.acc.VerifyFactorSMS(ctx, cur, f.lastSMSCode(t, "+31687654321"), "127.0.0.1"); err != nil {
			t.Fatal(err)
		}
		f.wantEnded(t, first, "a factor replaced after a recovery code")
		// The grant does not outlive its 15 minutes.
		f.clk.Add(auth.FactorGrantTTL)
		cur = f.cur(t, tok)
		_, err = f.acc.FactorTOTPSetup(ctx, cur, "OSAW")
		wantKey(t, err, "confirm.required")
		// A password-only session gets nothing.
		_, err = f.acc.SendFactorSMS(ctx, f.passwordOnly(t, email), "0611111111", "127.0.0.1")
		wantKey(t, err, "stage.wrong")
	})
}

// TestNewBrowserMail: a login completed in a browser without a device mark
// of the account is mailed; one from a browser that logged in before is
// not, and neither is the first visit nor a login halfway through it.
func TestNewBrowserMail(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newAccFixture(t, d)
		const email = "jan@example.nl"
		mb := f.mailbox(t, email)

		// Halfway through the first visit (SMS set up), a login elsewhere.
		half := "half@example.nl"
		hmb := &mailbox{t: t, w: mb.w, srv: mb.srv, to: half}
		cur := f.cur(t, f.throughPassword(t, f.invited(t, half)))
		if _, err := f.acc.SendSetupSMS(ctx, cur, "0623456789", "127.0.0.1"); err != nil {
			t.Fatal(err)
		}
		if _, err := f.acc.VerifySetupSMS(ctx, cur, f.lastSMSCode(t, "+31623456789"), "127.0.0.1"); err != nil {
			t.Fatal(err)
		}
		hmb.skip()
		f.fullLogin(t, half, goodPassword, "", "+31623456789")
		hmb.none("login during the first visit")

		f.onboarded(t, email)
		mb.skip()
		mb.none("the first visit")
		device := f.acc.RememberDevice("", f.userID(t, email))
		f.fullLogin(t, email, goodPassword, device, recoveryPhone)
		mb.none("login from a known browser")

		f.clk.Add(2 * time.Minute)
		f.fullLogin(t, email, goodPassword, "", recoveryPhone)
		wantMail(t, mb.next(), "Er is ingelogd op je Dialoog-account vanaf een nieuwe browser",
			"Op 23 februari 2026 om 10:02 uur (Nederlandse tijd) is op je Dialoog-account ingelogd vanaf een browser", "Was jij dit niet?")
		// Another account's mark does not make the browser known.
		pietsDevice := f.acc.RememberDevice("", f.userID(t, email)+1000)
		f.clk.Add(2 * time.Minute)
		f.fullLogin(t, email, goodPassword, pietsDevice, recoveryPhone)
		if m := mb.next(); !strings.Contains(m.Subject, "nieuwe browser") {
			t.Fatalf("mail %q", m.Subject)
		}
	})
}

// TestPasswordChangeEndsResetLinks: a reset link mailed before the
// password was changed in "Mijn account" stops working, as the sessions of
// before do: it would otherwise undo the change for an hour.
func TestPasswordChangeEndsResetLinks(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newAccFixture(t, d)
		tok, _ := f.onboarded(t, "jan@example.nl")
		if err := f.acc.RequestPasswordReset(ctx, "jan@example.nl", "ip"); err != nil {
			t.Fatal(err)
		}
		link := resetToken(t, f)
		if _, _, err := f.acc.CheckPasswordReset(ctx, link, "127.0.0.1"); err != nil {
			t.Fatalf("the fresh link: %v", err)
		}
		const newPW = "vier losse woorden als zin"
		cur := f.confirm(t, tok)
		if _, err := f.acc.ChangePassword(ctx, cur, goodPassword, newPW, newPW, "127.0.0.1"); err != nil {
			t.Fatal(err)
		}
		_, _, err := f.acc.CheckPasswordReset(ctx, link, "127.0.0.1")
		wantKey(t, err, "reset.invalid")
		_, err = f.acc.ResetPassword(ctx, link, "een heel nieuw wachtwoord graag", "een heel nieuw wachtwoord graag", "ip", "t")
		wantKey(t, err, "reset.invalid")
		if _, err := f.acc.Login(ctx, "jan@example.nl", newPW, "127.0.0.1", "t"); err != nil {
			t.Fatalf("the changed password: %v", err)
		}
	})
}

// TestAppSecretBelongsToItsSession: the secret of an app being linked is
// shown again on a reload of the same session only. Another session (an
// old one of someone who once had the account open) never hands it to
// the person, who would then link an app whose secret someone else kept.
func TestAppSecretBelongsToItsSession(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newAccFixture(t, d)
		const email = "jan@example.nl"
		tok, _ := f.onboarded(t, email)
		other := f.fullLogin(t, email, goodPassword, "", recoveryPhone)

		planted, err := f.acc.FactorTOTPSetup(ctx, f.confirm(t, other), "OSAW")
		if err != nil {
			t.Fatal(err)
		}
		cur := f.confirm(t, tok)
		key, err := f.acc.FactorTOTPSetup(ctx, cur, "OSAW")
		if err != nil {
			t.Fatal(err)
		}
		if key.Secret == planted.Secret {
			t.Fatal("a secret made in another session was shown to this one")
		}
		again, err := f.acc.FactorTOTPSetup(ctx, cur, "OSAW")
		if err != nil || again.Secret != key.Secret {
			t.Fatalf("a reload in the same session: %v, same secret %v", err, again.Secret == key.Secret)
		}
		// The other session's secret links nothing, its own does.
		_, err = f.acc.VerifyFactorTOTP(ctx, f.cur(t, other), totpNow(t, planted.Secret, f.clk.Now()), "127.0.0.1")
		if err == nil {
			t.Fatal("the replaced secret was linked")
		}
		if _, err := f.acc.VerifyFactorTOTP(ctx, cur, totpNow(t, key.Secret, f.clk.Now()), "127.0.0.1"); err != nil {
			t.Fatal(err)
		}
		// The linked app logs in.
		f.clk.Add(30 * time.Second)
		res, err := f.acc.Login(ctx, email, goodPassword, "127.0.0.1", "t")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.acc.VerifyLoginFactor(ctx, f.cur(t, res.Token), db.FactorTOTP, totpNow(t, key.Secret, f.clk.Now()), "127.0.0.1"); err != nil {
			t.Fatalf("login with the linked app: %v", err)
		}
	})
}
