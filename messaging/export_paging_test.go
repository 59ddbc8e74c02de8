package messaging_test

import (
	"context"
	"fmt"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"dialoog/db"
	"dialoog/db/dbtest"
	"dialoog/messaging"
	"dialoog/messaging/messagingtest"
)

// TestExportLongConversationOnce: a conversation of more messages than the
// export reads at a time holds each message once, also when the messages'
// times have nanoseconds, as a real clock gives them.
func TestExportLongConversationOnce(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := setup(t, d)
		emp := f.active(t, "jan@example.nl", false, "Jan", "", "Berg")
		f.clk.Add(123456789 * time.Nanosecond)
		id, err := f.svc.Compose(ctx, f.hr.Identity(), messaging.ComposeInput{To: []string{emp.Email}, Subject: "Lang gesprek", Body: "Bericht 0"})
		if err != nil {
			t.Fatal(err)
		}
		const n = 250
		for i := 1; i < n; i++ {
			f.clk.Add(time.Second + 987654321*time.Nanosecond)
			if _, err := f.svc.Reply(ctx, emp.Identity(), messaging.ReplyInput{ThreadID: id, Body: fmt.Sprintf("Bericht %d", i)}); err != nil {
				t.Fatal(err)
			}
		}
		// Read with the others of its batch, and as a long conversation,
		// a page of messages at a time.
		for _, batch := range []int{1000, 100} {
			restore := messaging.SetExportBatch(batch, 1<<20, 5000)
			data, err := exportWith(ctx, f.svc, emp, "")
			restore()
			if err != nil {
				t.Fatal(err)
			}
			convs, _ := conversations(t, unzip(t, data))
			seen := map[int64]int{}
			for _, m := range convs[id].Messages {
				seen[m.ID]++
			}
			if len(convs[id].Messages) != n || len(seen) != n {
				t.Errorf("batches of %d messages: export holds %d messages, %d different, want %d", batch, len(convs[id].Messages), len(seen), n)
			}
		}
	})
}

// TestExportBatchesAsOneConversation: the export reads a page's
// conversations in batches; every conversation's files are the same
// whether it is read with others, alone a page of messages at a time
// (too long for a batch), or in batches of any size: the senders as the
// reader sees them (a team that hides its people, a member who left the
// team since, another organisation), receipts, system lines, attachments
// and their checksums, for an outsider and for a member of the team.
func TestExportBatchesAsOneConversation(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := setup(t, d)
		jan := f.active(t, "jan@example.nl", false, "Jan", "", "Berg")
		piet := f.active(t, "piet@osaw.nl", true, "Piet", "", "Post")
		team := newTeam(t, f, "OSAW Verzuim", false, f.hr, piet)
		step := func() { f.clk.Add(time.Minute) }
		must := func(err error) {
			t.Helper()
			if err != nil {
				t.Fatal(err)
			}
		}
		a, err := f.svc.Upload(ctx, f.hr.Identity(), "brief.pdf", []byte("%PDF-1.4 brief"))
		must(err)
		withTeam, err := f.svc.Compose(ctx, f.hr.Identity(), messaging.ComposeInput{To: []string{jan.Email, "piet.de-groot@example.nl"},
			Subject: "Verzuim", Body: "Hoe gaat het?", AttachmentIDs: []int64{a.ID}, TeamID: team.ID})
		must(err)
		step()
		_, err = f.svc.Reply(ctx, piet.Identity(), messaging.ReplyInput{ThreadID: withTeam, Body: "Namens het team"})
		must(err)
		step()
		_, err = f.svc.MarkRead(ctx, jan.Identity(), withTeam)
		must(err)
		b, err := f.svc.Upload(ctx, jan.Identity(), "foto.png", pngFile)
		must(err)
		_, err = f.svc.Reply(ctx, jan.Identity(), messaging.ReplyInput{ThreadID: withTeam, Body: "Goed", AttachmentIDs: []int64{b.ID}})
		must(err)
		step()
		must(f.svc.AddParticipant(ctx, f.hr.Identity(), withTeam, messaging.AddInput{Email: f.boss.Email, History: messaging.WithHistory}))
		step()
		_, err = f.svc.MarkRead(ctx, f.hr.Identity(), withTeam)
		must(err)
		// Piet leaves the team: his message keeps his name.
		must(f.svc.RemoveTeamMember(ctx, team.ID, piet.Email))
		for i := range 5 {
			step()
			id, err := f.svc.Compose(ctx, f.hr.Identity(), messaging.ComposeInput{To: []string{jan.Email}, Subject: fmt.Sprintf("Gesprek %d", i), Body: "Een"})
			must(err)
			for j := range i {
				step()
				who := f.hr
				if j%2 == 0 {
					who = jan
				}
				_, err := f.svc.Reply(ctx, who.Identity(), messaging.ReplyInput{ThreadID: id, Body: fmt.Sprintf("Antwoord %d", j)})
				must(err)
			}
		}
		for _, u := range []*db.User{jan, f.hr} {
			var want map[string]string
			for _, batch := range []int{1000, 3, 0} {
				restore := messaging.SetExportBatch(batch, 1<<20, 5000)
				data, err := exportWith(ctx, f.svc, u, "")
				restore()
				must(err)
				files := unzip(t, data)
				// The security activity holds the exports before this one.
				for name := range files {
					if strings.Contains(name, "activiteit") {
						delete(files, name)
					}
				}
				if want == nil {
					want = files
					if convs, _ := conversations(t, files); len(convs) != 6 {
						t.Fatalf("%s: %d conversations in the export, want 6", u.Email, len(convs))
					}
					continue
				}
				if !maps.Equal(files, want) {
					for name, data := range files {
						if want[name] != data {
							t.Errorf("%s, batches of %d messages: %s differs:\n%s\nwant:\n%s", u.Email, batch, name, data, want[name])
						}
					}
					t.Fatalf("%s, batches of %d messages: files differ (%d, want %d)", u.Email, batch, len(files), len(want))
				}
			}
		}
	})
}

