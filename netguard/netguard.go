// Package netguard keeps outbound requests to addresses that a user chooses
// (a browser's push endpoint) out of the installation's own network: a
// person must not make the server post to its database, its cloud metadata
// service or another internal machine (server-side request forgery).
//
// The check is made twice. CheckHost refuses, when the address is given, a
// host that names no public address (an IP literal of a private, loopback,
// link-local or other special range, or a localhost name). Client's dialer
// checks the address it actually connects to, after name resolution, which
// is the only place that catches a host name resolving to such an address
// and DNS rebinding. Through a proxy of the environment (HTTPS_PROXY) the
// dialer sees the proxy, so the destination's name is resolved and checked
// before the proxy is asked for it.
package netguard

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"syscall"
	"time"
)

// ErrNotPublic is a host or address that is not a public unicast address
// of the internet.
var ErrNotPublic = errors.New("not a public internet address")

// nonPublic are the ranges, beyond those netip.Addr's methods name, that
// are not globally reachable unicast addresses (IANA's special-purpose
// address registries).
var nonPublic = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),       // "this network"
	netip.MustParsePrefix("100.64.0.0/10"),   // shared address space (CGNAT)
	netip.MustParsePrefix("192.0.0.0/24"),    // IETF protocol assignments
	netip.MustParsePrefix("192.0.2.0/24"),    // documentation
	netip.MustParsePrefix("198.18.0.0/15"),   // benchmarking
	netip.MustParsePrefix("198.51.100.0/24"), // documentation
	netip.MustParsePrefix("203.0.113.0/24"),  // documentation
	netip.MustParsePrefix("240.0.0.0/4"),     // reserved, and the broadcast address
	netip.MustParsePrefix("::/96"),           // IPv4-compatible (deprecated), with :: and ::1
	netip.MustParsePrefix("64:ff9b:1::/48"),  // local-use NAT64
	netip.MustParsePrefix("100::/64"),        // discard
	netip.MustParsePrefix("2001::/32"),       // Teredo
	netip.MustParsePrefix("2001:db8::/32"),   // documentation
	netip.MustParsePrefix("fec0::/10"),       // site-local (deprecated)
}

// Embedded IPv4 in IPv6: the IPv4 address decides.
var (
	nat64     = netip.MustParsePrefix("64:ff9b::/96")
	sixToFour = netip.MustParsePrefix("2002::/16")
)

// Public reports whether a is a public unicast address: not loopback,
// private (RFC 1918, RFC 4193 unique local), link-local (169.254/16,
// fe80::/10), unspecified, multicast, broadcast, CGNAT (100.64/10) or
// another special-purpose range, in IPv4, IPv6 or an IPv4-mapped,
// NAT64 or 6to4 form of one.
func Public(a netip.Addr) bool {
	a = embedded(a)
	if !a.IsValid() || !a.IsGlobalUnicast() || a.IsPrivate() {
		return false
	}
	for _, p := range nonPublic {
		if p.Contains(a) {
			return false
		}
	}
	return true
}

// embedded is a without its zone, and the IPv4 address that an
// IPv4-mapped, NAT64 or 6to4 address carries (which a gateway on the path
// turns it into): the address that decides where a connects.
func embedded(a netip.Addr) netip.Addr {
	a = a.WithZone("").Unmap()
	if a.Is6() {
		b := a.As16()
		switch {
		case nat64.Contains(a):
			return netip.AddrFrom4([4]byte(b[12:16]))
		case sixToFour.Contains(a):
			return netip.AddrFrom4([4]byte(b[2:6]))
		}
	}
	return a
}

