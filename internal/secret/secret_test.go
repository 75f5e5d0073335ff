package secret

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestMask(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"empty", "", "****"},
		{"short is hidden whole", "abcd1234", "****"},
		{"long keeps its last 4", "Bearer s3cret-token", "****oken"},
		{"runes, not bytes", "ééééééééé€€€€", "****€€€€"},
		{"masking twice is masking once", "****oken", "****oken"},
	} {
		t.Run(tc.name, func(t *testing.T) { assert.Equal(t, tc.want, Mask(tc.in)) })
	}
	assert.Nil(t, MaskPtr(nil))
	assert.Equal(t, "****", *MaskPtr(ptr("x")))
}

func ptr(s string) *string { return &s }

func TestMaskHeader(t *testing.T) {
	in := map[string][]string{
		"Authorization": {"Bearer s3cret-token"},
		"UserName":      {"partner"},
		"X-Echo":        {"got Bearer s3cret-token back"},
	}
	out := MaskHeader(in, "Bearer s3cret-token")
	assert.Equal(t, []string{"****oken"}, out["Authorization"])
	assert.Equal(t, []string{"partner"}, out["UserName"])
	assert.Equal(t, []string{"got ****oken back"}, out["X-Echo"])
	assert.Equal(t, []string{"Bearer s3cret-token"}, in["Authorization"], "the input is left as it was")
	assert.Nil(t, MaskHeader(nil))
}

func TestMaskBytes(t *testing.T) {
	for _, tc := range []struct {
		name, body, secret, want string
	}{
		{"a whole JSON string", `{"pswd":"pw1"}`, "pw1", `{"pswd":"****"}`},
		{"a short secret inside other text stays", `{"msg":"pw1 is here"}`, "pw1", `{"msg":"pw1 is here"}`},
		{"raw text", `got Bearer s3cret-token`, "Bearer s3cret-token", `got ****oken`},
		{"JSON-escaped", `{"echo":"say \"hi\" s3cret\"quote"}`, `s3cret"quote`, `{"echo":"say \"hi\" ****uote"}`},
		{"HTML-escaped", `{"echo":"a\u003cb\u003e-long-secret"}`, `a<b>-long-secret`, `{"echo":"****cret"}`},
		{"nothing to mask", `{"a":"b"}`, "", `{"a":"b"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, string(MaskBytes([]byte(tc.body), tc.secret)))
		})
	}
}
