package handlers

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/mail"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"dialoog/auth"
	"dialoog/db"
	"dialoog/db/dbtest"
	"dialoog/notify"
	"dialoog/notify/notifytest"
)

// statementLog records the shape of every statement run on a database
// while it is on: literals become "?", so two requests that do the same
// work for different addresses record the same list.
type statementLog struct {
	mu  sync.Mutex
	on  bool
	sql []string
}

var literals = regexp.MustCompile(`'(?:[^']|'')*'|\b\d+(?:\.\d+)?\b`)

func (l *statementLog) BeforeQuery(ctx context.Context, ev *bun.QueryEvent) context.Context {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.on {
		l.sql = append(l.sql, literals.ReplaceAllString(ev.Query, "?"))
	}
	return ctx
}

func (l *statementLog) AfterQuery(context.Context, *bun.QueryEvent) {}

// record returns the statements fn runs.
func (l *statementLog) record(fn func()) []string {
	l.mu.Lock()
	l.on, l.sql = true, nil
	l.mu.Unlock()
	fn()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.on = false
	return l.sql
}

// addressForms are the forms that take a mail address and send mail to it
// when it is known: a known address, then an unknown one.
var addressForms = []struct{ path, known, unknown string }{
	{"/wachtwoord-vergeten", "jan@example.nl", "onbekend@example.nl"},
	{"/aanmelden/nieuwe-link", "kees@example.nl", "niemand@example.nl"},
}

// newTimingApp is an app with an active user (jan) and an invited one
// (kees) whose mail requests are left to the background worker.
func newTimingApp(t *testing.T, d *db.DB) *realApp {
	ra := newRealAppOn(t, d)
	ra.onboard(t, auth.InviteInput{Email: "jan@example.nl"}, false)
	ra.invite(t, auth.InviteInput{Email: "kees@example.nl"})
	ra.acc.Requested, ra.inv.Requested = nil, nil
	return ra
}

// TestSecurityAddressFormsDoTheSameWork: "Wachtwoord vergeten" and "Stuur
// mij een nieuwe link" run the same statements for a known address as for
// an unknown one (the time of the answer told them apart), and the known
// address still gets a working link by mail, through a real SMTP server,
// while the unknown one gets nothing.
func TestSecurityAddressFormsDoTheSameWork(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ra := newTimingApp(t, d)
		stmts := &statementLog{}
		d.AddQueryHook(stmts)
		b := ra.browser(t)
		b.csrf()
		for _, f := range addressForms {
			post := func(email string) []string {
				return stmts.record(func() {
					resp, _ := b.post(f.path, url.Values{"email": {email}})
					wantStatus(t, resp, http.StatusSeeOther)
				})
			}
			known, unknown := post(f.known), post(f.unknown)
			if !slices.Equal(known, unknown) {
				t.Errorf("%s: a known address runs\n  %s\nan unknown one\n  %s", f.path, strings.Join(known, "\n  "), strings.Join(unknown, "\n  "))
			}
		}

		// The background: requests are worked off, the mail goes out.
		smtpSrv := notifytest.StartSMTP(t, "127.0.0.1:0", "", "")
		smtpURL, _ := url.Parse("smtp://" + smtpSrv.Addr)
		mailer, err := notify.NewMailer(smtpURL, &mail.Address{Name: "Dialoog", Address: "no-reply@dialoog.test"})
		if err != nil {
			t.Fatal(err)
		}
		gw := notifytest.StartGateway(t)
		gwURL, _ := url.Parse(gw.URL)
		sms, err := notify.NewSMSSender(gwURL, http.DefaultClient)
		if err != nil {
			t.Fatal(err)
		}
		worker := notify.NewWorker(d, ra.v, mailer, sms, ra.acc.Log, notify.WorkerOptions{Poll: 50 * time.Millisecond})
		ra.req.Poll = 50 * time.Millisecond
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		wg.Add(2)
		go func() { defer wg.Done(); worker.Run(ctx) }()
		go func() { defer wg.Done(); ra.req.Run(ctx) }()
		t.Cleanup(func() { cancel(); wg.Wait() })

		// Jan's invitation from the first visit goes out too.
		resetLink := regexp.MustCompile(regexp.QuoteMeta(testBase) + `(/wachtwoord-vergeten/[A-Za-z0-9_-]{43})`)
		var link []string
		waitUntil(t, 10*time.Second, func() bool {
			for _, r := range smtpSrv.Messages() {
				// Quoted-printable: undo the soft line breaks.
				body := strings.NewReplacer("=\r\n", "", "=\n", "").Replace(string(r.Data))
				if slices.Contains(r.To, "jan@example.nl") && link == nil {
					link = resetLink.FindStringSubmatch(body)
				}
			}
			return link != nil
		})
		resp, page := ra.browser(t).get(link[1])
		wantStatus(t, resp, http.StatusOK)
		wantContains(t, page, "<h1>Nieuw wachtwoord instellen</h1>", "jan@example.nl")
		smtpSrv.WaitMail(t, "kees@example.nl", 1, 10*time.Second) // the invitation, then the new link

		// Everything queued went out; the unknown addresses got nothing.
		waitUntil(t, 10*time.Second, func() bool {
			n, _ := d.NewSelect().Model((*db.MailRequest)(nil)).Count(context.Background())
			p, _ := d.NewSelect().Model((*db.OutboxItem)(nil)).Where("status IN (?, ?)", db.OutboxPending, db.OutboxSending).Count(context.Background())
			return n == 0 && p == 0
		})
		for _, r := range smtpSrv.Messages() {
			for _, to := range r.To {
				if to == "onbekend@example.nl" || to == "niemand@example.nl" {
					t.Errorf("mail to the unknown address %s", to)
				}
			}
		}
	})
}

