package messaging_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"dialoog/auth"
	"dialoog/db"
	"dialoog/db/dbtest"
	"dialoog/i18n"
	"dialoog/messaging"
	"dialoog/notify"
)

func (mails) DailySummaryMail(lang string, unread int, link string) (notify.Mail, error) {
	return notify.Mail{Subject: fmt.Sprintf("Je hebt %d ongelezen berichten in Dialoog", unread), Text: "Lees ze in Dialoog: " + link}, nil
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

// local is a Dutch local time on a day of February 2026.
func local(day, hour, minute int) time.Time {
	return time.Date(2026, 2, day, hour, minute, 0, 0, i18n.Zone)
}

func (f *fx) setNotify(t *testing.T, u *db.User, setting string) {
	t.Helper()
	if _, err := f.d.NewUpdate().Model((*db.User)(nil)).Set("notify = ?", setting).Where("id = ?", u.ID).Exec(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// TestAlertFollowsNotificationSetting: a person who chose a mail per
// message gets the content-free notification as before; one who chose the
// daily summary or no mail gets none for a new message; a person who never
// signed up still gets the invitation again, whatever is stored.
func TestAlertFollowsNotificationSetting(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := setup(t, d)
		jan := f.active(t, "jan@example.nl", false, "Jan", "", "Jansen")
		kim := f.active(t, "kim@example.nl", false, "Kim", "", "de Boer")
		noor := f.active(t, "noor@example.nl", false, "Noor", "", "Bakker")
		if got := f.user(t, "jan@example.nl").Notify; got != auth.NotifyMessage {
			t.Fatalf("default setting %q, want %q", got, auth.NotifyMessage)
		}
		f.setNotify(t, kim, auth.NotifyDaily)
		f.setNotify(t, noor, auth.NotifyNone)
		tid, err := f.svc.Compose(ctx, f.hr.Identity(), messaging.ComposeInput{To: []string{jan.Email, kim.Email, noor.Email, "nieuw@example.nl"},
			Subject: "Afspraak", Body: "Kom je dinsdag?"})
		if err != nil {
			t.Fatal(err)
		}
		f.setNotify(t, f.user(t, "nieuw@example.nl"), auth.NotifyNone)
		f.clk.Add(messaging.NotifyEvery + time.Minute)
		if _, err := f.svc.Reply(ctx, f.hr.Identity(), messaging.ReplyInput{ThreadID: tid, Body: "Of woensdag?"}); err != nil {
			t.Fatal(err)
		}
		for email, want := range map[string]int{jan.Email: 2, kim.Email: 0, noor.Email: 0, "nieuw@example.nl": 2} {
			if got := len(f.mailsTo(t, email)); got != want {
				t.Errorf("%s: %d mails, want %d", email, got, want)
			}
		}
		if inv := f.mailsTo(t, "nieuw@example.nl"); len(inv) == 2 && !strings.Contains(inv[0].Mail.Text, "/aanmelden/") {
			t.Errorf("never signed up: want the invitation again, got %+v", inv[0].Mail)
		}

		// Back to a mail per message: the next message is mailed again.
		f.setNotify(t, noor, auth.NotifyMessage)
		f.clk.Add(time.Minute)
		if _, err := f.svc.Reply(ctx, f.hr.Identity(), messaging.ReplyInput{ThreadID: tid, Body: "Laat maar weten."}); err != nil {
			t.Fatal(err)
		}
		if got := len(f.mailsTo(t, noor.Email)); got != 1 {
			t.Errorf("noor after switching back: %d mails, want 1", got)
		}
	})
}

// TestDailySummary: the summary goes to each active person who chose it
// and has unread messages, once per Dutch local day from 08:00 on: not at
// 07:59, once at 08:00, not again at noon, again the next morning, and no
// longer once everything is read. It says how many, nothing of the
// messages. Persons with another setting, without unread messages, or
// disabled get none.
func TestDailySummary(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := setup(t, d)
		f.svc.Summary = mails{}
		f.clk.Set(local(23, 6, 0))
		jan := f.active(t, "jan@example.nl", false, "Jan", "", "Jansen")
		kim := f.active(t, "kim@example.nl", false, "Kim", "", "de Boer")
		piet := f.active(t, "piet@example.nl", false, "Piet", "", "Smit")
		noor := f.active(t, "noor@example.nl", false, "Noor", "", "Bakker")
		gone := f.active(t, "weg@example.nl", false, "Wim", "", "Weg")
		for _, u := range []*db.User{jan, kim, gone} {
			f.setNotify(t, u, auth.NotifyDaily)
		}
		f.setNotify(t, noor, auth.NotifyNone)
		const subject, body = "Uitslag keuring", "Vertrouwelijke uitslag van de keuring"
		tid, err := f.svc.Compose(ctx, f.hr.Identity(), messaging.ComposeInput{To: []string{jan.Email, piet.Email, noor.Email, gone.Email}, Subject: subject, Body: body})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.d.NewUpdate().Model((*db.User)(nil)).Set("status = ?", db.StatusDisabled).Where("id = ?", gone.ID).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		mailsBefore := map[string]int{}
		for _, u := range []*db.User{jan, kim, piet, noor, gone} {
			mailsBefore[u.Email] = len(f.mailsTo(t, u.Email))
		}
		if mailsBefore[jan.Email] != 0 || mailsBefore[piet.Email] != 1 {
			t.Fatalf("per-message mails before the summary: %v", mailsBefore)
		}
		run := func(at time.Time, want int) {
			t.Helper()
			f.clk.Set(at)
			n, err := f.svc.SendDailySummaries(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if n != want {
				t.Fatalf("at %s: %d summaries, want %d", at.Format("2 Jan 15:04"), n, want)
			}
		}
		run(local(23, 7, 59), 0)
		run(local(23, 8, 0), 1)
		got := f.mailsTo(t, jan.Email)
		if len(got) != 1 {
			t.Fatalf("jan: %d mails, want the summary", len(got))
		}
		m := got[0].Mail
		if m.Subject != "Je hebt 1 ongelezen berichten in Dialoog" || !strings.Contains(m.Text, "http://dialoog.test/berichten") {
			t.Fatalf("summary: %+v", m)
		}
		for _, secret := range []string{subject, body, "OSAW", "Vries"} {
			if strings.Contains(m.Subject+m.Text+m.HTML, secret) {
				t.Fatalf("summary contains %q: %+v", secret, m)
			}
		}
		run(local(23, 12, 0), 0)
		run(local(23, 23, 59), 0)
		for _, u := range []*db.User{kim, piet, noor, gone} {
			if n := len(f.mailsTo(t, u.Email)); n != mailsBefore[u.Email] {
				t.Errorf("%s: %d mails, want %d (no summary)", u.Email, n, mailsBefore[u.Email])
			}
		}

		// The next morning, still unread: again, counting what came since.
		f.clk.Set(local(24, 7, 30))
		if _, err := f.svc.Reply(ctx, f.hr.Identity(), messaging.ReplyInput{ThreadID: tid, Body: "Nog een vraag"}); err != nil {
			t.Fatal(err)
		}
		run(local(24, 7, 59), 0)
		run(local(24, 8, 5), 1)
		got = f.mailsTo(t, jan.Email)
		if len(got) != 2 || got[0].Mail.Subject != "Je hebt 2 ongelezen berichten in Dialoog" {
			t.Fatalf("second day: %d mails, newest %+v", len(got), got[0].Mail)
		}

		// Everything read: no summary the day after.
		if _, err := f.svc.MarkRead(ctx, (f.user(t, jan.Email)).Identity(), tid); err != nil {
			t.Fatal(err)
		}
		run(local(25, 9, 0), 0)
		if n := len(f.mailsTo(t, jan.Email)); n != 2 {
			t.Fatalf("after reading: %d mails, want 2", n)
		}
	})
}

