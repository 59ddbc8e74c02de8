package messaging_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"dialoog/apperr"
	"dialoog/auth"
	"dialoog/blob"
	"dialoog/db"
	"dialoog/db/dbtest"
	"dialoog/i18n"
	"dialoog/messaging"
	"dialoog/messaging/messagingtest"
)

// checkCounters fails when a participant's inbox counters or a user's
// unread total differ from a recount of the read states.
func checkCounters(t *testing.T, d *db.DB, step string) {
	t.Helper()
	ctx := context.Background()
	var bad []struct{ ThreadID, UserID, UnreadCount, BoxCount, Unread, Box int64 }
	if err := d.NewRaw(`SELECT * FROM (SELECT p.thread_id, p.user_id, p.unread_count, p.box_count,
  (SELECT COUNT(*) FROM message_states AS ms JOIN messages AS m ON m.id = ms.message_id
    WHERE m.thread_id = p.thread_id AND ms.user_id = p.user_id AND ms.read_at IS NULL AND ms.removed_at IS NULL) AS unread,
  (SELECT COUNT(*) FROM message_states AS ms JOIN messages AS m ON m.id = ms.message_id
    WHERE m.thread_id = p.thread_id AND ms.user_id = p.user_id AND ms.removed_at IS NULL) AS box
  FROM participants AS p) AS x WHERE unread_count <> unread OR box_count <> box`).Scan(ctx, &bad); err != nil {
		t.Fatal(err)
	}
	if len(bad) > 0 {
		t.Fatalf("after %s the counters are off: %+v", step, bad)
	}
	var badTotals []struct{ ID, UnreadTotal, Sum int64 }
	if err := d.NewRaw(`SELECT * FROM (SELECT u.id, u.unread_total,
  (SELECT COALESCE(SUM(p.unread_count), 0) FROM participants AS p WHERE p.user_id = u.id) AS sum FROM users AS u) AS x
  WHERE unread_total <> sum`).Scan(ctx, &badTotals); err != nil {
		t.Fatal(err)
	}
	if len(badTotals) > 0 {
		t.Fatalf("after %s the users' totals are off: %+v", step, badTotals)
	}
}

// makeAdmin turns the fixture's HR user into an admin of the organisation.
func (f *fx) makeAdmin(t *testing.T) {
	t.Helper()
	if _, err := f.d.NewUpdate().Model((*db.User)(nil)).Set("is_admin = ?", true).Where("id = ?", f.hr.ID).Exec(context.Background()); err != nil {
		t.Fatal(err)
	}
	f.hr.IsAdmin = true
}

// storageKeys returns the storage keys of the attachments of a thread.
func (f *fx) storageKeys(t *testing.T, threadID int64) []string {
	t.Helper()
	var keys []string
	if err := f.d.NewSelect().TableExpr("attachments AS a").Column("a.storage_key").
		Join("JOIN messages AS m ON m.id = a.message_id").Where("m.thread_id = ?", threadID).Scan(context.Background(), &keys); err != nil {
		t.Fatal(err)
	}
	return keys
}

// inStore reports whether the blob store holds key.
func (f *fx) inStore(t *testing.T, key string) bool {
	t.Helper()
	rc, err := f.svc.Files.Store.Get(context.Background(), key)
	if errors.Is(err, blob.ErrNotFound) {
		return false
	}
	if err != nil {
		t.Fatal(err)
	}
	rc.Close()
	return true
}

