package signing_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"
	"github.com/uptrace/bun"

	"dialoog/apperr"
	"dialoog/auth"
	"dialoog/blob"
	"dialoog/db"
	"dialoog/db/dbtest"
	"dialoog/messaging"
	"dialoog/notify"
	"dialoog/seal"
	"dialoog/signing"
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
	return notify.Mail{Subject: "Uitnodiging", Text: link}, nil
}
func (mails) NewMessageMail(lang, from, link string) (notify.Mail, error) {
	return notify.Mail{Subject: "Nieuw bericht", Text: link}, nil
}
func (mails) SigningReminderMail(lang, link string) (notify.Mail, error) {
	return notify.Mail{Subject: "Herinnering: een document wacht op je akkoord", Text: link}, nil
}
func (mails) SigningExpiredMail(lang, link string) (notify.Mail, error) {
	return notify.Mail{Subject: "Een verzoek om akkoord is verlopen", Text: link}, nil
}
func (mails) SigningLapsedMail(lang, link string) (notify.Mail, error) {
	return notify.Mail{Subject: "Een verzoek om akkoord is vervallen", Text: link}, nil
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

func (r *recorder) kinds(kind string) []messaging.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []messaging.Event
	for _, ev := range r.evs {
		if ev.Kind == kind {
			out = append(out, ev)
		}
	}
	return out
}

// fakeSealer stands in for seal.Store: it appends a marker and the
// evidence's signer count, and remembers the evidence.
type fakeSealer struct {
	mu  sync.Mutex
	got []seal.Evidence
}

func (f *fakeSealer) Seal(_ context.Context, _ int64, original []byte, ev seal.Evidence) ([]byte, error) {
	f.mu.Lock()
	f.got = append(f.got, ev)
	f.mu.Unlock()
	return append(append([]byte{}, original...), []byte("\n%sealed "+strconv.Itoa(len(ev.Signatures))+"\n")...), nil
}

var pageRE = regexp.MustCompile(`/Type\s*/Page\b[^s]`)

func countPages(pdf []byte) (int, error) {
	n := len(pageRE.FindAll(pdf, -1))
	if n == 0 {
		return 0, errors.New("no pages")
	}
	return n, nil
}

type fx struct {
	d      *db.DB
	v      *vault.Vault
	clk    *clock
	msgs   *messaging.Service
	svc    *signing.Service
	ev     *recorder
	sealer *fakeSealer
	org    *db.Organisation
	hr     *db.User // internal requester
	jan    *db.User // external, SMS
	kees   *db.User // external, SMS
	piet   *db.User // external, app only
	secret string   // piet's app secret
	thread int64
}

func setup(t *testing.T, d *db.DB) *fx {
	t.Helper()
	ctx := context.Background()
	v, _ := vault.New(bytes.Repeat([]byte{7}, 32))
	f := &fx{d: d, v: v, clk: &clock{t: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)}, ev: &recorder{}, sealer: &fakeSealer{}}
	base, _ := url.Parse("http://dialoog.test")
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	limiter := &auth.Limiter{DB: d, Now: f.clk.Now}
	inv := &auth.Invitations{DB: d, Outbox: notify.NewOutbox(v).WithClock(f.clk.Now), Mail: mails{}, BaseURL: base, Now: f.clk.Now,
		Sessions: &auth.Sessions{DB: d, Now: f.clk.Now}, Limiter: limiter, Log: log}
	org, _, err := auth.Bootstrap(ctx, inv, "OSAW")
	if err != nil {
		t.Fatal(err)
	}
	f.org = org
	f.msgs = &messaging.Service{DB: d, Vault: v, Files: &messaging.Files{Store: &blob.Dir{Root: filepath.Join(t.TempDir(), "attachments")}, Vault: v},
		Outbox: notify.NewOutbox(v).WithClock(f.clk.Now), Invitations: inv, Mail: mails{}, BaseURL: "http://dialoog.test", Now: f.clk.Now, Log: log, Events: f.ev}
	accounts := &auth.Accounts{DB: d, Vault: v, Outbox: notify.NewOutbox(v).WithClock(f.clk.Now), Sessions: &auth.Sessions{DB: d, Now: f.clk.Now}, Limiter: limiter, Now: f.clk.Now, Log: log}
	f.svc = &signing.Service{DB: d, Vault: v, Messages: f.msgs, Outbox: notify.NewOutbox(v).WithClock(f.clk.Now), Limiter: limiter, Codes: accounts,
		Sealer: f.sealer, Pages: countPages, Mail: mails{}, CodeText: func(lang, code string) string { return "Je code voor akkoord: " + code },
		BaseURL: "http://dialoog.test", Now: f.clk.Now, Log: log}
	f.msgs.AccountLeaving = f.svc.Leave
	f.msgs.TeamLeaving = f.svc.LeaveTeam
	f.msgs.ParticipantLeaving = f.svc.LeaveThread
	f.msgs.CaseClosing = f.svc.CloseCase
	f.msgs.ExportSigning = f.svc.ExportRequests
	f.hr = f.user(t, "hr@osaw.nl", true, "Hanna", "Vries")
	f.jan = f.user(t, "jan@example.nl", false, "Jan", "Jansen")
	f.kees = f.user(t, "kees@example.nl", false, "Kees", "Klaassen")
	f.piet = f.user(t, "piet@example.nl", false, "Piet", "Pieters")
	f.phone(t, f.jan, "+31612345678")
	f.phone(t, f.kees, "+31687654321")
	f.secret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
	now := f.clk.Now()
	if _, err := d.NewInsert().Model(&db.SecondFactor{UserID: f.piet.ID, Kind: db.FactorTOTP, TOTPSecret: v.Seal([]byte(f.secret), []byte("totp:"+strconv.FormatInt(f.piet.ID, 10))),
		VerifiedAt: bun.NullTime{Time: now}, CreatedAt: now}).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	f.thread, err = f.msgs.Compose(ctx, f.hr.Identity(), messaging.ComposeInput{To: []string{f.jan.Email, f.kees.Email, f.piet.Email}, Subject: "Plan van aanpak", Body: "Zie bijlage."})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *fx) user(t *testing.T, email string, internal bool, first, last string) *db.User {
	t.Helper()
	now := f.clk.Now()
	u := &db.User{Email: email, Kind: db.KindExternal, Status: db.StatusActive, Language: "nl", Gender: "unknown",
		FirstName: first, LastName: last, Initials: first[:1] + ".", CreatedAt: now, UpdatedAt: now, ProfileCompletedAt: bun.NullTime{Time: now}}
	if internal {
		u.Kind, u.OrgID = db.KindInternal, &f.org.ID
	}
	if _, err := f.d.NewInsert().Model(u).Exec(context.Background()); err != nil {
		t.Fatal(err)
	}
	return u
}

