package main

import (
	"bytes"
	"net"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/innosandbox/innosandbox/fixtures"
)

// The banner gives the demo app's fixed secret, so that a client in its
// signed mode works against the sandbox without a lookup.
func TestBannerPrintsTheDemoAppSecret(t *testing.T) {
	seed, err := fixtures.LoadSeed("")
	require.NoError(t, err)
	var b bytes.Buffer
	printBanner(&b, &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 8080}, seed, &serveOptions{store: "memory"})
	assert.Contains(t, b.String(), "  AppSecret:     DEMOSECRET0INNOSANDBOX0PUBLIC000 ")
	assert.Contains(t, b.String(), "  AppKey:        XFbZY1rtTKo3UD4n1\n")
}