// CheckHost refuses a URL's host name (url.URL.Hostname) that names no
// public address: an IP literal that is not Public, a localhost name
// ("localhost", "*.localhost", RFC 6761), or a name that resolvers would
// read as an IPv4 address ("127.1", "2130706433", "0x7f000001": its last
// label is a number, which no top-level domain is). Any other name passes:
// where it leads is checked when Client connects.
func CheckHost(host string) error {
	name := strings.TrimSuffix(strings.ToLower(host), ".")
	if a, err := netip.ParseAddr(name); err == nil {
		if !Public(a) {
			return fmt.Errorf("%w: %s", ErrNotPublic, host)
		}
		return nil
	}
	last := name[strings.LastIndexByte(name, '.')+1:]
	if name == "" || name == "localhost" || strings.HasSuffix(name, ".localhost") || numeric(last) {
		return fmt.Errorf("%w: %s", ErrNotPublic, host)
	}
	return nil
}

// numeric reports whether a host name's label is a decimal number or a
// 0x hexadecimal one.
func numeric(label string) bool {
	if rest, ok := strings.CutPrefix(label, "0x"); ok {
		label = rest
		return strings.Trim(label, "0123456789abcdef") == ""
	}
	return label != "" && strings.Trim(label, "0123456789") == ""
}

// Control is a net.Dialer Control function that refuses to connect to an
// address that is not Public. It sees the address after name resolution,
// so a host name resolving to the installation's own network is refused.
func Control(_, address string, _ syscall.RawConn) error {
	return control(address, Public)
}

// controlLoopback is Control that also lets loopback addresses through.
func controlLoopback(_, address string, _ syscall.RawConn) error {
	return control(address, publicOrLoopback)
}

// controlInternal is Control for InternalClient.
func controlInternal(_, address string, _ syscall.RawConn) error {
	return control(address, internal)
}

func publicOrLoopback(a netip.Addr) bool { return Public(a) || a.Unmap().IsLoopback() }

// control refuses address unless allowed says yes to its IP.
func control(address string, allowed func(netip.Addr) bool) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("%w: %s", ErrNotPublic, address)
	}
	if !allowed(ap.Addr()) {
		return fmt.Errorf("%w: %s", ErrNotPublic, ap.Addr())
	}
	return nil
}

// metadata are the addresses of cloud instances' metadata services beyond
// the link-local range (AWS's IPv6 one, Alibaba's): they hand out the
// instance's credentials to whoever on it asks.
var metadata = []netip.Prefix{
	netip.MustParsePrefix("fd00:ec2::254/128"),
	netip.MustParsePrefix("100.100.100.200/32"),
}

// internal reports whether a service that an organisation may run in its
// own network may be at a: any unicast address, loopback and private ones
// included, but not a link-local one (169.254/16, fe80::/10, where most
// clouds' metadata services listen) or another metadata service, nor an
// unspecified, multicast or broadcast one, also in an IPv4-mapped, NAT64
// or 6to4 form.
func internal(a netip.Addr) bool {
	a = embedded(a)
	if !a.IsValid() || a.IsUnspecified() || a.IsMulticast() || a.IsLinkLocalUnicast() || a == netip.AddrFrom4([4]byte{255, 255, 255, 255}) {
		return false
	}
	for _, p := range metadata {
		if p.Contains(a) {
			return false
		}
	}
	return true
}

// CheckInternalHost refuses a URL's host name (url.URL.Hostname) that is
// an IP literal InternalClient would not connect to. Any name passes:
// where it leads is checked when the client connects.
func CheckInternalHost(host string) error { return Networks{}.CheckHost(host) }

// Networks are the non-public networks where an operator lets the
// services of organisations be (DIALOOG_SSO_NETWORKS): on an installation
// shared by several organisations, one organisation's admin must not make
// the server fetch from any host of the operator's network. The zero
// value limits nothing: InternalClient's addresses, loopback and private
// ones included. A limited value allows public addresses and those inside
// its prefixes (none for "public"), and never one that internal refuses
// (link-local, a metadata service's ...), listed or not.
type Networks struct {
	limited  bool
	prefixes []netip.Prefix
}

