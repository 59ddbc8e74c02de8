package auth_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"dialoog/auth"
	"dialoog/db"
	"dialoog/db/dbtest"
	"dialoog/notify"
)

// authSmallTables are configuration tables: an installation has a few
// organisations, their branding, terms versions and sign-in providers.
// Reading one whole costs what it holds, not what the installation holds.
// (On SQLite a plan names a table by its alias: tv is the terms versions
// of the session's lookup, which reads the newest one's entry of their
// version index, under a LIMIT 1, as terms_version the current terms.)
var authSmallTables = []string{"organisations", "organisation_branding", "terms_versions", "terms_version", "tv", "sso_providers", "retention_settings"}

// TestEverydayAuthPlans checks with EXPLAIN, on both engines, that no
// statement of signing in and of the account page reads a whole table
// that grows with people, beside 2,000 people with 3,000 sessions, 6,000
// audit rows, 2,000 login codes and 2,000 throttles: the password step
// (right and wrong), the second-factor step, the session's lookup on
// every request, the account page's activity and sessions, ending a
// session, a confirmation by password, and a password reset.
func TestEverydayAuthPlans(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newAccFixture(t, d)
		seedPeople(t, d, f.clk.Now())
		stmts := dbtest.CountStatements(d)
		dbtest.ForStatistics(t, d, func(t *testing.T, sfx string) {
			email := "app" + sfx + "@example.nl"
			op := func(what string, fn func(ctx context.Context) error) {
				t.Helper()
				f.clk.Add(time.Minute)
				stmts.ExplainOp(t, d, what, fn, authSmallTables...)
			}
			// The first visit, step by step.
			var link, tok string
			var cur *auth.Current
			op("invite", func(ctx context.Context) (err error) {
				link, _, err = f.inv.Invite(ctx, auth.InviteInput{Email: email, OrgID: f.org.ID})
				return err
			})
			op("accept the invitation", func(ctx context.Context) (err error) {
				tok, _, err = f.inv.Accept(ctx, token(link), "192.0.2.7", "test")
				return err
			})
			resolve := func(ctx context.Context) (err error) { cur, err = f.acc.Resolve(ctx, tok); return err }
			op("first session lookup", resolve)
			terms, err := auth.CurrentTerms(ctx, d)
			if err != nil {
				t.Fatal(err)
			}
			op("accept the terms", func(ctx context.Context) (err error) {
				tok, err = f.acc.AcceptTerms(ctx, cur, terms.ID, true, "192.0.2.7")
				return err
			})
			op("session lookup at the password", resolve)
			op("set the password", func(ctx context.Context) (err error) {
				tok, err = f.acc.SetPassword(ctx, cur, goodPassword, goodPassword, "192.0.2.7")
				return err
			})
			op("session lookup at the second factor", resolve)
			var key auth.TOTPKey
			op("app setup", func(ctx context.Context) (err error) { key, err = f.acc.TOTPSetup(ctx, cur, "OSAW"); return err })
			op("verify the app", func(ctx context.Context) (err error) {
				tok, err = f.acc.VerifySetupTOTP(ctx, cur, totpNow(t, key.Secret, f.clk.Now()), "192.0.2.7")
				return err
			})
			op("session lookup at the recovery codes", resolve)
			var codes []string
			op("recovery codes", func(ctx context.Context) (err error) { codes, err = f.acc.NewRecoveryCodes(ctx, cur); return err })
			op("confirm the recovery codes", func(ctx context.Context) (err error) {
				tok, err = f.acc.ConfirmRecoveryCodes(ctx, cur, true, codes, "192.0.2.7")
				return err
			})
			op("session lookup at the profile", resolve)
			op("profile", func(ctx context.Context) (err error) {
				_, err = f.acc.SaveProfile(ctx, cur, auth.Profile{Initials: "A", FirstName: "Ada", LastName: "Peters"}, "192.0.2.7")
				return err
			})
			// A phone as a second factor besides the app.
			now := f.clk.Now()
			if _, err := d.NewInsert().Model(&db.SecondFactor{UserID: cur.User.ID, Kind: db.FactorSMS, Phone: "+3161234" + map[string]string{"a": "5678", "b": "5679"}[sfx],
				VerifiedAt: bun.NullTime{Time: now}, CreatedAt: now}).Exec(ctx); err != nil {
				t.Fatal(err)
			}
			op("wrong password", func(ctx context.Context) error {
				if _, err := f.acc.Login(ctx, email, "verkeerd wachtwoord hier", "192.0.2.7", "t"); err == nil {
					return fmt.Errorf("a wrong password was taken")
				}
				return nil
			})
			op("unknown address", func(ctx context.Context) error {
				if _, err := f.acc.Login(ctx, "niemand"+sfx+"@example.nl", goodPassword, "192.0.2.7", "t"); err == nil {
					return fmt.Errorf("an unknown address was taken")
				}
				return nil
			})
			var res *auth.LoginResult
			op("password", func(ctx context.Context) (err error) {
				res, err = f.acc.Login(ctx, email, goodPassword, "192.0.2.7", "t")
				return err
			})
			op("session lookup", func(ctx context.Context) (err error) { cur, err = f.acc.Resolve(ctx, res.Token); return err })
			op("second factor", func(ctx context.Context) (err error) {
				tok, err = f.acc.VerifyLoginFactor(ctx, cur, db.FactorTOTP, totpNow(t, key.Secret, f.clk.Now()), "192.0.2.7")
				return err
			})
			op("signed-in session lookup", func(ctx context.Context) (err error) { cur, err = f.acc.Resolve(ctx, tok); return err })
			op("activity", func(ctx context.Context) error { _, _, err := f.acc.Activity(ctx, cur.User.ID, 1); return err })
			op("sessions", func(ctx context.Context) error { _, err := f.acc.LiveSessions(ctx, cur); return err })
			op("recovery codes left", func(ctx context.Context) error { _, err := f.acc.RecoveryCodesLeft(ctx, cur); return err })
			op("factors", func(ctx context.Context) error { _, err := f.acc.Factors(ctx, cur); return err })
			op("confirm by password", func(ctx context.Context) error { return f.acc.Confirm(ctx, cur, "password", goodPassword, "192.0.2.7") })
			op("end other sessions", func(ctx context.Context) error { _, err := f.acc.EndOtherSessions(ctx, cur, "192.0.2.7"); return err })
			op("login with a text", func(ctx context.Context) (err error) {
				res, err = f.acc.Login(ctx, email, goodPassword, "192.0.2.7", "t")
				if err == nil {
					cur, err = f.acc.Resolve(ctx, res.Token)
				}
				return err
			})
			op("send the login text", func(ctx context.Context) error { _, err := f.acc.SendLoginSMS(ctx, cur, "192.0.2.7"); return err })
			sms, err := notify.LatestDevSMSTo(ctx, d, f.v, "+3161234"+map[string]string{"a": "5678", "b": "5679"}[sfx])
			if err != nil {
				t.Fatal(err)
			}
			op("verify the login text", func(ctx context.Context) (err error) {
				tok, err = f.acc.VerifyLoginFactor(ctx, cur, db.FactorSMS, codeRE.FindString(sms.Body), "192.0.2.7")
				return err
			})
			requested := f.acc.Requested
			f.acc.Requested = nil
			op("request a password reset", func(ctx context.Context) error { return f.acc.RequestPasswordReset(ctx, email, "192.0.2.7") })
			op("mail requests", func(ctx context.Context) error { _, err := f.req.RunOnce(ctx); return err })
			f.acc.Requested = requested
			m, err := notify.LatestDevMailTo(ctx, d, f.v, email)
			if err != nil {
				t.Fatal(err)
			}
			reset := token(m.Text[strings.Index(m.Text, "http"):])
			op("open the reset link", func(ctx context.Context) error {
				_, _, err := f.acc.CheckPasswordReset(ctx, reset, "192.0.2.7")
				return err
			})
			op("reset the password", func(ctx context.Context) error {
				_, err := f.acc.ResetPassword(ctx, reset, "een heel nieuw wachtwoord graag", "een heel nieuw wachtwoord graag", "192.0.2.7", "t")
				return err
			})
		})
	})
}

