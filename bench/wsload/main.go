// Command wsload measures the live-update path: N WebSocket clients on
// loopback, send-to-receive latency (HDR histogram) and idle memory per
// connection, each beside a baseline measured in the same run.
//
// -mode push (what `just bench-ws` runs) measures the application's own
// /ws endpoint: the real server, wired as serve wires it, with N seeded
// users signed in, each message a real reply POST whose fragment reaches
// the two participants' sockets (real); beside a bare upgrade (upgrade,
// idle memory), a bare fan-out writing a message of the same size straight
// to the same two connections (bare) and Centrifugo, a dedicated real-time
// server, publishing to the two users' channels (centrifugo).
//
// -mode broadcast sends every message to every connection: realtime.Hub
// (hub) against a bare loop (bare) and a bare upgrade (upgrade).
//
// Every server runs in a process of its own, and the clients in another
// (the same binary with -client), so that the memory figures hold only
// server state. It dials nothing but loopback addresses and stops by
// itself.
//
//	go run ./bench/wsload -mode push -conns 1000,10000 -rate 20 -duration 20s
//	go run ./bench/wsload -mode broadcast -conns 1000,5000,10000 -load 20000 -duration 10s
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
	fws "github.com/fasthttp/websocket"
	"github.com/gofiber/contrib/websocket"
	"github.com/gofiber/fiber/v2"

	"dialoog/realtime"
)