func (f *fx) composeWithFile(t *testing.T, to, subject string) int64 {
	t.Helper()
	ctx := context.Background()
	a, err := f.svc.Upload(ctx, f.hr.Identity(), "scan.png", append([]byte("\x89PNG\r\n\x1a\n"), make([]byte, 64)...))
	if err != nil {
		t.Fatal(err)
	}
	id, err := f.svc.Compose(ctx, f.hr.Identity(), messaging.ComposeInput{To: []string{to}, Subject: subject, Body: "Hallo", AttachmentIDs: []int64{a.ID}})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func (f *fx) threadExists(t *testing.T, id int64) bool {
	t.Helper()
	ok, err := f.d.NewSelect().Model((*db.Thread)(nil)).Where("id = ?", id).Exists(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return ok
}

// TestRetentionDeletesWhatIsOlder: with a period of three months the daily
// run deletes exactly the conversations whose last activity is older (to
// the minute), with their messages, read states, participants and files,
// keeps a conversation with a recent reply and every conversation of
// another organisation, and leaves the inbox counters right. Off by
// default: before the period is set, a run deletes nothing.
func TestRetentionDeletesWhatIsOlder(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := setup(t, d)
		f.makeAdmin(t)
		jan := f.active(t, "jan@example.nl", false, "Jan", "", "Jansen")
		piet := f.active(t, "piet@example.nl", false, "Piet", "", "Post")

		// The run at 03:00 Dutch time on 24 June 2026 keeps three months:
		// everything last active before 24 March 03:00 goes.
		run := time.Date(2026, 6, 24, 3, 0, 0, 0, i18n.Zone)
		cutoff := messaging.RetentionCutoff(run, 3)
		if want := time.Date(2026, 3, 24, 3, 0, 0, 0, i18n.Zone); !cutoff.Equal(want) {
			t.Fatalf("cutoff %v, want %v", cutoff, want)
		}

		f.clk.Set(time.Date(2026, 2, 23, 9, 0, 0, 0, time.UTC))
		old := f.composeWithFile(t, jan.Email, "Oud en ongelezen") // jan leaves it unread
		revived := f.composeWithFile(t, piet.Email, "Oud maar levend")
		f.clk.Set(cutoff.Add(-time.Minute))
		justOlder := f.composeWithFile(t, jan.Email, "Net te oud")
		f.clk.Set(cutoff.Add(time.Minute))
		justYounger := f.composeWithFile(t, jan.Email, "Net jong genoeg")
		// Another organisation, retention off, an old conversation.
		other := &db.Organisation{Name: "Ander", CreatedAt: f.clk.Now()}
		if _, err := d.NewInsert().Model(other).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		stranger := f.active(t, "hr@ander.nl", true, "Anna", "", "Ander")
		if _, err := d.NewUpdate().Model(stranger).Set("org_id = ?", other.ID).WherePK().Exec(ctx); err != nil {
			t.Fatal(err)
		}
		stranger.OrgID = &other.ID
		f.clk.Set(time.Date(2026, 2, 23, 10, 0, 0, 0, time.UTC))
		elsewhere, err := f.svc.Compose(ctx, stranger.Identity(), messaging.ComposeInput{To: []string{jan.Email}, Subject: "Elders", Body: "Hallo"})
		if err != nil {
			t.Fatal(err)
		}
		f.clk.Set(time.Date(2026, 6, 23, 9, 0, 0, 0, time.UTC))
		if _, err := f.svc.Reply(ctx, piet.Identity(), messaging.ReplyInput{ThreadID: revived, Body: "Ik ben er nog"}); err != nil {
			t.Fatal(err)
		}
		young := f.composeWithFile(t, jan.Email, "Nieuw")
		checkCounters(t, d, "setting up")
		oldKeys := append(f.storageKeys(t, old), f.storageKeys(t, justOlder)...)
		if len(oldKeys) != 2 {
			t.Fatalf("old conversations hold %d files, want 2", len(oldKeys))
		}
		janUnread, _ := f.svc.UnreadCount(ctx, jan.ID)

		// Off by default: the first run deletes nothing.
		st, err := f.svc.Retention(ctx, f.hr.Identity())
		if err != nil {
			t.Fatal(err)
		}
		if st.ConversationMonths != 0 || st.CaseMonths != 0 || !st.LastRunAt.IsZero() || !st.NextRunAt.Equal(run.UTC()) {
			t.Fatalf("default status: %+v", st)
		}
		f.clk.Set(run.Add(-25 * time.Hour))
		if _, err := f.svc.RunDaily(ctx); err != nil { // schedules the jobs for 03:00 the day before
			t.Fatal(err)
		}
		f.clk.Set(run.Add(-24*time.Hour + time.Minute))
		if n, err := f.svc.RunDaily(ctx); err != nil || n == 0 {
			t.Fatalf("run while off: %d jobs, %v", n, err)
		}
		for _, id := range []int64{old, revived, justOlder, justYounger, young, elsewhere} {
			if !f.threadExists(t, id) {
				t.Fatalf("conversation %d deleted while retention is off", id)
			}
		}

		if err := f.svc.SetRetention(ctx, f.hr.Identity(), messaging.RetentionInput{Conversations: " 3 ", Cases: "24"}); err != nil {
			t.Fatal(err)
		}
		f.clk.Set(run) // the cutoff is counted from the run's own time
		if _, err := f.svc.RunDaily(ctx); err != nil {
			t.Fatal(err)
		}
		for id, want := range map[int64]bool{old: false, justOlder: false, revived: true, justYounger: true, young: true, elsewhere: true} {
			if got := f.threadExists(t, id); got != want {
				t.Errorf("conversation %d exists: %v, want %v", id, got, want)
			}
		}
		for _, table := range []string{"messages", "participants"} {
			if n := f.count(t, table, "thread_id IN (?, ?)", old, justOlder); n != 0 {
				t.Errorf("%d %s of deleted conversations left", n, table)
			}
		}
		if n := f.count(t, "message_states", "message_id NOT IN (SELECT id FROM messages)"); n != 0 {
			t.Errorf("%d read states of deleted messages left", n)
		}
		if n := f.count(t, "attachments", "message_id IS NULL OR message_id NOT IN (SELECT id FROM messages)"); n != 0 {
			t.Errorf("%d attachment rows left", n)
		}
		for _, k := range oldKeys {
			if f.inStore(t, k) {
				t.Errorf("file %s of a deleted conversation is still in the blob store", k)
			}
		}
		for _, id := range []int64{revived, justYounger, young} {
			for _, k := range f.storageKeys(t, id) {
				if !f.inStore(t, k) {
					t.Errorf("file of kept conversation %d is gone", id)
				}
			}
		}
		files := 0
		filepath.WalkDir(f.dir, func(p string, e fs.DirEntry, err error) error {
			if err == nil && !e.IsDir() {
				files++
			}
			return nil
		})
		if files != 3 { // revived, justYounger, young
			t.Errorf("%d files on disk, want 3", files)
		}
		checkCounters(t, d, "retention")
		if n, _ := f.svc.UnreadCount(ctx, jan.ID); n != janUnread-2 {
			t.Errorf("jan's unread count %d, want %d", n, janUnread-2)
		}
		if p, _ := f.svc.Inbox(ctx, jan.Identity(), 1, ""); len(p.Threads) != 3 {
			t.Errorf("jan's inbox lists %d conversations, want 3", len(p.Threads))
		}

		st, err = f.svc.Retention(ctx, f.hr.Identity())
		if err != nil {
			t.Fatal(err)
		}
		want := messaging.RetentionResult{Conversations: 2, Messages: 2, Files: 2}
		if st.ConversationMonths != 3 || st.CaseMonths != 24 || st.Last != want || !st.LastRunAt.Equal(run) ||
			!st.NextRunAt.Equal(run.AddDate(0, 0, 1).UTC()) {
			t.Fatalf("status after the run: %+v, want last %+v", st, want)
		}
		// Later the same day nothing runs again.
		f.clk.Set(run.Add(6 * time.Hour))
		if n, err := f.svc.RunDaily(ctx); err != nil || n != 0 {
			t.Fatalf("second run the same day: %d jobs, %v", n, err)
		}
	})
}

// TestRetentionSettings: only an admin reads and sets the period of their
// own organisation; bad input is a field error and stores nothing.
func TestRetentionSettings(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := setup(t, d)
		if _, err := f.svc.Retention(ctx, f.hr.Identity()); apperr.CodeOf(err) != apperr.NotFound {
			t.Fatalf("a non-admin reads retention: %v", err)
		}
		if err := f.svc.SetRetention(ctx, f.hr.Identity(), messaging.RetentionInput{Conversations: "3"}); apperr.CodeOf(err) != apperr.NotFound {
			t.Fatalf("a non-admin sets retention: %v", err)
		}
		f.makeAdmin(t)
		for _, in := range []messaging.RetentionInput{{Conversations: "-1"}, {Conversations: "drie"}, {Cases: "121"}, {Conversations: "1.5"}} {
			err := f.svc.SetRetention(ctx, f.hr.Identity(), in)
			var fields apperr.Fields
			if !errors.As(err, &fields) || len(fields) != 1 || fields[0].Key != "retention.months_invalid" {
				t.Errorf("%+v: %v", in, err)
			}
		}
		if n := f.count(t, "retention_settings", "1 = 1"); n != 0 {
			t.Fatalf("bad input stored %d rows", n)
		}
		if err := f.svc.SetRetention(ctx, f.hr.Identity(), messaging.RetentionInput{Conversations: "12"}); err != nil {
			t.Fatal(err)
		}
		if err := f.svc.SetRetention(ctx, f.hr.Identity(), messaging.RetentionInput{Conversations: "", Cases: "6"}); err != nil {
			t.Fatal(err)
		}
		st, err := f.svc.Retention(ctx, f.hr.Identity())
		if err != nil || st.ConversationMonths != 0 || st.CaseMonths != 6 {
			t.Fatalf("status %+v, %v", st, err)
		}
		if n := f.count(t, "audit_events", "kind = ? AND actor_id = ?", messaging.AuditRetentionChanged, f.hr.ID); n != 2 {
			t.Fatalf("%d audit rows, want 2", n)
		}
	})
}

