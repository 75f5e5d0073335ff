package main

import (
	"bytes"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/innosandbox/innosandbox/certify"
	"github.com/innosandbox/innosandbox/fixtures"
	"github.com/innosandbox/innosandbox/mockserver/dispatch"
)

// The banner gives the demo app's fixed secret, so that a client in its
// signed mode works against the sandbox without a lookup.
func TestBannerPrintsTheDemoAppSecret(t *testing.T) {
	seed, err := fixtures.LoadSeed("")
	require.NoError(t, err)
	var b bytes.Buffer
	addr := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 8080}
	printBanner(&b, addr, addr, seed, &serveOptions{store: "memory"})
	assert.Contains(t, b.String(), "  AppSecret:     DEMOSECRET0INNOSANDBOX0PUBLIC000 ")
	assert.Contains(t, b.String(), "  AppKey:        XFbZY1rtTKo3UD4n1\n")
}

// The sandbox gives a receiver as long as certify expects it to answer
// within: 3 s, the only figure anyone states for InnoPaaS.
func TestWebhookTimeoutAgreesWithCertify(t *testing.T) {
	assert.Equal(t, 3*time.Second, dispatch.DefaultTimeout)
	assert.Equal(t, certify.DefaultTimeout, dispatch.DefaultTimeout)
	f := newServeCmd().Flags()
	assert.Equal(t, "3s", f.Lookup("webhook-timeout").DefValue)
}

func TestServeRefusesAnUnknownSMSDataForm(t *testing.T) {
	_, _, err := buildServer(t.Context(), &serveOptions{smsData: "xml"}, nil, nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), `--sms-data "xml": use object or string`)
}

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
