package main

import (
	"bytes"
	"net"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/innosandbox/innosandbox/fixtures"
)

// TestTheBannerPrintsTheDashboardsURL: `make run` tells where the
// dashboard is: on the control API's listener, which may be its own.
func TestTheBannerPrintsTheDashboardsURL(t *testing.T) {
	seed, err := fixtures.LoadSeed("")
	require.NoError(t, err)
	public := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 8080}
	for _, tc := range []struct {
		name    string
		control *net.TCPAddr
		want    string
	}{
		{"one listener", public, "Dashboard: http://127.0.0.1:8080/_sandbox/ui/\n"},
		{"a control listener of its own", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 8081}, "Dashboard: http://127.0.0.1:8081/_sandbox/ui/\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			printBanner(&out, public, tc.control, seed, &serveOptions{store: "memory"})
			assert.Contains(t, out.String(), tc.want)
		})
	}
}
