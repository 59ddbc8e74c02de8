package signing_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"dialoog/apperr"
	"dialoog/db"
	"dialoog/db/dbtest"
	"dialoog/messaging"
	"dialoog/signing"
)

// TestCodeRequestsOfOthersCountNoTexts: the texts an address may ask for
// in an hour are counted for texts that are sent, not for requests that
// are refused. Before, anyone signed in could use up, from an office's
// shared address, the allowance of the signer at that address by asking
// for codes of a request that was not theirs (or not theirs to sign).
func TestCodeRequestsOfOthersCountNoTexts(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		ctx := context.Background()
		stranger := f.user(t, "vreemd@example.nl", false, "Vera", "Vreemd")
		id := f.request(t, "plan.pdf", pdf(1, "C"), signing.RequestInput{SignerIDs: []int64{f.jan.ID}})
		const office = "192.0.2.50"
		for i := range 25 {
			who := stranger
			if i%2 == 1 {
				who = f.kees // takes part, but is asked nothing
			}
			err := f.svc.SendCode(ctx, who.Identity(), id, office)
			wantCode(t, err, apperr.NotFound)
		}
		if err := f.svc.SendCode(ctx, f.jan.Identity(), id, office); err != nil {
			t.Fatalf("the signer's code from the same address: %v", err)
		}

		// The texts that are sent still count: 20 an address an hour.
		var signers []*db.User
		for i := range 5 {
			u := f.user(t, fmt.Sprintf("signer%d@example.nl", i), false, "Sanne", fmt.Sprint(i))
			f.phone(t, u, fmt.Sprintf("+3161111111%d", i))
			if err := f.msgs.AddParticipant(ctx, f.hr.Identity(), f.thread, messaging.AddInput{Email: u.Email, History: messaging.FromNowOn}); err != nil {
				t.Fatal(err)
			}
			signers = append(signers, u)
		}
		ids := make([]int64, len(signers))
		for i, u := range signers {
			ids[i] = u.ID
		}
		many := f.request(t, "plan2.pdf", pdf(1, "D"), signing.RequestInput{SignerIDs: ids})
		sent := 1 // Jan's
		for round := 0; sent < 20; round++ {
			f.clk.Add(61 * time.Second)
			for _, u := range signers {
				if sent == 20 {
					break
				}
				if err := f.svc.SendCode(ctx, u.Identity(), many, office); err != nil {
					t.Fatalf("text %d: %v", sent+1, err)
				}
				sent++
			}
		}
		f.clk.Add(61 * time.Second)
		wantKey(t, f.svc.SendCode(ctx, signers[4].Identity(), many, office), "error.wait")
		if err := f.svc.SendCode(ctx, signers[4].Identity(), many, "192.0.2.51"); err != nil {
			t.Fatalf("from another address: %v", err)
		}
	})
}
