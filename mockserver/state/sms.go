package state

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"

	"github.com/innosandbox/innosandbox/internal/payload"
)

// EventSMSStatus is the sandbox's name for the SMS status report, a flat
// payload without a type (docs/DECISIONS.md row 27).
const EventSMSStatus = "sms_status_report"

// Documented SMS limits, counted in characters.
const (
	MaxSMSUID  = 64   // msg/send uid (the SMS page)
	MaxSMSText = 2000 // msg/send msg (the SMS page)
)

// SMSReportAfter is how long after a send, on the account's sandbox clock,
// each number's status report comes: a few seconds, like an operator's
// delivery receipt, and after WhatsApp's delivered report so that the two
// products' reports of a test do not race.
const SMSReportAfter = 2 * time.Second

// smsDelivered is the one status that means delivered; every other status
// is a failure (the SMS report page).
const smsDelivered = "DELIVRD"

// SMSSend is an accepted SMS send request's fields the domain needs.
type SMSSend struct {
	Recipients  []string // as ParseRecipients returns them
	Msg         string
	SenderID    string
	UID         string
	CallBackURL string // "" when the send names none
	Request     []byte // the body as received
}

// CheckCallBackURL refuses a callBackUrl a push cannot use, naming the
// field: the same rules as a webhook configuration's URL (http or https,
// a host, no fragment).
func CheckCallBackURL(raw string) error {
	if err := checkWebhookURL(raw); err != nil {
		var inv *InvalidError
		if errors.As(err, &inv) {
			return &InvalidError{Field: "/callBackUrl", Message: inv.Message}
		}
		return err
	}
	return nil
}

// SendSMS accepts an SMS send: it records the message and schedules one
// sms_status_report per number, SMSReportAfter later on the account's
// clock, in one transaction. The reports go to the send's callBackUrl when
// it has one (that per-message choice wins and needs no ticked event), else
// to the sending app's SMS webhook if it subscribes to sms_status_report
// (docs/DECISIONS.md row 31). Magic numbers (Magic) change or silence a
// number's report.
func (s *Sandbox) SendSMS(ctx context.Context, p Principal, send SMSSend) (Message, error) {
	if send.CallBackURL != "" {
		if err := CheckCallBackURL(send.CallBackURL); err != nil {
			return Message{}, err
		}
		if err := s.checkDestination("/callBackUrl", send.CallBackURL); err != nil {
			return Message{}, err
		}
	}
	hook, err := s.webhookFor(ctx, p.App.Key, ProductSMS)
	if err != nil {
		return Message{}, err
	}
	msg := Message{
		Account: p.Account.Name, AppKey: p.App.Key, Product: ProductSMS, SendNumber: send.SenderID,
		Recipients: send.Recipients, UID: send.UID, Request: send.Request, CreatedAt: s.clock.Now(),
	}
	route := smsRoute(p.App.Key, hook, send.CallBackURL)
	var receiver, pswd string
	if hook != nil {
		receiver, pswd = deref(hook.Username), deref(hook.Authorization)
	}
	parts := strconv.Itoa(SMSParts(send.Msg))
	return s.recordSend(ctx, Submission{Message: msg}, func(msg Message) []Event {
		return s.smsReports(p, msg, route, receiver, pswd, send.SenderID, parts)
	})
}

// smsRoute decides where a send's reports go, once for all its numbers.
func smsRoute(appKey string, hook *Webhook, callBackURL string) routing {
	if callBackURL == "" {
		return routeFor(appKey, "sender", ProductSMS, EventSMSStatus, hook)
	}
	// POST, as the SMS pages push; the app's SMS credentials and retry
	// policy when it has an SMS configuration, else none.
	t := &Target{URL: callBackURL, Method: "POST"}
	if hook != nil {
		t.Username, t.Authorization, t.Retry = hook.Username, hook.Authorization, hook.Retry
	}
	return routing{appKey: appKey, how: "callBackUrl", status: EventPending, target: t}
}

