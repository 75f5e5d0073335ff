package steps

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
)

// The steps fail in one way: they return an error that says what was
// expected and what came, followed, when the step judges a call, by that
// call's Summary (method, URL, status, the sandbox's explanation headers,
// body). `innosandbox test` shows the error under the failed step, with the
// scenario's last request and answer; a step that checks several things
// joins the errors of every check that failed (errors.Join of nils is nil),
// so that one run shows them all.

// errNoCall is the error of a step that judges a call no step made.
var errNoCall = errors.New("no call was made: an earlier step sends one")

// expectEqual returns nil when got equals want, else "<what>: expected
// <want>, got <got>".
func expectEqual(what string, want, got any) error {
	if reflect.DeepEqual(want, got) {
		return nil
	}
	return fmt.Errorf("%s: expected %s, got %s", what, show(want), show(got))
}

// expect returns nil when ok, else an error with the formatted message.
func expect(ok bool, format string, args ...any) error {
	if ok {
		return nil
	}
	return fmt.Errorf(format, args...)
}

// about follows a step's error with the summary of the call it judged (nil
// stays nil).
func about(err error, ex *Exchange) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%w\n(%s)", err, ex.Summary())
}

// show renders a value for a failure message: strings quoted, pointers
// followed, nil as "none".
func show(v any) string {
	if v == nil {
		return "none"
	}
	rv := reflect.ValueOf(v)
	if rv.Kind() == reflect.Pointer {
		if rv.IsNil() {
			return "none"
		}
		return show(rv.Elem().Interface())
	}
	switch x := v.(type) {
	case string:
		return fmt.Sprintf("%q", x)
	case []string:
		q := make([]string, len(x))
		for i, s := range x {
			q[i] = fmt.Sprintf("%q", s)
		}
		return "[" + strings.Join(q, ", ") + "]"
	}
	return fmt.Sprintf("%v", v)
}
