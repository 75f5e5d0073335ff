package certify

import (
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"sort"
	"strings"
)

//go:embed report.html.tmpl
var reportHTML string

var htmlTemplate = template.Must(template.New("report").Funcs(template.FuncMap{
	"label":   func(s Status) string { return s.Label() },
	"seconds": func(ms float64) string { return seconds(ms) + " s" },
	"latency": func(ms float64) string { return fmtLatency(msDuration(ms)) },
	"limit":   func(ms float64) string { return fmtLimit(msDuration(ms)) },
	"bytes":   fmtBytes,
	"short":   func(s string) string { return s[:min(12, len(s))] },
	"join":    strings.Join,
	"headers": sortedHeaders,
	"open":    func(c CheckResult) bool { return c.Status == Failed || c.Status == NotRun },
	"badExchange": func(c CheckResult, e Exchange) bool {
		return c.Status == Failed && (!e.answered() || !e.is2xx() || e.EchoesSecret || e.AnswerBytes > BodyLimit) || len(c.Exchanges) == 1 && c.Status == Failed
	},
	"checksOf": func(r *Result, feature string) []CheckResult {
		var out []CheckResult
		for _, c := range r.Checks {
			if c.Feature == feature {
				out = append(out, c)
			}
		}
		return out
	},
	"paragraphs": func(s string) []string {
		var out []string
		for _, p := range strings.Split(s, "\n\n") {
			if p = strings.Join(strings.Fields(p), " "); p != "" {
				out = append(out, p)
			}
		}
		return out
	},
	"verdictClass": func(v Verdict) string {
		switch {
		case !v.Certified:
			return "bad"
		case v.Recommendations > 0:
			return "warn"
		}
		return "good"
	},
	"required": func(r *Result) (n int) {
		for _, c := range r.Checks {
			if c.Severity == Required {
				n++
			}
		}
		return n
	},
}).Parse(reportHTML))

type header struct{ Name, Value string }

func sortedHeaders(h map[string]string) []header {
	out := make([]header, 0, len(h))
	for k, v := range h {
		out = append(out, header{k, v})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// WriteHTML writes the result as one self-contained HTML page for the
// partner: the verdict at the top, then every check with its id, severity,
// outcome and evidence. It loads nothing from anywhere (inline CSS, no
// script), and shows secrets masked, as the Result holds them.
func WriteHTML(w io.Writer, r *Result) error {
	if err := htmlTemplate.Execute(w, r); err != nil {
		return fmt.Errorf("writing the HTML report: %w", err)
	}
	return nil
}