func (f *fx) phone(t *testing.T, u *db.User, phone string) {
	t.Helper()
	now := f.clk.Now()
	if _, err := f.d.NewInsert().Model(&db.SecondFactor{UserID: u.ID, Kind: db.FactorSMS, Phone: phone, VerifiedAt: bun.NullTime{Time: now}, CreatedAt: now}).
		Exec(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// pdf is a small PDF of n pages; tag makes two documents differ.
func pdf(n int, tag string) []byte {
	var b bytes.Buffer
	b.WriteString("%PDF-1.4\n% " + tag + "\n1 0 obj << /Type /Pages /Count " + strconv.Itoa(n) + " >> endobj\n")
	for i := range n {
		b.WriteString(strconv.Itoa(i+2) + " 0 obj << /Type /Page /Parent 1 0 R >> endobj\n")
	}
	b.WriteString("%%EOF\n")
	return b.Bytes()
}

// request posts a reply with a PDF and asks signers to agree to it.
func (f *fx) request(t *testing.T, name string, data []byte, in signing.RequestInput) int64 {
	t.Helper()
	ctx := context.Background()
	att, err := f.msgs.Upload(ctx, f.hr.Identity(), name, data)
	if err != nil {
		t.Fatal(err)
	}
	var id int64
	_, err = f.msgs.Reply(ctx, f.hr.Identity(), messaging.ReplyInput{ThreadID: f.thread, Body: "Graag je akkoord.", AttachmentIDs: []int64{att.ID},
		Within: func(ctx context.Context, tx bun.Tx, messageID int64) ([]messaging.Event, error) {
			var err error
			id, err = f.svc.RequestTx(ctx, tx, f.hr, f.thread, messageID, in)
			return nil, err
		}})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

var codeRE = regexp.MustCompile(`\b\d{6}\b`)

func (f *fx) sentCode(t *testing.T, u *db.User, requestID int64) string {
	t.Helper()
	if err := f.svc.SendCode(context.Background(), u.Identity(), requestID, "192.0.2.1"); err != nil {
		t.Fatalf("send code: %v", err)
	}
	var phone string
	if err := f.d.NewSelect().Model((*db.SecondFactor)(nil)).Column("phone").Where("user_id = ? AND kind = ?", u.ID, db.FactorSMS).Scan(context.Background(), &phone); err != nil {
		t.Fatal(err)
	}
	sms, err := notify.LatestDevSMSTo(context.Background(), f.d, f.v, phone)
	if err != nil {
		t.Fatal(err)
	}
	return codeRE.FindString(sms.Body)
}

func (f *fx) agree(u *db.User, requestID int64, code string) error {
	return f.svc.Agree(context.Background(), u.Identity(), requestID, signing.AgreeInput{Read: true, Code: code, IP: "192.0.2.1", UserAgent: "Test/1.0"})
}

func (f *fx) card(t *testing.T, u *db.User, id int64) *signing.Card {
	t.Helper()
	c, err := f.svc.CardByID(context.Background(), u.Identity(), id)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func wantKey(t *testing.T, err error, key string) {
	t.Helper()
	var ae *apperr.Error
	if !errors.As(err, &ae) || ae.Key != key {
		t.Fatalf("want %s, got %v", key, err)
	}
}

func wantCode(t *testing.T, err error, code apperr.Code) {
	t.Helper()
	var ae *apperr.Error
	if !errors.As(err, &ae) || ae.Code != code {
		t.Fatalf("want %s, got %v", code, err)
	}
}

func TestCodeBoundToDocument(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		a := f.request(t, "a.pdf", pdf(1, "A"), signing.RequestInput{SignerIDs: []int64{f.jan.ID}})
		b := f.request(t, "b.pdf", pdf(2, "B"), signing.RequestInput{SignerIDs: []int64{f.jan.ID}})
		code := f.sentCode(t, f.jan, a)
		wantKey(t, f.agree(f.jan, b, code), "code.none")
		// Even with a code of its own pending, B refuses A's code.
		codeB := f.sentCode(t, f.jan, b)
		if codeB != code {
			wantKey(t, f.agree(f.jan, b, code), "code.wrong")
		}
		if c := f.card(t, f.jan, b); c.Signers[0].Status != signing.SignerWaiting {
			t.Fatalf("B signed with A's code: %+v", c)
		}
		if err := f.agree(f.jan, a, code); err != nil {
			t.Fatal(err)
		}
		if c := f.card(t, f.hr, a); c.Status != signing.StatusSealed || c.Signers[0].Status != signing.SignerAgreed {
			t.Fatalf("A after agreement: %+v", c)
		}
	})
}

func TestCodeBoundToSigner(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		id := f.request(t, "plan.pdf", pdf(1, "P"), signing.RequestInput{SignerIDs: []int64{f.jan.ID, f.kees.ID}})
		code := f.sentCode(t, f.jan, id)
		wantKey(t, f.agree(f.kees, id, code), "code.none")
		codeKees := f.sentCode(t, f.kees, id)
		if codeKees != code {
			wantKey(t, f.agree(f.kees, id, code), "code.wrong")
		}
		c := f.card(t, f.hr, id)
		if c.Signers[1].Status != signing.SignerWaiting {
			t.Fatalf("Kees signed with Jan's code: %+v", c.Signers)
		}
	})
}

