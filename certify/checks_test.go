package certify_test

import (
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/innosandbox/innosandbox/certify"
)

// TestCheckListIsPinned fails whenever a check's id, severity or title
// changes: bump SuiteVersion, then pin the new digest here, so that two
// reports with the same suite version were always graded alike.
func TestCheckListIsPinned(t *testing.T) {
	list, features, err := certify.LoadChecks(nil)
	require.NoError(t, err)
	assert.Equal(t, "1.0.0", certify.SuiteVersion)
	assert.Equal(t, "3925c23f3c574f3aedf996ff8b7cef336d3708f0c5900b797de802703711a2aa", list.SHA256(),
		"the check list changed: bump certify.SuiteVersion and pin the new digest")
	assert.Len(t, list, 15)
	assert.Len(t, features, 6)
	for _, c := range list {
		assert.NotEmpty(t, c.Steps, c.ID)
		assert.GreaterOrEqual(t, certify.PhaseOf(c.ID), 0, c.ID)
	}
}

func TestLoadChecksRefusesAnUntaggedScenario(t *testing.T) {
	feature := func(tags string) fstest.MapFS {
		return fstest.MapFS{"a.feature": {Data: []byte("Feature: F\n\n  " + tags + "\n  Scenario: S\n    When x\n")}}
	}
	tests := map[string]string{
		"":                                      "no check id",
		"@CERT-REACH-01":                        "no severity",
		"@CERT-REACH-01 @required @recommended": "two severities",
		"@CERT-NEW-01 @required":                "no place in the run's phases",
		"@CERT-REACH-01 @required":              "no scenario carries it",
	}
	for tags, want := range tests {
		_, _, err := certify.LoadChecks(feature(tags))
		require.Error(t, err, tags)
		assert.Contains(t, err.Error(), want, tags)
	}
}
