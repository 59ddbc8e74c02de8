package e2e

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"dialoog/db"
)

// TestIdleWarning: a session ends after 30 minutes without activity, and
// 12 hours after the login whatever happens. A few minutes before the
// idle end, the page warns in a dialog that takes the focus, counts down
// and offers "Ingelogd blijven" (WCAG 2.2.1); that, and Escape, give the
// session its full time again. Before the absolute end it warns that the
// session ends, without that offer. A page whose session has
// ended goes to the login page, which says why, and shows no message any
// more. The test moves the session's last activity back in the database
// and asks the page to look at once (window.dialoogIdle.check), instead of
// waiting half an hour.
func TestIdleWarning(t *testing.T) {
	s, _, gw := startMailServer(t)
	hr := caseManager(t, s, gw)
	hr.waitPath("/berichten")
	d := s.sqlite(t)
	idleFor := func(ago time.Duration) {
		t.Helper()
		if _, err := d.NewUpdate().Model((*db.Session)(nil)).Set("last_seen_at = ?", time.Now().UTC().Add(-ago)).
			Where("ended_at IS NULL").Exec(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	lastSeen := func() time.Time {
		t.Helper()
		var seen time.Time
		if err := d.NewSelect().Model((*db.Session)(nil)).ColumnExpr("MAX(last_seen_at)").Where("ended_at IS NULL").
			Scan(context.Background(), &seen); err != nil {
			t.Fatal(err)
		}
		return seen
	}
	warned := func() {
		t.Helper()
		hr.eval(`window.dialoogIdle.check(), true`)
		hr.waitJS("the idle warning", `document.getElementById('idle-warning').open`)
		hr.waitJS("its countdown", `/^[12]:[0-5][0-9]$/.test(document.querySelector('[data-idle-countdown]').textContent)`)
		if got := evalJS[string](hr, `document.activeElement.textContent.trim()`); got != "Ingelogd blijven" {
			t.Fatalf("the focus is on %q, want the button Ingelogd blijven", got)
		}
	}

	// Ten minutes idle: asking says there is time, and shows nothing.
	idleFor(10 * time.Minute)
	checks := evalJS[float64](hr, `window.dialoogIdle.checks`)
	hr.eval(`window.dialoogIdle.check(), true`)
	hr.waitJS("the page asked", fmt.Sprintf(`window.dialoogIdle.checks > %v`, checks))
	time.Sleep(300 * time.Millisecond)
	if hr.eval(`document.getElementById('idle-warning').open`) {
		t.Fatal("the warning shows with 20 minutes left")
	}

	// 28 minutes: the warning; "Ingelogd blijven" restarts the timer.
	idleFor(28 * time.Minute)
	warned()
	text := evalJS[string](hr, `document.getElementById('idle-warning').innerText`)
	for _, want := range []string{"Ben je er nog?", "automatisch uitgelogd", "Resterende tijd: "} {
		if !strings.Contains(text, want) {
			t.Errorf("the warning does not say %q:\n%s", want, text)
		}
	}
	hr.step("idle-warning", "")
	before := time.Now().Add(-5 * time.Second)
	hr.click("Ingelogd blijven")
	hr.waitJS("the warning closed", `!document.getElementById('idle-warning').open`)
	if seen := lastSeen(); seen.Before(before) {
		t.Fatalf("after Ingelogd blijven the session was last seen at %v", seen)
	}

	// Again, and Escape: the person is there.
	idleFor(28 * time.Minute)
	warned()
	before = time.Now().Add(-5 * time.Second)
	hr.run(chromedp.KeyEvent("\x1b"))
	hr.waitJS("the warning closed by Escape", `!document.getElementById('idle-warning').open`)
	deadline := time.Now().Add(5 * time.Second)
	for lastSeen().Before(before) {
		if time.Now().After(deadline) {
			t.Fatalf("after Escape the session was last seen at %v", lastSeen())
		}
		time.Sleep(100 * time.Millisecond)
	}
	hr.waitPath("/berichten")

	// A plain end: the page leaves for the login page, which says why.
	idleFor(31 * time.Minute)
	hr.eval(`window.dialoogIdle.check(), true`)
	hr.waitPath("/inloggen")
	hr.waitJS("the reason", `document.getElementById('main').innerText.includes('Je bent automatisch uitgelogd omdat je 30 minuten niets hebt gedaan.')`)
	if hr.eval(`!!document.getElementById('idle-warning')`) {
		t.Error("the login page of someone signed out has the idle warning")
	}
	hr.step("idle-ended", "")
	hr.login(t, gw, s.AdminMail, "+31611111111")
	hr.waitPath("/berichten")

	// The end with a new message half written: it goes along, kept, and
	// the next login comes back to it.
	hr.click("Nieuw bericht")
	hr.step("idle-compose", "Onderwerp")
	hr.fill("Aan", "werknemer@example.nl")
	hr.fill("Onderwerp", "Bijna klaar")
	hr.fill("Bericht", "Ik schreef dit voor de lunch.")
	time.Sleep(time.Second) // the typing's activity frame arrives first
	idleFor(31 * time.Minute)
	hr.eval(`window.dialoogIdle.check(), true`)
	hr.waitPath("/inloggen")
	hr.waitJS("the kept notice", `document.getElementById('main').innerText.includes('we hebben je tekst bewaard')`)
	hr.login(t, gw, s.AdminMail, "+31611111111")
	hr.waitPath("/berichten/nieuw")
	if got := evalJS[string](hr, `document.querySelector('main [name="subject"]').value + '|' + document.querySelector('main [name="body"]').value`); got != "Bijna klaar|Ik schreef dit voor de lunch." {
		t.Fatalf("the form after the login holds %q", got)
	}
	hr.step("idle-kept", "Onderwerp")
	hr.click("VERZEND")
	hr.waitJS("thread page", `/^\/berichten\/\d+$/.test(location.pathname)`)
	hr.waitJS("the message sent", `document.getElementById('main').innerText.includes('Ik schreef dit voor de lunch.')`)

	// The absolute end (12 hours after the login) comes whatever the
	// person does: a page loaded 150 seconds before it warns by itself,
	// without being asked to look, and says why; staying is no choice
	// it offers, since nothing moves that end. "Oké" closes the warning,
	// and at the end the login page says why it came.
	if _, err := d.NewUpdate().Model((*db.Session)(nil)).Set("expires_at = ?", time.Now().UTC().Add(150*time.Second)).
		Where("ended_at IS NULL").Exec(context.Background()); err != nil {
		t.Fatal(err)
	}
	hr.run(chromedp.Reload())
	hr.waitJS("the warning before the absolute end", `document.getElementById('idle-warning').open`)
	text = evalJS[string](hr, `document.getElementById('idle-warning').innerText`)
	for _, want := range []string{"Je sessie loopt af", "12 uur", "Resterende tijd: "} {
		if !strings.Contains(text, want) {
			t.Errorf("the warning before the absolute end does not say %q:\n%s", want, text)
		}
	}
	for _, wrong := range []string{"Ingelogd blijven", "Ben je er nog?", "niets gedaan"} {
		if strings.Contains(text, wrong) {
			t.Errorf("the warning before the absolute end says %q:\n%s", wrong, text)
		}
	}
	if got := evalJS[string](hr, `document.activeElement.textContent.trim()`); got != "Oké" {
		t.Fatalf("the focus is on %q, want the button Oké", got)
	}
	hr.step("idle-absolute", "")
	hr.click("Oké")
	hr.waitJS("the warning closed by Oké", `!document.getElementById('idle-warning').open`)
	// The page looks again (as after any request): still within three
	// minutes of the end, but the warning stays closed.
	checks = evalJS[float64](hr, `window.dialoogIdle.checks`)
	hr.eval(`window.dialoogIdle.check(), true`)
	hr.waitJS("the page looked again", fmt.Sprintf(`window.dialoogIdle.checks > %v`, checks))
	time.Sleep(500 * time.Millisecond)
	if hr.eval(`document.getElementById('idle-warning').open`) {
		t.Error("the warning opened again after Oké")
	}
	if _, err := d.NewUpdate().Model((*db.Session)(nil)).Set("expires_at = ?", time.Now().UTC().Add(-time.Second)).
		Where("ended_at IS NULL").Exec(context.Background()); err != nil {
		t.Fatal(err)
	}
	hr.eval(`window.dialoogIdle.check(), true`)
	hr.waitPath("/inloggen")
	hr.waitJS("the reason of the absolute end", `document.getElementById('main').innerText.includes('Je bent automatisch uitgelogd omdat je 12 uur ingelogd was.')`)
}

// sqlite opens the server's SQLite database beside it.
func (s *server) sqlite(t *testing.T) *db.DB {
	t.Helper()
	var dir string
	for _, kv := range s.env {
		if v, ok := strings.CutPrefix(kv, "DIALOOG_DATA_DIR="); ok {
			dir = v
		}
	}
	d, err := db.OpenSQLite(context.Background(), filepath.Join(dir, db.SQLiteFile))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}
