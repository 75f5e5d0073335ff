package mockserver

import (
	"net/http"

	"github.com/innosandbox/innosandbox/mockserver/state"
)

// OTP success codes: OTPSuccessCodeNewer is what the newer known client
// checks, OTPSuccessCodeDoc the code every other send answers (and the
// older client saw). docs/DECISIONS.md row 35.
const (
	OTPSuccessCodeNewer = "000000"
	OTPSuccessCodeDoc   = "0"
)

// OTPEnvelope is the OTP send's answer: the common envelope plus success,
// which the older known client of the endpoint reads (docs/DECISIONS.md
// row 35). Success is true exactly when the send was accepted.
type OTPEnvelope struct {
	Code    string `json:"code"`
	Success bool   `json:"success"`
	Message string `json:"message"`
	Data    any    `json:"data"`
}

// otpSendVerification answers POST /api/otp/v3/msg/send/verify.
func (s *Server) otpSendVerification(c *call) reply {
	return s.withSuccess(s.otpSend(c))
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
// included, so that a client reading success never finds it missing, and
// writes an accepted send's code as the sandbox was configured to
// (OTPSuccessCodeNewer unless --otp-success-code 0).
func (s *Server) withSuccess(r reply) reply {
	if e, ok := r.body.(Envelope); ok {
		success := e.Code == "0"
		if success {
			e.Code = s.otpSuccessCode()
		}
		r.body = OTPEnvelope{Code: e.Code, Success: success, Message: e.Message, Data: e.Data}
	}
	return r
}

// otpSuccessCode is the code of an accepted OTP send.
func (s *Server) otpSuccessCode() string {
	if s.cfg.OTPSuccessCode == "" {
		return OTPSuccessCodeNewer
	}
	return s.cfg.OTPSuccessCode
}
