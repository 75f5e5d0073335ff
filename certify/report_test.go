package certify_test

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/innosandbox/innosandbox/certify"
	"github.com/innosandbox/innosandbox/certify/fixtures"
)

// echoingRun certifies a receiver that echoes the Authorization it gets:
// the reports must show that it did, and never the secret itself.
func echoingRun(t testing.TB) *certify.Result {
	t.Helper()
	_, o := serveTLS(t, receiver(fixtures.Config{Fault: fixtures.EchoesAuthorization}))
	return certifyOK(t, o)
}

func reportsOf(t testing.TB, res *certify.Result) (html, junit, js string) {
	t.Helper()
	var h, x, j bytes.Buffer
	require.NoError(t, certify.WriteHTML(&h, res))
	require.NoError(t, certify.WriteJUnit(&x, res))
	require.NoError(t, certify.WriteJSON(&j, res))
	return h.String(), x.String(), j.String()
}

func TestReportsNeverShowTheSecret(t *testing.T) {
	res := echoingRun(t)
	html, junit, js := reportsOf(t, res)
	var summary bytes.Buffer
	certify.WriteSummary(&summary, res)
	for name, text := range map[string]string{"html": html, "junit": junit, "json": js, "summary": summary.String()} {
		assert.NotContains(t, text, "s3cr3t-T0ken", name)
		if name != "summary" {
			assert.Contains(t, text, "****1234", name)
		}
	}
}

// TestReportsMaskEscapedSecretsAndTheQuery certifies a receiver that echoes
// an Authorization with characters JSON escapes (its answer quotes it as
// \"…\u003c…), at a URL whose query string carries a key: no report shows
// either, in any form, and the echo is still found (CERT-HTTP-02).
func TestReportsMaskEscapedSecretsAndTheQuery(t *testing.T) {
	const auth = `Bearer s3cr3t"<T0ken>"&-ABCD1234`
	const key = "query-k3y-value"
	_, o := serveTLS(t, receiver(fixtures.Config{Fault: fixtures.EchoesAuthorization, UserName: testUser, Authorization: auth}))
	o.Authorization = auth
	o.URL += "?key=" + key
	res := certifyOK(t, o)
	assert.Equal(t, certify.Failed, res.Statuses()[certify.CheckNoEcho], "the escaped echo is found")
	html, junit, js := reportsOf(t, res)
	var summary bytes.Buffer
	certify.WriteSummary(&summary, res)
	for name, text := range map[string]string{"html": html, "junit": junit, "json": js, "summary": summary.String()} {
		for _, needle := range []string{"s3cr3t", `T0ken`, key} {
			assert.NotContains(t, text, needle, name)
		}
	}
	assert.Contains(t, js, "?key=****alue", "the query shows masked")
}

