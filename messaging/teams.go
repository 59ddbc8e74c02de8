package messaging

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/uptrace/bun"

	"dialoog/apperr"
	"dialoog/auth"
	"dialoog/db"
	"dialoog/identity"
)

// Teams (functional boxes). A team's conversation has every member as a
// participant, on a row that says it is through the team (via_team_id): the
// one access predicate (a participant row) covers page, search, export,
// download and live push, and read state, counters and live updates stay
// per person. Joining a team adds the rows of its conversations with their
// history (read, so that joining does not flood the newcomer's unread
// count); leaving removes them in the same transaction, so access ends at
// once, also for a socket that is already open (it gets no further pushes
// because the person no longer takes part).

// MaxTeamName bounds a team's name, in characters.
const MaxTeamName = 100

// TeamInfo is a team as its members and the command line see it.
type TeamInfo struct {
	ID         int64
	Name       string
	Medical    bool
	ShowPerson bool
	Unread     int // the viewer's unread messages in the team's conversations
}

// TeamMemberView is a member of a team, for "assign to a colleague".
type TeamMemberView struct {
	UserID int64
	Name   string
}

// CreateTeam creates a team in an organisation. showPerson chooses whether
// outsiders see who wrote on behalf of the team.
func (s *Service) CreateTeam(ctx context.Context, orgID int64, name string, medical, showPerson bool) (*db.Team, error) {
	return s.createTeam(ctx, teamScope{org: orgID}, name, medical, showPerson)
}

// teamScope is who changes a team: the command line (no actor) or an
// admin of the team's organisation, whose audit rows name them and their
// address. org is the organisation the team must belong to; a team of
// another is not found.
type teamScope struct {
	org   int64
	actor *int64
	ip    string
}

// audit completes e with the scope's actor, address and organisation.
func (sc teamScope) audit(e auth.AuditEntry, now time.Time) auth.AuditEntry {
	org := sc.org
	e.OrgID, e.ActorID, e.IP, e.Now = &org, sc.actor, sc.ip, now
	return e
}

// team loads a team of the scope's organisation in idb; NotFound for
// any other.
func (sc teamScope) team(ctx context.Context, idb bun.IDB, teamID int64) (*db.Team, error) {
	var t db.Team
	err := idb.NewSelect().Model(&t).Where("id = ? AND org_id = ?", teamID, sc.org).Scan(ctx)
	if db.ErrNoRows(err) {
		return nil, apperr.New(apperr.NotFound, "team.not_found")
	}
	if err != nil {
		return nil, fmt.Errorf("load team: %w", err)
	}
	return &t, nil
}

// cliScope is the scope of a command-line change of team teamID: the
// team's own organisation.
func (s *Service) cliScope(ctx context.Context, teamID int64) (teamScope, error) {
	var org int64
	err := s.DB.NewSelect().Model((*db.Team)(nil)).Column("org_id").Where("id = ?", teamID).Scan(ctx, &org)
	if db.ErrNoRows(err) {
		return teamScope{}, apperr.New(apperr.NotFound, "team.not_found")
	}
	if err != nil {
		return teamScope{}, fmt.Errorf("load team: %w", err)
	}
	return teamScope{org: org}, nil
}

// checkTeamName cleans a team's name; apperr Invalid on "name" when it
// is empty or too long.
func checkTeamName(name string) (string, error) {
	name = CleanLine(name)
	switch {
	case name == "":
		return "", apperr.Field("name", "team.name_required")
	case utf8.RuneCountInString(name) > MaxTeamName:
		return "", apperr.Field("name", "team.name_too_long")
	}
	return name, nil
}

// nameTaken reports whether another team of the organisation has name.
func nameTaken(ctx context.Context, tx bun.Tx, orgID, exceptID int64, name string) error {
	exists, err := tx.NewSelect().Model((*db.Team)(nil)).Where("org_id = ? AND name = ? AND id <> ?", orgID, name, exceptID).Exists(ctx)
	if err != nil {
		return fmt.Errorf("check team: %w", err)
	}
	if exists {
		return apperr.Field("name", "team.exists")
	}
	return nil
}

