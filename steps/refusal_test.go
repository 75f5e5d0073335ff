package steps

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestIsRefused(t *testing.T) {
	env := func(code string) *Envelope { return &Envelope{Code: code, Message: "m"} }
	tests := []struct {
		name    string
		status  int
		env     *Envelope
		refused bool
	}{
		{"the sandbox's 401", http.StatusUnauthorized, env("102"), true},
		{"a 401 without a body", http.StatusUnauthorized, nil, true},
		{"a 403", http.StatusForbidden, env("403"), true},
		{"a real endpoint's HTTP 200 with code 102", http.StatusOK, env("102"), true},
		{"HTTP 200 with any other code", http.StatusOK, env("110"), true},
		{"an accepted call", http.StatusOK, env("0"), false},
		{"an OTP send accepted as the newer client reads it", http.StatusOK, env("000000"), false},
		{"four zeros are not the newer client's success", http.StatusOK, env("0000"), true},
		{"HTTP 200 that is not an envelope", http.StatusOK, nil, false},
		{"a 400 is a malformed call, not a refusal of the credentials", http.StatusBadRequest, env("400"), false},
		{"a 500", http.StatusInternalServerError, env("500"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, seen := IsRefused(tt.status, tt.env)
			assert.Equal(t, tt.refused, got)
			assert.Contains(t, seen, "HTTP ")
		})
	}
}

func TestCompareAuthRefusal(t *testing.T) {
	choice := AuthChoice{Status: http.StatusUnauthorized, Code: "102", Message: "authentication failure"}
	header := func(reason string) http.Header {
		h := http.Header{}
		if reason != "" {
			h.Set(HeaderAuthReason, reason)
		}
		return h
	}
	exact := &Envelope{Code: "102", Message: "authentication failure", Data: []byte("null")}
	tests := []struct {
		name       string
		status     int
		header     http.Header
		env        *Envelope
		withReason bool
		diffs      []string
	}{
		{"the sandbox's own answer", 401, header("token-superseded"), exact, true, nil},
		{"data absent counts as null", 401, header("token-superseded"), &Envelope{Code: "102", Message: "authentication failure"}, true, nil},
		{"a real endpoint refusing with HTTP 200", 200, header(""), exact, false, []string{"HTTP 200 where the sandbox answers 401"}},
		{"another code", 401, header("token-superseded"), &Envelope{Code: "101", Message: "authentication failure"}, true, []string{`code "101" where the sandbox answers "102"`}},
		{"a message that says more than the one message", 401, header("token-superseded"), &Envelope{Code: "102", Message: "your token was superseded"}, true,
			[]string{`message "your token was superseded" where the sandbox answers "authentication failure"`}},
		{"data in the refusal", 401, header("token-superseded"), &Envelope{Code: "102", Message: "authentication failure", Data: []byte(`"x"`)}, true, []string{`data "x" where the sandbox answers null`}},
		{"the wrong reason", 401, header("token-invalid"), exact, true, []string{`X-Sandbox-Auth-Reason "token-invalid" where "token-superseded" was expected`}},
		{"no reason header", 401, header(""), exact, true, []string{`X-Sandbox-Auth-Reason (absent) where "token-superseded" was expected`}},
		{"no reason header is fine off the sandbox", 401, header(""), exact, false, nil},
		{"no envelope", 401, header("token-superseded"), nil, true, []string{`no JSON envelope where the sandbox answers one with code "102"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := CompareAuthRefusal(choice, "token-superseded", tt.withReason, tt.status, tt.header, tt.env)
			assert.Equal(t, tt.diffs, got)
		})
	}
}

func TestParseEnvelope(t *testing.T) {
	tests := []struct {
		name, body, code, data string
		wantErr                bool
	}{
		{name: "string code", body: `{"code":"0","message":"Success","data":"356139161272397824"}`, code: "0", data: "356139161272397824"},
		{name: "numeric code, as the legacy docs describe it", body: `{"code":102,"message":"x","data":null}`, code: "102"},
		{name: "no code", body: `{"message":"x"}`, wantErr: true},
		{name: "not JSON", body: `<html>`, wantErr: true},
		{name: "a code of another type", body: `{"code":true}`, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env, err := ParseEnvelope([]byte(tt.body))
			if tt.wantErr {
				assert.Error(t, err)
				return
			}
			if assert.NoError(t, err) {
				assert.Equal(t, tt.code, env.Code)
				assert.Equal(t, tt.data, env.DataString())
			}
		})
	}
}
