//go:build !unix

package sqlite

import "os"

// lockFile is a no-op where advisory file locks are not available; run one
// sandbox process per file there.
func lockFile(string) (*os.File, error) { return nil, nil }
