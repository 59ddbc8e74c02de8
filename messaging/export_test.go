package messaging

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"dialoog/db"
)

// InboxSQL is the SQL of one inbox page or search, with its arguments, for
// plan checks.
func (s *Service) InboxSQL(user *db.User, query string, page int) (string, []any) {
	if query == "" {
		return s.pageWith(inboxPageQuery), s.inboxArgs(user.ID, PageSize+1, (page-1)*PageSize)
	}
	return s.searchSQL(user, searchBox{}, query, page)
}

// TeamSearchSQL is the SQL of one page of a search in a team box, with its
// arguments, for plan checks.
func (s *Service) TeamSearchSQL(user *db.User, teamID int64, query string, page int) (string, []any) {
	return s.searchSQL(user, searchBox{team: teamID}, query, page)
}

// CaseSearchSQL is the SQL of one page of a search in a case's list, with
// its arguments, for plan checks.
func (s *Service) CaseSearchSQL(user *db.User, caseID int64, query string, page int) (string, []any) {
	return s.searchSQL(user, searchBox{kase: caseID}, query, page)
}

// searchSQL is the SQL of one page of a search in box, with its
// arguments, as searchRows runs it.
func (s *Service) searchSQL(user *db.User, box searchBox, query string, page int) (string, []any) {
	q, _, err := s.searchQuery(context.Background(), s.DB, user, box, query, PageSize+1, (page-1)*PageSize)
	if err != nil {
		panic(err)
	}
	if q == nil {
		panic(fmt.Sprintf("search %q matches nothing: no page statement to plan", query))
	}
	return s.pageWith(q.String()), s.pageArgs(user.ID)
}

// SearchBy makes every search of s go one way: "walk" walks the box in
// its order, "matches" reads the matching conversations first, "" lets
// the search decide.
func (s *Service) SearchBy(how string) {
	s.searchPlan = map[string]searchPlan{"": searchAuto, "walk": searchWalk, "matches": searchMatches}[how]
}

// MarkReadSQL is the SQL that finds what opening a conversation marks
// read, for plan checks.
func MarkReadSQL(userID, threadID int64) (string, []any) {
	return markReadQueries[0], []any{userID, threadID, userID, threadID}
}

// UnreadSQL is the SQL of the header's unread count, for plan checks.
func (s *Service) UnreadSQL(userID int64) (string, []any) { return unreadQuery, []any{userID} }

// TeamBoxSQL is the SQL of one page of a team box, for plan checks.
func (s *Service) TeamBoxSQL(user *db.User, teamID int64, page int) (string, []any) {
	return s.pageWith(teamPageQuery), s.teamArgs(user.ID, teamID, PageSize+1, (page-1)*PageSize)
}

// CaseBoxSQL is the SQL of one page of a case box, for plan checks.
func (s *Service) CaseBoxSQL(user *db.User, caseID int64, page int) (string, []any) {
	return s.pageWith(casePageQuery), s.caseArgs(user.ID, caseID, PageSize+1, (page-1)*PageSize)
}

// CaseListSQL is the SQL of one page of the case list, for plan checks.
func (s *Service) CaseListSQL(orgID int64, status, query, after string) string {
	return s.caseListQuery(orgID, status, query, after).String()
}

// InboxAfterSQL is the SQL of the inbox page, team box page (teamID set)
// or case box page (caseID set) after a cursor, for plan checks.
func (s *Service) InboxAfterSQL(user *db.User, teamID, caseID int64) (string, []any) {
	cur := cursor{at: time.Date(2026, 1, 1, 12, 0, 0, 123456789, time.UTC), id: 1000}
	switch {
	case teamID != 0:
		return s.pageWith(afterQuery(teamPageQuery, "p.last_activity_at", "p.thread_id")), s.teamArgs(user.ID, teamID, cur.args(PageSize+1)...)
	case caseID != 0:
		return s.pageWith(afterQuery(casePageQuery, "t.last_message_at", "t.id")), s.caseArgs(user.ID, caseID, cur.args(PageSize+1)...)
	}
	return s.pageWith(afterQuery(inboxPageQuery, "p.last_activity_at", "p.thread_id")), s.inboxArgs(user.ID, cur.args(PageSize+1)...)
}

// MyTeamsSQL is the SQL of the team tabs with their unread counts.
func (s *Service) MyTeamsSQL(userID int64) (string, []any) { return myTeamsQuery, []any{userID} }

// TeamMembersSQL is the SQL of a team's members as a member sees them.
func (s *Service) TeamMembersSQL(teamID, userID int64) string {
	var us []db.User
	return s.teamMembersSelect(&us, teamID, userID).String()
}

// OrgTeamMembersSQL is the SQL of the members of Beheer's teams.
func (s *Service) OrgTeamMembersSQL(teamIDs ...int64) (string, []any) {
	return teamMembersQuery(s.DB), []any{bun.In(teamIDs)}
}

// CasePageSQL is the SQL of the case page's conversations, people and
// files.
func (s *Service) CasePageSQL(userID, caseID int64) (threads string, targs []any, people string, files string, fargs []any) {
	var us []db.User
	return caseThreadsQuery, caseThreadsArgs(userID, caseID), s.casePeopleSelect(&us, userID, caseID).String(), caseFilesQuery, caseFilesArgs(userID, caseID)
}

// RetentionSQL is the SQL of the list of an organisation's conversations
// that retention deletes next, for plan checks.
func (s *Service) RetentionSQL(orgID int64, cutoff time.Time) string {
	return s.retainedSelect(orgID, cutoff).String()
}

// CaseRetentionSQL is the SQL of the list of an organisation's closed
// cases that retention deletes next, for plan checks.
func (s *Service) CaseRetentionSQL(orgID int64, cutoff time.Time) string {
	return s.retainedCaseSelect(orgID, cutoff).String()
}

// SetExportBatch sets what a batch of the box export may hold (messages,
// bytes of sealed bodies, participants) until restore is called.
func SetExportBatch(messages int, bytes int64, people int) (restore func()) {
	old := exportBatch
	exportBatch = exportBatchLimits{messages: messages, bytes: bytes, people: people, states: old.states}
	return func() { exportBatch = old }
}