func TestNonSignerCannotSign(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		ctx := context.Background()
		id := f.request(t, "plan.pdf", pdf(1, "P"), signing.RequestInput{SignerIDs: []int64{f.jan.ID}})
		// A participant who is no signer.
		wantCode(t, f.agree(f.kees, id, "123456"), apperr.NotFound)
		wantCode(t, f.svc.SendCode(ctx, f.kees.Identity(), id, "192.0.2.1"), apperr.NotFound)
		wantCode(t, f.svc.Decline(ctx, f.kees.Identity(), id, "nee", "192.0.2.1"), apperr.NotFound)
		// Someone outside the conversation sees nothing of it.
		out := f.user(t, "buiten@example.nl", false, "Bea", "Buiten")
		f.phone(t, out, "+31611111111")
		wantCode(t, f.agree(out, id, "123456"), apperr.NotFound)
		_, err := f.svc.CardByID(ctx, out.Identity(), id)
		wantCode(t, err, apperr.NotFound)
		_, _, err = f.svc.View(ctx, out.Identity(), id, "192.0.2.1")
		wantCode(t, err, apperr.NotFound)
		// Only participants can be asked.
		att, err := f.msgs.Upload(ctx, f.hr.Identity(), "x.pdf", pdf(1, "X"))
		if err != nil {
			t.Fatal(err)
		}
		_, err = f.msgs.Reply(ctx, f.hr.Identity(), messaging.ReplyInput{ThreadID: f.thread, Body: "x", AttachmentIDs: []int64{att.ID},
			Within: f.svc.Within(f.hr.Identity(), f.thread, signing.RequestInput{SignerIDs: []int64{out.ID}})})
		wantKey(t, err, "signing.not_participant")
	})
}

// TestOtherOrganisationCannotAsk: only the staff of the conversation's
// organisation ask for agreement (sealed with that organisation's key);
// a colleague of another organisation who takes part may not.
func TestOtherOrganisationCannotAsk(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		ctx := context.Background()
		other := &db.Organisation{Name: "Ander", CreatedAt: f.clk.Now()}
		if _, err := d.NewInsert().Model(other).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		guest := f.user(t, "gast@ander.nl", true, "Gijs", "Gast")
		if _, err := d.NewUpdate().Model((*db.User)(nil)).Set("org_id = ?", other.ID).Where("id = ?", guest.ID).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		guest.OrgID = &other.ID
		if err := f.msgs.AddParticipant(ctx, f.hr.Identity(), f.thread, messaging.AddInput{Email: guest.Email, History: messaging.WithHistory}); err != nil {
			t.Fatal(err)
		}
		att, err := f.msgs.Upload(ctx, guest.Identity(), "x.pdf", pdf(1, "X"))
		if err != nil {
			t.Fatal(err)
		}
		_, err = f.msgs.Reply(ctx, guest.Identity(), messaging.ReplyInput{ThreadID: f.thread, Body: "Graag je akkoord.", AttachmentIDs: []int64{att.ID},
			Within: f.svc.Within(guest.Identity(), f.thread, signing.RequestInput{SignerIDs: []int64{f.jan.ID}})})
		wantKey(t, err, "signing.internal_only")
		if n, err := d.NewSelect().Table("signing_requests").Count(ctx); err != nil || n != 0 {
			t.Fatalf("requests stored: %d, %v", n, err)
		}
	})
}

// TestRequestMessageStays: the message whose PDF was put to signers is not
// deleted for everyone (the request refers to its document).
// TestNewcomerWithoutHistory: a participant added with only the messages
// from now on never received the message whose PDF was put to the
// signers, so its card and document are as closed to them as the
// message's attachment; one added with the history, and a request made
// after either joined, reach them.
func TestNewcomerWithoutHistory(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		ctx := context.Background()
		id := f.request(t, "plan.pdf", pdf(1, "P"), signing.RequestInput{SignerIDs: []int64{f.jan.ID}})
		if err := f.svc.Decline(ctx, f.jan.Identity(), id, "Te vaag", "192.0.2.1"); err != nil {
			t.Fatal(err)
		}
		v, err := f.msgs.Thread(ctx, f.hr.Identity(), f.thread)
		if err != nil {
			t.Fatal(err)
		}
		doc := v.Messages[len(v.Messages)-1].Attachments[0].ID
		late := f.user(t, "laat@example.nl", false, "Lotte", "Laat")
		early := f.user(t, "vroeg@example.nl", false, "Vera", "Vroeg")
		for _, u := range []struct {
			u       *db.User
			history string
		}{{late, messaging.FromNowOn}, {early, messaging.WithHistory}} {
			if err := f.msgs.AddParticipant(ctx, f.hr.Identity(), f.thread, messaging.AddInput{Email: u.u.Email, History: u.history}); err != nil {
				t.Fatal(err)
			}
		}
		_, _, err = f.msgs.Download(ctx, late.Identity(), doc)
		wantCode(t, err, apperr.NotFound)
		_, _, err = f.svc.View(ctx, late.Identity(), id, "192.0.2.1")
		wantCode(t, err, apperr.NotFound)
		_, err = f.svc.CardByID(ctx, late.Identity(), id)
		wantCode(t, err, apperr.NotFound)
		if cs, err := f.svc.Cards(ctx, late.Identity(), f.thread); err != nil || len(cs) != 0 {
			t.Fatalf("the newcomer without history sees cards %+v, %v", cs, err)
		}
		if lc, err := f.svc.LiveCards(ctx, id, []int64{late.ID, early.ID}); err != nil || len(lc) != 1 || lc[0].UserID != early.ID {
			t.Fatalf("live cards: %+v, %v", lc, err)
		}
		if _, data, err := f.svc.View(ctx, early.Identity(), id, "192.0.2.1"); err != nil || !bytes.Equal(data, pdf(1, "P")) {
			t.Fatalf("the newcomer with history: %v", err)
		}
		if cs, err := f.svc.Cards(ctx, early.Identity(), f.thread); err != nil || len(cs) != 1 || cs[0].Signers[0].Reason != "Te vaag" {
			t.Fatalf("the newcomer with history sees cards %+v, %v", cs, err)
		}
		next := f.request(t, "plan2.pdf", pdf(2, "Q"), signing.RequestInput{SignerIDs: []int64{late.ID}})
		if cs, err := f.svc.Cards(ctx, late.Identity(), f.thread); err != nil || len(cs) != 1 || cs[0].ID != next || !cs[0].MayAct {
			t.Fatalf("a later request: %+v, %v", cs, err)
		}
		if _, _, err := f.svc.View(ctx, late.Identity(), next, "192.0.2.1"); err != nil {
			t.Fatal(err)
		}
	})
}

