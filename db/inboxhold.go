package db

import (
	"context"
	"fmt"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect"
)

// TeamRows runs change, which adds, moves or removes in bulk, in tx, the
// participant rows through team teamID of user userID (a colleague joins
// or leaves a team box), and gives everyone whose inbox shows those rows
// a new inbox version once.
//
// On SQLite the rows' own inbox version triggers (migration 0037) would
// give everyone in a row's conversation a new version per row: every
// member of the team once per conversation. TeamRows holds them for
// userID's rows through teamID while change runs (migration 0054), and
// gives a new version, once before change and once after it, to userID
// and to everyone in a conversation in which userID takes part through
// the team: the conversations of the rows change removes or moves out of
// the team before it, those of the rows it adds or moves in after it.
// Only those rows are held; anything else change writes, also other rows
// of userID, keeps its triggers. change must not add a row of userID
// through the team and remove it again: neither version would see its
// conversation.
//
// On PostgreSQL the participants' triggers notify once per statement
// (migration 0040) and change simply runs.
func TeamRows(ctx context.Context, tx bun.Tx, userID, teamID int64, change func() error) error {
	if tx.Dialect().Name() == dialect.PG {
		return change()
	}
	if _, err := tx.NewRaw("INSERT INTO inbox_version_holds (user_id, team_id) VALUES (?, ?)", userID, teamID).Exec(ctx); err != nil {
		return fmt.Errorf("hold inbox versions of user %d in team %d: %w", userID, teamID, err)
	}
	if err := bumpTeamRows(ctx, tx, userID, teamID); err != nil {
		return err
	}
	if err := change(); err != nil {
		return err
	}
	if err := bumpTeamRows(ctx, tx, userID, teamID); err != nil {
		return err
	}
	if _, err := tx.NewRaw("DELETE FROM inbox_version_holds WHERE user_id = ? AND team_id = ?", userID, teamID).Exec(ctx); err != nil {
		return fmt.Errorf("release inbox versions of user %d in team %d: %w", userID, teamID, err)
	}
	return nil
}

// bumpTeamRows gives a new inbox version to userID and everyone in the
// conversations in which userID takes part through team teamID: each
// user once, however many of those conversations they are in.
func bumpTeamRows(ctx context.Context, tx bun.Tx, userID, teamID int64) error {
	if _, err := tx.NewRaw(`UPDATE users SET inbox_version = inbox_version + 1
WHERE id = ? OR id IN (SELECT o.user_id FROM participants AS o WHERE o.thread_id IN (SELECT p.thread_id FROM participants AS p WHERE p.user_id = ? AND p.via_team_id = ?))`,
		userID, userID, teamID).Exec(ctx); err != nil {
		return fmt.Errorf("inbox versions of user %d in team %d: %w", userID, teamID, err)
	}
	return nil
}

// HoldConversations runs change, which adds participant rows to, or
// changes, the conversations that threads (a query of their ids, with
// args) selects when it starts, in tx, and gives everyone in those
// conversations a new inbox version once after it: a new conversation
// while its participants are added, the conversations a leaver was
// assigned while they are unassigned.
//
// On SQLite each participant row added to a conversation, and each change
// of the conversation a row shows, has a trigger (migrations 0037, 0054)
// that gives everyone in it a new version: a conversation that gets the
// rows of a team's members in one statement wrote members × members / 2
// users rows. HoldConversations holds those triggers of the selected
// conversations while change runs (migration 0055), and afterwards gives
// everyone who takes part in one of them a new version once. A row that
// leaves or moves keeps its trigger, so that the person who left gets
// one too; anything change writes to other conversations keeps its
// triggers. Holds do not nest: change must not call HoldConversations.
//
// On PostgreSQL the triggers notify once per statement (migration 0040)
// and change simply runs.
func HoldConversations(ctx context.Context, tx bun.Tx, threads string, args []any, change func() error) error {
	if tx.Dialect().Name() == dialect.PG {
		return change()
	}
	if _, err := tx.NewRaw("INSERT INTO inbox_version_thread_holds (thread_id) "+threads, args...).Exec(ctx); err != nil {
		return fmt.Errorf("hold inbox versions of conversations: %w", err)
	}
	if err := change(); err != nil {
		return err
	}
	if _, err := tx.NewRaw(`UPDATE users SET inbox_version = inbox_version + 1
WHERE id IN (SELECT p.user_id FROM participants AS p WHERE p.thread_id IN (SELECT h.thread_id FROM inbox_version_thread_holds AS h))`).Exec(ctx); err != nil {
		return fmt.Errorf("inbox versions of held conversations: %w", err)
	}
	if _, err := tx.NewRaw("DELETE FROM inbox_version_thread_holds").Exec(ctx); err != nil {
		return fmt.Errorf("release inbox versions of conversations: %w", err)
	}
	return nil
}