func (s *Service) createTeam(ctx context.Context, sc teamScope, name string, medical, showPerson bool) (*db.Team, error) {
	name, err := checkTeamName(name)
	if err != nil {
		return nil, err
	}
	t := &db.Team{OrgID: sc.org, Name: name, Medical: medical, ShowPerson: showPerson, CreatedAt: s.Now().UTC()}
	err = s.DB.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		if err := nameTaken(ctx, tx, sc.org, 0, name); err != nil {
			return err
		}
		if _, err := tx.NewInsert().Model(t).Exec(ctx); err != nil {
			return fmt.Errorf("store team: %w", err)
		}
		detail := fmt.Sprintf("team %d %q, medical %v, show person %v", t.ID, t.Name, medical, showPerson)
		return auth.Audit(ctx, tx, sc.audit(auth.AuditEntry{Kind: "team.created", Detail: detail}, t.CreatedAt))
	})
	if err = onConflict(err, apperr.Field("name", "team.exists")); err != nil {
		return nil, fmt.Errorf("create team: %w", err)
	}
	return t, nil
}

// TeamByName finds a team of an organisation.
func (s *Service) TeamByName(ctx context.Context, orgID int64, name string) (*db.Team, error) {
	var t db.Team
	err := s.DB.NewSelect().Model(&t).Where("org_id = ? AND name = ?", orgID, CleanLine(name)).Scan(ctx)
	if db.ErrNoRows(err) {
		return nil, apperr.New(apperr.NotFound, "team.not_found")
	}
	if err != nil {
		return nil, fmt.Errorf("load team: %w", err)
	}
	return &t, nil
}

// SetTeamMedical flags a team as medical (or not).
func (s *Service) SetTeamMedical(ctx context.Context, teamID int64, medical bool) error {
	sc, err := s.cliScope(ctx, teamID)
	if err != nil {
		return err
	}
	return s.setTeamFlag(ctx, sc, teamID, "medical", medical)
}

// SetTeamShowPerson chooses whether outsiders see who wrote on behalf of
// the team (or only the team's name).
func (s *Service) SetTeamShowPerson(ctx context.Context, teamID int64, show bool) error {
	sc, err := s.cliScope(ctx, teamID)
	if err != nil {
		return err
	}
	return s.setTeamFlag(ctx, sc, teamID, "show_person", show)
}

// RenameTeam gives a team another name, unique in its organisation.
func (s *Service) RenameTeam(ctx context.Context, teamID int64, name string) error {
	sc, err := s.cliScope(ctx, teamID)
	if err != nil {
		return err
	}
	return s.renameTeam(ctx, sc, teamID, name)
}

// setTeamFlag sets column (medical or show_person) of a team.
func (s *Service) setTeamFlag(ctx context.Context, sc teamScope, teamID int64, column string, on bool) error {
	return s.DB.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		t, err := sc.team(ctx, tx, teamID)
		if err != nil {
			return err
		}
		return s.setTeamFlagTx(ctx, tx, sc, t, column, on)
	})
}

// setTeamFlagTx sets column of team t in tx; a change is audited,
// setting the value it has is not.
func (s *Service) setTeamFlagTx(ctx context.Context, tx bun.Tx, sc teamScope, t *db.Team, column string, on bool) error {
	change := teamChange{}
	switch column {
	case "medical":
		change.medical = &on
	case "show_person":
		change.showPerson = &on
	default:
		return fmt.Errorf("team flag %q: unknown", column)
	}
	return s.changeTeamTx(ctx, tx, sc, t, change)
}

// teamChange is what a save sets of a team: the fields that are not nil,
// the name checked (checkTeamName).
type teamChange struct {
	name                *string
	medical, showPerson *bool
}

