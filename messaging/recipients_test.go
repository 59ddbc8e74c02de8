package messaging_test

import (
	"context"
	"testing"

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
