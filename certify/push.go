package certify

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/innosandbox/innosandbox/internal/clock"
)

// Evidence limits.
const (
	// readLimit bounds what is read of an answer: enough to measure a body
	// against BodyLimit and to look for an echoed secret.
	readLimit = 64 << 10
	// answerExcerpt and requestExcerpt bound what a report shows.
	answerExcerpt  = 512
	requestExcerpt = 2 << 10
)

// Exchange is one push and what came of it, as a report shows it: header
// values and bodies have the configured secrets masked.
type Exchange struct {
	Check string `json:"check"`
	// Label says what the push was for ("whatsapp_mo_message_received",
	// "without credentials", "push 3 of 20").
	Label   string            `json:"label"`
	Event   string            `json:"event"`
	EventID string            `json:"eventId,omitempty"`
	Method  string            `json:"method"`
	URL     string            `json:"url"`
	Header  map[string]string `json:"requestHeaders"`
	// Body is the request body (cut at 2 KiB; BodyBytes is its size).
	Body      string `json:"requestBody"`
	BodyBytes int    `json:"requestBytes"`
	SentAt    string `json:"sentAt"`
	// Status is the answer's HTTP status; 0 when there was none (Error says why).
	Status int    `json:"status"`
	Error  string `json:"error,omitempty"`
	// Location is a redirect's target, never followed.
	Location    string `json:"location,omitempty"`
	ContentType string `json:"contentType,omitempty"`
	// Answer is the start of the answer's body; AnswerBytes its size (a
	// lower bound when AnswerCut).
	Answer      string  `json:"answer"`
	AnswerBytes int     `json:"answerBytes"`
	AnswerCut   bool    `json:"answerCut,omitempty"`
	LatencyMs   float64 `json:"latencyMs"`
	// EchoesSecret: the answer's body or headers contain the configured
	// Authorization.
	EchoesSecret bool `json:"echoesSecret,omitempty"`
	latency      time.Duration
}

// answered tells whether the push got an HTTP answer.
func (e Exchange) answered() bool { return e.Status != 0 }

// is2xx tells whether the push was received, as InnoPaaS counts it.
func (e Exchange) is2xx() bool { return e.Status >= 200 && e.Status < 300 }

// Outcome says in a few words what came of the push.
func (e Exchange) Outcome() string {
	if !e.answered() {
		return "no answer: " + e.Error
	}
	s := fmt.Sprintf("answered %d in %s", e.Status, fmtLatency(e.latency))
	if e.Location != "" {
		s += ", redirecting to " + e.Location + " (not followed)"
	}
	return s
}

// request is one push to make.
type request struct {
	label string
	body  payload
	// header holds the credentials the check chose to send (the
	// configured ones, none, or wrong ones), under InnoPaaS's spelling.
	header http.Header
	// laned pushes share Options.Concurrency lanes; the burst does not.
	laned bool
}

// sender is the only thing that sends: to one URL, at most planned pushes,
// at most Rate in any second, redirects never followed, no proxy (a proxy
// from the environment is another host), secrets masked in what it records.
type sender struct {
	opts    Options
	target  string
	client  *http.Client
	window  *window
	lanes   chan struct{}
	planned int
	sent    atomic.Int64
	masker  masker
	onPush  func(done int)

	mu  sync.Mutex
	all []Exchange // every push of the run, for the CERT-HTTP checks
}

