package e2e

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// signupPage is what the browser sees on a sign-up link page.
type signupPage struct {
	Lang       string  `json:"lang"`
	H1         string  `json:"h1"`
	Button     bool    `json:"button"` // a submit button that reads AANMELDEN, inside a form
	Visible    bool    `json:"visible"`
	Method     string  `json:"method"`     // of the button's form
	ActionPath string  `json:"actionPath"` // where the form posts, resolved
	Path       string  `json:"path"`       // of the page itself
	Text       string  `json:"text"`       // the body's text, whitespace collapsed
	Overflow   float64 `json:"overflow"`   // px the page is wider than the viewport
}

// inspectPage reads the sign-up page. It marks the AANMELDEN button with
// data-e2e="aanmelden" so that a click can find it.
const inspectPage = `(() => {
  const label = b => (b.tagName === 'INPUT' ? b.value : b.innerText).trim();
  const b = [...document.querySelectorAll('form button, form input[type=submit]')]
    .find(b => b.type === 'submit' && label(b) === 'AANMELDEN');
  const h1 = document.querySelector('h1');
  const form = b ? b.form : null;
  let visible = false;
  if (b) {
    b.setAttribute('data-e2e', 'aanmelden');
    const r = b.getBoundingClientRect();
    const s = getComputedStyle(b);
    visible = r.width > 0 && r.height > 0 && s.visibility !== 'hidden' && s.display !== 'none';
  }
  return {
    lang: document.documentElement.getAttribute('lang') || '',
    h1: h1 ? h1.innerText.trim() : '',
    button: !!b,
    visible: visible,
    method: form ? (form.getAttribute('method') || 'get').toLowerCase() : '',
    actionPath: form ? new URL(form.getAttribute('action') || '', location.href).pathname : '',
    path: location.pathname,
    text: (document.body ? document.body.textContent : '').replace(/\s+/g, ' ').trim(),
    overflow: document.documentElement.scrollWidth - window.innerWidth,
  };
})()`

func TestInvitationLinkPage(t *testing.T) {
	for _, vp := range []struct {
		name          string
		width, height int
	}{
		{"desktop", 1280, 800},
		{"phone", 360, 740},
	} {
		t.Run(vp.name, func(t *testing.T) {
			// A server of its own: the subtest consumes the first admin's link.
			s := startServer(t, nil)
			if s.AdminLink == "" {
				t.Fatalf("the first start printed no sign-up link for the first admin\nstdout:\n%s", s.stdout.String())
			}
			if !strings.HasPrefix(s.AdminLink, s.BaseURL+"/aanmelden/") {
				t.Fatalf("admin link %q does not start with %s/aanmelden/", s.AdminLink, s.BaseURL)
			}
			link, err := url.Parse(s.AdminLink)
			if err != nil {
				t.Fatalf("admin link %q: %v", s.AdminLink, err)
			}
			ctx := newBrowser(t, vp.width, vp.height)

			open := func(step string) signupPage {
				t.Helper()
				resp, err := chromedp.Run(ctx, chromedp.NavigateResponse(s.AdminLink))
				if err != nil {
					t.Fatalf("%s: open %s: %v", step, s.AdminLink, err)
				}
				p, err := chromedp.Run(ctx, chromedp.Evaluate[signupPage](inspectPage))
				if err != nil {
					t.Fatalf("%s: inspect page: %v", step, err)
				}
				t.Logf("%s: HTTP %d, h1 %q", step, resp.Status, p.H1)
				return p
			}
			checkSignup := func(step string, p signupPage) {
				t.Helper()
				if p.Lang != "nl" {
					t.Errorf("%s: <html lang=%q>, want \"nl\"", step, p.Lang)
				}
				if p.H1 == "" {
					t.Errorf("%s: no h1 with text", step)
				}
				if !p.Button || !p.Visible {
					t.Errorf("%s: no visible AANMELDEN submit button in a form (found %v, visible %v); page text: %q",
						step, p.Button, p.Visible, p.Text)
				}
				if p.Method != "post" || p.ActionPath != link.Path {
					t.Errorf("%s: the form posts with %q to %q, want post to %q", step, p.Method, p.ActionPath, link.Path)
				}
				if p.Overflow > 0 {
					t.Errorf("%s: the page is %.0f px wider than the %d px viewport", step, p.Overflow, vp.width)
				}
			}

			first := open("first visit")
			checkSignup("first visit", first)
			screenshot(t, ctx, "aanmelden")

			// A mail scanner that follows the link must not burn it.
			again := open("second visit")
			checkSignup("second visit", again)
			if t.Failed() {
				t.FailNow()
			}

			if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`[data-e2e="aanmelden"]`), chromedp.NodeVisible)); err != nil {
				t.Fatalf("click AANMELDEN: %v", err)
			}
			if got := waitForPath(t, ctx, "/stap/voorwaarden", 15*time.Second); got != "/stap/voorwaarden" {
				t.Fatalf("after AANMELDEN the browser is at %q, want /stap/voorwaarden", got)
			}
			screenshot(t, ctx, "voorwaarden")

			// The browser the link signed in goes on to its step when the
			// link is opened again (from the mail, say).
			back := open("link again, signed in")
			if back.Path != "/stap/voorwaarden" || back.Button {
				t.Errorf("the link opened again in the browser it signed in: page %s, AANMELDEN %v", back.Path, back.Button)
			}
			// Anyone else finds it used up.
			if _, err := chromedp.Call(ctx, network.ClearBrowserCookies, cdp.Empty{}); err != nil {
				t.Fatalf("clear cookies: %v", err)
			}
			used := open("after sign-up, another browser")
			screenshot(t, ctx, "gebruikt")
			if !strings.Contains(used.Text, "Stuur mij een nieuwe link") {
				t.Errorf("a used link shows no %q; page %s, text: %q", "Stuur mij een nieuwe link", used.Path, used.Text)
			}
			if used.Button {
				t.Errorf("a used link still offers the AANMELDEN button")
			}
			if used.Lang != "nl" {
				t.Errorf("used-link page: <html lang=%q>, want \"nl\"", used.Lang)
			}
		})
	}
}

// waitForPath polls the browser's location until its path is want or the
// timeout passes, and returns the last path seen. Errors while the page
// navigates are expected and retried.
func waitForPath(t *testing.T, ctx context.Context, want string, timeout time.Duration) string {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var path string
	for {
		cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		loc, err := chromedp.Run(cctx, chromedp.Location())
		cancel()
		if err == nil {
			if u, perr := url.Parse(loc); perr == nil {
				path = u.Path
				if path == want {
					return path
				}
			}
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return path
		}
		time.Sleep(100 * time.Millisecond)
	}
}