// TestRetentionOnceADay: two instances running the daily jobs at once do
// each job once; the next run is the next day.
func TestRetentionOnceADay(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := setup(t, d)
		f.makeAdmin(t)
		jan := f.active(t, "jan@example.nl", false, "Jan", "", "Jansen")
		f.clk.Set(time.Date(2025, 1, 10, 9, 0, 0, 0, time.UTC))
		for range 3 {
			f.composeWithFile(t, jan.Email, "Oud")
		}
		f.clk.Set(time.Date(2026, 2, 23, 9, 0, 0, 0, time.UTC))
		if err := f.svc.SetRetention(ctx, f.hr.Identity(), messaging.RetentionInput{Conversations: "6"}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.RunDaily(ctx); err != nil {
			t.Fatal(err)
		}
		run := time.Date(2026, 2, 24, 3, 0, 0, 0, i18n.Zone)
		f.clk.Set(run)
		instances := []*messaging.Service{f.svc, f.otherInstance()}
		var wg sync.WaitGroup
		ran := make([]int, len(instances))
		errs := make([]error, len(instances))
		for i, svc := range instances {
			wg.Add(1)
			go func() {
				defer wg.Done()
				ran[i], errs[i] = svc.RunDaily(ctx)
			}()
		}
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		if total := ran[0] + ran[1]; total != 2 { // the cleanup and the one organisation's retention
			t.Fatalf("jobs run: %v, want 2 in all", ran)
		}
		st, _ := f.svc.Retention(ctx, f.hr.Identity())
		if st.Last.Conversations != 3 || f.count(t, "threads", "1 = 1") != 0 {
			t.Fatalf("last result %+v", st.Last)
		}
		checkCounters(t, d, "concurrent runs")
		f.clk.Set(run.Add(23 * time.Hour))
		if n, err := instances[1].RunDaily(ctx); err != nil || n != 0 {
			t.Fatalf("before the next day: %d jobs, %v", n, err)
		}
		f.clk.Set(run.AddDate(0, 0, 1))
		if n, err := instances[1].RunDaily(ctx); err != nil || n != 2 {
			t.Fatalf("the next day: %d jobs, %v", n, err)
		}
	})
}

// otherInstance is a second service over the same database and files, as
// another instance would have.
func (f *fx) otherInstance() *messaging.Service {
	s := f.svc
	return &messaging.Service{DB: s.DB, Vault: s.Vault, Files: s.Files, Outbox: s.Outbox, Invitations: s.Invitations,
		Mail: s.Mail, BaseURL: s.BaseURL, Now: s.Now, Log: s.Log}
}

// TestRetentionManyConversations: an organisation with many old
// conversations is emptied in batches, with the counters right.
func TestRetentionManyConversations(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := setup(t, d)
		f.makeAdmin(t)
		const n = 450
		if _, err := messagingtest.Seed(ctx, d, f.v, messagingtest.Box{OrgID: f.org.ID, Owner: f.hr, Threads: n, Messages: 3, Others: 40,
			UnreadEvery: 3, Start: time.Date(2024, 1, 1, 8, 0, 0, 0, time.UTC)}); err != nil {
			t.Fatal(err)
		}
		f.clk.Set(time.Date(2026, 2, 23, 9, 0, 0, 0, time.UTC))
		keep := f.composeWithFile(t, "jan@example.nl", "Nieuw")
		if err := f.svc.SetRetention(ctx, f.hr.Identity(), messaging.RetentionInput{Conversations: "12"}); err != nil {
			t.Fatal(err)
		}
		f.svc.RunDaily(ctx)
		f.clk.Set(time.Date(2026, 2, 24, 3, 0, 0, 0, i18n.Zone))
		start := time.Now()
		if _, err := f.svc.RunDaily(ctx); err != nil {
			t.Fatal(err)
		}
		t.Logf("%d conversations deleted in %v", n, time.Since(start))
		st, _ := f.svc.Retention(ctx, f.hr.Identity())
		if st.Last.Conversations != n || st.Last.Messages != 3*n {
			t.Fatalf("last result %+v", st.Last)
		}
		if f.count(t, "threads", "1 = 1") != 1 || !f.threadExists(t, keep) {
			t.Fatal("the young conversation should be all that is left")
		}
		checkCounters(t, d, "many")
	})
}

// TestRetentionStatements: retention deletes a batch of conversations
// with a few statements, not a few for each conversation. Before, each of
// the 300 conversations was locked, read, purged and looked at on its own
// (about ten statements, each a round trip on PostgreSQL, in the
// transaction of its batch): an organisation that turns retention on
// after years deleted tens of thousands of conversations that way in one
// night.
func TestRetentionStatements(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := setup(t, d)
		f.makeAdmin(t)
		const n, long = 300, 5200
		start := time.Date(2024, 1, 1, 8, 0, 0, 0, time.UTC)
		seeded, err := messagingtest.Seed(ctx, d, f.v, messagingtest.Box{OrgID: f.org.ID, Owner: f.hr, Threads: n, Messages: 3, Others: 40,
			UnreadEvery: 3, Start: start})
		if err != nil {
			t.Fatal(err)
		}
		// One of them long: more messages than retention reads at a time.
		if err := messagingtest.LongThread(ctx, d, f.v, seeded.Threads[0], f.hr.ID, seeded.Others[0].ID, long, start); err != nil {
			t.Fatal(err)
		}
		f.clk.Set(time.Date(2026, 2, 23, 9, 0, 0, 0, time.UTC))
		keep := f.composeWithFile(t, "jan@example.nl", "Nieuw")
		if err := f.svc.SetRetention(ctx, f.hr.Identity(), messaging.RetentionInput{Conversations: "12"}); err != nil {
			t.Fatal(err)
		}
		f.svc.RunDaily(ctx) // the day the setting was saved deletes nothing
		f.clk.Set(time.Date(2026, 2, 24, 3, 0, 0, 0, i18n.Zone))
		var runErr error
		stmts := dbtest.CountStatements(d).Run(func(ctx context.Context) { _, runErr = f.svc.RunDaily(ctx) })
		if runErr != nil {
			t.Fatal(runErr)
		}
		if st, _ := f.svc.Retention(ctx, f.hr.Identity()); st.Last.Conversations != n || st.Last.Messages != 3*n+long {
			t.Fatalf("last result %+v", st.Last)
		}
		// About 70 for the run and the conversations, and four for each
		// 500 messages (purgeChunk) of the long one.
		if len(stmts) > 150 {
			t.Errorf("retention of %d conversations ran %d statements", n, len(stmts))
		}
		if f.count(t, "threads", "1 = 1") != 1 || !f.threadExists(t, keep) {
			t.Fatal("the young conversation should be all that is left")
		}
		checkCounters(t, d, "retention")
	})
}