func TestRequestMessageStays(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		f.request(t, "plan.pdf", pdf(1, "P"), signing.RequestInput{SignerIDs: []int64{f.jan.ID}})
		var mid int64
		if err := d.NewSelect().Table("signing_requests").Column("message_id").Scan(context.Background(), &mid); err != nil {
			t.Fatal(err)
		}
		wantKey(t, f.msgs.DeleteForEveryone(context.Background(), f.hr.Identity(), mid), "signing.message_has_request")
	})
}

func TestOnlyPDFs(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		ctx := context.Background()
		att, err := f.msgs.Upload(ctx, f.hr.Identity(), "notitie.txt", []byte("geen pdf"))
		if err != nil {
			t.Fatal(err)
		}
		_, err = f.msgs.Reply(ctx, f.hr.Identity(), messaging.ReplyInput{ThreadID: f.thread, Body: "x", AttachmentIDs: []int64{att.ID},
			Within: f.svc.Within(f.hr.Identity(), f.thread, signing.RequestInput{SignerIDs: []int64{f.jan.ID}})})
		wantKey(t, err, "signing.pdf_required")
		// The reply was not stored either: one transaction.
		th, err := f.msgs.Thread(ctx, f.hr.Identity(), f.thread)
		if err != nil {
			t.Fatal(err)
		}
		if len(th.Messages) != 1 {
			t.Fatalf("messages after a refused request: %d", len(th.Messages))
		}
	})
}

func TestModifiedDocumentCannotBeSigned(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		ctx := context.Background()
		data := pdf(1, "P")
		id := f.request(t, "plan.pdf", data, signing.RequestInput{SignerIDs: []int64{f.jan.ID}})
		code := f.sentCode(t, f.jan, id)
		// One byte of the stored document changes after the request.
		var a db.Attachment
		if err := d.NewSelect().Model(&a).Where("content_type = ?", "application/pdf").Order("id DESC").Limit(1).Scan(ctx); err != nil {
			t.Fatal(err)
		}
		changed := bytes.Clone(data)
		changed[len(changed)-3] ^= 1
		if _, err := f.msgs.Files.Write(ctx, a.StorageKey, bytes.NewReader(changed)); err != nil {
			t.Fatal(err)
		}
		wantKey(t, f.agree(f.jan, id, code), "signing.document_changed")
		if c := f.card(t, f.hr, id); c.Signers[0].Status != signing.SignerWaiting || c.Status != signing.StatusOpen {
			t.Fatalf("changed document agreed to: %+v", c)
		}
	})
}

func TestDeclineWithReason(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		ctx := context.Background()
		id := f.request(t, "plan.pdf", pdf(1, "P"), signing.RequestInput{SignerIDs: []int64{f.jan.ID, f.kees.ID}})
		wantKey(t, f.svc.Decline(ctx, f.jan.Identity(), id, "  ", "192.0.2.1"), "signing.reason_required")
		if err := f.svc.Decline(ctx, f.jan.Identity(), id, "De datum in artikel 3 klopt niet.", "192.0.2.1"); err != nil {
			t.Fatal(err)
		}
		c := f.card(t, f.kees, id)
		if c.Status != signing.StatusDeclined || c.Signers[0].Status != signing.SignerDeclined || c.Signers[0].Reason != "De datum in artikel 3 klopt niet." {
			t.Fatalf("card after decline: %+v", c)
		}
		if c.MayAct {
			t.Fatal("a declined request still asks for agreement")
		}
		wantKey(t, f.agree(f.kees, id, "123456"), "signing.closed")
		if n, err := d.NewSelect().Model((*db.AuditEvent)(nil)).Where("kind = 'signing.declined' AND user_id = ?", f.jan.ID).Count(ctx); err != nil || n != 1 {
			t.Fatalf("decline audited %d times: %v", n, err)
		}
		evs := f.ev.kinds(signing.EventSigning)
		if len(evs) == 0 || evs[len(evs)-1].MessageID != id || len(evs[len(evs)-1].UserIDs) != 4 {
			t.Fatalf("live events: %+v", evs)
		}
	})
}

