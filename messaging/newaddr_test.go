package messaging_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"dialoog/auth"
	"dialoog/db"
	"dialoog/db/dbtest"
	"dialoog/messaging"
	"dialoog/notify"
)

// langMails renders the invitation in a way a test can read its language
// and link from.
type langMails struct{ mails }

func (langMails) InvitationMail(lang, org, link, base string) (notify.Mail, error) {
	return notify.Mail{Subject: "Uitnodiging [" + lang + "]", Text: org + " nodigt je uit: " + link}, nil
}

// TestComposeToNewAddresses: a conversation started for several
// addresses new to Dialoog (among a known one) gives each of them what a
// conversation for one gives: an invited account in the sender's
// language, one invitation of the sender's organisation whose link works
// and expires after InvitationTTL, one invitation mail in that language
// with that link, and an audit row; the known recipient gets no account,
// invitation or audit row of the kind.
func TestComposeToNewAddresses(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := setup(t, d)
		f.svc.Invitations.Mail = langMails{}
		known := f.active(t, "bekend@example.nl", false, "Kees", "", "Bekend")
		en := f.active(t, "en@osaw.nl", true, "Emma", "", "English")
		if _, err := d.NewUpdate().Model(en).Set("language = 'en'").WherePK().Exec(ctx); err != nil {
			t.Fatal(err)
		}
		en.Language = "en"

		check := func(t *testing.T, sender *db.User, to []string, fresh []string, lang string) {
			t.Helper()
			now := f.clk.Now().UTC()
			tid, err := f.svc.Compose(ctx, sender.Identity(), messaging.ComposeInput{To: to, Subject: "Welkom", Body: "Hallo allemaal"})
			if err != nil {
				t.Fatal(err)
			}
			var ps []db.Participant
			if err := d.NewSelect().Model(&ps).Where("thread_id = ?", tid).Order("id").Scan(ctx); err != nil {
				t.Fatal(err)
			}
			if len(ps) != len(to)+1 {
				t.Fatalf("%d participants, want %d", len(ps), len(to)+1)
			}
			for i, email := range fresh {
				u := f.user(t, email)
				if u.Kind != db.KindExternal || u.Status != db.StatusInvited || u.Language != lang || u.OrgID != nil {
					t.Fatalf("account of %s: %+v", email, u)
				}
				if ps[len(to)-len(fresh)+1+i].UserID != u.ID {
					t.Fatalf("participant %d is user %d, want %s (%d): the order of the addresses", len(to)-len(fresh)+1+i, ps[len(to)-len(fresh)+1+i].UserID, email, u.ID)
				}
				var invs []db.Invitation
				if err := d.NewSelect().Model(&invs).Where("user_id = ?", u.ID).Scan(ctx); err != nil {
					t.Fatal(err)
				}
				if len(invs) != 1 || invs[0].OrgID != f.org.ID || invs[0].InvitedBy == nil || *invs[0].InvitedBy != sender.ID ||
					!invs[0].CreatedAt.Equal(now) || !invs[0].ExpiresAt.Equal(now.Add(auth.InvitationTTL)) || !invs[0].RevokedAt.IsZero() || !invs[0].UsedAt.IsZero() {
					t.Fatalf("invitations of %s: %+v", email, invs)
				}
				ms := f.mailsTo(t, email)
				if len(ms) != 1 || ms[0].Mail.Subject != "Uitnodiging ["+lang+"]" || !strings.HasPrefix(ms[0].Mail.Text, "OSAW nodigt je uit: http://dialoog.test/aanmelden/") {
					t.Fatalf("mails to %s: %+v", email, ms)
				}
				token := ms[0].Mail.Text[strings.LastIndex(ms[0].Mail.Text, "/")+1:]
				info, err := f.svc.Invitations.Check(ctx, token)
				if err != nil {
					t.Fatalf("link of %s: %v", email, err)
				}
				if info.Email != email || info.OrgID != f.org.ID || info.Language != lang || !info.ExpiresAt.Equal(now.Add(auth.InvitationTTL)) {
					t.Fatalf("link of %s is for %+v", email, info)
				}
				var evs []db.AuditEvent
				if err := d.NewSelect().Model(&evs).Where("user_id = ? AND kind = 'invitation.sent'", u.ID).Scan(ctx); err != nil {
					t.Fatal(err)
				}
				if len(evs) != 1 || evs[0].ActorID == nil || *evs[0].ActorID != sender.ID || !evs[0].CreatedAt.Equal(now) {
					t.Fatalf("audit rows of %s: %+v", email, evs)
				}
			}
		}

		t.Run("several new addresses after a known one", func(t *testing.T) {
			to := []string{known.Email, "nieuw-a@example.nl", "nieuw-b@example.nl", "nieuw-c@example.nl"}
			check(t, f.hr, to, to[1:], "nl")
			if n, err := d.NewSelect().Model((*db.Invitation)(nil)).Where("user_id = ?", known.ID).Count(ctx); err != nil || n != 0 {
				t.Fatalf("%d invitations of the known recipient (%v)", n, err)
			}
			if ms := f.mailsTo(t, known.Email); len(ms) != 1 || strings.HasPrefix(ms[0].Mail.Subject, "Uitnodiging") {
				t.Fatalf("mails to the known recipient: %+v", ms)
			}
		})
		t.Run("in the language of an English sender", func(t *testing.T) {
			f.clk.Add(time.Minute)
			to := []string{"new-d@example.nl", "new-e@example.nl"}
			check(t, en, to, to, "en")
		})
		t.Run("one new address", func(t *testing.T) {
			f.clk.Add(time.Minute)
			to := []string{"nieuw-f@example.nl"}
			check(t, f.hr, to, to, "nl")
		})
	})
}

