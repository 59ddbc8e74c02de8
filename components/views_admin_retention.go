package components

import (
	"time"

	"dialoog/i18n"
)

// AdminRetentionView is "Bewaartermijn" in Beheer: the organisation's
// retention periods as the form holds them, and its daily run.
type AdminRetentionView struct {
	// Conversations and Cases are the periods in months as in the form:
	// stored ("" when off) or as typed.
	Conversations, Cases string
	// ConversationsError and CasesError are translated field messages.
	ConversationsError, CasesError string
	// Saved shows that the periods were stored.
	Saved bool
	// NextRun is when the daily run comes next; LastRun when it last ran
	// (zero: never), with what it deleted.
	NextRun           time.Time
	LastRun           time.Time
	LastFailed        bool
	LastCases         int
	LastConversations int
	LastMessages      int
	LastFiles         int
}

// moment writes a day and time in full: "24 juni 2026, 03:00".
func moment(l i18n.Localizer, t time.Time) string {
	return l.FullDate(t) + ", " + l.Clock(t)
}

// retentionRun is the sentence about the last run (key), with what it
// deleted counted in words that agree with each number.
func retentionRun(m Meta, key string, v AdminRetentionView) string {
	return m.T(key, "When", moment(m.L, v.LastRun),
		"Cases", counted(m, "retention.count_cases", v.LastCases),
		"Conversations", counted(m, "retention.count_conversations", v.LastConversations),
		"Messages", counted(m, "retention.count_messages", v.LastMessages),
		"Files", counted(m, "retention.count_files", v.LastFiles))
}

// counted is n with its noun: key+"_one" for one, else key with n
// written with the language's thousands separator.
func counted(m Meta, key string, n int) string {
	if n == 1 {
		return m.T(key + "_one")
	}
	return m.T(key, "N", thousands(m.L, n))
}
