package messaging

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect"

	"dialoog/apperr"
	"dialoog/auth"
	"dialoog/db"
	"dialoog/identity"
)

// Medical confidentiality. A conversation marked as containing medical
// information (threads.medical) may be read by its external participants
// and by internal users who are members of a medical team of the
// conversation's organisation; nobody else, even when they take part.
//
// Two halves keep this one rule:
//   - Writing refuses to make a non-medical internal user a participant of a
//     medical conversation (starting one with such a recipient, from a
//     non-medical team, or adding such a person), with a clear message, so
//     that the rule and the participant list normally agree.
//   - Reading applies medicalRule next to the participant check on every
//     path (page, inbox and search, export, attachment download, live push
//     and typing, and every change that starts from a thread or message), so
//     that a person who leaves the medical team, or a team whose medical
//     flag is cleared, loses access at once although their participant rows
//     stay (they are told nothing more than "not found"). Their unread
//     total (the header, the daily summary) and team tabs count only what
//     they may read, and they get no mail about it: the counters of new
//     messages and deletions apply the rule per participant, and a change
//     of access recounts (recountReadableTotals).

// medicalRule is the rule as an SQL predicate over the threads row aliased
// t and the reader's id given as the SQL expression user (a column or "?";
// with "?" pass medicalArgs). Its subqueries do not depend on the thread
// row, so a list evaluates them once, not per conversation.
func medicalRule(t, user string) string {
	return "(NOT " + t + ".medical OR EXISTS (SELECT 1 FROM users AS mu WHERE mu.id = " + user + " AND mu.kind <> '" + db.KindInternal + "')" +
		" OR " + t + ".org_id IN (SELECT mt.org_id FROM team_members AS mm JOIN teams AS mt ON mt.id = mm.team_id WHERE mm.user_id = " + user + " AND mt.medical))"
}

// medicalArgs are the arguments of medicalRule(t, "?") for one reader.
func medicalArgs(userID int64) []any { return []any{userID, userID} }

// recountReadableTotals sets the unread totals of the users selected by
// the subquery who (with args) to the sum of the unread counts of the
// conversations they may read under the medical rule. The participant
// rows keep counting (read states stay per person), so that access that
// comes back counts them again; it runs after a change of medical access
// (a team's flag, joining or leaving a team), which is rare, and reads only
// those users' participant rows.
//
// On PostgreSQL it locks those users' rows first, in a statement of its
// own, and only then sums: the sum is read with the snapshot of the
// statement that starts after the locks, so it holds what a change that
// held a row (marking read or a reply in another conversation, which
// moves a participant's count and the user's total) committed. Summed in
// the UPDATE itself, the sum kept the snapshot from before its wait, and
// the total it set missed that change.
func recountReadableTotals(ctx context.Context, tx bun.Tx, who string, args ...any) error {
	if tx.Dialect().Name() == dialect.PG {
		var ids []int64
		if err := tx.NewRaw(`SELECT id FROM users WHERE id IN (`+who+`) ORDER BY id FOR NO KEY UPDATE`, args...).Scan(ctx, &ids); err != nil {
			return fmt.Errorf("recount unread totals: lock users: %w", err)
		}
	}
	if _, err := tx.NewRaw(`UPDATE users SET unread_total = (SELECT COALESCE(SUM(p.unread_count), 0)
  FROM participants AS p JOIN threads AS t ON t.id = p.thread_id
  WHERE p.user_id = users.id AND p.unread_count > 0 AND `+medicalRule("t", "users.id")+`)
WHERE id IN (`+who+`)`, args...).Exec(ctx); err != nil {
		return fmt.Errorf("recount unread totals: %w", err)
	}
	return nil
}

// MedicalSummary is what someone who may not read a medical conversation
// may know of it: that it exists and when it was last active. A case page
// lists this for conversations its viewer cannot open.
type MedicalSummary struct {
	ID            int64
	Medical       bool
	LastMessageAt time.Time
}

// RedactedSummary is the existence-only line of a conversation for a
// viewer: no subject, participants, content or attachments. It is what a
// view of all conversations of an organisation (a case file) shows of a
// medical conversation that MayRead refuses.
func RedactedSummary(id int64, lastMessageAt time.Time) MedicalSummary {
	return MedicalSummary{ID: id, Medical: true, LastMessageAt: lastMessageAt}
}

// MayRead reports whether the user may read the thread under the medical
// rule (not whether they take part): the same predicate as every read path.
func (s *Service) MayRead(ctx context.Context, who *identity.User, threadID int64) (bool, error) {
	user := db.UserOf(who)
	ok, err := s.DB.NewSelect().TableExpr("threads AS t").Where("t.id = ?", threadID).
		Where(medicalRule("t", "?"), medicalArgs(user.ID)...).Exists(ctx)
	if err != nil {
		return false, fmt.Errorf("medical rule for thread %d: %w", threadID, err)
	}
	return ok, nil
}

// medicallyCleared reports whether an internal user may be a participant of
// a medical conversation of organisation orgID: a member of one of its
// medical teams. External users always may.
func medicallyCleared(ctx context.Context, idb bun.IDB, u *db.User, orgID int64) (bool, error) {
	if u.Kind != db.KindInternal {
		return true, nil
	}
	ok, err := idb.NewSelect().TableExpr("team_members AS mm").Join("JOIN teams AS mt ON mt.id = mm.team_id").
		Where("mm.user_id = ? AND mt.medical AND mt.org_id = ?", u.ID, orgID).Exists(ctx)
	if err != nil {
		return false, fmt.Errorf("check medical team: %w", err)
	}
	return ok, nil
}

// refuseUncleared is the write half: a medical conversation of orgID takes
// no internal participant outside the medical teams.
func refuseUncleared(ctx context.Context, idb bun.IDB, u *db.User, orgID int64, field string) error {
	ok, err := medicallyCleared(ctx, idb, u, orgID)
	if err != nil {
		return err
	}
	if !ok {
		return apperr.Field(field, "medical.participant_not_medical")
	}
	return nil
}

// checkMedicalStart is the write half for a new medical conversation: an
// internal sender in a medical team of the organisation, started personally
// or from a medical team (whose members all take part).
func (s *Service) checkMedicalStart(ctx context.Context, tx bun.Tx, sender *db.User, orgID int64, team *int64) error {
	if team != nil {
		var t db.Team
		if err := tx.NewSelect().Model(&t).Where("id = ?", *team).Scan(ctx); err != nil {
			return fmt.Errorf("load team: %w", err)
		}
		if !t.Medical {
			return apperr.Field("medical", "medical.team_not_medical")
		}
		return nil
	}
	ok, err := medicallyCleared(ctx, tx, sender, orgID)
	if err != nil {
		return err
	}
	if !ok {
		return apperr.Field("medical", "medical.sender_not_medical")
	}
	return nil
}

// auditMedicalOpen records that an internal user opened a medical
// conversation.
func (s *Service) auditMedicalOpen(ctx context.Context, user *db.User, th *db.Thread) error {
	if !th.Medical || user.Kind != db.KindInternal {
		return nil
	}
	// The organisation is named so that its admins find the opens in
	// their audit.
	return auth.Audit(ctx, s.DB, auth.AuditEntry{UserID: &user.ID, ActorID: &user.ID, Kind: "medical.opened",
		Detail: fmt.Sprintf("thread %d", th.ID), Now: s.Now(), OrgID: &th.OrgID})
}