// rows counts what a refused compose must not have written.
func (f *fx) rows(t *testing.T) string {
	t.Helper()
	var out []string
	for _, table := range []string{"users", "threads", "participants", "messages", "invitations", "outbox", "audit_events"} {
		n, err := f.d.NewSelect().Table(table).Count(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, fmt.Sprintf("%s %d", table, n))
	}
	var counts []int
	if err := f.d.NewSelect().Table("throttles").Column("count").Where("key LIKE 'newaddr:%'").Scan(context.Background(), &counts); err != nil {
		t.Fatal(err)
	}
	return strings.Join(out, ", ") + fmt.Sprintf(", new addresses counted %v", counts)
}

// TestComposeOverNewAddressAllowance: a conversation for more new
// addresses than the sender has left of NewAddressesPerHour is refused
// whole (message.new_addresses_limit) and writes nothing; one for exactly
// what is left goes; the errors come in the order of the addresses, as
// when each address was counted on its own: a disabled recipient before
// the address over the allowance is named, one after it is not reached.
func TestComposeOverNewAddressAllowance(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := setup(t, d)
		gone := f.active(t, "weg@example.nl", false, "Wim", "", "Weg")
		if _, err := d.NewUpdate().Model(gone).Set("status = ?", db.StatusDisabled).WherePK().Exec(ctx); err != nil {
			t.Fatal(err)
		}
		addrs := func(tag string, n int) []string {
			out := make([]string, n)
			for i := range out {
				out[i] = fmt.Sprintf("%s%d@example.nl", tag, i)
			}
			return out
		}
		compose := func(to []string) error {
			_, err := f.svc.Compose(ctx, f.hr.Identity(), messaging.ComposeInput{To: to, Subject: "Welkom", Body: "Hallo"})
			return err
		}
		if err := compose(addrs("eerst", messaging.NewAddressesPerHour-3)); err != nil {
			t.Fatal(err)
		}
		refused := func(t *testing.T, to []string, key string) {
			t.Helper()
			before := f.rows(t)
			wantKey(t, compose(to), key)
			if after := f.rows(t); after != before {
				t.Fatalf("a refused compose wrote: before %s; after %s", before, after)
			}
		}
		t.Run("over the allowance", func(t *testing.T) {
			refused(t, addrs("teveel", 4), "message.new_addresses_limit")
		})
		t.Run("over it, with a known recipient first", func(t *testing.T) {
			refused(t, append([]string{f.boss.Email}, addrs("teveel", 5)...), "message.new_addresses_limit")
		})
		t.Run("a disabled recipient before the address over it", func(t *testing.T) {
			to := addrs("teveel", 4)
			refused(t, append(to[:2:2], append([]string{gone.Email}, to[2:]...)...), "message.recipient_disabled_named")
		})
		t.Run("a disabled recipient after the address over it", func(t *testing.T) {
			refused(t, append(addrs("teveel", 4), gone.Email), "message.new_addresses_limit")
		})
		t.Run("exactly what is left", func(t *testing.T) {
			to := addrs("precies", 3)
			if err := compose(append(to, f.boss.Email)); err != nil {
				t.Fatal(err)
			}
			for _, e := range to {
				if u := f.user(t, e); u.Status != db.StatusInvited || len(f.mailsTo(t, e)) != 1 {
					t.Fatalf("%s: %+v, %d mails", e, u, len(f.mailsTo(t, e)))
				}
			}
			refused(t, addrs("nogeen", 1), "message.new_addresses_limit")
		})
		t.Run("a new hour", func(t *testing.T) {
			f.clk.Add(time.Hour)
			if err := compose(addrs("volgend", messaging.NewAddressesPerHour)); err != nil {
				t.Fatal(err)
			}
		})
	})
}

