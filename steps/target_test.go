package steps

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestTargetMissing(t *testing.T) {
	creds := Credentials{AppKey: "XFbZY1rtTKo3UD4n1", Authorization: "TOKEN"}
	sandbox := Target{Kind: KindSandbox, BaseURL: "http://127.0.0.1:1"}
	url := Target{Kind: KindURL, BaseURL: "http://127.0.0.1:1"}
	real := Target{Kind: KindReal, BaseURL: "https://api.example.com", Credentials: creds}
	tests := []struct {
		name    string
		target  Target
		cap     Capability
		restart bool
		reason  string // a part of the reason; "" when the target has it
	}{
		{"a sandbox has the control API", sandbox, CapControl, false, ""},
		{"a sandbox at a URL has the control API", url, CapControl, false, ""},
		{"a real target has no control API", real, CapControl, false, "--target sandbox or --target url"},
		{"a sandbox provisions credentials", sandbox, CapCredentials, false, ""},
		{"a real target with credentials", real, CapCredentials, false, ""},
		{"a real target without credentials", Target{Kind: KindReal, BaseURL: "https://x"}, CapCredentials, false, "INNOPAAS_APPKEY and INNOPAAS_AUTHORIZATION"},
		{"a real target without a superseded token", real, CapSuperseded, false, "INNOPAAS_SUPERSEDED_TOKEN"},
		{"a sandbox supersedes tokens itself", sandbox, CapSuperseded, false, ""},
		{"a sandbox may take sends", sandbox, CapSends, false, ""},
		{"a real target needs the opt-in to send", real, CapSends, false, "--allow-sends"},
		{"a real target with the opt-in", Target{Kind: KindReal, BaseURL: "https://x", AllowSends: true}, CapSends, false, ""},
		{"restart with a private sandbox", sandbox, CapRestart, true, ""},
		{"restart without one", sandbox, CapRestart, false, "cannot start"},
		{"restart at a URL", url, CapRestart, false, "--target sandbox"},
		{"restart on a real target", real, CapRestart, false, "--target sandbox"},
		{"an account of its own at a URL", url, CapOwnAccount, false, ""},
		{"an account of its own with an account token", Target{Kind: KindURL, BaseURL: "http://127.0.0.1:1", AccountToken: "isa_x"}, CapOwnAccount, false, "--admin-token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.target.Missing(tt.cap, tt.restart)
			if tt.reason == "" {
				assert.Empty(t, got)
			} else {
				assert.Contains(t, got, tt.reason)
				assert.NotContains(t, got, "\n", "a skip reason is one line")
			}
		})
	}
}

func TestTargetValidate(t *testing.T) {
	valid := Target{Kind: KindReal, BaseURL: "https://api.example.com"}
	assert.NoError(t, valid.Validate())
	tests := []struct {
		name   string
		change func(*Target)
	}{
		{"unknown kind", func(t *Target) { t.Kind = "prod" }},
		{"no base URL", func(t *Target) { t.BaseURL = "" }},
		{"a base URL without a scheme", func(t *Target) { t.BaseURL = "api.example.com" }},
		{"a message that is not JSON", func(t *Target) { t.Message = []byte("{") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tg := valid
			tt.change(&tg)
			assert.Error(t, tg.Validate())
		})
	}
}

func TestCredentialsFromEnv(t *testing.T) {
	env := map[string]string{EnvAppKey: " XFbZY1rtTKo3UD4n1 ", EnvAuthorization: "TOKEN", EnvSupersededToken: ""}
	got := CredentialsFromEnv(func(k string) string { return env[k] })
	assert.Equal(t, Credentials{AppKey: "XFbZY1rtTKo3UD4n1", Authorization: "TOKEN"}, got)
}
