// Package listen is the developer's local webhook receiver behind
// `innosandbox listen`. It answers every push on one path, prints what came
// (headers with secrets masked, event type and id, the body), checks the
// payload against the contract and the credential headers against what the
// developer expects, and can forward each push to the developer's own app.
//
// It never fails on what it receives: a body that is too large, not JSON or
// not what the contract describes is printed as such and answered.
package listen

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/innosandbox/innosandbox/internal/clock"
	"github.com/innosandbox/innosandbox/internal/secret"
	"github.com/innosandbox/innosandbox/spec"
)

// Output formats.
const (
	FormatPretty = "pretty" // for people: a block per push
	FormatJSON   = "json"   // one Record per line, for jq
)

// Check results.
const (
	Pass = "PASS"
	Fail = "FAIL"
	Skip = "SKIP" // the check could not be made; Detail says why
)

// DefaultMaxBody bounds a push body. InnoPaaS pushes are a few KiB; a larger
// body is a mistake worth seeing, not something to buffer.
const DefaultMaxBody = 1 << 20

// forwardAnswerLimit bounds the part of the app's answer relayed to the sender.
const forwardAnswerLimit = 64 << 10

// Config says how a Receiver behaves. Zero values take the defaults in
// parentheses.
type Config struct {
	// Path is where pushes arrive ("/"). A path ending in "/" takes every
	// path under it, so "/" takes all; any other path only itself.
	Path string
	// Status answers an accepted push when not forwarding (200).
	Status int
	// ExpectUserName and ExpectAuthorization, when not empty, must equal the
	// UserName and Authorization headers exactly (InnoPaaS sends them as
	// configured); a push that differs is answered 401 and not forwarded.
	ExpectUserName      string
	ExpectAuthorization string
	// Forward, when set, is the URL every accepted push is re-sent to, with
	// the same method, body and headers; the sender gets the app's answer.
	Forward string
	// ForwardTimeout bounds one forward (10s).
	ForwardTimeout time.Duration
	// Client sends forwards (one that never follows redirects).
	Client *http.Client
	// Spec, when set, validates every push against its event type's schema.
	Spec *spec.Spec
	// Format is FormatPretty (default) or FormatJSON.
	Format string
	// ShowSecrets prints Authorization in full instead of its last 4 characters.
	ShowSecrets bool
	// HealthPath answers GET and HEAD with 200 without printing anything, so
	// a container health check does not fill the output; "" turns it off.
	HealthPath string
	// MaxBody bounds a push body; a larger one is answered 413 (DefaultMaxBody).
	MaxBody int64
	// Out receives one record per request (required).
	Out io.Writer
	// Clock stamps records (clock.Real).
	Clock clock.Clock
}

// Validate reports a configuration that cannot work, naming the setting.
func (c *Config) Validate() error {
	if c.Out == nil {
		return errors.New("listen: Out is required")
	}
	if c.Path != "" && !strings.HasPrefix(c.Path, "/") {
		return fmt.Errorf("--path %q: must start with /", c.Path)
	}
	if c.HealthPath != "" && !strings.HasPrefix(c.HealthPath, "/") {
		return fmt.Errorf("--health-path %q: must start with /", c.HealthPath)
	}
	if c.Status != 0 && (c.Status < 200 || c.Status > 599) {
		return fmt.Errorf("--status %d: use an HTTP status from 200 to 599", c.Status)
	}
	switch c.Format {
	case "", FormatPretty, FormatJSON:
	default:
		return fmt.Errorf("--format %q: use pretty or json", c.Format)
	}
	if c.Forward != "" {
		u, err := url.Parse(c.Forward)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("--forward %q: use an absolute http(s) URL such as http://127.0.0.1:3000/webhooks", c.Forward)
		}
	}
	if c.MaxBody < 0 || c.ForwardTimeout < 0 {
		return errors.New("listen: MaxBody and ForwardTimeout must not be negative")
	}
	return nil
}

// Receiver is the http.Handler that receives pushes.
type Receiver struct {
	cfg    Config
	client *http.Client
	mu     sync.Mutex // one record is written at a time
}

