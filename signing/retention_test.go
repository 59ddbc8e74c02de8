package signing_test

import (
	"context"
	"testing"
	"time"

	"dialoog/db"
	"dialoog/db/dbtest"
	"dialoog/i18n"
	"dialoog/messaging"
	"dialoog/signing"
)

// TestRetentionKeepsRequestsUnderWay: the organisation's retention does
// not delete a conversation whose last message is older than the period
// while a signing request in it is still under way (open, with no
// deadline or one far ahead, or agreed and waiting to be sealed): the
// document would vanish under its signers. Once the request ends, its end
// counts as the conversation's last activity: it is deleted a full period
// after that. Conversations whose requests ended long ago, and those
// without any, go by the normal rule.
func TestRetentionKeepsRequestsUnderWay(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := setup(t, d) // 2 March 2026: f.thread
		if _, err := d.NewUpdate().Model((*db.User)(nil)).Set("is_admin = ?", true).Where("id = ?", f.hr.ID).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		f.hr.IsAdmin = true
		compose := func(subject string) int64 {
			t.Helper()
			id, err := f.msgs.Compose(ctx, f.hr.Identity(), messaging.ComposeInput{To: []string{f.jan.Email, f.kees.Email}, Subject: subject, Body: "Hallo"})
			if err != nil {
				t.Fatal(err)
			}
			return id
		}
		ask := func(tid int64, deadline time.Time) int64 {
			t.Helper()
			keep := f.thread
			f.thread = tid
			defer func() { f.thread = keep }()
			return f.request(t, "plan.pdf", pdf(1, "P"), signing.RequestInput{SignerIDs: []int64{f.jan.ID, f.kees.ID}, Deadline: deadline})
		}

		// All made in March 2026, last active then.
		noDeadline := f.thread
		openNoDeadline := ask(noDeadline, time.Time{})
		farThread := compose("Lange termijn")
		far := ask(farThread, time.Date(2027, 3, 1, 23, 59, 59, 0, i18n.Zone))
		agreedThread := compose("Akkoord, nog niet verzegeld")
		agreed := f.agreedRequest(t, agreedThread)
		declinedThread := compose("Lang geleden geweigerd")
		declined := ask(declinedThread, time.Time{})
		if err := f.svc.Decline(ctx, f.jan.Identity(), declined, "Nee.", "192.0.2.1"); err != nil {
			t.Fatal(err)
		}
		plain := compose("Zonder verzoek")

		if err := f.msgs.SetRetention(ctx, f.hr.Identity(), messaging.RetentionInput{Conversations: "3"}); err != nil {
			t.Fatal(err)
		}
		runAt := func(day time.Time) {
			t.Helper()
			f.clk.set(day.Add(-25 * time.Hour))
			if _, err := f.msgs.RunDaily(ctx); err != nil { // schedules the next 03:00
				t.Fatal(err)
			}
			f.clk.set(day)
			if _, err := f.msgs.RunDaily(ctx); err != nil {
				t.Fatal(err)
			}
		}
		exists := func(tid int64) bool {
			t.Helper()
			ok, err := d.NewSelect().Model((*db.Thread)(nil)).Where("id = ?", tid).Exists(ctx)
			if err != nil {
				t.Fatal(err)
			}
			return ok
		}
		want := func(step string, w map[int64]bool) {
			t.Helper()
			for tid, keep := range w {
				if got := exists(tid); got != keep {
					t.Errorf("%s: conversation %d exists %v, want %v", step, tid, got, keep)
				}
			}
		}

		// 3 August: every conversation was last active five months ago.
		runAt(time.Date(2026, 8, 3, 3, 0, 0, 0, i18n.Zone))
		want("August", map[int64]bool{noDeadline: true, farThread: true, agreedThread: true, declinedThread: false, plain: false})
		for _, id := range []int64{openNoDeadline, far} {
			if c := f.card(t, f.kees, id); c.Status != signing.StatusOpen || c.MayAct != true {
				t.Fatalf("request %d after retention: %+v", id, c)
			}
		}
		if c := f.card(t, f.hr, agreed); c.Status != signing.StatusAgreed {
			t.Fatalf("agreed request after retention: %+v", c)
		}
		// Still open, a signer can agree to the document.
		if err := f.agree(f.jan, far, f.sentCode(t, f.jan, far)); err != nil {
			t.Fatal(err)
		}

		// 4 August Kees declines the one without a deadline: it ended
		// then, and that is the conversation's last activity.
		f.clk.set(time.Date(2026, 8, 4, 10, 0, 0, 0, i18n.Zone))
		if err := f.svc.Decline(ctx, f.kees.Identity(), openNoDeadline, "Nee.", "192.0.2.1"); err != nil {
			t.Fatal(err)
		}
		runAt(time.Date(2026, 11, 4, 3, 0, 0, 0, i18n.Zone))
		want("November", map[int64]bool{noDeadline: true, farThread: true, agreedThread: true})
		runAt(time.Date(2026, 11, 5, 3, 0, 0, 0, i18n.Zone))
		want("three months after the decline", map[int64]bool{noDeadline: false, farThread: true, agreedThread: true})

		// The far request expires at its deadline (the job marks it), and
		// the same job seals the agreed one into its conversation; three
		// months later both conversations go.
		f.clk.set(time.Date(2027, 3, 2, 0, 5, 0, 0, i18n.Zone))
		if _, _, err := f.svc.RunDue(ctx); err != nil {
			t.Fatal(err)
		}
		if c := f.card(t, f.hr, far); c.Status != signing.StatusExpired {
			t.Fatalf("far request after its deadline: %+v", c)
		}
		if c := f.card(t, f.hr, agreed); c.Status != signing.StatusSealed {
			t.Fatalf("agreed request after the job: %+v", c)
		}
		runAt(time.Date(2027, 6, 1, 3, 0, 0, 0, i18n.Zone))
		want("before three months after the expiry", map[int64]bool{farThread: true, agreedThread: true})
		runAt(time.Date(2027, 6, 3, 3, 0, 0, 0, i18n.Zone))
		want("three months after the expiry", map[int64]bool{farThread: false, agreedThread: false})
	})
}