func waitUntil(t *testing.T, timeout time.Duration, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("not done within %s", timeout)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// BenchmarkSecurityAddressForms times the answer to "Wachtwoord vergeten"
// and "Stuur mij een nieuwe link" for a known and an unknown address,
// interleaved in the same run, and reports the ratio of the medians
// (known/unknown); it fails when they differ by 10% or more.
func BenchmarkSecurityAddressForms(b *testing.B) {
	for _, engine := range dbtest.Engines {
		for _, f := range addressForms {
			b.Run(engine+strings.ReplaceAll(f.path, "/", "_"), func(b *testing.B) {
				ra := newTimingAppB(b, dbtest.MustOpen(b, engine))
				post := poster(b, ra)
				samples := max(b.N, 150)
				var known, unknown []time.Duration
				form := func(email string) url.Values { return url.Values{"email": {email}} }
				b.ResetTimer()
				for i := range samples {
					if i%4 == 0 {
						// Past the per-IP and per-address hour.
						ra.clk.Add(time.Hour)
					}
					for _, k := range []bool{i%2 == 0, i%2 != 0} {
						email := f.unknown
						if k {
							email = f.known
						}
						start := time.Now()
						status := post(f.path, form(email))
						d := time.Since(start)
						if status != http.StatusSeeOther {
							b.Fatalf("%s %s: status %d", f.path, email, status)
						}
						if k {
							known = append(known, d)
						} else {
							unknown = append(unknown, d)
						}
					}
				}
				b.StopTimer()
				ratio := float64(median(known)) / float64(median(unknown))
				b.ReportMetric(ratio, "known/unknown")
				b.ReportMetric(float64(median(known).Microseconds()), "µs-known")
				b.ReportMetric(float64(median(unknown).Microseconds()), "µs-unknown")
				if ratio < 0.9 || ratio > 1/0.9 {
					b.Errorf("median %s for a known address, %s for an unknown one: ratio %.3f", median(known), median(unknown), ratio)
				}
			})
		}
	}
}

// newTimingAppB is newTimingApp for a benchmark: the users are made by the
// services directly.
func newTimingAppB(b *testing.B, d *db.DB) *realApp {
	ra := newRealAppOn(b, d)
	ctx := context.Background()
	for _, email := range []string{"jan@example.nl", "kees@example.nl"} {
		if _, _, err := ra.inv.Invite(ctx, auth.InviteInput{Email: email, OrgID: ra.org.ID}); err != nil {
			b.Fatal(err)
		}
	}
	if _, err := d.NewUpdate().Model((*db.User)(nil)).Set("status = ?", db.StatusActive).Where("email = ?", "jan@example.nl").Exec(ctx); err != nil {
		b.Fatal(err)
	}
	ra.acc.Requested, ra.inv.Requested = nil, nil
	return ra
}

// poster returns a function that posts a form with a CSRF token, as one
// browser, and returns the status.
func poster(b *testing.B, ra *realApp) func(path string, form url.Values) int {
	resp, err := ra.app.Test(httptest.NewRequest(http.MethodGet, "/inloggen", nil), -1)
	if err != nil {
		b.Fatal(err)
	}
	resp.Body.Close()
	var csrf *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == csrfCookie {
			csrf = c
		}
	}
	if csrf == nil {
		b.Fatal("no CSRF cookie")
	}
	return func(path string, form url.Values) int {
		form.Set(csrfField, csrf.Value)
		req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.AddCookie(&http.Cookie{Name: csrf.Name, Value: csrf.Value})
		resp, err := ra.app.Test(req, -1)
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
}

func median(d []time.Duration) time.Duration {
	s := slices.Clone(d)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)/2]
}
