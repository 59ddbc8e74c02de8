package auth

import (
	"context"
	"crypto/rand"
	"fmt"
	"strings"

	"github.com/uptrace/bun"

	"dialoog/apperr"
	"dialoog/db"
)

// DemoPerson is one of the people `dialoog demo` creates, signed up and
// ready to log in.
type DemoPerson struct {
	Email                                 string
	Internal, Admin                       bool
	Initials, FirstName, NamePrefix, Last string
}

// DemoLogin is how to log in as a demo person: the password and the
// authenticator app's secret, made up for the demo and shown once.
type DemoLogin struct {
	Email, Password, TOTPSecret string
	User                        *db.User
}

// FillDemo makes the organisation orgName and the people in it, each past
// the first visit with a password and a verified authenticator app, and
// returns how to log in as each. Running it again gives the same people a
// new password and secret. It refuses a database that has anyone else:
// demo accounts have passwords printed on a terminal.
func (a *Accounts) FillDemo(ctx context.Context, orgName string, people []DemoPerson) (*db.Organisation, []DemoLogin, error) {
	emails := make([]string, len(people))
	hashes := make([]string, len(people))
	logins := make([]DemoLogin, len(people))
	for i, p := range people {
		emails[i] = p.Email
		// Hashing is slow: outside the transaction.
		pw := demoPassword()
		hash, err := HashPassword(ctx, pw)
		if err != nil {
			return nil, nil, err
		}
		key, err := NewTOTPKey(orgName, p.Email)
		if err != nil {
			return nil, nil, err
		}
		hashes[i] = hash
		logins[i] = DemoLogin{Email: p.Email, Password: pw, TOTPSecret: key.Secret}
	}
	var org db.Organisation
	err := a.DB.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		others, err := tx.NewSelect().Model((*db.User)(nil)).Where("email NOT IN (?)", bun.In(emails)).Count(ctx)
		if err != nil {
			return fmt.Errorf("count users: %w", err)
		}
		if others > 0 {
			return apperr.New(apperr.Conflict, "demo.not_empty")
		}
		now := a.Now().UTC()
		err = tx.NewSelect().Model(&org).Where("name = ?", orgName).Scan(ctx)
		if db.ErrNoRows(err) {
			org = db.Organisation{Name: orgName, CreatedAt: now}
			_, err = tx.NewInsert().Model(&org).Exec(ctx)
		}
		if err != nil {
			return fmt.Errorf("demo organisation: %w", err)
		}
		terms, err := CurrentTerms(ctx, tx)
		if err != nil {
			return err
		}
		done := bun.NullTime{Time: now}
		for i, p := range people {
			u := db.User{Email: p.Email, Kind: db.KindExternal, IsAdmin: p.Admin, Status: db.StatusActive, Language: "nl",
				Gender: "unknown", Initials: p.Initials, FirstName: p.FirstName, NamePrefix: p.NamePrefix, LastName: p.Last,
				PasswordChangedAt: done, SecondFactorDoneAt: done, RecoveryConfirmedAt: done,
				ProfileCompletedAt: done, CreatedAt: now, UpdatedAt: now}
			if p.Internal {
				u.Kind, u.OrgID = db.KindInternal, &org.ID
			}
			var id int64
			err := tx.NewSelect().Model((*db.User)(nil)).Column("id").Where("email = ?", u.Email).Scan(ctx, &id)
			switch {
			case db.ErrNoRows(err):
				if _, err := tx.NewInsert().Model(&u).Exec(ctx); err != nil {
					return fmt.Errorf("create demo person: %w", err)
				}
			case err != nil:
				return fmt.Errorf("load demo person: %w", err)
			default:
				u.ID = id
				if _, err := tx.NewUpdate().Model(&u).Column("kind", "org_id", "is_admin", "status", "initials", "first_name",
					"name_prefix", "last_name", "password_changed_at", "second_factor_done_at",
					"recovery_confirmed_at", "profile_completed_at", "updated_at").WherePK().Exec(ctx); err != nil {
					return fmt.Errorf("reset demo person: %w", err)
				}
				if _, err := tx.NewDelete().Model((*db.SecondFactor)(nil)).Where("user_id = ?", u.ID).Exec(ctx); err != nil {
					return fmt.Errorf("reset demo factors: %w", err)
				}
				if _, err := tx.NewDelete().Model((*db.Passkey)(nil)).Where("user_id = ?", u.ID).Exec(ctx); err != nil {
					return fmt.Errorf("reset demo passkeys: %w", err)
				}
				if _, err := tx.NewDelete().Model((*db.Session)(nil)).Where("user_id = ?", u.ID).Exec(ctx); err != nil {
					return fmt.Errorf("end demo sessions: %w", err)
				}
			}
			if _, err := tx.NewUpdate().Model(&db.Password{ID: u.ID, Hash: hashes[i]}).WherePK().Exec(ctx); err != nil {
				return fmt.Errorf("demo password: %w", err)
			}
			accepted, err := tx.NewSelect().Model((*db.TermsAcceptance)(nil)).Where("user_id = ? AND terms_version_id = ?", u.ID, terms.ID).Exists(ctx)
			if err != nil {
				return fmt.Errorf("demo terms: %w", err)
			}
			if !accepted {
				if _, err := tx.NewInsert().Model(&db.TermsAcceptance{UserID: u.ID, TermsVersionID: terms.ID, IP: "demo", AcceptedAt: now}).Exec(ctx); err != nil {
					return fmt.Errorf("demo terms: %w", err)
				}
			}
			f := db.SecondFactor{UserID: u.ID, Kind: db.FactorTOTP, TOTPSecret: a.Vault.Seal([]byte(logins[i].TOTPSecret), totpAD(u.ID)),
				VerifiedAt: done, CreatedAt: now}
			if _, err := tx.NewInsert().Model(&f).Exec(ctx); err != nil {
				return fmt.Errorf("demo app: %w", err)
			}
			if err := Audit(ctx, tx, AuditEntry{UserID: &u.ID, Kind: "demo.account", Now: now}); err != nil {
				return err
			}
			logins[i].User = &u
		}
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("demo: %w", err)
	}
	return &org, logins, nil
}

// demoPassword is a random password of four groups of five letters and
// digits (about 100 bits): easy to type over from a terminal.
func demoPassword() string {
	const alphabet = "abcdefghijkmnpqrstuvwxyz23456789"
	b := make([]byte, 20)
	_, _ = rand.Read(b) // crypto/rand.Read never fails since Go 1.24
	var s strings.Builder
	for i, c := range b {
		if i > 0 && i%5 == 0 {
			s.WriteByte('-')
		}
		s.WriteByte(alphabet[int(c)%len(alphabet)])
	}
	return s.String()
}
