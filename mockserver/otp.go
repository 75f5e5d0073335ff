package mockserver

import (
	"net/http"

	"github.com/innosandbox/innosandbox/mockserver/state"
)

// OTPEnvelope is the OTP send's answer: the common envelope plus success,
// which the only known client of the endpoint reads (docs/DECISIONS.md
// row 35). Success is true exactly when Code is "0".
type OTPEnvelope struct {
	Code    string `json:"code"`
	Success bool   `json:"success"`
	Message string `json:"message"`
	Data    any    `json:"data"`
}

// otpSendVerification answers POST /api/otp/v3/msg/send/verify.
func (s *Server) otpSendVerification(c *call) reply {
	return withSuccess(s.otpSend(c))
}

func (s *Server) otpSend(c *call) reply {
	to, err := state.ParseOTPRecipient("/to", c.str("to"))
	if err != nil {
		return fromError(err)
	}
	msg, err := s.sandbox.SendOTP(c.ctx, c.principal(), state.OTPSend{
		To: to, Type: c.str("type"), Language: c.str("language"), Code: c.str("code"), Request: c.storedBody(),
	})
	if err != nil {
		return fromError(err)
	}
	return ok(http.StatusOK, Envelope{Code: "0", Message: MsgSuccess, Data: msg.ID})
}

// withSuccess turns the handler's envelope into the OTP one, refusals
// included, so that a client reading success never finds it missing.
func withSuccess(r reply) reply {
	if e, ok := r.body.(Envelope); ok {
		r.body = OTPEnvelope{Code: e.Code, Success: e.Code == "0", Message: e.Message, Data: e.Data}
	}
	return r
}