func main() {
	var (
		conns    = flag.String("conns", "1000,5000,10000", "comma-separated numbers of client connections")
		rate     = flag.Int("rate", 100, "broadcasts per second (each goes to every connection)")
		load     = flag.Int("load", 0, "if set, messages per second over all connections: the rate becomes load/conns (at least 1)")
		duration = flag.Duration("duration", 10*time.Second, "how long to broadcast per run")
		sources  = flag.String("sources", "127.0.0.1,127.0.0.2,127.0.0.3,127.0.0.4", "loopback source addresses for the clients")
		size     = flag.Int("size", 256, "message size in bytes; with -mode push the default is 2200, about the real fragment of a -body reply")
		body     = flag.Int("body", 200, "real scenario: length of a reply's text (its fragment is about 2 KB more)")
		scen     = flag.String("scenarios", "", "which servers to run (default: upgrade,hub,bare with -mode broadcast; upgrade,real,bare[,centrifugo] with -mode push)")
		limit    = flag.Duration("timeout", 30*time.Minute, "hard stop for the whole run")
		mode     = flag.String("mode", "broadcast", "broadcast: every message to every connection; push: each message to the two participants of one conversation")
		database = flag.String("database", "", "real server: postgres://... URL of an empty database (default: SQLite in a temporary directory)")
		centri   = flag.String("centrifugo", defaultCentrifugo(), "centrifugo scenario: path of the centrifugo binary (see bench/README.md)")
		heapProf = flag.String("heapprofile", "", "write a heap profile of each server with its connections idle to PREFIX.<scenario>.<conns>")
		cpuProf  = flag.String("cpuprofile", "", "write a CPU profile of each server process while it pushes or broadcasts to PREFIX.<scenario>.<conns>")

		one       = flag.String("one", "", "internal: run this one scenario with -n connections and print its result")
		client    = flag.Bool("client", false, "internal: run as the client process")
		clientURL = flag.String("url", "", "internal: server URL for -client")
		clientN   = flag.Int("n", 0, "internal: connections for -client")
		tokens    = flag.String("tokens", "", "internal: file of session tokens for -client, one a line")
		cookie    = flag.String("cookie", "", "internal: session cookie name for -client")
		origin    = flag.String("origin", "", "internal: Origin header for -client")
		proto     = flag.String("proto", "", "internal: client protocol for -client (centrifugo)")
	)
	flag.Parse()
	log.SetFlags(0)
	heapProfile, cpuProfile = *heapProf, *cpuProf
	raiseFileLimit()
	srcs, err := parseSources(*sources)
	if err != nil {
		log.Fatal(err)
	}
	// The program must end by itself whatever happens.
	time.AfterFunc(*limit, func() {
		log.Printf("wsload: hard time limit %v reached", *limit)
		os.Exit(2)
	})

	if *client {
		spec := dialSpec{url: *clientURL, cookie: *cookie, origin: *origin, proto: *proto}
		if *tokens != "" {
			b, err := os.ReadFile(*tokens)
			if err != nil {
				log.Fatalf("wsload client: %v", err)
			}
			spec.tokens = strings.Fields(string(b))
		}
		if err := runClient(spec, *clientN, srcs); err != nil {
			log.Fatalf("wsload client: %v", err)
		}
		return
	}

	if *rate <= 0 || *size < 32 {
		log.Fatal("wsload: -rate must be positive and -size at least 32")
	}
	if *mode != "broadcast" && *mode != "push" {
		log.Fatal("wsload: -mode must be broadcast or push")
	}
	if *scen == "" {
		*scen = "upgrade,hub,bare"
		if *mode == "push" {
			*scen = "upgrade,real,bare"
			if _, err := os.Stat(*centri); err == nil {
				*scen += ",centrifugo"
			} else {
				log.Printf("wsload: no centrifugo binary at %s: comparing without it (see bench/README.md)", *centri)
			}
		}
	}
	sizeSet := false
	flag.Visit(func(f *flag.Flag) { sizeSet = sizeSet || f.Name == "size" })
	if *mode == "push" && !sizeSet {
		*size = 2200
	}
	cfg := runConfig{rate: *rate, duration: *duration, size: *size, body: *body, sources: *sources, mode: *mode,
		database: *database, centrifugo: *centri}
	if *one != "" {
		r, err := runScenario(*one, *clientN, cfg)
		if err != nil {
			log.Fatalf("wsload: %s with %d connections: %v", *one, *clientN, err)
		}
		b, _ := json.Marshal(r.export())
		fmt.Printf("scenario %s\n", b)
		return
	}

	ns, err := parseInts(*conns)
	if err != nil {
		log.Fatal(err)
	}
	var results []result
	for _, n := range ns {
		if *load > 0 {
			cfg.rate = max(1, *load/n)
		}
		for _, s := range strings.Split(*scen, ",") {
			// Each server runs in a fresh process: heap left fragmented by
			// an earlier run would otherwise flatter the later ones.
			r, err := runIsolated(strings.TrimSpace(s), n, cfg)
			if err != nil {
				log.Fatalf("wsload: %s with %d connections: %v", s, n, err)
			}
			log.Printf("%s", r.line())
			results = append(results, r)
		}
	}
	fmt.Println()
	printTable(os.Stdout, cfg, results)
}

type runConfig struct {
	rate       int
	duration   time.Duration
	size       int
	body       int // real: reply text length
	sources    string
	mode       string // broadcast or push
	database   string // real: PostgreSQL URL, "" for SQLite
	centrifugo string // path of the centrifugo binary
}

// result is one scenario's figures.
type result struct {
	scenario       string
	conns          int
	rate           int // broadcasts per second asked for
	connected      int
	connectTime    time.Duration
	bytesPerConn   float64
	stackPerConn   float64 // of bytesPerConn, goroutine stacks
	goroutinesConn float64
	sent           int
	sendTime       time.Duration
	client         clientResult
	recipients     int // connections each message was for; 0: all
	failedPushes   int
	callP50        int64 // µs the push call took (the reply POST until its 303)
	callP99        int64
}

