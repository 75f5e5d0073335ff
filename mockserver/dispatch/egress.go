package dispatch

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Class is what an address is, as far as the egress guard cares.
type Class string

// Address classes. Public unicast addresses are always allowed; loopback and
// private ones only where the policy says so; the others never.
const (
	ClassPublic      Class = "public"
	ClassLoopback    Class = "loopback"    // 127.0.0.0/8, ::1
	ClassPrivate     Class = "private"     // RFC 1918, 100.64.0.0/10 (shared), fc00::/7, fec0::/10
	ClassLinkLocal   Class = "link-local"  // 169.254.0.0/16, fe80::/10: cloud metadata lives here
	ClassUnspecified Class = "unspecified" // 0.0.0.0/8, ::: a connection to 0.0.0.0 reaches the host itself
	ClassMulticast   Class = "multicast"   // 224.0.0.0/4, ff00::/8
	ClassBroadcast   Class = "broadcast"   // 255.255.255.255
	ClassSelf        Class = "self"        // one of the sandbox's own listeners
)

var (
	sharedSpace = netip.MustParsePrefix("100.64.0.0/10") // carrier-grade NAT; cloud services live here too
	siteLocal   = netip.MustParsePrefix("fec0::/10")     // deprecated, still routed inside some sites
	thisNetwork = netip.MustParsePrefix("0.0.0.0/8")
	ipv4Compat  = netip.MustParsePrefix("::/96")        // deprecated IPv4-compatible
	nat64       = netip.MustParsePrefix("64:ff9b::/96") // well-known NAT64 prefix
	sixToFour   = netip.MustParsePrefix("2002::/16")    // 6to4: an IPv4 address in bits 16 to 48
	broadcast   = netip.AddrFrom4([4]byte{255, 255, 255, 255})
)

// Classify tells what an address is. An IPv6 address that carries an IPv4
// one (mapped, compatible, NAT64, 6to4) is what that IPv4 address is, so
// that no spelling of 127.0.0.1 passes for public.
func Classify(a netip.Addr) Class {
	a = a.WithZone("")
	if v4, ok := embeddedIPv4(a); ok {
		a = v4
	}
	switch {
	case a.IsUnspecified() || (a.Is4() && thisNetwork.Contains(a)):
		return ClassUnspecified
	case a.IsLoopback():
		return ClassLoopback
	case a.IsLinkLocalUnicast():
		return ClassLinkLocal
	case a.IsMulticast():
		return ClassMulticast
	case a == broadcast:
		return ClassBroadcast
	case a.IsPrivate() || sharedSpace.Contains(a) || siteLocal.Contains(a):
		return ClassPrivate
	}
	return ClassPublic
}

// embeddedIPv4 returns the IPv4 address an IPv6 one stands for, if any.
func embeddedIPv4(a netip.Addr) (netip.Addr, bool) {
	if a.Is4In6() {
		return a.Unmap(), true
	}
	if !a.Is6() || a.IsUnspecified() || a.IsLoopback() {
		return a, false
	}
	b := a.As16()
	switch {
	case ipv4Compat.Contains(a), nat64.Contains(a):
		return netip.AddrFrom4([4]byte(b[12:16])), true
	case sixToFour.Contains(a):
		return netip.AddrFrom4([4]byte(b[2:6])), true
	}
	return a, false
}

// Policy says which addresses pushes may reach beyond public unicast ones.
// Its zero value allows public addresses only.
type Policy struct {
	Loopback bool           // 127.0.0.0/8 and ::1
	Private  bool           // private ranges (see ClassPrivate)
	Allow    []netip.Prefix // further ranges of loopback or private addresses
	// Self are the sandbox's own listeners: never reached, whatever else is
	// allowed. A listener on an unspecified address (0.0.0.0, ::) stands
	// for its port on every loopback address and every address in Local.
	Self []netip.AddrPort
	// Local are the host's own addresses (for listeners on 0.0.0.0).
	Local []netip.Addr
}

