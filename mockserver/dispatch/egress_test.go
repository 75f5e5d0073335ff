package dispatch_test

import (
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/innosandbox/innosandbox/mockserver/dispatch"
)

// Every spelling of an address an attacker might use, decided as a literal:
// nothing here connects anywhere.
func TestEverySpellingOfAnAddressIsClassified(t *testing.T) {
	tests := []struct {
		host string
		want dispatch.Class
	}{
		{"127.0.0.1", dispatch.ClassLoopback},
		{"2130706433", dispatch.ClassLoopback},
		{"0x7f000001", dispatch.ClassLoopback},
		{"0177.0.0.1", dispatch.ClassLoopback},
		{"127.1", dispatch.ClassLoopback},
		{"127.0.1", dispatch.ClassLoopback},
		{"0x7f.0.0.1", dispatch.ClassLoopback},
		{"127.0.0.1.", dispatch.ClassLoopback},
		{"127.255.255.254", dispatch.ClassLoopback},
		{"[::1]", dispatch.ClassLoopback},
		{"[::ffff:127.0.0.1]", dispatch.ClassLoopback},
		{"[::ffff:7f00:1]", dispatch.ClassLoopback},
		{"[::127.0.0.1]", dispatch.ClassLoopback},
		{"[64:ff9b::127.0.0.1]", dispatch.ClassLoopback},
		{"[2002:7f00:1::]", dispatch.ClassLoopback},
		{"0.0.0.0", dispatch.ClassUnspecified},
		{"0", dispatch.ClassUnspecified},
		{"0.1.2.3", dispatch.ClassUnspecified},
		{"[::]", dispatch.ClassUnspecified},
		{"169.254.169.254", dispatch.ClassLinkLocal},
		{"2852039166", dispatch.ClassLinkLocal}, // 169.254.169.254
		{"[::ffff:169.254.169.254]", dispatch.ClassLinkLocal},
		{"[fe80::1%25eth0]", dispatch.ClassLinkLocal},
		{"10.0.0.1", dispatch.ClassPrivate},
		{"172.16.0.1", dispatch.ClassPrivate},
		{"192.168.1.1", dispatch.ClassPrivate},
		{"100.100.100.200", dispatch.ClassPrivate}, // a cloud's metadata, in the shared space
		{"[fd00:ec2::254]", dispatch.ClassPrivate},
		{"[::ffff:10.0.0.1]", dispatch.ClassPrivate},
		{"224.0.0.1", dispatch.ClassMulticast},
		{"[ff02::1]", dispatch.ClassMulticast},
		{"255.255.255.255", dispatch.ClassBroadcast},
		{"93.184.215.14", dispatch.ClassPublic},
		{"[2606:4700::1111]", dispatch.ClassPublic},
	}
	for _, tc := range tests {
		t.Run(tc.host, func(t *testing.T) {
			a, ok := dispatch.ParseHost(tc.host)
			require.True(t, ok, "a literal")
			assert.Equal(t, tc.want, dispatch.Classify(a))
		})
	}
	for _, name := range []string{"localhost", "hooks.example.com", "1.2.3.4.5", "0x", "1e3", "-1", "1_000", "0b1", "127.256.0.1", "4294967296"} {
		_, ok := dispatch.ParseHost(name)
		assert.False(t, ok, "%s is a name, resolved at dial time", name)
	}
}

func TestThePolicyDecides(t *testing.T) {
	ap := func(s string) netip.AddrPort { return netip.MustParseAddrPort(s) }
	self := dispatch.Policy{Loopback: true, Private: true, Self: []netip.AddrPort{ap("127.0.0.1:8080")}}
	wideSelf := dispatch.Policy{Loopback: true, Private: true, Self: []netip.AddrPort{ap("0.0.0.0:8080")},
		Local: []netip.Addr{netip.MustParseAddr("10.1.2.3")}}
	allowNet, err := dispatch.ParsePolicy("172.18.0.0/16, 127.0.0.1")
	require.NoError(t, err)
	tests := []struct {
		name   string
		policy dispatch.Policy
		addr   string
		want   dispatch.Class // "" allowed
	}{
		{"public by default", dispatch.Policy{}, "93.184.215.14:443", ""},
		{"loopback refused by default", dispatch.Policy{}, "127.0.0.1:9000", dispatch.ClassLoopback},
		{"mapped loopback refused too", dispatch.Policy{}, "[::ffff:127.0.0.1]:9000", dispatch.ClassLoopback},
		{"private refused by default", dispatch.Policy{}, "10.0.0.1:80", dispatch.ClassPrivate},
		{"loopback allowed", dispatch.Policy{Loopback: true}, "127.0.0.1:9000", ""},
		{"private allowed", dispatch.Policy{Private: true}, "192.168.0.9:80", ""},
		{"a CIDR allows its range", allowNet, "172.18.0.5:80", ""},
		{"and not the rest of private", allowNet, "172.19.0.5:80", dispatch.ClassPrivate},
		{"a single address", allowNet, "[::ffff:127.0.0.1]:80", ""},
		{"metadata never", dispatch.Policy{Loopback: true, Private: true}, "169.254.169.254:80", dispatch.ClassLinkLocal},
		{"unspecified never", dispatch.Policy{Loopback: true, Private: true}, "0.0.0.0:8080", dispatch.ClassUnspecified},
		{"multicast never", dispatch.Policy{Loopback: true, Private: true}, "224.0.0.1:80", dispatch.ClassMulticast},
		{"broadcast never", dispatch.Policy{Loopback: true, Private: true}, "255.255.255.255:80", dispatch.ClassBroadcast},
		{"the sandbox itself never", self, "127.0.0.1:8080", dispatch.ClassSelf},
		{"nor on another loopback address", self, "127.0.0.2:8080", dispatch.ClassSelf},
		{"nor spelt as IPv6", self, "[::ffff:127.0.0.1]:8080", dispatch.ClassSelf},
		{"another port is someone else", self, "127.0.0.1:8081", ""},
		{"a wide listener is every local address", wideSelf, "10.1.2.3:8080", dispatch.ClassSelf},
		{"and loopback", wideSelf, "[::1]:8080", dispatch.ClassSelf},
		{"but not another host", wideSelf, "10.1.2.4:8080", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.policy.Check(ap(tc.addr))
			if tc.want == "" {
				assert.NoError(t, err)
				return
			}
			var re *dispatch.RefusedError
			require.ErrorAs(t, err, &re)
			assert.Equal(t, tc.want, re.Class)
			assert.Contains(t, err.Error(), "destination not allowed: ")
			assert.Contains(t, err.Error(), "("+string(tc.want)+")")
		})
	}
}