// TestDailyCleanup: the cleanup deletes exactly the unused invitations
// older than 30 days (and the invited people who take part in nothing,
// like a stopped account), outbox rows delivered more than 7 days ago or
// failed and queued more than 30 days ago, sessions ended or expired more than a day ago, throttle rows whose
// window passed and one-time codes a day after they expired, and keeps the rest.
func TestDailyCleanup(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := setup(t, d)
		run := time.Date(2026, 3, 10, 3, 0, 0, 0, i18n.Zone).UTC()
		inv := f.svc.Invitations
		invite := func(email string, at time.Time, admin bool) *db.User {
			t.Helper()
			f.clk.Set(at)
			_, u, err := inv.Invite(ctx, auth.InviteInput{Email: email, OrgID: f.org.ID, Admin: admin})
			if err != nil {
				t.Fatal(err)
			}
			return u
		}
		gone := invite("vergeten@example.nl", run.AddDate(0, 0, -40), false)
		invite("vergeten@example.nl", run.AddDate(0, 0, -35), false) // a second link, also old
		recent := invite("recent@example.nl", run.AddDate(0, 0, -10), false)
		admin := invite("beheerder@example.nl", run.AddDate(0, 0, -40), true)
		// An invited colleague in a team that has no conversation yet.
		f.clk.Set(run.AddDate(0, 0, -40))
		_, colleague, err := inv.Invite(ctx, auth.InviteInput{Email: "collega@osaw.nl", OrgID: f.org.ID, Internal: true})
		if err != nil {
			t.Fatal(err)
		}
		team, err := f.svc.CreateTeam(ctx, f.org.ID, "OSAW Verzuim", false, true)
		if err != nil {
			t.Fatal(err)
		}
		if err := f.svc.AddTeamMember(ctx, team.ID, colleague.Email); err != nil {
			t.Fatal(err)
		}
		// An invited person in a conversation stays with their newest link.
		f.clk.Set(run.AddDate(0, 0, -45))
		if _, err := f.svc.Compose(ctx, f.hr.Identity(), messaging.ComposeInput{To: []string{"deelnemer@example.nl"}, Subject: "Hallo", Body: "Hoi"}); err != nil {
			t.Fatal(err)
		}
		taking := f.user(t, "deelnemer@example.nl")
		invite(taking.Email, run.AddDate(0, 0, -40), false)
		// An old link of someone who then signed up through a newer one.
		active := invite("actief@example.nl", run.AddDate(0, 0, -50), false)
		if _, err := d.NewUpdate().Model(active).Set("status = ?", db.StatusActive).WherePK().Exec(ctx); err != nil {
			t.Fatal(err)
		}
		// The invited person who never signed up had a session once (the
		// link opened, no password set), long ended.
		if _, err := d.NewInsert().Model(&db.Session{TokenHash: []byte("g"), UserID: gone.ID, CreatedAt: run.AddDate(0, 0, -35),
			LastSeenAt: run.AddDate(0, 0, -35), ExpiresAt: run.AddDate(0, 0, -35).Add(auth.SessionAbsolute)}).Exec(ctx); err != nil {
			t.Fatal(err)
		}

		day := 24 * time.Hour
		outbox := map[string]bool{} // idempotency key: kept
		for key, row := range map[string]struct {
			status string
			sent   time.Time
			keep   bool
		}{
			"sent-8d": {db.OutboxSent, run.Add(-8 * day), false},
			"sent-6d": {db.OutboxSent, run.Add(-6 * day), true},
			"pending": {db.OutboxPending, time.Time{}, true},
			"failed":  {db.OutboxFailed, time.Time{}, true},
			// A row that failed for good is kept a month after it was
			// queued, for its reason, and then goes with its address.
			"failed-31d": {db.OutboxFailed, time.Time{}, false},
		} {
			queued := run.Add(-9 * day)
			if key == "failed-31d" {
				queued = run.Add(-31 * day)
			}
			it := &db.OutboxItem{IdempotencyKey: key, Channel: db.ChannelMail, Recipient: "x@example.nl", Status: row.status,
				Transport: "dev", CreatedAt: queued, NextAttemptAt: queued, SentAt: bun.NullTime{Time: row.sent}}
			if _, err := d.NewInsert().Model(it).Exec(ctx); err != nil {
				t.Fatal(err)
			}
			outbox[key] = row.keep
		}
		sessions := map[string]bool{}
		for agent, row := range map[string]struct {
			created, seen, ended time.Time
			keep                 bool
		}{
			"ended-2d":   {run.Add(-3 * day), run.Add(-2 * day), run.Add(-2 * day), false},
			"ended-1h":   {run.Add(-2 * time.Hour), run.Add(-time.Hour), run.Add(-time.Hour), true},
			"expired-2d": {run.Add(-3 * day), run.Add(-2*day - time.Hour), time.Time{}, false},
			"idle-1h":    {run.Add(-2 * time.Hour), run.Add(-time.Hour), time.Time{}, true},
			// Idle for more than a day, though its absolute expiry is
			// less than a day ago.
			"idle-29h": {run.Add(-30 * time.Hour), run.Add(-29 * time.Hour), time.Time{}, false},
			// Idle since a bit less than a day ago.
			"idle-23h": {run.Add(-30 * time.Hour), run.Add(-23 * time.Hour), time.Time{}, true},
			"live":     {run.Add(-time.Hour), run.Add(-time.Minute), time.Time{}, true},
		} {
			s := &db.Session{TokenHash: []byte(agent), UserID: f.hr.ID, CreatedAt: row.created, LastSeenAt: row.seen,
				ExpiresAt: row.created.Add(auth.SessionAbsolute), EndedAt: bun.NullTime{Time: row.ended}, UserAgent: agent}
			if _, err := d.NewInsert().Model(s).Exec(ctx); err != nil {
				t.Fatal(err)
			}
			sessions[agent] = row.keep
		}
		if _, err := d.NewDelete().Model((*db.Throttle)(nil)).Where("1 = 1").Exec(ctx); err != nil { // those of the invitations above
			t.Fatal(err)
		}
		throttles := map[string]bool{}
		for key, row := range map[string]struct {
			start, blocked time.Time
			keep           bool
		}{
			"old":          {run.Add(-2 * day), time.Time{}, false},
			"old-blocked":  {run.Add(-2 * day), run.Add(time.Minute), true},
			"old-unlocked": {run.Add(-2 * day), run.Add(-2*day + 5*time.Minute), false},
			"current":      {run.Add(-time.Hour), time.Time{}, true},
		} {
			if _, err := d.NewInsert().Model(&db.Throttle{Key: key, Count: 3, WindowStart: row.start, BlockedUntil: bun.NullTime{Time: row.blocked}}).Exec(ctx); err != nil {
				t.Fatal(err)
			}
			throttles[key] = row.keep
		}
		// One-time codes, with the numbers they went to, go a day after
		// they expired.
		codes := map[string]bool{}
		for target, row := range map[string]struct {
			expired time.Time
			keep    bool
		}{
			"+31600000001": {run.Add(-2 * day), false},
			"+31600000002": {run.Add(-time.Hour), true},
		} {
			if _, err := d.NewInsert().Model(&db.OneTimeCode{UserID: f.hr.ID, Purpose: auth.PurposeSMSSetup, Target: target, CodeHash: []byte(target),
				SentAt: row.expired.Add(-auth.SMSCodeTTL), ExpiresAt: row.expired}).Exec(ctx); err != nil {
				t.Fatal(err)
			}
			codes[target] = row.keep
		}
		invitationsBefore := f.count(t, "invitations", "1 = 1")

		f.clk.Set(run.Add(-time.Hour))
		if _, err := f.svc.RunDaily(ctx); err != nil {
			t.Fatal(err)
		}
		if n := f.count(t, "invitations", "1 = 1"); n != invitationsBefore {
			t.Fatal("the cleanup ran before 03:00")
		}
		f.clk.Set(run)
		if _, err := f.svc.RunDaily(ctx); err != nil {
			t.Fatal(err)
		}

		for email, want := range map[string]bool{gone.Email: false, recent.Email: true, admin.Email: true, taking.Email: true, active.Email: true, colleague.Email: true} {
			if got := f.count(t, "users", "email = ?", email) == 1; got != want {
				t.Errorf("user %s kept: %v, want %v", email, got, want)
			}
		}
		if n := f.count(t, "outbox", "recipient = ?", gone.Email); n != 0 {
			t.Errorf("%d queued mails to the deleted person left", n)
		}
		if n := f.count(t, "audit_events", "kind = ? AND user_id IS NULL", messaging.AuditInvitationExpired); n != 1 {
			t.Errorf("%d audit rows of deleted invited people, want 1", n)
		}
		// Invitations: recent's, the admin's (kept with them) and the
		// participant's newest stay; the participant's first, and the
		// active user's unused one, go.
		for email, want := range map[string]int{recent.Email: 1, admin.Email: 1, taking.Email: 1, active.Email: 0} {
			if n := f.count(t, "invitations", "user_id = (SELECT id FROM users WHERE email = ?)", email); n != want {
				t.Errorf("invitations of %s: %d, want %d", email, n, want)
			}
		}
		for key, keep := range outbox {
			if got := f.count(t, "outbox", "idempotency_key = ?", key) == 1; got != keep {
				t.Errorf("outbox row %s kept: %v, want %v", key, got, keep)
			}
		}
		for agent, keep := range sessions {
			if got := f.count(t, "sessions", "user_agent = ?", agent) == 1; got != keep {
				t.Errorf("session %s kept: %v, want %v", agent, got, keep)
			}
		}
		for key, keep := range throttles {
			if got := f.count(t, "throttles", "key = ?", key) == 1; got != keep {
				t.Errorf("throttle %s kept: %v, want %v", key, got, keep)
			}
		}
		for target, keep := range codes {
			if got := f.count(t, "one_time_codes", "target = ?", target) == 1; got != keep {
				t.Errorf("code to %s kept: %v, want %v", target, got, keep)
			}
		}
		var result string
		if err := d.NewSelect().Table("daily_runs").Column("last_result").Where("job = 'cleanup'").Scan(ctx, &result); err != nil {
			t.Fatal(err)
		}
		if want := `{"invitations":2,"invited_users":1,"outbox":2,"sessions":3,"throttles":2,"sso_logins":0,"codes":1,"late_files":0,"kept_texts":0}`; result != want {
			t.Errorf("cleanup result %s, want %s", result, want)
		}
		checkCounters(t, d, "cleanup")
	})
}