// TestDailySummaryConcurrentRuns: runs at the same moment (several
// instances) send one summary between them.
func TestDailySummaryConcurrentRuns(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := setup(t, d)
		f.svc.Summary = mails{}
		f.clk.Set(local(23, 7, 0))
		jan := f.active(t, "jan@example.nl", false, "Jan", "", "Jansen")
		f.setNotify(t, jan, auth.NotifyDaily)
		if _, err := f.svc.Compose(ctx, f.hr.Identity(), messaging.ComposeInput{To: []string{jan.Email}, Subject: "Vraag", Body: "Bel je even?"}); err != nil {
			t.Fatal(err)
		}
		f.clk.Set(local(23, 8, 0))
		const runs = 4
		var wg sync.WaitGroup
		counts := make([]int, runs)
		errs := make([]error, runs)
		start := make(chan struct{})
		for i := range runs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				counts[i], errs[i] = f.svc.SendDailySummaries(ctx)
			}()
		}
		close(start)
		wg.Wait()
		total := 0
		for i := range runs {
			if errs[i] != nil {
				t.Fatalf("run %d: %v", i, errs[i])
			}
			total += counts[i]
		}
		if total != 1 {
			t.Fatalf("%d runs sent %d summaries, want 1", runs, total)
		}
		if n := len(f.mailsTo(t, jan.Email)); n != 1 {
			t.Fatalf("%d mails queued, want 1", n)
		}
	})
}