func TestInOrder(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		ctx := context.Background()
		id := f.request(t, "plan.pdf", pdf(3, "P"), signing.RequestInput{SignerIDs: []int64{f.jan.ID, f.piet.ID}, InOrder: true})
		if c := f.card(t, f.piet, id); c.MayAct || c.Pages != 3 || !c.Signers[0].Turn {
			t.Fatalf("card for the second signer: %+v", c)
		}
		code, err := totp.GenerateCode(f.secret, f.clk.Now())
		if err != nil {
			t.Fatal(err)
		}
		wantKey(t, f.agree(f.piet, id, code), "signing.not_your_turn")
		wantKey(t, f.svc.Decline(ctx, f.piet.Identity(), id, "nee", "192.0.2.1"), "signing.not_your_turn")
		if err := f.agree(f.jan, id, f.sentCode(t, f.jan, id)); err != nil {
			t.Fatal(err)
		}
		c := f.card(t, f.piet, id)
		if !c.MayAct || c.Method != seal.MethodApp {
			t.Fatalf("second signer's turn: %+v", c)
		}
		// Piet has no SMS: no text is sent, the app's code confirms.
		wantKey(t, f.svc.SendCode(ctx, f.piet.Identity(), id, "192.0.2.1"), "signing.use_app")
		wantKey(t, f.agree(f.piet, id, "000000"), "code.wrong")
		if err := f.agree(f.piet, id, code); err != nil {
			t.Fatal(err)
		}
		c = f.card(t, f.hr, id)
		if c.Status != signing.StatusSealed || c.SealedMessageID == 0 {
			t.Fatalf("after both: %+v", c)
		}
		// The evidence of both, in order, went to the sealer.
		ev := f.sealer.got[0]
		if len(ev.Signatures) != 2 || ev.Signatures[0].Email != f.jan.Email || ev.Signatures[0].Method != seal.MethodSMS ||
			ev.Signatures[0].MaskedPhone == "" || ev.Signatures[0].MaskedPhone == "+31612345678" || ev.Signatures[1].Method != seal.MethodApp ||
			ev.Signatures[1].UserAgent != "Test/1.0" || ev.Signatures[1].IP != "192.0.2.1" || ev.Pages != 3 || ev.SHA256 != c.SHA256 ||
			ev.DocumentName != "plan.pdf" || ev.Organisation != "OSAW" {
			t.Fatalf("evidence: %+v", ev)
		}
		// The sealed PDF is a new message of the conversation, for everyone.
		th, err := f.msgs.Thread(ctx, f.kees.Identity(), f.thread)
		if err != nil {
			t.Fatal(err)
		}
		last := th.Messages[len(th.Messages)-1]
		if last.ID != c.SealedMessageID || last.System != messaging.SystemSigned || len(last.Attachments) != 1 || last.Attachments[0].Name != "plan-ondertekend.pdf" {
			t.Fatalf("sealed message: %+v", last)
		}
		_, rc, err := f.msgs.Download(ctx, f.kees.Identity(), last.Attachments[0].ID)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(rc)
		rc.Close()
		if !bytes.Contains(got, []byte("%sealed 2")) {
			t.Fatalf("sealed content: %q", got)
		}
		// Every step is audited.
		var kinds []string
		if err := d.NewSelect().Model((*db.AuditEvent)(nil)).Column("kind").Where("kind LIKE 'signing.%'").Order("id").Scan(ctx, &kinds); err != nil {
			t.Fatal(err)
		}
		want := map[string]bool{"signing.requested": true, "signing.code_sent": true, "signing.agreed": true, "signing.sealed": true}
		for _, k := range kinds {
			delete(want, k)
		}
		if len(want) > 0 {
			t.Fatalf("audit kinds %v miss %v", kinds, want)
		}
	})
}

func TestReminderAndExpiry(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		ctx := context.Background()
		deadline := f.clk.Now().Add(5 * 24 * time.Hour)
		id := f.request(t, "plan.pdf", pdf(1, "P"), signing.RequestInput{SignerIDs: []int64{f.jan.ID, f.kees.ID}, Deadline: deadline})
		if err := f.agree(f.kees, id, f.sentCode(t, f.kees, id)); err != nil {
			t.Fatal(err)
		}
		run := func() (int, int) {
			t.Helper()
			r, e, err := f.svc.RunDue(ctx)
			if err != nil {
				t.Fatal(err)
			}
			return r, e
		}
		if r, e := run(); r != 0 || e != 0 {
			t.Fatalf("early run: reminded %d expired %d", r, e)
		}
		// A request whose deadline is near from the start gets no reminder.
		f.request(t, "kort.pdf", pdf(1, "K"), signing.RequestInput{SignerIDs: []int64{f.kees.ID}, Deadline: f.clk.Now().Add(24 * time.Hour)})
		if r, _ := run(); r != 0 {
			t.Fatalf("a request made a day before its deadline was reminded of")
		}
		f.clk.Add(3*24*time.Hour + time.Minute) // less than two days left
		// The reminder of the first; the short one's deadline passed.
		if r, e := run(); r != 1 || e != 1 {
			t.Fatalf("reminder run: reminded %d expired %d", r, e)
		}
		if r, _ := run(); r != 0 {
			t.Fatal("reminded twice")
		}
		mailsTo := func(to, subject string) int {
			items, err := notify.DevItems(ctx, d, f.v, 1000)
			if err != nil {
				t.Fatal(err)
			}
			n := 0
			for _, it := range items {
				if it.Recipient == to && it.Mail != nil && it.Mail.Subject == subject {
					n++
				}
			}
			return n
		}
		if mailsTo(f.jan.Email, "Herinnering: een document wacht op je akkoord") != 1 || mailsTo(f.kees.Email, "Herinnering: een document wacht op je akkoord") != 0 {
			t.Fatal("the reminder goes to the signer who has not acted, once")
		}
		f.clk.Add(2 * 24 * time.Hour)
		if _, e := run(); e != 1 {
			t.Fatalf("expired %d", e)
		}
		c := f.card(t, f.hr, id)
		if c.Status != signing.StatusExpired || c.Signers[0].Status != signing.SignerExpired || c.Signers[1].Status != signing.SignerAgreed {
			t.Fatalf("after expiry: %+v", c)
		}
		if mailsTo(f.hr.Email, "Een verzoek om akkoord is verlopen") != 2 {
			t.Fatal("the requester is told of the expiry")
		}
		wantKey(t, f.agree(f.jan, id, "123456"), "signing.closed")
		n, err := d.NewSelect().Model((*db.AuditEvent)(nil)).Where("kind = 'signing.expired'").Count(ctx)
		if err != nil || n != 2 {
			t.Fatalf("expiry audited %d times: %v", n, err)
		}
	})
}

