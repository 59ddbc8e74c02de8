package auth_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"io"
	"log/slog"
	"net/url"

	"dialoog/apperr"
	"dialoog/auth"
	"dialoog/db"
	"dialoog/db/dbtest"
	"dialoog/notify"
	"dialoog/vault"

	"github.com/uptrace/bun"
)

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

type plainMail struct{}

func (plainMail) InvitationMail(lang, org, link, base string) (notify.Mail, error) {
	return notify.Mail{Subject: "Uitnodiging " + org, Text: org + " nodigt je uit: " + link, HTML: "<a href=\"" + link + "\">AANMELDEN</a>"}, nil
}

type fixture struct {
	d     *db.DB
	v     *vault.Vault
	clk   *clock
	inv   *auth.Invitations
	org   *db.Organisation
	kicks int
	req   *auth.MailRequests
	// setupLink is the first start's link to choose the first admin.
	setupLink string
}

func newFixture(t testing.TB, d *db.DB) *fixture {
	t.Helper()
	v, err := vault.New(make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{d: d, v: v, clk: &clock{t: time.Date(2026, 2, 23, 9, 0, 0, 0, time.UTC)}}
	base, _ := urlParse("http://dialoog.test")
	f.inv = &auth.Invitations{
		DB: d, Outbox: notify.NewOutbox(v).WithClock(f.clk.Now), Mail: plainMail{}, BaseURL: base, Now: f.clk.Now,
		Sessions: &auth.Sessions{DB: d, Now: f.clk.Now}, Limiter: &auth.Limiter{DB: d, Now: f.clk.Now},
		Queued: func() { f.kicks++ },
	}
	// Mail requests are worked off at once, as if the background worker
	// were instant.
	f.req = auth.NewMailRequests()
	f.req.DB, f.req.Invitations, f.req.Log = d, f.inv, discardLog()
	f.inv.Requested = func() {
		if _, err := f.req.RunOnce(context.Background()); err != nil {
			t.Errorf("mail requests: %v", err)
		}
	}
	// The link is empty when the database already had the organisation.
	org, link, err := auth.Bootstrap(context.Background(), f.inv, "OSAW")
	if err != nil {
		t.Fatalf("bootstrap: %v", err)
	}
	f.org, f.setupLink = org, link
	return f
}

func token(link string) string { return link[strings.LastIndexByte(link, '/')+1:] }

func (f *fixture) outboxCount(t *testing.T, to string) int {
	t.Helper()
	n, err := f.d.NewSelect().Model((*db.OutboxItem)(nil)).Where("recipient = ?", to).Count(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return int(n)
}

func wantCode(t *testing.T, err error, code apperr.Code) {
	t.Helper()
	if apperr.CodeOf(err) != code {
		t.Fatalf("want %s error, got %v", code, err)
	}
}

func TestInvitationLinks(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newFixture(t, d)

		link, user, err := f.inv.Invite(ctx, auth.InviteInput{Email: " Jan@Example.NL ", OrgID: f.org.ID})
		if err != nil {
			t.Fatal(err)
		}
		if user.Email != "jan@example.nl" || user.Kind != db.KindExternal || user.Status != db.StatusInvited {
			t.Fatalf("user: %+v", user)
		}
		var stored db.Invitation
		if err := d.NewSelect().Model(&stored).Where("user_id = ?", user.ID).Scan(ctx); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(stored.TokenHash), token(link)) || len(stored.TokenHash) != 32 {
			t.Fatal("token must be stored hashed")
		}
		m, err := notify.LatestDevMailTo(ctx, d, f.v, "jan@example.nl")
		if err != nil || !strings.Contains(m.Text, link) || !strings.Contains(m.Text, "OSAW") {
			t.Fatalf("invitation mail: %+v %v", m, err)
		}

		t.Run("GetDoesNotConsume", func(t *testing.T) {
			for range 3 {
				info, err := f.inv.Check(ctx, token(link))
				if err != nil || info.Email != "jan@example.nl" || info.OrgName != "OSAW" {
					t.Fatalf("check: %+v %v", info, err)
				}
			}
		})
		t.Run("ReplacedByNewer", func(t *testing.T) {
			newer, _, err := f.inv.Invite(ctx, auth.InviteInput{Email: "jan@example.nl", OrgID: f.org.ID})
			if err != nil {
				t.Fatal(err)
			}
			_, err = f.inv.Check(ctx, token(link))
			wantCode(t, err, apperr.NotFound)
			_, _, err = f.inv.Accept(ctx, token(link), "127.0.0.1", "test")
			wantCode(t, err, apperr.NotFound)
			link = newer
		})
		t.Run("PostConsumes", func(t *testing.T) {
			sess, stage, err := f.inv.Accept(ctx, token(link), "127.0.0.1", "test")
			if err != nil || stage != auth.StageTerms {
				t.Fatalf("accept: %v %v", stage, err)
			}
			s, err := f.inv.Sessions.Lookup(ctx, sess)
			if err != nil || s.UserID != user.ID {
				t.Fatalf("session: %+v %v", s, err)
			}
			_, err = f.inv.Check(ctx, token(link))
			wantCode(t, err, apperr.NotFound)
			_, _, err = f.inv.Accept(ctx, token(link), "127.0.0.1", "test")
			wantCode(t, err, apperr.NotFound)
		})
		t.Run("Expired", func(t *testing.T) {
			l, _, err := f.inv.Invite(ctx, auth.InviteInput{Email: "piet@example.nl", OrgID: f.org.ID})
			if err != nil {
				t.Fatal(err)
			}
			f.clk.Add(auth.InvitationTTL - time.Second)
			if _, err := f.inv.Check(ctx, token(l)); err != nil {
				t.Fatalf("still valid just before expiry: %v", err)
			}
			f.clk.Add(time.Second)
			_, err = f.inv.Check(ctx, token(l))
			wantCode(t, err, apperr.NotFound)
			_, _, err = f.inv.Accept(ctx, token(l), "127.0.0.1", "test")
			wantCode(t, err, apperr.NotFound)
		})
		t.Run("UnknownAndMalformed", func(t *testing.T) {
			for _, tok := range []string{"", "x", strings.Repeat("A", 43), "../../etc/passwd"} {
				_, err := f.inv.Check(ctx, tok)
				wantCode(t, err, apperr.NotFound)
			}
		})
		t.Run("InvalidAddressStoresNothing", func(t *testing.T) {
			before, _ := d.NewSelect().Model((*db.User)(nil)).Count(ctx)
			for _, e := range []string{"", "geen-adres", "a@b@c.nl", "Jan <jan@x.nl>"} {
				_, _, err := f.inv.Invite(ctx, auth.InviteInput{Email: e, OrgID: f.org.ID})
				wantCode(t, err, apperr.Invalid)
			}
			after, _ := d.NewSelect().Model((*db.User)(nil)).Count(ctx)
			if before != after {
				t.Fatalf("users stored for invalid input: %d -> %d", before, after)
			}
		})
		t.Run("ActiveUserIsNotReinvited", func(t *testing.T) {
			if _, err := d.NewUpdate().Model((*db.User)(nil)).Set("status = ?", db.StatusActive).Where("id = ?", user.ID).Exec(ctx); err != nil {
				t.Fatal(err)
			}
			_, _, err := f.inv.Invite(ctx, auth.InviteInput{Email: "jan@example.nl", OrgID: f.org.ID})
			wantCode(t, err, apperr.Conflict)
		})
	})
}

