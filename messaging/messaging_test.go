package messaging_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"io"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"dialoog/apperr"
	"dialoog/auth"
	"dialoog/blob"
	"dialoog/db"
	"dialoog/db/dbtest"
	"dialoog/messaging"
	"dialoog/notify"
	"dialoog/vault"
)

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

type mails struct{}

func (mails) InvitationMail(lang, org, link, base string) (notify.Mail, error) {
	return notify.Mail{Subject: "Uitnodiging", Text: org + " nodigt je uit: " + link}, nil
}

func (mails) NewMessageMail(lang, from, link string) (notify.Mail, error) {
	return notify.Mail{Subject: "Je hebt een nieuw bericht van " + from, Text: "Lees het in Dialoog: " + link}, nil
}

type recorder struct {
	mu  sync.Mutex
	evs []messaging.Event
}

func (r *recorder) PublishTx(context.Context, bun.Tx, []messaging.Event) (bool, error) {
	return false, nil
}

func (r *recorder) Publish(_ context.Context, ev messaging.Event) {
	r.mu.Lock()
	r.evs = append(r.evs, ev)
	r.mu.Unlock()
}

type fx struct {
	d    *db.DB
	v    *vault.Vault
	clk  *clock
	svc  *messaging.Service
	ev   *recorder
	org  *db.Organisation
	dir  string
	hr   *db.User // internal
	boss *db.User // internal, same org
}

func setup(t testing.TB, d *db.DB) *fx {
	t.Helper()
	v, _ := vault.New(bytes.Repeat([]byte{7}, 32))
	f := &fx{d: d, v: v, clk: &clock{t: time.Date(2026, 2, 23, 9, 0, 0, 0, time.UTC)}, ev: &recorder{}, dir: t.TempDir()}
	base, _ := url.Parse("http://dialoog.test")
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	inv := &auth.Invitations{DB: d, Outbox: notify.NewOutbox(v).WithClock(f.clk.Now), Mail: mails{}, BaseURL: base, Now: f.clk.Now,
		Sessions: &auth.Sessions{DB: d, Now: f.clk.Now}, Limiter: &auth.Limiter{DB: d, Now: f.clk.Now}, Log: log}
	org, _, err := auth.Bootstrap(context.Background(), inv, "OSAW")
	if err != nil {
		t.Fatal(err)
	}
	f.org = org
	f.svc = &messaging.Service{DB: d, Vault: v, Files: &messaging.Files{Store: &blob.Dir{Root: filepath.Join(f.dir, "attachments")}, Vault: v},
		Outbox: notify.NewOutbox(v).WithClock(f.clk.Now), Invitations: inv, Mail: mails{}, BaseURL: "http://dialoog.test", Now: f.clk.Now, Log: log, Events: f.ev}
	f.hr = f.active(t, "hr@osaw.nl", true, "Hanna", "de", "Vries")
	f.boss = f.active(t, "arts@osaw.nl", true, "Bram", "", "Arts")
	return f
}

// active creates a user who completed the first visit.
func (f *fx) active(t testing.TB, email string, internal bool, first, prefix, last string) *db.User {
	t.Helper()
	now := f.clk.Now()
	u := &db.User{Email: email, Kind: db.KindExternal, Status: db.StatusActive, Language: "nl", Gender: "unknown",
		FirstName: first, NamePrefix: prefix, LastName: last, Initials: first[:1] + ".", CreatedAt: now, UpdatedAt: now,
		ProfileCompletedAt: bun.NullTime{Time: now}}
	if internal {
		u.Kind, u.OrgID = db.KindInternal, &f.org.ID
	}
	if _, err := f.d.NewInsert().Model(u).Exec(context.Background()); err != nil {
		t.Fatal(err)
	}
	return u
}

func (f *fx) user(t testing.TB, email string) *db.User {
	t.Helper()
	var u db.User
	if err := f.d.NewSelect().Model(&u).Where("email = ?", email).Scan(context.Background()); err != nil {
		t.Fatalf("user %s: %v", email, err)
	}
	return &u
}

func (f *fx) mailsTo(t *testing.T, to string) []notify.DevItem {
	t.Helper()
	items, err := notify.DevItems(context.Background(), f.d, f.v, 1000)
	if err != nil {
		t.Fatal(err)
	}
	var out []notify.DevItem
	for _, it := range items {
		if it.Recipient == to && it.Mail != nil {
			out = append(out, it)
		}
	}
	return out
}

func wantKey(t *testing.T, err error, key string) {
	t.Helper()
	if e, ok := apperr.As(err); ok && e.Key == key {
		return
	}
	for _, e := range apperr.FieldsOf(err) {
		if e.Key == key {
			return
		}
	}
	t.Fatalf("want %s, got %v", key, err)
}