func TestCodeTriesAndExpiry(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		id := f.request(t, "plan.pdf", pdf(1, "P"), signing.RequestInput{SignerIDs: []int64{f.jan.ID}})
		code := f.sentCode(t, f.jan, id)
		wantKey(t, f.svc.SendCode(context.Background(), f.jan.Identity(), id, "192.0.2.1"), "error.wait")
		f.clk.Add(signing.CodeTTL + time.Second)
		wantKey(t, f.agree(f.jan, id, code), "code.expired")
		code = f.sentCode(t, f.jan, id)
		wrong := "000000"
		if code == wrong {
			wrong = "111111"
		}
		for range signing.CodeTries {
			f.clk.Add(10 * time.Minute / 20) // past the account's growing wait
			err := f.agree(f.jan, id, wrong)
			var ae *apperr.Error
			if !errors.As(err, &ae) {
				t.Fatal(err)
			}
		}
		f.clk.Add(time.Minute)
		wantKey(t, f.agree(f.jan, id, code), "code.too_many_tries")
	})
}

// TestStopKeepsEvidence: a signer who stops with Dialoog keeps their
// evidence in the others' requests; the sealed PDF still lists them.
func TestStopKeepsEvidence(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		ctx := context.Background()
		id := f.request(t, "plan.pdf", pdf(1, "P"), signing.RequestInput{SignerIDs: []int64{f.jan.ID, f.kees.ID}})
		if err := f.agree(f.jan, id, f.sentCode(t, f.jan, id)); err != nil {
			t.Fatal(err)
		}
		if err := f.msgs.StopService(ctx, f.jan.Identity()); err != nil {
			t.Fatal(err)
		}
		c := f.card(t, f.hr, id)
		if c.Signers[0].Status != signing.SignerAgreed || c.Signers[0].Name != "Jan Jansen" {
			t.Fatalf("after Jan stopped: %+v", c.Signers)
		}
		if err := f.agree(f.kees, id, f.sentCode(t, f.kees, id)); err != nil {
			t.Fatal(err)
		}
		if c := f.card(t, f.hr, id); c.Status != signing.StatusSealed {
			t.Fatalf("not sealed: %+v", c)
		}
		ev := f.sealer.got[0]
		if len(ev.Signatures) != 2 || ev.Signatures[0].Email != "jan@example.nl" {
			t.Fatalf("evidence after a signer stopped: %+v", ev.Signatures)
		}
	})
}

// TestSignerWhoStopsLapsesTheRequest: a request that still waits for a
// signer who stops with Dialoog can never be completed. It lapses at once
// instead of waiting for ever: the signer shows as gone (their name goes
// with their account), the others can no longer agree, the requester gets
// a content-free mail. A request they had already agreed to goes on
// (TestStopKeepsEvidence), and so do requests that do not wait for them.
func TestSignerWhoStopsLapsesTheRequest(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		ctx := context.Background()
		waiting := f.request(t, "plan.pdf", pdf(1, "P"), signing.RequestInput{SignerIDs: []int64{f.kees.ID, f.jan.ID}})
		other := f.request(t, "verslag.pdf", pdf(1, "V"), signing.RequestInput{SignerIDs: []int64{f.kees.ID}})
		if err := f.msgs.StopService(ctx, f.jan.Identity()); err != nil {
			t.Fatal(err)
		}
		f.wantLapsed(t, waiting, signing.SignerLeft, "", f.kees)
		if err := f.agree(f.kees, waiting, "123456"); err == nil {
			t.Fatal("an agreement to a lapsed request was taken")
		}
		if c := f.card(t, f.kees, other); c.Status != signing.StatusOpen || !c.MayAct {
			t.Fatalf("a request without Jan: %+v", c)
		}
		items, err := notify.DevItems(ctx, d, f.v, 1000)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, it := range items {
			if it.Recipient == f.hr.Email && it.Mail != nil && it.Mail.Subject == "Een verzoek om akkoord is vervallen" {
				n++
			}
		}
		if n != 1 {
			t.Errorf("%d mails to the requester that the request lapsed, want 1", n)
		}
		if got, err := d.NewSelect().Table("audit_events").Where("kind = 'signing.lapsed'").Count(ctx); err != nil || got != 1 {
			t.Errorf("%d audit rows of the lapse, want 1 (%v)", got, err)
		}
		// Pages already open show the lapse at once.
		live := false
		for _, ev := range f.ev.kinds(signing.EventSigning) {
			if ev.MessageID == waiting && slices.Contains(ev.UserIDs, f.hr.ID) {
				live = true
			}
		}
		if !live {
			t.Errorf("no live event of the lapse for the requester: %+v", f.ev.kinds(signing.EventSigning))
		}
	})
}