func (r result) line() string {
	s := fmt.Sprintf("%-7s n=%-6d connected=%d in %v, idle %.1f KiB/conn, %.2f goroutines/conn",
		r.scenario, r.conns, r.connected, r.connectTime.Round(time.Millisecond), r.bytesPerConn/1024, r.goroutinesConn)
	if r.bytesPerConn > 0 {
		s += fmt.Sprintf(" (stacks %.1f KiB)", r.stackPerConn/1024)
	}
	if r.sent > 0 {
		s += fmt.Sprintf(", sent %d (%.1f/s), received %.2f%%, disconnected %d, p50 %s p99 %s p99.9 %s max %s",
			r.sent, float64(r.sent)/r.sendTime.Seconds(), r.receivedPct(), r.client.Closed,
			us(r.client.P50), us(r.client.P99), us(r.client.P999), us(r.client.Max))
		if r.callP50 > 0 {
			s += fmt.Sprintf(", push call p50 %s p99 %s, %d failed", us(r.callP50), us(r.callP99), r.failedPushes)
		}
	}
	return s
}

func (r result) receivedPct() float64 {
	want := float64(r.sent) * float64(r.connected)
	if r.recipients > 0 {
		want = float64(r.sent) * float64(r.recipients)
	}
	if want == 0 {
		return 0
	}
	return 100 * float64(r.client.Received) / want
}

// exported is result in JSON, between processes.
type exported struct {
	Scenario       string        `json:"scenario"`
	Conns          int           `json:"conns"`
	Rate           int           `json:"rate"`
	Connected      int           `json:"connected"`
	ConnectTime    time.Duration `json:"connect_time"`
	BytesPerConn   float64       `json:"bytes_per_conn"`
	GoroutinesConn float64       `json:"goroutines_per_conn"`
	Sent           int           `json:"sent"`
	SendTime       time.Duration `json:"send_time"`
	Client         clientResult  `json:"client"`
	Recipients     int           `json:"recipients"`
	FailedPushes   int           `json:"failed_pushes"`
	StackPerConn   float64       `json:"stack_per_conn"`
	CallP50        int64         `json:"call_p50"`
	CallP99        int64         `json:"call_p99"`
}

func (r result) export() exported {
	return exported{r.scenario, r.conns, r.rate, r.connected, r.connectTime, r.bytesPerConn, r.goroutinesConn,
		r.sent, r.sendTime, r.client, r.recipients, r.failedPushes, r.stackPerConn, r.callP50, r.callP99}
}

func (e exported) result() result {
	return result{scenario: e.Scenario, conns: e.Conns, rate: e.Rate, connected: e.Connected, connectTime: e.ConnectTime,
		bytesPerConn: e.BytesPerConn, stackPerConn: e.StackPerConn, goroutinesConn: e.GoroutinesConn, sent: e.Sent,
		sendTime: e.SendTime, client: e.Client, recipients: e.Recipients, failedPushes: e.FailedPushes,
		callP50: e.CallP50, callP99: e.CallP99}
}

// runIsolated runs one scenario in a child process of this binary.
func runIsolated(name string, n int, cfg runConfig) (result, error) {
	exe, err := os.Executable()
	if err != nil {
		return result{}, err
	}
	cmd := exec.Command(exe, "-one", name, "-n", strconv.Itoa(n), "-rate", strconv.Itoa(cfg.rate),
		"-duration", cfg.duration.String(), "-size", strconv.Itoa(cfg.size), "-body", strconv.Itoa(cfg.body), "-sources", cfg.sources,
		"-mode", cfg.mode, "-database", cfg.database, "-centrifugo", cfg.centrifugo, "-heapprofile", heapProfile, "-cpuprofile", cpuProfile,
		"-timeout", "10m")
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return result{}, fmt.Errorf("scenario process: %w", err)
	}
	for _, l := range strings.Split(string(out), "\n") {
		if rest, ok := strings.CutPrefix(l, "scenario "); ok {
			var e exported
			if err := json.Unmarshal([]byte(rest), &e); err != nil {
				return result{}, err
			}
			return e.result(), nil
		}
	}
	return result{}, fmt.Errorf("scenario process printed no result: %q", out)
}