func TestComposeInvitesAndNotifies(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := setup(t, d)
		tid, err := f.svc.Compose(ctx, f.hr.Identity(), messaging.ComposeInput{To: []string{"Werknemer@Example.nl"}, Subject: "testbericht", Body: "Hoe gaat het?"})
		if err != nil {
			t.Fatal(err)
		}
		emp := f.user(t, "werknemer@example.nl")
		if emp.Kind != db.KindExternal || emp.Status != db.StatusInvited {
			t.Fatalf("new recipient: %+v", emp)
		}
		inv := f.mailsTo(t, "werknemer@example.nl")
		if len(inv) != 1 || !strings.Contains(inv[0].Mail.Text, "/aanmelden/") || strings.Contains(inv[0].Mail.Text, "Hoe gaat het") {
			t.Fatalf("invitation mail: %+v", inv)
		}
		t.Run("InvitationSentAgainToNeverLoggedIn", func(t *testing.T) {
			f.clk.Add(messaging.NotifyEvery) // reminded no sooner (TestInviteeNotRemindedEveryMessage)
			if _, err := f.svc.Reply(ctx, f.hr.Identity(), messaging.ReplyInput{ThreadID: tid, Body: "Nogmaals"}); err != nil {
				t.Fatal(err)
			}
			again := f.mailsTo(t, "werknemer@example.nl")
			if len(again) != 2 || !strings.Contains(again[0].Mail.Text, "/aanmelden/") {
				t.Fatalf("want a second invitation, got %d mails", len(again))
			}
			if again[0].Mail.Text == again[1].Mail.Text {
				t.Fatal("the second invitation must carry a new link")
			}
		})
		t.Run("ActiveUserGetsContentFreeNotificationThrottled", func(t *testing.T) {
			if _, err := f.svc.Compose(ctx, f.hr.Identity(), messaging.ComposeInput{To: []string{"arts@osaw.nl"}, Subject: "Overleg", Body: "Vertrouwelijke inhoud"}); err != nil {
				t.Fatal(err)
			}
			n := f.mailsTo(t, "arts@osaw.nl")
			if len(n) != 1 || !strings.Contains(n[0].Mail.Subject, "Je hebt een nieuw bericht van Hanna de Vries") || strings.Contains(n[0].Mail.Text+n[0].Mail.Subject, "Vertrouwelijk") || strings.Contains(n[0].Mail.Subject, "Overleg") {
				t.Fatalf("notification: %+v", n)
			}
			page, _ := f.svc.Inbox(ctx, f.boss.Identity(), 1, "")
			th := page.Threads[0].ID
			f.clk.Add(5 * time.Minute)
			f.svc.Reply(ctx, f.hr.Identity(), messaging.ReplyInput{ThreadID: th, Body: "Nog iets"})
			if got := len(f.mailsTo(t, "arts@osaw.nl")); got != 1 {
				t.Fatalf("second notification within 15 minutes while unread: %d mails", got)
			}
			f.clk.Add(11 * time.Minute)
			f.svc.Reply(ctx, f.hr.Identity(), messaging.ReplyInput{ThreadID: th, Body: "En nog iets"})
			if got := len(f.mailsTo(t, "arts@osaw.nl")); got != 2 {
				t.Fatalf("after 15 minutes a new notification is due: %d mails", got)
			}
			f.svc.MarkRead(ctx, f.boss.Identity(), th)
			f.clk.Add(time.Minute)
			f.svc.Reply(ctx, f.hr.Identity(), messaging.ReplyInput{ThreadID: th, Body: "Gelezen? Dan opnieuw"})
			if got := len(f.mailsTo(t, "arts@osaw.nl")); got != 3 {
				t.Fatalf("after reading everything a new message notifies again: %d mails", got)
			}
		})
	})
}