// TestRetentionClosedCases: with a case period of three months the daily
// run deletes exactly the cases closed before the cut-off (to the minute),
// every conversation in them with its messages, read states, participants
// and files (none left in the data dir), and then the case itself; it
// keeps a case closed just after the cut-off, open cases (also one closed
// long ago and reopened), conversations outside cases, and another
// organisation's closed case. The counters stay right.
func TestRetentionClosedCases(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := setup(t, d)
		f.makeAdmin(t)
		jan := f.active(t, "jan@example.nl", false, "Jan", "", "Jansen")
		piet := f.active(t, "piet@example.nl", false, "Piet", "", "Post")
		run := time.Date(2026, 6, 24, 3, 0, 0, 0, i18n.Zone)
		cutoff := messaging.RetentionCutoff(run, 3)

		f.clk.Set(time.Date(2026, 2, 23, 9, 0, 0, 0, time.UTC))
		first := f.composeWithFile(t, jan.Email, "Eerste gesprek")
		second := f.composeWithFile(t, jan.Email, "Tweede gesprek")
		kept := f.composeWithFile(t, piet.Email, "Net gesloten")
		open := f.composeWithFile(t, piet.Email, "Open dossier")
		reopened := f.composeWithFile(t, jan.Email, "Heropend")
		loose := f.composeWithFile(t, jan.Email, "Zonder dossier")
		newCase := func(tid, subject int64, ref string) int64 {
			t.Helper()
			id, err := f.svc.CreateCaseForThread(ctx, f.hr.Identity(), tid, subject, ref)
			if err != nil {
				t.Fatal(err)
			}
			return id
		}
		old := newCase(first, jan.ID, "P-1")
		if err := f.svc.AddThreadToCase(ctx, f.hr.Identity(), second, old); err != nil {
			t.Fatal(err)
		}
		young := newCase(kept, piet.ID, "P-2")
		openCase := newCase(open, piet.ID, "P-3")
		again := newCase(reopened, jan.ID, "P-4")
		setClosed := func(id int64, closed bool) {
			t.Helper()
			if err := f.svc.SetCaseClosed(ctx, f.hr.Identity(), id, closed); err != nil {
				t.Fatal(err)
			}
		}
		setClosed(again, true)
		setClosed(again, false)
		// Another organisation's case, closed long ago; its retention is off.
		other := &db.Organisation{Name: "Ander", CreatedAt: f.clk.Now()}
		if _, err := d.NewInsert().Model(other).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		stranger := f.active(t, "hr@ander.nl", true, "Anna", "", "Ander")
		if _, err := d.NewUpdate().Model(stranger).Set("org_id = ?", other.ID).WherePK().Exec(ctx); err != nil {
			t.Fatal(err)
		}
		stranger.OrgID = &other.ID
		elsewhere, err := f.svc.Compose(ctx, stranger.Identity(), messaging.ComposeInput{To: []string{jan.Email}, Subject: "Elders", Body: "Hallo"})
		if err != nil {
			t.Fatal(err)
		}
		otherCase, err := f.svc.CreateCaseForThread(ctx, stranger.Identity(), elsewhere, jan.ID, "X-1")
		if err != nil {
			t.Fatal(err)
		}
		if err := f.svc.SetCaseClosed(ctx, stranger.Identity(), otherCase, true); err != nil {
			t.Fatal(err)
		}
		f.clk.Set(cutoff.Add(-time.Minute))
		if _, err := f.svc.Reply(ctx, jan.Identity(), messaging.ReplyInput{ThreadID: first, Body: "Nog een laatste vraag"}); err != nil {
			t.Fatal(err)
		}
		setClosed(old, true)
		f.clk.Set(cutoff.Add(time.Minute))
		setClosed(young, true)
		checkCounters(t, d, "setting up")
		oldKeys := append(f.storageKeys(t, first), f.storageKeys(t, second)...)
		if len(oldKeys) != 2 {
			t.Fatalf("the old case holds %d files, want 2", len(oldKeys))
		}
		janUnread, _ := f.svc.UnreadCount(ctx, jan.ID)

		caseExists := func(id int64) bool {
			t.Helper()
			ok, err := d.NewSelect().Model((*db.Case)(nil)).Where("id = ?", id).Exists(ctx)
			if err != nil {
				t.Fatal(err)
			}
			return ok
		}
		// Off by default: a run deletes nothing.
		f.clk.Set(run.Add(-25 * time.Hour))
		if _, err := f.svc.RunDaily(ctx); err != nil {
			t.Fatal(err)
		}
		f.clk.Set(run.Add(-24*time.Hour + time.Minute))
		if n, err := f.svc.RunDaily(ctx); err != nil || n == 0 {
			t.Fatalf("run while off: %d jobs, %v", n, err)
		}
		if !caseExists(old) || !f.threadExists(t, first) {
			t.Fatal("a closed case was deleted while retention is off")
		}

		if err := f.svc.SetRetention(ctx, f.hr.Identity(), messaging.RetentionInput{Cases: "3"}); err != nil {
			t.Fatal(err)
		}
		f.clk.Set(run)
		if _, err := f.svc.RunDaily(ctx); err != nil {
			t.Fatal(err)
		}
		for id, want := range map[int64]bool{old: false, young: true, openCase: true, again: true, otherCase: true} {
			if got := caseExists(id); got != want {
				t.Errorf("case %d exists: %v, want %v", id, got, want)
			}
		}
		for id, want := range map[int64]bool{first: false, second: false, kept: true, open: true, reopened: true, loose: true, elsewhere: true} {
			if got := f.threadExists(t, id); got != want {
				t.Errorf("conversation %d exists: %v, want %v", id, got, want)
			}
		}
		for _, table := range []string{"messages", "participants"} {
			if n := f.count(t, table, "thread_id IN (?, ?)", first, second); n != 0 {
				t.Errorf("%d %s of the deleted case's conversations left", n, table)
			}
		}
		if n := f.count(t, "message_states", "message_id NOT IN (SELECT id FROM messages)"); n != 0 {
			t.Errorf("%d read states of deleted messages left", n)
		}
		if n := f.count(t, "attachments", "message_id IS NULL OR message_id NOT IN (SELECT id FROM messages)"); n != 0 {
			t.Errorf("%d attachment rows left", n)
		}
		for _, k := range oldKeys {
			if f.inStore(t, k) {
				t.Errorf("file %s of the deleted case is still in the blob store", k)
			}
		}
		files := 0
		filepath.WalkDir(f.dir, func(p string, e fs.DirEntry, err error) error {
			if err == nil && !e.IsDir() {
				files++
			}
			return nil
		})
		if files != 4 { // kept, open, reopened, loose
			t.Errorf("%d files on disk, want 4", files)
		}
		checkCounters(t, d, "case retention")
		if n, _ := f.svc.UnreadCount(ctx, jan.ID); n != janUnread-2 {
			t.Errorf("jan's unread count %d, want %d", n, janUnread-2)
		}
		st, err := f.svc.Retention(ctx, f.hr.Identity())
		if err != nil {
			t.Fatal(err)
		}
		want := messaging.RetentionResult{Cases: 1, Conversations: 2, Messages: 3, Files: 2}
		if st.CaseMonths != 3 || st.ConversationMonths != 0 || st.Last != want || !st.LastRunAt.Equal(run) {
			t.Fatalf("status after the run: %+v, want last %+v", st, want)
		}
	})
}

