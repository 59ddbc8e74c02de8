// Package e2e runs the real dialoog binary and drives it over HTTP and with
// Debian's Chromium (chromedp). TestMain builds the binary once, without cgo,
// which also proves that a pure-Go build works.
package e2e

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

const (
	readyTimeout    = 20 * time.Second // from start until /healthz answers
	shutdownTimeout = 15 * time.Second // from SIGTERM until the process is gone
	cliTimeout      = 60 * time.Second // one run of a subcommand
	browserTimeout  = 5 * time.Minute  // one browser, from launch to cleanup (TestPhoneLayout keeps one over two minutes)
)

// binary is the path of the server built by TestMain.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "dialoog-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "dialoog")
	build := exec.Command("go", "build", "-o", binary, ".")
	build.Dir = ".." // the repository root: package main
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "e2e: building the server with CGO_ENABLED=0 failed: %v\n%s", err, out)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// inCI reports whether the tests run under CI, where a missing browser or
// database is a failure rather than a reason to skip.
func inCI() bool { return os.Getenv("CI") != "" }

// skipOrFail skips the test locally and fails it under CI.
func skipOrFail(t *testing.T, format string, args ...any) {
	t.Helper()
	if inCI() {
		t.Fatalf(format+" (CI is set, so this is a failure)", args...)
	}
	t.Skipf(format, args...)
}

// syncBuffer is a bytes.Buffer that the process's output copier writes while
// the test reads it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// server is one running dialoog process.
type server struct {
	BaseURL string
	// SetupLink is the link the first start printed to choose the first
	// admin's address; empty when this process did not create the
	// organisation. Unless ManualSetup is set before waitReady, the
	// harness uses it to choose AdminMail, and AdminLink is then the first
	// admin's sign-up link.
	SetupLink   string
	ManualSetup bool
	AdminLink   string
	AdminMail   string

	env    []string // the full environment of the process, for the CLI
	cmd    *exec.Cmd
	stdout *syncBuffer
	stderr *syncBuffer
	done   chan struct{} // closed when the process has exited
	err    error         // the result of Wait, valid after done
}

var (
	setupLinkRe  = regexp.MustCompile(`choose the mail address of its first admin[^\n]*:\r?\n(\S+)`)
	inviteLinkRe = regexp.MustCompile(`Invitation queued for [^\n]*Sign-up link:\r?\n(\S+)`)
)

const runningLine = "Dialoog is running at "

// startServer starts a server and waits until it answers /healthz.
func startServer(t *testing.T, env map[string]string) *server {
	t.Helper()
	s := launchServer(t, env)
	s.waitReady(t)
	return s
}

// freeAddr returns a 127.0.0.1 address with a port that was free a moment ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("find a free port: %v", err)
	}
	addr := ln.Addr().String()
	if err := ln.Close(); err != nil {
		t.Fatalf("free port %s: %v", addr, err)
	}
	return addr
}

// serverEnv is the environment of a dialoog process: the test's own, without
// any DIALOOG_* variable of the developer, then the defaults, then env.
func serverEnv(defaults, env map[string]string) []string {
	var out []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "DIALOOG_") {
			out = append(out, kv)
		}
	}
	for k, v := range defaults {
		if _, ok := env[k]; !ok {
			out = append(out, k+"="+v)
		}
	}
	for k, v := range env {
		out = append(out, k+"="+v)
	}
	return out
}

// launchServer starts a server without waiting for it, so that a test can
// start several at the same time. Cleanup stops it with SIGTERM and asserts a
// graceful exit.
func launchServer(t *testing.T, env map[string]string) *server {
	t.Helper()
	return launchServerIn(t, "", env)
}

// launchServerIn is launchServer with dir as the process's working
// directory ("": the test's), where a relative data dir is made.
func launchServerIn(t *testing.T, dir string, env map[string]string) *server {
	t.Helper()
	addr := freeAddr(t)
	base := "http://" + addr
	if v, ok := env["DIALOOG_BASE_URL"]; ok {
		base = v
	}
	s := &server{
		BaseURL: base,
		env: serverEnv(map[string]string{
			"DIALOOG_ADDR":     addr,
			"DIALOOG_BASE_URL": base,
			"DIALOOG_DATA_DIR": t.TempDir(),
			"DIALOOG_DEV":      "1",
			"DIALOOG_ORG_NAME": "Arbodienst E2E",
			// A new message's mail and push after a second, still checked
			// for being read by then.
			"DIALOOG_NOTIFY_DELAY": "1s",
			// Requests under way get 10 s at a stop, not the minute of
			// the default: with the live connections' close that stays
			// within shutdownTimeout, so a connection a browser still
			// holds cannot fail a test that stops its server while the
			// browser is open (the drain itself: shutdown_test.go).
			"DIALOOG_SHUTDOWN_DRAIN": "10s",
		}, env),
		stdout: &syncBuffer{},
		stderr: &syncBuffer{},
		done:   make(chan struct{}),
	}
	s.cmd = exec.Command(binary)
	s.cmd.Dir = dir
	s.cmd.Env = s.env
	s.cmd.Stdout = s.stdout
	s.cmd.Stderr = s.stderr
	if err := s.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", binary, err)
	}
	go func() {
		s.err = s.cmd.Wait()
		close(s.done)
	}()
	t.Cleanup(func() {
		s.stop(t)
		if t.Failed() {
			s.logOutput(t)
		}
	})
	return s
}