// TestNotificationNamesWhoWrote: the new-message mail names the person who
// wrote, as the reader sees them; only an external reader of an internal
// author is told the conversation's organisation. Nobody is told their own
// organisation.
func TestNotificationNamesWhoWrote(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := setup(t, d)
		jan := f.active(t, "jan@example.nl", false, "Jan", "", "Jansen")
		kim := f.active(t, "kim@example.nl", false, "Kim", "", "Smit")
		last := func(to string) string {
			t.Helper()
			ms := f.mailsTo(t, to)
			if len(ms) == 0 {
				t.Fatalf("no mail to %s", to)
			}
			return ms[0].Mail.Subject
		}
		tid, err := f.svc.Compose(ctx, f.hr.Identity(), messaging.ComposeInput{To: []string{"jan@example.nl", "kim@example.nl", "arts@osaw.nl"}, Subject: "Verzuim", Body: "Hoe gaat het?"})
		if err != nil {
			t.Fatal(err)
		}
		// An internal author: the outsiders hear of the organisation, the
		// colleague of the person.
		for to, want := range map[string]string{
			"jan@example.nl": "Je hebt een nieuw bericht van OSAW",
			"kim@example.nl": "Je hebt een nieuw bericht van OSAW",
			"arts@osaw.nl":   "Je hebt een nieuw bericht van Hanna de Vries",
		} {
			if got := last(to); got != want {
				t.Errorf("mail to %s: %q, want %q", to, got, want)
			}
		}
		// External authors: everyone hears of the person.
		if _, err := f.svc.Reply(ctx, kim.Identity(), messaging.ReplyInput{ThreadID: tid, Body: "Antwoord"}); err != nil {
			t.Fatal(err)
		}
		f.clk.Add(time.Hour) // past the notification interval
		if _, err := f.svc.Reply(ctx, jan.Identity(), messaging.ReplyInput{ThreadID: tid, Body: "Ook een antwoord"}); err != nil {
			t.Fatal(err)
		}
		for to, want := range map[string]string{
			"hr@osaw.nl":     "Je hebt een nieuw bericht van Jan Jansen",
			"arts@osaw.nl":   "Je hebt een nieuw bericht van Jan Jansen",
			"kim@example.nl": "Je hebt een nieuw bericht van Jan Jansen",
		} {
			if got := last(to); got != want {
				t.Errorf("mail to %s: %q, want %q", to, got, want)
			}
		}
		f.clk.Add(time.Hour)
		if _, err := f.svc.Reply(ctx, kim.Identity(), messaging.ReplyInput{ThreadID: tid, Body: "Nog een"}); err != nil {
			t.Fatal(err)
		}
		for to, want := range map[string]string{
			"hr@osaw.nl":     "Je hebt een nieuw bericht van Kim Smit",
			"jan@example.nl": "Je hebt een nieuw bericht van Kim Smit",
		} {
			if got := last(to); got != want {
				t.Errorf("mail to %s: %q, want %q", to, got, want)
			}
		}
		for _, to := range []string{"hr@osaw.nl", "arts@osaw.nl"} {
			for _, m := range f.mailsTo(t, to) {
				if strings.Contains(m.Mail.Subject, "OSAW") {
					t.Errorf("%s is told of their own organisation: %q", to, m.Mail.Subject)
				}
			}
		}
	})
}

func TestValidationStoresNothing(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := setup(t, d)
		count := func() int {
			n, _ := d.NewSelect().Model((*db.Thread)(nil)).Count(ctx)
			m, _ := d.NewSelect().Model((*db.OutboxItem)(nil)).Count(ctx)
			return int(n + m)
		}
		before := count()
		cases := []struct {
			in  messaging.ComposeInput
			key string
		}{
			{messaging.ComposeInput{To: []string{"a@example.nl"}, Subject: "", Body: "x"}, "message.subject_required"},
			{messaging.ComposeInput{To: []string{"a@example.nl"}, Subject: strings.Repeat("s", 201), Body: "x"}, "message.subject_too_long"},
			{messaging.ComposeInput{To: []string{"a@example.nl"}, Subject: "s", Body: "  "}, "message.body_required"},
			{messaging.ComposeInput{To: []string{"a@example.nl"}, Subject: "s", Body: strings.Repeat("b", 20001)}, "message.body_too_long"},
			{messaging.ComposeInput{To: []string{"geen adres"}, Subject: "s", Body: "b"}, "message.recipient_invalid_named"},
			{messaging.ComposeInput{To: nil, Subject: "s", Body: "b"}, "message.recipient_required"},
			{messaging.ComposeInput{To: []string{strings.Repeat("x@example.nl,", 0) + manyAddresses(21)}, Subject: "s", Body: "b"}, "message.too_many_recipients"},
			{messaging.ComposeInput{To: []string{"a@example.nl"}, Subject: "s", Body: "b", AttachmentIDs: []int64{999}}, "attachment.gone"},
		}
		for _, c := range cases {
			_, err := f.svc.Compose(ctx, f.hr.Identity(), c.in)
			wantKey(t, err, c.key)
		}
		if count() != before {
			t.Fatal("a refused message left rows behind")
		}
		n, _ := d.NewSelect().Model((*db.User)(nil)).Where("email = ?", "a@example.nl").Count(ctx)
		if n != 0 {
			t.Fatal("a refused message created its recipient")
		}
	})
}

func manyAddresses(n int) string {
	var b strings.Builder
	for i := range n {
		b.WriteString("p")
		b.WriteString(strings.Repeat("x", i+1))
		b.WriteString("@example.nl,")
	}
	return b.String()
}

