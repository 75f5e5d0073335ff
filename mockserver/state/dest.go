package state

import (
	"net"
	"net/url"
	"strings"
)

// Destination names the receiver a webhook URL points at, for per-receiver
// concurrency limits: scheme, lower-case host and port (the default port
// made explicit), e.g. "https://hooks.example.com:443". A URL that does not
// parse is its own destination.
func Destination(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return raw
	}
	port := u.Port()
	if port == "" {
		switch strings.ToLower(u.Scheme) {
		case "https":
			port = "443"
		default:
			port = "80"
		}
	}
	return strings.ToLower(u.Scheme) + "://" + net.JoinHostPort(strings.ToLower(u.Hostname()), port)
}
