package mockserver

import (
	"cmp"
	"net/http"
	"slices"

	"github.com/innosandbox/innosandbox/mockserver/state"
)

// The control API's template groups (state/groups.go).

type groupMemberView struct {
	Name     string `json:"name"`
	Language string `json:"language"`
}

type templateGroupView struct {
	WabaID    string            `json:"wabaId"`
	GroupID   string            `json:"groupId"`
	Templates []groupMemberView `json:"templates"`
	CreatedAt string            `json:"createdAt"`
	UpdatedAt string            `json:"updatedAt"`
}

func groupView(g state.TemplateGroup) templateGroupView {
	v := templateGroupView{WabaID: g.WabaID, GroupID: g.ID, Templates: []groupMemberView{}, CreatedAt: ts(g.CreatedAt), UpdatedAt: ts(g.UpdatedAt)}
	for lang, name := range g.Templates {
		v.Templates = append(v.Templates, groupMemberView{Name: name, Language: lang})
	}
	slices.SortFunc(v.Templates, func(a, b groupMemberView) int { return cmp.Compare(a.Language, b.Language) })
	return v
}

func (s *Server) listTemplateGroups(c *call) reply {
	a, r := s.account(c)
	if r != nil {
		return *r
	}
	list, err := s.sandbox.ListTemplateGroups(c.ctx, a.Name, c.r.URL.Query().Get("wabaId"))
	if err != nil {
		return fromError(err)
	}
	return ok(http.StatusOK, viewsOf(list, groupView))
}

func (s *Server) getTemplateGroup(c *call) reply {
	a, r := s.account(c)
	if r != nil {
		return *r
	}
	g, err := s.sandbox.GetTemplateGroup(c.ctx, a.Name, c.params["wabaId"], c.params["groupId"])
	if err != nil {
		return fromError(err)
	}
	return ok(http.StatusOK, groupView(g))
}

func (s *Server) putTemplateGroup(c *call) reply {
	a, r := s.account(c)
	if r != nil {
		return *r
	}
	var in struct {
		Templates []groupMemberView `json:"templates"`
	}
	if r := decode(c, &in); r != nil {
		return *r
	}
	members := make([]state.GroupMember, len(in.Templates))
	for i, m := range in.Templates {
		members[i] = state.GroupMember{Name: m.Name, Language: m.Language}
	}
	g, err := s.sandbox.PutTemplateGroup(c.ctx, a.Name, c.params["wabaId"], c.params["groupId"], members)
	if err != nil {
		return fromError(err)
	}
	return ok(http.StatusOK, groupView(g))
}

func (s *Server) deleteTemplateGroup(c *call) reply {
	a, r := s.account(c)
	if r != nil {
		return *r
	}
	if err := s.sandbox.DeleteTemplateGroup(c.ctx, a.Name, c.params["wabaId"], c.params["groupId"]); err != nil {
		return fromError(err)
	}
	return reply{status: http.StatusNoContent}
}