func TestInboxThreadAndTicks(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := setup(t, d)
		emp := f.active(t, "jan@example.nl", false, "Jan", "van der", "Berg")
		t1, _ := f.svc.Compose(ctx, f.hr.Identity(), messaging.ComposeInput{To: []string{"jan@example.nl"}, Subject: "testbericht", Body: "Eerste\nregel twee"})
		f.clk.Add(time.Hour)
		t2, _ := f.svc.Compose(ctx, f.boss.Identity(), messaging.ComposeInput{To: []string{"jan@example.nl"}, Subject: "Afspraak", Body: "Dinsdag?"})
		page, err := f.svc.Inbox(ctx, emp.Identity(), 1, "")
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Threads) != 2 || page.Threads[0].ID != t2 || page.Threads[1].ID != t1 || page.Unread != 2 || page.Threads[0].OrgName != "OSAW" {
			t.Fatalf("inbox: %+v", page)
		}
		if page.Threads[1].From != "Hanna de Vries" {
			t.Fatalf("from: %q", page.Threads[1].From)
		}
		for q, want := range map[string]int{"testbericht": 1, "ARTS": 1, "vries": 1, "osaw": 2, "niets": 0, "100%": 0} {
			p, err := f.svc.Inbox(ctx, emp.Identity(), 1, q)
			if err != nil || len(p.Threads) != want {
				t.Fatalf("search %q: %d threads, want %d (%v)", q, len(p.Threads), want, err)
			}
		}
		v, err := f.svc.Thread(ctx, f.hr.Identity(), t1)
		if err != nil {
			t.Fatal(err)
		}
		m := v.Messages[0]
		if !m.Mine || m.Body != "Eerste\nregel twee" || m.SenderOrg != "OSAW" || len(m.Receipts) != 1 || !m.Receipts[0].ReadAt.IsZero() || !m.CanDeleteForEveryone {
			t.Fatalf("before reading: %+v", m)
		}
		if n, _ := f.svc.MarkRead(ctx, emp.Identity(), t1); n != 1 {
			t.Fatalf("marked %d", n)
		}
		v, _ = f.svc.Thread(ctx, f.hr.Identity(), t1)
		m = v.Messages[0]
		if m.Receipts[0].ReadAt.IsZero() || m.Receipts[0].Name != "Jan van der Berg" || m.CanDeleteForEveryone {
			t.Fatalf("after reading: %+v", m)
		}
		var read bool
		for _, ev := range f.ev.evs {
			read = read || (ev.Kind == messaging.EventRead && ev.ThreadID == t1 && ev.UserIDs[0] == f.hr.ID)
		}
		if !read {
			t.Fatal("no read event for the sender")
		}
		// The reply of the employee.
		if _, err := f.svc.Reply(ctx, emp.Identity(), messaging.ReplyInput{ThreadID: t1, Body: "Goed, dank je"}); err != nil {
			t.Fatal(err)
		}
		v, _ = f.svc.Thread(ctx, f.hr.Identity(), t1)
		if len(v.Messages) != 2 || v.Messages[1].SenderName != "Jan van der Berg" || v.Messages[1].SenderOrg != "" {
			t.Fatalf("reply: %+v", v.Messages)
		}
	})
}

func TestAuthorisationIDOR(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := setup(t, d)
		emp := f.active(t, "jan@example.nl", false, "Jan", "", "Berg")
		other := f.active(t, "piet@example.nl", false, "Piet", "", "Post")
		tid, _ := f.svc.Compose(ctx, f.hr.Identity(), messaging.ComposeInput{To: []string{"jan@example.nl"}, Subject: "Privé", Body: "Alleen voor Jan"})
		a, err := f.svc.Upload(ctx, emp.Identity(), "brief.pdf", []byte("%PDF-1.4 test"))
		if err != nil {
			t.Fatal(err)
		}
		mid, err := f.svc.Reply(ctx, emp.Identity(), messaging.ReplyInput{ThreadID: tid, Body: "Zie bijlage", AttachmentIDs: []int64{a.ID}})
		if err != nil {
			t.Fatal(err)
		}
		checks := map[string]error{}
		_, checks["Thread"] = f.svc.Thread(ctx, other.Identity(), tid)
		_, checks["Reply"] = f.svc.Reply(ctx, other.Identity(), messaging.ReplyInput{ThreadID: tid, Body: "inbraak"})
		_, checks["MarkRead"] = f.svc.MarkRead(ctx, other.Identity(), tid)
		_, _, checks["Download"] = f.svc.Download(ctx, other.Identity(), a.ID)
		checks["DeleteForEveryone"] = f.svc.DeleteForEveryone(ctx, other.Identity(), mid)
		checks["RemoveFromBox"] = f.svc.RemoveFromBox(ctx, other.Identity(), mid)
		checks["RemoveThread"] = f.svc.RemoveThreadFromBox(ctx, other.Identity(), tid)
		checks["AddParticipant"] = f.svc.AddParticipant(ctx, other.Identity(), tid, messaging.AddInput{Email: "x@example.nl", History: messaging.WithHistory})
		checks["ResendInvitation"] = f.svc.ResendInvitation(ctx, other.Identity(), tid, emp.ID)
		for name, err := range checks {
			if apperr.CodeOf(err) != apperr.NotFound {
				t.Errorf("%s by a non-participant: want NotFound, got %v", name, err)
			}
		}
		if data, err := download(ctx, f.svc, f.hr, a.ID); err != nil || string(data) != "%PDF-1.4 test" {
			t.Fatalf("participant download: %v", err)
		}
		// An external user cannot add people or start a thread with strangers.
		wantKey(t, f.svc.AddParticipant(ctx, emp.Identity(), tid, messaging.AddInput{Email: "x@example.nl", History: messaging.WithHistory}), "error.forbidden")
		_, err = f.svc.Compose(ctx, emp.Identity(), messaging.ComposeInput{To: []string{"piet@example.nl"}, Subject: "Hoi", Body: "x"})
		wantKey(t, err, "message.recipient_not_allowed")
		if _, err := f.svc.Compose(ctx, emp.Identity(), messaging.ComposeInput{To: []string{"hr@osaw.nl"}, Subject: "Vraag", Body: "Mag ik iets vragen?"}); err != nil {
			t.Fatalf("external to an internal user they know: %v", err)
		}
		_, err = f.svc.Compose(ctx, emp.Identity(), messaging.ComposeInput{To: []string{"arts@osaw.nl"}, Subject: "Hoi", Body: "x"})
		wantKey(t, err, "message.recipient_not_allowed")
	})
}

