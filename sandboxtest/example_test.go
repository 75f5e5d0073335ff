package sandboxtest_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/innosandbox/innosandbox/sandboxtest"
)

// A test sends a WhatsApp message with the demo app's credentials and
// waits for the status reports its receiver gets. In a test function, pass
// its *testing.T where this example passes t.
func ExampleNew() {
	t := sandboxtest.NewStandalone()
	defer t.Close()

	sb := sandboxtest.New(t)
	rcv := sb.NewReceiver(t, "whatsapp")

	// The user writes first: a text message is allowed within 24 hours.
	sb.Inbound(t, sandboxtest.Inbound{Text: "Where is my order?"})
	fmt.Println(rcv.WaitFor(t, "whatsapp_mo_message_received", 5*time.Second).Type)

	body := `{"wabaId":"` + sb.WABA + `","messageType":"text","sendNumber":"` + sb.Number +
		`","recipientNumber":"` + sandboxtest.DemoUser + `","body":"It ships today."}`
	req, _ := http.NewRequest(http.MethodPost, sb.URL+"/api/whatsapp/v3/msg/submit", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json;charset=utf-8")
	req.Header.Set("Appkey", sb.AppKey)
	req.Header.Set("Authorization", sb.Authorization)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		panic(err)
	}
	resp.Body.Close()

	// The reports are due 1s and 3s after the send on the sandbox clock.
	for _, step := range []time.Duration{time.Second, 2 * time.Second} {
		sb.Advance(t, step)
		p := rcv.WaitFor(t, "whatsapp_message_status_updated", 5*time.Second)
		var report struct{ Body struct{ Status string } }
		p.Decode(t, &report)
		fmt.Println(p.Type, report.Body.Status)
	}
	// Output:
	// whatsapp_mo_message_received
	// whatsapp_message_status_updated delivered
	// whatsapp_message_status_updated read
}

// Fire any event of the contract, changed with JSON pointers, and wait in
// the delivery log until the receiver has acknowledged it.
func ExampleSandbox_Trigger() {
	t := sandboxtest.NewStandalone()
	defer t.Close()
	sb := sandboxtest.New(t)
	sb.NewReceiver(t, "whatsapp")

	fired := sb.Trigger(t, sandboxtest.Event{
		Type:  "whatsapp_message_status_updated",
		Set:   map[string]any{"/body/status": "failed", "/body/errorData": map[string]any{"errorCode": "131026", "errorMessage": "Message undeliverable"}},
		Unset: []string{"/body/conversation"},
	})
	d := sb.WaitDelivery(t, sandboxtest.Filter{MessageID: idOf(fired.Payload), Status: "delivered"}, 5*time.Second)
	fmt.Println(d.Type, d.Status, d.Attempts)
	// Output: whatsapp_message_status_updated delivered 1
}

// idOf is a status report's message id.
func idOf(payload json.RawMessage) string {
	var p struct{ Body struct{ ID string } }
	_ = json.Unmarshal(payload, &p)
	return p.Body.ID
}

// A receiver that answers 500 makes the sandbox retry on its clock, and
// then give up: a dead letter.
func ExampleAnswer() {
	t := sandboxtest.NewStandalone()
	defer t.Close()
	sb := sandboxtest.New(t, sandboxtest.Retry(2, time.Minute, 1, time.Minute))
	rcv := sb.NewReceiver(t, "whatsapp", sandboxtest.Answer(500, 500))

	sb.Trigger(t, sandboxtest.Event{Type: "whatsapp_template_status_updated"})
	rcv.WaitFor(t, "", 5*time.Second)
	sb.Advance(t, time.Minute) // the retry is due
	rcv.WaitFor(t, "", 5*time.Second)
	dead := sb.WaitDelivery(t, sandboxtest.Filter{Status: "failed"}, 5*time.Second)
	fmt.Println(dead.Status, dead.Attempts, dead.Reason)
	// Output: failed 2 gave up after 2 attempts; last: HTTP 500
}
