package db

import "strings"

// The people and subject search indexes (migration 0003): on PostgreSQL
// trigram GIN indexes on expressions, on SQLite FTS5 tables with the
// trigram tokenizer kept by triggers. A query uses an index only when it
// repeats the index's expression exactly, so the expressions and the
// patterns are built here, for every package that searches.

// MinSearchIndexed is the shortest query the search indexes answer: a
// trigram needs three characters.
const MinSearchIndexed = 3

// PersonNameExpr is the name of the user row aliased alias ("" for none)
// as the people search index holds it (users_name_trgm's expression
// inside its lower(), and users_fts's name column): the name in both
// orders and the initials.
func PersonNameExpr(alias string) string {
	if alias != "" {
		alias += "."
	}
	return strings.Join([]string{alias + "first_name", alias + "name_prefix", alias + "last_name", alias + "first_name", alias + "last_name", alias + "initials"}, " || ' ' || ")
}

// ContainsPattern is the LIKE pattern (with ESCAPE '\') of the texts that
// contain query in lower case, its wildcards escaped.
func ContainsPattern(query string) string {
	return "%" + strings.NewReplacer(`\`, `\\`, "%", `\%`, "_", `\_`).Replace(strings.ToLower(query)) + "%"
}

// FTSPhrase is query as one FTS5 phrase (SQLite's MATCH). The trigram
// tables fold case themselves, the text and the phrase alike; lowering
// the phrase in Go first made a capital that Go lowers into two
// characters (the Turkish "İ") unfindable.
func FTSPhrase(query string) string {
	return `"` + strings.ReplaceAll(query, `"`, `""`) + `"`
}
