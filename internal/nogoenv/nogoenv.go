// Package nogoenv keeps godog's package initialisation from running the go
// command. godog v0.16.0's internal/builder runs `go env GOTOOLDIR` while
// its package initialises, in every process that links godog whatever it is
// about to do, and throws the answer away when the command succeeds (it
// falls back to go/build's ToolDir). Where Go is installed that costs 6 to
// 40 ms of every start of innosandbox: serve's cold start, every
// healthcheck, trigger and replay.
//
// Importing this package hides PATH from the package initialisations that
// follow it; package restore, which is initialised after godog, puts it
// back before main runs. The order is the language's: since Go 1.21 the
// first package, in import-path order, whose imports are all initialised
// is initialised next. This package imports only os, and its path sorts
// before go/build, which godog's builder imports, so it always runs before
// the builder. A test of the command checks that no go command runs.
package nogoenv

import "os"

var (
	path string
	had  bool
)

func init() {
	path, had = os.LookupEnv("PATH")
	_ = os.Setenv("PATH", "")
}

// Restore puts PATH back as the process received it.
func Restore() {
	if had {
		_ = os.Setenv("PATH", path)
	} else {
		_ = os.Unsetenv("PATH")
	}
}