// TestExportBatchBoundsReadStates: a batch holds every participant's read
// state of each of its messages, so its messages and its people alone do
// not bound it. A conversation of 1,000 messages (a batch's) among 122
// people (well under a batch's) holds 122,000 read states; the export
// reads no more than 100,000 of them in one statement, about 10 MB,
// however the messages and people of a batch are spread.
func TestExportBatchBoundsReadStates(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := setup(t, d)
		owner := f.active(t, "archief@osaw.nl", true, "Archief", "", "Osaw")
		seeded, err := messagingtest.Seed(ctx, d, f.v, messagingtest.Box{OrgID: f.org.ID, Owner: owner, Threads: 1, Messages: 1000})
		if err != nil {
			t.Fatal(err)
		}
		tid := seeded.Threads[0]
		// 120 more people, each with the whole conversation in their box.
		now := f.clk.Now()
		people := make([]db.User, 120)
		for i := range people {
			people[i] = db.User{Email: fmt.Sprintf("lezer%03d@example.nl", i), Kind: db.KindExternal, Status: db.StatusActive, Language: "nl",
				Gender: "unknown", Initials: "L.", FirstName: "Lezer", LastName: fmt.Sprint(i), CreatedAt: now, UpdatedAt: now}
		}
		if _, err := d.NewInsert().Model(&people).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		ps := make([]db.Participant, len(people))
		ids := make([]int64, len(people))
		for i := range people {
			ids[i] = people[i].ID
			ps[i] = db.Participant{ThreadID: tid, UserID: people[i].ID, AddedBy: &owner.ID, AddedAt: now, BoxCount: 1000}
		}
		if _, err := d.NewInsert().Model(&ps).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := d.NewRaw(`INSERT INTO message_states (message_id, user_id, read_at, history)
SELECT ms.message_id, u.id, ms.read_at, FALSE FROM message_states AS ms CROSS JOIN users AS u
WHERE ms.user_id = ? AND u.id IN (?)`, owner.ID, bun.In(ids)).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		hook := dbtest.CountStatements(d)
		var data []byte
		sqls := hook.Run(func(ctx context.Context) { data, err = exportWith(ctx, f.svc, owner, "") })
		if err != nil {
			t.Fatal(err)
		}
		if convs, _ := conversations(t, unzip(t, data)); len(convs[tid].Messages) != 1000 {
			t.Fatalf("export holds %d messages, want 1000", len(convs[tid].Messages))
		}
		most, read := 0, 0
		for _, q := range sqls {
			if !strings.HasPrefix(q, "SELECT") || !strings.Contains(q, `FROM "message_states" AS`) {
				continue
			}
			var n int
			if err := d.NewRaw("SELECT COUNT(*) FROM ("+q+") AS q").Scan(ctx, &n); err != nil {
				t.Fatal(err)
			}
			most, read = max(most, n), read+n
		}
		// (A conversation read a page at a time reads them for its HTML and
		// again for its JSON file.)
		if read < 122*1000 {
			t.Fatalf("export read %d read states, want at least %d", read, 122*1000)
		}
		if most > 100_000 {
			t.Errorf("one statement read %d read states, want at most 100000", most)
		}
	})
}