// TestSignerWhoLeavesTheTeamLapsesTheRequest: a colleague asked to agree
// in a team's conversation who then leaves the team can no longer reach
// the request, so it lapses as when a signer stops with Dialoog: they show
// as having no access any more (by name), the requester gets the mail,
// and open pages update. A request elsewhere in which they take part
// themselves goes on.
func TestSignerWhoLeavesTheTeamLapsesTheRequest(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		ctx := context.Background()
		arts := f.user(t, "arts@osaw.nl", true, "Anna", "Arts")
		team, err := f.msgs.CreateTeam(ctx, f.org.ID, "Bedrijfsarts", false, true)
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range []*db.User{f.hr, arts} {
			if err := f.msgs.AddTeamMember(ctx, team.ID, u.Email); err != nil {
				t.Fatal(err)
			}
		}
		tid, err := f.msgs.Compose(ctx, f.hr.Identity(), messaging.ComposeInput{To: []string{f.jan.Email}, Subject: "Re-integratieplan", Body: "Zie bijlage.", TeamID: team.ID})
		if err != nil {
			t.Fatal(err)
		}
		inTeam := f.askInReply(t, tid, f.jan.ID, arts.ID)
		// Anna also takes part in f.thread herself.
		if err := f.msgs.AddParticipant(ctx, f.hr.Identity(), f.thread, messaging.AddInput{Email: arts.Email, History: messaging.WithHistory}); err != nil {
			t.Fatal(err)
		}
		own := f.askInReply(t, f.thread, arts.ID)

		if err := f.msgs.RemoveTeamMember(ctx, team.ID, arts.Email); err != nil {
			t.Fatal(err)
		}
		f.wantLapsed(t, inTeam, signing.SignerRemoved, "Anna Arts", f.jan)
		if c := f.card(t, arts, own); c.Status != signing.StatusOpen || !c.MayAct {
			t.Fatalf("her own conversation's request: %+v", c)
		}
		live := false
		for _, ev := range f.ev.kinds(signing.EventSigning) {
			if ev.MessageID == inTeam && slices.Contains(ev.UserIDs, f.hr.ID) {
				live = true
			}
		}
		if !live {
			t.Error("no live event of the lapse")
		}
		items, err := notify.DevItems(ctx, d, f.v, 1000)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, it := range items {
			if it.Recipient == f.hr.Email && it.Mail != nil && it.Mail.Subject == "Een verzoek om akkoord is vervallen" {
				n++
			}
		}
		if n != 1 {
			t.Errorf("%d mails to the requester that the request lapsed, want 1", n)
		}
	})
}

// wantLapsed checks request id, put to two signers of whom the second
// can no longer take part: to its requester (f.hr) it shows lapsed, the
// first signer lapsed and the second with status gone and name (""
// when it shows no name), and the first signer, other, may no longer act.
func (f *fx) wantLapsed(t *testing.T, id int64, gone, name string, other *db.User) {
	t.Helper()
	c := f.card(t, f.hr, id)
	if c.Status != signing.StatusLapsed || len(c.Signers) != 2 || c.Signers[0].Status != signing.SignerLapsed ||
		c.Signers[1].Status != gone || c.Signers[1].Name != name {
		t.Fatalf("the request after a signer could no longer take part: %+v", c)
	}
	if c := f.card(t, other, id); c.MayAct {
		t.Fatalf("%s may still agree to a request that can no longer be completed", other.Email)
	}
}

// askInReply has f.hr put a one-page PDF to signers in a reply in
// conversation threadID, and returns the request's id.
func (f *fx) askInReply(t *testing.T, threadID int64, signers ...int64) int64 {
	t.Helper()
	ctx := context.Background()
	att, err := f.msgs.Upload(ctx, f.hr.Identity(), "plan.pdf", pdf(1, fmt.Sprint(threadID)))
	if err != nil {
		t.Fatal(err)
	}
	var id int64
	if _, err := f.msgs.Reply(ctx, f.hr.Identity(), messaging.ReplyInput{ThreadID: threadID, Body: "Graag akkoord.", AttachmentIDs: []int64{att.ID},
		Within: func(ctx context.Context, tx bun.Tx, messageID int64) ([]messaging.Event, error) {
			var err error
			id, err = f.svc.RequestTx(ctx, tx, f.hr, threadID, messageID, signing.RequestInput{SignerIDs: signers})
			return nil, err
		}}); err != nil {
		t.Fatal(err)
	}
	return id
}

// TestRemovedSignerLapsesTheRequest: a request that waits for someone
// taken out of the conversation again ("Deelnemer verwijderen") lapses in
// the same transaction, as when a signer leaves the team: it can no
// longer be completed. The requester removed them, so no lapse mail goes
// to the requester; a request of another conversation that waits for
// the same person stays open.
func TestRemovedSignerLapsesTheRequest(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		ctx := context.Background()
		other, err := f.msgs.Compose(ctx, f.hr.Identity(), messaging.ComposeInput{To: []string{f.kees.Email}, Subject: "Ander plan", Body: "Zie bijlage."})
		if err != nil {
			t.Fatal(err)
		}
		here := f.askInReply(t, f.thread, f.jan.ID, f.kees.ID)
		there := f.askInReply(t, other, f.kees.ID)

		if err := f.msgs.RemoveParticipant(ctx, f.hr.Identity(), f.thread, f.kees.ID); err != nil {
			t.Fatal(err)
		}
		f.wantLapsed(t, here, signing.SignerRemoved, "Kees Klaassen", f.jan)
		if c := f.card(t, f.kees, there); c.Status != signing.StatusOpen || !c.MayAct {
			t.Fatalf("the other conversation's request: %+v", c)
		}
		items, err := notify.DevItems(ctx, d, f.v, 1000)
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range items {
			if it.Recipient == f.hr.Email && it.Mail != nil && it.Mail.Subject == "Een verzoek om akkoord is vervallen" {
				t.Error("a lapse mail to the requester, who removed the signer")
			}
		}
	})
}

