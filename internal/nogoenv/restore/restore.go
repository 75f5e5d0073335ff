// Package restore puts back the PATH that package nogoenv hid. It imports
// godog, so it is initialised after godog and its builder; a program
// imports it (blank) to get both halves.
package restore

import (
	_ "github.com/cucumber/godog" // initialised before this package: the point of it

	"github.com/innosandbox/innosandbox/internal/nogoenv"
)

func init() { nogoenv.Restore() }