// TestRetentionCasesKeepRequestsUnderWay, on both engines: the retention
// of closed cases follows the rule of the conversations (retainedThread)
// for their signing requests. A case closed before the cutoff is kept, with
// all its conversations, while one of them holds a request still under way
// (open, or agreed and waiting to be sealed): deleting it would take the
// document away from the people asked to agree to it, or an agreement
// before it is sealed. A request that ended after the cutoff counts as
// activity and keeps the case too; one that ended before it, or an agreed
// one whose document is gone (it can never be sealed), keeps nothing.
func TestRetentionCasesKeepRequestsUnderWay(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := setup(t, d)
		f.makeAdmin(t)
		jan := f.active(t, "jan@example.nl", false, "Jan", "", "Jansen")
		run := time.Date(2026, 6, 24, 3, 0, 0, 0, i18n.Zone)
		cutoff := messaging.RetentionCutoff(run, 3)

		f.clk.Set(time.Date(2026, 2, 23, 9, 0, 0, 0, time.UTC))
		var cases []int64
		closedCase := func(ref string, threads int) (int64, []int64) {
			t.Helper()
			var tids []int64
			for i := range threads {
				tids = append(tids, f.composeWithFile(t, jan.Email, fmt.Sprintf("%s gesprek %d", ref, i+1)))
			}
			id, err := f.svc.CreateCaseForThread(ctx, f.hr.Identity(), tids[0], jan.ID, ref)
			if err != nil {
				t.Fatal(err)
			}
			for _, tid := range tids[1:] {
				if err := f.svc.AddThreadToCase(ctx, f.hr.Identity(), tid, id); err != nil {
					t.Fatal(err)
				}
			}
			cases = append(cases, id)
			return id, tids
		}
		openCase, openThreads := closedCase("P-1", 2)
		agreedCase, agreedThreads := closedCase("P-2", 1)
		goneCase, goneThreads := closedCase("P-3", 1)
		endedBefore, endedBeforeThreads := closedCase("P-4", 1)
		endedAfter, endedAfterThreads := closedCase("P-5", 1)
		plainCase, plainThreads := closedCase("P-6", 1)

		// Every case closed a month before the cutoff.
		f.clk.Set(cutoff.AddDate(0, -1, 0))
		for _, id := range cases {
			if err := f.svc.SetCaseClosed(ctx, f.hr.Identity(), id, true); err != nil {
				t.Fatal(err)
			}
		}
		// The requests, made in the cases' conversations before they
		// closed, as signing stores them.
		request := func(tid int64, status string, withDocument bool, closed time.Time) {
			t.Helper()
			var attachment, closedAt any
			if withDocument {
				var id int64
				if err := d.NewSelect().TableExpr("attachments AS a").Column("a.id").Join("JOIN messages AS m ON m.id = a.message_id").
					Where("m.thread_id = ?", tid).Limit(1).Scan(ctx, &id); err != nil {
					t.Fatal(err)
				}
				attachment = id
			}
			if !closed.IsZero() {
				closedAt = closed
			}
			made := time.Date(2026, 2, 23, 10, 0, 0, 0, time.UTC)
			if _, err := d.NewRaw(`INSERT INTO signing_requests (thread_id, org_id, attachment_id, requester_name, name_sealed, sha256, pages, in_order, status, created_at, updated_at, closed_at)
VALUES (?, ?, ?, 'Hanna de Vries', ?, 'x', 1, FALSE, ?, ?, ?, ?)`, tid, f.org.ID, attachment, []byte{1}, status, made, made, closedAt).Exec(ctx); err != nil {
				t.Fatal(err)
			}
		}
		request(openThreads[1], "open", true, time.Time{})
		request(agreedThreads[0], "agreed", true, time.Time{})
		request(goneThreads[0], "agreed", false, time.Time{})
		request(endedBeforeThreads[0], "declined", true, cutoff.Add(-time.Minute))
		request(endedAfterThreads[0], "sealed", true, cutoff.Add(time.Minute))
		checkCounters(t, d, "setting up")

		if err := f.svc.SetRetention(ctx, f.hr.Identity(), messaging.RetentionInput{Cases: "3"}); err != nil {
			t.Fatal(err)
		}
		f.clk.Set(run.Add(-25 * time.Hour))
		if _, err := f.svc.RunDaily(ctx); err != nil { // schedules the next 03:00
			t.Fatal(err)
		}
		f.clk.Set(run)
		if _, err := f.svc.RunDaily(ctx); err != nil {
			t.Fatal(err)
		}
		caseExists := func(id int64) bool {
			t.Helper()
			ok, err := d.NewSelect().Model((*db.Case)(nil)).Where("id = ?", id).Exists(ctx)
			if err != nil {
				t.Fatal(err)
			}
			return ok
		}
		for _, c := range []struct {
			name    string
			id      int64
			threads []int64
			kept    bool
		}{
			{"open request", openCase, openThreads, true},
			{"agreed request waiting to be sealed", agreedCase, agreedThreads, true},
			{"agreed request without its document", goneCase, goneThreads, false},
			{"request ended before the cutoff", endedBefore, endedBeforeThreads, false},
			{"request ended after the cutoff", endedAfter, endedAfterThreads, true},
			{"no request", plainCase, plainThreads, false},
		} {
			if got := caseExists(c.id); got != c.kept {
				t.Errorf("case with %s: exists %v, want %v", c.name, got, c.kept)
			}
			for _, tid := range c.threads {
				if got := f.threadExists(t, tid); got != c.kept {
					t.Errorf("conversation %d of the case with %s: exists %v, want %v", tid, c.name, got, c.kept)
				}
			}
		}
		if n := f.count(t, "signing_requests", "status IN ('open', 'agreed') AND attachment_id IS NOT NULL"); n != 2 {
			t.Errorf("%d requests under way left, want 2", n)
		}
		checkCounters(t, d, "case retention")
		st, err := f.svc.Retention(ctx, f.hr.Identity())
		if err != nil {
			t.Fatal(err)
		}
		if st.Last.Cases != 3 || st.Last.Conversations != 3 {
			t.Errorf("last run %+v, want 3 cases with 3 conversations", st.Last)
		}
	})
}

