package db_test

import (
	"strings"
	"testing"

	"dialoog/db"
	"dialoog/db/dbtest"
)

// Every start looks for rows stored before a conversion (names and absence
// messages sealed in migration 0008, recovery codes keyed in 0014). Once
// converted there are none, and finding that must not cost a scan of the
// attachments, users or recovery codes of the whole installation.
func TestStartUpConversionsUseIndexes(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		// The queries of messaging.SealLegacyAttachments, auth.SealLegacyAway
		// and auth.UpgradeRecoveryCodes, each with the partial index that
		// holds only the rows still to convert.
		for _, c := range []struct{ query, index string }{
			{`SELECT id, filename, storage_key, sha256 FROM attachments WHERE name_sealed IS NULL ORDER BY id LIMIT 500`, "attachments_unsealed_idx"},
			{`SELECT id, away_message FROM users WHERE away_message <> '' ORDER BY id LIMIT 500`, "users_plain_away_idx"},
			{`SELECT id, code_hash FROM recovery_codes WHERE keyed = FALSE`, "recovery_codes_unkeyed_idx"},
		} {
			plan := dbtest.Plan(t, d, c.query)
			if !strings.Contains(strings.Join(plan, "\n"), c.index) {
				t.Errorf("the start-up check %q does not read %s: %q", c.query, c.index, plan)
			}
		}
	})
}
