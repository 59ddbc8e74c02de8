package auth_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"dialoog/db"
	"dialoog/db/dbtest"
)

// meeting returns a SecretChecked hook that holds each check of kind
// until n of them have arrived, or wait has passed: the checks of
// parallel requests then run side by side inside their transactions, as
// they may on PostgreSQL. On SQLite, whose writers take turns, the first
// waits out wait alone.
func meeting(kind string, n int, wait time.Duration) func(string) {
	var mu sync.Mutex
	arrived := 0
	all := make(chan struct{})
	return func(k string) {
		if k != kind {
			return
		}
		mu.Lock()
		arrived++
		if arrived == n {
			close(all)
		}
		mu.Unlock()
		select {
		case <-all:
		case <-time.After(wait):
		}
	}
}

// parallel runs each of fns at once and returns how many returned no
// error.
func parallel(fns ...func() error) (ok int, errs []error) {
	errs = make([]error, len(fns))
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i, fn := range fns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			errs[i] = fn()
		}()
	}
	close(start)
	wg.Wait()
	for _, err := range errs {
		if err == nil {
			ok++
		}
	}
	return ok, errs
}

// TestSMSLoginCodeWorksOnce, on both engines: one texted login code,
// entered at the same moment in two browsers that both passed the
// password, completes one login, not two (on PostgreSQL both checks read
// the code unused before either marked it used, and both marked it).
func TestSMSLoginCodeWorksOnce(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newAccFixture(t, d)
		f.onboarded(t, "jan@example.nl")
		for round := range 3 {
			a, b := f.passwordOnly(t, "jan@example.nl"), f.passwordOnly(t, "jan@example.nl")
			if _, err := f.acc.SendLoginSMS(ctx, a, "127.0.0.1"); err != nil {
				t.Fatal(err)
			}
			code := f.lastSMSCode(t, recoveryPhone)
			f.acc.SecretChecked = meeting("sms", 2, 300*time.Millisecond)
			ok, errs := parallel(
				func() error { _, err := f.acc.VerifyLoginFactor(ctx, a, db.FactorSMS, code, "127.0.0.1"); return err },
				func() error { _, err := f.acc.VerifyLoginFactor(ctx, b, db.FactorSMS, code, "127.0.0.1"); return err },
			)
			f.acc.SecretChecked = nil
			if ok != 1 {
				t.Fatalf("round %d: one code completed %d logins (%v)", round, ok, errs)
			}
			f.clk.Add(2 * time.Minute) // past the wait for a new text
		}
	})
}

// TestSMSSetupCodeWorksOnce, on both engines: the code of a new number,
// sent twice at once (a double click on VERZEND, or two tabs of Tweede
// stap beheren), stores the number once: one change, audited once and
// mailed once, instead of each request replacing the other's factor and
// telling the person twice.
func TestSMSSetupCodeWorksOnce(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newAccFixture(t, d)
		tok, _ := f.onboarded(t, "jan@example.nl")
		cur := f.confirm(t, tok)
		if _, err := f.acc.SendFactorSMS(ctx, cur, "06 1111 2222", "127.0.0.1"); err != nil {
			t.Fatal(err)
		}
		code := f.lastSMSCode(t, "+31611112222")
		f.acc.SecretChecked = meeting("sms", 2, 300*time.Millisecond)
		verify := func() error { _, err := f.acc.VerifyFactorSMS(ctx, cur, code, "127.0.0.1"); return err }
		ok, errs := parallel(verify, verify)
		f.acc.SecretChecked = nil
		if ok != 1 {
			t.Fatalf("one code stored the number %d times (%v)", ok, errs)
		}
		if n, err := d.NewSelect().Model((*db.AuditEvent)(nil)).Where("kind = ?", "factor.phone_changed").Count(ctx); err != nil || n != 1 {
			t.Fatalf("%d audit rows of the change (%v)", n, err)
		}
		var phones []string
		if err := d.NewSelect().Model((*db.SecondFactor)(nil)).Column("phone").Where("kind = ?", db.FactorSMS).Scan(ctx, &phones); err != nil {
			t.Fatal(err)
		}
		if len(phones) != 1 || phones[0] != "+31611112222" {
			t.Fatalf("sms factors %v", phones)
		}
	})
}