// neverListed are ranges that internal refuses as a whole: a listed
// prefix inside one of them would allow nothing, and is refused.
var neverListed = append([]netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/32"),
	netip.MustParsePrefix("::/128"),
	netip.MustParsePrefix("169.254.0.0/16"),
	netip.MustParsePrefix("fe80::/10"),
	netip.MustParsePrefix("224.0.0.0/4"),
	netip.MustParsePrefix("ff00::/8"),
	netip.MustParsePrefix("255.255.255.255/32"),
}, metadata...)

// ParseNetworks reads Networks from a comma-separated list of IP prefixes
// ("10.20.0.0/16,127.0.0.1/32"), or "public" for no non-public network at
// all; empty is the zero Networks. A prefix must be written masked (no
// bits beyond its length) and must allow something: one inside a
// link-local, metadata, unspecified, multicast or broadcast range is an
// error, as are an address without a length and an IPv4-mapped prefix.
func ParseNetworks(s string) (Networks, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return Networks{}, nil
	}
	if strings.EqualFold(s, "public") {
		return Networks{limited: true}, nil
	}
	n := Networks{limited: true}
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		p, err := netip.ParsePrefix(f)
		switch {
		case f == "":
			return Networks{}, errors.New("has an empty entry")
		case strings.EqualFold(f, "public"):
			return Networks{}, errors.New("public stands alone: it allows no private network, so it goes with no prefix")
		case err != nil:
			if a, aerr := netip.ParseAddr(f); aerr == nil && a.Zone() == "" {
				return Networks{}, fmt.Errorf("%s is an address, not a prefix: write %s", f, netip.PrefixFrom(a, a.BitLen()))
			}
			return Networks{}, fmt.Errorf("%q is not an IP prefix", f)
		case p.Addr().Is4In6():
			return Networks{}, fmt.Errorf("%s is an IPv4-mapped prefix: write the IPv4 prefix", f)
		case p != p.Masked():
			return Networks{}, fmt.Errorf("%s has address bits beyond its length: write %s", f, p.Masked())
		}
		for _, q := range neverListed {
			if q.Addr().BitLen() == p.Addr().BitLen() && q.Bits() <= p.Bits() && q.Contains(p.Addr()) {
				return Networks{}, fmt.Errorf("%s is link-local, a cloud metadata service's, unspecified, multicast or broadcast: never allowed, even when listed", f)
			}
		}
		n.prefixes = append(n.prefixes, p)
	}
	return n, nil
}

// Limited reports whether n limits the non-public addresses (it is not
// the zero Networks).
func (n Networks) Limited() bool { return n.limited }

// allows reports whether a client of n may connect to a: an address
// internal allows that is, when n is limited, public or inside one of
// n's prefixes.
func (n Networks) allows(a netip.Addr) bool {
	if !internal(a) {
		return false
	}
	if !n.limited || Public(a) {
		return true
	}
	a = a.WithZone("").Unmap()
	for _, p := range n.prefixes {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// CheckHost refuses a URL's host name (url.URL.Hostname) that is an IP
// literal n's Client would not connect to. Any name passes: where it
// leads is checked when the client connects.
func (n Networks) CheckHost(host string) error {
	if a, err := netip.ParseAddr(strings.TrimSuffix(host, ".")); err == nil && !n.allows(a) {
		return fmt.Errorf("%w: %s", ErrNotPublic, host)
	}
	return nil
}

// Loopback reports whether host (url.URL.Hostname) names this machine: a
// loopback address literal or a localhost name.
func Loopback(host string) bool {
	name := strings.TrimSuffix(strings.ToLower(host), ".")
	if a, err := netip.ParseAddr(name); err == nil {
		return a.WithZone("").Unmap().IsLoopback()
	}
	return name == "localhost" || strings.HasSuffix(name, ".localhost")
}

// transport connects only to public addresses (Control). Shared, so that
// its connections are reused.
var (
	transport         = guarded(Public)
	loopbackTransport = guarded(publicOrLoopback)
	internalTransport = guarded(internal)
)

// fromEnvironment is the proxy of a request (HTTPS_PROXY, NO_PROXY), as
// for any client; tests replace it, since the environment is read once.
var fromEnvironment = http.ProxyFromEnvironment

// guarded is a transport whose connections go to public addresses only
// (and, with loopback, to this machine's). Through a proxy of the
// environment the dialer sees the proxy's address, which the operator set
// and may be private: it is dialled as it is, and the destination is
// checked before, by resolving its name (the proxy resolves it again; a
// name that changes its answer in between is for the proxy's own rules).
func guarded(allowed func(netip.Addr) bool) *http.Transport {
	control := func(_, address string, _ syscall.RawConn) error { return control(address, allowed) }
	checked := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second, Control: control}
	plain := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}
	var proxies sync.Map // the addresses of the proxies used, "host:port"
	return &http.Transport{
		Proxy: func(req *http.Request) (*url.URL, error) {
			u, err := fromEnvironment(req)
			if err != nil || u == nil {
				return u, err
			}
			if err := resolvesAllowed(req.Context(), req.URL.Hostname(), allowed); err != nil {
				return nil, err
			}
			proxies.Store(proxyAddr(u), true)
			return u, nil
		},
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			if _, ok := proxies.Load(addr); ok {
				return plain.DialContext(ctx, network, addr)
			}
			return checked.DialContext(ctx, network, addr)
		},
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          100,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
	}
}

