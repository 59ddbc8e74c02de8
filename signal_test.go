package main

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
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
// gracefully, which waits up to seconds for requests under way; a second
// one ends the process at once, as an operator who presses Ctrl-C again
// expects.
func TestSecondSignalStopsAtOnce(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), "DIALOOG_TEST_MAIN=1", "DIALOOG_ADDR="+addr, "DIALOOG_BASE_URL=http://"+addr,
		"DIALOOG_DATA_DIR="+t.TempDir(), "DIALOOG_DEV=0", "DIALOOG_DATABASE_URL=", "DIALOOG_METRICS_ADDR=")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer func() {
		cmd.Process.Kill()
		<-exited
	}()
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get("http://" + addr + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("not ready")
		}
		time.Sleep(50 * time.Millisecond)
	}
	// A request under way: its body comes slowly.
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /inloggen HTTP/1.1\r\nHost: %s\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\nemail=", addr)
	time.Sleep(200 * time.Millisecond)

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		exited <- err
		t.Fatalf("the first signal ended the process at once (%v): nothing was under way", err)
	case <-time.After(time.Second):
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		exited <- err
	case <-time.After(3 * time.Second):
		t.Fatal("a second signal did not end the process")
	}
}
