package messaging_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"dialoog/auth"
	"dialoog/db"
	"dialoog/db/dbtest"
	"dialoog/messaging"
	"dialoog/messaging/messagingtest"
	"dialoog/notify"
	"dialoog/notify/notifytest"
)

// smallTables are configuration tables: an installation has a few
// organisations, their branding, retention settings, terms versions and
// sign-in providers, and an organisation its few teams. Reading one whole
// costs what it holds, not what the installation holds.
var smallTables = []string{"organisations", "organisation_branding", "retention_settings", "terms_versions", "sso_providers", "teams"}

// TestEverydayPlans checks with EXPLAIN, on both engines, that no
// statement of the operations a conversation's people do every day reads
// a whole table that grows with people or messages, beside a box of 3,000
// conversations with 300 people: composing (to someone away too, who
// answers), opening and reading a conversation, replying (internal and
// external, with a file), downloading the file, adding someone, the live
// push, taking a message or a conversation out of one's box, deleting a
// message for everyone, the unread count, the contacts, the teams and the
// export of a box, small and of those 3,000 conversations. (The prepared statements of a reply are recorded too:
// db.AddQueryHook runs hooks around them.)
func TestEverydayPlans(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := setup(t, d)
		seeded, err := messagingtest.Seed(ctx, d, f.v, messagingtest.Box{OrgID: f.org.ID, Owner: f.hr, Threads: 3000, Messages: 2, Others: 300, UnreadEvery: 7})
		if err != nil {
			t.Fatal(err)
		}
		// Files as an installation holds them, in a colleague's box: a
		// table of a handful of rows is read whole by any plan, and is no
		// such installation.
		archive := f.active(t, "archief@osaw.nl", true, "Archief", "", "Osaw")
		filed, err := messagingtest.Seed(ctx, d, f.v, messagingtest.Box{OrgID: f.org.ID, Owner: archive, Threads: 1000, Messages: 3, Others: 10})
		if err != nil {
			t.Fatal(err)
		}
		var withFiles []int64
		if err := d.NewSelect().Model((*db.Message)(nil)).Column("id").Where("thread_id IN (?)", bun.In(filed.Threads)).Scan(ctx, &withFiles); err != nil {
			t.Fatal(err)
		}
		files := make([]db.Attachment, len(withFiles))
		for i, id := range withFiles {
			files[i] = db.Attachment{MessageID: &id, UploaderID: &archive.ID, ContentType: "application/pdf", Size: 1000,
				StorageKey: fmt.Sprintf("archief-%d", id), KeyID: "k", SHA256: []byte{1}, BlobFormat: 1, CreatedAt: f.clk.Now()}
		}
		if _, err := d.NewInsert().Model(&files).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		priv, pub, err := notify.GenerateVAPID()
		if err != nil {
			t.Fatal(err)
		}
		const subject = "mailto:beheer@osaw.nl"
		ps := notifytest.StartPushService(t, pub, subject)
		// The people Hanna writes with get pushes on their browsers.
		if err := d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
			for i, u := range seeded.Others {
				endpoint, p256dh, authKey := ps.NewBrowser(fmt.Sprintf("other%d", i))
				if err := notify.Subscribe(ctx, tx, f.v, u.ID, endpoint, notify.PushKeys{P256dh: p256dh, Auth: authKey}, "Test", pub, f.clk.Now()); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		stmts := dbtest.CountStatements(d)
		dbtest.ForStatistics(t, d, func(t *testing.T, sfx string) {
			jan := f.active(t, "jan"+sfx+"@example.nl", false, "Jan", "", "Jansen")
			kim := f.active(t, "kim"+sfx+"@example.nl", false, "Kim", "", "Smit")
			if _, err := d.NewUpdate().Model((*db.User)(nil)).Set("away_enabled = ?", true).
				Set("away_sealed = ?", auth.SealAway(f.v, kim.ID, "Ik ben afwezig")).Set("away_changed_at = ?", f.clk.Now().Add(-30*24*time.Hour)).
				Set("away_from = ?", f.clk.Now().Add(-24*time.Hour)).Set("away_until = ?", f.clk.Now().Add(24*time.Hour)).Where("id = ?", kim.ID).Exec(ctx); err != nil {
				t.Fatal(err)
			}
			op := func(what string, fn func(ctx context.Context) error) {
				t.Helper()
				stmts.ExplainOp(t, d, what, fn, smallTables...)
				f.clk.Add(time.Minute)
			}
			op("subscribe to push", func(ctx context.Context) error {
				endpoint, p256dh, authKey := ps.NewBrowser("jan" + sfx)
				return d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
					return notify.Subscribe(ctx, tx, f.v, jan.ID, endpoint, notify.PushKeys{P256dh: p256dh, Auth: authKey}, "Test", pub, f.clk.Now())
				})
			})
			var tid, tid2, mid, mid2 int64
			op("compose", func(ctx context.Context) (err error) {
				tid, err = f.svc.Compose(ctx, f.hr.Identity(), messaging.ComposeInput{To: []string{jan.Email, "nieuw" + sfx + "@example.nl"}, Subject: "Verzuim", Body: "Hoe gaat het?"})
				return err
			})
			op("compose to someone away", func(ctx context.Context) (err error) {
				tid2, err = f.svc.Compose(ctx, f.hr.Identity(), messaging.ComposeInput{To: []string{jan.Email, kim.Email}, Subject: "Overleg", Body: "Even overleggen"})
				return err
			})
			if v, err := f.svc.Thread(ctx, f.hr.Identity(), tid2); err != nil || len(v.Messages) != 2 || !v.Messages[1].AutoReply {
				t.Fatalf("no absence reply: %v", err)
			}
			var caseID int64
			op("open a case", func(ctx context.Context) (err error) {
				caseID, err = f.svc.CreateCaseForThread(ctx, f.hr.Identity(), tid, jan.ID, "P-"+sfx)
				return err
			})
			op("put a conversation in the case", func(ctx context.Context) error { return f.svc.AddThreadToCase(ctx, f.hr.Identity(), tid2, caseID) })
			op("the conversation's case", func(ctx context.Context) error { _, err := f.svc.ThreadCase(ctx, f.hr.Identity(), tid); return err })
			op("the case", func(ctx context.Context) error { _, err := f.svc.Case(ctx, f.hr.Identity(), caseID); return err })
			op("take a conversation out of the case", func(ctx context.Context) error { return f.svc.RemoveThreadFromCase(ctx, f.hr.Identity(), tid2) })
			op("open", func(ctx context.Context) error { _, err := f.svc.Thread(ctx, jan.Identity(), tid); return err })
			op("mark read", func(ctx context.Context) error { _, err := f.svc.MarkRead(ctx, jan.Identity(), tid); return err })
			op("external reply", func(ctx context.Context) (err error) {
				mid, err = f.svc.Reply(ctx, jan.Identity(), messaging.ReplyInput{ThreadID: tid, Body: "Goed"})
				return err
			})
			op("internal reply", func(ctx context.Context) (err error) {
				mid2, err = f.svc.Reply(ctx, f.hr.Identity(), messaging.ReplyInput{ThreadID: tid, Body: "Fijn"})
				return err
			})
			op("mark read up to", func(ctx context.Context) error {
				_, err := f.svc.MarkReadUpTo(ctx, jan.Identity(), tid, mid2)
				return err
			})
			var att int64
			op("upload", func(ctx context.Context) error {
				a, err := f.svc.Upload(ctx, f.hr.Identity(), "brief.txt", []byte("inhoud"))
				if err == nil {
					att = a.ID
				}
				return err
			})
			op("reply with a file", func(ctx context.Context) error {
				_, err := f.svc.Reply(ctx, f.hr.Identity(), messaging.ReplyInput{ThreadID: tid, Body: "Bijlage", AttachmentIDs: []int64{att}})
				return err
			})
			op("download", func(ctx context.Context) error {
				_, rc, err := f.svc.Download(ctx, jan.Identity(), att)
				if err == nil {
					rc.Close()
				}
				return err
			})
			op("reply in a conversation with someone away", func(ctx context.Context) error {
				_, err := f.svc.Reply(ctx, jan.Identity(), messaging.ReplyInput{ThreadID: tid2, Body: "Ja"})
				return err
			})
			op("add a participant", func(ctx context.Context) error {
				return f.svc.AddParticipant(ctx, f.hr.Identity(), tid, messaging.AddInput{Email: f.boss.Email, History: messaging.WithHistory})
			})
			op("live update", func(ctx context.Context) error {
				_, err := f.svc.LiveUpdate(ctx, tid, mid2, []int64{f.hr.ID, jan.ID, f.boss.ID})
				return err
			})
			op("push round", func(ctx context.Context) error {
				w := notify.NewWorker(d, f.v, nil, nil, slog.New(slog.NewTextHandler(io.Discard, nil)), notify.WorkerOptions{
					Push: &notify.WebPush{DB: d, Vault: f.v, Keys: notify.VAPID{Public: pub, Private: priv, Subject: subject}, Client: ps.Client(), Loopback: true},
					// After the notices' delay, on the service's clock.
					Now: func() time.Time { return f.clk.Now().Add(time.Hour) },
				})
				n, err := w.RunOnce(ctx)
				if err == nil && n == 0 {
					err = fmt.Errorf("nothing delivered")
				}
				return err
			})
			op("live typing", func(ctx context.Context) error {
				_, err := f.svc.LiveTyping(ctx, tid, jan.ID, []int64{f.hr.ID, jan.ID, f.boss.ID})
				return err
			})
			op("live readers", func(ctx context.Context) error {
				_, err := f.svc.LiveReaders(ctx, tid, []int64{f.hr.ID, jan.ID, f.boss.ID})
				return err
			})
			op("participant ids", func(ctx context.Context) error { _, err := f.svc.ParticipantIDs(ctx, jan.Identity(), tid); return err })
			op("message in box", func(ctx context.Context) error {
				_, err := f.svc.MessageInBox(ctx, jan.Identity(), tid, mid)
				return err
			})
			op("box has messages", func(ctx context.Context) error { _, err := f.svc.BoxHasMessages(ctx, jan.Identity(), tid); return err })
			op("unread count", func(ctx context.Context) error { _, err := f.svc.UnreadCount(ctx, f.hr.ID); return err })
			op("contacts", func(ctx context.Context) error { _, err := f.svc.Contacts(ctx, f.hr.Identity(), 10); return err })
			op("teams", func(ctx context.Context) error { _, err := f.svc.MyTeams(ctx, f.hr.Identity()); return err })
			op("remove a message from one's box", func(ctx context.Context) error { return f.svc.RemoveFromBox(ctx, jan.Identity(), mid) })
			op("delete for everyone", func(ctx context.Context) error {
				// A message nobody read yet.
				id, err := f.svc.Reply(context.Background(), f.hr.Identity(), messaging.ReplyInput{ThreadID: tid, Body: "Vergissing"})
				if err != nil {
					return err
				}
				return f.svc.DeleteForEveryone(ctx, f.hr.Identity(), id)
			})
			op("remove a conversation from one's box", func(ctx context.Context) error {
				return f.svc.RemoveThreadFromBox(ctx, jan.Identity(), tid2)
			})
			// A team's conversation: a member starts it, a colleague
			// answers for the team, takes it on, and reads the team's box.
			piet := f.active(t, "piet"+sfx+"@osaw.nl", true, "Piet", "", "Post")
			team := newTeam(t, f, "Verzuim "+sfx, false, f.hr, piet)
			var ttid int64
			op("compose for a team", func(ctx context.Context) (err error) {
				ttid, err = f.svc.Compose(ctx, f.hr.Identity(), messaging.ComposeInput{To: []string{jan.Email}, Subject: "Team", Body: "Hoe gaat het?", TeamID: team.ID})
				return err
			})
			op("reply for a team", func(ctx context.Context) error {
				_, err := f.svc.Reply(ctx, piet.Identity(), messaging.ReplyInput{ThreadID: ttid, Body: "Namens het team"})
				return err
			})
			op("assign", func(ctx context.Context) error { return f.svc.Assign(ctx, piet.Identity(), ttid, piet.ID) })
			op("team box", func(ctx context.Context) error { _, err := f.svc.TeamBox(ctx, piet.Identity(), team.ID, 1); return err })
			op("external reply to a team", func(ctx context.Context) error {
				_, err := f.svc.Reply(ctx, jan.Identity(), messaging.ReplyInput{ThreadID: ttid, Body: "Dank"})
				return err
			})
			for _, u := range []*db.User{jan, f.hr} {
				// Jan's box, and Hanna's of 3,000 conversations, read a
				// page and a batch at a time.
				op("export of "+u.Email, func(ctx context.Context) error {
					e, err := f.svc.Export(ctx, u.Identity(), "192.0.2.1")
					if err != nil {
						return err
					}
					defer e.Close()
					return e.WriteTo(ctx, io.Discard)
				})
			}
		})
	})
}
