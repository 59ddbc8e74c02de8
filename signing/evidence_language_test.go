package signing_test

import (
	"context"
	"testing"
	"time"

	"dialoog/db"
	"dialoog/db/dbtest"
	"dialoog/signing"
)

// TestEvidenceLanguageFollowsOrganisation checks that the evidence page
// is in the language the organisation chose in Beheer: Dutch without a
// choice, English when it chose English.
func TestEvidenceLanguageFollowsOrganisation(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		sealOne := func(name string) string {
			t.Helper()
			id := f.request(t, name, pdf(1, name), signing.RequestInput{SignerIDs: []int64{f.jan.ID}})
			if err := f.agree(f.jan, id, f.sentCode(t, f.jan, id)); err != nil {
				t.Fatal(err)
			}
			f.sealer.mu.Lock()
			defer f.sealer.mu.Unlock()
			if len(f.sealer.got) == 0 {
				t.Fatal("nothing sealed")
			}
			return f.sealer.got[len(f.sealer.got)-1].Language
		}
		if got := sealOne("a.pdf"); got != "nl" {
			t.Fatalf("evidence language without a choice: %q, want nl", got)
		}
		if _, err := d.NewRaw(`INSERT INTO organisation_branding (org_id, evidence_language, updated_at) VALUES (?, 'en', ?)`,
			f.org.ID, time.Now().UTC()).Exec(context.Background()); err != nil {
			t.Fatal(err)
		}
		if got := sealOne("b.pdf"); got != "en" {
			t.Fatalf("evidence language of an organisation that chose English: %q, want en", got)
		}
	})
}
