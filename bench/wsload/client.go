package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
	fws "github.com/fasthttp/websocket"
)

// clientResult is what the client process reports, latencies in µs.
type clientResult struct {
	Received int64 `json:"received"`
	Closed   int64 `json:"closed"` // connections the server ended early
	P50      int64 `json:"p50"`
	P99      int64 `json:"p99"`
	P999     int64 `json:"p999"`
	Max      int64 `json:"max"`
}

// shards spread the histogram locks over the reader goroutines.
const shards = 64

type latencies struct {
	mu [shards]sync.Mutex
	h  [shards]*hdrhistogram.Histogram
}

func newLatencies() *latencies {
	l := &latencies{}
	for i := range l.h {
		l.h[i] = hdrhistogram.New(1, 120_000_000, 3) // 1 µs to 2 min
	}
	return l
}

func (l *latencies) record(shard int, micros int64) {
	i := shard % shards
	l.mu[i].Lock()
	_ = l.h[i].RecordValue(max(micros, 1))
	l.mu[i].Unlock()
}

func (l *latencies) merged() *hdrhistogram.Histogram {
	all := hdrhistogram.New(1, 120_000_000, 3)
	for i := range l.h {
		l.mu[i].Lock()
		all.Merge(l.h[i])
		l.mu[i].Unlock()
	}
	return all
}

// runClient opens n connections to rawURL from the source addresses in
// turn, says "ready <connected> <failed>", records the latency of every
// message until told "stop <sent>" on stdin, then reports "result {json}".
func runClient(rawURL string, n int, sources []net.IP) error {
	u, err := url.Parse(rawURL)
	if err != nil {
		return err
	}
	if ip := net.ParseIP(u.Hostname()); ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("server %q is not a loopback address", u.Host)
	}
	lat := newLatencies()
	var received, closed atomic.Int64
	var stopping atomic.Bool
	conns := make([]*fws.Conn, n)
	var failed atomic.Int64

	// Dial with bounded concurrency, each connection from the next source
	// address so that no single address runs out of ephemeral ports.
	sem := make(chan struct{}, 64)
	var wg sync.WaitGroup
	for i := range n {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			src := &net.TCPAddr{IP: sources[i%len(sources)]}
			d := fws.Dialer{
				HandshakeTimeout: 10 * time.Second,
				ReadBufferSize:   1024,
				WriteBufferSize:  1024,
				NetDialContext:   (&net.Dialer{LocalAddr: src, Timeout: 10 * time.Second}).DialContext,
			}
			var conn *fws.Conn
			var err error
			for attempt := 0; attempt < 3; attempt++ {
				c, resp, e := d.DialContext(context.Background(), rawURL+"?u="+strconv.Itoa(i), nil)
				if resp != nil {
					resp.Body.Close()
				}
				if conn, err = c, e; err == nil {
					break
				}
				time.Sleep(100 * time.Millisecond)
			}
			if err != nil {
				if failed.Add(1) <= 3 {
					fmt.Fprintf(os.Stderr, "wsload client: dial: %v\n", err)
				}
				return
			}
			conns[i] = conn
		}()
	}
	wg.Wait()
	connected := 0
	for i, c := range conns {
		if c == nil {
			continue
		}
		connected++
		go read(c, i, lat, &received, &closed, &stopping)
	}
	fmt.Printf("ready %d %d\n", connected, failed.Load())

	in := bufio.NewScanner(os.Stdin)
	var sent int64
	for in.Scan() {
		if f := strings.Fields(in.Text()); len(f) == 2 && f[0] == "stop" {
			sent, _ = strconv.ParseInt(f[1], 10, 64)
			break
		}
	}
	// Wait for what is still in flight: every live connection should get
	// every message sent.
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) && received.Load() < sent*(int64(connected)-closed.Load()) {
		time.Sleep(10 * time.Millisecond)
	}
	stopping.Store(true)
	h := lat.merged()
	res := clientResult{
		Received: received.Load(),
		Closed:   closed.Load(),
		P50:      h.ValueAtQuantile(50),
		P99:      h.ValueAtQuantile(99),
		P999:     h.ValueAtQuantile(99.9),
		Max:      h.Max(),
	}
	b, _ := json.Marshal(res)
	fmt.Printf("result %s\n", b)
	for _, c := range conns {
		if c != nil {
			c.Close()
		}
	}
	return nil
}

func read(c *fws.Conn, i int, lat *latencies, received, closed *atomic.Int64, stopping *atomic.Bool) {
	for {
		_, msg, err := c.ReadMessage()
		if err != nil {
			if !stopping.Load() {
				closed.Add(1)
			}
			return
		}
		now := time.Now().UnixNano()
		sp := strings.IndexByte(string(msg[:min(len(msg), 24)]), ' ')
		if sp <= 0 {
			continue
		}
		sentAt, err := strconv.ParseInt(string(msg[:sp]), 10, 64)
		if err != nil {
			continue
		}
		lat.record(i, (now-sentAt)/1000)
		received.Add(1)
	}
}
