package mockserver

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/innosandbox/innosandbox/mockserver/state"
)

// MinAdminTokenLen is the shortest admin token accepted: a shorter one
// could be guessed by a caller trying tokens over the network.
const MinAdminTokenLen = 16

// HeaderAccountToken carries an account's own control token.
const HeaderAccountToken = "X-Sandbox-Account-Token"

// PushUserAgent is the User-Agent of every webhook push. A configuration
// sets only the UserName and Authorization headers of a push, so a request
// carrying it may be the sandbox's own pusher, sent at the control API by a
// callback URL; it is never taken for the operator (a second wall behind
// the egress guard).
const PushUserAgent = "innosandbox"

// forwardedHeaders mark a request relayed by a proxy: its RemoteAddr is the
// proxy's, not the caller's, so loopback proves nothing about who asked.
var forwardedHeaders = []string{"Forwarded", "X-Forwarded-For", "X-Real-Ip"}

// controlCaller is who a control call comes from: the operator (account
// "") or the holder of one account's control token.
type controlCaller struct {
	account string
}

// trustedLoopback reports whether a request may be taken for the operator
// at the sandbox's own console: from loopback, not relayed by a proxy (a
// reverse proxy or sidecar on the same host connects from loopback on
// behalf of anyone) and not pushed by the sandbox itself.
func trustedLoopback(r *http.Request) bool {
	for _, h := range forwardedHeaders {
		if _, ok := r.Header[http.CanonicalHeaderKey(h)]; ok {
			return false
		}
	}
	if r.Header.Get("User-Agent") == PushUserAgent {
		return false
	}
	return isLoopback(r.RemoteAddr)
}

// authenticateControl decides who a control call comes from. An account
// token, when sent, narrows the call to its account whatever else is set.
// Otherwise the admin token is required when configured; without one, the
// control API is open to trusted loopback callers (or to everyone with
// ControlOpen).
func (s *Server) authenticateControl(ctx context.Context, r *http.Request) (any, *reply, error) {
	if vs, ok := r.Header[http.CanonicalHeaderKey(HeaderAccountToken)]; ok {
		name, err := s.sandbox.AccountOfToken(ctx, strings.Join(vs, ","))
		if errors.Is(err, state.ErrNotFound) {
			s.metrics.authFailure("control-account-token")
			rep := fail(http.StatusForbidden, MsgAccountToken)
			return nil, &rep, nil
		}
		if err != nil {
			return nil, nil, err
		}
		return controlCaller{account: name}, nil, nil
	}
	if tok := s.cfg.AdminToken; tok != "" {
		got := r.Header.Get(HeaderAdminToken)
		if subtle.ConstantTimeCompare([]byte(got), []byte(tok)) != 1 {
			s.metrics.authFailure("control-admin-token")
			rep := fail(http.StatusForbidden, MsgAdminToken)
			return nil, &rep, nil
		}
		return controlCaller{}, nil, nil
	}
	if s.cfg.ControlOpen || trustedLoopback(r) {
		return controlCaller{}, nil, nil
	}
	s.metrics.authFailure("control-not-loopback")
	rep := fail(http.StatusForbidden, MsgControlClosed)
	return nil, &rep, nil
}

// scope is the account a control call is confined to; "" for the operator.
func (c *call) scope() string {
	if c.auth == nil {
		return ""
	}
	cc, _ := c.auth.value.(controlCaller)
	return cc.account
}

// accountName is the account a call names: X-Sandbox-Account, else the
// account of its token ("" for the operator: the default account).
func (c *call) accountName() string {
	if name := c.r.Header.Get(HeaderAccount); name != "" {
		return name
	}
	return c.scope()
}

// operatorOnly are the operations that span accounts: for an account
// token they do not exist.
var operatorOnly = map[string]bool{"reset": true, "createAccount": true}

// walled wraps every control handler: a call confined to an account may
// name only that account's resources. Anything else answers exactly as a
// resource that does not exist would (404, the store's own message), so a
// caller learns nothing about other accounts.
func (s *Server) walled(op string, h handlerFunc) handlerFunc {
	return func(c *call) reply {
		if mine := c.scope(); mine != "" {
			if r := s.wall(c, op, mine); r != nil {
				return *r
			}
		}
		return h(c)
	}
}

func (s *Server) wall(c *call, op, mine string) *reply {
	notFound := func(err error) *reply {
		r := fromError(err)
		return &r
	}
	if operatorOnly[op] {
		r := fail(http.StatusNotFound, fmt.Sprintf("no operation at %s %s", c.r.Method, c.r.URL.Path))
		return &r
	}
	if name := c.r.Header.Get(HeaderAccount); name != "" && name != mine {
		return notFound(state.NotFound("account", name))
	}
	if name, ok := c.params["accountName"]; ok && name != mine {
		return notFound(state.NotFound("account", name))
	}
	if key, ok := c.params["appKey"]; ok {
		app, err := s.store.GetApp(c.ctx, key)
		if err != nil {
			return notFound(err)
		}
		if app.Account != mine {
			return notFound(state.NotFound("app", key))
		}
	}
	if id, ok := c.params["eventId"]; ok {
		e, _, err := s.store.GetEvent(c.ctx, id)
		if err != nil {
			return notFound(err)
		}
		if e.Account != mine {
			return notFound(state.NotFound("event", id))
		}
	}
	return nil
}
