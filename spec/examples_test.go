package spec_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/innosandbox/innosandbox/spec"
)

func TestEveryEventHasAnExampleThatPassesItsOwnJudgement(t *testing.T) {
	s := load(t)
	for _, name := range s.EventTypes("") {
		t.Run(name, func(t *testing.T) {
			ex, ok := s.EventExample(name)
			require.True(t, ok, "the sandbox builds triggered events from the example")
			vs, err := s.PayloadViolations(name, ex)
			require.NoError(t, err)
			assert.Empty(t, vs)
		})
	}
}

func TestExamplesAreFreshCopies(t *testing.T) {
	s := load(t)
	a, ok := s.EventExample("whatsapp_message_status_updated")
	require.True(t, ok)
	a["body"].(map[string]any)["status"] = "changed"
	b, _ := s.EventExample("whatsapp_message_status_updated")
	assert.Equal(t, "delivered", b["body"].(map[string]any)["status"])
	_, ok = s.EventExample("nope")
	assert.False(t, ok)
}

func TestBranchExample(t *testing.T) {
	s := load(t)
	img, ok := s.BranchExample("WhatsappMoMessageBody", "image")
	require.True(t, ok)
	assert.Equal(t, "image", img["type"])
	assert.Contains(t, img, "image")
	_, ok = s.BranchExample("WhatsappMoMessageBody", "poll")
	assert.False(t, ok)
	_, ok = s.BranchExample("Contact", "x")
	assert.False(t, ok, "no discriminator")
}

func TestPayloadViolationsNameUnknownFieldsToo(t *testing.T) {
	s := load(t)
	ex, _ := s.EventExample("whatsapp_message_status_updated")
	body := ex["body"].(map[string]any)
	body["status"] = "seen"
	body["colour"] = "red"
	vs, err := s.PayloadViolations("whatsapp_message_status_updated", ex)
	require.NoError(t, err)
	var got []string
	for _, v := range vs {
		got = append(got, v.String())
	}
	assert.Contains(t, got, "/body/colour: the contract defines no such field")
	assert.Contains(t, got, `/body/status: value "seen" is not one of SMECL:FAILED, delivered, failed, read`)
	_, err = s.PayloadViolations("nope", ex)
	assert.ErrorIs(t, err, spec.ErrUnknownEvent)
	assert.ErrorContains(t, err, "whatsapp_mo_message_received", "the error lists the known types")
}
