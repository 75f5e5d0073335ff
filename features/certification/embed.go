// Package certification holds the certification checks a partner's webhook
// endpoint must pass before it goes live, written as Gherkin so that a
// partner can read them as the statement of what is expected of them.
//
// Each scenario is one check: its tags name the check's id (@CERT-…-NN) and
// its severity (@required or @recommended), and its name is the check's
// title. `innosandbox certify` runs them against the partner's URL; package
// certify implements their steps.
package certification

import "embed"

// FS holds every certification .feature file, at its root.
//
//go:embed *.feature
var FS embed.FS
