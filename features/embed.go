// Package features holds the Gherkin features that say, in a user's words,
// what InnoPaaS does and what the sandbox adds. They are embedded so that
// `innosandbox test` runs them without the source tree; `go test ./features`
// runs them against an in-process sandbox.
package features

import "embed"

// FS holds every .feature file, at its root.
//
//go:embed *.feature
var FS embed.FS
