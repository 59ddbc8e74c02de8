package handlers

import (
	"bytes"
	"context"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"testing"

	"github.com/uptrace/bun"

	"dialoog/auth"
	"dialoog/db"
	"dialoog/messaging"
	"dialoog/notify"
)

// This file adds people and conversations to a realApp for the messaging
// tests. People are stored as having finished the first visit, which the
// accounts tests already drive through HTTP; here that would only cost
// argon2 time. Each gets a session that passed the second factor.

// person is a user who finished the first visit.
type person struct {
	u *db.User
	b *browser // signed in
}

// person stores a finished user of kind internal (of ra.org) or external,
// with a profile name and language, and signs them in.
func (ra *realApp) person(t *testing.T, email string, internal bool, first, prefix, last, lang string) *person {
	t.Helper()
	u := ra.storeUser(t, email, internal, first, prefix, last, lang)
	return &person{u: u, b: ra.signIn(t, u)}
}

// storeUser stores a user who finished the first visit: terms accepted, a
// password, a verified SMS factor, recovery codes confirmed, a profile.
func (ra *realApp) storeUser(tb testing.TB, email string, internal bool, first, prefix, last, lang string) *db.User {
	tb.Helper()
	ctx := context.Background()
	now := ra.clk.Now().UTC()
	done := bun.NullTime{Time: now}
	u := &db.User{Email: email, Kind: db.KindExternal, Status: db.StatusActive, Language: lang, Gender: "unknown",
		Initials: first[:1] + ".", FirstName: first, NamePrefix: prefix, LastName: last,
		SecondFactorDoneAt: done, RecoveryConfirmedAt: done, ProfileCompletedAt: done, LastLoginAt: done,
		CreatedAt: now, UpdatedAt: now}
	if internal {
		u.Kind, u.OrgID = db.KindInternal, &ra.org.ID
	}
	if _, err := ra.d.NewInsert().Model(u).Exec(ctx); err != nil {
		tb.Fatal(err)
	}
	if _, err := ra.d.NewUpdate().Model(&db.Password{ID: u.ID, Hash: "not used by these tests"}).WherePK().Exec(ctx); err != nil {
		tb.Fatal(err)
	}
	terms, err := auth.CurrentTerms(ctx, ra.d)
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := ra.d.NewInsert().Model(&db.TermsAcceptance{UserID: u.ID, TermsVersionID: terms.ID, IP: "127.0.0.1", AcceptedAt: now}).Exec(ctx); err != nil {
		tb.Fatal(err)
	}
	if _, err := ra.d.NewInsert().Model(&db.SecondFactor{UserID: u.ID, Kind: db.FactorSMS, Phone: testPhone, VerifiedAt: done, CreatedAt: now}).Exec(ctx); err != nil {
		tb.Fatal(err)
	}
	return u
}

// signIn returns a new browser with a session of u that passed the second
// factor, as after a login. Sessions end after 30 idle minutes of the
// test clock, so tests that move the clock sign in again.
func (ra *realApp) signIn(t *testing.T, u *db.User) *browser {
	t.Helper()
	b := ra.browser(t)
	b.cookies[sessionCookie] = &http.Cookie{Name: sessionCookie, Value: ra.sessionToken(t, u)}
	return b
}

// sessionToken starts a session of u past the second factor.
func (ra *realApp) sessionToken(tb testing.TB, u *db.User) string {
	tb.Helper()
	ctx := context.Background()
	token, err := ra.acc.Sessions.Create(ctx, ra.d, u.ID, "127.0.0.1", "test")
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := ra.d.NewUpdate().Model((*db.Session)(nil)).Set("second_factor_at = ?", ra.clk.Now().UTC()).
		Where("user_id = ? AND second_factor_at IS NULL", u.ID).Exec(ctx); err != nil {
		tb.Fatal(err)
	}
	return token
}

// compose starts a conversation through the service and returns its id.
func (ra *realApp) compose(t testing.TB, from *db.User, subject, body string, to ...string) int64 {
	t.Helper()
	id, err := ra.msg.Compose(context.Background(), from.Identity(), messaging.ComposeInput{To: to, Subject: subject, Body: body})
	if err != nil {
		t.Fatalf("compose %q: %v", subject, err)
	}
	return id
}