// server is one of the compared servers.
type server struct {
	app        *fiber.App // nil for a server in another process
	addr       string
	path       string                                // WebSocket path, default /ws
	count      func() int                            // connections registered; nil: trust the clients
	broadcast  func(msg []byte)                      // nil: no broadcast (upgrade)
	push       func(at time.Time, k, size int) error // push mode: message k to the two users of pair k; nil: none
	recipients int                                   // connections each push reaches
	stop       func(context.Context) error           // before the app shuts down
	perConn    int                                   // goroutines per connection
	clientArgs []string                              // extra flags for the client process
	external   bool                                  // memory is not this process's: no idle figure
	real       *realServer                           // the real scenario\'s application, for tests
}

func runScenario(name string, n int, cfg runConfig) (result, error) {
	r := result{scenario: name, conns: n, rate: cfg.rate}
	srv, err := startServer(name, n, cfg)
	if err != nil {
		return r, err
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		if srv.stop != nil {
			_ = srv.stop(ctx)
		}
		if srv.app != nil {
			_ = srv.app.ShutdownWithTimeout(5 * time.Second)
		}
	}()

	base := measure() // the server listens, no connection yet
	path := srv.path
	if path == "" {
		path = "/ws"
	}
	child, err := startClient("ws://"+srv.addr+path, n, cfg.sources, srv.clientArgs)
	if err != nil {
		return r, err
	}
	defer child.kill()
	start := time.Now()
	ready, err := child.readLine()
	if err != nil {
		return r, fmt.Errorf("client: %w", err)
	}
	var failed int
	if _, err := fmt.Sscanf(ready, "ready %d %d", &r.connected, &failed); err != nil {
		return r, fmt.Errorf("client said %q", ready)
	}
	if srv.count != nil {
		if err := waitFor(30*time.Second, func() bool { return srv.count() >= r.connected }); err != nil {
			return r, fmt.Errorf("server registered %d of %d: %w", srv.count(), r.connected, err)
		}
	}
	r.connectTime = time.Since(start)
	if failed > 0 {
		log.Printf("wsload: %d of %d connections failed", failed, n)
	}

	if !srv.external {
		after := settle(base.goroutines + srv.perConn*r.connected)
		if r.connected > 0 {
			r.bytesPerConn = float64(after.bytes-base.bytes) / float64(r.connected)
			r.stackPerConn = float64(after.stack-base.stack) / float64(r.connected)
			r.goroutinesConn = float64(after.goroutines-base.goroutines) / float64(r.connected)
		}
		if heapProfile != "" {
			writeHeapProfile(fmt.Sprintf("%s.%s.%d", heapProfile, name, n))
		}
	}

	perMessage := 0
	if cpuProfile != "" && !srv.external {
		stop := startCPUProfile(fmt.Sprintf("%s.%s.%d", cpuProfile, name, n))
		defer stop()
	}
	switch {
	case cfg.mode == "push" && srv.push != nil:
		var calls *hdrhistogram.Histogram
		r.sent, r.sendTime, r.failedPushes, calls = pushes(srv.push, cfg, r.connected)
		r.callP50, r.callP99 = calls.ValueAtQuantile(50), calls.ValueAtQuantile(99)
		perMessage = srv.recipients
	case cfg.mode == "broadcast" && srv.broadcast != nil:
		r.sent, r.sendTime = broadcast(srv.broadcast, cfg)
	}
	r.recipients = perMessage
	if err := child.send(fmt.Sprintf("stop %d %d\n", r.sent, perMessage)); err != nil {
		return r, err
	}
	line, err := child.readLine()
	if err != nil {
		return r, fmt.Errorf("client result: %w", err)
	}
	if err := json.Unmarshal([]byte(strings.TrimPrefix(line, "result ")), &r.client); err != nil {
		return r, fmt.Errorf("client result %q: %w", line, err)
	}
	return r, child.wait()
}