func TestParsePolicy(t *testing.T) {
	p, err := dispatch.ParsePolicy("loopback,private")
	require.NoError(t, err)
	assert.True(t, p.Loopback)
	assert.True(t, p.Private)
	p, err = dispatch.ParsePolicy("")
	require.NoError(t, err)
	assert.Equal(t, dispatch.Policy{}, p, "nothing beyond public addresses")
	for in, want := range map[string]string{
		"169.254.0.0/16": "link-local addresses are never allowed",
		"0.0.0.0/0":      "unspecified addresses are never allowed",
		"lan":            `"lan": not a CIDR`,
		"10.0.0.0/33":    "not a CIDR",
	} {
		_, err := dispatch.ParsePolicy(in)
		assert.ErrorContains(t, err, want, in)
	}
}

func TestTheDefaultPolicyFollowsTheListeners(t *testing.T) {
	ap := netip.MustParseAddrPort
	assert.Equal(t, dispatch.Policy{Loopback: true, Private: true},
		dispatch.DefaultPolicy([]netip.AddrPort{ap("127.0.0.1:8080"), ap("[::1]:9090")}), "a developer's machine")
	assert.Equal(t, dispatch.Policy{}, dispatch.DefaultPolicy([]netip.AddrPort{ap("127.0.0.1:8080"), ap("0.0.0.0:9090")}),
		"one wide listener: public addresses only")
}

func TestCheckURLRefusesLiteralsOnly(t *testing.T) {
	g := dispatch.NewGuard(dispatch.Policy{})
	assert.ErrorContains(t, g.CheckURL("http://2130706433/hook"), "destination not allowed: 127.0.0.1 (loopback)")
	assert.ErrorContains(t, g.CheckURL("http://[::ffff:127.0.0.1]:9/"), "(loopback)")
	assert.ErrorContains(t, g.CheckURL("https://169.254.169.254/latest"), "(link-local)")
	assert.NoError(t, g.CheckURL("http://localhost:9/"), "a name is checked when a push connects")
	assert.NoError(t, g.CheckURL("https://93.184.215.14/"))
}

// The dialer: names and spellings that reach a receiver on loopback, under
// the policy of a sandbox listening beyond loopback (public only). The
// receiver is on loopback, so that nothing could leave the machine anyway.
func TestTheDialerChecksTheAddressItConnectsTo(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { hits.Add(1) }))
	defer srv.Close()
	_, port, err := net.SplitHostPort(srv.Listener.Addr().String())
	require.NoError(t, err)
	wide := dispatch.NewGuard(dispatch.Policy{})
	local := dispatch.NewGuard(dispatch.DefaultPolicy(nil))
	self := dispatch.NewGuard(dispatch.DefaultPolicy(nil))
	self.AddSelf(srv.Listener.Addr())
	tests := []struct {
		name  string
		guard *dispatch.Guard
		url   string
		want  string // "" delivered
	}{
		{"a name resolving to loopback, on a wide sandbox", wide, "http://localhost:" + port + "/hook", "destination not allowed: 127.0.0.1 (loopback)"},
		{"a decimal spelling, on a wide sandbox", wide, "http://2130706433:" + port + "/hook", "destination not allowed: 127.0.0.1 (loopback)"},
		{"a mapped IPv6 spelling, on a wide sandbox", wide, "http://[::ffff:127.0.0.1]:" + port + "/hook", "destination not allowed: 127.0.0.1 (loopback)"},
		{"the sandbox's own listener, by name", self, "http://localhost:" + port + "/_sandbox/reset", "destination not allowed: 127.0.0.1 (self)"},
		{"a name resolving to loopback, on a local sandbox", local, "http://localhost:" + port + "/hook", ""},
		{"a decimal spelling dials the address it spells", local, "http://2130706433:" + port + "/hook", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			hits.Store(0)
			q := newQueue(delivery(tc.url, 1))
			run(t, q, dispatch.Options{Guard: tc.guard})
			r := q.next(t)
			if tc.want == "" {
				assert.Equal(t, dispatch.OutcomeDelivered, r.Outcome)
				assert.EqualValues(t, 1, hits.Load())
				return
			}
			assert.Equal(t, dispatch.OutcomeFailed, r.Outcome, "not retried: a dead letter at once")
			assert.Equal(t, dispatch.OutcomeFailed, r.Attempt.Outcome)
			assert.True(t, strings.HasPrefix(r.Attempt.Error, tc.want), r.Attempt.Error)
			assert.Equal(t, r.Attempt.Error, r.Reason)
			assert.Zero(t, r.Attempt.ResponseStatus)
			assert.Zero(t, hits.Load(), "the receiver heard nothing")
		})
	}
}
