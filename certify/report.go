package certify

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"sort"
	"strings"
)

// ReportSchema names the layout of the JSON report; it changes only when a
// field is removed or changes meaning.
const ReportSchema = "innosandbox-certify-report/1"

// jsonReport is the JSON report: the Result, with the layout's name first.
type jsonReport struct {
	Schema string `json:"schema"`
	*Result
}

// WriteJSON writes the result as the JSON report documented in the README.
func WriteJSON(w io.Writer, r *Result) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(jsonReport{Schema: ReportSchema, Result: r})
}

// ------------------------------------------------------------------ JUnit

type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Skipped  int          `xml:"skipped,attr"`
	Time     string       `xml:"time,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name       string          `xml:"name,attr"`
	Tests      int             `xml:"tests,attr"`
	Failures   int             `xml:"failures,attr"`
	Errors     int             `xml:"errors,attr"`
	Skipped    int             `xml:"skipped,attr"`
	Time       string          `xml:"time,attr"`
	Timestamp  string          `xml:"timestamp,attr"`
	Properties []junitProperty `xml:"properties>property"`
	Cases      []junitCase     `xml:"testcase"`
}

type junitProperty struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitFailure `xml:"failure,omitempty"`
	Skipped   *junitSkipped `xml:"skipped,omitempty"`
	SystemOut *junitText    `xml:"system-out,omitempty"`
}

type junitFailure struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",cdata"`
}

// junitText keeps line breaks readable (CDATA) instead of &#xA;.
type junitText struct {
	Text string `xml:",cdata"`
}

type junitSkipped struct {
	Message string `xml:"message,attr"`
}

// WriteJUnit writes the result as JUnit XML, one test case per check. A
// JUnit failure is a check that keeps the endpoint from being certified (a
// required check that failed or could not run), so that the failures agree
// with the exit status; JUnit has no warnings, so a recommended check that
// failed, an allowed one and one that does not apply are "skipped", with the
// reason as the message.
func WriteJUnit(w io.Writer, r *Result) error {
	suite := junitSuite{
		Name: "innosandbox certify " + r.Target.URL, Tests: len(r.Checks),
		Time: seconds(r.DurationMs), Timestamp: r.StartedAt.Format("2006-01-02T15:04:05Z"),
		Properties: []junitProperty{
			{"verdict", r.Verdict.Text},
			{"url", r.Target.URL},
			{"method", r.Target.Method},
			{"product", r.Target.Product},
			{"toolVersion", r.ToolVersion},
			{"suiteVersion", r.SuiteVersion},
			{"checksSha256", r.ChecksSHA256},
		},
	}
	for _, c := range r.Checks {
		tc := junitCase{
			Name:      fmt.Sprintf("%s (%s) %s", c.ID, c.Severity, c.Title),
			Classname: "certification." + slug(c.Feature),
			Time:      seconds(c.DurationMs), SystemOut: &junitText{evidenceText(c)},
		}
		switch {
		case c.blocks():
			tc.Failure = &junitFailure{Message: c.Reason, Type: string(c.Severity) + " check " + string(c.Status), Text: c.Reason}
			suite.Failures++
		case c.Status != Passed:
			tc.Skipped = &junitSkipped{Message: fmt.Sprintf("%s (%s check %s): %s", c.Status.Label(), c.Severity, c.Status, c.Reason)}
			suite.Skipped++
		}
		suite.Cases = append(suite.Cases, tc)
	}
	doc := junitSuites{
		Name: "innosandbox certify", Tests: suite.Tests, Failures: suite.Failures, Skipped: suite.Skipped,
		Time: suite.Time, Suites: []junitSuite{suite},
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}

func seconds(ms float64) string { return fmt.Sprintf("%.3f", ms/1000) }

func slug(s string) string {
	var sb strings.Builder
	dash := false
	for _, r := range strings.ToLower(s) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			sb.WriteRune(r)
			dash = false
		} else if !dash && sb.Len() > 0 {
			sb.WriteByte('-')
			dash = true
		}
	}
	return strings.TrimSuffix(sb.String(), "-")
}

// evidenceText is a check's evidence as plain text (secrets masked).
func evidenceText(c CheckResult) string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "%s %s (%s): %s\n", c.Status.Label(), c.ID, c.Severity, c.Title)
	if c.Reason != "" {
		fmt.Fprintf(&sb, "  %s\n", c.Reason)
	}
	for _, f := range c.Facts {
		fmt.Fprintf(&sb, "  - %s\n", f)
	}
	for _, e := range c.Exchanges {
		fmt.Fprintf(&sb, "  %s %s [%s]: %s\n", e.Method, e.URL, e.Label, e.Outcome())
		keys := make([]string, 0, len(e.Header))
		for k := range e.Header {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			fmt.Fprintf(&sb, "      %s: %s\n", k, e.Header[k])
		}
		if e.Answer != "" {
			fmt.Fprintf(&sb, "    answer: %s\n", oneLine(e.Answer, 200))
		}
	}
	return sb.String()
}

func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
}

// -------------------------------------------------------------- summary

// WriteSummary prints the verdict, the counts, and each check that keeps
// the endpoint from being certified or is a recommendation, with its reason.
func WriteSummary(w io.Writer, r *Result) {
	v := r.Verdict
	required := 0
	for _, c := range r.Checks {
		if c.Severity == Required {
			required++
		}
	}
	fmt.Fprintf(w, "\n%s: %s\n", r.Target.URL, v.Text)
	fmt.Fprintf(w, "  %d checks: %d passed, %d failed, %d allowed, %d not applicable, %d not run; %d of %d required checks keep it from being certified\n",
		len(r.Checks), v.Passed, v.Failed, v.Allowed, v.NotApplicable, v.NotRun, v.RequiredFailed, required)
	fmt.Fprintf(w, "  %d of %d planned pushes sent in %s (at most %d per second)\n", r.Bounds.SentPushes, r.Bounds.PlannedPushes, seconds(r.DurationMs)+" s", r.Bounds.RatePerSecond)
	if b := r.Blocking(); len(b) > 0 {
		fmt.Fprintln(w, "\nRequired checks that did not pass:")
		for _, c := range b {
			fmt.Fprintln(w, "  "+CheckLine(c))
		}
	}
	if rec := r.Recommendations(); len(rec) > 0 {
		fmt.Fprintln(w, "\nRecommendations:")
		for _, c := range rec {
			fmt.Fprintln(w, "  "+CheckLine(c))
		}
	}
}
