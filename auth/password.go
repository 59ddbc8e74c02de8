package auth

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"runtime"
	"strings"
	"unicode/utf8"

	"github.com/trustelem/zxcvbn"
	"github.com/uptrace/bun"
	"golang.org/x/crypto/argon2"

	"dialoog/apperr"
	"dialoog/db"
	"dialoog/identity"
)

// Password rules (DESIGN, NIST SP 800-63B): length, not guessable, no
// composition rules.
const (
	PasswordMinLength = 12
	PasswordMaxLength = 256
	passwordMinScore  = 3
)

// argon2id parameters (OWASP: 19 MiB, 2 passes, 1 lane).
const (
	argonMemory  = 19 * 1024
	argonTime    = 2
	argonThreads = 1
	argonKeyLen  = 32
	argonSaltLen = 16
)

// hashSlots bounds concurrent hashes, so a burst of logins cannot exhaust
// memory (each hash holds 19 MiB).
var hashSlots = make(chan struct{}, max(2, runtime.NumCPU()))

// CheckPasswordPolicy returns an Invalid error on field "password" when pw
// breaks a rule. userInputs (mail address, names) must not be guessable
// parts of it.
func CheckPasswordPolicy(pw string, email string, userInputs ...string) error {
	n := utf8.RuneCountInString(pw)
	if n < PasswordMinLength {
		return apperr.Field("password", "password.too_short")
	}
	if n > PasswordMaxLength {
		return apperr.Field("password", "password.too_long")
	}
	lower := strings.ToLower(pw)
	if email != "" {
		local, _, _ := strings.Cut(strings.ToLower(email), "@")
		if strings.Contains(lower, strings.ToLower(email)) || (len(local) >= 4 && strings.Contains(lower, local)) {
			return apperr.Field("password", "password.contains_email")
		}
	}
	for _, in := range userInputs {
		if in = strings.ToLower(strings.TrimSpace(in)); len(in) >= 4 && strings.Contains(lower, in) {
			return apperr.Field("password", "password.contains_name")
		}
	}
	inputs := append([]string{email, "dialoog", "wachtwoord", "password"}, userInputs...)
	if zxcvbn.PasswordStrength(pw, inputs).Score < passwordMinScore {
		return apperr.Field("password", "password.weak")
	}
	return nil
}

// PasswordRules are the password rules for one person: their mail
// address and names must not be in it. The services and the live checks
// of the password pages use the same, so a password the page calls fine
// is not refused when it is sent.
type PasswordRules struct{ email, firstName, lastName string }

// RulesFor are the password rules for u.
func RulesFor(u *identity.User) PasswordRules {
	return PasswordRules{email: u.Email, firstName: u.FirstName, lastName: u.LastName}
}

func rulesOf(u *db.User) PasswordRules {
	return PasswordRules{email: u.Email, firstName: u.FirstName, lastName: u.LastName}
}

// Check returns an Invalid error on field "password" when pw breaks a
// rule (CheckPasswordPolicy).
func (r PasswordRules) Check(pw string) error {
	return CheckPasswordPolicy(pw, r.email, r.firstName, r.lastName)
}

// storedPassword reads the password hash of userID ("" when none was
// set). Only auth reads it: db.User has no field for it.
func storedPassword(ctx context.Context, idb bun.IDB, userID int64) (string, error) {
	p := db.Password{ID: userID}
	if err := idb.NewSelect().Model(&p).WherePK().Scan(ctx); err != nil {
		return "", fmt.Errorf("load password: %w", err)
	}
	return p.Hash, nil
}

// userWithPassword is a user with their password hash, for a login's
// check of the password; it never leaves auth.
type userWithPassword struct {
	db.User      `bun:",extend"`
	PasswordHash string `bun:"password_hash"`
}

// newPasswordHash checks a new password and its confirmation for u and
// returns its hash.
func newPasswordHash(ctx context.Context, u *db.User, pw, confirm string) (string, error) {
	if err := rulesOf(u).Check(pw); err != nil {
		return "", err
	}
	if pw != confirm {
		return "", apperr.Field("confirm", "password.mismatch")
	}
	return HashPassword(ctx, pw)
}

// HashPassword returns an argon2id hash in PHC string form.
func HashPassword(ctx context.Context, pw string) (string, error) {
	salt := make([]byte, argonSaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("hash password: random: %w", err)
	}
	key, err := argonKey(ctx, pw, salt, argonMemory, argonTime, argonThreads, argonKeyLen)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemory, argonTime, argonThreads,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key)), nil
}

// VerifyPassword reports whether pw matches a hash made by HashPassword.
// With an empty hash it still spends the time of one hash, so that unknown
// accounts cannot be told apart by timing.
func VerifyPassword(ctx context.Context, hash, pw string) (bool, error) {
	if hash == "" {
		hash = dummyHash
	}
	var v int
	var m uint32
	var t uint32
	var p uint8
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false, fmt.Errorf("verify password: unknown hash format")
	}
	if _, err := fmt.Sscanf(parts[2], "v=%d", &v); err != nil || v != argon2.Version {
		return false, fmt.Errorf("verify password: unsupported version")
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil {
		return false, fmt.Errorf("verify password: bad parameters: %w", err)
	}
	salt, err := base64.RawStdEncoding.DecodeString(parts[4])
	if err != nil {
		return false, fmt.Errorf("verify password: bad salt: %w", err)
	}
	want, err := base64.RawStdEncoding.DecodeString(parts[5])
	if err != nil {
		return false, fmt.Errorf("verify password: bad key: %w", err)
	}
	got, err := argonKey(ctx, pw, salt, m, t, p, uint32(len(want)))
	if err != nil {
		return false, err
	}
	return subtle.ConstantTimeCompare(got, want) == 1 && hash != dummyHash, nil
}

// dummyHash is verified against when an account has no password, to keep
// timing equal; it matches no password.
const dummyHash = "$argon2id$v=19$m=19456,t=2,p=1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"

func argonKey(ctx context.Context, pw string, salt []byte, m, t uint32, p uint8, n uint32) ([]byte, error) {
	select {
	case hashSlots <- struct{}{}:
	case <-ctx.Done():
		return nil, fmt.Errorf("hash password: %w", ctx.Err())
	}
	defer func() { <-hashSlots }()
	return argon2.IDKey([]byte(pw), salt, t, m, p, n), nil
}
