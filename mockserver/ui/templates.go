package ui

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/innosandbox/innosandbox/mockserver/state"
)

// The account's WhatsApp templates, with the reviewer's actions.

type templateRow struct {
	state.Template
	Now state.TemplateStatus // the status on the account's clock
}

// templateActions are the reviewer's buttons: the status each sets.
var templateActions = []struct{ Label, Status string }{
	{"Approve", string(state.TemplateApproved)},
	{"Reject", string(state.TemplateRejected)},
	{"Pause", string(state.TemplatePaused)},
	{"Disable", string(state.TemplateDisabled)},
}

func (h *Handler) templates(w http.ResponseWriter, r *http.Request) {
	h.renderTemplates(w, r, http.StatusOK, "")
}

func (h *Handler) renderTemplates(w http.ResponseWriter, r *http.Request, status int, errMsg string) {
	sb := h.b.Sandbox()
	acct, err := h.accountOf(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	list, err := sb.ListTemplates(r.Context(), acct.Name, "")
	if err != nil {
		h.fail(w, r, err)
		return
	}
	now := sb.Now(acct)
	rows := make([]templateRow, len(list))
	for i, t := range list {
		rows[i] = templateRow{Template: t, Now: t.StatusAt(now)}
	}
	h.render(w, r, status, "templates", &page{Title: "Templates", Nav: "templates", Account: acct.Name, Error: errMsg,
		Data: map[string]any{"Rows": rows, "Actions": templateActions}})
}

func (h *Handler) templateStatus(w http.ResponseWriter, r *http.Request) {
	f := func(k string) string { return strings.TrimSpace(r.PostFormValue(k)) }
	account := f("account")
	path := "/_sandbox/templates/" + url.PathEscape(f("wabaId")) + "/" + url.PathEscape(f("name")) + "/" + url.PathEscape(f("language")) + "/status"
	in := map[string]string{"status": f("status")}
	if reason := f("reason"); reason != "" {
		in["reason"] = reason
	}
	if err := h.control(r.Context(), http.MethodPut, path, account, in, nil); err != nil {
		h.renderTemplates(w, r, http.StatusBadRequest, "template "+f("name")+" unchanged: "+refusal(err))
		return
	}
	back(w, r, Prefix+"templates?account="+url.QueryEscape(account), "Template "+f("name")+" ("+f("language")+") is now "+f("status")+".")
}