func TestConcurrentAcceptConsumesOnce(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newFixture(t, d)
		link, _, err := f.inv.Invite(ctx, auth.InviteInput{Email: "race@example.nl", OrgID: f.org.ID})
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		var mu sync.Mutex
		ok := 0
		for range 5 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, _, err := f.inv.Accept(ctx, token(link), "127.0.0.1", "t"); err == nil {
					mu.Lock()
					ok++
					mu.Unlock()
				} else if apperr.CodeOf(err) != apperr.NotFound {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		if ok != 1 {
			t.Fatalf("link consumed %d times", ok)
		}
	})
}

func TestRequestNewLink(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newFixture(t, d)
		old, _, err := f.inv.Invite(ctx, auth.InviteInput{Email: "kees@example.nl", OrgID: f.org.ID})
		if err != nil {
			t.Fatal(err)
		}
		f.clk.Add(8 * 24 * time.Hour) // the link expired

		t.Run("KnownInvitedAddressGetsANewLink", func(t *testing.T) {
			before := f.outboxCount(t, "kees@example.nl")
			if err := f.inv.RequestNewLink(ctx, "KEES@example.nl", "10.0.0.1"); err != nil {
				t.Fatal(err)
			}
			if got := f.outboxCount(t, "kees@example.nl"); got != before+1 {
				t.Fatalf("outbox rows %d -> %d", before, got)
			}
			m, _ := notify.LatestDevMailTo(ctx, d, f.v, "kees@example.nl")
			fresh := m.Text[strings.Index(m.Text, "http"):]
			if fresh == old {
				t.Fatal("same link re-sent")
			}
			if _, err := f.inv.Check(ctx, token(fresh)); err != nil {
				t.Fatalf("new link invalid: %v", err)
			}
		})
		t.Run("UnknownAddressSameAnswerNothingSent", func(t *testing.T) {
			err := f.inv.RequestNewLink(ctx, "onbekend@example.nl", "10.0.0.2")
			if err != nil {
				t.Fatalf("want the same (nil) answer, got %v", err)
			}
			if n := f.outboxCount(t, "onbekend@example.nl"); n != 0 {
				t.Fatalf("mail sent to unknown address: %d", n)
			}
			n, _ := d.NewSelect().Model((*db.User)(nil)).Where("email = ?", "onbekend@example.nl").Count(ctx)
			if n != 0 {
				t.Fatal("user created for unknown address")
			}
		})
		t.Run("Malformed", func(t *testing.T) {
			wantCode(t, f.inv.RequestNewLink(ctx, "kees", "10.0.0.3"), apperr.Invalid)
		})
		t.Run("PerAddressLimitIsSilent", func(t *testing.T) {
			for range 5 {
				if err := f.inv.RequestNewLink(ctx, "kees@example.nl", "10.0.0.4"); err != nil {
					t.Fatal(err)
				}
			}
			// 1 original + 3 allowed per hour in all (one used above).
			if n := f.outboxCount(t, "kees@example.nl"); n != 4 {
				t.Fatalf("mails to one address within the hour: %d, want 4", n)
			}
		})
		t.Run("PerIPLimit", func(t *testing.T) {
			var err error
			for i := 0; i < 11 && err == nil; i++ {
				err = f.inv.RequestNewLink(ctx, "x@example.nl", "10.0.0.9")
			}
			wantCode(t, err, apperr.TooMany)
			f.clk.Add(time.Hour)
			if err := f.inv.RequestNewLink(ctx, "x@example.nl", "10.0.0.9"); err != nil {
				t.Fatalf("limit should reset after the window: %v", err)
			}
		})
	})
}

