package netguard

import (
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestPublic: only globally reachable unicast addresses are public, in
// every form an address can be written in.
func TestPublic(t *testing.T) {
	for _, s := range []string{"8.8.8.8", "1.1.1.1", "142.250.74.10", "100.63.255.255", "100.128.0.0", "172.32.0.1",
		"2001:4860:4860::8888", "2a00:1450:400e::200e", "::ffff:8.8.8.8", "64:ff9b::808:808", "2002:808:808::1"} {
		if !Public(netip.MustParseAddr(s)) {
			t.Errorf("%s: not public", s)
		}
	}
	for _, s := range []string{
		"127.0.0.1", "127.255.0.1", "10.0.0.7", "172.16.0.1", "172.31.255.255", "192.168.1.1", "169.254.169.254",
		"100.64.0.1", "100.127.255.254", "0.0.0.0", "0.1.2.3", "255.255.255.255", "224.0.0.1", "239.1.1.1", "240.0.0.1",
		"192.0.0.8", "192.0.2.1", "198.18.0.1", "198.51.100.1", "203.0.113.1",
		"::1", "::", "fe80::1", "fe80::1%eth0", "fd00::7", "fc00::1", "ff02::1", "ff05::2", "fec0::1", "2001:db8::1",
		"2001::1", "100::1", "::127.0.0.1", "::ffff:127.0.0.1", "::ffff:10.0.0.7", "::ffff:169.254.169.254",
		"::ffff:100.64.0.1", "64:ff9b::a00:7", "64:ff9b::7f00:1", "64:ff9b:1::1", "2002:a00:7::1", "2002:7f00:1::1",
	} {
		if Public(netip.MustParseAddr(s)) {
			t.Errorf("%s: public", s)
		}
	}
	if Public(netip.Addr{}) {
		t.Error("the zero address is public")
	}
}

// TestCheckHost: names of the installation's own network are refused as
// literals, localhost names and numeric names; other names pass.
func TestCheckHost(t *testing.T) {
	for _, h := range []string{"fcm.googleapis.com", "push.example.test", "8.8.8.8", "2001:4860:4860::8888", "x1.example"} {
		if err := CheckHost(h); err != nil {
			t.Errorf("%s: %v", h, err)
		}
	}
	for _, h := range []string{"127.0.0.1", "::1", "fe80::1%eth0", "::ffff:10.0.0.7", "localhost", "LocalHost", "localhost.",
		"a.localhost", "2130706433", "0x7f000001", "127.1", "0177.0.0.1", "10.1", ""} {
		if err := CheckHost(h); !errors.Is(err, ErrNotPublic) {
			t.Errorf("%s: %v", h, err)
		}
	}
}

// TestClientRefusesLoopback: the client does not connect to a server on
// 127.0.0.1 (the check is of the address dialled, whatever the URL said),
// and its error says why.
func TestClientRefusesLoopback(t *testing.T) {
	var conns atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()
	for _, u := range []string{srv.URL, "http://localhost:" + srv.URL[len("http://127.0.0.1:"):]} {
		resp, err := Client(5 * time.Second).Get(u)
		if err == nil {
			resp.Body.Close()
		}
		if !errors.Is(err, ErrNotPublic) {
			t.Errorf("%s: %v", u, err)
		}
	}
	if n := conns.Load(); n != 0 {
		t.Errorf("the server saw %d connections", n)
	}
}

// TestClientFollowsNoRedirect: a redirect's response is returned, not
// followed.
func TestClientFollowsNoRedirect(t *testing.T) {
	c := Client(time.Second)
	req := httptest.NewRequest(http.MethodGet, "https://elsewhere.example/", nil)
	if err := c.CheckRedirect(req, []*http.Request{req}); !errors.Is(err, http.ErrUseLastResponse) {
		t.Fatalf("redirect: %v", err)
	}
}

// TestLoopbackClient: a development server's client reaches a server on
// this machine's loopback, and still no other address that is not public.
func TestLoopbackClient(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) }))
	defer srv.Close()
	resp, err := LoopbackClient(5 * time.Second).Get(srv.URL)
	if err != nil {
		t.Fatalf("loopback: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("loopback answered %d", resp.StatusCode)
	}
	for _, addr := range []string{"127.0.0.1:443", "[::1]:8443", "8.8.8.8:443"} {
		if err := controlLoopback("tcp", addr, nil); err != nil {
			t.Errorf("%s refused: %v", addr, err)
		}
	}
	for _, addr := range []string{"10.0.0.7:443", "169.254.169.254:80", "[fd00::7]:443", "[fe80::1]:443", "0.0.0.0:443"} {
		if err := controlLoopback("tcp", addr, nil); !errors.Is(err, ErrNotPublic) {
			t.Errorf("%s: %v", addr, err)
		}
	}
	for _, h := range []string{"127.0.0.1", "::1", "localhost", "LOCALHOST.", "push.localhost", "::ffff:127.0.0.1"} {
		if !Loopback(h) {
			t.Errorf("%s is not loopback", h)
		}
	}
	for _, h := range []string{"10.0.0.7", "push.example.test", "0.0.0.0", "localhost.example"} {
		if Loopback(h) {
			t.Errorf("%s is loopback", h)
		}
	}
}