func (s *server) logOutput(t *testing.T) {
	t.Helper()
	t.Logf("server %s stdout:\n%s", s.BaseURL, s.stdout.String())
	t.Logf("server %s stderr:\n%s", s.BaseURL, s.stderr.String())
}

// exited reports whether the process has ended.
func (s *server) exited() bool {
	select {
	case <-s.done:
		return true
	default:
		return false
	}
}

// waitReady polls /healthz until it answers 200 and the process has printed
// its "running" line, and then reads the first admin's link, if any.
func (s *server) waitReady(t *testing.T) {
	t.Helper()
	client := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(readyTimeout)
	var last string
	for {
		if s.exited() {
			t.Fatalf("server %s exited before it was ready: %v\nstdout:\n%s\nstderr:\n%s",
				s.BaseURL, s.err, s.stdout.String(), s.stderr.String())
		}
		if strings.Contains(s.stdout.String(), runningLine) {
			resp, err := client.Get(s.BaseURL + "/healthz")
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					break
				}
				last = resp.Status
			} else {
				last = err.Error()
			}
		} else {
			last = "no " + strings.TrimSpace(runningLine) + " line on stdout yet"
		}
		if time.Now().After(deadline) {
			t.Fatalf("server %s not ready within %s (last: %s)", s.BaseURL, readyTimeout, last)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if m := setupLinkRe.FindStringSubmatch(s.stdout.String()); m != nil {
		s.SetupLink = m[1]
		if !s.ManualSetup {
			s.AdminMail = "beheerder@e2e.example"
			s.AdminLink = s.chooseAdmin(t, s.AdminMail)
		}
	}
}

var csrfFieldRe = regexp.MustCompile(`name="_csrf" value="([^"]+)"`)

// chooseAdmin opens the setup link as a browser without script would,
// chooses email as the first admin's address and returns the sign-up link
// the answer sends the browser to.
func (s *server) chooseAdmin(t *testing.T, email string) string {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	client := &http.Client{Timeout: 10 * time.Second, Jar: jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Get(s.SetupLink)
	if err != nil {
		t.Fatalf("GET %s: %v", s.SetupLink, err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := csrfFieldRe.FindSubmatch(body)
	if resp.StatusCode != http.StatusOK || m == nil {
		t.Fatalf("GET %s: %s without a form:\n%s", s.SetupLink, resp.Status, body)
	}
	resp, err = client.PostForm(s.SetupLink, url.Values{"_csrf": {string(m[1])}, "email": {email}})
	if err != nil {
		t.Fatalf("POST %s: %v", s.SetupLink, err)
	}
	resp.Body.Close()
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/aanmelden/") {
		t.Fatalf("choosing the first admin: %s to %q, want 303 to /aanmelden/...", resp.Status, loc)
	}
	return s.BaseURL + loc
}

// stop sends SIGTERM and asserts that the process exits, successfully,
// within shutdownTimeout.
func (s *server) stop(t *testing.T) {
	t.Helper()
	if s.exited() {
		if s.err != nil {
			t.Errorf("server %s had already exited: %v", s.BaseURL, s.err)
		}
		return
	}
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Errorf("SIGTERM to server %s: %v", s.BaseURL, err)
	}
	timer := time.NewTimer(shutdownTimeout)
	defer timer.Stop()
	select {
	case <-s.done:
		if s.err != nil {
			t.Errorf("server %s did not exit cleanly after SIGTERM: %v", s.BaseURL, s.err)
		}
	case <-timer.C:
		t.Errorf("server %s still running %s after SIGTERM: no graceful shutdown (its goroutines follow in its stderr)", s.BaseURL, shutdownTimeout)
		// SIGQUIT makes the Go runtime print every goroutine's stack and
		// exit: what the shutdown waited for.
		_ = s.cmd.Process.Signal(syscall.SIGQUIT)
		select {
		case <-s.done:
		case <-time.After(5 * time.Second):
			_ = s.cmd.Process.Kill()
			<-s.done
		}
	}
}

// cliResult is the outcome of one run of a subcommand.
type cliResult struct {
	Stdout, Stderr string
	Code           int
}

// runCLI runs the binary with the server's environment, plus extra variables
// (later ones win), and the arguments.
func runCLI(t *testing.T, env []string, args ...string) cliResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), cliTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Env = env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	res := cliResult{Stdout: stdout.String(), Stderr: stderr.String()}
	var exitErr *exec.ExitError
	switch {
	case ctx.Err() != nil:
		t.Fatalf("dialoog %s did not finish within %s\nstdout:\n%s\nstderr:\n%s",
			strings.Join(args, " "), cliTimeout, res.Stdout, res.Stderr)
	case errors.As(err, &exitErr):
		res.Code = exitErr.ExitCode()
	case err != nil:
		t.Fatalf("run dialoog %s: %v", strings.Join(args, " "), err)
	}
	return res
}