// ParsePolicy reads a --webhook-allow value: a comma-separated list of
// CIDRs and the words loopback and private; "" or "none" allows public
// addresses only.
func ParsePolicy(s string) (Policy, error) {
	var p Policy
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		switch strings.ToLower(part) {
		case "", "none":
			continue
		case "loopback":
			p.Loopback = true
			continue
		case "private":
			p.Private = true
			continue
		}
		prefix, err := netip.ParsePrefix(part)
		if err != nil {
			if a, aerr := netip.ParseAddr(part); aerr == nil {
				prefix = netip.PrefixFrom(a, a.BitLen())
			} else {
				return Policy{}, fmt.Errorf("%q: not a CIDR (such as 172.18.0.0/16), loopback or private", part)
			}
		}
		if c := Classify(prefix.Addr()); c != ClassLoopback && c != ClassPrivate && c != ClassPublic {
			return Policy{}, fmt.Errorf("%q: %s addresses are never allowed", part, c)
		}
		p.Allow = append(p.Allow, prefix.Masked())
	}
	return p, nil
}

// DefaultPolicy is the policy when the operator names none: loopback and
// private addresses when every listener is on loopback (a developer's
// machine, where the receivers live), public ones only otherwise.
func DefaultPolicy(listeners []netip.AddrPort) Policy {
	for _, l := range listeners {
		if !l.Addr().Unmap().IsLoopback() {
			return Policy{}
		}
	}
	return Policy{Loopback: true, Private: true}
}

// RefusedError is a destination the policy does not allow.
type RefusedError struct {
	Addr  netip.Addr
	Class Class
}

// Error says which address and why, in the words the delivery log shows.
func (e *RefusedError) Error() string {
	return fmt.Sprintf("destination not allowed: %s (%s)", e.Addr, e.Class)
}

// Check decides whether a push may connect to ap: nil, or a *RefusedError
// naming the class that refuses it.
func (p *Policy) Check(ap netip.AddrPort) error {
	a := ap.Addr().WithZone("").Unmap()
	if p.isSelf(a, ap.Port()) {
		return &RefusedError{Addr: a, Class: ClassSelf}
	}
	c := Classify(a)
	switch c {
	case ClassPublic:
		return nil
	case ClassLoopback, ClassPrivate:
		if (c == ClassLoopback && p.Loopback) || (c == ClassPrivate && p.Private) {
			return nil
		}
		u := a.Unmap()
		if v4, ok := embeddedIPv4(a); ok {
			u = v4
		}
		for _, pr := range p.Allow {
			if pr.Contains(u) || pr.Contains(a) {
				return nil
			}
		}
	}
	return &RefusedError{Addr: a, Class: c}
}

// isSelf tells whether a:port reaches one of the sandbox's listeners. Any
// loopback address counts for a listener on loopback (127.0.0.2 reaches a
// listener on 0.0.0.0 as well as 127.0.0.1 does): better refuse a receiver
// on another loopback address with the same port than let one through.
func (p *Policy) isSelf(a netip.Addr, port uint16) bool {
	if len(p.Self) == 0 {
		return false
	}
	u := a.Unmap()
	if v4, ok := embeddedIPv4(a); ok {
		u = v4
	}
	for _, s := range p.Self {
		if s.Port() != port {
			continue
		}
		l := s.Addr().Unmap()
		switch {
		case l == u, l.IsLoopback() && u.IsLoopback():
			return true
		case l.IsUnspecified() && (u.IsLoopback() || u.IsUnspecified() || slices.Contains(p.Local, u)):
			return true
		}
	}
	return false
}

// ParseHost reads a URL's host as an address literal, in every spelling a
// resolver accepts: IPv6 in brackets or not, IPv4 dotted quads, and the
// inet_aton forms (2130706433, 0x7f000001, 0177.0.0.1, 127.1). ok is false
// for a host name.
func ParseHost(host string) (netip.Addr, bool) {
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if i := strings.IndexByte(host, '%'); i >= 0 {
		host = host[:i] // a zone says which interface, not which address
	}
	if a, err := netip.ParseAddr(host); err == nil {
		return a, true
	}
	host = strings.TrimSuffix(host, ".")
	parts := strings.Split(host, ".")
	if len(parts) > 4 {
		return netip.Addr{}, false
	}
	nums := make([]uint64, len(parts))
	for i, s := range parts {
		n, ok := aton(s)
		if !ok {
			return netip.Addr{}, false
		}
		nums[i] = n
	}
	// a.b.c.d, a.b.c (c: 16 bits), a.b (b: 24 bits), a (32 bits).
	var v uint64
	last := len(nums) - 1
	for i, n := range nums[:last] {
		if n > 255 {
			return netip.Addr{}, false
		}
		v |= n << (24 - 8*i)
	}
	if nums[last] >= 1<<(32-8*last) {
		return netip.Addr{}, false
	}
	v |= nums[last]
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}), true
}

