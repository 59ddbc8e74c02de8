package components

import (
	"strings"
	"testing"
	"time"
)

// TestSecurityMailInTheRepeatedHour: a security mail about a moment in the
// hour that happens twice in October names summer or winter time once, as
// a sentence can say it; every other time reads "om 11:00 uur".
func TestSecurityMailInTheRepeatedHour(t *testing.T) {
	summer := time.Date(2026, 10, 25, 0, 30, 0, 0, time.UTC) // 02:30 summer time
	ordinary := time.Date(2026, 10, 25, 10, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		lang string
		at   time.Time
		want string
	}{
		{"nl", summer, "Op 25 oktober 2026 om 02:30 zomertijd (Nederlandse tijd) is"},
		{"en", summer, "On 25 October 2026 at 02:30 CEST (Dutch time) the"},
		{"nl", ordinary, "Op 25 oktober 2026 om 11:00 uur (Nederlandse tijd) is"},
		{"en", ordinary, "On 25 October 2026 at 11:00 (Dutch time) the"},
	} {
		text := SecurityMailText(SecurityMail{Lang: tc.lang, Event: "password_reset", At: tc.at})
		if !strings.Contains(text, tc.want) {
			t.Errorf("%s, %s: the mail does not say %q:\n%s", tc.lang, tc.at, tc.want, text)
		}
	}
}
