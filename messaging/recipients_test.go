package messaging_test

import (
	"context"
	"strings"
	"testing"

	"dialoog/apperr"
	"dialoog/db"
	"dialoog/db/dbtest"
	"dialoog/messaging"
)

// TestRecipientsSeparatedByAnySpace: addresses pasted from a spreadsheet
// row (tabs) or a text with non-breaking spaces are separate addresses,
// as those separated by spaces or new lines are.
func TestRecipientsSeparatedByAnySpace(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := setup(t, d)
		for _, to := range []string{"jan@example.nl\tpiet@example.nl", "jan@example.nl\u00a0piet@example.nl", "jan@example.nl\r\npiet@example.nl"} {
			id, err := f.svc.Compose(ctx, f.hr.Identity(), messaging.ComposeInput{To: []string{to}, Subject: "Verzuim", Body: "Tekst"})
			if err != nil {
				t.Errorf("to %q: %v", to, err)
				continue
			}
			n, err := d.NewSelect().Model((*db.Participant)(nil)).Where("thread_id = ?", id).Count(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if n != 3 {
				t.Errorf("to %q: %d participants, want 3", to, n)
			}
		}
	})
}

// TestRecipientErrorsNameTheAddress: in a list of addresses, the error
// says which one is wrong or can no longer receive messages (a very long
// one shortened), so the writer need not guess.
func TestRecipientErrorsNameTheAddress(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := setup(t, d)
		kees := f.active(t, "kees@example.nl", false, "Kees", "", "Klein")
		if _, err := d.NewUpdate().Model((*db.User)(nil)).Set("status = ?", db.StatusDisabled).Where("id = ?", kees.ID).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		long := strings.Repeat("x", 300)
		for _, c := range []struct{ to, key, address string }{
			{"jan@example.nl, piet@, anna@example.nl", "message.recipient_invalid_named", "piet@"},
			{"jan@example.nl " + long, "message.recipient_invalid_named", strings.Repeat("x", 60) + "…"},
			{"jan@example.nl; Kees@Example.nl", "message.recipient_disabled_named", "kees@example.nl"},
		} {
			_, err := f.svc.Compose(ctx, f.hr.Identity(), messaging.ComposeInput{To: []string{c.to}, Subject: "s", Body: "b"})
			fs := apperr.FieldsOf(err)
			e, ok := apperr.As(err)
			if len(fs) > 0 {
				e, ok = fs[0], true
			}
			if !ok || e.Field != "to" || e.Key != c.key || len(e.Args) != 2 || e.Args[0] != "Address" || e.Args[1] != c.address {
				t.Errorf("%.40s: %#v", c.to, e)
			}
		}
	})
}