// changeTeamTx writes the fields of c that differ from team t's in tx, in
// one UPDATE (the row's triggers bump the inbox versions of everyone who
// sees the team's conversations, so they run once per save), and audits
// each change; a name another team of the organisation has is apperr
// Invalid on "name".
func (s *Service) changeTeamTx(ctx context.Context, tx bun.Tx, sc teamScope, t *db.Team, c teamChange) error {
	q := tx.NewUpdate().Model((*db.Team)(nil)).Where("id = ?", t.ID)
	var audits []auth.AuditEntry
	if c.name != nil && *c.name != t.Name {
		if err := nameTaken(ctx, tx, t.OrgID, t.ID, *c.name); err != nil {
			return err
		}
		q = q.Set("name = ?", *c.name)
		audits = append(audits, auth.AuditEntry{Kind: "team.renamed", Detail: fmt.Sprintf("team %d, %q to %q", t.ID, t.Name, *c.name)})
	}
	medical := c.medical != nil && *c.medical != t.Medical
	if medical {
		q = q.Set("medical = ?", *c.medical)
		audits = append(audits, auth.AuditEntry{Kind: "team.medical", Detail: fmt.Sprintf("team %d, medical %v", t.ID, *c.medical)})
	}
	if c.showPerson != nil && *c.showPerson != t.ShowPerson {
		q = q.Set("show_person = ?", *c.showPerson)
		audits = append(audits, auth.AuditEntry{Kind: "team.show_person", Detail: fmt.Sprintf("team %d, show person %v", t.ID, *c.showPerson)})
	}
	if len(audits) == 0 {
		return nil
	}
	if _, err := q.Exec(ctx); err != nil {
		return fmt.Errorf("save team: %w", err)
	}
	if medical {
		// The members gain or lose the organisation's medical
		// conversations: their totals count what they may read now.
		if err := recountReadableTotals(ctx, tx, "SELECT tm.user_id FROM team_members AS tm WHERE tm.team_id = ?", t.ID); err != nil {
			return err
		}
	}
	for _, a := range audits {
		if err := auth.Audit(ctx, tx, sc.audit(a, s.Now())); err != nil {
			return err
		}
	}
	return nil
}

func (s *Service) renameTeam(ctx context.Context, sc teamScope, teamID int64, name string) error {
	name, err := checkTeamName(name)
	if err != nil {
		return err
	}
	return onConflict(s.DB.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		t, err := sc.team(ctx, tx, teamID)
		if err != nil {
			return err
		}
		return s.renameTeamTx(ctx, tx, sc, t, name)
	}), apperr.Field("name", "team.exists"))
}

// onConflict returns as, the field error of a check, for a unique
// violation: another transaction stored the same thing at the same moment
// (a form sent twice, two colleagues at once) after the check had passed
// in both. Any other error is returned as it is.
func onConflict(err error, as error) error {
	if db.IsUniqueViolation(err) {
		return as
	}
	return err
}

// renameTeamTx renames team t to the checked name in tx.
func (s *Service) renameTeamTx(ctx context.Context, tx bun.Tx, sc teamScope, t *db.Team, name string) error {
	return s.changeTeamTx(ctx, tx, sc, t, teamChange{name: &name})
}

// AddTeamMember makes an internal user of the team's organisation a member:
// they become a participant of every conversation of the team, with its
// history (read), in one statement per table.
func (s *Service) AddTeamMember(ctx context.Context, teamID int64, email string) error {
	sc, err := s.cliScope(ctx, teamID)
	if err != nil {
		return err
	}
	return s.addTeamMember(ctx, sc, teamID, email)
}

func (s *Service) addTeamMember(ctx context.Context, sc teamScope, teamID int64, email string) error {
	return onConflict(s.DB.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		t, u, err := s.teamAndUser(ctx, tx, sc, teamID, email)
		if err != nil {
			return err
		}
		return s.joinTeamTx(ctx, tx, sc, t, u)
	}), apperr.Field("email", "team.already_member"))
}

