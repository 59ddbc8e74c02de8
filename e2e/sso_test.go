package e2e

import (
	"context"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"dialoog/auth"
	"dialoog/oidctest"
)

var backChannelRe = regexp.MustCompile(`back-channel logout URI: (\S+)`)

// TestSSOFirstLoginAndProviderLogout: an organisation's own OpenID
// provider (zitadel/oidc's, started by the test) is set with `dialoog sso
// set`; a colleague without an account logs in through the provider's
// login page, is created at that first login, accepts the terms and lands
// in Berichten without a Dialoog password or second factor. Asked to
// confirm it is them before changing the second step, they log in again
// at the provider and come back confirmed. When the
// provider logs the person out (back-channel logout), the Dialoog session
// ends and the open page's live connection closes.
func TestSSOFirstLoginAndProviderLogout(t *testing.T) {
	const clientID, secret = "dialoog-e2e", "e2e-client-secret"
	addr := freeAddr(t)
	base := "http://" + addr
	op := oidctest.Start(t, clientID, secret, base+auth.PathSSOCallback)
	op.AddUser("sub-sanne", "sanne", "sanne@osaw.example", true, "Sanne", "Visser")
	s := startServer(t, map[string]string{"DIALOOG_ADDR": addr, "DIALOOG_BASE_URL": base})

	res := runCLI(t, append(s.env, "DIALOOG_SSO_CLIENT_SECRET="+secret), "sso", "set", "--issuer", op.Issuer,
		"--client-id", clientID, "--domains", "osaw.example", "--create-users")
	if res.Code != 0 {
		t.Fatalf("dialoog sso set exited %d\nstdout:\n%s\nstderr:\n%s", res.Code, res.Stdout, res.Stderr)
	}
	m := backChannelRe.FindStringSubmatch(res.Stdout)
	if m == nil {
		t.Fatalf("no back-channel logout URI printed:\n%s", res.Stdout)
	}
	backChannel := m[1]
	if show := runCLI(t, s.env, "sso", "show"); show.Code != 0 || !strings.Contains(show.Stdout, "osaw.example") || strings.Contains(show.Stdout, secret) {
		t.Fatalf("dialoog sso show exited %d:\n%s%s", show.Code, show.Stdout, show.Stderr)
	}

	b := &browser{t: t, ctx: newBrowser(t, 1280, 900)}
	b.run(chromedp.Navigate(base + "/inloggen"))
	b.step("login", "E-mailadres van je werk")
	b.fill("E-mailadres van je werk", "sanne@osaw.example")
	b.click("Inloggen met je organisatie")

	// The provider's own login page.
	b.waitJS("provider login page", `location.href.startsWith(`+jsString(op.Issuer)+`) && !!document.querySelector('#username')`)
	b.shot("provider-login")
	if !b.eval(`(() => { document.querySelector('#username').value = 'sanne';
  document.querySelector('#password').value = ` + jsString(oidctest.Password) + `;
  document.querySelector('form').requestSubmit(); return true; })()`) {
		t.Fatal("could not fill the provider's login page")
	}

	// Back in Dialoog: a new colleague, whose name came from the provider,
	// accepts the terms of use and lands in Berichten; no password, no
	// second factor, no recovery codes, no profile form.
	b.step("sso-terms", "Ik ga akkoord met de gebruikersvoorwaarden")
	b.check("Ik ga akkoord met de gebruikersvoorwaarden")
	b.click("INLOGGEN")
	b.waitPath("/berichten")
	b.step("sso-inbox", "")
	if h := b.text("h1"); h != "Berichten" {
		t.Fatalf("inbox heading %q", h)
	}
	b.run(chromedp.Navigate(base + "/account/activiteit"))
	b.waitJS("security activity", `document.querySelector('main').innerText.includes('Ingelogd via je organisatie')`)
	b.shot("sso-activity")

	// "Confirm it is you" before changing the second step: the person has
	// no Dialoog password, so the page offers a fresh login at the
	// provider, which asks for the password again (prompt=login) and
	// sends the browser back to the page, now confirmed.
	b.run(chromedp.Navigate(base + "/account/tweede-stap"))
	b.waitJS("confirm page", `!!document.querySelector('#confirm-sso')`)
	b.shot("sso-confirm")
	if b.eval(`!!document.querySelector('#confirm-password')`) {
		t.Fatal("password field offered to a person without a password")
	}
	b.click("Bevestigen via je organisatie")
	b.waitJS("provider login page again", `location.href.startsWith(`+jsString(op.Issuer)+`) && !!document.querySelector('#username')`)
	if !b.eval(`(() => { document.querySelector('#username').value = 'sanne';
  document.querySelector('#password').value = ` + jsString(oidctest.Password) + `;
  document.querySelector('form').requestSubmit(); return true; })()`) {
		t.Fatal("could not fill the provider's login page")
	}
	b.waitPath("/account/tweede-stap")
	b.waitJS("confirmed", `document.querySelector('main').innerText.includes('Bevestigd.')`)
	b.shot("sso-confirmed")
	if b.eval(`!!document.querySelector('#confirm-heading')`) {
		t.Fatal("still asked to confirm after confirming through the provider")
	}
	b.run(chromedp.Navigate(base + "/berichten"))
	b.waitPath("/berichten")
	b.waitLive()

	// The provider logs the person out: the session ends and the open
	// page's live connection closes at once.
	status, err := op.BackChannelLogout(context.Background(), backChannel, clientID, "sub-sanne")
	if err != nil || status != http.StatusOK {
		t.Fatalf("back-channel logout: %d %v", status, err)
	}
	b.waitJS("socket closed", `!document.body.hasAttribute('ws-connect')`)
	b.run(chromedp.Navigate(base + "/berichten"))
	b.waitPath("/inloggen")
	b.step("after-provider-logout", "E-mailadres van je werk")
}
