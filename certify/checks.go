package certify

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"regexp"
	"sort"
	"strings"

	"github.com/cucumber/godog"

	"github.com/innosandbox/innosandbox/features/certification"
)

// SuiteVersion names this set of checks. Bump it whenever a check is added,
// removed, or changes what it expects of a partner: reports carry it next to
// the SHA-256 of the check list, and TestCheckListIsPinned fails until both
// are updated together.
const SuiteVersion = "1.0.0"

// Severity says what a failed check does to the verdict.
type Severity string

// Severities.
const (
	// Required: the endpoint is not certified unless the check passes.
	Required Severity = "required"
	// Recommended: a failure is reported as a recommendation; it does not
	// change the verdict.
	Recommended Severity = "recommended"
)

// The ids of the checks, as the features tag them.
const (
	CheckReach      = "CERT-REACH-01"
	CheckTLS        = "CERT-TLS-01"
	CheckEvents     = "CERT-EVENT-01"
	CheckNoAuth     = "CERT-AUTH-01"
	CheckBadKey     = "CERT-AUTH-02"
	CheckBadUser    = "CERT-AUTH-03"
	CheckDup        = "CERT-DUP-01"
	CheckOrder      = "CERT-ORDER-01"
	CheckCompat     = "CERT-COMPAT-01"
	CheckSize       = "CERT-SIZE-01"
	CheckTime       = "CERT-TIME-01"
	CheckBurst      = "CERT-BURST-01"
	CheckNoRedirect = "CERT-HTTP-01"
	CheckNoEcho     = "CERT-HTTP-02"
	CheckSmallBody  = "CERT-HTTP-03"
)

// phases is the order the checks run in. The checks of one phase run
// concurrently; a phase starts when the one before it has finished.
//
//   - Reachability first: when the endpoint cannot be reached, nothing else
//     is pushed (a dead or black-holed URL would otherwise cost a timeout
//     per push) and every other check is reported as not run.
//   - The functional checks next, sharing a few lanes (Options.Concurrency),
//     so that an endpoint that copes with a little concurrency but not with
//     a burst fails the burst check and no other.
//   - The time limit alone, one push at a time: its latencies are not
//     inflated by other checks' pushes.
//   - The burst alone, and last but one: if it knocks the endpoint over,
//     every other check has already been judged.
//   - Last, the checks that judge every answer of the run.
var phases = [][]string{
	{CheckReach, CheckTLS},
	{CheckEvents, CheckNoAuth, CheckBadKey, CheckBadUser, CheckDup, CheckOrder, CheckCompat, CheckSize},
	{CheckTime},
	{CheckBurst},
	{CheckNoRedirect, CheckNoEcho, CheckSmallBody},
}

// Check is one certification check, as its scenario states it.
type Check struct {
	ID       string   `json:"id"`
	Severity Severity `json:"severity"`
	Title    string   `json:"title"`
	// Feature is the name of the feature the check belongs to.
	Feature string `json:"feature"`
	// Steps are the scenario's steps, keyword included ("When InnoPaaS
	// pushes …"): what the partner reads as the expectation.
	Steps []string `json:"steps"`
}

// CheckList is the certification suite: every check, in the features' order.
type CheckList []Check

var (
	idTag = regexp.MustCompile(`^@(CERT-[A-Z]+-[0-9]{2})$`)
	// The Gherkin parser keeps a description's indentation; the features
	// indent theirs by two spaces.
	descIndent = regexp.MustCompile(`(?m)^  `)
)

// FeatureInfo is a certification feature: its name and the description
// that explains its checks to a partner.
type FeatureInfo struct {
	Name        string `json:"name"`
	Description string `json:"description"`
}

// LoadChecks reads the check list from the certification features (the
// embedded ones when fsys is nil). Every scenario must carry exactly one
// id tag and exactly one severity tag, ids must be unique, and every check
// must have a place in the run's phases: a feature file that breaks one of
// these is refused, naming the scenario.
func LoadChecks(fsys fs.FS) (CheckList, []FeatureInfo, error) {
	if fsys == nil {
		fsys = certification.FS
	}
	features, err := godog.TestSuite{Options: &godog.Options{FS: fsys, Paths: []string{"."}}}.RetrieveFeatures()
	if err != nil {
		return nil, nil, fmt.Errorf("certification features: %w", err)
	}
	inPhase := map[string]bool{}
	for _, p := range phases {
		for _, id := range p {
			inPhase[id] = true
		}
	}
	var list CheckList
	var infos []FeatureInfo
	seen := map[string]string{}
	for _, f := range features {
		doc := f.GherkinDocument
		if doc == nil || doc.Feature == nil {
			continue
		}
		infos = append(infos, FeatureInfo{Name: doc.Feature.Name, Description: strings.TrimSpace(descIndent.ReplaceAllString(doc.Feature.Description, ""))})
		for _, child := range doc.Feature.Children {
			sc := child.Scenario
			if sc == nil {
				continue
			}
			where := fmt.Sprintf("%s: scenario %q", doc.Uri, sc.Name)
			c := Check{Title: sc.Name, Feature: doc.Feature.Name}
			for _, t := range sc.Tags {
				switch {
				case idTag.MatchString(t.Name):
					if c.ID != "" {
						return nil, nil, fmt.Errorf("%s has two check ids, %s and %s", where, c.ID, t.Name[1:])
					}
					c.ID = t.Name[1:]
				case t.Name == "@required" || t.Name == "@recommended":
					if c.Severity != "" {
						return nil, nil, fmt.Errorf("%s has two severities", where)
					}
					c.Severity = Severity(t.Name[1:])
				}
			}
			switch {
			case c.ID == "":
				return nil, nil, fmt.Errorf("%s has no check id tag (@CERT-AREA-NN)", where)
			case c.Severity == "":
				return nil, nil, fmt.Errorf("%s has no severity tag (@required or @recommended)", where)
			case seen[c.ID] != "":
				return nil, nil, fmt.Errorf("%s reuses the id %s of scenario %q", where, c.ID, seen[c.ID])
			case !inPhase[c.ID]:
				return nil, nil, fmt.Errorf("%s: check %s has no place in the run's phases (certify/checks.go)", where, c.ID)
			}
			seen[c.ID] = sc.Name
			for _, st := range sc.Steps {
				c.Steps = append(c.Steps, strings.TrimSpace(st.Keyword)+" "+st.Text)
			}
			list = append(list, c)
		}
	}
	for id := range inPhase {
		if seen[id] == "" {
			return nil, nil, fmt.Errorf("check %s is in the run's phases but no scenario carries it", id)
		}
	}
	return list, infos, nil
}

// SHA256 returns the hex SHA-256 of the canonical form of the list: one
// line "id<TAB>severity<TAB>title" per check, sorted by id. Two reports
// with the same digest were graded against the same checks.
func (l CheckList) SHA256() string {
	lines := make([]string, 0, len(l))
	for _, c := range l {
		lines = append(lines, c.ID+"\t"+string(c.Severity)+"\t"+c.Title+"\n")
	}
	sort.Strings(lines)
	sum := sha256.Sum256([]byte(strings.Join(lines, "")))
	return hex.EncodeToString(sum[:])
}

// Find returns the check with the id.
func (l CheckList) Find(id string) (Check, bool) {
	for _, c := range l {
		if c.ID == id {
			return c, true
		}
	}
	return Check{}, false
}
