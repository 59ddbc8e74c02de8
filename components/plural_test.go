package components

import (
	"strings"
	"testing"
	"time"

	"dialoog/i18n"
)

// TestRecoveryCodesLeftPlural: the page after a login with a recovery
// code counts the codes left in words that agree with the number, in
// both languages.
func TestRecoveryCodesLeftPlural(t *testing.T) {
	for _, tc := range []struct {
		lang string
		left int
		want string
	}{
		{"en", 0, "you have no recovery codes left."},
		{"en", 1, "you have 1 recovery code left."},
		{"en", 2, "you have 2 recovery codes left."},
		{"nl", 0, "je hebt geen herstelcodes meer over."},
		{"nl", 1, "je hebt nog 1 herstelcode over."},
		{"nl", 2, "je hebt nog 2 van je herstelcodes over."},
	} {
		m := Meta{L: i18n.For(tc.lang), CSRF: "x", SignedIn: true}
		page := renderString(t, RecoveryUsedPartial(m, RecoveryUsedView{Left: tc.left, HasFactor: true}))
		if !strings.Contains(page, tc.want) {
			t.Errorf("%s, %d left: no %q in\n%s", tc.lang, tc.left, tc.want, page)
		}
	}
}

// TestRetentionCountsPlural: the last run of the retention page counts
// what it deleted in words that agree with each number, with the
// thousands separator of the language.
func TestRetentionCountsPlural(t *testing.T) {
	run := AdminRetentionView{LastRun: time.Date(2026, 2, 24, 2, 0, 0, 0, time.UTC), NextRun: time.Date(2026, 2, 25, 2, 0, 0, 0, time.UTC),
		LastCases: 1, LastConversations: 1, LastMessages: 12345, LastFiles: 0}
	for lang, want := range map[string]string{
		"en": "deleted 1 closed case, 1 conversation, 12,345 messages and 0 attachments.",
		"nl": "verwijderde 1 gesloten dossier, 1 gesprek, 12.345 berichten en 0 bijlagen.",
	} {
		m := Meta{L: i18n.For(lang), CSRF: "x", SignedIn: true}
		page := renderString(t, AdminRetentionPartial(m, run))
		if !strings.Contains(page, want) {
			t.Errorf("%s: no %q in\n%s", lang, want, page)
		}
	}
}