// TestAppLinkedOnce, on both engines: the first code of an app being
// added, sent twice at once (a double click on VERZEND), links the app
// once: audited and mailed once.
func TestAppLinkedOnce(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newAccFixture(t, d)
		tok, _ := f.onboarded(t, "jan@example.nl")
		cur := f.confirm(t, tok)
		key, err := f.acc.FactorTOTPSetup(ctx, cur, "OSAW")
		if err != nil {
			t.Fatal(err)
		}
		code := totpNow(t, key.Secret, f.clk.Now())
		f.acc.SecretChecked = meeting("totp", 2, 300*time.Millisecond)
		verify := func() error { _, err := f.acc.VerifyFactorTOTP(ctx, cur, code, "127.0.0.1"); return err }
		ok, errs := parallel(verify, verify)
		f.acc.SecretChecked = nil
		if ok != 1 {
			t.Fatalf("one code linked the app %d times (%v)", ok, errs)
		}
		if n := f.auditCount(t, "factor.added", "totp"); n != 1 {
			t.Fatalf("%d audit rows of the new app", n)
		}
	})
}

// TestRecoveryCodesConfirmedWhileReplaced, on both engines: the
// recovery step confirmed in one tab while another tab (a reload) makes
// new codes at the same moment: either the confirmation wins and the
// reload makes no codes (the step is done), or the reload wins and the
// confirmation is told that its codes were replaced. Before, both went
// through: the person went on with ten codes that no longer worked.
func TestRecoveryCodesConfirmedWhileReplaced(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newAccFixture(t, d)
		for i := range 8 {
			email := fmt.Sprintf("jan%d@example.nl", i)
			cur := f.cur(t, f.throughPassword(t, f.invited(t, email)))
			key, err := f.acc.TOTPSetup(ctx, cur, "OSAW")
			if err != nil {
				t.Fatal(err)
			}
			tok, err := f.acc.VerifySetupTOTP(ctx, cur, totpNow(t, key.Secret, f.clk.Now()), "127.0.0.1")
			if err != nil {
				t.Fatal(err)
			}
			cur = f.cur(t, tok)
			codes, err := f.acc.NewRecoveryCodes(ctx, cur)
			if err != nil {
				t.Fatal(err)
			}
			ok, errs := parallel(
				func() error { _, err := f.acc.ConfirmRecoveryCodes(ctx, cur, true, codes, "127.0.0.1"); return err },
				func() error { _, err := f.acc.NewRecoveryCodes(ctx, cur); return err },
			)
			if ok != 1 {
				t.Fatalf("user %d: %d of confirming and replacing went through (%v)", i, ok, errs)
			}
		}
	})
}

// TestCodeRequestedTwiceAtOnce, on both engines: "Stuur mij een code"
// pressed twice at once (a double click, two tabs) sends one text: the
// other request finds the code just sent, as one a moment later does.
// Before, on PostgreSQL, both sent one, and the first of the two texts
// to arrive could hold the code the second had already replaced.
func TestCodeRequestedTwiceAtOnce(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newAccFixture(t, d)
		f.onboarded(t, "jan@example.nl")
		for round := range 4 {
			f.clk.Add(20 * time.Minute) // past the wait and the hour's caps
			before := f.smsCount(t, recoveryPhone)
			cur := f.passwordOnly(t, "jan@example.nl")
			send := func() error { _, err := f.acc.SendLoginSMS(ctx, cur, "127.0.0.1"); return err }
			ok, errs := parallel(send, send)
			if ok != 1 {
				t.Fatalf("round %d: %d sends (%v)", round, ok, errs)
			}
			if n := f.smsCount(t, recoveryPhone) - before; n != 1 {
				t.Fatalf("round %d: %d texts", round, n)
			}
		}
	})
}
