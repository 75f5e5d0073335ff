package mockserver

import (
	"net/http"

	"github.com/innosandbox/innosandbox/mockserver/state"
)

// publicHandlers binds the InnoPaaS public API's operations.
func (s *Server) publicHandlers() map[string]handlerFunc {
	return map[string]handlerFunc{
		"whatsappSubmitMessage":  s.whatsappSubmitMessage,
		"whatsappUploadFile":     s.whatsappUploadFile,
		"smsSendMessage":         s.smsSendMessage,
		"otpSendVerification":    s.otpSendVerification,
		"whatsappSubmitTemplate": s.whatsappSubmitTemplate,
	}
}

// str reads a string member of the validated JSON body ("" when absent).
func (c *call) str(name string) string {
	m, _ := c.value.(map[string]any)
	s, _ := m[name].(string)
	return s
}

func (s *Server) whatsappSubmitMessage(c *call) reply {
	if err := state.CheckLength("/uid", c.str("uid"), state.MaxWhatsAppUID, state.CodeUIDTooLong); err != nil {
		return fromError(err)
	}
	if c.str("messageType") == "text" {
		if err := state.CheckLength("/body", c.str("body"), state.MaxWhatsAppText, state.CodeContentTooLong); err != nil {
			return fromError(err)
		}
	}
	recipients, err := state.ParseRecipients("/recipientNumber", c.str("recipientNumber"))
	if err != nil {
		return fromError(err)
	}
	msg, err := s.sandbox.SubmitWhatsApp(c.ctx, c.principal(), state.WhatsAppSend{
		WabaID: c.str("wabaId"), MessageType: c.str("messageType"), SendNumber: c.str("sendNumber"),
		Recipients: recipients, UID: c.str("uid"), Template: c.templateUse(), Request: c.storedBody(),
	})
	if err != nil {
		return fromError(err)
	}
	return ok(http.StatusOK, Envelope{Code: "0", Message: MsgSuccess, Data: msg.ID})
}
