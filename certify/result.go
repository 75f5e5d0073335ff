package certify

import (
	"time"
)

// Status is what became of a check.
type Status string

// Statuses.
const (
	// Passed: the endpoint did what the check expects.
	Passed Status = "passed"
	// Failed: it did not; Reason says what it did instead.
	Failed Status = "failed"
	// Allowed: the check failed, but the run was told to accept that
	// (CERT-TLS-01 with --insecure). It does not change the verdict.
	Allowed Status = "allowed"
	// NotApplicable: the check does not apply to this configuration (no
	// credentials configured, no status reports subscribed, …); Reason says
	// why and what to do. It does not change the verdict, and is listed
	// among the recommendations.
	NotApplicable Status = "not-applicable"
	// NotRun: the check could not run (the endpoint could not be reached).
	// A required check that did not run means the endpoint is not certified.
	NotRun Status = "not-run"
)

// Verdicts.
const (
	VerdictCertified       = "CERTIFIED"
	VerdictRecommendations = "CERTIFIED WITH RECOMMENDATIONS"
	VerdictNotCertified    = "NOT CERTIFIED"
)

// CheckResult is one check's outcome and its evidence.
type CheckResult struct {
	Check
	Status Status `json:"status"`
	// Reason says, in one line, why the check failed, was allowed, does
	// not apply or did not run; for a passed check, what was measured.
	Reason string `json:"reason,omitempty"`
	// Facts are further measured facts (latency percentiles, the
	// certificate, counts).
	Facts []string `json:"facts,omitempty"`
	// Exchanges are the pushes the check made, or for the checks that
	// judge every answer, the answers that broke the rule.
	Exchanges  []Exchange `json:"exchanges"`
	DurationMs float64    `json:"durationMs"`
}

// counts tells whether the result keeps the endpoint from being certified.
func (r CheckResult) blocks() bool {
	return r.Severity == Required && (r.Status == Failed || r.Status == NotRun)
}

// recommends tells whether the result is a recommendation to the partner.
func (r CheckResult) recommends() bool {
	return !r.blocks() && r.Status != Passed
}

// Result is a whole certification run: what a report shows.
type Result struct {
	Tool         string        `json:"tool"`
	ToolVersion  string        `json:"toolVersion"`
	SuiteVersion string        `json:"suiteVersion"`
	ChecksSHA256 string        `json:"checksSha256"`
	StartedAt    time.Time     `json:"startedAt"`
	FinishedAt   time.Time     `json:"finishedAt"`
	DurationMs   float64       `json:"durationMs"`
	Target       Target        `json:"target"`
	Options      ReportOptions `json:"options"`
	Bounds       Bounds        `json:"bounds"`
	Verdict      Verdict       `json:"verdict"`
	Checks       []CheckResult `json:"checks"`
	Features     []FeatureInfo `json:"features"`
}

// Target is what was certified.
type Target struct {
	URL     string `json:"url"`
	Method  string `json:"method"`
	Product string `json:"product"`
}

// ReportOptions are the options of the run as a report shows them: the
// Authorization masked.
type ReportOptions struct {
	Events        []string `json:"events"`
	UserName      string   `json:"username,omitempty"`
	Authorization string   `json:"authorization,omitempty"`
	TimeoutMs     float64  `json:"timeoutMs"`
	Insecure      bool     `json:"insecure"`
	CustomCA      bool     `json:"customCA"`
	LatencyPushes int      `json:"latencyPushes"`
	Burst         int      `json:"burst"`
	Rate          int      `json:"rate"`
	Concurrency   int      `json:"concurrency"`
}

// Bounds are the limits the run kept to.
type Bounds struct {
	PlannedPushes int `json:"plannedPushes"`
	SentPushes    int `json:"sentPushes"`
	MaxPushes     int `json:"maxPushes"`
	RatePerSecond int `json:"ratePerSecond"`
}

// Verdict is the outcome of the run.
type Verdict struct {
	Certified bool   `json:"certified"`
	Text      string `json:"text"`
	// Counts of the checks by status, and of required checks that block.
	Passed          int `json:"passed"`
	Failed          int `json:"failed"`
	Allowed         int `json:"allowed"`
	NotApplicable   int `json:"notApplicable"`
	NotRun          int `json:"notRun"`
	RequiredFailed  int `json:"requiredFailed"`
	Recommendations int `json:"recommendations"`
}

func verdictOf(checks []CheckResult) Verdict {
	var v Verdict
	for _, c := range checks {
		switch c.Status {
		case Passed:
			v.Passed++
		case Failed:
			v.Failed++
		case Allowed:
			v.Allowed++
		case NotApplicable:
			v.NotApplicable++
		case NotRun:
			v.NotRun++
		}
		if c.blocks() {
			v.RequiredFailed++
		}
		if c.recommends() {
			v.Recommendations++
		}
	}
	v.Certified = v.RequiredFailed == 0
	switch {
	case !v.Certified:
		v.Text = VerdictNotCertified
	case v.Recommendations > 0:
		v.Text = VerdictRecommendations
	default:
		v.Text = VerdictCertified
	}
	return v
}

// Blocking returns the checks that keep the endpoint from being certified.
func (r *Result) Blocking() []CheckResult {
	var out []CheckResult
	for _, c := range r.Checks {
		if c.blocks() {
			out = append(out, c)
		}
	}
	return out
}

// Recommendations returns the checks that are recommendations: failed
// recommended checks, allowed ones, and checks that do not apply.
func (r *Result) Recommendations() []CheckResult {
	var out []CheckResult
	for _, c := range r.Checks {
		if c.recommends() {
			out = append(out, c)
		}
	}
	return out
}

// Statuses returns each check's status by id.
func (r *Result) Statuses() map[string]Status {
	out := make(map[string]Status, len(r.Checks))
	for _, c := range r.Checks {
		out[c.ID] = c.Status
	}
	return out
}