// New checks cfg, fills its defaults and returns a Receiver.
func New(cfg Config) (*Receiver, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Path == "" {
		cfg.Path = "/"
	}
	if cfg.Status == 0 {
		cfg.Status = http.StatusOK
	}
	if cfg.Format == "" {
		cfg.Format = FormatPretty
	}
	if cfg.ForwardTimeout == 0 {
		cfg.ForwardTimeout = 10 * time.Second
	}
	if cfg.MaxBody == 0 {
		cfg.MaxBody = DefaultMaxBody
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.Real{}
	}
	client := cfg.Client
	if client == nil {
		client = &http.Client{
			// The app's answer goes back to the sender as it is; a redirect
			// is an answer like any other.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
	}
	return &Receiver{cfg: cfg, client: client}, nil
}

// Record is what is printed for one request; FormatJSON prints it as is.
type Record struct {
	Time        time.Time           `json:"time"`
	Method      string              `json:"method"`
	Path        string              `json:"path"`
	Query       string              `json:"query,omitempty"`
	Remote      string              `json:"remote,omitempty"`
	Status      int                 `json:"status"` // what the receiver answered
	Note        string              `json:"note,omitempty"`
	Header      map[string][]string `json:"headers"`
	EventType   string              `json:"eventType,omitempty"`
	EventID     string              `json:"eventId,omitempty"`
	Contract    *Check              `json:"contract,omitempty"`
	Credentials *Check              `json:"credentials,omitempty"`
	Forward     *Forwarded          `json:"forward,omitempty"`
	// Body is the payload when it is JSON; BodyText holds it otherwise, and
	// BodyError says why it is not JSON.
	Body      json.RawMessage `json:"body,omitempty"`
	BodyText  string          `json:"bodyText,omitempty"`
	BodyError string          `json:"bodyError,omitempty"`
	BodyBytes int             `json:"bodyBytes"`
}

// Check is the outcome of one check of a push.
type Check struct {
	Result string `json:"result"` // Pass, Fail or Skip
	Detail string `json:"detail,omitempty"`
}

// Forwarded is what became of a push re-sent to the developer's app.
type Forwarded struct {
	URL       string  `json:"url"`
	Status    int     `json:"status,omitempty"` // 0: no answer
	LatencyMs float64 `json:"latencyMs"`
	Error     string  `json:"error,omitempty"`
}

// ServeHTTP receives one request: check, print, forward, answer.
func (rc *Receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if rc.cfg.HealthPath != "" && r.URL.Path == rc.cfg.HealthPath && (r.Method == http.MethodGet || r.Method == http.MethodHead) {
		reply(w, http.StatusOK, "ok\n")
		return
	}
	rec := &Record{
		Time: rc.cfg.Clock.Now(), Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery,
		Remote: r.RemoteAddr, Header: rc.showHeader(r.Header),
	}
	if !rc.onPath(r.URL.Path) {
		rec.Status = http.StatusNotFound
		rec.Note = fmt.Sprintf("not under --path %s: ignored", rc.cfg.Path)
		rc.print(rec)
		reply(w, rec.Status, "not found: pushes go to "+rc.cfg.Path+"\n")
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, rc.cfg.MaxBody))
	if err != nil {
		if mbe := (*http.MaxBytesError)(nil); errors.As(err, &mbe) {
			rec.Status = http.StatusRequestEntityTooLarge
			rec.Note = fmt.Sprintf("body over the %d-byte limit: refused", mbe.Limit)
		} else {
			rec.Status = http.StatusBadRequest
			rec.Note = "reading the body: " + err.Error()
		}
		rec.BodyBytes = len(body)
		rc.print(rec)
		reply(w, rec.Status, strings.ToLower(http.StatusText(rec.Status))+"\n")
		return
	}
	rec.setBody(rc.shownBody(r.Header, body))
	rec.Credentials = rc.checkCredentials(r.Header)
	if rc.cfg.Spec != nil {
		rec.Contract = rc.checkContract(rec, body)
	}

	switch {
	case rec.Credentials != nil && rec.Credentials.Result == Fail:
		// The developer's app would refuse it too: do not pass it on.
		rec.Status = http.StatusUnauthorized
		rc.print(rec)
		reply(w, rec.Status, "unauthorized\n")
	case rc.cfg.Forward != "":
		ans := rc.forward(r, body, rec)
		rc.print(rec)
		if ans.contentType != "" {
			w.Header().Set("Content-Type", ans.contentType)
		}
		w.WriteHeader(rec.Status)
		_, _ = w.Write(ans.body)
	default:
		rec.Status = rc.cfg.Status
		rc.print(rec)
		reply(w, rec.Status, "ok\n")
	}
}