// broadcast sends rate messages a second for the duration. Each message
// carries its scheduled send time, not the time it actually went out, so
// that a sender falling behind shows up as latency (no coordinated
// omission).
func broadcast(send func([]byte), cfg runConfig) (sent int, took time.Duration) {
	interval := time.Second / time.Duration(cfg.rate)
	total := int(cfg.duration / interval)
	start := time.Now()
	end := start.Add(cfg.duration)
	for k := 0; k < total; k++ {
		at := start.Add(time.Duration(k) * interval)
		if d := time.Until(at); d > 0 {
			time.Sleep(d)
		} else if time.Now().After(end.Add(cfg.duration)) {
			break // hopelessly behind: stop rather than run on
		}
		send(message(at, cfg.size))
		sent++
	}
	return sent, time.Since(start)
}

// pushes sends rate messages a second for the duration, message k to the
// users of pair k, each in its own goroutine (bounded), so that one slow
// push does not hold back the schedule; like broadcast, each carries its
// scheduled time.
func pushes(push func(at time.Time, k, size int) error, cfg runConfig, conns int) (sent int, took time.Duration, failed int, calls *hdrhistogram.Histogram) {
	calls = hdrhistogram.New(1, 120_000_000, 3)
	var callsMu sync.Mutex
	interval := time.Second / time.Duration(cfg.rate)
	total := int(cfg.duration / interval)
	start := time.Now()
	end := start.Add(cfg.duration)
	sem := make(chan struct{}, 64)
	var wg sync.WaitGroup
	var nfailed atomic.Int64
	for k := 0; k < total; k++ {
		at := start.Add(time.Duration(k) * interval)
		if d := time.Until(at); d > 0 {
			time.Sleep(d)
		} else if time.Now().After(end.Add(cfg.duration)) {
			break
		}
		sem <- struct{}{}
		wg.Add(1)
		go func(k int) {
			defer func() { <-sem; wg.Done() }()
			began := time.Now()
			err := push(at, k%max(conns/2, 1), cfg.size)
			callsMu.Lock()
			_ = calls.RecordValue(max(time.Since(began).Microseconds(), 1))
			callsMu.Unlock()
			if err != nil {
				if nfailed.Add(1) <= 3 {
					log.Printf("wsload: push %d: %v", k, err)
				}
			}
		}(k)
		sent++
	}
	wg.Wait()
	return sent, time.Since(start), int(nfailed.Load()), calls
}

// message is "wsload-t=<unix nanos> xxxx…", size bytes long.
func message(at time.Time, size int) []byte {
	b := strconv.AppendInt(append(make([]byte, 0, size), marker...), at.UnixNano(), 10)
	b = append(b, ' ')
	for len(b) < size {
		b = append(b, 'x')
	}
	return b
}

