package mockserver

import (
	"net/http"

	"github.com/innosandbox/innosandbox/mockserver/state"
)

// smsSendMessage answers POST /api/sms/v3/msg/send: the documented limits
// first (HTTP 200 with their codes, as the WhatsApp send does), then the
// send, whose data is the msgid every report of it carries.
func (s *Server) smsSendMessage(c *call) reply {
	if err := state.CheckLength("/uid", c.str("uid"), state.MaxSMSUID, state.CodeUIDTooLong); err != nil {
		return fromError(err)
	}
	if err := state.CheckLength("/msg", c.str("msg"), state.MaxSMSText, state.CodeContentTooLong); err != nil {
		return fromError(err)
	}
	recipients, err := state.ParseRecipients("/mobile", c.str("mobile"))
	if err != nil {
		return fromError(err)
	}
	msg, err := s.sandbox.SendSMS(c.ctx, c.principal(), state.SMSSend{
		Recipients: recipients, Msg: c.str("msg"), SenderID: c.str("senderId"), UID: c.str("uid"),
		CallBackURL: c.str("callBackUrl"), Request: c.storedBody(),
	})
	if err != nil {
		return fromError(err)
	}
	if s.cfg.SMSDataString {
		return ok(http.StatusOK, Envelope{Code: "0", Message: MsgSuccess, Data: msg.ID})
	}
	return ok(http.StatusOK, Envelope{Code: "0", Message: MsgSuccess, Data: SMSSent{MessageID: msg.ID}})
}

// SMSSent is the data of an accepted SMS send: an object, as the newer
// known client decodes it (a bare string breaks its decoding; docs/
// DECISIONS.md row 32). Config.SMSDataString answers the bare id instead.
type SMSSent struct {
	MessageID string `json:"messageId"`
}