func reply(w http.ResponseWriter, status int, text string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, text)
}

// onPath tells whether a request path is one the receiver takes.
func (rc *Receiver) onPath(p string) bool {
	if strings.HasSuffix(rc.cfg.Path, "/") {
		return strings.HasPrefix(p, rc.cfg.Path)
	}
	return p == rc.cfg.Path
}

// checkCredentials compares the credential headers with the expected ones,
// or returns nil when none is expected.
func (rc *Receiver) checkCredentials(h http.Header) *Check {
	if rc.cfg.ExpectUserName == "" && rc.cfg.ExpectAuthorization == "" {
		return nil
	}
	var problems []string
	if rc.cfg.ExpectUserName != "" {
		if p := rc.headerProblem(h, "UserName", rc.cfg.ExpectUserName, false); p != "" {
			problems = append(problems, p)
		}
	}
	if rc.cfg.ExpectAuthorization != "" {
		if p := rc.headerProblem(h, "Authorization", rc.cfg.ExpectAuthorization, true); p != "" {
			problems = append(problems, p)
		}
	}
	if len(problems) > 0 {
		return &Check{Result: Fail, Detail: strings.Join(problems, "; ")}
	}
	return &Check{Result: Pass}
}

func (rc *Receiver) headerProblem(h http.Header, name, want string, secret bool) string {
	vs := h.Values(name)
	switch {
	case len(vs) == 0:
		return name + " is missing"
	case len(vs) > 1:
		return name + " is sent more than once"
	case subtle.ConstantTimeCompare([]byte(vs[0]), []byte(want)) == 1:
		return ""
	case secret && !rc.cfg.ShowSecrets:
		return fmt.Sprintf("%s is %s, want %s", name, mask(vs[0]), mask(want))
	default:
		return fmt.Sprintf("%s is %q, want %q", name, vs[0], want)
	}
}

// checkContract validates the payload against the schema of the event type
// named by its `type` field (the WhatsApp envelope {id, type, eventTime, body}).
func (rc *Receiver) checkContract(rec *Record, body []byte) *Check {
	switch {
	case len(body) == 0:
		return &Check{Result: Skip, Detail: "empty body"}
	case rec.BodyError != "":
		return &Check{Result: Fail, Detail: "payload is " + rec.BodyError}
	case rec.EventType == "":
		return &Check{Result: Skip, Detail: "no string `type` field: cannot tell the event type"}
	}
	ev, ok := rc.cfg.Spec.Event(rec.EventType)
	if !ok {
		return &Check{Result: Skip, Detail: fmt.Sprintf("event type %q is not in the contract (it describes %s)",
			rec.EventType, strings.Join(rc.cfg.Spec.EventTypes(""), ", "))}
	}
	if err := rc.cfg.Spec.ValidatePayload(rec.EventType, body); err != nil {
		return &Check{Result: Fail, Detail: err.Error()}
	}
	return &Check{Result: Pass, Detail: ev.SchemaName}
}

// forwarded is the app's answer as relayed to the sender.
type forwarded struct {
	contentType string
	body        []byte
}

