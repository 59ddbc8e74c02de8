package components

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"dialoog/i18n"
)

// TestAdminRetentionEnglish: the page in English, with a failed last run.
func TestAdminRetentionEnglish(t *testing.T) {
	m := Meta{L: i18n.For("en"), CSRF: "x", SignedIn: true}
	v := AdminRetentionView{Conversations: "12", CasesError: "Enter a whole number of months, from 1 to 120, or leave the field empty.",
		Cases: "x", NextRun: time.Date(2026, 2, 25, 2, 0, 0, 0, time.UTC), LastRun: time.Date(2026, 2, 24, 2, 0, 0, 0, time.UTC),
		LastFailed: true, LastCases: 2, LastConversations: 100, LastMessages: 250, LastFiles: 3}
	var buf bytes.Buffer
	if err := AdminRetentionPartial(m, v).Render(context.Background(), &buf); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"<h1>Retention</h1>", "Keep conversations without activity (months)", `value="12"`, `value="x"`,
		`aria-invalid="true"`, "Next run: 25 February 2026, 03:00.",
		"The previous run on 24 February 2026, 03:00 did not finish; Dialoog tries again in an hour. Deleted until then: 2 closed cases, 100 conversations, 250 messages and 3 attachments."} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("missing %q in:\n%s", want, buf.String())
		}
	}
}
