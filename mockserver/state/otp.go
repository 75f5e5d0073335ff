package state

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/innosandbox/innosandbox/internal/payload"
)

// EventOTPStatus is the sandbox's name for the OTP status push, a flat
// payload without a type (docs/DECISIONS.md row 27).
const EventOTPStatus = "otp_status_report"

// When an OTP send's pushes come, on the account's sandbox clock: first
// "in progress", then the final state, as the issue asks
// (docs/DECISIONS.md row 36).
const (
	OTPProgressAfter = 1 * time.Second
	OTPResultAfter   = 3 * time.Second
)

// OTP push statuses and codes (the OTP webhook page).
const (
	otpInProgress = "0"
	otpFailed     = "1"
	otpSucceeded  = "2"
)

// reportTimeLayout is the OTP push's reportTime: yyyy-MM-dd HH:mm:ss, UTC
// (the page does not name a zone).
const reportTimeLayout = "2006-01-02 15:04:05"

// OTPSend is an accepted OTP send request's fields the domain needs.
type OTPSend struct {
	To       string // one number, as ParseOTPRecipient returns it
	Type     string
	Language string
	Code     string
	Request  []byte // the body as received
}

// ParseOTPRecipient checks an OTP `to`: one number (a comma, i.e. several,
// is code 109, decided first since it names the real mistake) of 5 to 20
// digits (code 108), with or without one leading + (E.164, as the newer
// client sends it; docs/DECISIONS.md row 18). It returns the digits, which
// the status push carries as `mobile`, as in the docs' example.
func ParseOTPRecipient(field, to string) (string, error) {
	if n := strings.Count(to, ",") + 1; n > 1 {
		return "", &BusinessError{Code: CodeRecipientCount, Field: field,
			Message: fmt.Sprintf("%s: %d numbers given; an OTP goes to exactly one number", field, n)}
	}
	if n := strings.TrimSpace(to); strings.HasPrefix(n, "+") && payload.IsDigits(n[1:], 5, 20) {
		return n[1:], nil
	}
	numbers, err := ParseRecipients(field, to)
	if err != nil {
		return "", &BusinessError{Code: CodeBadNumber, Field: field,
			Message: fmt.Sprintf("%s: %q must be 5 to 20 digits, country code first, optionally after one +", field, strings.TrimSpace(to))}
	}
	return numbers[0], nil
}

// SendOTP accepts an OTP send: it records the message and schedules its
// otp_status_report pushes to the sending app's OTP webhook (if it
// subscribes to them): "0" in progress at OTPProgressAfter, then "2"
// success, or "1" failed for a 99910 number, at OTPResultAfter. A 99940
// number gets no push at all.
func (s *Sandbox) SendOTP(ctx context.Context, p Principal, send OTPSend) (Message, error) {
	hook, err := s.webhookFor(ctx, p.App.Key, ProductOTP)
	if err != nil {
		return Message{}, err
	}
	msg := Message{
		Account: p.Account.Name, AppKey: p.App.Key, Product: ProductOTP, MessageType: send.Type,
		Recipients: []string{send.To}, Request: send.Request, CreatedAt: s.clock.Now(),
	}
	route := routeFor(p.App.Key, "sender", ProductOTP, EventOTPStatus, hook)
	return s.recordSend(ctx, Submission{Message: msg}, func(msg Message) []Event {
		return s.otpReports(p, msg, route)
	})
}

// otpReports builds the pushes of one OTP message.
func (s *Sandbox) otpReports(p Principal, msg Message, route routing) []Event {
	to := msg.Recipients[0]
	final := otpReport{Status: otpSucceeded, Code: "success"}
	switch m := Magic(to); m.Kind {
	case MagicSilent:
		return nil
	case MagicFail:
		final = otpReport{Status: otpFailed, Code: "failed", ErrCode: m.Code}
		if final.ErrCode == "" {
			final.ErrCode = DefaultFailureCode
		}
		if _, text, ok := failureRow(final.ErrCode); ok {
			final.ErrMessage = text
		} else {
			final.ErrMessage = "failed with code " + final.ErrCode
		}
	}
	now := s.Now(p.Account)
	// The docs' own example pairs status "0" with code "success": in
	// progress is not (yet) a failure.
	steps := [2]struct {
		r     otpReport
		after time.Duration
	}{{otpReport{Status: otpInProgress, Code: "success"}, OTPProgressAfter}, {final, OTPResultAfter}}
	events := make([]Event, 0, len(steps))
	for _, st := range steps {
		e := s.newEvent(p.Account, EventOTPStatus, ProductOTP, now.Add(st.after))
		r := st.r
		r.AccountNo, r.AppKey, r.MessageID, r.Mobile = p.Account.Name, p.App.Key, msg.ID, to
		r.ReportTime = e.DueAt.UTC().Format(reportTimeLayout)
		marshalOTPReport(&e, r)
		route.apply(&e)
		events = append(events, e)
	}
	return events
}

// otpReport is one otp_status_report payload.
type otpReport struct {
	AccountNo, AppKey, MessageID, Mobile, Status, Code, ReportTime string
	ErrCode, ErrMessage                                            string // "" is written as null
}

func marshalOTPReport(e *Event, r otpReport) {
	w := payload.NewWriter(240 + len(r.AppKey) + len(r.ErrMessage))
	w.Open()
	w.String("accountNo", r.AccountNo)
	w.String("appKey", r.AppKey)
	w.String("messageId", r.MessageID)
	w.String("mobile", r.Mobile)
	w.String("status", r.Status)
	w.String("code", r.Code)
	// null, not absent, when there is no error: as in the docs' example.
	otpNullable(&w, "errCode", r.ErrCode)
	otpNullable(&w, "errMessage", r.ErrMessage)
	w.String("reportTime", r.ReportTime)
	w.Close()
	e.Payload = w.Bytes()
}

// otpNullable writes a string member, or null for "".
func otpNullable(w *payload.Writer, k, v string) {
	if v != "" {
		w.String(k, v)
		return
	}
	w.Null(k)
}
