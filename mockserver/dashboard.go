package mockserver

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"strings"

	"github.com/innosandbox/innosandbox/mockserver/state"
	"github.com/innosandbox/innosandbox/mockserver/ui"
	"github.com/innosandbox/innosandbox/spec"
)

// dashboard is the ui package's view of the server: reads through the
// domain service, actions through the control API in-process, so that the
// dashboard follows every rule of the control API and shows its refusals.
type dashboard struct{ s *Server }

var _ ui.Backend = dashboard{}

func (d dashboard) Sandbox() *state.Sandbox { return d.s.sandbox }

func (d dashboard) Spec() *spec.Spec { return d.s.cfg.Spec }

// Control runs a control API request in-process. The caller is already
// admitted by the dashboard (loopback, open, or signed in with the admin
// token), so the request carries the admin token when there is one.
func (d dashboard) Control(ctx context.Context, method, path, account string, body []byte) (int, []byte) {
	r, err := http.NewRequestWithContext(ctx, method, path, bytes.NewReader(body))
	if err != nil {
		return http.StatusBadRequest, nil
	}
	r.RemoteAddr = "" // in-process: no network caller
	if len(body) > 0 {
		r.Header.Set("Content-Type", "application/json")
	}
	if account != "" {
		r.Header.Set(HeaderAccount, account)
	}
	if tok := d.s.cfg.AdminToken; tok != "" {
		r.Header.Set(HeaderAdminToken, tok)
	}
	rec := &recorder{header: http.Header{}, status: http.StatusOK}
	d.s.control.ServeHTTP(rec, r)
	return rec.status, rec.body.Bytes()
}

// Admits asks the control API's own authenticator about r as it came (its
// address, any proxy's forwarding headers), without the sandbox's
// credential headers: the dashboard opens without a token exactly where
// the control API does. With an admin token nobody is admitted this way;
// the sign-in decides.
func (d dashboard) Admits(r *http.Request) bool {
	if d.s.cfg.AdminToken != "" {
		return false
	}
	bare := r.Clone(r.Context())
	for k := range bare.Header {
		if strings.HasPrefix(k, "X-Sandbox-") {
			delete(bare.Header, k)
		}
	}
	_, refusal, err := d.s.authenticateControl(r.Context(), bare)
	return err == nil && refusal == nil
}

func (d dashboard) CheckAdminToken(token string) bool {
	tok := d.s.cfg.AdminToken
	return tok != "" && subtle.ConstantTimeCompare([]byte(token), []byte(tok)) == 1
}

func (d dashboard) SessionKey() []byte {
	if d.s.cfg.AdminToken == "" {
		return nil
	}
	k := sha256.Sum256([]byte("innosandbox dashboard session\x00" + d.s.cfg.AdminToken))
	return k[:]
}

// WatchDeliveries is the delivery log's watch (deliverywait.go).
func (d dashboard) WatchDeliveries() ui.Watch { return d.s.WatchDeliveries() }

// recorder keeps an in-process answer.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
	wrote  bool
}

func (r *recorder) Header() http.Header { return r.header }

func (r *recorder) WriteHeader(status int) {
	if !r.wrote {
		r.status, r.wrote = status, true
	}
}

func (r *recorder) Write(b []byte) (int, error) {
	r.wrote = true
	return r.body.Write(b)
}
