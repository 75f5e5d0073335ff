package mockserver

import (
	"net/http"

	"github.com/innosandbox/innosandbox/mockserver/dispatch"
)

// probeBody is what a connectivity probe sends. InnoPaaS checks a callback
// when its configuration is saved (a public integration's notes say so)
// but nothing says with what; an empty JSON object is the least a JSON
// receiver must take.
const probeBody = "{}"

// probeExcerptLimit bounds the receiver's answer shown by a probe.
const probeExcerptLimit = 1024

type probeView struct {
	URL       string  `json:"url"`
	Method    string  `json:"method"`
	OK        bool    `json:"ok"`
	Status    *int    `json:"status"`
	LatencyMs float64 `json:"latencyMs"`
	Error     *string `json:"error"`
	Answer    string  `json:"answer"`
}

// verifyWebhook answers POST /_sandbox/apps/{appKey}/webhooks/{product}/verify:
// one request to the configured URL, with its method and headers, through
// the dispatcher's client (the same network rules and timeout as pushes),
// reporting what the receiver answered. Nothing is recorded or retried.
func (s *Server) verifyWebhook(c *call) reply {
	w, err := s.store.GetWebhook(c.ctx, c.params["appKey"], c.params["product"])
	if err != nil {
		return fromError(err)
	}
	a := s.dispatcher.Probe(c.ctx, dispatch.Delivery{
		URL: w.URL, Method: w.Method, Header: pushHeader(w.Username, w.Authorization), Body: []byte(probeBody),
	})
	v := probeView{URL: w.URL, Method: w.Method, LatencyMs: float64(a.Latency.Microseconds()) / 1000,
		OK: a.Error == "" && a.ResponseStatus >= 200 && a.ResponseStatus < 300}
	if a.Error != "" {
		v.Error = &a.Error
	} else {
		st := a.ResponseStatus
		v.Status = &st
		ex := a.ResponseExcerpt
		if len(ex) > probeExcerptLimit {
			ex = ex[:probeExcerptLimit]
		}
		v.Answer = string(ex)
	}
	return ok(http.StatusOK, v)
}