// joinTeamTx makes u, an internal user of t's organisation, a member of
// t in tx: a participant of every conversation of the team, with its
// history (read), in one statement per table.
func (s *Service) joinTeamTx(ctx context.Context, tx bun.Tx, sc teamScope, t *db.Team, u *db.User) error {
	now := s.Now().UTC()
	if err := s.holdTeamThreads(ctx, tx, t.ID, "SHARE"); err != nil {
		return err
	}
	exists, err := tx.NewSelect().Model((*db.TeamMember)(nil)).Where("team_id = ? AND user_id = ?", t.ID, u.ID).Exists(ctx)
	if err != nil {
		return fmt.Errorf("check member: %w", err)
	}
	if exists {
		return apperr.Field("email", "team.already_member")
	}
	if _, err := tx.NewInsert().Model(&db.TeamMember{TeamID: t.ID, UserID: u.ID, AddedAt: now}).Exec(ctx); err != nil {
		return fmt.Errorf("store member: %w", err)
	}
	// The rows through the team give everyone in their conversations a
	// new inbox version once, not once per row (db.TeamRows).
	if err := db.TeamRows(ctx, tx, u.ID, t.ID, func() error { return joinTeamRows(ctx, tx, t, u, now) }); err != nil {
		return err
	}
	// The history, read for them but not by them (history).
	if _, err := tx.NewRaw(`INSERT INTO message_states (message_id, user_id, read_at, history)
SELECT m.id, ?, ?, TRUE FROM messages AS m JOIN threads AS t ON t.id = m.thread_id
WHERE t.team_id = ? AND NOT EXISTS (SELECT 1 FROM message_states AS ms WHERE ms.message_id = m.id AND ms.user_id = ?)`,
		u.ID, now, t.ID, u.ID).Exec(ctx); err != nil {
		return fmt.Errorf("store read states of team history: %w", err)
	}
	if t.Medical {
		// Medical conversations the user took part in before count again.
		if err := recountReadableTotals(ctx, tx, "?", u.ID); err != nil {
			return err
		}
	}
	return auth.Audit(ctx, tx, sc.audit(auth.AuditEntry{UserID: &u.ID, Kind: "team.member_added", Detail: fmt.Sprintf("team %d", t.ID)}, now))
}

// joinTeamRows gives u a row through team t in each of its
// conversations, in tx.
func joinTeamRows(ctx context.Context, tx bun.Tx, t *db.Team, u *db.User, now time.Time) error {
	// A conversation of the team the user already took part in
	// personally becomes theirs through the team, and its box counts the
	// history they did not have (added with only the messages from now
	// on), which joinTeamTx adds after the rows.
	if _, err := tx.NewRaw(`UPDATE participants SET via_team_id = ?, box_count = box_count + (SELECT COUNT(*) FROM messages AS m
  WHERE m.thread_id = participants.thread_id AND NOT EXISTS (SELECT 1 FROM message_states AS ms WHERE ms.message_id = m.id AND ms.user_id = participants.user_id))
WHERE user_id = ? AND via_team_id IS NULL AND thread_id IN (SELECT t.id FROM threads AS t WHERE t.team_id = ?)`, t.ID, u.ID, t.ID).Exec(ctx); err != nil {
		return fmt.Errorf("join team conversations: %w", err)
	}
	// The others: a participant row with the counters filled (every
	// message in the box, none unread), the history following as read
	// states.
	if _, err := tx.NewRaw(`INSERT INTO participants (thread_id, user_id, added_at, via_team_id, unread_count, box_count, last_activity_at)
SELECT t.id, ?, ?, ?, 0, (SELECT COUNT(*) FROM messages AS m WHERE m.thread_id = t.id), t.last_message_at
FROM threads AS t WHERE t.team_id = ? AND NOT EXISTS (SELECT 1 FROM participants AS p WHERE p.thread_id = t.id AND p.user_id = ?)`,
		u.ID, now, t.ID, t.ID, u.ID).Exec(ctx); err != nil {
		return fmt.Errorf("join team conversations: %w", err)
	}
	return nil
}