func startServer(name string, n int, cfg runConfig) (*server, error) {
	switch name {
	case "real":
		return startReal(context.Background(), n, cfg)
	case "centrifugo":
		return startCentrifugo(cfg)
	}
	app := fiber.New(fiber.Config{DisableStartupMessage: true})
	app.Server().MaxIdleWorkerDuration = 500 * time.Millisecond
	s := &server{app: app}
	switch name {
	case "hub":
		// Slow-client disconnections are counted by the clients; one log
		// line each would only slow the run down.
		quiet := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
		hub := realtime.NewHub(realtime.HubOptions{MaxPerUser: 1}, quiet)
		// Upgraded as the application's /ws is (realtime.Upgrader).
		app.Server().KeepHijackedConns = true
		up := &realtime.Upgrader{}
		app.Get("/ws", func(c *fiber.Ctx) error {
			user, _ := strconv.ParseInt(c.Query("u"), 10, 64)
			return up.Upgrade(c, func(conn *fws.Conn) {
				c, err := hub.Register(user, user, conn)
				if err != nil {
					realtime.Refuse(conn, err)
					return
				}
				c.Run(nil)
			})
		})
		var users []int64
		s.count = hub.Count
		s.broadcast = func(msg []byte) {
			if len(users) != hub.Count() {
				users = hub.UserIDs()
			}
			for _, u := range users {
				hub.SendToUser(u, msg)
			}
		}
		s.stop = hub.Shutdown
		s.perConn = 1 // the reader; a writer runs only while there is something to write
	case "bare", "upgrade":
		b := &bareServer{conns: make(map[*bareConn]struct{})}
		app.Get("/ws", websocket.New(b.handle))
		s.count = b.count
		if name == "bare" {
			s.broadcast = b.broadcast
			s.push, s.recipients = b.push, 2
		}
		s.perConn = 1
	default:
		return nil, fmt.Errorf("unknown scenario %q", name)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	go func() { _ = app.Listener(ln) }()
	s.addr = ln.Addr().String()
	return s, nil
}

// bareServer is the baseline: a set of connections and a loop that writes
// to each in turn.
type bareServer struct {
	mu     sync.Mutex
	conns  map[*bareConn]struct{}
	byUser sync.Map // connection number (?u=) -> *bareConn
	n      atomic.Int64
}

type bareConn struct {
	mu   sync.Mutex
	conn *websocket.Conn
	dead bool
}

func (b *bareServer) handle(conn *websocket.Conn) {
	c := &bareConn{conn: conn}
	user, _ := strconv.Atoi(conn.Query("u"))
	b.mu.Lock()
	b.conns[c] = struct{}{}
	b.mu.Unlock()
	b.byUser.Store(user, c)
	b.n.Add(1)
	for {
		if _, _, err := conn.ReadMessage(); err != nil {
			break
		}
	}
	b.n.Add(-1)
	b.byUser.CompareAndDelete(user, c)
	b.mu.Lock()
	delete(b.conns, c)
	b.mu.Unlock()
	// contrib recycles conn when this handler returns.
	c.mu.Lock()
	c.dead = true
	c.mu.Unlock()
}

func (b *bareServer) count() int { return int(b.n.Load()) }

func (b *bareServer) broadcast(msg []byte) {
	b.mu.Lock()
	conns := make([]*bareConn, 0, len(b.conns))
	for c := range b.conns {
		conns = append(conns, c)
	}
	b.mu.Unlock()
	for _, c := range conns {
		c.mu.Lock()
		if !c.dead {
			_ = c.conn.SetWriteDeadline(time.Now().Add(10 * time.Second))
			_ = c.conn.WriteMessage(websocket.TextMessage, msg)
		}
		c.mu.Unlock()
	}
}

// push is the bare fan-out: message k, written straight to the
// connections of users 2k and 2k+1, one after the other.
func (b *bareServer) push(at time.Time, k, size int) error {
	msg := message(at, size)
	for _, u := range []int{2 * k, 2*k + 1} {
		v, ok := b.byUser.Load(u)
		if !ok {
			return fmt.Errorf("user %d not connected", u)
		}
		c := v.(*bareConn)
		c.mu.Lock()
		if !c.dead {
			_ = c.conn.SetWriteDeadline(time.Now().Add(10 * time.Second))
			_ = c.conn.WriteMessage(websocket.TextMessage, msg)
		}
		c.mu.Unlock()
	}
	return nil
}

// heapProfile and cpuProfile are the -heapprofile and -cpuprofile
// prefixes.
var heapProfile, cpuProfile string

// startCPUProfile profiles this process into path until the returned
// function is called.
func startCPUProfile(path string) (stop func()) {
	f, err := os.Create(path)
	if err != nil {
		log.Printf("wsload: cpu profile: %v", err)
		return func() {}
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		log.Printf("wsload: cpu profile: %v", err)
		f.Close()
		return func() {}
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}
}

func writeHeapProfile(path string) {
	f, err := os.Create(path)
	if err != nil {
		log.Printf("wsload: heap profile: %v", err)
		return
	}
	defer f.Close()
	if err := pprof.Lookup("heap").WriteTo(f, 0); err != nil {
		log.Printf("wsload: heap profile: %v", err)
	}
}

type memSample struct {
	bytes      uint64
	stack      uint64
	goroutines int
}

// measure collects garbage and samples HeapInuse+StackInuse. Two cycles
// also empty the sync.Pools (their victim caches survive one).
func measure() memSample {
	runtime.GC()
	runtime.GC()
	debug.FreeOSMemory()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return memSample{bytes: m.HeapInuse + m.StackInuse, stack: m.StackInuse, goroutines: runtime.NumGoroutine()}
}

// settle waits until the idle fasthttp workers that served the upgrades
// have exited (the goroutine count drops to what the connections need), then
// measures.
func settle(want int) memSample {
	_ = waitFor(10*time.Second, func() bool { return runtime.NumGoroutine() <= want+8 })
	return measure()
}

func waitFor(within time.Duration, cond func() bool) error {
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			return fmt.Errorf("not within %v", within)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return nil
}

// childProc is the client process.
type childProc struct {
	cmd   *exec.Cmd
	in    io.WriteCloser
	out   *bufio.Reader
	lines chan lineOrErr
}

type lineOrErr struct {
	line string
	err  error
}

func startClient(wsURL string, n int, sources string, extra []string) (*childProc, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	args := append([]string{"-client", "-url", wsURL, "-n", strconv.Itoa(n), "-sources", sources}, extra...)
	cmd := exec.Command(exe, args...)
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start client process: %w", err)
	}
	c := &childProc{cmd: cmd, in: in, out: bufio.NewReader(out), lines: make(chan lineOrErr, 4)}
	go func() {
		for {
			l, err := c.out.ReadString('\n')
			c.lines <- lineOrErr{strings.TrimSpace(l), err}
			if err != nil {
				return
			}
		}
	}()
	return c, nil
}