func TestJSONReport(t *testing.T) {
	res := echoingRun(t)
	_, _, js := reportsOf(t, res)
	var doc struct {
		Schema       string    `json:"schema"`
		Tool         string    `json:"tool"`
		ToolVersion  string    `json:"toolVersion"`
		SuiteVersion string    `json:"suiteVersion"`
		ChecksSHA256 string    `json:"checksSha256"`
		StartedAt    time.Time `json:"startedAt"`
		Target       struct {
			URL    string `json:"url"`
			Method string `json:"method"`
		} `json:"target"`
		Options struct {
			Authorization string   `json:"authorization"`
			Events        []string `json:"events"`
			TimeoutMs     float64  `json:"timeoutMs"`
		} `json:"options"`
		Bounds  certify.Bounds `json:"bounds"`
		Verdict certify.Verdict
		Checks  []struct {
			ID        string `json:"id"`
			Severity  string `json:"severity"`
			Title     string `json:"title"`
			Status    string `json:"status"`
			Reason    string `json:"reason"`
			Exchanges []struct {
				Status    int               `json:"status"`
				LatencyMs float64           `json:"latencyMs"`
				Header    map[string]string `json:"requestHeaders"`
				Answer    string            `json:"answer"`
			} `json:"exchanges"`
		} `json:"checks"`
	}
	require.NoError(t, json.Unmarshal([]byte(js), &doc))
	assert.Equal(t, certify.ReportSchema, doc.Schema)
	assert.Equal(t, "test", doc.ToolVersion)
	assert.Equal(t, certify.SuiteVersion, doc.SuiteVersion)
	assert.Len(t, doc.ChecksSHA256, 64)
	assert.WithinDuration(t, time.Now(), doc.StartedAt, time.Minute)
	assert.Contains(t, js, `"startedAt": "`+doc.StartedAt.Format("2006-01-02T15:04:05"), "ISO 8601")
	assert.Equal(t, "****1234", doc.Options.Authorization)
	assert.Equal(t, 3000.0, doc.Options.TimeoutMs)
	assert.Equal(t, doc.Bounds.PlannedPushes, doc.Bounds.SentPushes)
	assert.False(t, doc.Verdict.Certified)
	require.Len(t, doc.Checks, 15)
	for _, c := range doc.Checks {
		assert.NotEmpty(t, c.Severity, c.ID)
		assert.NotEmpty(t, c.Title, c.ID)
		if c.ID == certify.CheckNoEcho {
			assert.Equal(t, "failed", c.Status)
			require.NotEmpty(t, c.Exchanges)
			assert.Equal(t, 200, c.Exchanges[0].Status)
			assert.Contains(t, c.Exchanges[0].Answer, "****1234")
			assert.Equal(t, "****1234", c.Exchanges[0].Header["Authorization"])
		}
	}
}

func TestJUnitReport(t *testing.T) {
	_, o := serveTLS(t, receiver(fixtures.Config{Fault: fixtures.AcceptsWithoutCredentials, Authorization: testSecret}))
	o.UserName = "" // CERT-AUTH-03 does not apply: a skipped test case
	res := certifyOK(t, o)
	_, junit, _ := reportsOf(t, res)
	var doc struct {
		XMLName  xml.Name `xml:"testsuites"`
		Tests    int      `xml:"tests,attr"`
		Failures int      `xml:"failures,attr"`
		Skipped  int      `xml:"skipped,attr"`
		Suites   []struct {
			Properties []struct {
				Name  string `xml:"name,attr"`
				Value string `xml:"value,attr"`
			} `xml:"properties>property"`
			Cases []struct {
				Name    string `xml:"name,attr"`
				Failure *struct {
					Message string `xml:"message,attr"`
				} `xml:"failure"`
				Skipped *struct {
					Message string `xml:"message,attr"`
				} `xml:"skipped"`
				SystemOut string `xml:"system-out"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	require.NoError(t, xml.Unmarshal([]byte(junit), &doc), junit)
	assert.Equal(t, 15, doc.Tests)
	assert.Equal(t, 1, doc.Failures, "the one required check that failed")
	assert.Equal(t, 1, doc.Skipped, "CERT-AUTH-03 does not apply")
	require.Len(t, doc.Suites, 1)
	failed := 0
	for _, c := range doc.Suites[0].Cases {
		if c.Failure != nil {
			failed++
			assert.Contains(t, c.Name, certify.CheckNoAuth)
			assert.Contains(t, c.Failure.Message, "answered 200")
		}
		assert.NotEmpty(t, c.SystemOut)
	}
	assert.Equal(t, 1, failed)
	props := map[string]string{}
	for _, p := range doc.Suites[0].Properties {
		props[p.Name] = p.Value
	}
	assert.Equal(t, certify.VerdictNotCertified, props["verdict"])
	assert.Equal(t, certify.SuiteVersion, props["suiteVersion"])
}

func TestHTMLReportIsSelfContained(t *testing.T) {
	html, _, _ := reportsOf(t, echoingRun(t))
	for _, external := range []string{"<script", "<link", " src=", "@import", "url("} {
		assert.NotContains(t, html, external)
	}
	assert.Contains(t, html, `<meta name="viewport"`)
	assert.Less(t, strings.Index(html, certify.VerdictNotCertified), strings.Index(html, certify.CheckReach), "the verdict comes first")
}
