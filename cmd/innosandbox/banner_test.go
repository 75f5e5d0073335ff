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
// dashboard is, on the address the sandbox listens on.
func TestTheBannerPrintsTheDashboardsURL(t *testing.T) {
	seed, err := fixtures.LoadSeed("")
	require.NoError(t, err)
	var out bytes.Buffer
	printBanner(&out, &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 8080}, seed, &serveOptions{store: "memory"})
	assert.Contains(t, out.String(), "Dashboard: http://127.0.0.1:8080/_sandbox/ui/\n")
}