func (c *childProc) readLine() (string, error) {
	select {
	case l := <-c.lines:
		if l.err != nil && l.line == "" {
			return "", l.err
		}
		return l.line, nil
	case <-time.After(2 * time.Minute):
		return "", errors.New("client process silent for 2 minutes")
	}
}

func (c *childProc) send(s string) error {
	_, err := io.WriteString(c.in, s)
	return err
}

func (c *childProc) wait() error {
	c.in.Close()
	done := make(chan error, 1)
	go func() { done <- c.cmd.Wait() }()
	select {
	case err := <-done:
		return err
	case <-time.After(30 * time.Second):
		c.kill()
		return errors.New("client process did not exit")
	}
}

func (c *childProc) kill() {
	if c.cmd.ProcessState == nil {
		_ = c.cmd.Process.Kill()
	}
}

// raiseFileLimit lifts the soft open-file limit to the hard one: each
// connection is a descriptor on each side.
func raiseFileLimit() {
	var l syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
		return
	}
	if l.Cur < l.Max {
		l.Cur = l.Max
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
			log.Printf("wsload: raise open-file limit: %v", err)
		}
	}
}

// parseSources accepts loopback addresses only: this tool never dials out.
func parseSources(s string) ([]net.IP, error) {
	var ips []net.IP
	for _, f := range strings.Split(s, ",") {
		ip := net.ParseIP(strings.TrimSpace(f))
		if ip == nil || !ip.IsLoopback() {
			return nil, fmt.Errorf("wsload: source %q is not a loopback address", f)
		}
		ips = append(ips, ip)
	}
	return ips, nil
}

func parseInts(s string) ([]int, error) {
	var ns []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("wsload: bad connection count %q", f)
		}
		ns = append(ns, n)
	}
	return ns, nil
}

func us(micros int64) string {
	d := time.Duration(micros) * time.Microsecond
	switch {
	case d < time.Millisecond:
		return fmt.Sprintf("%dµs", micros)
	case d < time.Second:
		return fmt.Sprintf("%.2fms", float64(micros)/1000)
	default:
		return fmt.Sprintf("%.2fs", d.Seconds())
	}
}