func TestSessionTimeouts(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newFixture(t, d)
		link, _, _ := f.inv.Invite(ctx, auth.InviteInput{Email: "s@example.nl", OrgID: f.org.ID})
		tok, _, err := f.inv.Accept(ctx, token(link), "127.0.0.1", "t")
		if err != nil {
			t.Fatal(err)
		}
		f.clk.Add(auth.SessionIdle - time.Minute)
		if _, err := f.inv.Sessions.Lookup(ctx, tok); err != nil {
			t.Fatalf("within idle time: %v", err)
		}
		f.clk.Add(auth.SessionIdle - time.Second) // refreshed by the lookup above
		if _, err := f.inv.Sessions.Lookup(ctx, tok); err != nil {
			t.Fatalf("idle timer not refreshed: %v", err)
		}
		f.clk.Add(auth.SessionIdle)
		_, err = f.inv.Sessions.Lookup(ctx, tok)
		wantCode(t, err, apperr.Unauthorized)

		link2, _, _ := f.inv.Invite(ctx, auth.InviteInput{Email: "s2@example.nl", OrgID: f.org.ID})
		tok2, _, _ := f.inv.Accept(ctx, token(link2), "127.0.0.1", "t")
		for range 25 { // active every 29 minutes, still ends after 12 h
			f.clk.Add(29 * time.Minute)
			if _, err := f.inv.Sessions.Lookup(ctx, tok2); err != nil {
				break
			}
		}
		_, err = f.inv.Sessions.Lookup(ctx, tok2)
		wantCode(t, err, apperr.Unauthorized)

		link3, _, _ := f.inv.Invite(ctx, auth.InviteInput{Email: "s3@example.nl", OrgID: f.org.ID})
		tok3, _, _ := f.inv.Accept(ctx, token(link3), "127.0.0.1", "t")
		if err := f.inv.Sessions.End(ctx, tok3); err != nil {
			t.Fatal(err)
		}
		_, err = f.inv.Sessions.Lookup(ctx, tok3)
		wantCode(t, err, apperr.Unauthorized)
	})
}

