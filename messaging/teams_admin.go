package messaging

import (
	"context"
	"fmt"

	"github.com/uptrace/bun"

	"dialoog/apperr"
	"dialoog/auth"
	"dialoog/db"
)

// Teams in Beheer: the organisation's admins create and rename teams,
// choose their medical flag and whether outsiders see who wrote, and
// add and remove members. Every method takes the signed-in admin and
// answers apperr NotFound to anyone else and for a team of another
// organisation (auth.AdminOrg); the changes go through the same rules as
// the command line's and are audited with the admin, their address and
// the organisation.

// AdminTeam is a team as Beheer shows it.
type AdminTeam struct {
	ID         int64
	Name       string
	Medical    bool
	ShowPerson bool
	Members    []AdminTeamMember // by name, then address; OrgTeams leaves it empty
	// MemberCount is how many members the team has.
	MemberCount int
}

// AdminTeamMember is a member of a team in Beheer.
type AdminTeamMember struct {
	UserID int64
	Email  string
	Name   string
}

// TeamSettings is the form of a team in Beheer.
type TeamSettings struct {
	Name       string
	Medical    bool
	ShowPerson bool
}

// adminScope is the scope of cur's changes; NotFound for anyone but an
// admin of an organisation.
func adminScope(cur *auth.Current, ip string) (teamScope, error) {
	org, err := auth.AdminOrg(cur)
	if err != nil {
		return teamScope{}, err
	}
	id := cur.User.ID
	return teamScope{org: org, actor: &id, ip: ip}, nil
}

// OrgTeams lists the teams of the admin's organisation by name, with how
// many members each has (not who: every page of Beheer's user list shows
// the teams, and a team's page its members), in one statement: the teams
// by their (org_id, name) index, each count a range of team_members'
// primary key.
func (s *Service) OrgTeams(ctx context.Context, cur *auth.Current) ([]AdminTeam, error) {
	sc, err := adminScope(cur, "")
	if err != nil {
		return nil, err
	}
	var out []AdminTeam
	if err := s.DB.NewRaw(orgTeamsQuery, sc.org).Scan(ctx, &out); err != nil {
		return nil, fmt.Errorf("list teams: %w", err)
	}
	return out, nil
}

// orgTeamsQuery is OrgTeams' statement; its argument is the organisation.
const orgTeamsQuery = `SELECT t.id, t.name, t.medical, t.show_person,
  (SELECT COUNT(*) FROM team_members AS tm WHERE tm.team_id = t.id) AS member_count
FROM teams AS t WHERE t.org_id = ? ORDER BY t.name`

// OrgTeam returns one team of the admin's organisation with its members.
func (s *Service) OrgTeam(ctx context.Context, cur *auth.Current, teamID int64) (*AdminTeam, error) {
	sc, err := adminScope(cur, "")
	if err != nil {
		return nil, err
	}
	t, err := sc.team(ctx, s.DB, teamID)
	if err != nil {
		return nil, err
	}
	out, err := s.withMembers(ctx, s.DB, []db.Team{*t})
	if err != nil {
		return nil, err
	}
	return &out[0], nil
}

func (s *Service) withMembers(ctx context.Context, idb bun.IDB, ts []db.Team) ([]AdminTeam, error) {
	out := make([]AdminTeam, len(ts))
	if len(ts) == 0 {
		return out, nil
	}
	ids := make([]int64, len(ts))
	at := map[int64]int{}
	for i, t := range ts {
		ids[i], at[t.ID] = t.ID, i
		out[i] = AdminTeam{ID: t.ID, Name: t.Name, Medical: t.Medical, ShowPerson: t.ShowPerson}
	}
	var rows []struct {
		TeamID int64 `bun:"team_id"`
		db.User
	}
	if err := idb.NewRaw(teamMembersQuery(idb), bun.In(ids)).Scan(ctx, &rows); err != nil {
		return nil, fmt.Errorf("list team members: %w", err)
	}
	for i := range rows {
		t := &out[at[rows[i].TeamID]]
		t.Members = append(t.Members, AdminTeamMember{UserID: rows[i].User.ID, Email: rows[i].User.Email, Name: DisplayName(&rows[i].User)})
		t.MemberCount++
	}
	return out, nil
}

