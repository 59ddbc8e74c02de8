package auth_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"dialoog/apperr"
	"dialoog/auth"
	"dialoog/db"
	"dialoog/db/dbtest"
)

// TestSMSPerAccountCap: one account cannot have texts sent to number after
// number (SMS pumping to paid numbers) by moving to another IP address
// whenever one address is used up; after SMSPerAccountHour texts in an
// hour, from any addresses and to any numbers, the next one waits.
func TestSMSPerAccountCap(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newAccFixture(t, d)
		cur := f.cur(t, f.throughPassword(t, f.invited(t, "jan@example.nl")))
		number := func(i int) string { return fmt.Sprintf("06123456%02d", i) }
		// Texts to three numbers, each also sent again (a resend is not
		// held by the setup's daily cap of new numbers, this cap holds it).
		for i := range auth.SMSPerAccountHour {
			ip := fmt.Sprintf("192.0.2.%d", i+1)
			f.clk.Add(auth.SMSResendAfter)
			if i%4 == 0 {
				if _, err := f.acc.SendSetupSMS(ctx, cur, number(i/4), ip); err != nil {
					t.Fatalf("text %d: %v", i+1, err)
				}
				continue
			}
			if _, err := f.acc.ResendSetupSMS(ctx, cur, ip); err != nil {
				t.Fatalf("text %d: %v", i+1, err)
			}
		}
		last := "+316123456" + fmt.Sprintf("%02d", (auth.SMSPerAccountHour-1)/4)
		before := f.smsCount(t, last)
		f.clk.Add(auth.SMSResendAfter)
		_, err := f.acc.ResendSetupSMS(ctx, cur, "198.51.100.7")
		if apperr.CodeOf(err) != apperr.TooMany {
			t.Fatalf("text %d from a fresh address: %v, want TooMany", auth.SMSPerAccountHour+1, err)
		}
		if n := f.smsCount(t, last); n != before {
			t.Fatalf("%d texts went out over the cap", n-before)
		}
		// Another account is not held back by it.
		other := f.cur(t, f.throughPassword(t, f.invited(t, "piet@example.nl")))
		if _, err := f.acc.SendSetupSMS(ctx, other, number(51), "198.51.100.7"); err != nil {
			t.Fatalf("another account: %v", err)
		}
		// The refused request was not counted: an hour later the account
		// texts again.
		f.clk.Add(time.Hour + time.Second)
		if _, err := f.acc.ResendSetupSMS(ctx, cur, "198.51.100.7"); err != nil {
			t.Fatalf("an hour later: %v", err)
		}
	})
}
