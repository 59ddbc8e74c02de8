package messaging_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"dialoog/auth"
	"dialoog/db"
	"dialoog/db/dbtest"
	"dialoog/i18n"
	"dialoog/messaging"
)

// cleanupIndexes names, by the start of a statement of the nightly
// cleanup, the index it must read what it deletes through: the invited
// people who never came (their status changes once, their creation time
// never), the unused invitations (used once), the sessions by when they
// expire at the latest (set once; not by when they were last seen, which
// moves every minute of a session), the one-time codes and the single
// sign-on logins by when they expire (set once).
var cleanupIndexes = map[string]string{
	`SELECT "u"."id" FROM users AS u`:          "users_invited_idx",
	"DELETE FROM invitations WHERE id IN (":    "invitations_unused_idx",
	"DELETE FROM sessions WHERE id IN (":       "sessions_expires_idx",
	"DELETE FROM one_time_codes WHERE id IN (": "one_time_codes_expires_idx",
	"DELETE FROM sso_logins WHERE id IN (":     "sso_logins_expires_idx",
	"DELETE FROM kept_texts WHERE id IN (":     "kept_texts_expires_idx",
}

// TestCleanupPlans checks with EXPLAIN, on both engines and with and
// without planner statistics, that no statement of the nightly cleanup
// (the daily run at 03:00: the invited people who never came, with what
// deleting each of them deletes, old invitations, delivered mail, ended
// and expired sessions, throttles, single sign-on logins, one-time codes,
// the files left behind; and the organisation's retention beside it)
// reads a whole table that grows with people or their logins, and that
// each purge reads what it deletes through its index (cleanupIndexes):
// once a night, but while it holds SQLite's one writer. (An ordered walk
// of the primary key under a LIMIT, which PostgreSQL's check takes for no
// whole read, reads every row when few match, as they do most nights: the
// index check catches that too.)
//
// May be read whole: the organisations, daily_runs and the terms versions
// (a few rows; on SQLite by their aliases o, r and tv); the throttle rows,
// which hold the keys of the last day or two, nearly all of which the
// night deletes, and which every attempt writes (an index by window would
// cost each a write); and the queues of files to remove (blob_deletions,
// blob_writes), every row of which is work, normally none.
func TestCleanupPlans(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := setup(t, d)
		first := time.Date(2026, 3, 10, 3, 0, 0, 0, i18n.Zone).UTC()
		f.clk.Set(first.Add(-time.Hour))
		if _, err := f.svc.RunDaily(ctx); err != nil { // schedules the jobs for 03:00
			t.Fatal(err)
		}
		seedSignedUp(t, d, f.org.ID, first, 2000)
		stmts := dbtest.CountStatements(d)
		pass := 0
		dbtest.ForStatistics(t, d, func(t *testing.T, name string) {
			run := first.AddDate(0, 0, pass)
			pass++
			day := 24 * time.Hour
			// An invited person who never came, with a session once (the
			// link opened), long over; and one in a conversation, kept
			// with their newest link.
			f.clk.Set(run.AddDate(0, 0, -40))
			_, gone, err := f.svc.Invitations.Invite(ctx, auth.InviteInput{Email: "vergeten-" + name + "@example.nl", OrgID: f.org.ID})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := d.NewInsert().Model(&db.Session{TokenHash: []byte("gone-" + name), UserID: gone.ID, CreatedAt: run.AddDate(0, 0, -35),
				LastSeenAt: run.AddDate(0, 0, -35), ExpiresAt: run.AddDate(0, 0, -35).Add(auth.SessionAbsolute)}).Exec(ctx); err != nil {
				t.Fatal(err)
			}
			f.clk.Set(run.AddDate(0, 0, -45))
			to := "deelnemer-" + name + "@example.nl"
			if _, err := f.svc.Compose(ctx, f.hr.Identity(), messaging.ComposeInput{To: []string{to}, Subject: "Hallo", Body: "Hoi"}); err != nil {
				t.Fatal(err)
			}
			f.clk.Set(run.AddDate(0, 0, -40))
			if _, _, err := f.svc.Invitations.Invite(ctx, auth.InviteInput{Email: to, OrgID: f.org.ID}); err != nil {
				t.Fatal(err)
			}
			// Sessions ended, expired and idle long ago, and a live one.
			for agent, row := range map[string]struct{ created, seen, ended time.Time }{
				"ended":   {run.Add(-3 * day), run.Add(-2 * day), run.Add(-2 * day)},
				"expired": {run.Add(-3 * day), run.Add(-2*day - time.Hour), time.Time{}},
				"idle":    {run.Add(-30 * time.Hour), run.Add(-29 * time.Hour), time.Time{}},
				"live":    {run.Add(-time.Hour), run.Add(-time.Minute), time.Time{}},
			} {
				if _, err := d.NewInsert().Model(&db.Session{TokenHash: []byte(agent + "-" + name), UserID: f.hr.ID, CreatedAt: row.created, LastSeenAt: row.seen,
					ExpiresAt: row.created.Add(auth.SessionAbsolute), EndedAt: bun.NullTime{Time: row.ended}, UserAgent: agent}).Exec(ctx); err != nil {
					t.Fatal(err)
				}
			}
			// Mail delivered long ago, an old throttle row and a code
			// that expired long ago.
			if _, err := d.NewInsert().Model(&db.OutboxItem{IdempotencyKey: "sent-" + name, Channel: db.ChannelMail, Recipient: "x@example.nl", Status: db.OutboxSent,
				Transport: "dev", CreatedAt: run.Add(-9 * day), NextAttemptAt: run.Add(-9 * day), SentAt: bun.NullTime{Time: run.Add(-8 * day)}}).Exec(ctx); err != nil {
				t.Fatal(err)
			}
			if _, err := d.NewInsert().Model(&db.Throttle{Key: "old-" + name, Count: 3, WindowStart: run.Add(-2 * day)}).Exec(ctx); err != nil {
				t.Fatal(err)
			}
			if _, err := d.NewInsert().Model(&db.OneTimeCode{UserID: f.hr.ID, Purpose: auth.PurposeSMSSetup, Target: "+3160000000" + name, CodeHash: []byte(name),
				SentAt: run.Add(-2*day - auth.SMSCodeTTL), ExpiresAt: run.Add(-2 * day)}).Exec(ctx); err != nil {
				t.Fatal(err)
			}
			f.clk.Set(run)
			var ran int
			var runErr error
			sqls := stmts.Run(func(ctx context.Context) { ran, runErr = f.svc.RunDaily(ctx) })
			if runErr != nil {
				t.Fatal(runErr)
			}
			if dbtest.TableScansExcept(t, d, sqls, "organisations", "o", "daily_runs", "r", "terms_versions", "tv",
				"throttles", "blob_deletions", "blob_writes") == 0 {
				t.Fatal("no statements recorded")
			}
			// What each purge reads, by the index of what it deletes.
			for prefix, index := range cleanupIndexes {
				found := false
				for _, sql := range sqls {
					if !strings.HasPrefix(sql, prefix) {
						continue
					}
					found = true
					if plan := strings.Join(dbtest.Plan(t, d, sql), "\n"); !strings.Contains(plan, index) {
						t.Errorf("%s is not used:\n%s\n%s", index, plan, sql)
					}
				}
				if !found {
					t.Errorf("no statement %q ran", prefix)
				}
			}
			if ran == 0 {
				t.Fatal("the cleanup did not run")
			}
			if n := f.count(t, "users", "email = ?", gone.Email); n != 0 {
				t.Fatal("the cleanup left the invited person who never came")
			}
		})
	})
}

