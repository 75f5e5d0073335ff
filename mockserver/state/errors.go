package state

import (
	"errors"
	"fmt"
)

// ErrInvalid marks a request the domain refuses; InvalidError says which field.
var ErrInvalid = errors.New("invalid")

// InvalidError is a refusal that names the field and the rule broken.
type InvalidError struct {
	Field   string // JSON pointer of the field, e.g. "/url"
	Message string
}

func (e *InvalidError) Error() string { return e.Field + ": " + e.Message }

// Is makes errors.Is(err, ErrInvalid) true.
func (e *InvalidError) Is(target error) bool { return target == ErrInvalid }

func invalid(field, format string, args ...any) error {
	return &InvalidError{Field: field, Message: fmt.Sprintf(format, args...)}
}

// BusinessError is a refusal InnoPaaS documents with its own code
// (answered with the envelope, not as a malformed request).
type BusinessError struct {
	Code    string // e.g. "108"
	Field   string // JSON pointer of the field at fault
	Message string
}

func (e *BusinessError) Error() string { return e.Message }