func TestDeletion(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := setup(t, d)
		emp := f.active(t, "jan@example.nl", false, "Jan", "", "Berg")
		a, _ := f.svc.Upload(ctx, f.hr.Identity(), "scan.png", append([]byte("\x89PNG\r\n\x1a\n"), make([]byte, 64)...))
		tid, _ := f.svc.Compose(ctx, f.hr.Identity(), messaging.ComposeInput{To: []string{"jan@example.nl"}, Subject: "Oeps", Body: "Verkeerd bericht", AttachmentIDs: []int64{a.ID}})
		v, _ := f.svc.Thread(ctx, f.hr.Identity(), tid)
		first := v.Messages[0].ID
		files := func() int {
			n := 0
			filepath.WalkDir(f.dir, func(p string, e fs.DirEntry, err error) error {
				if err == nil && !e.IsDir() {
					n++
				}
				return nil
			})
			return n
		}
		if files() != 1 {
			t.Fatalf("files: %d", files())
		}
		t.Run("OnlyTheSender", func(t *testing.T) {
			wantKey(t, f.svc.DeleteForEveryone(ctx, emp.Identity(), first), "message.not_yours")
		})
		t.Run("BeforeReadGoneFromStorage", func(t *testing.T) {
			if err := f.svc.DeleteForEveryone(ctx, f.hr.Identity(), first); err != nil {
				t.Fatal(err)
			}
			n, _ := d.NewSelect().Model((*db.Message)(nil)).Where("id = ?", first).Count(ctx)
			an, _ := d.NewSelect().Model((*db.Attachment)(nil)).Count(ctx)
			if n != 0 || an != 0 || files() != 0 {
				t.Fatalf("content left: messages %d attachments %d files %d", n, an, files())
			}
			if _, err := f.svc.Thread(ctx, emp.Identity(), tid); apperr.CodeOf(err) != apperr.NotFound {
				t.Fatalf("the empty thread should be gone: %v", err)
			}
		})
		t.Run("AfterReadOnlyOwnBox", func(t *testing.T) {
			tid, _ := f.svc.Compose(ctx, f.hr.Identity(), messaging.ComposeInput{To: []string{"jan@example.nl"}, Subject: "Tweede", Body: "Gelezen bericht"})
			v, _ := f.svc.Thread(ctx, f.hr.Identity(), tid)
			mid := v.Messages[0].ID
			f.svc.MarkRead(ctx, emp.Identity(), tid)
			wantKey(t, f.svc.DeleteForEveryone(ctx, f.hr.Identity(), mid), "message.already_read")
			if err := f.svc.RemoveFromBox(ctx, emp.Identity(), mid); err != nil {
				t.Fatal(err)
			}
			if v, _ := f.svc.Thread(ctx, emp.Identity(), tid); len(v.Messages) != 0 {
				t.Fatal("removed message still in the employee's box")
			}
			if v, _ := f.svc.Thread(ctx, f.hr.Identity(), tid); len(v.Messages) != 1 {
				t.Fatal("removing from one box removed it from the other")
			}
			if err := f.svc.RemoveFromBox(ctx, f.hr.Identity(), mid); err != nil {
				t.Fatal(err)
			}
			n, _ := d.NewSelect().Model((*db.Message)(nil)).Where("id = ?", mid).Count(ctx)
			if n != 0 {
				t.Fatal("a message nobody keeps must be deleted from storage")
			}
		})
	})
}

