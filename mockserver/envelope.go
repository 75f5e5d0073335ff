package mockserver

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/innosandbox/innosandbox/mockserver/state"
)

// Response texts. Tests compare against these constants.
const (
	// MsgSuccess is the message of every successful InnoPaaS answer.
	MsgSuccess = "Success"
	// MsgAuthFailure is the one body every authentication failure gets,
	// whatever its cause, so the sandbox reveals no more than InnoPaaS would.
	MsgAuthFailure = "authentication failure: AppKey and Authorization do not identify an app and its current token"
	// CodeAuthFailure is the envelope code of an authentication failure.
	CodeAuthFailure = "102"
	// MsgInternal is what a sandbox bug answers; details go to the log.
	MsgInternal = "internal error in the sandbox; the log has the details"
	// MsgUnavailable is answered while the store cannot be reached.
	MsgUnavailable = "the sandbox store is unavailable; try again"
	// MsgNotReady is the answer of /readyz when the store fails. The
	// store's error goes to the log only: it can name hosts, users and
	// paths that whoever can reach /readyz need not learn.
	MsgNotReady = "not ready: the store does not answer; the sandbox's log has the cause"
	// MsgControlClosed refuses control calls from other hosts when no admin token is set.
	MsgControlClosed = "the control API is open to loopback callers only; start the sandbox with --admin-token (and send it as X-Sandbox-Admin-Token) or --control-open"
	// MsgAccountToken refuses control calls whose account token names no
	// account (never issued, rotated since, or its account deleted).
	MsgAccountToken = "the X-Sandbox-Account-Token header holds no account's current control token (rotated, or the account deleted?)"
	// MsgAdminToken refuses control calls without the right admin token.
	MsgAdminToken = "the control API needs the sandbox's admin token in the X-Sandbox-Admin-Token header"
)

// Sandbox-only response headers.
const (
	HeaderAuthReason = "X-Sandbox-Auth-Reason"
	HeaderWarning    = "X-Sandbox-Warning"
	HeaderAccount    = "X-Sandbox-Account"
	HeaderAdminToken = "X-Sandbox-Admin-Token"
)

// Envelope is the common InnoPaaS answer.
type Envelope struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Data    any    `json:"data"`
}

// reply is what a handler answers; the API layer writes it (and, in strict
// mode, validates it against the spec first).
type reply struct {
	status int
	header http.Header
	body   any // marshalled as JSON; nil with 204 means no body
}

func ok(status int, body any) reply { return reply{status: status, body: body} }

// fail answers with the envelope; code is the HTTP status unless given.
func fail(status int, message string) reply {
	return reply{status: status, body: Envelope{Code: strconv.Itoa(status), Message: message}}
}

func (r reply) with(key, value string) reply {
	if r.header == nil {
		r.header = http.Header{}
	}
	r.header.Add(key, value)
	return r
}

// fromError maps a domain error onto an answer: the one place this happens.
func fromError(err error) reply {
	var inv *state.InvalidError
	var be *state.BusinessError
	switch {
	case errors.As(err, &be):
		// Documented business refusals travel like InnoPaaS's own: HTTP 200
		// with the documented code (see docs/DECISIONS.md).
		return reply{status: http.StatusOK, body: Envelope{Code: be.Code, Message: be.Message}}
	case errors.As(err, &inv):
		return fail(http.StatusBadRequest, "request body: "+inv.Error())
	case errors.Is(err, state.ErrNotFound):
		return fail(http.StatusNotFound, err.Error())
	case errors.Is(err, state.ErrConflict):
		return fail(http.StatusConflict, err.Error())
	case errors.Is(err, state.ErrUnavailable):
		return fail(http.StatusServiceUnavailable, MsgUnavailable)
	default:
		return reply{status: http.StatusInternalServerError, body: Envelope{Code: "500", Message: MsgInternal}}
	}
}

// encode renders a reply's body.
func encode(r reply) ([]byte, error) {
	if r.body == nil {
		return nil, nil
	}
	b, err := json.Marshal(r.body)
	if err != nil {
		return nil, fmt.Errorf("encoding the answer: %w", err)
	}
	return b, nil
}

// writeRaw writes an already encoded reply.
func writeRaw(w http.ResponseWriter, r reply, body []byte) {
	h := w.Header()
	for k, vs := range r.header {
		h[k] = vs
	}
	if body != nil {
		h.Set("Content-Type", "application/json;charset=utf-8")
		h.Set("Content-Length", strconv.Itoa(len(body)))
	}
	w.WriteHeader(r.status)
	if body != nil {
		_, _ = w.Write(body)
	}
}
