package ui

import (
	"fmt"
	"html/template"
	"net/url"
	"time"
)

// funcs are the helpers the templates call.
var funcs = template.FuncMap{
	// when formats a time the same way everywhere: UTC, to the second.
	"when": func(t any) string {
		switch v := t.(type) {
		case time.Time:
			if v.IsZero() {
				return "—"
			}
			return v.UTC().Format("2006-01-02 15:04:05Z")
		case *time.Time:
			if v == nil {
				return "—"
			}
			return v.UTC().Format("2006-01-02 15:04:05Z")
		}
		return fmt.Sprint(t)
	},
	"ms":           func(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000) },
	"path":         url.PathEscape,
	"q":            url.QueryEscape,
	"prefix":       func() string { return Prefix },
	"deliveryPath": deliveryPath,
	"appPath":      appPath,
	// excerpt shortens a receiver's answer for the attempt table.
	"excerpt": func(b []byte) string {
		const n = 2048
		if len(b) > n {
			return string(b[:n]) + "…"
		}
		return string(b)
	},
	"add": func(a, b float64) float64 { return a + b },
	"deref": func(s *string) string {
		if s == nil {
			return ""
		}
		return *s
	},
}