func TestAutoReply(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := setup(t, d)
		away := func(u *db.User, msg string, from, until string) {
			q := d.NewUpdate().Model((*db.User)(nil)).Set("away_enabled = ?", true).Set("away_message = ?", msg).
				Set("away_changed_at = ?", f.clk.Now()).Where("id = ?", u.ID)
			if from != "" {
				t0, _ := time.Parse("2006-01-02", from)
				q = q.Set("away_from = ?", t0)
			}
			if until != "" {
				t1, _ := time.Parse("2006-01-02", until)
				q = q.Set("away_until = ?", t1)
			}
			if _, err := q.Exec(ctx); err != nil {
				t.Fatal(err)
			}
		}
		emp := f.active(t, "jan@example.nl", false, "Jan", "", "Berg")
		away(emp, "Ik ben ziek thuis", "", "")
		away(f.boss, "Ik ben op vakantie", "", "")
		tid, _ := f.svc.Compose(ctx, f.hr.Identity(), messaging.ComposeInput{To: []string{"jan@example.nl", "arts@osaw.nl"}, Subject: "Verzuim", Body: "Hoe gaat het?"})
		autos := func() []messaging.MessageView {
			v, _ := f.svc.Thread(ctx, f.hr.Identity(), tid)
			var out []messaging.MessageView
			for _, m := range v.Messages {
				if m.AutoReply {
					out = append(out, m)
				}
			}
			return out
		}
		if a := autos(); len(a) != 2 {
			t.Fatalf("want one auto-reply from each absent person and none in answer to an auto-reply, got %d", len(a))
		}
		f.svc.Reply(ctx, f.hr.Identity(), messaging.ReplyInput{ThreadID: tid, Body: "Beterschap"})
		if a := autos(); len(a) != 2 {
			t.Fatalf("auto-reply posted twice in one absence period: %d", len(a))
		}
		var autoEvent bool
		for _, ev := range f.ev.evs {
			autoEvent = autoEvent || ev.Kind == messaging.EventAutoReply
		}
		if !autoEvent {
			t.Fatal("no live event for the auto-reply")
		}
		// A new absence period answers again.
		f.clk.Add(24 * time.Hour)
		away(emp, "Weer ziek", "2026-02-24", "2026-02-28")
		f.svc.Reply(ctx, f.hr.Identity(), messaging.ReplyInput{ThreadID: tid, Body: "Nog steeds?"})
		if a := autos(); len(a) != 3 || a[2].Body != "Weer ziek" {
			t.Fatalf("new period: %d auto-replies", len(a))
		}
		// Outside the period: no answer.
		t2, _ := f.svc.Compose(ctx, f.hr.Identity(), messaging.ComposeInput{To: []string{"jan@example.nl"}, Subject: "Later", Body: "x"})
		f.clk.Add(10 * 24 * time.Hour)
		t3, _ := f.svc.Compose(ctx, f.hr.Identity(), messaging.ComposeInput{To: []string{"jan@example.nl"}, Subject: "Na de periode", Body: "x"})
		v2, _ := f.svc.Thread(ctx, f.hr.Identity(), t2)
		v3, _ := f.svc.Thread(ctx, f.hr.Identity(), t3)
		if len(v2.Messages) != 2 || len(v3.Messages) != 1 {
			t.Fatalf("within the period %d messages (want 2), after it %d (want 1)", len(v2.Messages), len(v3.Messages))
		}
	})
}

func TestEncryptedAtRest(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	d, err := db.OpenSQLite(ctx, filepath.Join(dir, db.SQLiteFile))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if _, err := d.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	f := setup(t, d)
	f.svc.Files.Store = &blob.Dir{Root: filepath.Join(dir, "attachments")}
	body := "GEHEIM-lichaam-7f3a9c"
	file := []byte("GEHEIM-bestand-2b8e1d inhoud van de bijlage")
	a, err := f.svc.Upload(ctx, f.hr.Identity(), "GEHEIM-naam-5c1d.txt", file)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Compose(ctx, f.hr.Identity(), messaging.ComposeInput{To: []string{"jan@example.nl"}, Subject: "Onderwerp", Body: body, AttachmentIDs: []int64{a.ID}}); err != nil {
		t.Fatal(err)
	}
	if _, err := d.ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
		t.Fatal(err)
	}
	filepath.WalkDir(dir, func(p string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return nil
		}
		b, _ := os.ReadFile(p)
		if bytes.Contains(b, []byte("GEHEIM-lichaam")) || bytes.Contains(b, []byte("GEHEIM-bestand")) || bytes.Contains(b, []byte("GEHEIM-naam")) {
			t.Errorf("%s contains plaintext", p)
		}
		return nil
	})
	if sum := sha256.Sum256(file); bytes.Equal(f.storedChecksum(t, a.ID), sum[:]) {
		t.Error("the checksum is an unkeyed SHA-256 of the content")
	}
	if got, _ := download(ctx, f.svc, f.hr, a.ID); !bytes.Equal(got, file) {
		t.Error("download after sealing the name")
	}
	v, _ := f.svc.Thread(ctx, f.hr.Identity(), 1)
	if len(v.Messages) != 1 || len(v.Messages[0].Attachments) != 1 || v.Messages[0].Attachments[0].Name != "GEHEIM-naam-5c1d.txt" {
		t.Errorf("the name must read back: %+v", v.Messages)
	}
}

