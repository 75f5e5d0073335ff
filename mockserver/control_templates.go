package mockserver

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/innosandbox/innosandbox/mockserver/state"
)

// The control API's templates and WABA numbers.

type templateView struct {
	WabaID       string  `json:"wabaId"`
	Name         string  `json:"name"`
	Language     string  `json:"language"`
	Category     string  `json:"category"`
	TemplateID   string  `json:"templateId"`
	SID          string  `json:"sid"`
	AppKey       *string `json:"appKey"`
	BodyParams   int     `json:"bodyParams"`
	HeaderParams int     `json:"headerParams"`
	Status       string  `json:"status"`
	Reason       string  `json:"reason"`
	ReviewAt     *string `json:"reviewAt"`
	CreatedAt    string  `json:"createdAt"`
}

func (s *Server) templateView(t state.Template, a state.Account) templateView {
	v := templateView{WabaID: t.WabaID, Name: t.Name, Language: t.Language, Category: t.Category, TemplateID: t.TemplateID,
		SID: t.SID, AppKey: strPtr(t.AppKey), BodyParams: t.BodyParams, HeaderParams: t.HeaderParams,
		Status: string(t.StatusAt(s.sandbox.Now(a))), Reason: t.Reason, CreatedAt: ts(t.CreatedAt)}
	if t.ReviewAt.Year() < 9999 {
		v.ReviewAt = tsPtr(&t.ReviewAt)
	}
	return v
}

func (s *Server) listTemplates(c *call) reply {
	a, r := s.account(c)
	if r != nil {
		return *r
	}
	list, err := s.sandbox.ListTemplates(c.ctx, a.Name, c.r.URL.Query().Get("wabaId"))
	if err != nil {
		return fromError(err)
	}
	return ok(http.StatusOK, viewsOf(list, func(t state.Template) templateView { return s.templateView(t, a) }))
}

func (s *Server) createTemplate(c *call) reply {
	a, r := s.account(c)
	if r != nil {
		return *r
	}
	var in struct {
		WabaID       string `json:"wabaId"`
		Name         string `json:"name"`
		Language     string `json:"language"`
		Category     string `json:"category"`
		BodyParams   int    `json:"bodyParams"`
		HeaderParams int    `json:"headerParams"`
	}
	if r := decode(c, &in); r != nil {
		return *r
	}
	t, err := s.sandbox.SeedTemplate(c.ctx, a.Name, in.WabaID, in.Name, in.Language, in.Category, in.BodyParams, in.HeaderParams)
	if err != nil {
		return fromError(err)
	}
	return ok(http.StatusCreated, s.templateView(t, a))
}

func (s *Server) setTemplateStatus(c *call) reply {
	a, r := s.account(c)
	if r != nil {
		return *r
	}
	var in struct {
		Status string `json:"status"`
		Reason string `json:"reason"`
	}
	if r := decode(c, &in); r != nil {
		return *r
	}
	t, err := s.sandbox.SetTemplateStatus(c.ctx, a, c.params["wabaId"], c.params["name"], c.params["language"], state.TemplateStatus(in.Status), in.Reason)
	if err != nil {
		return fromError(err)
	}
	return ok(http.StatusOK, s.templateView(t, a))
}

type wabaNumbersView struct {
	WabaID  string   `json:"wabaId"`
	Numbers []string `json:"numbers"`
}

func (s *Server) wabaNumbers(c *call, a state.Account) reply {
	nums, err := s.store.WabaNumbers(c.ctx, a.Name, c.params["wabaId"])
	if err != nil {
		return fromError(err)
	}
	if nums == nil {
		nums = []string{}
	}
	return ok(http.StatusOK, wabaNumbersView{WabaID: c.params["wabaId"], Numbers: nums})
}

func (s *Server) listWabaNumbers(c *call) reply {
	a, r := s.account(c)
	if r != nil {
		return *r
	}
	return s.wabaNumbers(c, a)
}

func (s *Server) addWabaNumber(c *call) reply {
	a, r := s.account(c)
	if r != nil {
		return *r
	}
	var in struct {
		Number string `json:"number"`
	}
	if r := decode(c, &in); r != nil {
		return *r
	}
	err := s.store.AddWabaNumber(c.ctx, state.WabaNumber{Account: a.Name, WabaID: c.params["wabaId"], Number: in.Number, CreatedAt: s.sandbox.RealNow()})
	if errors.Is(err, state.ErrConflict) {
		return fail(http.StatusConflict, fmt.Sprintf("number %s is a number of another WABA of account %s", in.Number, a.Name))
	} else if err != nil {
		return fromError(err)
	}
	rep := s.wabaNumbers(c, a)
	rep.status = http.StatusCreated
	return rep
}
