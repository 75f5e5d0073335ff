package mockserver

import (
	"context"
	"net/http"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/innosandbox/innosandbox/internal/signing"
	"github.com/innosandbox/innosandbox/mockserver/state"
)

// SignatureScheme is the security scheme of the contract that marks an
// operation as taking signed requests (internal/signing): the newer known
// OTP client's second way to authenticate. Only the OTP send lists it; it
// is the only operation the evidence shows signed.
const SignatureScheme = "Signature"

// signedMembers are the body members a signature covers, besides appKey,
// nonce and timestamp (the API notes §11.1): templateId is not signed.
var signedMembers = []string{"code", "language", "to", "type", "sender"}

// allowsSigning reports whether an operation lists SignatureScheme in one
// of its security requirements.
func allowsSigning(op *openapi3.Operation) bool {
	if op == nil || op.Security == nil {
		return false
	}
	for _, req := range *op.Security {
		if _, ok := req[SignatureScheme]; ok {
			return true
		}
	}
	return false
}

// signedHeadersSent reports whether a request carries any header of the
// signed scheme: then it is judged as a signed request, and a missing one
// is named.
func signedHeadersSent(h http.Header) bool {
	for _, name := range signing.Headers {
		if len(h.Values(name)) > 0 {
			return true
		}
	}
	return false
}

// signedPending is what authentication establishes about a signed request
// before its body is read: verifySigned finishes the job.
type signedPending struct {
	caller state.SignedCaller
	// withToken: AppKey and Authorization were sent too and passed; the
	// signature must pass as well (docs/DECISIONS.md row 69).
	withToken bool
}

// authenticateSigned checks the headers of a signed request and finds its
// app and secret; the signature itself needs the body (verifySigned). A
// request that also carries AppKey or Authorization must pass both schemes.
func (s *Server) authenticateSigned(ctx context.Context, r *http.Request, refuse func(string) *reply) (any, *reply, error) {
	for _, name := range signing.Headers {
		if p := headerProblem(r.Header, name); p != "" {
			return nil, refuse(p), nil
		}
	}
	h := state.SignedHeaders{AppKey: r.Header.Get(signing.HeaderAppKey), Nonce: r.Header.Get(signing.HeaderNonce),
		Timestamp: r.Header.Get(signing.HeaderTimestamp), Signature: r.Header.Get(signing.HeaderSignature)}
	withToken := len(r.Header.Values("AppKey")) > 0 || len(r.Header.Values("Authorization")) > 0
	if withToken {
		for _, name := range []string{"AppKey", "Authorization"} {
			if p := headerProblem(r.Header, name); p != "" {
				return nil, refuse(p), nil
			}
		}
		if r.Header.Get("AppKey") != h.AppKey {
			return nil, refuse(string(state.ReasonAppKeyMismatch)), nil
		}
		_, reason, err := s.sandbox.Authenticate(ctx, h.AppKey, r.Header.Get("Authorization"))
		if err != nil {
			return nil, nil, err
		}
		if reason != "" {
			return nil, refuse(string(reason)), nil
		}
	}
	caller, reason, err := s.sandbox.ResolveSigned(ctx, h)
	if err != nil {
		return nil, nil, err
	}
	if reason != "" {
		return nil, refuse(string(reason)), nil
	}
	return &signedPending{caller: caller, withToken: withToken}, nil, nil
}

// verifySigned is the public API's afterBody: for a signed request, it
// checks the signature over the body's signed members and spends the
// nonce; the call's principal is then the signing app.
func (s *Server) verifySigned(c *call) *reply {
	p, ok := c.auth.value.(*signedPending)
	if !ok {
		return nil
	}
	members := make(map[string]string, len(signedMembers))
	for _, k := range signedMembers {
		members[k] = c.str(k)
	}
	reason, detail, err := s.sandbox.VerifySigned(c.ctx, p.caller, members)
	if err != nil {
		rep := fromError(err)
		return &rep
	}
	if reason != "" {
		if detail != "" {
			s.log.Debug("signed request refused", "op", c.operation, "reason", reason, "detail", detail)
		}
		return s.authRefusal(string(reason))
	}
	c.auth.value = p.caller.Principal
	return nil
}