// RemoveTeamMember ends a membership: the member's rows of the team's
// conversations go with it, in the same transaction, so that no page,
// search, download or live push reaches them any more. Whom the team's
// conversations are assigned to is cleared where it was them.
func (s *Service) RemoveTeamMember(ctx context.Context, teamID int64, email string) error {
	sc, err := s.cliScope(ctx, teamID)
	if err != nil {
		return err
	}
	return s.removeTeamMember(ctx, sc, teamID, email)
}

func (s *Service) removeTeamMember(ctx context.Context, sc teamScope, teamID int64, email string) error {
	var later []Event
	err := s.DB.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		later = nil
		t, u, err := s.teamAndUser(ctx, tx, sc, teamID, email)
		if err != nil {
			return err
		}
		if s.TeamLeaving != nil {
			// The requests of the team's conversations that wait for the
			// member, which TeamLeaving lapses after the conversations'
			// locks: their rows come first, as signing takes them
			// (the request, then its conversation), and as a signer who
			// stops with Dialoog at the same moment locks them (before
			// their conversations). A request made between this and
			// holdTeamThreads is locked after them; it waits for the
			// member, so it cannot be sealed, and only such a stop, in
			// that moment, could wait for it the other way round.
			if err := s.holdRequests(ctx, tx, `thread_id IN (SELECT p.thread_id FROM participants AS p WHERE p.user_id = ? AND p.via_team_id = ?)
  AND id IN (SELECT sg.request_id FROM signing_signers AS sg WHERE sg.user_id = ? AND sg.decided_at IS NULL)`, u.ID, t.ID, u.ID); err != nil {
				return err
			}
		}
		// Clearing the member's assignments below updates rows of the
		// team's conversations: a leave locks them all for that at once,
		// so that two members leaving take turns instead of each holding
		// a share lock on a row the other updates.
		if err := s.holdTeamThreads(ctx, tx, t.ID, "NO KEY UPDATE"); err != nil {
			return err
		}
		var member db.TeamMember
		err = tx.NewSelect().Model(&member).Where("team_id = ? AND user_id = ?", t.ID, u.ID).Scan(ctx)
		if db.ErrNoRows(err) {
			return apperr.Field("email", "team.not_member")
		}
		if err != nil {
			return fmt.Errorf("load member: %w", err)
		}
		res, err := tx.NewDelete().Model((*db.TeamMember)(nil)).Where("team_id = ? AND user_id = ?", t.ID, u.ID).Exec(ctx)
		if err != nil {
			return fmt.Errorf("remove member: %w", err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return apperr.Field("email", "team.not_member")
		}
		// The rows through the team give everyone in their conversations a
		// new inbox version once, not once per row (db.TeamRows).
		if err := db.TeamRows(ctx, tx, u.ID, t.ID, func() error {
			if err := keepPersonalRows(ctx, tx, u.ID, t.ID, member.AddedAt); err != nil {
				return err
			}
			if s.TeamLeaving != nil {
				if later, err = s.TeamLeaving(ctx, tx, u.ID, t.ID); err != nil {
					return err
				}
			}
			if _, err := tx.NewRaw(`DELETE FROM message_states WHERE user_id = ? AND message_id IN (
  SELECT m.id FROM messages AS m JOIN participants AS p ON p.thread_id = m.thread_id WHERE p.user_id = ? AND p.via_team_id = ?)`,
				u.ID, u.ID, t.ID).Exec(ctx); err != nil {
				return fmt.Errorf("remove read states: %w", err)
			}
			if _, err := tx.NewDelete().Model((*db.Participant)(nil)).Where("user_id = ? AND via_team_id = ?", u.ID, t.ID).Exec(ctx); err != nil {
				return fmt.Errorf("leave team conversations: %w", err)
			}
			return nil
		}); err != nil {
			return err
		}
		// The conversations assigned to them, in one statement, which
		// gives everyone in them a new inbox version once, not once per
		// conversation (db.HoldConversations).
		if err := db.HoldConversations(ctx, tx, "SELECT t.id FROM threads AS t WHERE t.team_id = ? AND t.assigned_to = ?", []any{t.ID, u.ID}, func() error {
			if _, err := tx.NewUpdate().Model((*db.Thread)(nil)).Set("assigned_to = NULL").Where("team_id = ? AND assigned_to = ?", t.ID, u.ID).Exec(ctx); err != nil {
				return fmt.Errorf("unassign: %w", err)
			}
			return nil
		}); err != nil {
			return err
		}
		// Without the team's rows, and perhaps without medical access.
		if err := recountReadableTotals(ctx, tx, "?", u.ID); err != nil {
			return err
		}
		return auth.Audit(ctx, tx, sc.audit(auth.AuditEntry{UserID: &u.ID, Kind: "team.member_removed", Detail: fmt.Sprintf("team %d", t.ID)}, s.Now()))
	})
	if err != nil {
		return err
	}
	s.queued() // a mail a lapsed request queued
	s.publish(ctx, later)
	return nil
}