// printTable writes the results as Markdown, with the ratios to the
// baselines of the same connection count.
func printTable(w io.Writer, cfg runConfig, rs []result) {
	what := "broadcasts"
	if cfg.mode == "push" {
		what = "pushes (each to the 2 users of one conversation)"
	}
	fmt.Fprintf(w, "%s for %v each, %d-byte messages, GOMAXPROCS %d, %s\n\n",
		what, cfg.duration, cfg.size, runtime.GOMAXPROCS(0), runtime.Version())
	fmt.Fprintln(w, "| conns | server | connect | idle KiB/conn (stacks) | goroutines/conn | rate/s | sent (achieved/s) | received | disconnected | bytes/msg | p50 | p99 | p99.9 | max | push call p50 / p99 |")
	fmt.Fprintln(w, "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
	for _, r := range rs {
		lat := "| – | – | – | – | – | – | – | – | –"
		if r.sent > 0 {
			size := "–"
			if r.client.Received > 0 {
				size = strconv.FormatInt(r.client.Bytes/r.client.Received, 10)
			}
			call := "–"
			if r.callP50 > 0 {
				call = us(r.callP50) + " / " + us(r.callP99)
			}
			lat = fmt.Sprintf("| %d | %d (%.0f) | %.2f%% | %d | %s | %s | %s | %s | %s | %s", r.rate, r.sent, float64(r.sent)/r.sendTime.Seconds(),
				r.receivedPct(), r.client.Closed, size, us(r.client.P50), us(r.client.P99), us(r.client.P999), us(r.client.Max), call)
		}
		mem, gor := "–", "–"
		if r.bytesPerConn > 0 {
			mem = fmt.Sprintf("%.1f (%.1f)", r.bytesPerConn/1024, r.stackPerConn/1024)
			gor = fmt.Sprintf("%.2f", r.goroutinesConn)
		}
		fmt.Fprintf(w, "| %d | %s | %.2fs | %s | %s %s |\n", r.conns, r.scenario, r.connectTime.Seconds(), mem, gor, lat)
	}
	fmt.Fprintln(w)
	byKey := map[string]result{}
	var ns []int
	for _, r := range rs {
		if !slices.Contains(ns, r.conns) {
			ns = append(ns, r.conns)
		}
		byKey[r.scenario+strconv.Itoa(r.conns)] = r
	}
	ratio := func(a, b float64) string {
		if a == 0 || b == 0 {
			return "–"
		}
		return fmt.Sprintf("%.2f", a/b)
	}
	subject := "hub"
	if cfg.mode == "push" {
		subject = "real"
	}
	fmt.Fprintf(w, "| conns | idle memory %[1]s / upgrade | p50 %[1]s / bare | p99 %[1]s / bare | p99.9 %[1]s / bare |", subject)
	if cfg.mode == "push" {
		fmt.Fprint(w, " p50 real / centrifugo | p99 real / centrifugo | p50 bare / centrifugo | p99 bare / centrifugo |")
	}
	fmt.Fprintln(w)
	if cfg.mode == "push" {
		fmt.Fprintln(w, "|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
	} else {
		fmt.Fprintln(w, "|---:|---:|---:|---:|---:|")
	}
	for _, n := range ns {
		key := strconv.Itoa(n)
		h, u, b, c := byKey[subject+key], byKey["upgrade"+key], byKey["bare"+key], byKey["centrifugo"+key]
		fmt.Fprintf(w, "| %d | %s | %s | %s | %s |", n, ratio(h.bytesPerConn, u.bytesPerConn),
			ratio(float64(h.client.P50), float64(b.client.P50)), ratio(float64(h.client.P99), float64(b.client.P99)),
			ratio(float64(h.client.P999), float64(b.client.P999)))
		if cfg.mode == "push" {
			fmt.Fprintf(w, " %s | %s | %s | %s |", ratio(float64(h.client.P50), float64(c.client.P50)),
				ratio(float64(h.client.P99), float64(c.client.P99)), ratio(float64(b.client.P50), float64(c.client.P50)),
				ratio(float64(b.client.P99), float64(c.client.P99)))
		}
		fmt.Fprintln(w)
	}
}