// seedPeople fills the installation with 2,000 people outside any
// organisation, their sessions (most of them ended), audit rows, login
// codes and throttles.
func seedPeople(t *testing.T, d *db.DB, now time.Time) {
	t.Helper()
	ctx := context.Background()
	users := make([]db.User, 2000)
	for i := range users {
		users[i] = db.User{Email: fmt.Sprintf("mens%04d@example.nl", i), Kind: db.KindExternal, Status: db.StatusActive, Language: "nl",
			Gender: "unknown", CreatedAt: now, UpdatedAt: now}
	}
	if _, err := d.NewInsert().Model(&users).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	sessions := make([]db.Session, 3000)
	for i := range sessions {
		at := now.Add(-time.Duration(i) * time.Minute)
		sessions[i] = db.Session{TokenHash: []byte(fmt.Sprintf("token-%d", i)), UserID: users[i%len(users)].ID, CreatedAt: at, LastSeenAt: at,
			ExpiresAt: at.Add(30 * 24 * time.Hour)}
		if i%3 != 0 {
			sessions[i].EndedAt = bun.NullTime{Time: at}
		}
	}
	if _, err := d.NewInsert().Model(&sessions).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	evs := make([]db.AuditEvent, 6000)
	for i := range evs {
		u := users[i%len(users)].ID
		evs[i] = db.AuditEvent{UserID: &u, ActorID: &u, Kind: "login.ok", IP: "192.0.2.1", CreatedAt: now.Add(-time.Duration(i) * time.Minute)}
	}
	for i := 0; i < len(evs); i += 1000 {
		part := evs[i : i+1000]
		if _, err := d.NewInsert().Model(&part).Exec(ctx); err != nil {
			t.Fatal(err)
		}
	}
	codes := make([]db.OneTimeCode, 2000)
	for i := range codes {
		codes[i] = db.OneTimeCode{UserID: users[i].ID, Purpose: "login", Target: fmt.Sprintf("+3169%07d", i), CodeHash: []byte("x"), SentAt: now, ExpiresAt: now.Add(10 * time.Minute)}
	}
	if _, err := d.NewInsert().Model(&codes).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	throttles := make([]db.Throttle, 2000)
	for i := range throttles {
		throttles[i] = db.Throttle{Key: fmt.Sprintf("login:mens%04d@example.nl", i), Count: 1, WindowStart: now}
	}
	if _, err := d.NewInsert().Model(&throttles).Exec(ctx); err != nil {
		t.Fatal(err)
	}
}