// resolvesAllowed refuses a host whose addresses are not all allowed.
func resolvesAllowed(ctx context.Context, host string, allowed func(netip.Addr) bool) error {
	addrs, err := net.DefaultResolver.LookupNetIP(ctx, "ip", host)
	if err != nil {
		return fmt.Errorf("resolve %s: %w", host, err)
	}
	for _, a := range addrs {
		if err := control(netip.AddrPortFrom(a, 443).String(), allowed); err != nil {
			return err
		}
	}
	return nil
}

// proxyAddr is the address the transport dials for proxy u: its host and
// port, the scheme's port when it names none.
func proxyAddr(u *url.URL) string {
	port := u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443", "socks5": "1080", "socks5h": "1080"}[u.Scheme]
	}
	return net.JoinHostPort(u.Hostname(), port)
}

// Client returns a client with timeout that connects only to public
// addresses and follows no redirect: a redirect's response is returned as
// it is (a redirect could otherwise lead a request that passed CheckHost to
// any address; Control would still refuse it, but the services these
// requests go to do not redirect).
func Client(timeout time.Duration) *http.Client {
	return &http.Client{Transport: transport, Timeout: timeout, CheckRedirect: noRedirect}
}

// LoopbackClient is Client that may also connect to this machine's
// loopback addresses, and to nothing else that is not public: for a
// development server, which listens on loopback only, and a push service
// of the developer's own on the same machine.
func LoopbackClient(timeout time.Duration) *http.Client {
	return &http.Client{Transport: loopbackTransport, Timeout: timeout, CheckRedirect: noRedirect}
}

// InternalClient returns a client with timeout for a service that an
// organisation may run in its own network (its identity provider, on this
// machine or a private address): it connects anywhere but to a cloud
// instance's metadata service or a link-local, unspecified or multicast
// address (see internal), where an admin who sets the service's address
// could otherwise make the server fetch the instance's credentials. It
// follows redirects: every connection is checked.
func InternalClient(timeout time.Duration) *http.Client {
	return &http.Client{Transport: internalTransport, Timeout: timeout}
}

// Client is InternalClient limited to n: it connects, on every
// connection (after name resolution, after a redirect, and to a proxy's
// destination), to public addresses and those inside n's prefixes only.
// The zero Networks gives InternalClient. A limited client has a
// transport of its own: keep it, so that its connections are reused.
func (n Networks) Client(timeout time.Duration) *http.Client {
	if !n.limited {
		return InternalClient(timeout)
	}
	return &http.Client{Transport: guarded(n.allows), Timeout: timeout}
}

func noRedirect(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
