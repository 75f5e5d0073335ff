// Package orderupdates is a small InnoPaaS integration, as a shop might
// write one: it tells customers on WhatsApp that their order shipped and
// follows what became of each message through InnoPaaS's webhooks. Its
// tests run it against the sandbox with sandboxtest, in process.
package orderupdates

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// Client sends messages through the InnoPaaS public API.
type Client struct {
	BaseURL string // https://api.innopaas.com, or a sandbox's URL
	AppKey  string
	Token   string
	// WabaID and Number are the WhatsApp Business Account and the business
	// number the shop sends from.
	WabaID, Number string
	HTTP           *http.Client // http.DefaultClient when nil
}

// Error is InnoPaaS refusing a call: its code and message (the HTTP
// status, e.g. 401, when the refusal came with one).
type Error struct {
	HTTPStatus int
	Code       string
	Message    string
}

// Error says the code, the message and the HTTP status.
func (e *Error) Error() string {
	return fmt.Sprintf("innopaas: %s: %s (HTTP %d)", e.Code, e.Message, e.HTTPStatus)
}

// CodeNotInWindow is WhatsApp's refusal of a free-form message to a user
// who has not written within 24 hours: send a template instead.
const CodeNotInWindow = "131047"

// NotifyShipped tells a customer their order shipped and returns the
// message id, by which the status reports name it.
func (c *Client) NotifyShipped(ctx context.Context, customer, order string) (string, error) {
	return c.submit(ctx, map[string]string{
		"wabaId": c.WabaID, "messageType": "text", "sendNumber": c.Number, "recipientNumber": customer,
		"body": "Good news: order " + order + " has shipped.",
	})
}

// submit posts a message and reads the envelope's message id.
func (c *Client) submit(ctx context.Context, msg map[string]string) (string, error) {
	body, err := json.Marshal(msg)
	if err != nil {
		return "", err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimSuffix(c.BaseURL, "/")+"/api/whatsapp/v3/msg/submit", bytes.NewReader(body))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/json;charset=utf-8")
	req.Header.Set("AppKey", c.AppKey)
	req.Header.Set("Authorization", c.Token)
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return "", err
	}
	var env struct {
		Code    string          `json:"code"`
		Message string          `json:"message"`
		Data    json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(raw, &env); err != nil {
		return "", fmt.Errorf("innopaas: HTTP %d, not an InnoPaaS answer: %.200s", resp.StatusCode, raw)
	}
	if env.Code != "0" || resp.StatusCode != http.StatusOK {
		return "", &Error{HTTPStatus: resp.StatusCode, Code: env.Code, Message: env.Message}
	}
	var id string
	if err := json.Unmarshal(env.Data, &id); err != nil {
		return "", fmt.Errorf("innopaas: the message id is not a string: %s", env.Data)
	}
	return id, nil
}

// Status is what InnoPaaS reports of one recipient of a message.
type Status struct {
	MessageID string // the id NotifyShipped returned
	Recipient string
	Status    string // sent, delivered, read or failed
	ErrorCode string // when failed
}

// Reply is a customer's text message to the shop's number.
type Reply struct {
	From, Text string
}

// Webhook receives InnoPaaS's pushes: status reports and customers'
// messages. It checks the Authorization header configured with InnoPaaS.
type Webhook struct {
	Authorization string
	OnStatus      func(Status)
	OnReply       func(Reply)
}

// ServeHTTP answers 200 to every push it understands or ignores, 401
// without the secret and 400 to a body that is not an event.
func (h *Webhook) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if subtle.ConstantTimeCompare([]byte(r.Header.Get("Authorization")), []byte(h.Authorization)) != 1 {
		http.Error(w, "unauthorised", http.StatusUnauthorized)
		return
	}
	var ev struct {
		Type string `json:"type"`
		Body struct {
			ID        string `json:"id"`
			Status    string `json:"status"`
			SendPhone string `json:"sendPhone"`
			From      string `json:"from"`
			Type      string `json:"type"`
			Text      struct {
				Body string `json:"body"`
			} `json:"text"`
			ErrorData struct {
				ErrorCode string `json:"errorCode"`
			} `json:"errorData"`
		} `json:"body"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&ev); err != nil {
		http.Error(w, "not an event: "+err.Error(), http.StatusBadRequest)
		return
	}
	switch {
	case ev.Type == "whatsapp_message_status_updated" && h.OnStatus != nil:
		h.OnStatus(Status{MessageID: ev.Body.ID, Recipient: ev.Body.SendPhone, Status: ev.Body.Status, ErrorCode: ev.Body.ErrorData.ErrorCode})
	case ev.Type == "whatsapp_mo_message_received" && ev.Body.Type == "text" && h.OnReply != nil:
		h.OnReply(Reply{From: ev.Body.From, Text: ev.Body.Text.Body})
	}
	w.WriteHeader(http.StatusOK)
}
