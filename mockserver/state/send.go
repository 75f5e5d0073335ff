package state

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/innosandbox/innosandbox/internal/payload"
)

// MaxRecipients is the documented limit of numbers in one send.
const MaxRecipients = 1000

// Documented result codes the sandbox returns.
const (
	CodeUIDTooLong     = "105" // batch number (uid) too long
	CodeContentTooLong = "106" // content too long
	CodeBadNumber      = "108" // bad phone number format (fewer than 5 or more than 20 digits)
	CodeRecipientCount = "109" // wrong number of phone numbers
)

// CheckLength refuses a value longer than max characters with code.
func CheckLength(field, value string, max int, code string) error {
	if n := utf8.RuneCountInString(value); n > max {
		return &BusinessError{Code: code, Field: field,
			Message: fmt.Sprintf("%s: %d characters; at most %d are allowed", field, n, max)}
	}
	return nil
}

// ParseRecipients splits a comma-separated recipient list and checks each
// number (5 to 20 digits) and the count (1 to 1000).
func ParseRecipients(field, list string) ([]string, error) {
	parts := strings.Split(list, ",")
	if len(parts) > MaxRecipients {
		return nil, &BusinessError{Code: CodeRecipientCount, Field: field,
			Message: fmt.Sprintf("%s: %d numbers given; at most %d are allowed", field, len(parts), MaxRecipients)}
	}
	out := make([]string, 0, len(parts))
	for i, p := range parts {
		p = strings.TrimSpace(p)
		if !payload.IsDigits(p, 5, 20) {
			return nil, &BusinessError{Code: CodeBadNumber, Field: field,
				Message: fmt.Sprintf("%s: number %d (%q) must be 5 to 20 digits: country code and number, no + or spaces", field, i+1, p)}
		}
		out = append(out, p)
	}
	return out, nil
}

// recordSend stores a send's submission with the events build makes for
// its message (they carry its id), drawing a new id when another replica
// sharing the database drew the same time-ordered one in the same
// millisecond.
func (s *Sandbox) recordSend(ctx context.Context, sub Submission, build func(Message) []Event) (Message, error) {
	var err error
	for tries := 0; ; tries++ {
		sub.Message.ID = NewMessageID(s.clock.Now())
		sub.Events = build(sub.Message)
		if tries == 0 {
			if err := s.checkPending(ctx, sub.Message.Account, sub.Events); err != nil {
				return Message{}, err
			}
		}
		err = s.store.RecordSubmission(ctx, sub)
		if !errors.Is(err, ErrConflict) || tries == 3 {
			break
		}
	}
	if err != nil {
		return Message{}, err
	}
	s.notify()
	return sub.Message, nil
}