func (f *fx) storedChecksum(t *testing.T, id int64) []byte {
	t.Helper()
	var sum []byte
	if err := f.d.NewSelect().Table("attachments").Column("sha256").Where("id = ?", id).Scan(context.Background(), &sum); err != nil {
		t.Fatal(err)
	}
	return sum
}

// Attachments stored before names were sealed and checksums keyed are
// converted at start, once, and still read back.
func TestLegacyAttachmentsSealed(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := setup(t, d)
		file := []byte("oude bijlage")
		a, err := f.svc.Upload(ctx, f.hr.Identity(), "oud.txt", file)
		if err != nil {
			t.Fatal(err)
		}
		// Make it a row as an older version stored it.
		sum := sha256.Sum256(file)
		if _, err := d.NewUpdate().Table("attachments").Set("filename = ?", "GEHEIM-oud-3a7f.txt").Set("name_sealed = NULL").
			Set("sha256 = ?", sum[:]).Where("id = ?", a.ID).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		for range 2 { // idempotent
			if err := messaging.SealLegacyAttachments(ctx, d, f.v); err != nil {
				t.Fatal(err)
			}
		}
		var row struct {
			Filename   string
			NameSealed []byte
		}
		if err := d.NewSelect().Table("attachments").Column("filename", "name_sealed").Where("id = ?", a.ID).Scan(ctx, &row.Filename, &row.NameSealed); err != nil {
			t.Fatal(err)
		}
		if row.Filename != "" || len(row.NameSealed) == 0 || bytes.Contains(row.NameSealed, []byte("GEHEIM")) {
			t.Fatalf("legacy name not sealed: %+v", row)
		}
		if bytes.Equal(f.storedChecksum(t, a.ID), sum[:]) {
			t.Fatal("legacy checksum not keyed")
		}
		pending, _ := f.svc.PendingUploads(ctx, f.hr.Identity(), []int64{a.ID})
		if len(pending) != 1 || pending[0].Name != "GEHEIM-oud-3a7f.txt" {
			t.Fatalf("legacy name after sealing: %+v", pending)
		}
	})
}

func TestUploadTypes(t *testing.T) {
	d := dbtest.MustOpenSQLite(t)
	f := setup(t, d)
	ctx := context.Background()
	for name, data := range map[string][]byte{
		"virus.exe":     []byte("MZ\x90\x00"),
		"nep.pdf":       []byte("MZ\x90\x00 not a pdf"),
		"script.html":   []byte("<script>alert(1)</script>"),
		"plaatje.png":   []byte("%PDF-1.4"),
		"leeg.txt":      nil,
		"binair.txt":    {0xff, 0xfe, 0x00, 0x01},
		"document.docx": []byte("not a zip"),
	} {
		if _, err := f.svc.Upload(ctx, f.hr.Identity(), name, data); apperr.CodeOf(err) != apperr.Invalid {
			t.Errorf("%s accepted: %v", name, err)
		}
	}
	big := make([]byte, messaging.MaxAttachmentSize+1)
	copy(big, "%PDF-1.4")
	_, err := f.svc.Upload(ctx, f.hr.Identity(), "groot.pdf", big)
	wantKey(t, err, "attachment.too_big")
	a, err := f.svc.Upload(ctx, f.hr.Identity(), `..\..\"evil"<b>.pdf`, []byte("%PDF-1.7"))
	if err != nil || strings.ContainsAny(a.Name, `/\"`) {
		t.Fatalf("file name not cleaned: %+v %v", a, err)
	}
	var ids []int64
	for range 11 {
		a, _ := f.svc.Upload(ctx, f.hr.Identity(), "x.pdf", []byte("%PDF-1.7"))
		ids = append(ids, a.ID)
	}
	_, err = f.svc.Compose(ctx, f.hr.Identity(), messaging.ComposeInput{To: []string{"a@example.nl"}, Subject: "s", Body: "b", AttachmentIDs: ids})
	wantKey(t, err, "attachment.too_many")
	for len(ids) < messaging.MaxPendingUploads-1 {
		a, err := f.svc.Upload(ctx, f.hr.Identity(), "x.pdf", []byte("%PDF-1.7"))
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, a.ID)
	}
	_, err = f.svc.Upload(ctx, f.hr.Identity(), "x.pdf", []byte("%PDF-1.7"))
	wantKey(t, err, "attachment.too_many_pending")
	f.clk.Add(messaging.StaleUpload + time.Minute)
	if n, err := f.svc.PurgeStaleUploads(ctx); err != nil || n != messaging.MaxPendingUploads {
		t.Fatalf("purged %d uploads: %v", n, err)
	}
	if _, err := f.svc.Upload(ctx, f.hr.Identity(), "x.pdf", []byte("%PDF-1.7")); err != nil {
		t.Fatalf("after the purge uploads work again: %v", err)
	}
}