func urlParse(s string) (*url.URL, error) { return url.Parse(s) }

// TestFirstAdminChosenByLink: the first start creates the organisation and
// a one-time link, no made-up admin; whoever holds the link chooses the
// first admin's address, which is then invited like anyone (the mail is
// queued) and the sign-up link handed back. A wrong address leaves the link
// working; a used or expired one does not.
func TestFirstAdminChosenByLink(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newFixture(t, d) // bootstraps "OSAW" and checks the link
		org, link, err := auth.Bootstrap(ctx, f.inv, "OSAW")
		if err != nil || link != "" || org.ID != f.org.ID {
			t.Fatalf("second bootstrap: %+v %q %v", org, link, err)
		}
		if n, err := d.NewSelect().Model((*db.User)(nil)).Count(ctx); err != nil || n != 0 {
			t.Fatalf("%d users after the first start (%v), want none", n, err)
		}
		if !strings.HasPrefix(f.setupLink, "http://dialoog.test/eerste-beheerder/") {
			t.Fatalf("setup link %q", f.setupLink)
		}
		tok := token(f.setupLink)
		if name, err := f.inv.CheckSetup(ctx, tok); err != nil || name != "OSAW" {
			t.Fatalf("check: %q %v", name, err)
		}
		wantCode(t, func() error { _, err := f.inv.CheckSetup(ctx, "nonsense"); return err }(), apperr.NotFound)
		f.clk.Add(auth.SetupTTL + time.Minute)
		wantCode(t, func() error { _, err := f.inv.CheckSetup(ctx, tok); return err }(), apperr.NotFound)
		f.clk.Add(-auth.SetupTTL - time.Minute)

		_, err = f.inv.ChooseFirstAdmin(ctx, tok, "geen adres", "en", "127.0.0.1")
		if fs := apperr.FieldsOf(err); len(fs) != 1 || fs[0].Field != "email" || fs[0].Key != "email.invalid" {
			t.Fatalf("a wrong address: %v", err)
		}
		signup, err := f.inv.ChooseFirstAdmin(ctx, tok, " Ik@Example.nl ", "en", "127.0.0.1")
		if err != nil || !strings.HasPrefix(signup, "http://dialoog.test/aanmelden/") {
			t.Fatalf("choose: %q %v", signup, err)
		}
		var admin db.User
		if err := d.NewSelect().Model(&admin).Where("email = ?", "ik@example.nl").Scan(ctx); err != nil {
			t.Fatal(err)
		}
		if !admin.IsAdmin || admin.Kind != db.KindInternal || admin.OrgID == nil || *admin.OrgID != org.ID ||
			admin.Status != db.StatusInvited || admin.Language != "en" {
			t.Fatalf("first admin: %+v", admin)
		}
		m, err := notify.LatestDevMailTo(ctx, d, f.v, "ik@example.nl")
		if err != nil || !strings.Contains(m.Text, signup) {
			t.Fatalf("invitation mail: %+v %v", m, err)
		}
		if info, err := f.inv.Check(ctx, token(signup)); err != nil || info.Email != "ik@example.nl" {
			t.Fatalf("sign-up link: %+v %v", info, err)
		}
		n, err := d.NewSelect().Model((*db.AuditEvent)(nil)).Where("user_id = ? AND kind = ?", admin.ID, "setup.first_admin").Count(ctx)
		if err != nil || n != 1 {
			t.Fatalf("%d audit rows (%v)", n, err)
		}
		// Used: it works no more.
		wantCode(t, func() error { _, err := f.inv.CheckSetup(ctx, tok); return err }(), apperr.NotFound)
		_, err = f.inv.ChooseFirstAdmin(ctx, tok, "ander@example.nl", "nl", "127.0.0.1")
		wantCode(t, err, apperr.NotFound)
	})
}

func discardLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// A pending invitation belongs to its organisation: another organisation
// inviting the same address gets its own link and leaves the first one
// working, while a newer link of the same organisation replaces the older.
func TestInvitationsOfOtherOrganisationsStay(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newFixture(t, d)
		other := &db.Organisation{Name: "Bedrijf Y", CreatedAt: f.clk.Now()}
		if _, err := d.NewInsert().Model(other).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		fromX, _, err := f.inv.Invite(ctx, auth.InviteInput{Email: "jan@example.nl", OrgID: f.org.ID})
		if err != nil {
			t.Fatal(err)
		}
		fromY, _, err := f.inv.Invite(ctx, auth.InviteInput{Email: "jan@example.nl", OrgID: other.ID})
		if err != nil {
			t.Fatal(err)
		}
		info, err := f.inv.Check(ctx, token(fromX))
		if err != nil || info.OrgName != "OSAW" {
			t.Fatalf("organisation Y's invitation revoked X's link: %+v %v", info, err)
		}
		if info, err := f.inv.Check(ctx, token(fromY)); err != nil || info.OrgName != "Bedrijf Y" {
			t.Fatalf("Y's link: %+v %v", info, err)
		}
		if _, _, err := f.inv.Invite(ctx, auth.InviteInput{Email: "jan@example.nl", OrgID: other.ID}); err != nil {
			t.Fatal(err)
		}
		_, err = f.inv.Check(ctx, token(fromY))
		wantCode(t, err, apperr.NotFound)
		if _, err := f.inv.Check(ctx, token(fromX)); err != nil {
			t.Fatalf("X's link after Y's second invitation: %v", err)
		}
	})
}

// Accepting one organisation's link ends the other organisations' links:
// none of them may later open the account without a password.
func TestAcceptEndsOtherOrganisationsLinks(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newFixture(t, d)
		other := &db.Organisation{Name: "Bedrijf Y", CreatedAt: f.clk.Now()}
		if _, err := d.NewInsert().Model(other).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		fromX, _, _ := f.inv.Invite(ctx, auth.InviteInput{Email: "jan@example.nl", OrgID: f.org.ID})
		fromY, _, _ := f.inv.Invite(ctx, auth.InviteInput{Email: "jan@example.nl", OrgID: other.ID})
		if _, _, err := f.inv.Accept(ctx, token(fromX), "127.0.0.1", "test"); err != nil {
			t.Fatal(err)
		}
		_, _, err := f.inv.Accept(ctx, token(fromY), "127.0.0.1", "test")
		wantCode(t, err, apperr.NotFound)
	})
}

// Inviting an address that is already invited as a colleague, when it was
// invited as an outsider or as a colleague of another organisation, is
// refused with a reason and sends nothing: the command would otherwise say
// "queued" and leave the person an outsider, whom the colleague's sign-up
// then gives no access of a colleague. A colleague still invited may be
// made an admin this way.
func TestInviteColleagueOfAnExistingInvitee(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newFixture(t, d)
		other := &db.Organisation{Name: "Bedrijf Y", CreatedAt: f.clk.Now()}
		if _, err := d.NewInsert().Model(other).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		if _, _, err := f.inv.Invite(ctx, auth.InviteInput{Email: "jan@example.nl", OrgID: f.org.ID}); err != nil {
			t.Fatal(err)
		}
		if _, _, err := f.inv.Invite(ctx, auth.InviteInput{Email: "hr@example.nl", OrgID: f.org.ID, Internal: true}); err != nil {
			t.Fatal(err)
		}
		before := f.outboxCount(t, "jan@example.nl") + f.outboxCount(t, "hr@example.nl")
		for _, in := range []auth.InviteInput{
			{Email: "jan@example.nl", OrgID: f.org.ID, Internal: true},
			{Email: "Jan@Example.nl", OrgID: f.org.ID, Admin: true},
			{Email: "hr@example.nl", OrgID: other.ID, Internal: true},
		} {
			_, _, err := f.inv.Invite(ctx, in)
			if e, ok := apperr.As(err); !ok || e.Key != "invite.other_kind" {
				t.Errorf("%+v: err %v, want invite.other_kind", in, err)
			}
		}
		if n := f.outboxCount(t, "jan@example.nl") + f.outboxCount(t, "hr@example.nl"); n != before {
			t.Fatalf("refused invitations queued %d mails", n-before)
		}
		var jan db.User
		if err := d.NewSelect().Model(&jan).Where("email = ?", "jan@example.nl").Scan(ctx); err != nil {
			t.Fatal(err)
		}
		if jan.Kind != db.KindExternal || jan.IsAdmin || jan.OrgID != nil {
			t.Fatalf("refused invitation changed the user: %+v", jan)
		}
		// The same colleague again, now as an admin of the same organisation.
		_, u, err := f.inv.Invite(ctx, auth.InviteInput{Email: "hr@example.nl", OrgID: f.org.ID, Admin: true})
		if err != nil {
			t.Fatal(err)
		}
		var hr db.User
		if err := d.NewSelect().Model(&hr).Where("id = ?", u.ID).Scan(ctx); err != nil {
			t.Fatal(err)
		}
		if !hr.IsAdmin || hr.Kind != db.KindInternal || hr.OrgID == nil || *hr.OrgID != f.org.ID {
			t.Fatalf("colleague invited again as admin: %+v", hr)
		}
	})
}

