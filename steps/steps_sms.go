package steps

import (
	"context"

	"github.com/cucumber/godog"
)

// Steps of sms.feature.

// DefaultSMS is what an SMS send carries unless a step changes it.
func DefaultSMS() map[string]any {
	return map[string]any{"msg": "Your parcel A123 has shipped.", "mobile": RecipientNumber}
}

// registerSMS binds sms.feature's steps.
func (w *world) registerSMS(sc *godog.ScenarioContext) {
	sc.Step(`^I send an SMS "([^"]*)" to "([^"]*)"$`, w.iSendAnSMSTo)
	sc.Step(`^I send an SMS with (/.+)$`, w.iSendAnSMSWithChanges)
	sc.Step(`^I send an SMS to "([^"]*)" with a callback receiver as its callBackUrl$`, w.iSendAnSMSWithACallbackReceiver)
}

func (w *world) iSendAnSMSTo(ctx context.Context, text, to string) error {
	body := DefaultSMS()
	body["msg"], body["mobile"] = text, to
	return w.sendJSON(ctx, SMSPath, body)
}

func (w *world) iSendAnSMSWithChanges(ctx context.Context, changes string) error {
	return w.sendChanged(ctx, SMSPath, DefaultSMS(), changes)
}

func (w *world) iSendAnSMSWithACallbackReceiver(ctx context.Context, to string) error {
	r, err := w.callbackReceiver(ctx)
	if err != nil {
		return err
	}
	body := DefaultSMS()
	body["mobile"], body["callBackUrl"] = to, r.URL()
	return w.sendJSON(ctx, SMSPath, body)
}
