package main

import (
	"net"
	"net/netip"
	"testing"

	"github.com/spf13/pflag"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/innosandbox/innosandbox/mockserver/dispatch"
)

func TestWebhookAllowFollowsTheListenersByDefault(t *testing.T) {
	tcp := func(s string) net.Addr { return net.TCPAddrFromAddrPort(netip.MustParseAddrPort(s)) }
	tests := []struct {
		name      string
		allow     string // "" keeps the default
		listeners []net.Addr
		want      dispatch.Policy
		err       string
	}{
		{"on loopback: the developer's receivers", "", []net.Addr{tcp("127.0.0.1:8080")}, dispatch.Policy{Loopback: true, Private: true}, ""},
		{"one listener beyond loopback: public only", "", []net.Addr{tcp("127.0.0.1:8080"), tcp("0.0.0.0:9090")}, dispatch.Policy{}, ""},
		{"named explicitly on a wide listener", "loopback", []net.Addr{tcp("0.0.0.0:8080")}, dispatch.Policy{Loopback: true}, ""},
		{"none on loopback", "none", []net.Addr{tcp("127.0.0.1:8080")}, dispatch.Policy{}, ""},
		{"a compose network", "172.18.0.0/16", []net.Addr{tcp("0.0.0.0:8080")},
			dispatch.Policy{Allow: []netip.Prefix{netip.MustParsePrefix("172.18.0.0/16")}}, ""},
		{"metadata refused", "169.254.169.254", nil, dispatch.Policy{}, "--webhook-allow: \"169.254.169.254\": link-local addresses are never allowed"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o := &serveOptions{}
			bindServeFlags(pflag.NewFlagSet("serve", pflag.ContinueOnError), o)
			if tc.allow != "" {
				o.webhookAllow = tc.allow
			}
			o.listeners = tc.listeners
			p, err := o.egressPolicy()
			if tc.err != "" {
				assert.EqualError(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, p)
		})
	}
}