// A conversation's last activity is its newest message: when the newest
// is deleted for everyone, the conversation's time goes back to the one
// before it, for the inbox and for retention, which then deletes the
// conversation once that message is older than the period.
func TestRetentionAfterNewestDeleted(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := setup(t, d)
		f.makeAdmin(t)
		jan := f.active(t, "jan@example.nl", false, "Jan", "", "Jansen")
		run := time.Date(2026, 6, 24, 3, 0, 0, 0, i18n.Zone)
		cutoff := messaging.RetentionCutoff(run, 3)

		first := time.Date(2026, 2, 23, 9, 0, 0, 0, time.UTC)
		f.clk.Set(first)
		tid := f.composeWithFile(t, jan.Email, "Oud")
		f.clk.Set(cutoff.Add(24 * time.Hour))
		mid, err := f.svc.Reply(ctx, f.hr.Identity(), messaging.ReplyInput{ThreadID: tid, Body: "Verkeerd bericht"})
		if err != nil {
			t.Fatal(err)
		}
		if err := f.svc.DeleteForEveryone(ctx, f.hr.Identity(), mid); err != nil {
			t.Fatal(err)
		}
		p, err := f.svc.Inbox(ctx, jan.Identity(), 1, "")
		if err != nil || len(p.Threads) != 1 {
			t.Fatalf("jan's inbox: %+v %v", p, err)
		}
		if got := p.Threads[0].LastMessageAt; !got.Equal(first) {
			t.Errorf("the inbox shows %v, the time of a deleted message; want %v", got, first)
		}

		if err := f.svc.SetRetention(ctx, f.hr.Identity(), messaging.RetentionInput{Conversations: "3"}); err != nil {
			t.Fatal(err)
		}
		f.clk.Set(run.Add(-25 * time.Hour))
		if _, err := f.svc.RunDaily(ctx); err != nil {
			t.Fatal(err)
		}
		f.clk.Set(run)
		if _, err := f.svc.RunDaily(ctx); err != nil {
			t.Fatal(err)
		}
		if f.threadExists(t, tid) {
			t.Error("a conversation whose newest message is older than the period is kept")
		}
		checkCounters(t, d, "retention")
	})
}

