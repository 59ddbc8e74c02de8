package main

import (
	"bufio"
	"bytes"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// mainProcess is the command running in a process of its own (see
// TestMain), so that signals reach it as they reach the real binary.
type mainProcess struct {
	addr   string
	cmd    *exec.Cmd
	exited chan error
	stderr bytes.Buffer // read only after the process exited
}

// startMain starts the server on a free loopback port with SQLite in a
// temporary data dir, the dev outbox and metrics off, and env on top;
// it returns once /readyz answers 200. The process is killed at the
// end of the test if it still runs.
func startMain(t *testing.T, env ...string) *mainProcess {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &mainProcess{addr: ln.Addr().String(), exited: make(chan error, 1)}
	ln.Close()
	p.cmd = exec.Command(os.Args[0])
	p.cmd.Env = append(os.Environ(), "DIALOOG_TEST_MAIN=1", "DIALOOG_ADDR="+p.addr, "DIALOOG_BASE_URL=http://"+p.addr,
		"DIALOOG_DATA_DIR="+t.TempDir(), "DIALOOG_DEV=0", "DIALOOG_DATABASE_URL=", "DIALOOG_METRICS_ADDR=",
		"DIALOOG_SHUTDOWN_WAIT=", "DIALOOG_SHUTDOWN_DRAIN=")
	p.cmd.Env = append(p.cmd.Env, env...)
	p.cmd.Stderr = &p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.exited <- p.cmd.Wait() }()
	t.Cleanup(func() {
		p.cmd.Process.Kill()
		err := <-p.exited
		p.exited <- err
		if t.Failed() {
			t.Logf("the server's log:\n%s", p.stderr.String())
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		if code, err := p.get("/readyz"); err == nil && code == http.StatusOK {
			return p
		}
		if time.Now().After(deadline) {
			t.Fatal("not ready")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// get asks for path on a connection of its own, as a request that a load
// balancer sends does: the status, or the error when none came.
func (p *mainProcess) get(path string) (int, error) {
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := client.Get("http://" + p.addr + path)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}

// wait returns the process's exit error, or fails the test when it still
// runs after d.
func (p *mainProcess) wait(t *testing.T, d time.Duration) error {
	t.Helper()
	select {
	case err := <-p.exited:
		p.exited <- err
		return err
	case <-time.After(d):
		t.Fatalf("the process still runs %v later", d)
		return nil
	}
}

// slowPost begins a request whose body comes slowly, as an attachment
// over a slow line does: the headers and the first bytes of a body of n
// bytes.
func (p *mainProcess) slowPost(t *testing.T, n int) net.Conn {
	t.Helper()
	conn, err := net.Dial("tcp", p.addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	fmt.Fprintf(conn, "POST /inloggen HTTP/1.1\r\nHost: %s\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: %d\r\n\r\nemail=", p.addr, n)
	return conn
}

// TestShutdownWaitKeepsServing: on SIGTERM /readyz answers 503 at once, so
// that the load balancer takes the instance out, and for
// DIALOOG_SHUTDOWN_WAIT the instance still serves what the balancer sends
// meanwhile, on new connections; only then the listener closes and the
// process exits, with 0.
func TestShutdownWaitKeepsServing(t *testing.T) {
	// The requests below come a second into the wait and have the rest
	// of it, so that a busy machine's stall does not end the wait first.
	const wait = 4 * time.Second
	p := startMain(t, "DIALOOG_SHUTDOWN_WAIT="+wait.String())
	signalled := time.Now()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	for {
		code, err := p.get("/readyz")
		if err != nil {
			t.Fatalf("/readyz right after SIGTERM: %v, want 503", err)
		}
		if code == http.StatusServiceUnavailable {
			break
		}
		if time.Since(signalled) > time.Second {
			t.Fatalf("/readyz answers %d %v after SIGTERM, want 503 at once", code, time.Since(signalled))
		}
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(time.Second)
	for _, path := range []string{"/healthz", "/inloggen"} {
		code, err := p.get(path)
		if err != nil || code != http.StatusOK {
			t.Fatalf("GET %s %v after SIGTERM, within the wait of %v: %d, %v; want 200", path, time.Since(signalled), wait, code, err)
		}
	}
	if err := p.wait(t, wait+10*time.Second); err != nil {
		t.Fatalf("exit: %v, want 0", err)
	}
	if took := time.Since(signalled); took < wait {
		t.Fatalf("the process exited %v after SIGTERM, before the wait of %v was over", took, wait)
	}
	if _, err := p.get("/healthz"); err == nil {
		t.Fatal("the address still answers after the process exited")
	}
}

// TestShutdownDrainLetsATransferFinish: a request under way when the
// listener closes (an attachment coming in over a slow line) may take
// DIALOOG_SHUTDOWN_DRAIN to finish, longer than the 10 s it once had, and
// gets its answer; then the process exits, with 0.
func TestShutdownDrainLetsATransferFinish(t *testing.T) {
	if testing.Short() {
		t.Skip("takes 12 s")
	}
	const rest = "a%40example.nl"
	p := startMain(t, "DIALOOG_SHUTDOWN_WAIT=0s", "DIALOOG_SHUTDOWN_DRAIN=20s")
	conn := p.slowPost(t, len("email=")+len(rest))
	time.Sleep(200 * time.Millisecond)
	signalled := time.Now()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	// The body keeps coming, a byte now and then, for 11 s.
	for i := range len(rest) {
		time.Sleep(11 * time.Second / time.Duration(len(rest)))
		if _, err := conn.Write([]byte{rest[i]}); err != nil {
			t.Fatalf("the upload was cut %v after SIGTERM: %v", time.Since(signalled), err)
		}
	}
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("no answer to the request that finished %v after SIGTERM: %v", time.Since(signalled), err)
	}
	resp.Body.Close()
	if resp.StatusCode >= 500 {
		t.Fatalf("the request that finished during the drain: %s", resp.Status)
	}
	if err := p.wait(t, 10*time.Second); err != nil {
		t.Fatalf("exit: %v, want 0", err)
	}
}

// TestShutdownDrainIsBounded: a request that does not finish within
// DIALOOG_SHUTDOWN_DRAIN is cut when it is over, and the process exits
// with 0, so that a stuck client cannot hold a deploy.
func TestShutdownDrainIsBounded(t *testing.T) {
	const drain = time.Second
	p := startMain(t, "DIALOOG_SHUTDOWN_WAIT=0s", "DIALOOG_SHUTDOWN_DRAIN="+drain.String())
	conn := p.slowPost(t, 1000)
	time.Sleep(200 * time.Millisecond)
	signalled := time.Now()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := p.wait(t, drain+5*time.Second); err != nil {
		t.Fatalf("exit: %v, want 0", err)
	}
	if took := time.Since(signalled); took < drain {
		t.Fatalf("the process exited %v after SIGTERM, before the drain of %v was over", took, drain)
	}
	conn.SetReadDeadline(time.Now().Add(time.Second))
	if _, err := conn.Read(make([]byte, 1)); err == nil || strings.Contains(err.Error(), "timeout") {
		t.Fatalf("the request under way still has its connection after the exit: %v", err)
	}
}

// TestWorkersStopWithinOneBound: the workers, told to stop at the same
// moment, get one bound together, not one each after the one before
// (three hung workers held the exit for 30 s beyond the drain, past the
// "some 20 s more" the README asks for); each that did not stop is
// logged, and one that did is not.
func TestWorkersStopWithinOneBound(t *testing.T) {
	var logged bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logged, nil))
	stopped := make(chan struct{})
	close(stopped)
	const within = time.Second
	start := time.Now()
	awaitStopped(log, within,
		stoppingWorker{"hung one", make(chan struct{})},
		stoppingWorker{"stopped one", stopped},
		stoppingWorker{"hung two", make(chan struct{})})
	if took := time.Since(start); took < within || took >= 2*within {
		t.Errorf("the workers were waited for %v, want %v in all", took, within)
	}
	for name, want := range map[string]bool{"hung one": true, "hung two": true, "stopped one": false} {
		if got := strings.Contains(logged.String(), name+" did not stop in time"); got != want {
			t.Errorf("%q logged as late: %v, want %v\n%s", name, got, want, logged.String())
		}
	}
}
