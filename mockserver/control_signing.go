package mockserver

import (
	"net/http"

	"github.com/innosandbox/innosandbox/mockserver/state"
)

// issuedSecretView is an app secret as issued: shown this once.
type issuedSecretView struct {
	AppKey   string `json:"appKey"`
	Secret   string `json:"secret"`
	IssuedAt string `json:"issuedAt"`
}

// secretInfoView says whether an app has a secret, never what it is.
type secretInfoView struct {
	AppKey   string `json:"appKey"`
	IssuedAt string `json:"issuedAt"`
}

// issueAppSecret answers POST /_sandbox/apps/{appKey}/secret: a new secret
// for signed requests, replacing the app's earlier one at once.
func (s *Server) issueAppSecret(c *call) reply {
	key := c.params["appKey"]
	plain, sec, err := s.sandbox.IssueAppSecret(c.ctx, key)
	if err != nil {
		return fromError(err)
	}
	// The secret goes to the caller once; it is never logged.
	return ok(http.StatusCreated, issuedSecretView{AppKey: key, Secret: plain, IssuedAt: ts(sec.IssuedAt)})
}

// getAppSecret answers GET /_sandbox/apps/{appKey}/secret: when the app's
// secret was issued (404 when it has none).
func (s *Server) getAppSecret(c *call) reply {
	key := c.params["appKey"]
	sec, has, err := s.sandbox.AppSecretInfo(c.ctx, key)
	if err != nil {
		return fromError(err)
	}
	if !has {
		return fromError(state.NotFound("app secret", key))
	}
	return ok(http.StatusOK, secretInfoView{AppKey: key, IssuedAt: ts(sec.IssuedAt)})
}
