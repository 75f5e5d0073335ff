package ui

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/innosandbox/innosandbox/mockserver/state"
)

// The messages page: every send with its recipients and, per recipient, a
// timeline of its status reports on the account's sandbox clock. The
// reports are the status events the send scheduled (they are in the
// delivery log whether or not a webhook takes them), so the timeline is
// exactly what a receiver is told, and when.

// statusEventTypes carry a sent message's status reports.
var statusEventTypes = []string{state.EventWAStatus, state.EventSMSStatus, state.EventOTPStatus}

// report is one status report of one recipient.
type report struct {
	Status  string
	Code    string // the error code of a failed report
	At      time.Time
	Reached bool // due on the account's clock already
	Failed  bool
	EventID string
	Push    state.EventStatus // how its delivery to the webhook went
}

// recipientLine is one recipient's timeline.
type recipientLine struct {
	To      string
	Reports []report
	SVG     timelineSVG
}

// messageRow is one send.
type messageRow struct {
	Message    state.Message
	AcceptedAt time.Time // sandbox time
	Lines      []recipientLine
}

type messagesPage struct {
	Now  time.Time
	Rows []messageRow
}

// reportOf reads a status event's message id, recipient, status and error
// code, whichever product's shape it has.
func reportOf(e state.Event) (id, to string, r report, ok bool) {
	var p struct {
		Body *struct {
			ID        string `json:"id"`
			SendPhone string `json:"sendPhone"`
			Status    string `json:"status"`
			ErrorData *struct {
				ErrorCode string `json:"errorCode"`
			} `json:"errorData"`
		} `json:"body"`
		MsgID     string  `json:"msgid"`
		MessageID string  `json:"messageId"`
		Mobile    string  `json:"mobile"`
		Status    string  `json:"status"`
		ErrCode   *string `json:"errCode"`
	}
	if json.Unmarshal(e.Payload, &p) != nil {
		return "", "", r, false
	}
	r.At, r.EventID, r.Push = e.DueAt, e.ID, e.Status
	switch {
	case p.Body != nil:
		id, to, r.Status = p.Body.ID, p.Body.SendPhone, p.Body.Status
		if p.Body.ErrorData != nil {
			r.Code = p.Body.ErrorData.ErrorCode
		}
		r.Failed = r.Status != "delivered" && r.Status != "read" && r.Status != "sent"
	case p.MsgID != "":
		id, to, r.Status = p.MsgID, p.Mobile, p.Status
		if r.Failed = r.Status != "DELIVRD"; r.Failed {
			r.Code = r.Status
		}
	case p.MessageID != "":
		id, to, r.Status = p.MessageID, p.Mobile, p.Status
		if p.ErrCode != nil {
			r.Code, r.Failed = *p.ErrCode, true
		}
	}
	return id, to, r, id != ""
}

func (h *Handler) messages(w http.ResponseWriter, r *http.Request) {
	sb := h.b.Sandbox()
	acct, err := h.accountOf(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	now := sb.Now(acct)
	delivered := sb.Options().DeliveredAfter
	byMessage := map[string]map[string][]report{}
	var order []string
	for _, typ := range statusEventTypes {
		list, err := sb.ListEvents(r.Context(), state.EventFilter{Account: acct.Name, Type: typ, Limit: 1000})
		if err != nil {
			h.fail(w, r, err)
			return
		}
		for _, e := range list {
			id, to, rep, ok := reportOf(e)
			if !ok {
				continue
			}
			rep.Reached = !rep.At.After(now)
			if byMessage[id] == nil {
				byMessage[id] = map[string][]report{}
				order = append(order, id)
			}
			byMessage[id][to] = append(byMessage[id][to], rep)
		}
	}
	var rows []messageRow
	for _, id := range order {
		msg, err := sb.Store().GetMessage(r.Context(), id)
		if err != nil {
			// A status event fired by hand names a message that was never sent.
			continue
		}
		row := messageRow{Message: msg}
		first := time.Time{}
		for _, reps := range byMessage[id] {
			for _, rep := range reps {
				if first.IsZero() || rep.At.Before(first) {
					first = rep.At
				}
			}
		}
		// Reports are scheduled DeliveredAfter after the send, on the
		// clock of the moment: the earliest one tells when it was accepted.
		row.AcceptedAt = first.Add(-delivered)
		for _, to := range msg.Recipients {
			reps := byMessage[id][to]
			slices.SortStableFunc(reps, func(a, b report) int { return a.At.Compare(b.At) })
			row.Lines = append(row.Lines, recipientLine{To: to, Reports: reps, SVG: drawTimeline(row.AcceptedAt, now, reps)})
		}
		rows = append(rows, row)
	}
	slices.SortStableFunc(rows, func(a, b messageRow) int { return b.Message.CreatedAt.Compare(a.Message.CreatedAt) })
	h.render(w, r, http.StatusOK, "messages", &page{Title: "Messages", Nav: "messages", Account: acct.Name, Data: messagesPage{Now: now, Rows: rows}})
}

// timelineSVG is what the template needs to draw a timeline: positions in
// a 600×64 box, computed here so the template only places them.
type timelineSVG struct {
	Label  string // the text alternative of the picture
	NowX   float64
	Points []timelinePoint
}

type timelinePoint struct {
	X       float64
	Label   string // status (and code)
	When    string // "+1s" after acceptance
	Reached bool
	Failed  bool
	Accept  bool
	Row     int    // 0 or 1: labels alternate rows so that close points stay readable
	Anchor  string // text-anchor that keeps the label inside the box
}

// anchor keeps a label near either end of the axis inside the picture.
func anchor(x float64) string {
	switch {
	case x < svgLeft+60:
		return "start"
	case x > svgRight-60:
		return "end"
	}
	return "middle"
}

const (
	svgLeft, svgRight = 40.0, 560.0
)

// drawTimeline places acceptance, the reports and "now" on one axis that
// spans from acceptance to the later of the last report and now.
func drawTimeline(accepted, now time.Time, reps []report) timelineSVG {
	end := now
	for _, r := range reps {
		if r.At.After(end) {
			end = r.At
		}
	}
	span := end.Sub(accepted)
	if span <= 0 {
		span = time.Second
	}
	x := func(t time.Time) float64 {
		f := float64(t.Sub(accepted)) / float64(span)
		f = min(max(f, 0), 1)
		return svgLeft + f*(svgRight-svgLeft)
	}
	s := timelineSVG{NowX: x(now)}
	s.Points = append(s.Points, timelinePoint{X: svgLeft, Label: "accepted", When: "0s", Reached: true, Accept: true, Anchor: "start"})
	parts := []string{"accepted"}
	for i, r := range reps {
		label := r.Status
		if r.Failed && r.Code != "" && r.Code != r.Status {
			label += " " + r.Code
		}
		when := "+" + r.At.Sub(accepted).Round(time.Millisecond).String()
		s.Points = append(s.Points, timelinePoint{X: x(r.At), Label: label, When: when, Reached: r.Reached, Failed: r.Failed, Row: (i + 1) % 2, Anchor: anchor(x(r.At))})
		state := "due"
		if r.Reached {
			state = "reached"
		}
		parts = append(parts, fmt.Sprintf("%s at %s (%s)", label, when, state))
	}
	if len(reps) == 0 {
		parts = append(parts, "no status report")
	}
	s.Label = "Timeline: " + strings.Join(parts, ", then ")
	return s
}