// TestRequestWhenComposing: a new conversation's PDF put to all its
// recipients, in the order of the addresses.
func TestRequestWhenComposing(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		ctx := context.Background()
		att, err := f.msgs.Upload(ctx, f.hr.Identity(), "overeenkomst.pdf", pdf(2, "C"))
		if err != nil {
			t.Fatal(err)
		}
		thread, err := f.msgs.Compose(ctx, f.hr.Identity(), messaging.ComposeInput{To: []string{f.kees.Email + ", " + f.jan.Email}, Subject: "Overeenkomst",
			Body: "Graag akkoord.", AttachmentIDs: []int64{att.ID},
			Within: f.svc.WithinCompose(f.hr.Identity(), signing.RequestInput{AllRecipients: true, InOrder: true})})
		if err != nil {
			t.Fatal(err)
		}
		cards, err := f.svc.Cards(ctx, f.kees.Identity(), thread)
		if err != nil {
			t.Fatal(err)
		}
		if len(cards) != 1 || len(cards[0].Signers) != 2 || cards[0].Signers[0].Name != "Kees Klaassen" || !cards[0].MayAct || cards[0].Pages != 2 {
			t.Fatalf("cards: %+v", cards)
		}
		// Without a PDF nothing is sent.
		att, err = f.msgs.Upload(ctx, f.hr.Identity(), "notitie.txt", []byte("x"))
		if err != nil {
			t.Fatal(err)
		}
		_, err = f.msgs.Compose(ctx, f.hr.Identity(), messaging.ComposeInput{To: []string{f.jan.Email}, Subject: "Zonder PDF", Body: "x", AttachmentIDs: []int64{att.ID},
			Within: f.svc.WithinCompose(f.hr.Identity(), signing.RequestInput{AllRecipients: true})})
		wantKey(t, err, "signing.pdf_required")
	})
}

// A signer who removed the request's message from their box still sees
// the request (receivedRule) and must still be able to read and agree to
// its document: when the others remove the message too, it is kept while
// the request waits for agreement.
func TestRemovedMessageKeepsOpenRequestsDocument(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		ctx := context.Background()
		id := f.request(t, "plan.pdf", pdf(1, "P"), signing.RequestInput{SignerIDs: []int64{f.jan.ID}})
		var mid int64
		if err := d.NewSelect().Table("signing_requests").Column("message_id").Where("id = ?", id).Scan(ctx, &mid); err != nil {
			t.Fatal(err)
		}
		for _, u := range []*db.User{f.jan, f.kees, f.piet, f.hr} {
			if err := f.msgs.RemoveFromBox(ctx, u.Identity(), mid); err != nil {
				t.Fatal(err)
			}
		}
		if c := f.card(t, f.jan, id); c.Status != signing.StatusOpen {
			t.Fatalf("the signer's card: %+v", c)
		}
		if _, _, err := f.svc.View(ctx, f.jan.Identity(), id, "192.0.2.1"); err != nil {
			t.Fatalf("the signer cannot read the document: %v", err)
		}
		if err := f.agree(f.jan, id, f.sentCode(t, f.jan, id)); err != nil {
			t.Fatalf("the signer cannot agree: %v", err)
		}
		if c := f.card(t, f.hr, id); c.Status != signing.StatusSealed {
			t.Fatalf("not sealed: %+v", c)
		}
		// Once the last person who received it stops with Dialoog, nobody
		// keeps it: the conversation goes, with the request and its files.
		for _, u := range []*db.User{f.hr, f.kees, f.piet, f.jan} {
			if err := f.msgs.StopService(ctx, u.Identity()); err != nil {
				t.Fatal(err)
			}
		}
		for _, table := range []string{"messages", "attachments", "signing_requests"} {
			if n, err := d.NewSelect().Table(table).Count(ctx); err != nil || n != 0 {
				t.Errorf("%d %s left after everyone stopped (%v)", n, table, err)
			}
		}
	})
}

// TestDeadlineEndsAtDutchMidnight, on both engines: a request "uiterlijk 5
// maart" can be answered until midnight in Amsterdam (23:00 UTC) and not
// after it, also in the minutes before the periodic job marks it expired:
// an agreement, a refusal or a new code at 00:01 on 6 March is refused,
// and the card no longer offers to act and shows the request as expired.
func TestDeadlineEndsAtDutchMidnight(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		ctx := context.Background()
		deadline, err := signing.ParseDeadline("05-03-2026")
		if err != nil {
			t.Fatal(err)
		}
		id := f.request(t, "plan.pdf", pdf(1, "P"), signing.RequestInput{SignerIDs: []int64{f.jan.ID, f.kees.ID, f.piet.ID}, Deadline: deadline})
		// 23:55 on 5 March in Amsterdam: still in time.
		f.clk.Add(time.Date(2026, 3, 5, 22, 55, 0, 0, time.UTC).Sub(f.clk.Now()))
		if err := f.agree(f.kees, id, f.sentCode(t, f.kees, id)); err != nil {
			t.Fatalf("agreeing at 23:55: %v", err)
		}
		code := f.sentCode(t, f.jan, id)
		// 00:01 on 6 March; the periodic job has not run yet.
		f.clk.Add(6 * time.Minute)
		wantKey(t, f.agree(f.jan, id, code), "signing.deadline_passed")
		wantKey(t, f.svc.Decline(ctx, f.piet.Identity(), id, "Te laat", "192.0.2.1"), "signing.deadline_passed")
		wantKey(t, f.svc.SendCode(ctx, f.jan.Identity(), id, "192.0.2.1"), "signing.deadline_passed")
		c := f.card(t, f.jan, id)
		if c.MayAct || c.Status != signing.StatusExpired || c.Signers[0].Status != signing.SignerExpired || c.Signers[1].Status != signing.SignerAgreed {
			t.Fatalf("card after the deadline: %+v", c)
		}
		if _, e, err := f.svc.RunDue(ctx); err != nil || e != 1 {
			t.Fatalf("the job expired %d: %v", e, err)
		}
		if c := f.card(t, f.jan, id); c.Status != signing.StatusExpired || c.Signers[0].Status != signing.SignerExpired || c.Signers[1].Status != signing.SignerAgreed {
			t.Fatalf("card after the job: %+v", c)
		}
	})
}