// keepPersonalRows gives back, when userID leaves team teamID (joined at
// joined), the team's conversations they took part in in person before
// they joined (joinTeamTx moved those rows under the team, keeping their
// added_at): the rows become personal again instead of going with the
// membership, and the history the join brought that they never opened
// (history read states) goes, as it would have with the other rows.
func keepPersonalRows(ctx context.Context, tx bun.Tx, userID, teamID int64, joined time.Time) error {
	const rows = `SELECT p.thread_id FROM participants AS p WHERE p.user_id = ? AND p.via_team_id = ? AND p.added_at < ?`
	if _, err := tx.NewRaw(`UPDATE participants SET box_count = box_count - (SELECT COUNT(*) FROM message_states AS ms
  JOIN messages AS m ON m.id = ms.message_id
  WHERE m.thread_id = participants.thread_id AND ms.user_id = participants.user_id AND ms.history AND ms.removed_at IS NULL)
WHERE user_id = ? AND via_team_id = ? AND added_at < ?`, userID, teamID, joined).Exec(ctx); err != nil {
		return fmt.Errorf("keep personal conversations: %w", err)
	}
	if _, err := tx.NewRaw(`DELETE FROM message_states WHERE user_id = ? AND history AND message_id IN (
  SELECT m.id FROM messages AS m WHERE m.thread_id IN (`+rows+`))`, userID, userID, teamID, joined).Exec(ctx); err != nil {
		return fmt.Errorf("keep personal conversations: history: %w", err)
	}
	if _, err := tx.NewRaw(`UPDATE participants SET via_team_id = NULL WHERE user_id = ? AND via_team_id = ? AND added_at < ?`,
		userID, teamID, joined).Exec(ctx); err != nil {
		return fmt.Errorf("keep personal conversations: %w", err)
	}
	return nil
}

// holdTeamThreads takes a row lock (lock: "SHARE" to add a member, "NO
// KEY UPDATE" to remove one) on the rows of the team's conversations, in
// the order of their ids, on PostgreSQL, in a transaction that adds or
// removes a member: a reply being sent in one of them (which holds its row, see
// threadToWrite) ends first and is seen by the statements that follow,
// and a reply after this lock waits for the commit and then counts the
// member as they are. Without it, a colleague who joined while a reply
// was sent never had that reply in their box, and one who left kept its
// read state. (SQLite's writers take turns.)
func (s *Service) holdTeamThreads(ctx context.Context, tx bun.Tx, teamID int64, lock string) error {
	if !s.DB.Postgres() {
		return nil
	}
	var ids []int64
	if err := tx.NewSelect().Model((*db.Thread)(nil)).Column("id").Where("team_id = ?", teamID).Order("id").For(lock).Scan(ctx, &ids); err != nil {
		return fmt.Errorf("hold team conversations: %w", err)
	}
	return nil
}

