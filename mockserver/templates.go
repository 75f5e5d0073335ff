package mockserver

import (
	"net/http"

	"github.com/innosandbox/innosandbox/mockserver/state"
)

// templateCreated is template/submit's data (spec: WhatsappTemplateCreated).
type templateCreated struct {
	TemplateID      string `json:"templateId"`
	SID             string `json:"sid"`
	Name            string `json:"name"`
	MessageLanguage string `json:"messageLanguage"`
	Category        string `json:"category"`
	TemplateStatus  string `json:"templateStatus"`
}

func (s *Server) whatsappSubmitTemplate(c *call) reply {
	headerType := 1 // the documented default
	if m, ok := c.value.(map[string]any); ok {
		if v, ok := m["headerType"].(float64); ok {
			headerType = int(v)
		}
	}
	t, err := s.sandbox.SubmitTemplate(c.ctx, c.principal(), state.TemplateSubmission{
		WabaID: c.str("wabaId"), Name: c.str("name"), Language: c.str("messageLanguage"), Category: c.str("category"),
		HeaderType: headerType, Caption: c.str("caption"), Body: c.str("messageBody"), Request: c.storedBody(),
	})
	if err != nil {
		return fromError(err)
	}
	return ok(http.StatusOK, Envelope{Code: "0", Message: MsgSuccess, Data: templateCreated{
		TemplateID: t.TemplateID, SID: t.SID, Name: t.Name, MessageLanguage: t.Language,
		Category: c.str("category"), TemplateStatus: string(state.TemplatePending),
	}})
}

// templateUse reads what a template send names: its template, language and
// how many parameters it gives.
func (c *call) templateUse() *state.TemplateUse {
	if c.str("messageType") != "template" {
		return nil
	}
	m, _ := c.value.(map[string]any)
	params, _ := m["bodyParams"].([]any)
	header, _ := m["header"].(map[string]any)
	value, _ := header["paramValue"].(string)
	return &state.TemplateUse{Name: c.str("templateName"), GroupID: c.str("templateGroupId"), Language: c.str("language"),
		BodyParams: len(params), HeaderParam: value != ""}
}