// forward re-sends the push to the app and fills rec.Forward and rec.Status.
func (rc *Receiver) forward(r *http.Request, body []byte, rec *Record) forwarded {
	rec.Forward = &Forwarded{URL: rc.cfg.Forward}
	ctx, cancel := context.WithTimeout(r.Context(), rc.cfg.ForwardTimeout)
	defer cancel()
	out, err := http.NewRequestWithContext(ctx, r.Method, rc.cfg.Forward, bytes.NewReader(body))
	if err != nil {
		rec.Forward.Error = err.Error()
		rec.Status = http.StatusBadGateway
		return forwarded{body: []byte("forward failed\n")}
	}
	copyHeader(out.Header, r.Header)
	sw := clock.Start()
	resp, err := rc.client.Do(out)
	rec.Forward.LatencyMs = ms(sw.Elapsed())
	if err != nil {
		rec.Forward.Error = describeForwardError(err, rc.cfg.ForwardTimeout)
		rec.Status = http.StatusBadGateway
		return forwarded{body: []byte("forward failed: " + rec.Forward.Error + "\n")}
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, forwardAnswerLimit+1))
	rec.Forward.Status = resp.StatusCode
	rec.Status = resp.StatusCode
	if len(answer) > forwardAnswerLimit {
		// Relaying a cut body would hand the sender something the app never
		// said; the status is what matters to a webhook sender.
		return forwarded{contentType: "text/plain; charset=utf-8", body: []byte("(the app's answer is too long to relay)\n")}
	}
	return forwarded{contentType: resp.Header.Get("Content-Type"), body: answer}
}

func describeForwardError(err error, timeout time.Duration) string {
	var ue *url.Error
	if errors.As(err, &ue) && ue.Timeout() {
		return fmt.Sprintf("no answer within %s", timeout)
	}
	var oe *net.OpError
	if errors.As(err, &oe) {
		return oe.Error()
	}
	return err.Error()
}

// hopByHop headers belong to one connection, not to the push.
var hopByHop = map[string]bool{
	"Connection": true, "Keep-Alive": true, "Proxy-Connection": true, "Proxy-Authenticate": true,
	"Proxy-Authorization": true, "Te": true, "Trailer": true, "Transfer-Encoding": true, "Upgrade": true,
	// Content negotiation between this hop and the app: without it the
	// transport asks for gzip itself and hands back the plain answer.
	"Accept-Encoding": true,
	"Content-Length":  true, // set from the body
}

// copyHeader copies a push's headers for the forward, dropping hop-by-hop
// ones and restoring InnoPaaS's spelling of its header names.
func copyHeader(dst, src http.Header) {
	drop := map[string]bool{}
	for _, v := range src.Values("Connection") {
		for _, name := range strings.Split(v, ",") {
			drop[http.CanonicalHeaderKey(strings.TrimSpace(name))] = true
		}
	}
	for k, vs := range src {
		if hopByHop[k] || drop[k] {
			continue
		}
		dst[wireName(k)] = append([]string(nil), vs...)
	}
}

// wireNames are the spellings InnoPaaS uses for header names that Go's
// canonical form changes. HTTP names are case-insensitive, but an app may
// compare them exactly, and a developer reads them as documented.
var wireNames = map[string]string{"Username": "UserName", "Appkey": "AppKey"}

func wireName(canonical string) string {
	if n, ok := wireNames[canonical]; ok {
		return n
	}
	return canonical
}

// secretHeaders are masked in records unless ShowSecrets.
var secretHeaders = map[string]bool{"Authorization": true, "Proxy-Authorization": true, "Cookie": true}

// showHeader returns the headers as printed: InnoPaaS spellings, secrets masked.
func (rc *Receiver) showHeader(h http.Header) map[string][]string {
	out := make(map[string][]string, len(h))
	for k, vs := range h {
		shown := append([]string(nil), vs...)
		if secretHeaders[k] && !rc.cfg.ShowSecrets {
			for i := range shown {
				shown[i] = mask(shown[i])
			}
		}
		out[wireName(k)] = shown
	}
	return out
}

// mask hides all of a secret but its last 4 characters (secret.Mask, the
// sandbox's own rule).
func mask(s string) string { return secret.Mask(s) }

// shownBody is a push's body as printed: unless ShowSecrets, the
// credentials it carries are masked, those of its headers and an SMS
// payload's pswd (the configured password, sent in the body).
func (rc *Receiver) shownBody(h http.Header, body []byte) []byte {
	if rc.cfg.ShowSecrets {
		return body
	}
	secrets := secret.FromHeader(h)
	var one struct{ Pswd string }
	var many []struct{ Pswd string }
	if json.Unmarshal(body, &one) == nil {
		secrets = append(secrets, one.Pswd)
	} else if json.Unmarshal(body, &many) == nil {
		for _, p := range many {
			secrets = append(secrets, p.Pswd)
		}
	}
	return secret.MaskBytes(body, secrets...)
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
