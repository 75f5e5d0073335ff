package steps

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/cucumber/godog"
)

// Steps of otp.feature.

// DefaultOTP is the body the only known client sends (type "3" is OTP).
func DefaultOTP() map[string]any {
	return map[string]any{"to": RecipientNumber, "type": "3", "language": "en", "code": "245098"}
}

// registerOTP binds otp.feature's steps.
func (w *world) registerOTP(sc *godog.ScenarioContext) {
	sc.Step(`^I send the OTP code "([^"]*)" to "([^"]*)"$`, w.iSendTheOTPCodeTo)
	sc.Step(`^I send an OTP with (/.+)$`, w.iSendAnOTPWithChanges)
	sc.Step(`^the answer's success is (true|false)$`, w.theAnswersSuccessIs)
}

func (w *world) iSendTheOTPCodeTo(ctx context.Context, code, to string) error {
	body := DefaultOTP()
	body["code"], body["to"] = code, to
	return w.sendJSON(ctx, OTPPath, body)
}

func (w *world) iSendAnOTPWithChanges(ctx context.Context, changes string) error {
	return w.sendChanged(ctx, OTPPath, DefaultOTP(), changes)
}

func (w *world) theAnswersSuccessIs(_ context.Context, want string) error {
	if w.last == nil {
		return errNoCall
	}
	var a struct {
		Success *bool `json:"success"`
	}
	if err := json.Unmarshal(w.last.Body, &a); err != nil {
		return about(fmt.Errorf("the answer is not a JSON object: %w", err), w.last)
	}
	if a.Success == nil {
		return about(errors.New("the OTP answer has no success member"), w.last)
	}
	return about(expectEqual("success", want == "true", *a.Success), w.last)
}