// TestDailySummaryBesideALockedPerson, on PostgreSQL: a summary run claims
// a batch of people in one statement, and a reply (or any change of a
// person's unread total) may hold one of their rows meanwhile. The run
// leaves a person whose row is held for its next round instead of waiting
// for them while it holds the others: waiting there, it deadlocked with a
// transaction that held the one and then needed another of the batch
// (a reply updates the totals of everyone in its conversation). The
// person held gets their summary in the next run.
func TestDailySummaryBesideALockedPerson(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		if !d.Postgres() {
			return // SQLite's writers take turns
		}
		ctx := context.Background()
		f := setup(t, d)
		f.svc.Summary = mails{}
		f.clk.Set(local(23, 7, 0))
		var people []*db.User
		for _, name := range []string{"anna", "bram"} {
			u := f.active(t, name+"@example.nl", false, name, "", "Jansen")
			f.setNotify(t, u, auth.NotifyDaily)
			if _, err := f.svc.Compose(ctx, f.hr.Identity(), messaging.ComposeInput{To: []string{u.Email}, Subject: "Vraag", Body: "Bel je even?"}); err != nil {
				t.Fatal(err)
			}
			people = append(people, u)
		}
		f.clk.Set(local(23, 8, 0))
		// Another transaction holds the second person's row.
		hold, err := d.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer hold.Rollback()
		pid := dbtest.BackendPID(t, ctx, hold)
		if _, err := hold.ExecContext(ctx, "UPDATE users SET unread_total = unread_total WHERE id = ?", people[1].ID); err != nil {
			t.Fatal(err)
		}
		var sent int
		var runErr error
		done := make(chan struct{})
		go func() {
			defer close(done)
			sent, runErr = f.svc.SendDailySummaries(context.Background())
		}()
		dbtest.WaitBehind(t, d, pid, 1, done)
		// Then it needs the first person's row too.
		if _, err := hold.ExecContext(ctx, "UPDATE users SET unread_total = unread_total WHERE id = ?", people[0].ID); err != nil {
			t.Fatalf("the other transaction: %v", err)
		}
		if err := hold.Commit(); err != nil {
			t.Fatal(err)
		}
		<-done
		if runErr != nil || sent != 1 {
			t.Fatalf("the run sent %d summaries (%v), want 1", sent, runErr)
		}
		if n, err := f.svc.SendDailySummaries(ctx); err != nil || n != 1 {
			t.Fatalf("the next run sent %d (%v), want the held person's", n, err)
		}
		for _, u := range people {
			if n := len(f.mailsTo(t, u.Email)); n != 1 {
				t.Errorf("%d summaries to %s, want 1", n, u.Email)
			}
		}
	})
}

// TestDailySummaryNobodyDueWritesNothing: the summary run comes every
// five minutes on every instance; once the day's summaries went out it
// only reads who is due, without a write transaction. Before, each run
// claimed inside one, so that on SQLite its search of the people held the
// one writer (31-73 ms at 50,000 people, 288 times a day).
func TestDailySummaryNobodyDueWritesNothing(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := setup(t, d)
		f.svc.Summary = mails{}
		f.clk.Set(local(23, 7, 0))
		jan := f.active(t, "jan@example.nl", false, "Jan", "", "Jansen")
		f.setNotify(t, jan, auth.NotifyDaily)
		if _, err := f.svc.Compose(ctx, f.hr.Identity(), messaging.ComposeInput{To: []string{jan.Email}, Subject: "Keuring", Body: "Uitslag"}); err != nil {
			t.Fatal(err)
		}
		stmts := dbtest.CountStatements(d)
		f.clk.Set(local(23, 8, 0))
		var n int
		var err error
		sqls := stmts.Run(func(ctx context.Context) { n, err = f.svc.SendDailySummaries(ctx) })
		if err != nil || n != 1 {
			t.Fatalf("first run: %d summaries (%v)", n, err)
		}
		if !strings.Contains(strings.ToUpper(strings.Join(sqls, "\n")), "UPDATE") {
			t.Fatalf("the first run claimed nobody:\n%s", strings.Join(sqls, "\n"))
		}
		f.clk.Set(local(23, 8, 5))
		sqls = stmts.Run(func(ctx context.Context) { n, err = f.svc.SendDailySummaries(ctx) })
		if err != nil || n != 0 {
			t.Fatalf("second run: %d summaries (%v)", n, err)
		}
		for _, q := range sqls {
			if w := strings.ToUpper(strings.Fields(q)[0]); w != "SELECT" {
				t.Errorf("with nobody due the run wrote: %s", q)
			}
		}
	})
}