// smsReports builds one status report per number of an SMS message.
func (s *Sandbox) smsReports(p Principal, msg Message, route routing, receiver, pswd, senderID, parts string) []Event {
	now := s.Now(p.Account)
	due := now.Add(SMSReportAfter)
	r := smsReport{
		Receiver: receiver, Pswd: pswd, MsgID: msg.ID, BatchSeq: batchSeq(p.Account.Name, msg.ID, now),
		ReportTime: epochMillis(due), RequestTime: epochMillis(now), SMSNum: parts, AccessNumber: senderID,
	}
	r.UID = msg.UID
	if r.UID == "" {
		r.UID = r.BatchSeq // as the report page says
	}
	// The report is pushed the moment the gateway has it.
	r.NotifyTime = r.ReportTime
	if r.AccessNumber == "" {
		r.AccessNumber = "innosandbox"
	}
	events := make([]Event, 0, len(msg.Recipients))
	for _, to := range msg.Recipients {
		status := smsDelivered
		switch m := Magic(to); m.Kind {
		case MagicSilent:
			continue
		case MagicFail:
			status = smsFailureStatus(m.Code)
		}
		e := s.newEvent(p.Account, EventSMSStatus, ProductSMS, due)
		r.Mobile, r.Status = to, status
		r.region = regionOf(to)
		marshalSMSReport(&e, &r)
		route.apply(&e)
		events = append(events, e)
	}
	return events
}

// smsFailureStatus is the status a 99910 number's code asks for: its first
// digit picks from the shared table (UNDELIV for any digit it does not name).
func smsFailureStatus(code string) string {
	if code != "" {
		if st, _, ok := failureRow(code[:1]); ok {
			return st
		}
	}
	st, _, _ := failureRow(DefaultFailureCode)
	return st
}

// smsReport is one sms_status_report payload; every member is a string.
type smsReport struct {
	Receiver, Pswd, MsgID, BatchSeq, UID string
	ReportTime, NotifyTime, RequestTime  string
	Mobile, Status, SMSNum, AccessNumber string
	region
}

func marshalSMSReport(e *Event, r *smsReport) {
	n := 400 + len(r.Receiver) + len(r.Pswd) + len(r.UID) + len(r.AccessNumber) + len(r.MNOName)
	w := payload.NewWriter(n)
	w.Open()
	w.String("receiver", r.Receiver)
	w.String("pswd", r.Pswd)
	w.String("msgid", r.MsgID)
	w.String("batchSeq", r.BatchSeq)
	w.String("uid", r.UID)
	w.String("reportTime", r.ReportTime)
	w.String("notifyTime", r.NotifyTime)
	w.String("requestTime", r.RequestTime)
	w.String("mobile", r.Mobile)
	w.String("status", r.Status)
	w.String("currency", smsCurrency)
	w.String("smsNum", r.SMSNum)
	w.String("unitPrice", formatPrice(r.UnitPrice, false))
	w.String("fee", formatPrice(r.UnitPrice*atoiOr(r.SMSNum, 1), true))
	w.String("accessNumber", r.AccessNumber)
	w.String("countryNumber", r.CountryNumber)
	w.String("regionCode", r.RegionCode)
	w.String("mnoName", r.MNOName)
	w.String("mcc", r.MCC)
	w.String("mnc", r.MNC)
	w.Close()
	e.Payload = w.Bytes()
}

// batchSeq is shaped like the docs' example I8393346_2506101652_35: "I",
// the account's seven digits, the send's minute (yyMMddHHmm, sandbox time,
// UTC) and the id's sequence, so each send has its own.
func batchSeq(account, msgID string, now time.Time) string {
	seq := strings.TrimLeft(msgID[max(len(msgID)-5, 0):], "0")
	if seq == "" {
		seq = "0"
	}
	return "I" + strings.TrimPrefix(account, "IW") + "_" + now.UTC().Format("0601021504") + "_" + seq
}

