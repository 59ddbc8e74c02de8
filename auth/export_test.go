package auth

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