// TestClientThroughAProxy: with a proxy in the environment (on a private
// address, as the operator's usually is) the client connects to the
// proxy, and asks it only for destinations that resolve to public
// addresses: a private one is refused before the proxy hears of it.
func TestClientThroughAProxy(t *testing.T) {
	var mu sync.Mutex
	var asked []string
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		asked = append(asked, r.Method+" "+r.Host)
		mu.Unlock()
		w.WriteHeader(http.StatusForbidden)
	}))
	defer proxy.Close()
	proxyURL, err := url.Parse(proxy.URL)
	if err != nil {
		t.Fatal(err)
	}
	old := fromEnvironment
	fromEnvironment = func(*http.Request) (*url.URL, error) { return proxyURL, nil }
	defer func() { fromEnvironment = old }()
	// Transports of their own, so that no other test's connections or
	// proxies count.
	client := func(loopback bool) *http.Client {
		allowed := Public
		if loopback {
			allowed = publicOrLoopback
		}
		return &http.Client{Transport: guarded(allowed), Timeout: 5 * time.Second, CheckRedirect: noRedirect}
	}

	for _, u := range []string{"https://10.0.0.7/push", "https://169.254.169.254/latest/meta-data/", "https://[fd00::7]/push"} {
		resp, err := client(false).Get(u)
		if err == nil {
			resp.Body.Close()
		}
		if !errors.Is(err, ErrNotPublic) {
			t.Errorf("%s through the proxy: %v", u, err)
		}
	}
	mu.Lock()
	if len(asked) != 0 {
		t.Errorf("the proxy was asked for %v", asked)
	}
	mu.Unlock()

	// A public destination goes to the proxy (which refuses it here).
	resp, err := client(false).Get("https://8.8.8.8/push")
	if err == nil {
		resp.Body.Close()
	}
	mu.Lock()
	defer mu.Unlock()
	if len(asked) != 1 || asked[0] != "CONNECT 8.8.8.8:443" {
		t.Fatalf("the proxy was asked for %v (%v), want CONNECT 8.8.8.8:443", asked, err)
	}
}

