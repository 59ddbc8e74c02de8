package handlers

import (
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"testing"

	"dialoog/db"
	"dialoog/db/dbtest"
)

// TestComposeToNewAddressAtOnce, on both engines: colleagues who write at
// the same moment to an address Dialoog does not know yet each start
// their conversation; the address becomes one invited person, not a
// server error for all but the first (on PostgreSQL the second insert of
// the address waited for the first transaction and then broke its unique
// index).
func TestComposeToNewAddressAtOnce(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ra := newRealAppOn(t, d)
		const writers = 4
		var colleagues []*person
		for i := 0; i < writers; i++ {
			p := ra.person(t, fmt.Sprintf("hr%d@osaw.nl", i), true, "Hanna", "", "Vries", "nl")
			p.b.csrf()
			colleagues = append(colleagues, p)
		}
		for round := 0; round < 3; round++ {
			to := fmt.Sprintf("nieuw%d@example.nl", round)
			statuses := make([]int, writers)
			var wg sync.WaitGroup
			for i, p := range colleagues {
				wg.Add(1)
				go func() {
					defer wg.Done()
					resp, _ := p.b.post("/berichten/nieuw", url.Values{"to": {to}, "subject": {"Afspraak"}, "body": {"Hallo"}})
					statuses[i] = resp.StatusCode
				}()
			}
			wg.Wait()
			for i, s := range statuses {
				if s != http.StatusSeeOther {
					t.Fatalf("round %d, writer %d: status %d", round, i, s)
				}
			}
			n, err := ra.d.NewSelect().Model((*db.User)(nil)).Where("email = ?", to).Count(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			if n != 1 {
				t.Fatalf("%d users for %s", n, to)
			}
		}
	})
}
