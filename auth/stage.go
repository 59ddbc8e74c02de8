package auth

import (
	"context"
	"fmt"

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
	var u db.User
	if err := idb.NewSelect().Model(&u).Where("id = ?", userID).Scan(ctx); err != nil {
		return "", fmt.Errorf("stage: load user %d: %w", userID, err)
	}
	accepted, err := idb.NewSelect().Model((*db.TermsAcceptance)(nil)).
		Where("user_id = ?", userID).
		Where("terms_version_id = (SELECT id FROM terms_versions ORDER BY version DESC LIMIT 1)").
		Exists(ctx)
	if err != nil {
		return "", fmt.Errorf("stage: terms: %w", err)
	}
	if !accepted {
		return StageTerms, nil
	}
	if u.PasswordHash == "" {
		return StagePassword, nil
	}
	verified, err := idb.NewSelect().Model((*db.SecondFactor)(nil)).
		Where("user_id = ? AND verified_at IS NOT NULL", userID).Exists(ctx)
	if err != nil {
		return "", fmt.Errorf("stage: second factor: %w", err)
	}
	if !verified || u.SecondFactorDoneAt.IsZero() {
		return StageSecondFactor, nil
	}
	if u.RecoveryConfirmedAt.IsZero() {
		return StageRecovery, nil
	}
	if u.ProfileCompletedAt.IsZero() {
		return StageProfile, nil
	}
	return StageDone, nil
}
