package mockserver

import (
	"context"
	"net"
	"net/http"

	"github.com/innosandbox/innosandbox/mockserver/state"
)

// authenticatePublic checks AppKey and Authorization (or, on an operation
// that takes them, the signed headers) on the public API, then the AppKey's
// request rate. Every authentication failure gets the same body;
// X-Sandbox-Auth-Reason says why.
func (s *Server) authenticatePublic(ctx context.Context, r *http.Request) (any, *reply, error) {
	v, rep, err := s.authenticateCaller(ctx, r)
	if err != nil || rep != nil {
		return nil, rep, err
	}
	if s.rate != nil {
		var key string
		switch p := v.(type) {
		case state.Principal:
			key = p.App.Key
		case *signedPending:
			key = p.caller.Principal.App.Key
		}
		if ok, wait := s.rate.allow(key); !ok {
			return nil, s.rate.refusal(wait), nil
		}
	}
	return v, nil, nil
}

func (s *Server) authenticateCaller(ctx context.Context, r *http.Request) (any, *reply, error) {
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
