package handlers

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/uptrace/bun"

	"dialoog/auth"
)

// activityKindsAboutAPerson are the audit kinds written with a person's id
// (their own action, or one on their account or about them), so listed on
// their "Beveiligingsactiviteit" beside those of the first visit and the
// logins.
var activityKindsAboutAPerson = []string{
	"admin.audit_exported", "admin.branding_changed", "admin.helpdesk_reset_started", "admin.invitation_resent",
	"admin.logo_changed", "admin.logo_removed", "admin.sso_changed", "admin.sso_removed", "admin.user_disabled",
	"admin.user_enabled", "admin.user_invited", "case.created", "case.closed", "case.reopened", "case.thread_added",
	"case.thread_removed", "helpdesk.reset_completed", "medical.opened", "retention.changed", "setup.first_admin",
	"signing.requested", "signing.viewed", "signing.code_sent", "signing.agreed", "signing.declined",
	"team.member_added", "team.member_removed", "thread.assigned", "thread.participant_removed", "demo.account",
}

// TestActivityNamesEveryKind: every event a person's security activity
// lists says in words what happened, in their language, instead of showing
// the event's stored name.
func TestActivityNamesEveryKind(t *testing.T) {
	ra := newRealApp(t)
	ctx := context.Background()
	for lang, fallback := range map[string]string{"nl": "Gebeurtenis ", "en": "Event "} {
		p := ra.person(t, lang+"@osaw.nl", true, "Anna", "", "Smit", lang)
		err := ra.d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
			for _, kind := range activityKindsAboutAPerson {
				if err := auth.Audit(ctx, tx, auth.AuditEntry{UserID: &p.u.ID, ActorID: &p.u.ID, Kind: kind, Now: ra.clk.Now()}); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		for _, page := range []string{"", "?pagina=2"} {
			resp, body := p.b.get(pathAccountActivity + page)
			wantStatus(t, resp, http.StatusOK)
			for _, kind := range activityKindsAboutAPerson {
				if strings.Contains(body, fallback+kind) {
					t.Errorf("%s: %q is shown by its stored name", lang, kind)
				}
			}
		}
	}
}
