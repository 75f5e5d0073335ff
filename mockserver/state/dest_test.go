package state_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/innosandbox/innosandbox/mockserver/state"
)

func TestDestination(t *testing.T) {
	for in, want := range map[string]string{
		"https://Hooks.Example.com/a?b=c":  "https://hooks.example.com:443",
		"http://hooks.example.com/x":       "http://hooks.example.com:80",
		"http://127.0.0.1:9000/hook":       "http://127.0.0.1:9000",
		"https://[::1]:8443/":              "https://[::1]:8443",
		"HTTPS://hooks.example.com:443/zz": "https://hooks.example.com:443",
		"::nope":                           "::nope",
	} {
		assert.Equal(t, want, state.Destination(in), in)
	}
}