func TestInboxNamesContactsAndJanitor(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := setup(t, d)
		emp := f.active(t, "jan@example.nl", false, "Jan", "", "Berg")
		f.active(t, "piet@example.nl", false, "Piet", "", "Post")
		tid, err := f.svc.Compose(ctx, f.hr.Identity(), messaging.ComposeInput{To: []string{"jan@example.nl", "arts@osaw.nl", "piet@example.nl"}, Subject: "Groep", Body: "x"})
		if err != nil {
			t.Fatal(err)
		}
		for range 5 { // the order of names is the order of joining, every time
			p, _ := f.svc.Inbox(ctx, emp.Identity(), 1, "")
			if p.Threads[0].From != "Hanna de Vries, Bram Arts, Piet Post" {
				t.Fatalf("from: %q", p.Threads[0].From)
			}
		}
		got, _ := f.svc.Contacts(ctx, emp.Identity(), 10)
		if strings.Join(got, ",") != "arts@osaw.nl,hr@osaw.nl" {
			t.Fatalf("an external user's suggestions must hold only internal users: %v", got)
		}
		got, _ = f.svc.Contacts(ctx, f.hr.Identity(), 10)
		if len(got) != 3 {
			t.Fatalf("internal suggestions: %v", got)
		}
		// An upload attached just before the janitor runs keeps its file.
		a, _ := f.svc.Upload(ctx, f.hr.Identity(), "a.pdf", []byte("%PDF-1.7 a"))
		f.clk.Add(messaging.StaleUpload + time.Minute)
		if _, err := f.svc.Reply(ctx, f.hr.Identity(), messaging.ReplyInput{ThreadID: tid, Body: "bijlage", AttachmentIDs: []int64{a.ID}}); err != nil {
			t.Fatal(err)
		}
		if n, err := f.svc.PurgeStaleUploads(ctx); err != nil || n != 0 {
			t.Fatalf("purged %d: %v", n, err)
		}
		if data, err := download(ctx, f.svc, emp, a.ID); err != nil || string(data) != "%PDF-1.7 a" {
			t.Fatalf("attached file lost: %v", err)
		}
	})
}

func TestLiveLoaders(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := setup(t, d)
		emp := f.active(t, "jan@example.nl", false, "Jan", "", "Berg")
		outsider := f.active(t, "piet@example.nl", false, "Piet", "", "Post")
		tid, _ := f.svc.Compose(ctx, f.hr.Identity(), messaging.ComposeInput{To: []string{"jan@example.nl"}, Subject: "Live", Body: "Hallo"})
		v, _ := f.svc.Thread(ctx, emp.Identity(), tid)
		readers, err := f.svc.LiveUpdate(ctx, tid, v.Messages[0].ID, []int64{emp.ID, outsider.ID, f.hr.ID})
		if err != nil || len(readers) != 2 {
			t.Fatalf("live update: %+v %v", readers, err)
		}
		for _, r := range readers {
			if r.UserID == outsider.ID {
				t.Fatal("a non-participant gets the live update")
			}
			if r.UserID != emp.ID {
				continue
			}
			if sum := r.Thread; sum.Unread != 1 || sum.From != "Hanna de Vries" || sum.OrgName != "OSAW" || r.Unread != 1 {
				t.Fatalf("summary: %+v, unread %d", sum, r.Unread)
			}
			if m := r.Message; m == nil || m.Body != "Hallo" || m.Mine {
				t.Fatalf("message: %+v", m)
			}
		}
		ids, err := f.svc.ParticipantIDs(ctx, emp.Identity(), tid)
		if err != nil || len(ids) != 2 || ids[0] != f.hr.ID || ids[1] != emp.ID {
			t.Fatalf("participants: %v %v", ids, err)
		}
		for name, err := range map[string]error{
			"participants": func() error { _, err := f.svc.ParticipantIDs(ctx, outsider.Identity(), tid); return err }(),
		} {
			if apperr.CodeOf(err) != apperr.NotFound {
				t.Errorf("%s for a non-participant: %v", name, err)
			}
		}
	})
}
