package auth_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"path/filepath"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"dialoog/auth"
	"dialoog/db"
	"dialoog/db/dbtest"
)

// TestRecoveryCodesCarriedToMAC: recovery codes stored before migration
// 0014 as a plain SHA-256 still log in after it; once converted at start
// the stored value is a keyed MAC, no longer the plain SHA-256, and new
// codes are stored that way too.
func TestRecoveryCodesCarriedToMAC(t *testing.T) {
	ctx := context.Background()
	open := map[string]func(t *testing.T) *db.DB{
		"sqlite": func(t *testing.T) *db.DB {
			d, err := db.OpenSQLite(ctx, filepath.Join(t.TempDir(), db.SQLiteFile))
			if err != nil {
				t.Fatal(err)
			}
			return d
		},
		"postgres": func(t *testing.T) *db.DB {
			d, err := db.OpenPostgres(ctx, dbtest.NewTestSchema(t))
			if err != nil {
				t.Fatal(err)
			}
			return d
		},
	}
	for _, engine := range []string{"sqlite", "postgres"} {
		t.Run(engine, func(t *testing.T) {
			d := open[engine](t)
			defer d.Close()
			if _, err := d.MigrateTo(ctx, "0013_key_check"); err != nil {
				t.Fatal(err)
			}
			exec := func(_ sql.Result, err error) {
				t.Helper()
				if err != nil {
					t.Fatal(err)
				}
			}
			// Yesterday's rows are written before the migration without the
			// columns later migrations add; the fixture, which works with
			// today's model, comes after it.
			now := time.Date(2026, 2, 23, 9, 0, 0, 0, time.UTC)
			if err := auth.EnsureTerms(ctx, d, func() time.Time { return now }); err != nil {
				t.Fatal(err)
			}
			done := bun.NullTime{Time: now}
			hash, err := auth.HashPassword(ctx, goodPassword)
			if err != nil {
				t.Fatal(err)
			}
			u := &db.User{Email: "jan@example.nl", Kind: db.KindExternal, Status: db.StatusActive, Language: "nl", Gender: "unknown",
				Initials: "J.", FirstName: "Jan", LastName: "Berg",
				SecondFactorDoneAt: done, RecoveryConfirmedAt: done, ProfileCompletedAt: done, CreatedAt: now, UpdatedAt: now}
			exec(d.NewInsert().Model(u).ExcludeColumn("notify", "last_summary_at", "push_devices").Exec(ctx))
			exec(d.NewUpdate().Model(&db.Password{ID: u.ID, Hash: hash}).WherePK().Exec(ctx))
			terms, err := auth.CurrentTerms(ctx, d)
			if err != nil {
				t.Fatal(err)
			}
			exec(d.NewInsert().Model(&db.TermsAcceptance{UserID: u.ID, TermsVersionID: terms.ID, IP: "ip", AcceptedAt: now}).Exec(ctx))
			exec(d.NewInsert().Model(&db.SecondFactor{UserID: u.ID, Kind: db.FactorSMS, Phone: recoveryPhone, VerifiedAt: done, CreatedAt: now}).Exec(ctx))
			// Yesterday's storage: SHA-256 of the normalised code, no keyed column.
			codes := []string{"abcde-fghij", "klmno-pqrst", "uvwxy-z2345"}
			for _, c := range codes {
				sum := sha256.Sum256([]byte(c[:5] + c[6:]))
				exec(d.NewInsert().Model(&db.RecoveryCode{UserID: u.ID, CodeHash: sum[:], CreatedAt: now}).ExcludeColumn("keyed").Exec(ctx))
			}
			if _, err := d.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			f := newAccFixture(t, d)
			login := func(code string) error {
				res, err := f.acc.Login(ctx, "jan@example.nl", goodPassword, "127.0.0.1", "t")
				if err != nil {
					t.Fatal(err)
				}
				_, err = f.acc.VerifyLoginFactor(ctx, f.cur(t, res.Token), "recovery", code, "127.0.0.1")
				return err
			}
			// Before the conversion (another instance still starting).
			if err := login("ABCDE-FGHIJ"); err != nil {
				t.Fatalf("a pre-migration code before the conversion: %v", err)
			}
			n, err := auth.UpgradeRecoveryCodes(ctx, d, f.v)
			if err != nil || n != 3 {
				t.Fatalf("converted %d: %v", n, err)
			}
			if n, err := auth.UpgradeRecoveryCodes(ctx, d, f.v); err != nil || n != 0 {
				t.Fatalf("a second start converted %d: %v", n, err)
			}
			var rows []db.RecoveryCode
			if err := d.NewSelect().Model(&rows).Where("user_id = ?", u.ID).Scan(ctx); err != nil {
				t.Fatal(err)
			}
			for _, r := range rows {
				for _, c := range codes {
					sum := sha256.Sum256([]byte(c[:5] + c[6:]))
					if bytes.Equal(r.CodeHash, sum[:]) || !r.Keyed {
						t.Fatalf("code %d still stored as a plain SHA-256", r.ID)
					}
				}
			}
			if err := login("klmno-pqrst"); err != nil {
				t.Fatalf("a pre-migration code after the conversion: %v", err)
			}
			wantKey(t, login("abcde-fghij"), "code.wrong")
		})
	}
}
