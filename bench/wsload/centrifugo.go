package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	fws "github.com/fasthttp/websocket"
)

// Centrifugo (github.com/centrifugal/centrifugo/v6) is the outside
// reference for the push path: a dedicated real-time server, its clients on
// the JSON protocol over WebSocket, each subscribed to its own channel
// u<i>, a push one call of its HTTP API that publishes to the two channels
// of a pair. It runs as its own process, built once outside the repository
// (bench/README.md says how); without the binary the scenario is left out.

// defaultCentrifugo is where bench/README.md's build command puts the binary.
func defaultCentrifugo() string {
	if dir, err := os.UserCacheDir(); err == nil {
		return filepath.Join(dir, "dialoog-bench", "centrifugo", "centrifugo")
	}
	return "centrifugo"
}

const centrifugoKey = "wsload"

func startCentrifugo(cfg runConfig) (*server, error) {
	if _, err := os.Stat(cfg.centrifugo); err != nil {
		return nil, fmt.Errorf("centrifugo binary: %w (see bench/README.md)", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	dir, err := os.MkdirTemp("", "wsload-centrifugo-")
	if err != nil {
		return nil, err
	}
	conf := map[string]any{
		"http_server": map[string]any{"address": "127.0.0.1", "port": port},
		"log":         map[string]any{"level": "error"},
		"client":      map[string]any{"insecure": true, "allowed_origins": []string{"*"}},
		"http_api":    map[string]any{"key": centrifugoKey},
		"health":      map[string]any{"enabled": true},
		"usage_stats": map[string]any{"disabled": true},
	}
	b, _ := json.Marshal(conf)
	path := filepath.Join(dir, "config.json")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		return nil, err
	}
	cmd := exec.Command(cfg.centrifugo, "--config", path)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	cmd.Env = append(os.Environ(), "GOMAXPROCS="+strconv.Itoa(2))
	if err := cmd.Start(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("start centrifugo: %w", err)
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	stop := func(context.Context) error {
		_ = cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		return os.RemoveAll(dir)
	}
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 256}}
	if err := waitFor(20*time.Second, func() bool {
		resp, err := client.Get("http://" + addr + "/health")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}); err != nil {
		_ = stop(context.Background())
		return nil, fmt.Errorf("centrifugo did not come up: %w", err)
	}
	push := func(at time.Time, k, size int) error {
		body, _ := json.Marshal(map[string]any{
			"channels": []string{"u" + strconv.Itoa(2*k), "u" + strconv.Itoa(2*k+1)},
			"data":     map[string]string{"m": padded(at, size)},
		})
		req, err := http.NewRequest(http.MethodPost, "http://"+addr+"/api/broadcast", bytes.NewReader(body))
		if err != nil {
			return err
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-API-Key", centrifugoKey)
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		var out struct {
			Error *struct {
				Message string `json:"message"`
			} `json:"error"`
		}
		err = json.NewDecoder(resp.Body).Decode(&out)
		resp.Body.Close()
		if err == nil && out.Error != nil {
			err = errors.New(out.Error.Message)
		}
		if resp.StatusCode != http.StatusOK {
			err = fmt.Errorf("broadcast: %s", resp.Status)
		}
		return err
	}
	return &server{addr: addr, path: "/connection/websocket", push: push, recipients: 2, stop: stop,
		external: true, clientArgs: []string{"-proto", "centrifugo"}}, nil
}

// centrifugoSubscribe connects (anonymously: the server runs in insecure
// mode) and subscribes to the connection's own channel u<i>.
func centrifugoSubscribe(c *fws.Conn, i int) error {
	_ = c.SetReadDeadline(time.Now().Add(20 * time.Second))
	defer c.SetReadDeadline(time.Time{})
	for id, cmd := range []string{
		`{"id":1,"connect":{"name":"wsload"}}`,
		fmt.Sprintf(`{"id":2,"subscribe":{"channel":"u%d"}}`, i),
	} {
		if err := c.WriteMessage(fws.TextMessage, []byte(cmd)); err != nil {
			return err
		}
		if err := centrifugoReply(c, id+1); err != nil {
			return err
		}
	}
	return nil
}

// centrifugoReply reads until the reply to command id, answering pings.
func centrifugoReply(c *fws.Conn, id int) error {
	for {
		_, msg, err := c.ReadMessage()
		if err != nil {
			return err
		}
		if answerPing(c, msg) {
			continue
		}
		for _, line := range strings.Split(string(msg), "\n") {
			var r struct {
				ID    int             `json:"id"`
				Error json.RawMessage `json:"error"`
			}
			if json.Unmarshal([]byte(line), &r) != nil || r.ID != id {
				continue
			}
			if len(r.Error) > 0 {
				return fmt.Errorf("centrifugo command %d: %s", id, r.Error)
			}
			return nil
		}
	}
}

// answerPing answers the server's ping (an empty command) with a pong.
func answerPing(c *fws.Conn, msg []byte) bool {
	if string(bytes.TrimSpace(msg)) != "{}" {
		return false
	}
	_ = c.WriteMessage(fws.TextMessage, []byte("{}"))
	return true
}