// joinOnRead makes user a member of team once, just before the export
// (marked by its context) reads a batch's people: after the sizes of the
// page's conversations were read.
type joinOnRead struct {
	f      *fx
	team   int64
	email  string
	joined error
	done   bool
}

type joinOnReadKey struct{}

func (j *joinOnRead) BeforeQuery(ctx context.Context, ev *bun.QueryEvent) context.Context {
	if ctx.Value(joinOnReadKey{}) == j && !j.done && strings.Contains(ev.Query, "p_thread_id") {
		j.done = true
		j.joined = j.f.svc.AddTeamMember(context.Background(), j.team, j.email)
	}
	return ctx
}

func (j *joinOnRead) AfterQuery(context.Context, *bun.QueryEvent) {}

// TestExportBatchAfterJoiningTeam: a conversation can gain messages in the
// box while the export runs, after the sizes of its page were read and
// before its batch is: someone who took part in a team's conversation with
// only the messages from then on joins the team and gets its history. Its
// batch reads no more messages in one statement than a page of a long
// conversation, and the export holds each message once.
func TestExportBatchAfterJoiningTeam(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := setup(t, d)
		jan := f.active(t, "jan@example.nl", false, "Jan", "", "Berg")
		piet := f.active(t, "piet@osaw.nl", true, "Piet", "", "Post")
		team := newTeam(t, f, "OSAW Verzuim", true, f.hr)
		tid, err := f.svc.Compose(ctx, f.hr.Identity(), messaging.ComposeInput{To: []string{jan.Email}, Subject: "Verzuim", Body: "Hoe gaat het?", TeamID: team.ID})
		if err != nil {
			t.Fatal(err)
		}
		for i := range 150 {
			f.clk.Add(time.Second)
			if _, err := f.svc.Reply(ctx, jan.Identity(), messaging.ReplyInput{ThreadID: tid, Body: fmt.Sprintf("Antwoord %d", i)}); err != nil {
				t.Fatal(err)
			}
		}
		f.clk.Add(time.Second)
		if err := f.svc.AddParticipant(ctx, f.hr.Identity(), tid, messaging.AddInput{Email: piet.Email, History: messaging.FromNowOn}); err != nil {
			t.Fatal(err)
		}
		f.clk.Add(time.Second)
		if _, err := f.svc.Reply(ctx, jan.Identity(), messaging.ReplyInput{ThreadID: tid, Body: "Welkom"}); err != nil {
			t.Fatal(err)
		}
		restore := messaging.SetExportBatch(10, 1<<20, 5000)
		defer restore()
		join := &joinOnRead{f: f, team: team.ID, email: piet.Email}
		d.AddQueryHook(join)
		hook := dbtest.CountStatements(d)
		var data []byte
		sqls := hook.Run(func(ctx context.Context) {
			data, err = exportWith(context.WithValue(ctx, joinOnReadKey{}, join), f.svc, piet, "")
		})
		if err != nil || join.joined != nil || !join.done {
			t.Fatalf("export: %v; joined the team while it ran: %v, %v", err, join.done, join.joined)
		}
		convs, _ := conversations(t, unzip(t, data))
		seen := map[int64]bool{}
		for _, m := range convs[tid].Messages {
			if seen[m.ID] {
				t.Errorf("message %d twice", m.ID)
			}
			seen[m.ID] = true
		}
		// (Whether the history that came after the export began is in it
		// is not this test's concern.)
		if len(seen) == 0 {
			t.Errorf("export holds no messages of the conversation")
		}
		for _, q := range sqls {
			if !strings.HasPrefix(q, "SELECT") || !strings.Contains(q, `FROM "messages" AS "message"`) {
				continue
			}
			var n int
			if err := d.NewRaw("SELECT COUNT(*) FROM ("+q+") AS q").Scan(ctx, &n); err != nil {
				t.Fatal(err)
			}
			if n > 100 {
				t.Errorf("one statement read %d messages, want at most 100:\n%.300s", n, q)
			}
		}
	})
}
