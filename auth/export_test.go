package auth

import "dialoog/db"

// HOTP exposes the test's independent RFC 4226 implementation to the
// external test package.
var HOTP = hotp

// AuditSQL is the SQL of a page of Beheer's audit log, for plan checks.
func (s *Admin) AuditSQL(org int64, q AuditQuery) string {
	from, to, err := auditBounds(q)
	if err != nil {
		panic(err)
	}
	return s.auditSelect(org, q, from, to).OrderExpr("ae.id DESC").Limit(AuditPageSize + 1).String()
}

// UsersSQL is the statement of a page of Beheer's user list.
func (s *Admin) UsersSQL(org int64, query string) string {
	var rows []db.User
	return s.usersSelect(&rows, org, query).OrderExpr("u.email ASC").Limit(UsersPageSize + 1).String()
}