// TestTwoOrganisationsLinksAcceptedAtOnce, on both engines: a person
// invited by two organisations who presses AANMELDEN in both mails at the
// same moment signs up through one of them; the other link answers as a
// used one, never with a server error (on PostgreSQL each acceptance
// held its own link and waited for the other's to revoke it: a deadlock,
// of which PostgreSQL broke one with an error).
func TestTwoOrganisationsLinksAcceptedAtOnce(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newFixture(t, d)
		other := &db.Organisation{Name: "Bedrijf Y", CreatedAt: f.clk.Now()}
		if _, err := d.NewInsert().Model(other).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		for round := range 8 {
			email := fmt.Sprintf("jan%d@example.nl", round)
			fromX, _, err := f.inv.Invite(ctx, auth.InviteInput{Email: email, OrgID: f.org.ID})
			if err != nil {
				t.Fatal(err)
			}
			fromY, _, err := f.inv.Invite(ctx, auth.InviteInput{Email: email, OrgID: other.ID})
			if err != nil {
				t.Fatal(err)
			}
			errs := make([]error, 2)
			var wg sync.WaitGroup
			start := make(chan struct{})
			for i, link := range []string{fromX, fromY} {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					_, _, errs[i] = f.inv.Accept(ctx, token(link), "127.0.0.1", "t")
				}()
			}
			close(start)
			wg.Wait()
			ok := 0
			for _, err := range errs {
				if err == nil {
					ok++
				} else if apperr.CodeOf(err) != apperr.NotFound {
					t.Fatalf("round %d: %v", round, err)
				}
			}
			if ok != 1 {
				t.Fatalf("round %d: %d links accepted", round, ok)
			}
		}
	})
}

// TestInvitationResentTwiceAtOnce, on both engines: "Uitnodiging
// opnieuw versturen" pressed twice at once (a double click, two
// colleagues) sends one mail: the other request finds the link just sent
// and waits, as one a moment later does. Before, on PostgreSQL, both
// sent one, and the first mail's link no longer worked.
func TestInvitationResentTwiceAtOnce(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newFixture(t, d)
		for round := range 4 {
			email := fmt.Sprintf("jan%d@example.nl", round)
			if _, _, err := f.inv.Invite(ctx, auth.InviteInput{Email: email, OrgID: f.org.ID}); err != nil {
				t.Fatal(err)
			}
			f.clk.Add(2 * time.Minute)
			var u db.User
			if err := d.NewSelect().Model(&u).Where("email = ?", email).Scan(ctx); err != nil {
				t.Fatal(err)
			}
			before := f.outboxCount(t, email)
			errs := make([]error, 2)
			var wg sync.WaitGroup
			start := make(chan struct{})
			for i := range errs {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					errs[i] = d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
						return f.inv.ResendTx(ctx, tx, &u, f.org, nil)
					})
				}()
			}
			close(start)
			wg.Wait()
			ok := 0
			for _, err := range errs {
				var we *auth.WaitError
				if err == nil {
					ok++
				} else if !errors.As(err, &we) {
					t.Fatalf("round %d: %v", round, err)
				}
			}
			if n := f.outboxCount(t, email) - before; ok != 1 || n != 1 {
				t.Fatalf("round %d: %d resends, %d mails", round, ok, n)
			}
		}
	})
}