// A calendar month back from the end of a longer month ends on the last
// day of the shorter one: the run of 31 March that keeps a month keeps a
// conversation of 1 March, where the date arithmetic of "31 February"
// made the cutoff 3 March and deleted it.
func TestRetentionMonthEnd(t *testing.T) {
	for _, c := range []struct {
		run    time.Time
		months int
		want   time.Time
	}{
		{time.Date(2026, 3, 31, 3, 0, 0, 0, i18n.Zone), 1, time.Date(2026, 2, 28, 3, 0, 0, 0, i18n.Zone)},
		{time.Date(2028, 3, 31, 3, 0, 0, 0, i18n.Zone), 1, time.Date(2028, 2, 29, 3, 0, 0, 0, i18n.Zone)},
		{time.Date(2026, 5, 31, 3, 0, 0, 0, i18n.Zone), 1, time.Date(2026, 4, 30, 3, 0, 0, 0, i18n.Zone)},
		{time.Date(2026, 8, 31, 3, 0, 0, 0, i18n.Zone), 6, time.Date(2026, 2, 28, 3, 0, 0, 0, i18n.Zone)},
		{time.Date(2026, 6, 24, 3, 0, 0, 0, i18n.Zone), 3, time.Date(2026, 3, 24, 3, 0, 0, 0, i18n.Zone)},
		{time.Date(2026, 1, 31, 3, 0, 0, 0, i18n.Zone), 120, time.Date(2016, 1, 31, 3, 0, 0, 0, i18n.Zone)},
	} {
		if got := messaging.RetentionCutoff(c.run, c.months); !got.Equal(c.want) {
			t.Errorf("cutoff of %v minus %d months: %v, want %v", c.run, c.months, got.In(i18n.Zone), c.want)
		}
	}
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := setup(t, d)
		f.makeAdmin(t)
		jan := f.active(t, "jan@example.nl", false, "Jan", "", "Jansen")
		run := time.Date(2026, 3, 31, 3, 0, 0, 0, i18n.Zone)
		f.clk.Set(time.Date(2026, 2, 27, 12, 0, 0, 0, time.UTC))
		old := f.composeWithFile(t, jan.Email, "Ouder dan een maand")
		f.clk.Set(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
		young := f.composeWithFile(t, jan.Email, "Jonger dan een maand")
		if err := f.svc.SetRetention(ctx, f.hr.Identity(), messaging.RetentionInput{Conversations: "1"}); err != nil {
			t.Fatal(err)
		}
		f.clk.Set(run.Add(-25 * time.Hour))
		if _, err := f.svc.RunDaily(ctx); err != nil {
			t.Fatal(err)
		}
		f.clk.Set(run)
		if _, err := f.svc.RunDaily(ctx); err != nil {
			t.Fatal(err)
		}
		if f.threadExists(t, old) {
			t.Error("a conversation older than a month is kept")
		}
		if !f.threadExists(t, young) {
			t.Error("a conversation of 1 March is deleted by the run of 31 March that keeps a month")
		}
	})
}

// A conversation in a case is kept as long as its case: the conversation
// period does not take it out of an open case, nor out of a closed one
// (only the case period deletes a closed case, with its conversations).
func TestRetentionKeepsConversationsInCases(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := setup(t, d)
		f.makeAdmin(t)
		jan := f.active(t, "jan@example.nl", false, "Jan", "", "Jansen")
		run := time.Date(2026, 6, 24, 3, 0, 0, 0, i18n.Zone)
		f.clk.Set(time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC))
		inOpen := f.composeWithFile(t, jan.Email, "In een open dossier")
		inClosed := f.composeWithFile(t, jan.Email, "In een gesloten dossier")
		loose := f.composeWithFile(t, jan.Email, "Zonder dossier")
		if _, err := f.svc.CreateCaseForThread(ctx, f.hr.Identity(), inOpen, jan.ID, "P-1"); err != nil {
			t.Fatal(err)
		}
		closed, err := f.svc.CreateCaseForThread(ctx, f.hr.Identity(), inClosed, jan.ID, "P-2")
		if err != nil {
			t.Fatal(err)
		}
		if err := f.svc.SetCaseClosed(ctx, f.hr.Identity(), closed, true); err != nil {
			t.Fatal(err)
		}
		if err := f.svc.SetRetention(ctx, f.hr.Identity(), messaging.RetentionInput{Conversations: "3"}); err != nil {
			t.Fatal(err)
		}
		for _, at := range []time.Time{run.Add(-25 * time.Hour), run} { // the first run schedules the next
			f.clk.Set(at)
			if _, err := f.svc.RunDaily(ctx); err != nil {
				t.Fatal(err)
			}
		}
		for id, want := range map[int64]bool{inOpen: true, inClosed: true, loose: false} {
			if got := f.threadExists(t, id); got != want {
				t.Errorf("conversation %d exists after the conversation period: %v, want %v", id, got, want)
			}
		}
		checkCounters(t, d, "conversation retention")

		// The case period takes the closed case with its conversation; the
		// open case keeps its own.
		if err := f.svc.SetRetention(ctx, f.hr.Identity(), messaging.RetentionInput{Conversations: "3", Cases: "3"}); err != nil {
			t.Fatal(err)
		}
		f.clk.Set(run.AddDate(0, 0, 1))
		if _, err := f.svc.RunDaily(ctx); err != nil {
			t.Fatal(err)
		}
		for id, want := range map[int64]bool{inOpen: true, inClosed: false} {
			if got := f.threadExists(t, id); got != want {
				t.Errorf("conversation %d exists after the case period: %v, want %v", id, got, want)
			}
		}
		checkCounters(t, d, "case retention")
	})
}

// TestRetentionChangeAudit: a change of the retention periods is audited,
// in its transaction, with the organisation's id and the admin's address,
// as every Beheer action is: the organisation's audit log keeps it also
// when the admin is gone. An admin disabled meanwhile changes nothing
// (auth.AdminOrg, the rule of all Beheer).
func TestRetentionChangeAudit(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := setup(t, d)
		f.makeAdmin(t)
		if err := f.svc.SetRetention(ctx, f.hr.Identity(), messaging.RetentionInput{Conversations: "12", IP: "192.0.2.7"}); err != nil {
			t.Fatal(err)
		}
		if n := f.count(t, "audit_events", "kind = ? AND actor_id = ? AND org_id = ? AND ip = ?",
			messaging.AuditRetentionChanged, f.hr.ID, f.org.ID, "192.0.2.7"); n != 1 {
			t.Errorf("%d audit rows of the change with the organisation and the address, want 1", n)
		}
		disabled := f.hr.Identity()
		disabled.Status = db.StatusDisabled
		if err := f.svc.SetRetention(ctx, disabled, messaging.RetentionInput{Conversations: "1"}); apperr.CodeOf(err) != apperr.NotFound {
			t.Errorf("a disabled admin sets retention: %v, want NotFound", err)
		}
		if _, err := f.svc.Retention(ctx, disabled); apperr.CodeOf(err) != apperr.NotFound {
			t.Errorf("a disabled admin reads retention: %v, want NotFound", err)
		}
	})
}
