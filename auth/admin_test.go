package auth_test

import (
	"context"
	"sync"
	"testing"

	"github.com/uptrace/bun"

	"dialoog/apperr"
	"dialoog/auth"
	"dialoog/db"
	"dialoog/db/dbtest"
	"dialoog/notify"
)

// TestAdminsDisablingEachOther: two admins who disable each other at the
// same moment (each request past its session check before the other
// commits) do not leave the organisation without an admin: the second
// finds in its own transaction that it was disabled, and changes nothing.
// Run once in turn, with the second admin's request resolved before the
// first one's change, and once at the same time, on both engines.
func TestAdminsDisablingEachOther(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newAccFixture(t, d)
		a := &auth.Admin{Accounts: f.acc, Invitations: f.inv, HelpdeskMail: helpdeskMail{}}
		active := func(ids ...int64) int {
			t.Helper()
			n, err := d.NewSelect().Model((*db.User)(nil)).Where("id IN (?) AND status = ?", bun.In(ids), db.StatusActive).Count(ctx)
			if err != nil {
				t.Fatal(err)
			}
			return int(n)
		}

		// In turn: Piet's request was resolved before Anna disabled him.
		anna, piet := adminOf(t, d, f.org.ID, "anna@osaw.nl"), adminOf(t, d, f.org.ID, "piet@osaw.nl")
		if err := a.Disable(ctx, anna, piet.User.ID, "127.0.0.1"); err != nil {
			t.Fatal(err)
		}
		if err := a.Disable(ctx, piet, anna.User.ID, "127.0.0.1"); apperr.CodeOf(err) != apperr.NotFound {
			t.Errorf("a disabled admin's request disables a colleague: %v, want NotFound", err)
		}
		if n := active(anna.User.ID); n != 1 {
			t.Errorf("Anna, who disabled Piet, is no longer active")
		}
		if err := a.Enable(ctx, piet, piet.User.ID, "127.0.0.1"); apperr.CodeOf(err) != apperr.NotFound {
			t.Errorf("a disabled admin's request enables themself: %v, want NotFound", err)
		}
		if n := active(piet.User.ID); n != 0 {
			t.Errorf("Piet enabled himself after he was disabled")
		}
		if _, _, err := a.StartHelpdeskReset(ctx, piet, anna.User.ID, "127.0.0.1"); apperr.CodeOf(err) != apperr.NotFound {
			t.Errorf("a disabled admin's request starts a helpdesk reset: %v, want NotFound", err)
		}

		// At the same time, a few rounds: never both disabled.
		for i := 0; i < 5; i++ {
			x, y := adminOf(t, d, f.org.ID, "x"+string(rune('a'+i))+"@osaw.nl"), adminOf(t, d, f.org.ID, "y"+string(rune('a'+i))+"@osaw.nl")
			var wg sync.WaitGroup
			for _, p := range [][2]*auth.Current{{x, y}, {y, x}} {
				wg.Add(1)
				go func() {
					defer wg.Done()
					_ = a.Disable(ctx, p[0], p[1].User.ID, "127.0.0.1")
				}()
			}
			wg.Wait()
			if n := active(x.User.ID, y.User.ID); n != 1 {
				t.Errorf("round %d: %d of two admins who disabled each other are active, want 1", i, n)
			}
		}
	})
}

type helpdeskMail struct{}

func (helpdeskMail) HelpdeskResetMail(lang, link string) (notify.Mail, error) {
	return notify.Mail{Subject: "Herstel", Text: link}, nil
}

// TestAdminPagesFarOut: a place far beyond the last (typed in the
// address, ?na= or ?voor=) is an empty page of the users and of the audit
// log, and what is not a place in the audit log is its newest page, never
// a server error, on both engines.
func TestAdminPagesFarOut(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newAccFixture(t, d)
		a := &auth.Admin{Accounts: f.acc, Invitations: f.inv}
		cur := adminOf(t, d, f.org.ID, "anna@osaw.nl")
		if err := auth.Audit(ctx, d, auth.AuditEntry{UserID: &cur.User.ID, ActorID: &cur.User.ID, OrgID: &f.org.ID, Kind: "admin.test", Now: f.clk.Now()}); err != nil {
			t.Fatal(err)
		}
		for _, after := range []string{"zzz@zzz.nl", "\U0010ffff"} {
			p, err := a.Users(ctx, cur, "", auth.UsersAt{After: after})
			if err != nil || len(p.Users) != 0 || p.More {
				t.Errorf("users after %q: %+v, %v; want an empty page", after, p, err)
			}
		}
		for _, q := range []auth.AuditQuery{{After: "0.0"}, {After: "-9223372036854775808.0"}, {Before: "9223372036854775807.9223372036854775807"}} {
			l, err := a.AuditLog(ctx, cur, q)
			if err != nil || len(l.Rows) != 0 {
				t.Errorf("audit log, %+v: %+v, %v; want an empty page", q, l, err)
			}
		}
		// What is not a cursor is the newest page.
		for _, c := range []string{"x", "1.", ".1", "99999999999999999999.1", "1.2.3"} {
			l, err := a.AuditLog(ctx, cur, auth.AuditQuery{After: c, Before: c})
			if err != nil || len(l.Rows) != 1 || l.Prev || l.More {
				t.Errorf("audit log after %q: %+v, %v; want the newest page", c, l, err)
			}
		}
	})
}

// TestAdminSharedInvitee: an outsider invited by this organisation and by
// another one, whose link of the other is still open, is not disabled by
// this organisation's admin (that would revoke the other's link too) and
// is marked as shared in Beheer's list; once the other's link no longer
// works, the admin may, on both engines.
func TestAdminSharedInvitee(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newAccFixture(t, d)
		a := &auth.Admin{Accounts: f.acc, Invitations: f.inv, HelpdeskMail: helpdeskMail{}}
		other := &db.Organisation{Name: "Ander", CreatedAt: f.clk.Now()}
		if _, err := d.NewInsert().Model(other).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		cur := adminOf(t, d, f.org.ID, "anna@osaw.nl")
		for _, org := range []int64{f.org.ID, other.ID} {
			if _, _, err := f.inv.Invite(ctx, auth.InviteInput{Email: "nieuw@example.nl", OrgID: org}); err != nil {
				t.Fatal(err)
			}
		}
		var u db.User
		if err := d.NewSelect().Model(&u).Where("email = ?", "nieuw@example.nl").Scan(ctx); err != nil {
			t.Fatal(err)
		}
		shared := func() bool {
			t.Helper()
			p, err := a.Users(ctx, cur, "nieuw", auth.UsersAt{})
			if err != nil || len(p.Users) != 1 {
				t.Fatalf("list: %+v %v", p, err)
			}
			return p.Users[0].Shared
		}
		if !shared() {
			t.Error("an invitee of two organisations is not marked shared")
		}
		err := a.Disable(ctx, cur, u.ID, "127.0.0.1")
		if e, ok := apperr.As(err); !ok || e.Code != apperr.Conflict || e.Key != "admin.disable.shared" {
			t.Fatalf("disable a shared invitee: %v, want admin.disable.shared", err)
		}
		if _, err := d.NewUpdate().Model((*db.Invitation)(nil)).Set("revoked_at = ?", f.clk.Now()).
			Where("user_id = ? AND org_id = ?", u.ID, other.ID).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		if shared() {
			t.Error("an invitee whose other link no longer works is marked shared")
		}
		if err := a.Disable(ctx, cur, u.ID, "127.0.0.1"); err != nil {
			t.Fatal(err)
		}
	})
}
