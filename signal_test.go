package main

import (
	"os"
	"syscall"
	"testing"
	"time"
)

// TestMain runs the command itself in a process of its own when a test
// asks for it (DIALOOG_TEST_MAIN), so that signals reach it as they reach
// the real binary.
func TestMain(m *testing.M) {
	if os.Getenv("DIALOOG_TEST_MAIN") == "1" {
		main()
		return
	}
	os.Exit(m.Run())
}

// TestSecondSignalStopsAtOnce: the first SIGTERM (or Ctrl-C) stops
// gracefully, which waits for DIALOOG_SHUTDOWN_WAIT and for requests
// under way; a second one ends the process at once, as an operator who
// presses Ctrl-C again expects.
func TestSecondSignalStopsAtOnce(t *testing.T) {
	for _, tc := range []struct {
		name    string
		env     []string
		pending bool
	}{
		{"during the drain", []string{"DIALOOG_SHUTDOWN_WAIT=0s"}, true},
		{"during the wait", []string{"DIALOOG_SHUTDOWN_WAIT=1m"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := startMain(t, tc.env...)
			if tc.pending {
				// A request under way: its body comes slowly.
				p.slowPost(t, 1000)
				time.Sleep(200 * time.Millisecond)
			}
			if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
				t.Fatal(err)
			}
			select {
			case err := <-p.exited:
				p.exited <- err
				t.Fatalf("the first signal ended the process at once (%v): there was something to wait for", err)
			case <-time.After(time.Second):
			}
			if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
				t.Fatal(err)
			}
			p.wait(t, 3*time.Second)
		})
	}
}
