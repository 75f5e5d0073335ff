package state_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/innosandbox/innosandbox/mockserver/state"
)

// The stores' messages are read by users and tests: NotFound and Conflict
// must say exactly what fmt.Errorf("%s %q: %w") said before them.
func TestNotFoundAndConflictNameTheKey(t *testing.T) {
	for _, key := range []string{"XFbZY1rtTKo3UD4n1", `a "quoted" ü key`, ""} {
		nf, c := state.NotFound("app", key), state.Conflict("webhook", key)
		assert.Equal(t, fmt.Errorf("%s %q: %w", "app", key, state.ErrNotFound).Error(), nf.Error())
		assert.Equal(t, fmt.Errorf("%s %q: %w", "webhook", key, state.ErrConflict).Error(), c.Error())
		assert.True(t, errors.Is(nf, state.ErrNotFound) && !errors.Is(nf, state.ErrConflict))
		assert.True(t, errors.Is(c, state.ErrConflict) && !errors.Is(c, state.ErrNotFound))
	}
}
