package ui_test

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/innosandbox/innosandbox/fixtures"
	"github.com/innosandbox/innosandbox/mockserver"
	"github.com/innosandbox/innosandbox/mockserver/state/memstore"
	"github.com/innosandbox/innosandbox/spec"
)

// The seed's demo account and app, as the sandbox applies them.
var (
	demo        = sync.OnceValue(func() *fixtures.Seed { return must(fixtures.LoadSeed("")) })
	demoAccount = demo().Accounts[0].Name
	demoAppKey  = demo().Accounts[0].Apps[0].AppKey
	demoToken   = demo().Accounts[0].Apps[0].Token
)

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

var loadSpec = sync.OnceValue(spec.MustLoadEmbedded)

// sandbox is an in-process sandbox with its dashboard, for one test.
type sandbox struct {
	srv *mockserver.Server
	url string // the sandbox's base URL
	ui  string // the dashboard's URL
}

func newSandbox(t *testing.T, tweak ...func(*mockserver.Config)) *sandbox {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cfg := mockserver.Config{Spec: loadSpec(), Store: memstore.New(), Strict: true,
		Dispatch: mockserver.DispatchConfig{PollInterval: 50 * time.Millisecond, Timeout: 2 * time.Second}}
	for _, f := range tweak {
		f(&cfg)
	}
	srv, err := mockserver.New(ctx, cfg)
	require.NoError(t, err)
	done := make(chan struct{})
	go func() { srv.Run(ctx); close(done) }()
	ts := httptest.NewServer(srv)
	t.Cleanup(func() {
		ts.Close()
		cancel()
		<-done
	})
	return &sandbox{srv: srv, url: ts.URL, ui: ts.URL + "/_sandbox/ui/"}
}

// browser is a cookie-keeping HTTP client that does not follow redirects,
// so that a test sees each answer.
type browser struct {
	t *testing.T
	c *http.Client
}

func newBrowser(t *testing.T) *browser {
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	return &browser{t: t, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

type answer struct {
	status int
	header http.Header
	body   string
}

func (b *browser) do(req *http.Request) answer {
	b.t.Helper()
	resp, err := b.c.Do(req)
	require.NoError(b.t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(b.t, err)
	return answer{status: resp.StatusCode, header: resp.Header, body: string(body)}
}

func (b *browser) get(u string) answer {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	require.NoError(b.t, err)
	return b.do(req)
}

// post sends a form as a same-origin page would.
func (b *browser) post(u string, form url.Values) answer {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodPost, u, strings.NewReader(form.Encode()))
	require.NoError(b.t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	return b.do(req)
}

var csrfInput = regexp.MustCompile(`name="csrf" value="([0-9a-f]{64})"`)

// csrf reads the CSRF token out of a rendered page.
func csrf(t *testing.T, page string) string {
	t.Helper()
	m := csrfInput.FindStringSubmatch(page)
	require.NotNil(t, m, "the page has a form with a CSRF token")
	return m[1]
}
