package auth_test

import (
	"context"
	"testing"
	"time"

	"github.com/uptrace/bun"
	"golang.org/x/crypto/argon2"

	"dialoog/auth"
	"dialoog/db"
	"dialoog/db/dbtest"
)

// BenchmarkPasswordLogin is the password step of a login (throttle checks,
// the user, the argon2id check, the factors, a new session, the audit row)
// beside a raw argon2id key derivation with the same parameters (19 MiB,
// t=2, p=1), one at a time, on SQLite and PostgreSQL. "x-baseline" is the
// login's time over argon2id's; its inverse is the throughput ratio.
//
//	go test -run '^$' -bench 'PasswordLogin' ./auth/
func BenchmarkPasswordLogin(b *testing.B) {
	for _, engine := range dbtest.Engines {
		b.Run(engine, func(b *testing.B) {
			d := dbtest.MustOpen(b, engine)
			ctx := context.Background()
			f := newFixture(b, d)
			acc := &auth.Accounts{DB: d, Vault: f.v, Sessions: f.inv.Sessions, Limiter: f.inv.Limiter, Now: f.clk.Now, Log: discardLog()}
			hash, err := auth.HashPassword(ctx, goodPassword)
			if err != nil {
				b.Fatal(err)
			}
			now := f.clk.Now()
			u := &db.User{Email: "jan@example.nl", Kind: db.KindExternal, Status: db.StatusActive, Language: "nl", Gender: "unknown",
				CreatedAt: now, UpdatedAt: now, SecondFactorDoneAt: bun.NullTime{Time: now}}
			if _, err := d.NewInsert().Model(u).Exec(ctx); err != nil {
				b.Fatal(err)
			}
			if _, err := d.NewUpdate().Model(&db.Password{ID: u.ID, Hash: hash}).WherePK().Exec(ctx); err != nil {
				b.Fatal(err)
			}
			if _, err := d.NewInsert().Model(&db.SecondFactor{UserID: u.ID, Kind: db.FactorSMS, Phone: "+31612345678", VerifiedAt: bun.NullTime{Time: now}, CreatedAt: now}).Exec(ctx); err != nil {
				b.Fatal(err)
			}
			salt := make([]byte, 16)
			var baseline float64
			b.Run("argon2id", func(b *testing.B) {
				for b.Loop() {
					argon2.IDKey([]byte(goodPassword), salt, 2, 19*1024, 1, 32)
				}
				baseline = float64(b.Elapsed().Nanoseconds()) / float64(b.N)
			})
			b.Run("login", func(b *testing.B) {
				for b.Loop() {
					f.clk.Add(10 * time.Second) // within the per-address limit of 100 logins in 15 minutes
					res, err := acc.Login(ctx, u.Email, goodPassword, "127.0.0.1", "bench")
					if err != nil || res.Token == "" {
						b.Fatalf("login: %v", err)
					}
				}
				if baseline > 0 {
					b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/baseline, "x-baseline")
				}
			})
		})
	}
}