// TestComposeToAnAddressStoredMeanwhile: an address new when the
// conversation is started that someone else stores at the same moment (on
// PostgreSQL the compose's insert waits for their transaction; on SQLite,
// whose writers take turns, it is stored just before) is the person as
// they stored it, invited, and not counted as new against the sender's
// allowance; the other new address is created and counted.
func TestComposeToAnAddressStoredMeanwhile(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := setup(t, d)
		now := f.clk.Now()
		theirs := &db.User{Email: "tegelijk@example.nl", Kind: db.KindExternal, Status: db.StatusInvited, Language: "en", Gender: "unknown", CreatedAt: now, UpdatedAt: now}
		compose := func() error {
			_, err := f.svc.Compose(ctx, f.hr.Identity(), messaging.ComposeInput{To: []string{theirs.Email, "alleen@example.nl"}, Subject: "Welkom", Body: "Hallo"})
			return err
		}
		var err error
		if d.Postgres() {
			hold, err2 := d.BeginTx(ctx, nil)
			if err2 != nil {
				t.Fatal(err2)
			}
			pid := dbtest.BackendPID(t, ctx, hold)
			if _, err := hold.NewInsert().Model(theirs).Exec(ctx); err != nil {
				t.Fatal(err)
			}
			done := make(chan struct{})
			go func() { defer close(done); err = compose() }()
			dbtest.WaitBehind(t, d, pid, 1, done)
			if err := hold.Commit(); err != nil {
				t.Fatal(err)
			}
			<-done
		} else {
			if _, err := d.NewInsert().Model(theirs).Exec(ctx); err != nil {
				t.Fatal(err)
			}
			err = compose()
		}
		if err != nil {
			t.Fatal(err)
		}
		if u := f.user(t, theirs.Email); u.ID != theirs.ID || u.Language != "en" || u.Status != db.StatusInvited {
			t.Fatalf("the address stored meanwhile: %+v, want theirs (%d, en)", u, theirs.ID)
		}
		if u := f.user(t, "alleen@example.nl"); u.Language != "nl" || u.Status != db.StatusInvited {
			t.Fatalf("the new address: %+v", u)
		}
		for _, e := range []string{theirs.Email, "alleen@example.nl"} {
			if n := len(f.mailsTo(t, e)); n != 1 {
				t.Fatalf("%d invitations to %s, want 1", n, e)
			}
		}
		var counts []int
		if err := d.NewSelect().Table("throttles").Column("count").Where("key LIKE 'newaddr:%'").Scan(ctx, &counts); err != nil {
			t.Fatal(err)
		}
		if len(counts) != 1 || counts[0] != 1 {
			t.Fatalf("new addresses counted %v, want [1]", counts)
		}
	})
}
