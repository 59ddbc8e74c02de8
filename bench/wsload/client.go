package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
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
	Bytes    int64 `json:"bytes"`  // size of the frames that carried a timestamp
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

// dialSpec says how the client opens connection i.
type dialSpec struct {
	url    string   // ws://host:port/path
	tokens []string // session cookie per connection (the real /ws); nil: ?u=i
	cookie string   // name of the session cookie
	origin string   // Origin header, if any
	proto  string   // "" or "centrifugo" (JSON protocol: connect, subscribe to "u<i>")
}

// runClient opens n connections as spec says from the source addresses in
// turn, says "ready <connected> <failed>", records the latency of every
// message until told "stop <expected>" on stdin (the number of timestamped
// messages the live connections should get), then reports "result {json}".
func runClient(spec dialSpec, n int, sources []net.IP) error {
	rawURL := spec.url
	u, err := url.Parse(rawURL)
	if err != nil {
		return err
	}
	if ip := net.ParseIP(u.Hostname()); ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("server %q is not a loopback address", u.Host)
	}
	if spec.tokens != nil && len(spec.tokens) < n {
		return fmt.Errorf("%d session tokens for %d connections", len(spec.tokens), n)
	}
	lat := newLatencies()
	var received, bytes, closed atomic.Int64
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
			target, h := rawURL+"?u="+strconv.Itoa(i), http.Header{}
			if spec.tokens != nil {
				target = rawURL
				h.Set("Cookie", spec.cookie+"="+spec.tokens[i])
			}
			if spec.origin != "" {
				h.Set("Origin", spec.origin)
			}
			for attempt := 0; attempt < 3; attempt++ {
				c, resp, e := d.DialContext(context.Background(), target, h)
				if resp != nil {
					resp.Body.Close()
				}
				if conn, err = c, e; err == nil && spec.proto == "centrifugo" {
					err = centrifugoSubscribe(conn, i)
				}
				if err == nil {
					break
				}
				if conn != nil {
					conn.Close()
					conn = nil
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
		go read(c, i, spec.proto == "centrifugo", lat, &received, &bytes, &closed, &stopping)
	}
	fmt.Printf("ready %d %d\n", connected, failed.Load())

	in := bufio.NewScanner(os.Stdin)
	var sent, perMessage int64
	for in.Scan() {
		if f := strings.Fields(in.Text()); len(f) == 3 && f[0] == "stop" {
			sent, _ = strconv.ParseInt(f[1], 10, 64)
			perMessage, _ = strconv.ParseInt(f[2], 10, 64)
			break
		}
	}
	// Wait for what is still in flight: every live connection should get
	// every broadcast (perMessage 0), or every push its perMessage
	// recipients.
	want := func() int64 {
		if perMessage > 0 {
			return sent * perMessage
		}
		return sent * (int64(connected) - closed.Load())
	}
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) && received.Load() < want() {
		time.Sleep(10 * time.Millisecond)
	}
	stopping.Store(true)
	h := lat.merged()
	res := clientResult{
		Received: received.Load(),
		Bytes:    bytes.Load(),
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

// marker precedes the scheduled send time (Unix nanoseconds) in every
// timed message: at the start of a broadcast, in the body of a reply (and so
// in its rendered fragment), in the data of a Centrifugo publication.
const marker = "wsload-t="

func read(c *fws.Conn, i int, centrifugo bool, lat *latencies, received, bytes, closed *atomic.Int64, stopping *atomic.Bool) {
	for {
		_, msg, err := c.ReadMessage()
		if err != nil {
			if !stopping.Load() {
				closed.Add(1)
			}
			return
		}
		now := time.Now().UnixNano()
		if centrifugo && answerPing(c, msg) {
			continue
		}
		// A fragment may name its message more than once (the line in the
		// list, the message itself); a Centrifugo frame may carry several
		// publications, each with its own time.
		var seen []int64
		rest := msg
		for {
			k := strings.Index(string(rest), marker)
			if k < 0 {
				break
			}
			rest = rest[k+len(marker):]
			end := 0
			for end < len(rest) && end < 20 && rest[end] >= '0' && rest[end] <= '9' {
				end++
			}
			sentAt, err := strconv.ParseInt(string(rest[:end]), 10, 64)
			if err != nil || slices.Contains(seen, sentAt) {
				continue
			}
			seen = append(seen, sentAt)
			lat.record(i, (now-sentAt)/1000)
			received.Add(1)
			bytes.Add(int64(len(msg)))
		}
	}
}
