package auth

import (
	"context"
	"strings"
	"time"

	"dialoog/db"
)

// HOTP exposes the test's independent RFC 4226 implementation to the
// external test package.
var HOTP = hotp

// AuditSQL is the SQL of a page of Beheer's audit log, for plan checks.
func (s *Admin) AuditSQL(org int64, q AuditQuery) string {
	from, to, err := auditBounds(q)
	if err != nil {
		panic(err)
	}
	sel, _ := s.auditPageSelect(org, q, s.mustAuditPeople(q), from, to)
	return sel.String()
}

// mustAuditPeople is auditPeople for the SQL of a page or batch.
func (s *Admin) mustAuditPeople(q AuditQuery) []int64 {
	people, err := s.auditPeople(context.Background(), strings.TrimSpace(q.Person))
	if err != nil {
		panic(err)
	}
	return people
}

// UsersSQL is the statement of a page of Beheer's user list.
func (s *Admin) UsersSQL(org int64, query, after, before string) string {
	var rows []db.User
	return s.usersSelect(&rows, org, query, UsersAt{After: after, Before: before}).String()
}

// AuditBatchSQL is the SQL of a batch of the audit log's CSV export after
// the first, for plan checks.
func (s *Admin) AuditBatchSQL(org int64, q AuditQuery) string {
	from, to, err := auditBounds(q)
	if err != nil {
		panic(err)
	}
	after := &auditCursor{at: time.Date(2026, 3, 3, 12, 0, 0, 0, time.UTC), id: 3000}
	return s.auditSelect(org, q, s.mustAuditPeople(q), from, to, after, auditExportBatch).Limit(auditExportBatch).String()
}

// ActivitySQL is the SQL of a page of the user's security activity.
func (a *Accounts) ActivitySQL(userID int64, page int) string {
	var rows []db.AuditEvent
	return a.activitySelect(&rows, userID, page).String()
}

// LiveSessionsSQL is the SQL of the account page's list of sessions.
func (a *Accounts) LiveSessionsSQL(userID int64) string {
	var rows []db.Session
	return a.liveSessionsSelect(&rows, userID, time.Date(2026, 3, 3, 12, 0, 0, 0, time.UTC)).String()
}

// UsersBy makes every page of Beheer's user list of s be read one way:
// "walk" walks the users in address order, "gather" reads the
// organisation's people and sorts them, "" lets the list decide.
func (s *Admin) UsersBy(how string) {
	s.usersPlan = map[string]usersPlan{"": usersAuto, "walk": usersWalk, "gather": usersGather}[how]
}

// UsersGatherSQL is the statement of a page of Beheer's user list read
// from the organisation's people.
func (s *Admin) UsersGatherSQL(org int64, query, after, before string) string {
	var rows []db.User
	return s.usersGatherSelect(&rows, org, query, UsersAt{After: after, Before: before}).String()
}

// UsersCountSQL is the statement that decides how a page of Beheer's
// user list is read.
func (s *Admin) UsersCountSQL(org int64) string {
	return s.Accounts.DB.QueryGen().FormatQuery(usersCountQuery(s.Accounts.DB.Postgres()), org, org, org, usersGatherMax+1)
}
