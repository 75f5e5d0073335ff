package steps

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// recordingT keeps what testify reports, as godog's T would.
type recordingT struct{ msgs []string }

func (r *recordingT) Errorf(format string, args ...any) {
	r.msgs = append(r.msgs, fmt.Sprintf(format, args...))
}

func TestWithoutTraceKeepsTheMessageAndDropsTheStack(t *testing.T) {
	rec := &recordingT{}
	assert.Equal(rec, "102", "0", "the code of %s", "POST /x")
	require.Len(t, rec.msgs, 1)
	raw := rec.msgs[0]
	require.Contains(t, raw, "Error Trace", "testify's message as it comes")

	got := withoutTrace(raw)
	assert.NotContains(t, got, "Error Trace")
	assert.NotContains(t, got, "people_test.go")
	assert.Contains(t, got, "Not equal")
	assert.Contains(t, got, `expected: "102"`)
	assert.Contains(t, got, `actual  : "0"`)
	assert.Contains(t, got, "Messages: the code of POST /x")
}

func TestWithoutTraceLeavesOtherTextAlone(t *testing.T) {
	assert.Equal(t, "HTTP 401 where the sandbox answers 403", withoutTrace("HTTP 401 where the sandbox answers 403"))
	assert.Equal(t, "checks failed:\n* a: b", withoutTrace("checks failed:\n* a: b"))
}

func TestHeadline(t *testing.T) {
	tests := []struct {
		name    string
		total   int
		counts  map[Outcome]int
		reasons map[string]int
		want    string
	}{
		{"all passed", 3, map[Outcome]int{OutcomePassed: 3}, nil, "3 scenarios: 3 passed, 0 skipped, 0 failed"},
		{"one", 1, map[Outcome]int{OutcomeFailed: 1}, nil, "1 scenario: 0 passed, 0 skipped, 1 failed"},
		{"skips grouped, most first", 242, map[Outcome]int{OutcomePassed: 10, OutcomeSkipped: 232},
			map[string]int{"would send real messages": 32, "needs the sandbox control API": 200},
			"242 scenarios: 10 passed, 232 skipped (needs the sandbox control API: 200; would send real messages: 32), 0 failed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, Headline(tt.total, tt.counts, tt.reasons))
		})
	}
}
