package e2e

import (
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"dialoog/db"
)

// TestFirstFiveMinutes is what a person trying Dialoog does first. On an
// empty data dir, without a mail server and on loopback, the server turns
// the dev outbox on by itself and prints its address and a link with which
// the person chooses the first admin's mail address; that address gets the
// invitation (in the dev outbox) and the browser goes on to sign up.
// Then `dialoog demo` fills a box in which the seed's testbericht is shown.
func TestFirstFiveMinutes(t *testing.T) {
	t.Run("first start", func(t *testing.T) {
		// `go run .` in a fresh clone: the defaults (dev outbox, ./data,
		// organisation Demo) apart from a free port, in an empty directory.
		work := t.TempDir()
		s := launchServerIn(t, work, map[string]string{"DIALOOG_DEV": "", "DIALOOG_DATA_DIR": "", "DIALOOG_ORG_NAME": ""})
		s.ManualSetup = true
		s.waitReady(t)
		if _, err := os.Stat(filepath.Join(work, "data", db.SQLiteFile)); err != nil {
			t.Fatalf("the default data dir ./data holds no database: %v", err)
		}
		out := s.stdout.String()
		if !strings.Contains(out, s.BaseURL+"/dev/outbox") {
			t.Fatalf("the start printed no dev outbox address:\n%s", out)
		}
		if !strings.HasPrefix(s.SetupLink, s.BaseURL+"/eerste-beheerder/") {
			t.Fatalf("the start printed no link to choose the first admin:\n%s", out)
		}
		if strings.Contains(out, "beheerder@") {
			t.Fatalf("the start made up an admin address:\n%s", out)
		}

		b := &browser{t: t, ctx: newBrowser(t, 360, 740)}
		b.run(chromedp.Navigate(s.SetupLink))
		b.step("choose admin", "Mailadres van de beheerder")
		b.fill("Mailadres van de beheerder", "ik@mijnbedrijf.example")
		b.click("VERDER")
		b.waitJS("the sign-up page", `location.pathname.startsWith('/aanmelden/')`)
		b.step("invitation", "")
		if !b.eval(`document.body.innerText.includes('ik@mijnbedrijf.example')`) {
			t.Fatal("the sign-up page does not name the chosen address")
		}
		b.click("AANMELDEN")
		b.waitPath("/stap/voorwaarden")

		// The invitation went to the chosen address, visible in the dev
		// outbox; the setup link works no more.
		resp, body := httpGet(t, s.BaseURL+"/dev/outbox")
		if resp.StatusCode != http.StatusOK || !strings.Contains(body, "ik@mijnbedrijf.example") {
			t.Fatalf("dev outbox: %s, no mail to the chosen address:\n%.2000s", resp.Status, body)
		}
		if resp, _ := httpGet(t, s.SetupLink); resp.StatusCode != http.StatusNotFound {
			t.Fatalf("the used setup link answers %s", resp.Status)
		}
	})

	t.Run("demo", func(t *testing.T) {
		s := launchServer(t, nil)
		s.ManualSetup = true
		s.waitReady(t)
		// The CLI may run while the server uses the same database.
		res := runCLI(t, s.env, "demo")
		if res.Code != 0 {
			t.Fatalf("dialoog demo exited %d\nstdout:\n%s\nstderr:\n%s", res.Code, res.Stdout, res.Stderr)
		}
		jan := demoLoginRe.FindStringSubmatch(res.Stdout[strings.Index(res.Stdout, "jan@werkgever.example")-len("  mail address:   "):])
		if jan == nil {
			t.Fatalf("dialoog demo printed no login for Jan:\n%s", res.Stdout)
		}
		password, secret := jan[2], strings.ReplaceAll(jan[3], " ", "")

		b := &browser{t: t, ctx: newBrowser(t, 1280, 800)}
		b.run(chromedp.Navigate(s.BaseURL + "/inloggen"))
		b.step("login", "Wachtwoord")
		b.fill("E-mailadres", jan[1])
		b.fill("Wachtwoord", password)
		b.submit()
		b.step("login-app", "Token")
		b.fill("Token", totp(t, secret, time.Now()))
		b.submit()
		b.waitPath("/berichten")
		b.step("inbox", "")
		if row := b.text(".thread"); !strings.Contains(row, "testbericht") || !strings.Contains(row, "OSAW") {
			t.Fatalf("the demo box shows no testbericht from OSAW: %q", row)
		}
		b.click("testbericht")
		b.waitJS("the conversation", `location.pathname.startsWith('/berichten/')`)
		b.step("testbericht", "")
		if msg := b.text(".message__body"); msg != "testbericht" {
			t.Fatalf("the message reads %q", msg)
		}
	})
}

var demoLoginRe = regexp.MustCompile(`mail address:\s+(\S+)\n\s+password:\s+(\S+)\n\s+app secret:\s+([A-Z2-7 ]+)\n`)