// Invite runs `dialoog invite --email email args...` against this server's
// data and returns the sign-up link that it prints.
func (s *server) Invite(t *testing.T, email string, args ...string) string {
	t.Helper()
	res := runCLI(t, s.env, append([]string{"invite", "--email", email}, args...)...)
	if res.Code != 0 {
		t.Fatalf("dialoog invite --email %s exited %d\nstdout:\n%s\nstderr:\n%s", email, res.Code, res.Stdout, res.Stderr)
	}
	m := inviteLinkRe.FindStringSubmatch(res.Stdout)
	if m == nil {
		t.Fatalf("dialoog invite --email %s printed no sign-up link\nstdout:\n%s\nstderr:\n%s", email, res.Stdout, res.Stderr)
	}
	return m[1]
}

// chromiumPath finds Debian's Chromium: $CHROMIUM, /usr/bin/chromium, or
// chromium on PATH.
func chromiumPath() string {
	if p := os.Getenv("CHROMIUM"); p != "" {
		return p
	}
	if _, err := os.Stat("/usr/bin/chromium"); err == nil {
		return "/usr/bin/chromium"
	}
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// newBrowser launches a headless Dutch-language Chromium with a fresh profile
// and a width x height viewport (a phone emulation below 600 px) and returns its
// context, which ends after browserTimeout at the latest.
func newBrowser(t *testing.T, width, height int) context.Context {
	t.Helper()
	path := chromiumPath()
	if path == "" {
		skipOrFail(t, "Chromium not found (set $CHROMIUM, or apt-get install chromium)")
	}
	profile := t.TempDir()
	output := &syncBuffer{}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.UserDataDir(profile),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		// A Dutch browser, as most users have: pages without a user follow
		// Accept-Language.
		chromedp.Flag("lang", "nl-NL"),
		chromedp.Flag("accept-lang", "nl-NL,nl"),
		chromedp.WindowSize(width, height),
		chromedp.CombinedOutput(output),
	)
	timeoutCtx, cancelTimeout := context.WithTimeout(context.Background(), browserTimeout)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(timeoutCtx, opts...)
	ctx, cancelCtx := chromedp.NewContext(allocCtx)
	t.Cleanup(func() {
		cancelCtx()
		cancelAlloc() // waits for the browser to exit, before the profile is removed
		cancelTimeout()
		if t.Failed() {
			t.Logf("chromium output:\n%s", browserOutput(output.String()))
		}
	})
	var emulate []chromedp.EmulateViewportOption
	if width < 600 {
		emulate = append(emulate, chromedp.EmulateMobile, chromedp.EmulateTouch)
	}
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(int64(width), int64(height), emulate...)); err != nil {
		t.Fatalf("start chromium %s: %v\noutput:\n%s", path, err, browserOutput(output.String()))
	}
	return ctx
}

// browserOutput is Chromium's output without its complaints about the
// missing D-Bus of a machine without a desktop session: a line for each of
// its attempts, which would bury what matters in a failed test's log.
func browserOutput(out string) string {
	lines := strings.Split(out, "\n")
	kept := slices.DeleteFunc(lines, func(line string) bool {
		return strings.Contains(line, ":ERROR:dbus/") || strings.Contains(line, "ERROR:bus.cc")
	})
	if dropped := len(lines) - len(kept); dropped > 0 {
		kept = append(kept, fmt.Sprintf("(%d lines about D-Bus left out)", dropped))
	}
	return strings.Join(kept, "\n")
}

// screenshot saves a full-page PNG to screenshots/<TestName>-<name>.png.
func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	buf, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)) // 100 means PNG
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.MkdirAll("screenshots", 0o755); err != nil {
		t.Fatalf("screenshot dir: %v", err)
	}
	file := filepath.Join("screenshots", strings.NewReplacer("/", "-", " ", "_").Replace(t.Name())+"-"+name+".png")
	if err := os.WriteFile(file, buf, 0o644); err != nil {
		t.Fatalf("write %s: %v", file, err)
	}
	t.Logf("screenshot %s", file)
}

// httpGet fetches url with a bounded client and returns the final response
// (redirects followed) and its body.
func httpGet(t *testing.T, url string) (*http.Response, string) {
	t.Helper()
	client := &http.Client{Timeout: 10 * time.Second}
	resp, err := client.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	var body bytes.Buffer
	if _, err := body.ReadFrom(resp.Body); err != nil {
		t.Fatalf("read GET %s: %v", url, err)
	}
	return resp, body.String()
}
