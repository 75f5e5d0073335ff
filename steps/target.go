// Package steps implements the Gherkin steps of the innosandbox features. It
// speaks HTTP only, through a Target: an innosandbox (its public and control
// APIs) or a real InnoPaaS endpoint (its public API only). It never imports
// the sandbox's code, so the same steps hold a real endpoint to the contract.
//
// Every scenario gets its own world: its own account and apps (on a sandbox),
// its own webhook receiver and unique ids, so scenarios run concurrently.
// Every answer is validated against the spec, and every webhook received
// against its payload schema and the configuration that asked for it.
//
// What InnoPaaS documents is asserted on every target; what the sandbox
// chose where the docs are silent (HTTP 401, X-Sandbox-Auth-Reason, 415 ...)
// is asserted only on an innosandbox. Where a real target differs from such a
// choice, the difference is reported as drift instead of failing the suite.
package steps

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// Kind says what a target is.
type Kind string

// Target kinds.
const (
	// KindSandbox is an innosandbox the harness started itself, in process.
	KindSandbox Kind = "sandbox"
	// KindURL is an innosandbox already running at a URL.
	KindURL Kind = "url"
	// KindReal is an InnoPaaS-compatible endpoint: the public API only.
	KindReal Kind = "real"
)

// ParseKind reads a --target value.
func ParseKind(s string) (Kind, error) {
	switch k := Kind(s); k {
	case KindSandbox, KindURL, KindReal:
		return k, nil
	}
	return "", fmt.Errorf("target %q: use sandbox, url or real", s)
}

// Innosandbox reports whether the target is an innosandbox, so that the
// sandbox's own choices and its control API can be relied on.
func (k Kind) Innosandbox() bool { return k == KindSandbox || k == KindURL }

// Environment variables a real target takes its credentials from.
const (
	EnvAppKey          = "INNOPAAS_APPKEY"
	EnvAuthorization   = "INNOPAAS_AUTHORIZATION"
	EnvSupersededToken = "INNOPAAS_SUPERSEDED_TOKEN"
	// EnvMessage holds the JSON body of a message the suite may send on a
	// real target (with --allow-sends): a real WABA, sender, recipient and
	// template. The docs' template example is used when it is not set.
	EnvMessage = "INNOPAAS_MESSAGE"
)

// Credentials identify an app and its tokens on a real target.
type Credentials struct {
	AppKey          string
	Authorization   string // the app's current token
	SupersededToken string // optional: a token of the app issued before the current one
}

// CredentialsFromEnv reads credentials from the environment (getenv is
// os.Getenv outside tests).
func CredentialsFromEnv(getenv func(string) string) Credentials {
	return Credentials{
		AppKey:          strings.TrimSpace(getenv(EnvAppKey)),
		Authorization:   strings.TrimSpace(getenv(EnvAuthorization)),
		SupersededToken: strings.TrimSpace(getenv(EnvSupersededToken)),
	}
}

// Target is what the features run against.
type Target struct {
	Kind Kind
	// BaseURL is where the public API (and, on an innosandbox, the control
	// API) is served, e.g. http://127.0.0.1:8080 or https://api.innopaas.com.
	BaseURL string
	// AdminToken is sent as X-Sandbox-Admin-Token on control calls when set.
	AdminToken string
	// AccountToken, when set, is sent as X-Sandbox-Account-Token on control
	// calls instead: every scenario then runs in that one account (the
	// sandbox lets the token reach no other), which the suite keeps, and
	// scenarios that create further accounts are skipped.
	AccountToken string
	// Credentials are used on a real target, where apps cannot be created.
	Credentials Credentials
	// AllowSends lets scenarios that send messages run on a real target.
	AllowSends bool
	// Message is the body a send uses on a real target (EnvMessage).
	Message json.RawMessage
	// Client makes every call (a client with a 10s timeout when nil).
	Client *http.Client
}

// Validate reports a target that cannot be used, naming the setting.
func (t Target) Validate() error {
	if _, err := ParseKind(string(t.Kind)); err != nil {
		return err
	}
	if t.BaseURL == "" {
		return errors.New("target: a base URL is needed")
	}
	u, err := url.Parse(t.BaseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("target: base URL %q must be an http or https URL with a host", t.BaseURL)
	}
	if len(t.Message) > 0 {
		var m map[string]any
		if err := json.Unmarshal(t.Message, &m); err != nil {
			return fmt.Errorf("target: %s is not a JSON object: %w", EnvMessage, err)
		}
	}
	return nil
}

// Capability is something a scenario may need from its target.
type Capability string

// Capabilities. Tags ask for some of them (see tagCapabilities); steps ask
// for the others when they run.
const (
	// CapControl: provision accounts, apps, tokens, webhooks, bindings and
	// the clock through the sandbox's control API; trust the sandbox's own
	// choices. Only an innosandbox has it.
	CapControl Capability = "control"
	// CapCredentials: an app and its current token to call with.
	CapCredentials Capability = "credentials"
	// CapSuperseded: a token of the app that a newer one replaced.
	CapSuperseded Capability = "superseded-token"
	// CapSends: permission to send messages that are accepted.
	CapSends Capability = "sends"
	// CapRestart: a private sandbox the scenario may stop and start again.
	CapRestart Capability = "restart"
	// CapOwnAccount: an account of the scenario's own, fresh (it counts or
	// moves what the whole account holds). A target driven with an account
	// token shares one account between every scenario.
	CapOwnAccount Capability = "own-account"
)

// tagCapabilities maps scenario tags onto what they need.
var tagCapabilities = map[string]Capability{
	"@sandbox-only": CapControl,
	"@sends":        CapSends,
	"@restart":      CapRestart,
	"@own-account":  CapOwnAccount,
}

// Missing returns why the target lacks a capability, as a one-line reason
// that says how to get it; "" when it has it. restart tells whether a
// private sandbox can be started.
func (t Target) Missing(c Capability, restart bool) string {
	switch c {
	case CapControl:
		if !t.Kind.Innosandbox() {
			return "needs the sandbox control API: run with --target sandbox or --target url"
		}
	case CapCredentials:
		if !t.Kind.Innosandbox() && (t.Credentials.AppKey == "" || t.Credentials.Authorization == "") {
			return fmt.Sprintf("needs an app's credentials on a real target: set %s and %s", EnvAppKey, EnvAuthorization)
		}
	case CapSuperseded:
		if !t.Kind.Innosandbox() && t.Credentials.SupersededToken == "" {
			return fmt.Sprintf("needs a superseded token on a real target: set %s to a token of the app issued before its current one", EnvSupersededToken)
		}
	case CapSends:
		if !t.Kind.Innosandbox() && !t.AllowSends {
			return fmt.Sprintf("would send real messages: run with --allow-sends (and set %s to a message you may send)", EnvMessage)
		}
	case CapOwnAccount:
		if t.AccountToken != "" {
			return "needs a fresh account of its own, and an account token gives one shared account: run with --admin-token"
		}
	case CapRestart:
		switch {
		case restart:
		case t.Kind == KindSandbox:
			return "needs a sandbox the suite can restart on a state file, which this build cannot start"
		default:
			return "needs a sandbox the suite can restart on a state file: run with --target sandbox (or go test ./features)"
		}
	}
	return ""
}
