package dbtest

import (
	"regexp"
	"strings"
	"testing"

	"dialoog/db"
)

// tableScan is a plan line that reads a whole table: SQLite's "SCAN x"
// (also through an index, in its order; not "SCAN CONSTANT ROW"),
// PostgreSQL's sequential scan (Plan turns them off, so one shows only
// where no index serves).
var tableScan = regexp.MustCompile(`^SCAN |^Seq Scan on `)

// notATable is a SQLite scan of no table: the one row of a SELECT without
// FROM, the rows of a multi-row INSERT's VALUES.
var notATable = regexp.MustCompile(`^SCAN (CONSTANT ROW|\d+-ROW VALUES CLAUSE)$`)

// TableScans explains each of sqls (from Statements.Run) that reads or writes rows (SELECT,
// INSERT, UPDATE, DELETE, WITH) and reports each plan line that reads a
// whole table, with its statement. It returns how many it explained.
// On SQLite the answer is meant for a database without statistics, where
// the planner plans as for large tables and takes any index that serves;
// with statistics it rightly reads a test's small tables whole.
func TableScans(t testing.TB, d *db.DB, sqls []string) int {
	t.Helper()
	return TableScansExcept(t, d, sqls)
}

// TableScansExcept is TableScans but for whole reads of the tables named
// in small (by name, or on SQLite by the alias a statement gives them):
// configuration tables of a few rows each, which cost what they hold,
// not what the installation holds.
func TableScansExcept(t testing.TB, d *db.DB, sqls []string, small ...string) int {
	t.Helper()
	explained := 0
	for _, sql := range sqls {
		fields := strings.Fields(sql)
		if len(fields) == 0 {
			continue
		}
		switch strings.ToUpper(fields[0]) {
		case "SELECT", "INSERT", "UPDATE", "DELETE", "WITH":
		default:
			continue
		}
		explained++
		for _, line := range Plan(t, d, sql) {
			if tableScan.MatchString(line) && !notATable.MatchString(line) && !scansOneOf(line, small) {
				t.Errorf("reads a whole table: %q in\n%s", line, sql)
			}
		}
	}
	return explained
}

// scansOneOf reports whether the whole-table read line reads one of
// tables.
func scansOneOf(line string, tables []string) bool {
	name := strings.TrimPrefix(strings.TrimPrefix(line, "SCAN "), "Seq Scan on ")
	name, _, _ = strings.Cut(name, " ")
	for _, t := range tables {
		if name == t {
			return true
		}
	}
	return false
}