// teamAndUser loads a team of the scope and an internal user of its
// organisation.
func (s *Service) teamAndUser(ctx context.Context, tx bun.Tx, sc teamScope, teamID int64, email string) (*db.Team, *db.User, error) {
	t, err := sc.team(ctx, tx, teamID)
	if err != nil {
		return nil, nil, err
	}
	e, err := auth.NormalizeEmail(email)
	if auth.HiddenEmail(err) {
		return nil, nil, apperr.Field("email", "email.hidden_chars")
	}
	if err != nil {
		return nil, nil, apperr.Field("email", "email.invalid")
	}
	var u db.User
	err = tx.NewSelect().Model(&u).Where("email = ?", e).Scan(ctx)
	if db.ErrNoRows(err) {
		return nil, nil, apperr.Field("email", "team.member_unknown")
	}
	if err != nil {
		return nil, nil, fmt.Errorf("load user: %w", err)
	}
	if u.Kind != db.KindInternal || u.OrgID == nil || *u.OrgID != t.OrgID {
		return nil, nil, apperr.Field("email", "team.member_not_internal")
	}
	return t, &u, nil
}

// myTeamsQuery is prepared: every inbox page of an internal user runs it.
var myTeamsQuery = `SELECT t.id, t.name, t.medical, t.show_person,
  (SELECT COALESCE(SUM(p.unread_count), 0) FROM participants AS p JOIN threads AS th ON th.id = p.thread_id
    WHERE p.user_id = tm.user_id AND p.via_team_id = t.id AND p.unread_count > 0 AND ` + medicalRule("th", "tm.user_id") + `) AS unread
FROM team_members AS tm JOIN teams AS t ON t.id = tm.team_id WHERE tm.user_id = ? ORDER BY t.name`

// MyTeams lists the user's teams with their unread count in each, in one
// statement (the sum reads only the user's unread rows of the team, through
// participants_team_unread_idx).
func (s *Service) MyTeams(ctx context.Context, who *identity.User) ([]TeamInfo, error) {
	user := db.UserOf(who)
	if user.Kind != db.KindInternal {
		return nil, nil
	}
	e, err := s.cachedPage(ctx, inboxKey{user: user.ID, what: 'T'}, func() (inboxEntry, error) {
		var out []TeamInfo
		if err := s.scanPrepared(ctx, &out, myTeamsQuery, user.ID); err != nil {
			return inboxEntry{}, fmt.Errorf("my teams: %w", err)
		}
		return inboxEntry{teams: out}, nil
	})
	if err != nil {
		return nil, err
	}
	return slices.Clone(e.teams), nil
}

// TeamMembers lists the members of a team the user belongs to, by name.
func (s *Service) TeamMembers(ctx context.Context, who *identity.User, teamID int64) ([]TeamMemberView, error) {
	user := db.UserOf(who)
	var us []db.User
	if err := s.teamMembersSelect(&us, teamID, user.ID).Scan(ctx); err != nil {
		return nil, fmt.Errorf("team members: %w", err)
	}
	out := make([]TeamMemberView, 0, len(us))
	for i := range us {
		out = append(out, TeamMemberView{UserID: us[i].ID, Name: DisplayName(&us[i])})
	}
	sortMembers(out)
	return out, nil
}

// teamMembersSelect selects the members of a team for one of them.
func (s *Service) teamMembersSelect(dest *[]db.User, teamID, userID int64) *bun.SelectQuery {
	return s.DB.NewSelect().Model(dest).
		Where("id IN (SELECT tm.user_id FROM team_members AS tm WHERE tm.team_id = ?)", teamID).
		Where("EXISTS (SELECT 1 FROM team_members AS me WHERE me.team_id = ? AND me.user_id = ?)", teamID, userID)
}