// seedSignedUp adds n people who signed up through their invitation, each
// with a session in use and a code just sent at at, as the
// installation's tables hold most: what the cleanup keeps, so that the
// planners' statistics see tables that are not mostly what it deletes.
func seedSignedUp(t *testing.T, d *db.DB, orgID int64, at time.Time, n int) {
	t.Helper()
	ctx := context.Background()
	const chunk = 500
	for from := 0; from < n; from += chunk {
		var users []db.User
		for i := from; i < min(from+chunk, n); i++ {
			users = append(users, db.User{Email: fmt.Sprintf("volk-%d@example.nl", i), Kind: db.KindExternal, Status: db.StatusActive,
				Language: "nl", Gender: "unknown", CreatedAt: at.AddDate(0, 0, -60), UpdatedAt: at.AddDate(0, 0, -60)})
		}
		if _, err := d.NewInsert().Model(&users).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		var invitations []db.Invitation
		var sessions []db.Session
		var codes []db.OneTimeCode
		for _, u := range users {
			key := []byte(u.Email)
			invitations = append(invitations, db.Invitation{UserID: u.ID, OrgID: orgID, TokenHash: key, CreatedAt: at.AddDate(0, 0, -60),
				ExpiresAt: at.AddDate(0, 0, -53), UsedAt: bun.NullTime{Time: at.AddDate(0, 0, -59)}})
			sessions = append(sessions, db.Session{TokenHash: key, UserID: u.ID, CreatedAt: at.Add(-time.Hour), LastSeenAt: at.Add(-time.Minute),
				ExpiresAt: at.Add(-time.Hour + auth.SessionAbsolute)})
			codes = append(codes, db.OneTimeCode{UserID: u.ID, Purpose: auth.PurposeSMSSetup, Target: "+31612345678", CodeHash: key,
				SentAt: at.Add(-time.Minute), ExpiresAt: at.Add(-time.Minute + auth.SMSCodeTTL)})
		}
		for _, rows := range []any{&invitations, &sessions, &codes} {
			if _, err := d.NewInsert().Model(rows).Exec(ctx); err != nil {
				t.Fatal(err)
			}
		}
	}
}
