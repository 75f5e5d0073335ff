package mockserver

import (
	"encoding/json"
	"net/http"

	"github.com/innosandbox/innosandbox/mockserver/state"
)

// publicHandlers binds the InnoPaaS public API's operations.
func (s *Server) publicHandlers() map[string]handlerFunc {
	return map[string]handlerFunc{
		"whatsappSubmitMessage": s.whatsappSubmitMessage,
	}
}

// waSubmitRequest holds the fields of a send the sandbox acts on; the whole
// body has been validated against the spec already.
type waSubmitRequest struct {
	WabaID          string `json:"wabaId"`
	MessageType     string `json:"messageType"`
	UID             string `json:"uid"`
	SendNumber      string `json:"sendNumber"`
	RecipientNumber string `json:"recipientNumber"`
}

func (s *Server) whatsappSubmitMessage(c *call) reply {
	var req waSubmitRequest
	if err := json.Unmarshal(c.body, &req); err != nil {
		return fail(http.StatusBadRequest, "request body: "+err.Error())
	}
	recipients, err := state.ParseRecipients("/recipientNumber", req.RecipientNumber)
	if err != nil {
		return fromError(err)
	}
	msg, err := s.sandbox.SubmitWhatsApp(c.ctx, c.principal(), state.WhatsAppSend{
		WabaID: req.WabaID, MessageType: req.MessageType, SendNumber: req.SendNumber,
		Recipients: recipients, UID: req.UID, Request: c.body,
	})
	if err != nil {
		return fromError(err)
	}
	return ok(http.StatusOK, Envelope{Code: "0", Message: MsgSuccess, Data: msg.ID})
}