// reply posts a message through the service and returns its id.
func (ra *realApp) reply(t *testing.T, from *db.User, threadID int64, body string, attachments ...int64) int64 {
	t.Helper()
	id, err := ra.msg.Reply(context.Background(), from.Identity(), messaging.ReplyInput{ThreadID: threadID, Body: body, AttachmentIDs: attachments})
	if err != nil {
		t.Fatalf("reply: %v", err)
	}
	return id
}

// lastMessageID returns the newest message of a conversation.
func (ra *realApp) lastMessageID(t *testing.T, threadID int64) int64 {
	t.Helper()
	var id int64
	if err := ra.d.NewSelect().Model((*db.Message)(nil)).Column("id").Where("thread_id = ?", threadID).Order("id DESC").Limit(1).Scan(context.Background(), &id); err != nil {
		t.Fatal(err)
	}
	return id
}

// lastMail returns the newest mail queued for an address.
func (ra *realApp) lastMail(t *testing.T, to string) *notify.Mail {
	t.Helper()
	m, err := notify.LatestDevMailTo(context.Background(), ra.d, ra.v, to)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// mailCount counts the mail queued for an address.
func (ra *realApp) mailCount(t *testing.T, to string) int {
	t.Helper()
	n, err := ra.d.NewSelect().Model((*db.OutboxItem)(nil)).Where("channel = ? AND recipient = ?", db.ChannelMail, to).Count(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return int(n)
}

// unread is a user's unread count as the service sees it.
func (ra *realApp) unread(t *testing.T, u *db.User) int {
	t.Helper()
	n, err := ra.msg.UnreadCount(context.Background(), u.ID)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// upload stores a file for u through the service.
func (ra *realApp) upload(t *testing.T, u *db.User, name string, data []byte) int64 {
	t.Helper()
	a, err := ra.msg.Upload(context.Background(), u.Identity(), name, data)
	if err != nil {
		t.Fatalf("upload %s: %v", name, err)
	}
	return a.ID
}

// testFile is a file in a multipart post.
type testFile struct {
	field, name string
	data        []byte
}

// postMultipart posts fields and files as multipart/form-data, with the
// CSRF field unless noCSRF.
func (b *browser) postMultipart(target string, fields url.Values, files []testFile, noCSRF bool, headers ...string) (*http.Response, string) {
	b.t.Helper()
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	if !noCSRF && target == pathUpload {
		// As app.js does: the streamed upload reads its token from the
		// header only.
		headers = append(headers, csrfHeader, b.csrf())
	} else if !noCSRF {
		if err := w.WriteField(csrfField, b.csrf()); err != nil {
			b.t.Fatal(err)
		}
	}
	for k, vs := range fields {
		for _, v := range vs {
			if err := w.WriteField(k, v); err != nil {
				b.t.Fatal(err)
			}
		}
	}
	for _, f := range files {
		fw, err := w.CreateFormFile(f.field, f.name)
		if err != nil {
			b.t.Fatal(err)
		}
		fw.Write(f.data)
	}
	if err := w.Close(); err != nil {
		b.t.Fatal(err)
	}
	return b.doRaw(http.MethodPost, target, w.FormDataContentType(), &body, headers...)
}

// postNoCSRF posts a form without the CSRF token, as another site would.
func (b *browser) postNoCSRF(target string, form url.Values) (*http.Response, string) {
	b.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	return b.do(http.MethodPost, target, form)
}

var threadLocation = regexp.MustCompile(`^/berichten/(\d+)$`)

// threadIDFrom reads the conversation id from a redirect to it.
func threadIDFrom(t *testing.T, resp *http.Response) int64 {
	t.Helper()
	m := threadLocation.FindStringSubmatch(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusSeeOther || m == nil {
		t.Fatalf("status %d to %q, want 303 to a conversation", resp.StatusCode, resp.Header.Get("Location"))
	}
	id, _ := strconv.ParseInt(m[1], 10, 64)
	return id
}

// Small valid files of allowed types: their content matches the name.
var (
	pdfFile = []byte("%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n")
	exeFile = append([]byte("MZ\x90\x00\x03\x00\x00\x00"), bytes.Repeat([]byte{0}, 64)...)
)

func itoa(id int64) string { return strconv.FormatInt(id, 10) }
