//go:build unix

package sqlite

import (
	"errors"
	"fmt"
	"os"
	"syscall"
)

// lockFile takes an exclusive advisory lock on the database file for the
// life of the Store: one sandbox process per file. The Store caches what
// authentication reads (authCache), which is only right while nobody else
// writes the file; several replicas share a PostgreSQL database instead.
func lockFile(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		_ = f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("%w: %s is in use by another innosandbox process (one process per SQLite file; share state between replicas with PostgreSQL)", ErrLocked, path)
		}
		return nil, err
	}
	return f, nil
}
