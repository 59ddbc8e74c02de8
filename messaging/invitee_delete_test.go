package messaging_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"dialoog/auth"
	"dialoog/db"
	"dialoog/db/dbtest"
	"dialoog/messaging"
)

// A message written to an address new to Dialoog (a typing error, say)
// and deleted for everyone before anyone read it takes the invitation it
// caused with it: the sign-up link no longer opens an account, the
// invitation mail still queued is not sent, and the person made for it is
// deleted, as the nightly cleanup deletes an invited person who takes
// part in nothing. Someone who still takes part in another conversation,
// or who was invited before the message, stays invited.
func TestDeleteForEveryoneWithdrawsItsInvitation(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := setup(t, d)
		const typo, piet, early = "typo@example.nl", "piet@example.nl", "vroeg@example.nl"
		if _, _, err := f.svc.Invitations.Invite(ctx, auth.InviteInput{Email: early, OrgID: f.org.ID}); err != nil {
			t.Fatal(err)
		}
		f.clk.Add(time.Second)
		link := func(to string) string {
			t.Helper()
			var token string
			for _, it := range f.mailsTo(t, to) {
				if _, tok, ok := strings.Cut(it.Mail.Text, "/aanmelden/"); ok {
					token = strings.Fields(tok)[0] // the newest is listed first
					break
				}
			}
			if token == "" {
				t.Fatalf("no invitation mail to %s", to)
			}
			return token
		}
		tid, err := f.svc.Compose(ctx, f.hr.Identity(), messaging.ComposeInput{To: []string{typo, piet, early}, Subject: "Re-integratieplan", Body: "Zie bijlage"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Compose(ctx, f.hr.Identity(), messaging.ComposeInput{To: []string{piet}, Subject: "Afspraak", Body: "Dinsdag?"}); err != nil {
			t.Fatal(err)
		}
		links := map[string]string{typo: link(typo), piet: link(piet), early: link(early)}
		for to, token := range links {
			if _, err := f.svc.Invitations.Check(ctx, token); err != nil {
				t.Fatalf("the link of %s does not work before the deletion: %v", to, err)
			}
		}
		v, err := f.svc.Thread(ctx, f.hr.Identity(), tid)
		if err != nil {
			t.Fatal(err)
		}
		if err := f.svc.DeleteForEveryone(ctx, f.hr.Identity(), v.Messages[0].ID); err != nil {
			t.Fatal(err)
		}

		if _, err := f.svc.Invitations.Check(ctx, links[typo]); err == nil {
			t.Error("the link of the deleted message's invitation still opens an account")
		}
		if n := f.count(t, "outbox", "recipient = ? AND status IN (?, ?)", typo, db.OutboxPending, db.OutboxSending); n != 0 {
			t.Errorf("%d mails to the address are still queued", n)
		}
		if n := f.count(t, "users", "email = ?", typo); n != 0 {
			t.Errorf("the person made for the deleted message is still stored: %d", n)
		}
		if n := f.count(t, "audit_events", "kind = ?", messaging.AuditInvitationWithdrawn); n != 1 {
			t.Errorf("audit rows of the withdrawal: %d, want 1", n)
		}
		for _, to := range []string{piet, early} {
			if _, err := f.svc.Invitations.Check(ctx, links[to]); err != nil {
				t.Errorf("the link of %s stopped working: %v", to, err)
			}
		}
	})
}
