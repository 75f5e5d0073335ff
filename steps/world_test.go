package steps

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestParseSpan(t *testing.T) {
	d, err := parseSpan(10, "years")
	assert.NoError(t, err)
	assert.Equal(t, "87600h0m0s", d.String())
	d, err = parseSpan(1, "minute")
	assert.NoError(t, err)
	assert.Equal(t, "1m0s", d.String())
	_, err = parseSpan(1, "fortnight")
	assert.Error(t, err)
}

func TestParseAnswers(t *testing.T) {
	got, err := parseAnswers("500, then 429, then 200")
	assert.NoError(t, err)
	assert.Equal(t, []Answer{{Status: 500}, {Status: 429}, {Status: 200}}, got)
	_, err = parseAnswers("500 then 200")
	assert.Error(t, err)
}

func TestAliasOf(t *testing.T) {
	assert.Equal(t, "my app", aliasOf("my app"))
	assert.Equal(t, "my app", aliasOf("my receiver"))
	assert.Equal(t, "orders", aliasOf(`the app "orders"`))
	assert.Equal(t, "orders", aliasOf(`the receiver of "orders"`))
}

// On a real target every default send goes to a number no phone has; on a
// sandbox the docs' example numbers stay, so sandbox scenarios read as the
// docs do.
func TestDefaultSendsReachNoOneOnARealTarget(t *testing.T) {
	for _, tt := range []struct {
		name string
		kind Kind
		want string
	}{
		{"real target", KindReal, UnassignedNumber},
		{"sandbox", KindSandbox, RecipientNumber},
	} {
		t.Run(tt.name, func(t *testing.T) {
			w := &world{s: &Suite{cfg: Config{Target: Target{Kind: tt.kind}}}}
			for _, body := range []map[string]any{DefaultMessage(), DefaultSMS(), DefaultOTP()} {
				w.reachNoOne(body)
				for _, k := range recipientMembers {
					if v, ok := body[k]; ok {
						assert.Equal(t, tt.want, v, k)
					}
				}
			}
		})
	}
	assert.True(t, strings.HasPrefix(UnassignedNumber, "999"))
}
