package e2e

import (
	"context"
	_ "embed"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

//go:embed testdata/axe-4.14.1.min.js
var axeSource string

// a11yViolation is one rule that axe-core found broken on a page.
type a11yViolation struct {
	ID     string   `json:"id"`
	Impact string   `json:"impact"`
	Help   string   `json:"help"`
	Nodes  []string `json:"nodes"`
}

// checkA11y runs axe-core (WCAG 2.x A and AA rules) on the current page and
// fails the test on serious and critical violations.
func checkA11y(t *testing.T, ctx context.Context, step string) {
	t.Helper()
	bad, minor, err := a11yScan(ctx)
	if err != nil {
		t.Fatalf("accessibility scan of %s: %v", step, err)
	}
	for _, m := range minor {
		t.Logf("step %s: minor accessibility finding %s", step, m)
	}
	if len(bad) > 0 {
		t.Errorf("step %s: accessibility violations:\n%s", step, strings.Join(bad, "\n"))
	}
}

// a11yScan returns the serious or critical violations and the minor ones.
func a11yScan(ctx context.Context) (bad, minor []string, err error) {
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](axeSource+";\ntrue")); err != nil {
		return nil, nil, fmt.Errorf("inject axe-core: %w", err)
	}
	const run = `axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}})
  .then(r => r.violations.map(v => ({id: v.id, impact: v.impact || '', help: v.help,
    nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))})))`
	violations, err := chromedp.Run(ctx, chromedp.Evaluate[[]a11yViolation](run, chromedp.EvalAwaitPromise))
	if err != nil {
		return nil, nil, fmt.Errorf("run axe-core: %w", err)
	}
	for _, v := range violations {
		line := fmt.Sprintf("%s (%s): %s at %s", v.ID, v.Impact, v.Help, strings.Join(v.Nodes, ", "))
		if v.Impact == "serious" || v.Impact == "critical" {
			bad = append(bad, line)
		} else {
			minor = append(minor, line)
		}
	}
	return bad, minor, nil
}

// TestA11yScanFindsProblems proves that the scan can fail: a page with an
// unlabelled field and an image without text has violations.
func TestA11yScanFindsProblems(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, `<!doctype html><html><head><title>x</title></head><body><main><img src="data:image/png;base64,iVBORw0KGgo="><input type="text"></main></body></html>`)
	}))
	defer srv.Close()
	ctx := newBrowser(t, 800, 600)
	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL)); err != nil {
		t.Fatal(err)
	}
	bad, _, err := a11yScan(ctx)
	if err != nil {
		t.Fatal(err)
	}
	joined := strings.Join(bad, "\n")
	for _, rule := range []string{"image-alt", "label", "html-has-lang"} {
		if !strings.Contains(joined, rule) {
			t.Errorf("scan missed %s; found:\n%s", rule, joined)
		}
	}
}
