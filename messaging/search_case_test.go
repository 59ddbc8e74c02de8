package messaging_test

import (
	"context"
	"testing"

	"dialoog/db"
	"dialoog/db/dbtest"
	"dialoog/messaging"
)

// TestSearchFoldsCaseBeyondASCII: a search finds a subject or a name
// whatever the case of its letters, accented ones too, on both engines and
// for short queries (matched in the box) as for longer ones (the index).
func TestSearchFoldsCaseBeyondASCII(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := setup(t, d)
		ext := f.active(t, "emile@example.nl", false, "Émile", "", "Ångström")
		id, err := f.svc.Compose(ctx, f.hr.Identity(), messaging.ComposeInput{To: []string{ext.Email}, Subject: "ÉÉN VRAAG OVER ÜBERSTUNDEN", Body: "Tekst"})
		if err != nil {
			t.Fatal(err)
		}
		// Characters special to LIKE or GLOB stand for themselves.
		other, err := f.svc.Compose(ctx, f.hr.Identity(), messaging.ComposeInput{To: []string{ext.Email}, Subject: "Tarief 50% [a_b]*?", Body: "Tekst"})
		if err != nil {
			t.Fatal(err)
		}
		for _, q := range []string{"%", "_", "[", "]", "*", "?", "0%", "b]", "*?", "50% [", "[a_b]*?"} {
			page, err := f.svc.Inbox(ctx, f.hr.Identity(), 1, q)
			if err != nil {
				t.Fatal(err)
			}
			if len(page.Threads) != 1 || page.Threads[0].ID != other {
				t.Errorf("search %q finds %d conversations, want the other one", q, len(page.Threads))
			}
		}
		for _, q := range []string{"éé", "één", "ÉÉN", "über", "Ü"} {
			page, err := f.svc.Inbox(ctx, f.hr.Identity(), 1, q)
			if err != nil {
				t.Fatal(err)
			}
			if len(page.Threads) != 1 || page.Threads[0].ID != id {
				t.Errorf("search %q finds %d conversations, want the one", q, len(page.Threads))
			}
		}
		// The organisation's name, as long queries find it too.
		if _, err := d.NewRaw("UPDATE organisations SET name = ? WHERE id = ?", "Ärztekammer", f.org.ID).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		for _, q := range []string{"ärztekammer", "ÄRZ", "är"} {
			page, err := f.svc.Inbox(ctx, f.hr.Identity(), 1, q)
			if err != nil {
				t.Fatal(err)
			}
			if len(page.Threads) != 2 {
				t.Errorf("search %q finds %d conversations, want both", q, len(page.Threads))
			}
		}
		// Émile Ångström takes part in both.
		for _, q := range []string{"émile", "ÅNG", "å"} {
			page, err := f.svc.Inbox(ctx, f.hr.Identity(), 1, q)
			if err != nil {
				t.Fatal(err)
			}
			if len(page.Threads) != 2 {
				t.Errorf("search %q finds %d conversations, want both", q, len(page.Threads))
			}
		}
	})
}
