package mockserver

import (
	"context"
	"crypto/subtle"
	"net"
	"net/http"

	"github.com/innosandbox/innosandbox/mockserver/state"
)

// authenticatePublic checks AppKey and Authorization on the public API.
// Every failure gets the same body; X-Sandbox-Auth-Reason says why.
func (s *Server) authenticatePublic(ctx context.Context, r *http.Request) (any, *reply, error) {
	refuse := s.authRefusal
	if st, _ := ctx.Value(authKey{}).(*authState); st != nil && st.signable && signedHeadersSent(r.Header) {
		return s.authenticateSigned(ctx, r, refuse)
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

// authRefusal is the answer to every authentication failure of the public
// API: the same body whatever the cause; X-Sandbox-Auth-Reason says why.
func (s *Server) authRefusal(reason string) *reply {
	s.metrics.authFailure(reason)
	rep := reply{status: s.cfg.AuthFailureStatus, body: Envelope{Code: CodeAuthFailure, Message: MsgAuthFailure}}.
		with(HeaderAuthReason, reason)
	return &rep
}

// authenticateControl opens the control API to loopback callers, or to
// callers with the admin token when one is configured, or to everyone with
// ControlOpen.
func (s *Server) authenticateControl(_ context.Context, r *http.Request) (any, *reply, error) {
	if tok := s.cfg.AdminToken; tok != "" {
		got := r.Header.Get(HeaderAdminToken)
		if subtle.ConstantTimeCompare([]byte(got), []byte(tok)) != 1 {
			s.metrics.authFailure("control-admin-token")
			rep := fail(http.StatusForbidden, MsgAdminToken)
			return nil, &rep, nil
		}
		return nil, nil, nil
	}
	if s.cfg.ControlOpen || isLoopback(r.RemoteAddr) {
		return nil, nil, nil
	}
	s.metrics.authFailure("control-not-loopback")
	rep := fail(http.StatusForbidden, MsgControlClosed)
	return nil, &rep, nil
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