// set moves the fixture's clock to t.
func (c *clock) set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

// TestRetentionDeletesAgreedRequestWithoutDocument, on both engines: an
// agreed request whose document left the last box before it was sealed
// (the removal empties its reference to the attachment) can never be
// sealed; it does not keep its conversation past the retention period.
func TestRetentionDeletesAgreedRequestWithoutDocument(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := setup(t, d) // 2 March 2026
		if _, err := d.NewUpdate().Model((*db.User)(nil)).Set("is_admin = ?", true).Where("id = ?", f.hr.ID).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		f.hr.IsAdmin = true
		tid, err := f.msgs.Compose(ctx, f.hr.Identity(), messaging.ComposeInput{To: []string{f.jan.Email}, Subject: "Akkoord", Body: "Zie hierna."})
		if err != nil {
			t.Fatal(err)
		}
		id := f.agreedRequest(t, tid)
		if err := f.msgs.StopService(ctx, f.jan.Identity()); err != nil {
			t.Fatal(err)
		}
		var mid int64
		if err := d.NewSelect().Table("signing_requests").Column("message_id").Where("id = ?", id).Scan(ctx, &mid); err != nil {
			t.Fatal(err)
		}
		if err := f.msgs.RemoveFromBox(ctx, f.hr.Identity(), mid); err != nil {
			t.Fatal(err)
		}
		if err := f.svc.Finish(ctx, id); err == nil {
			t.Fatal("a request whose document is gone was sealed")
		}
		if err := f.msgs.SetRetention(ctx, f.hr.Identity(), messaging.RetentionInput{Conversations: "3"}); err != nil {
			t.Fatal(err)
		}
		day := time.Date(2026, 8, 3, 3, 0, 0, 0, i18n.Zone)
		f.clk.set(day.Add(-25 * time.Hour))
		if _, err := f.msgs.RunDaily(ctx); err != nil { // schedules the next 03:00
			t.Fatal(err)
		}
		f.clk.set(day)
		if _, err := f.msgs.RunDaily(ctx); err != nil {
			t.Fatal(err)
		}
		if ok, err := d.NewSelect().Model((*db.Thread)(nil)).Where("id = ?", tid).Exists(ctx); err != nil || ok {
			t.Fatalf("five months later the conversation exists: %v (%v)", ok, err)
		}
	})
}
