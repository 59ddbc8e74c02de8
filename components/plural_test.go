package components

import (
	"strings"
	"testing"

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