// TestInternalClient: the client for a service an organisation may run in
// its own network (its identity provider, on loopback or a private
// address) reaches those, follows redirects (each connection is checked),
// and never connects to a cloud instance's metadata service or a
// link-local, unspecified or multicast address, which no such service
// uses and which hold the instance's credentials.
func TestInternalClient(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/oud" {
			http.Redirect(w, r, "/nieuw", http.StatusFound)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	resp, err := InternalClient(5 * time.Second).Get(srv.URL + "/oud")
	if err != nil {
		t.Fatalf("loopback: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("loopback after a redirect answered %d", resp.StatusCode)
	}
	for _, addr := range []string{"127.0.0.1:8080", "[::1]:443", "10.0.0.7:443", "192.168.1.5:8443", "[fd00::7]:443", "8.8.8.8:443"} {
		if err := controlInternal("tcp", addr, nil); err != nil {
			t.Errorf("%s refused: %v", addr, err)
		}
	}
	for _, addr := range []string{"169.254.169.254:80", "[fe80::1]:443", "[fd00:ec2::254]:80", "100.100.100.200:80", "0.0.0.0:443", "[::]:443", "224.0.0.1:443", "[::ffff:169.254.169.254]:80",
		// The metadata address in its NAT64 and 6to4 forms, which a
		// gateway on the path turns back into the IPv4 address.
		"[64:ff9b::a9fe:a9fe]:80", "[2002:a9fe:a9fe::1]:80", "[64:ff9b::6464:64c8]:80"} {
		if err := controlInternal("tcp", addr, nil); !errors.Is(err, ErrNotPublic) {
			t.Errorf("%s: %v", addr, err)
		}
	}
	for _, h := range []string{"169.254.169.254", "fe80::1", "fd00:ec2::254", "100.100.100.200", "0.0.0.0", "64:ff9b::a9fe:a9fe", "2002:a9fe:a9fe::"} {
		if err := CheckInternalHost(h); !errors.Is(err, ErrNotPublic) {
			t.Errorf("host %s: %v", h, err)
		}
	}
	for _, h := range []string{"127.0.0.1", "localhost", "10.0.0.7", "idp.example.nl", "metadata.google.internal"} {
		if err := CheckInternalHost(h); err != nil {
			t.Errorf("host %s refused: %v", h, err)
		}
	}
}

// TestNetworks: an operator's list of the non-public networks where an
// organisation's service may be (DIALOOG_SSO_NETWORKS). Unset, the
// client connects where InternalClient does; set, to public addresses and
// to the listed networks only, on every connection (names, redirects, a
// proxy's destination), and an IP literal outside them is refused
// beforehand. Link-local and metadata addresses stay refused inside a
// listed network, and a list that names only them does not parse.
func TestNetworks(t *testing.T) {
	parse := func(s string) Networks {
		t.Helper()
		n, err := ParseNetworks(s)
		if err != nil {
			t.Fatalf("%q: %v", s, err)
		}
		return n
	}
	for _, bad := range []string{"10.0.0.0", "10.20.1.0/16", "10.0.0.0/33", "public,10.0.0.0/8", "10.0.0.0/8,", ",", "publiek",
		"idp.example.nl/32", "169.254.0.0/16", "169.254.169.254/32", "fe80::/64", "100.100.100.200/32", "[fd00:ec2::254]/128",
		"fd00:ec2::254/128", "224.0.0.0/8", "0.0.0.0/32", "::/128", "ff02::/16", "::ffff:10.0.0.0/104", "fe80::/10%eth0"} {
		if _, err := ParseNetworks(bad); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
	if n := parse(""); n.Limited() {
		t.Fatal("an empty list limits")
	}
	if n := parse(" public "); !n.Limited() {
		t.Fatal("public does not limit")
	}

	cases := []struct {
		list           string
		allowed, refus []string
	}{
		{"", []string{"127.0.0.1:80", "[::1]:443", "10.0.0.7:443", "192.168.1.5:443", "[fd00::7]:443", "100.64.0.1:443", "8.8.8.8:443"},
			[]string{"169.254.169.254:80", "[fe80::1]:443", "[fd00:ec2::254]:80", "100.100.100.200:80", "0.0.0.0:443"}},
		{"public", []string{"8.8.8.8:443", "[2001:4860:4860::8888]:443"},
			[]string{"127.0.0.1:80", "[::1]:443", "10.0.0.7:443", "192.168.1.5:443", "[fd00::7]:443", "100.64.0.1:443", "169.254.169.254:80", "[::ffff:127.0.0.1]:80"}},
		{"10.20.0.0/16, 127.0.0.1/32,fd12::/16", []string{"8.8.8.8:443", "10.20.3.4:443", "127.0.0.1:8080", "[::ffff:127.0.0.1]:80", "[fd12::1]:443"},
			[]string{"10.21.0.1:443", "127.0.0.2:80", "[::1]:443", "192.168.1.5:443", "100.64.0.1:443", "[fd00::7]:443", "169.254.169.254:80"}},
		{"0.0.0.0/0,fd00::/8", []string{"10.0.0.7:443", "127.0.0.1:80", "100.64.0.1:443", "[fd00::7]:443"},
			[]string{"169.254.169.254:80", "100.100.100.200:80", "[fd00:ec2::254]:80", "0.0.0.0:443", "224.0.0.1:443", "255.255.255.255:443", "[::1]:443"}},
	}
	for _, tc := range cases {
		n := parse(tc.list)
		for _, addr := range tc.allowed {
			if err := control(addr, n.allows); err != nil {
				t.Errorf("%q: %s refused: %v", tc.list, addr, err)
			}
		}
		for _, addr := range tc.refus {
			if err := control(addr, n.allows); !errors.Is(err, ErrNotPublic) {
				t.Errorf("%q: %s: %v", tc.list, addr, err)
			}
			host, _, _ := net.SplitHostPort(addr)
			if err := n.CheckHost(host); !errors.Is(err, ErrNotPublic) {
				t.Errorf("%q: host %s: %v", tc.list, host, err)
			}
		}
	}
	// Names pass the check of the address as typed: where they lead is
	// checked when the client connects.
	for _, h := range []string{"localhost", "idp.example.nl", "10.20.3.4", "8.8.8.8"} {
		if err := parse("10.20.0.0/16").CheckHost(h); err != nil {
			t.Errorf("host %s refused: %v", h, err)
		}
	}

	// The client: a server on loopback is reached when 127.0.0.1/32 is
	// listed, also after a redirect, but not when only 10/8 is, whether
	// the URL names the address or localhost; a redirect out of the list
	// is not followed.
	var conns atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/oud":
			http.Redirect(w, r, "/nieuw", http.StatusFound)
		case "/weg":
			http.Redirect(w, r, "http://10.0.0.7/", http.StatusFound)
		default:
			w.WriteHeader(http.StatusNoContent)
		}
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()
	resp, err := parse("127.0.0.1/32").Client(5 * time.Second).Get(srv.URL + "/oud")
	if err != nil {
		t.Fatalf("listed loopback: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("listed loopback after a redirect answered %d", resp.StatusCode)
	}
	if resp, err := parse("127.0.0.1/32").Client(5 * time.Second).Get(srv.URL + "/weg"); !errors.Is(err, ErrNotPublic) {
		if err == nil {
			resp.Body.Close()
		}
		t.Errorf("redirect out of the list: %v", err)
	}
	before := conns.Load()
	for _, list := range []string{"10.0.0.0/8", "public"} {
		for _, u := range []string{srv.URL, "http://localhost:" + srv.URL[len("http://127.0.0.1:"):]} {
			resp, err := parse(list).Client(5 * time.Second).Get(u)
			if err == nil {
				resp.Body.Close()
			}
			if !errors.Is(err, ErrNotPublic) {
				t.Errorf("%q: %s: %v", list, u, err)
			}
		}
	}
	if n := conns.Load() - before; n != 0 {
		t.Errorf("the server saw %d connections from clients it is not listed for", n)
	}

	// Through a proxy, a destination outside the list is refused before
	// the proxy hears of it.
	var asked atomic.Int32
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		asked.Add(1)
		w.WriteHeader(http.StatusForbidden)
	}))
	defer proxy.Close()
	proxyURL, err := url.Parse(proxy.URL)
	if err != nil {
		t.Fatal(err)
	}
	old := fromEnvironment
	fromEnvironment = func(*http.Request) (*url.URL, error) { return proxyURL, nil }
	defer func() { fromEnvironment = old }()
	for _, u := range []string{"https://10.0.0.7/", "https://192.168.1.5/", "https://169.254.169.254/latest/meta-data/"} {
		resp, err := parse("192.168.0.0/16").Client(5 * time.Second).Get(u)
		if err == nil {
			resp.Body.Close()
		}
		if u != "https://192.168.1.5/" && !errors.Is(err, ErrNotPublic) {
			t.Errorf("%s through the proxy: %v", u, err)
		}
	}
	if n := asked.Load(); n != 1 {
		t.Errorf("the proxy was asked %d times, want once (for the listed 192.168.1.5)", n)
	}
}
