package auth

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"dialoog/db"
)

// Stage is the step of the first visit a user has to complete next. It is
// derived from stored facts, never stored itself, so no URL can skip one.
type Stage string

// The stages in order.
const (
	StageTerms        Stage = "terms"
	StagePassword     Stage = "password"
	StageSecondFactor Stage = "second_factor"
	StageRecovery     Stage = "recovery"
	StageProfile      Stage = "profile"
	StageDone         Stage = "done"
)

// StageOf works out the next stage of userID.
func StageOf(ctx context.Context, idb bun.IDB, userID int64) (Stage, error) {
	u, err := userWithStage(ctx, idb, userID)
	if err != nil {
		return "", err
	}
	return u.stage(), nil
}

// stagedUser is a user with the stored facts their stage derives from,
// read in one query.
type stagedUser struct {
	db.User        `bun:",extend"`
	TermsAccepted  bool `bun:"terms_accepted"`
	FactorVerified bool `bun:"factor_verified"`
	// SSOLinked: the user logs in through their organisation's provider
	// (sso_links), which stands for Dialoog's password, second factor and
	// recovery codes.
	SSOLinked bool `bun:"sso_linked"`
	// HasPassword: a password was set (its hash stays in the database).
	HasPassword bool `bun:"has_password"`
}

// The stored facts of a stage, for the users row aliased u.
const (
	termsAcceptedExpr = `EXISTS (SELECT 1 FROM terms_acceptances AS ta WHERE ta.user_id = u.id
  AND ta.terms_version_id = (SELECT tv.id FROM terms_versions AS tv ORDER BY tv.version DESC LIMIT 1))`
	factorVerifiedExpr = "(EXISTS (SELECT 1 FROM second_factors AS sf WHERE sf.user_id = u.id AND sf.verified_at IS NOT NULL)" +
		" OR EXISTS (SELECT 1 FROM passkeys AS pk WHERE pk.user_id = u.id))"
	ssoLinkedExpr   = "EXISTS (SELECT 1 FROM sso_links AS sl WHERE sl.user_id = u.id)"
	hasPasswordExpr = "u.password_hash <> ''"
)

// userWithStage loads a user and the facts of their stage in one query.
func userWithStage(ctx context.Context, idb bun.IDB, userID int64) (*stagedUser, error) {
	var u stagedUser
	err := idb.NewSelect().TableExpr("users AS u").ColumnExpr(db.ColumnsOf(idb, db.User{}, "u")).
		ColumnExpr(termsAcceptedExpr+" AS terms_accepted").ColumnExpr(factorVerifiedExpr+" AS factor_verified").
		ColumnExpr(ssoLinkedExpr+" AS sso_linked").ColumnExpr(hasPasswordExpr+" AS has_password").
		Where("u.id = ?", userID).Scan(ctx, &u)
	if err != nil {
		return nil, fmt.Errorf("stage: load user %d: %w", userID, err)
	}
	return &u, nil
}

// onboarded reports whether the user finished the first visit once: the
// profile was saved (which also made the account active). Nothing clears
// it, so an account that lost its factors is never mistaken for an
// invitee still setting them up.
func (u *stagedUser) onboarded() bool {
	return !u.ProfileCompletedAt.IsZero() || u.Status == db.StatusActive
}

// stage derives the stage from the loaded facts.
func (u *stagedUser) stage() Stage {
	switch {
	case !u.TermsAccepted:
		return StageTerms
	case u.SSOLinked && u.ProfileCompletedAt.IsZero():
		// The organisation's provider stands for password, factor and
		// recovery codes; only its sessions pass (see Resolve).
		return StageProfile
	case u.SSOLinked:
		return StageDone
	case !u.HasPassword:
		return StagePassword
	case !u.FactorVerified || (u.SecondFactorDoneAt.IsZero() && !u.onboarded()):
		// Once the first visit is done, a verified factor is enough: a
		// factor set up again after a recovery code need not offer the app.
		return StageSecondFactor
	case u.RecoveryConfirmedAt.IsZero():
		return StageRecovery
	case u.ProfileCompletedAt.IsZero():
		return StageProfile
	}
	return StageDone
}

// stageDoneExpr is stage() == StageDone in SQL, for the users row aliased
// u: the same facts, so that a set of users is checked in one query. With
// the profile saved the user is onboarded, so a verified factor is enough
// and second_factor_done_at does not count (see stage).
const stageDoneExpr = termsAcceptedExpr + " AND ((" + hasPasswordExpr + " AND " + factorVerifiedExpr +
	" AND u.recovery_confirmed_at IS NOT NULL) OR " + ssoLinkedExpr + ") AND u.profile_completed_at IS NOT NULL"

// LiveAdmitted returns those of userIDs who may receive live content now:
// not disabled and at StageDone. A user whose stage went back (new terms
// were published, their factors were removed) is not, although a socket
// opened before still runs; the relay closes it instead of pushing (one
// query for the users of a push, checked before every one).
func LiveAdmitted(ctx context.Context, idb bun.IDB, userIDs []int64) ([]int64, error) {
	if len(userIDs) == 0 {
		return nil, nil
	}
	var ok []int64
	err := idb.NewSelect().TableExpr("users AS u").Column("u.id").
		Where("u.id IN (?)", bun.In(userIDs)).Where("u.status <> ?", db.StatusDisabled).
		Where(stageDoneExpr).Scan(ctx, &ok)
	if err != nil {
		return nil, fmt.Errorf("live: check stages: %w", err)
	}
	return ok, nil
}

// LiveSessions returns those of sessionIDs that may keep a live connection
// at now: the session exists, has not ended or expired (idle or absolute),
// and its user is not disabled and at StageDone (as LiveAdmitted). The
// session sweep closes the connections of the others, also of sessions
// whose rows are gone (an account deleted, the demo run again).
func LiveSessions(ctx context.Context, idb bun.IDB, sessionIDs []int64, now time.Time) ([]int64, error) {
	if len(sessionIDs) == 0 {
		return nil, nil
	}
	var ok []int64
	err := idb.NewSelect().TableExpr("sessions AS s").Column("s.id").
		Join("JOIN users AS u ON u.id = s.user_id").
		Where("s.id IN (?)", bun.In(sessionIDs)).
		Where("s.ended_at IS NULL").Where("s.expires_at > ?", now).Where("s.last_seen_at > ?", now.Add(-SessionIdle)).
		Where("u.status <> ?", db.StatusDisabled).Where(stageDoneExpr).Scan(ctx, &ok)
	if err != nil {
		return nil, fmt.Errorf("live: check sessions: %w", err)
	}
	return ok, nil
}