func newSender(o Options, planned int) (*sender, error) {
	u, err := url.Parse(o.URL)
	if err != nil {
		return nil, err
	}
	abandon := o.abandonAfter()
	tr := &http.Transport{
		Proxy:                 nil,
		DialContext:           (&net.Dialer{Timeout: abandon, KeepAlive: 30 * time.Second}).DialContext,
		TLSClientConfig:       tlsConfig(o, u),
		TLSHandshakeTimeout:   abandon,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          o.Burst + o.Concurrency,
		MaxIdleConnsPerHost:   o.Burst + o.Concurrency,
		IdleConnTimeout:       30 * time.Second,
		ExpectContinueTimeout: time.Second,
	}
	return &sender{
		opts: o, target: u.String(), planned: planned, masker: newMasker(o.Authorization),
		client: &http.Client{
			Transport: tr,
			// InnoPaaS never follows a redirect, and a push must never
			// reach a host the partner did not give.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		window: newWindow(o.Rate, nil, nil),
		lanes:  make(chan struct{}, o.Concurrency),
		onPush: func(int) {},
	}, nil
}

func tlsConfig(o Options, u *url.URL) *tls.Config {
	minVersion := uint16(tls.VersionTLS12)
	if o.Insecure {
		// CERT-TLS-01 reports an old version; --insecure lets the rest run.
		minVersion = tls.VersionTLS10
	}
	return &tls.Config{
		ServerName: u.Hostname(),
		RootCAs:    o.RootCAs,
		MinVersion: minVersion,
		// Only with --insecure, which the report shows: the TLS check has
		// judged the certificate already.
		InsecureSkipVerify: o.Insecure,
	}
}

// close releases the sender's idle connections.
func (s *sender) close() { s.client.CloseIdleConnections() }

// credentials returns the configured credential headers.
func (s *sender) credentials() http.Header {
	h := http.Header{}
	if s.opts.UserName != "" {
		h["UserName"] = []string{s.opts.UserName}
	}
	if s.opts.Authorization != "" {
		h["Authorization"] = []string{s.opts.Authorization}
	}
	return h
}

// push sends one request and records what came of it.
func (s *sender) push(ctx context.Context, check string, r request) Exchange {
	e := Exchange{
		Check: check, Label: r.label, Event: r.body.Event, EventID: r.body.ID, Method: s.opts.Method, URL: s.target,
		BodyBytes: len(r.body.Body),
	}
	e.Body, _ = s.masker.excerpt(indentJSON(r.body.Body), requestExcerpt)
	defer func() {
		s.mu.Lock()
		s.all = append(s.all, e)
		s.mu.Unlock()
	}()
	if n := s.sent.Add(1); n > int64(s.planned) {
		s.sent.Add(-1)
		e.Error = fmt.Sprintf("not sent: the run's %d planned pushes are spent (a bug in the plan)", s.planned)
		return e
	}
	if r.laned {
		select {
		case s.lanes <- struct{}{}:
			defer func() { <-s.lanes }()
		case <-ctx.Done():
			e.Error = "not sent: " + ctx.Err().Error()
			return e
		}
	}
	if err := s.window.wait(ctx); err != nil {
		e.Error = "not sent: " + err.Error()
		return e
	}
	header := http.Header{}
	header.Set("Content-Type", "application/json;charset=utf-8")
	header.Set("User-Agent", "innosandbox-certify/"+s.opts.ToolVersion)
	for k, vs := range r.header {
		// Keep InnoPaaS's spelling (UserName, not Username): names are
		// case-insensitive, but a receiver may compare them exactly.
		header[k] = vs
	}
	e.Header = s.showHeader(header)

	actx, cancel := context.WithTimeout(ctx, s.opts.abandonAfter())
	defer cancel()
	// The one place a request is built: always to the target URL.
	req, err := http.NewRequestWithContext(actx, s.opts.Method, s.target, bytes.NewReader(r.body.Body))
	if err != nil {
		e.Error = "building the request: " + err.Error()
		return e
	}
	req.Header = header
	e.SentAt = s.opts.Clock.Now().UTC().Format(time.RFC3339Nano)
	sw := clock.Start()
	resp, err := s.client.Do(req)
	if err != nil {
		e.latency = sw.Elapsed()
		e.LatencyMs = ms(e.latency)
		e.Error = describeTransportError(err, s.opts.abandonAfter())
		s.onPush(int(s.sent.Load()))
		return e
	}
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, readLimit+1))
	_ = resp.Body.Close()
	e.latency = sw.Elapsed()
	e.LatencyMs = ms(e.latency)
	e.Status = resp.StatusCode
	e.ContentType = resp.Header.Get("Content-Type")
	if loc := resp.Header.Get("Location"); loc != "" && resp.StatusCode >= 300 && resp.StatusCode < 400 {
		e.Location = s.masker.apply(loc)
	}
	e.AnswerBytes = len(answer)
	if len(answer) > readLimit {
		e.AnswerBytes, e.AnswerCut = readLimit, true
		if resp.ContentLength > readLimit {
			e.AnswerBytes = int(resp.ContentLength)
		}
	}
	e.EchoesSecret = s.masker.contains(string(answer)) || s.masker.contains(headerText(resp.Header))
	var cut bool
	e.Answer, cut = s.masker.excerpt(indentJSON(answer), answerExcerpt)
	e.AnswerCut = e.AnswerCut || cut
	s.onPush(int(s.sent.Load()))
	return e
}