// teamMembersQuery lists the members of the teams (one argument, their
// ids) with their team: a range of team_members' primary key per team.
func teamMembersQuery(idb bun.IDB) string {
	return `SELECT tm.team_id, ` + db.ColumnsOf(idb, db.User{}, "u") + ` FROM team_members AS tm JOIN users AS u ON u.id = tm.user_id
WHERE tm.team_id IN (?) ORDER BY u.last_name, u.first_name, u.email`
}

// AdminCreateTeam creates a team in the admin's organisation and returns
// its id; apperr Invalid on "name" for a missing, too long or taken name.
func (s *Service) AdminCreateTeam(ctx context.Context, cur *auth.Current, in TeamSettings, ip string) (int64, error) {
	sc, err := adminScope(cur, ip)
	if err != nil {
		return 0, err
	}
	t, err := s.createTeam(ctx, sc, in.Name, in.Medical, in.ShowPerson)
	if err != nil {
		return 0, err
	}
	return t.ID, nil
}

// AdminSaveTeam renames a team of the admin's organisation and sets its
// flags in one transaction, each change audited; a refused name changes
// nothing.
func (s *Service) AdminSaveTeam(ctx context.Context, cur *auth.Current, teamID int64, in TeamSettings, ip string) error {
	sc, err := adminScope(cur, ip)
	if err != nil {
		return err
	}
	return onConflict(s.DB.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		t, err := sc.team(ctx, tx, teamID)
		if err != nil {
			return err
		}
		name, err := checkTeamName(in.Name)
		if err != nil {
			return err
		}
		return s.changeTeamTx(ctx, tx, sc, t, teamChange{name: &name, medical: &in.Medical, showPerson: &in.ShowPerson})
	}), apperr.Field("name", "team.exists"))
}

// AdminAddTeamMember makes the internal colleague with address email a
// member of a team of the admin's organisation (see AddTeamMember).
func (s *Service) AdminAddTeamMember(ctx context.Context, cur *auth.Current, teamID int64, email, ip string) error {
	sc, err := adminScope(cur, ip)
	if err != nil {
		return err
	}
	return s.addTeamMember(ctx, sc, teamID, email)
}

// AdminRemoveTeamMember ends user userID's membership of a team of the
// admin's organisation (see RemoveTeamMember); NotFound when they are no
// member of it.
func (s *Service) AdminRemoveTeamMember(ctx context.Context, cur *auth.Current, teamID, userID int64, ip string) error {
	sc, err := adminScope(cur, ip)
	if err != nil {
		return err
	}
	var email string
	err = s.DB.NewSelect().Model((*db.User)(nil)).Column("email").
		Where("id = ? AND id IN (SELECT tm.user_id FROM team_members AS tm JOIN teams AS t ON t.id = tm.team_id WHERE t.id = ? AND t.org_id = ?)", userID, teamID, sc.org).
		Scan(ctx, &email)
	if db.ErrNoRows(err) {
		return apperr.New(apperr.NotFound, "team.not_found")
	}
	if err != nil {
		return fmt.Errorf("load member: %w", err)
	}
	return s.removeTeamMember(ctx, sc, teamID, email)
}

// JoinTeamsTx makes userID, a new internal colleague an admin invites, a
// member of teams teamIDs of organisation orgID, in the invitation's
// transaction (auth.TeamJoiner). A team of another organisation is
// apperr Invalid on "teams".
func (s *Service) JoinTeamsTx(ctx context.Context, tx bun.Tx, orgID, actorID, userID int64, teamIDs []int64, ip string) error {
	sc := teamScope{org: orgID, actor: &actorID, ip: ip}
	var u db.User
	if err := tx.NewSelect().Model(&u).Where("id = ?", userID).Scan(ctx); err != nil {
		return fmt.Errorf("load colleague: %w", err)
	}
	if u.Kind != db.KindInternal || u.OrgID == nil || *u.OrgID != orgID {
		return apperr.Field("teams", "team.member_not_internal")
	}
	seen := map[int64]bool{}
	for _, id := range teamIDs {
		if seen[id] {
			continue
		}
		seen[id] = true
		t, err := sc.team(ctx, tx, id)
		if apperr.CodeOf(err) == apperr.NotFound {
			return apperr.Field("teams", "team.not_found")
		}
		if err != nil {
			return err
		}
		if err := s.joinTeamTx(ctx, tx, sc, t, &u); err != nil {
			return err
		}
	}
	return nil
}