func epochMillis(t time.Time) string { return strconv.FormatInt(t.UnixMilli(), 10) }

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func atoiOr(s string, def int64) int64 {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return def
	}
	return n
}

// ------------------------------------------------------------ parts and fees

// SMSParts counts the billable parts of a text as operators do: GSM 03.38
// text takes 160 septets in one part and 153 per part when split (an
// extension character such as € costs two); anything else is sent as UCS-2,
// 70 UTF-16 units in one part and 67 per part when split.
func SMSParts(text string) int {
	if text == "" {
		return 1
	}
	septets, gsm := 0, true
	for _, r := range text {
		switch {
		case strings.ContainsRune(gsmBasic, r):
			septets++
		case strings.ContainsRune(gsmExtension, r):
			septets += 2
		default:
			gsm = false
		}
		if !gsm {
			break
		}
	}
	if gsm {
		return parts(septets, 160, 153)
	}
	units := 0
	for _, r := range text {
		units += utf16.RuneLen(r)
	}
	return parts(units, 70, 67)
}

func parts(n, single, multi int) int {
	if n <= single {
		return 1
	}
	return (n + multi - 1) / multi
}

// The GSM 03.38 default alphabet and its extension table (each extension
// character is sent as an escape and the character: two septets).
const (
	gsmBasic = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?" +
		"¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
	gsmExtension = "\f^{}\\[~]|€"
)

// smsCurrency is the currency of every report, as in the docs' example.
const smsCurrency = "CNY"

// region is what a report says of a number's country and operator. The
// operators and prices are a fixed, fictitious choice per country code: a
// sandbox cannot know a number's real network, and a fixed answer lets
// tests compare whole payloads.
type region struct {
	CountryNumber, RegionCode, MNOName, MCC, MNC string
	UnitPrice                                    int64 // in 1/100000 of the currency
}

// regions by country calling code. 999 is the magic numbers' unassigned
// code: MCC 001 is the ITU's test network.
var regions = map[string]region{
	"1":   {"001", "US", "T-Mobile", "310", "260", 4900},
	"44":  {"0044", "GB", "Vodafone", "234", "15", 3800},
	"49":  {"0049", "DE", "Telekom", "262", "1", 6100},
	"62":  {"0062", "ID", "Telkomsel", "510", "10", 2450},
	"86":  {"0086", "CN", "China Mobile", "460", "2", 5670},
	"91":  {"0091", "IN", "Airtel", "404", "10", 1200},
	"250": {"00250", "RW", "MTN Rwanda", "635", "10", 1980},
	"999": {"00999", "ZZ", "innosandbox test network", "001", "01", 0},
}

// unknownRegion is the answer for numbers of a country code the table does
// not list: the members stay present (the page says always), but empty.
var unknownRegion = region{UnitPrice: 5000}

// regionOf looks a number's country code up: calling codes are prefix-free,
// so the first of one, two or three digits that matches is the code.
func regionOf(number string) region {
	n := strings.TrimPrefix(number, "00")
	for l := 1; l <= 3 && l <= len(n); l++ {
		if r, ok := regions[n[:l]]; ok {
			return r
		}
	}
	return unknownRegion
}

// formatPrice writes an amount in 1/100000 of the currency, as in the docs'
// example: unitPrice with five decimals ("0.05670"), fee without trailing
// zeros ("0.0567").
func formatPrice(v int64, trim bool) string {
	s := strconv.FormatInt(v/100000, 10) + "." + leftPad(strconv.FormatInt(v%100000, 10), 5)
	if trim {
		s = strings.TrimRight(s, "0")
		s = strings.TrimSuffix(s, ".")
	}
	return s
}

func leftPad(s string, n int) string {
	if len(s) >= n {
		return s
	}
	return strings.Repeat("0", n-len(s)) + s
}
