package messaging_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"dialoog/db"
	"dialoog/db/dbtest"
	"dialoog/messaging"
)

// An external user never sees another external user's mail address, nor
// when they were last seen: an invitee without a name shows as
// "Genodigde" with the initials of the address. Internal users see both.
func TestOutsidersSeeNoAddresses(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := setup(t, d)
		jan := f.active(t, "jan@example.nl", false, "Jan", "", "Berg")
		kees := f.active(t, "kees@example.nl", false, "Kees", "", "Klein")
		seen := f.clk.Now().Add(-time.Hour)
		if _, err := d.NewUpdate().Model((*db.User)(nil)).Set("last_seen_at = ?", seen).Where("id = ?", kees.ID).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		const hidden = "piet.de-groot@example.nl"
		tid, err := f.svc.Compose(ctx, f.hr.Identity(), messaging.ComposeInput{To: []string{"jan@example.nl", "kees@example.nl", hidden}, Subject: "Groep", Body: "Hallo"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Reply(ctx, jan.Identity(), messaging.ReplyInput{ThreadID: tid, Body: "Dank"}); err != nil {
			t.Fatal(err)
		}

		// Inbox.
		p, err := f.svc.Inbox(ctx, jan.Identity(), 1, "")
		if err != nil {
			t.Fatal(err)
		}
		if from := p.Threads[0].From; strings.Contains(from, "piet") || !strings.Contains(from, "Genodigde P.D.G.") {
			t.Errorf("external inbox names the invitee %q", from)
		}
		p, _ = f.svc.Inbox(ctx, f.hr.Identity(), 1, "")
		if from := p.Threads[0].From; !strings.Contains(from, hidden) {
			t.Errorf("internal inbox must show the invitee's address: %q", from)
		}

		// Thread: participants and read receipts.
		v, err := f.svc.Thread(ctx, jan.Identity(), tid)
		if err != nil {
			t.Fatal(err)
		}
		for _, pv := range v.Participants {
			switch {
			case pv.UserID == kees.ID && !pv.LastSeenAt.IsZero():
				t.Errorf("external user sees another external user's last seen")
			case !pv.Internal && pv.UserID != jan.ID && pv.Email != "":
				t.Errorf("external user gets another external user's address %q", pv.Email)
			case strings.Contains(pv.Name, "piet"):
				t.Errorf("participant named by address %q", pv.Name)
			}
		}
		for _, m := range v.Messages {
			for _, r := range m.Receipts {
				if strings.Contains(r.Name, "piet") {
					t.Errorf("receipt names the invitee by address %q", r.Name)
				}
			}
		}
		v, _ = f.svc.Thread(ctx, f.hr.Identity(), tid)
		var sawAddress, sawSeen bool
		for _, pv := range v.Participants {
			sawAddress = sawAddress || pv.Email == hidden
			sawSeen = sawSeen || (pv.UserID == kees.ID && !pv.LastSeenAt.IsZero())
		}
		if !sawAddress || !sawSeen {
			t.Errorf("internal user must see addresses and last seen: %+v", v.Participants)
		}

		// Live push.
		readers, err := f.svc.LiveUpdate(ctx, tid, v.Messages[len(v.Messages)-1].ID, []int64{jan.ID, kees.ID})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range readers {
			if strings.Contains(r.Thread.From, "piet") {
				t.Errorf("live summary names the invitee by address: %q", r.Thread.From)
			}
			if r.Message != nil {
				for _, rc := range r.Message.Receipts {
					if strings.Contains(rc.Name, "piet") {
						t.Errorf("live receipt names the invitee by address: %q", rc.Name)
					}
				}
			}
		}
	})
}

// TestDisplayNameHidesFormatting: a name stored before the rule against
// hidden characters shows without its direction overrides and control
// characters, so "Jan<RLO>nesnaJ" cannot pass for someone else.
func TestDisplayNameHidesFormatting(t *testing.T) {
	u := &db.User{FirstName: "Jan\u202e", NamePrefix: "van\u2066 der", LastName: "Berg\x1b[2J\u200f", Email: "jan@example.nl"}
	if got := messaging.DisplayName(u); got != "Jan van der Berg[2J" {
		t.Fatalf("DisplayName = %q", got)
	}
	u = &db.User{FirstName: "\u202e\u202e", Email: "x@example.nl"}
	if got := messaging.DisplayName(u); got != "x@example.nl" {
		t.Fatalf("a name of only hidden characters shows as %q, want the address", got)
	}
}