func sortMembers(ms []TeamMemberView) {
	for i := 1; i < len(ms); i++ {
		for j := i; j > 0 && strings.ToLower(ms[j].Name) < strings.ToLower(ms[j-1].Name); j-- {
			ms[j], ms[j-1] = ms[j-1], ms[j]
		}
	}
}

// Assign says which member handles a team's conversation: any member may
// assign it to themself or a colleague of the team (assigneeID 0 clears
// it). The members' open inboxes hear of it.
func (s *Service) Assign(ctx context.Context, who *identity.User, threadID, assigneeID int64) error {
	user := db.UserOf(who)
	var later []Event
	err := s.DB.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		th, err := s.threadFor(ctx, tx, user.ID, threadID)
		if err != nil {
			return err
		}
		if th.TeamID == nil {
			return apperr.New(apperr.Forbidden, "error.forbidden")
		}
		member, err := tx.NewSelect().Model((*db.TeamMember)(nil)).Where("team_id = ? AND user_id = ?", *th.TeamID, user.ID).Exists(ctx)
		if err != nil {
			return fmt.Errorf("check member: %w", err)
		}
		if !member {
			return apperr.New(apperr.Forbidden, "error.forbidden")
		}
		var to *int64
		if assigneeID != 0 {
			ok, err := tx.NewSelect().Model((*db.TeamMember)(nil)).Where("team_id = ? AND user_id = ?", *th.TeamID, assigneeID).Exists(ctx)
			if err != nil {
				return fmt.Errorf("check assignee: %w", err)
			}
			if !ok {
				return apperr.Field("assignee", "team.assignee_not_member")
			}
			to = &assigneeID
		}
		if _, err := tx.NewUpdate().Model((*db.Thread)(nil)).Set("assigned_to = ?", to).Where("id = ?", th.ID).Exec(ctx); err != nil {
			return fmt.Errorf("assign: %w", err)
		}
		var ids []int64
		if err := tx.NewSelect().Model((*db.Participant)(nil)).Column("user_id").Where("thread_id = ? AND via_team_id IS NOT NULL", th.ID).Scan(ctx, &ids); err != nil {
			return fmt.Errorf("load members: %w", err)
		}
		detail := fmt.Sprintf("thread %d, assigned to %d", th.ID, assigneeID)
		if err := auth.Audit(ctx, tx, auth.AuditEntry{UserID: to, ActorID: &user.ID, Kind: "thread.assigned", Detail: detail, Now: s.Now()}); err != nil {
			return err
		}
		later, err = s.stage(ctx, tx, []Event{{Kind: EventAssigned, ThreadID: th.ID, UserIDs: ids, ActorID: user.ID}})
		return err
	})
	if err != nil {
		return fmt.Errorf("assign: %w", err)
	}
	s.publish(ctx, later)
	return nil
}

// isTeamMember reports whether the user is a member of the team.
func isTeamMember(ctx context.Context, idb bun.IDB, teamID, userID int64) (bool, error) {
	ok, err := idb.NewSelect().Model((*db.TeamMember)(nil)).Where("team_id = ? AND user_id = ?", teamID, userID).Exists(ctx)
	if err != nil {
		return false, fmt.Errorf("check team member: %w", err)
	}
	return ok, nil
}

// teamView is what a message's reader needs of its team.
type teamView struct {
	Name       string
	ShowPerson bool
}

// loadTeam loads the team of a conversation (nil: none).
func (s *Service) loadTeam(ctx context.Context, teamID *int64) (map[int64]teamView, error) {
	if teamID == nil {
		return nil, nil
	}
	var t db.Team
	if err := s.DB.NewSelect().Model(&t).Where("id = ?", *teamID).Scan(ctx); err != nil {
		if db.ErrNoRows(err) {
			return nil, nil
		}
		return nil, fmt.Errorf("load team: %w", err)
	}
	return map[int64]teamView{t.ID: {Name: t.Name, ShowPerson: t.ShowPerson}}, nil
}