// aton reads one part of an inet_aton address: 0x.. hexadecimal, 0..
// octal, else decimal; nothing else (no sign, no underscore).
func aton(s string) (uint64, bool) {
	base := 10
	switch {
	case len(s) > 2 && (s[:2] == "0x" || s[:2] == "0X"):
		s, base = s[2:], 16
	case len(s) > 1 && s[0] == '0':
		s, base = s[1:], 8
	}
	if s == "" || strings.ContainsAny(s, "+-_") {
		return 0, false
	}
	n, err := strconv.ParseUint(s, base, 32)
	return n, err == nil
}

// Guard applies a Policy to pushes: to URLs when they are configured (a
// literal address) and to every connection a push makes (after DNS). Its
// list of the sandbox's own listeners can grow while it is in use.
type Guard struct {
	mu sync.RWMutex
	p  Policy
}

// NewGuard returns a guard applying p.
func NewGuard(p Policy) *Guard { return &Guard{p: p} }

// AddSelf registers listeners of the sandbox: never reached by a push. A
// listener on an unspecified address also registers the host's own
// addresses with its port.
func (g *Guard) AddSelf(addrs ...net.Addr) {
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, a := range addrs {
		ap, err := netip.ParseAddrPort(a.String())
		if err != nil {
			continue
		}
		ap = netip.AddrPortFrom(ap.Addr().Unmap().WithZone(""), ap.Port())
		g.p.Self = append(g.p.Self, ap)
		if ap.Addr().IsUnspecified() && g.p.Local == nil {
			g.p.Local = localAddrs()
		}
	}
}

// localAddrs lists the host's interface addresses (no traffic involved).
func localAddrs() []netip.Addr {
	out := []netip.Addr{}
	ifs, err := net.InterfaceAddrs()
	if err != nil {
		return out
	}
	for _, a := range ifs {
		if p, err := netip.ParsePrefix(a.String()); err == nil {
			out = append(out, p.Addr().Unmap().WithZone(""))
		}
	}
	return out
}

// Policy returns a copy of the policy in force.
func (g *Guard) Policy() Policy {
	g.mu.RLock()
	defer g.mu.RUnlock()
	p := g.p
	p.Self = slices.Clone(p.Self)
	return p
}

// Check decides one address and port (see Policy.Check).
func (g *Guard) Check(ap netip.AddrPort) error {
	g.mu.RLock()
	defer g.mu.RUnlock()
	return g.p.Check(ap)
}

// CheckURL refuses a URL whose host is an address literal the policy does
// not allow, when it is configured. A host name passes: what it resolves to
// is checked when a push connects.
func (g *Guard) CheckURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return nil // not a URL: the caller's own checks say so
	}
	a, ok := ParseHost(u.Hostname())
	if !ok {
		return nil
	}
	return g.Check(netip.AddrPortFrom(a, defaultPort(u)))
}

func defaultPort(u *url.URL) uint16 {
	if p, err := strconv.ParseUint(u.Port(), 10, 16); err == nil {
		return uint16(p)
	}
	if strings.EqualFold(u.Scheme, "https") {
		return 443
	}
	return 80
}

// DialContext connects like a net.Dialer with timeout, but only to allowed
// addresses: a host spelt as an address literal (in any spelling) is
// checked before anything else and dialled as that address; a host name is
// resolved by the dialer and each address it tries is checked just before
// connecting (net.Dialer.Control), so DNS rebinding gains nothing.
func (g *Guard) DialContext(timeout time.Duration) func(ctx context.Context, network, addr string) (net.Conn, error) {
	d := &net.Dialer{Timeout: timeout, KeepAlive: 30 * time.Second, Control: g.control}
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		host, port, err := net.SplitHostPort(addr)
		if err != nil {
			return nil, err
		}
		if a, ok := ParseHost(host); ok {
			addr = net.JoinHostPort(a.String(), port)
		}
		return d.DialContext(ctx, network, addr)
	}
}

// control is the net.Dialer hook: address is the resolved IP and port.
func (g *Guard) control(_, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("destination not allowed: unreadable address %q", address)
	}
	return g.Check(ap)
}

// refused finds a guard's refusal in a dial error.
func refused(err error) (*RefusedError, bool) {
	var re *RefusedError
	ok := errors.As(err, &re)
	return re, ok
}
