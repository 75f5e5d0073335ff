package mockserver

import (
	"context"
	"net"
	"net/http"

	"github.com/innosandbox/innosandbox/mockserver/state"
)

// authenticatePublic checks AppKey and Authorization on the public API.
// Every failure gets the same body; X-Sandbox-Auth-Reason says why.
func (s *Server) authenticatePublic(ctx context.Context, r *http.Request) (any, *reply, error) {
	refuse := func(reason string) *reply {
		s.metrics.authFailure(reason)
		rep := reply{status: s.cfg.AuthFailureStatus, body: Envelope{Code: CodeAuthFailure, Message: MsgAuthFailure}}.
			with(HeaderAuthReason, reason)
		return &rep
	}
	for _, h := range []string{"AppKey", "Authorization"} {
		if p := headerProblem(r.Header, h); p != "" {
			return nil, refuse(p), nil
		}
	}
	p, reason, err := s.sandbox.Authenticate(ctx, r.Header.Get("AppKey"), r.Header.Get("Authorization"))
	if err != nil {
		return nil, nil, err
	}
	if reason != "" {
		return nil, refuse(string(reason)), nil
	}
	return p, nil, nil
}

// isLoopback reports whether a RemoteAddr is a loopback address. An empty
// address (an in-process test request) counts as loopback.
func isLoopback(remote string) bool {
	if remote == "" {
		return true
	}
	host, _, err := net.SplitHostPort(remote)
	if err != nil {
		host = remote
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// principal returns the authenticated caller of a public API call.
func (c *call) principal() state.Principal {
	p, _ := c.auth.value.(state.Principal)
	return p
}