// exchanges returns every push of the run so far.
func (s *sender) exchanges() []Exchange {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Exchange(nil), s.all...)
}

// showHeader returns the request headers as a report shows them.
func (s *sender) showHeader(h http.Header) map[string]string {
	out := make(map[string]string, len(h))
	for k, vs := range h {
		v := strings.Join(vs, ", ")
		if strings.EqualFold(k, "Authorization") {
			v = mask(v)
		}
		out[k] = v
	}
	return out
}

func headerText(h http.Header) string {
	keys := make([]string, 0, len(h))
	for k := range h {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var sb strings.Builder
	for _, k := range keys {
		sb.WriteString(k + ": " + strings.Join(h[k], ", ") + "\n")
	}
	return sb.String()
}

// describeTransportError says in a partner's words why a push got no answer.
func describeTransportError(err error, abandon time.Duration) string {
	var ue *url.Error
	if errors.As(err, &ue) && ue.Timeout() || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Sprintf("no answer within %s: the push was given up", abandon)
	}
	if errors.Is(err, context.Canceled) {
		return "the run was interrupted"
	}
	if tlsProblem := describeTLSError(err); tlsProblem != "" {
		return "TLS: " + tlsProblem
	}
	var oe *net.OpError
	if errors.As(err, &oe) {
		return oe.Error()
	}
	if ue != nil {
		return ue.Err.Error()
	}
	return err.Error()
}

// describeTLSError names a certificate problem, or returns "".
func describeTLSError(err error) string {
	var (
		unknown  x509.UnknownAuthorityError
		hostname x509.HostnameError
		invalid  x509.CertificateInvalidError
		verify   *tls.CertificateVerificationError
		record   tls.RecordHeaderError
	)
	switch {
	case errors.As(err, &unknown):
		return "the certificate is signed by an authority that is not trusted (self-signed, or a private CA: pass it with --ca-file)"
	case errors.As(err, &hostname):
		return "the certificate is not valid for this host name: " + hostname.Error()
	case errors.As(err, &invalid):
		if invalid.Reason == x509.Expired {
			return "the certificate has expired or is not valid yet: " + invalid.Error()
		}
		return "the certificate is not valid: " + invalid.Error()
	case errors.As(err, &verify):
		return "the certificate does not verify: " + verify.Err.Error()
	case errors.As(err, &record):
		return "the endpoint does not speak TLS on this port (is it plain HTTP?)"
	}
	var ae tls.AlertError
	if errors.As(err, &ae) {
		return "the handshake failed: " + ae.Error()
	}
	return ""
}

// fmtLimit prints a configured limit: 3 s, 1.5 s, 250 ms.
func fmtLimit(d time.Duration) string {
	if d < time.Second {
		return strconv.FormatFloat(ms(d), 'f', -1, 64) + " ms"
	}
	return strconv.FormatFloat(d.Seconds(), 'f', -1, 64) + " s"
}

// indentJSON returns a JSON body indented for a person to read, or the
// body as it is when it is not JSON.
func indentJSON(b []byte) []byte {
	var out bytes.Buffer
	if len(b) > readLimit || json.Indent(&out, b, "", "  ") != nil {
		return b
	}
	return out.Bytes()
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// fmtLatency prints a latency the way a person reads it: 3 ms, 1.25 s.
func fmtLatency(d time.Duration) string {
	switch {
	case d < 10*time.Millisecond:
		return strconv.FormatFloat(ms(d), 'f', 1, 64) + " ms"
	case d < time.Second:
		return strconv.FormatFloat(ms(d), 'f', 0, 64) + " ms"
	default:
		return strconv.FormatFloat(d.Seconds(), 'f', 2, 64) + " s"
	}
}

func msDuration(ms float64) time.Duration { return time.Duration(ms * float64(time.Millisecond)) }
