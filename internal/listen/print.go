package listen

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// setBody records the body: as JSON when it is JSON (with the event type and
// id of an enveloped payload), as text with the parser's complaint otherwise.
func (rec *Record) setBody(body []byte) {
	rec.BodyBytes = len(body)
	if len(body) == 0 {
		return
	}
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		rec.BodyError = "not JSON: " + err.Error()
		rec.BodyText = string(body)
		return
	}
	rec.Body = json.RawMessage(body)
	obj, ok := v.(map[string]any)
	if !ok {
		return
	}
	if t, ok := obj["type"].(string); ok {
		rec.EventType = t
	}
	switch id := obj["id"].(type) {
	case string:
		rec.EventID = id
	case float64:
		rec.EventID = strconv.FormatFloat(id, 'f', -1, 64)
	}
}

// print writes one record in the configured format. Records are written
// whole, one at a time, so concurrent pushes do not interleave.
func (rc *Receiver) print(rec *Record) {
	var buf bytes.Buffer
	if rc.cfg.Format == FormatJSON {
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(rec); err != nil {
			fmt.Fprintf(&buf, "{\"error\":%q}\n", "encoding the record: "+err.Error())
		}
	} else {
		writePretty(&buf, rec)
	}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	_, _ = rc.cfg.Out.Write(buf.Bytes())
}

const indent = "    "

// writePretty writes a record as a block for people to read.
func writePretty(w *bytes.Buffer, rec *Record) {
	target := rec.Path
	if rec.Query != "" {
		target += "?" + rec.Query
	}
	fmt.Fprintf(w, "--- %s  %s %s  -> %d", rec.Time.Format("2006-01-02T15:04:05.000Z07:00"), rec.Method, target, rec.Status)
	if rec.Remote != "" {
		fmt.Fprintf(w, "  (from %s)", rec.Remote)
	}
	w.WriteString("\n")
	if rec.Note != "" {
		field(w, "note", rec.Note)
	}
	if rec.EventType != "" || rec.EventID != "" {
		field(w, "event", strings.TrimSpace(orDash(rec.EventType)+"  id "+orDash(rec.EventID)))
	}
	if rec.Contract != nil {
		field(w, "contract", check(rec.Contract))
	}
	if rec.Credentials != nil {
		field(w, "credentials", check(rec.Credentials))
	}
	if f := rec.Forward; f != nil {
		if f.Error != "" {
			field(w, "forward", fmt.Sprintf("%s -> failed after %.1f ms: %s", f.URL, f.LatencyMs, f.Error))
		} else {
			field(w, "forward", fmt.Sprintf("%s -> %d in %.1f ms", f.URL, f.Status, f.LatencyMs))
		}
	}
	w.WriteString(indent + "headers:\n")
	names := make([]string, 0, len(rec.Header))
	for k := range rec.Header {
		names = append(names, k)
	}
	slices.Sort(names)
	for _, k := range names {
		for _, v := range rec.Header[k] {
			fmt.Fprintf(w, "%s  %s: %s\n", indent, k, v)
		}
	}
	switch {
	case rec.BodyBytes == 0:
		w.WriteString(indent + "body: (empty)\n")
	case rec.Body != nil:
		fmt.Fprintf(w, "%sbody (%d bytes):\n%s  ", indent, rec.BodyBytes, indent)
		if err := json.Indent(w, rec.Body, indent+"  ", "  "); err != nil {
			w.Write(rec.Body)
		}
		w.WriteString("\n")
	case rec.BodyError != "":
		fmt.Fprintf(w, "%sbody (%d bytes, %s):\n", indent, rec.BodyBytes, rec.BodyError)
		writeText(w, rec.BodyText)
	default:
		// Not read: refused before (too large, or the read failed).
		fmt.Fprintf(w, "%sbody: (not read, %d bytes seen)\n", indent, rec.BodyBytes)
	}
	w.WriteString("\n")
}

func field(w io.Writer, name, value string) {
	fmt.Fprintf(w, "%s%-12s %s\n", indent, name+":", value)
}

func check(c *Check) string {
	if c.Detail == "" {
		return c.Result
	}
	return c.Result + "  " + c.Detail
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// writeText writes a body that is not JSON, quoted when it is not text.
func writeText(w *bytes.Buffer, s string) {
	if !utf8.ValidString(s) {
		s = strconv.Quote(s)
	}
	for line := range strings.SplitSeq(strings.TrimRight(s, "\n"), "\n") {
		fmt.Fprintf(w, "%s  %s\n", indent, line)
	}
}
