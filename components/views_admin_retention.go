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
	return l.FullDate(t) + ", " + i18n.Clock(t)
}
