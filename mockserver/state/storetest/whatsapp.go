package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/innosandbox/innosandbox/mockserver/state"
)

func validTemplate(account, waba, name, lang string) state.Template {
	return state.Template{Account: account, WabaID: waba, Name: name, Language: lang, Category: "AUTHENTICATION",
		TemplateID: "0123456789abcdef0123456789abcdef", SID: "998961841525295", AppKey: "AAAAAAAAAAAAAAAAA",
		BodyParams: 2, HeaderParams: 1, Status: state.TemplateApproved, Reason: "NONE",
		ReviewAt: t0.Add(30 * time.Second).In(zone), Request: []byte(`{"name":"` + name + `"}`),
		CreatedAt: t0, UpdatedAt: t0}
}

func normTemplate(t state.Template) state.Template {
	t.ReviewAt, t.CreatedAt, t.UpdatedAt = utc(t.ReviewAt), utc(t.CreatedAt), utc(t.UpdatedAt)
	return t
}

func testTemplates(t *testing.T, open func(t *testing.T) state.Store) {
	f := newFixture(t, open)
	f.account("IW0000001")
	f.account("IW0000002")
	a := validTemplate("IW0000001", "111", "otp_login", "en_US")
	require.NoError(t, f.s.CreateTemplate(f.ctx, a, nil))

	t.Run("round trip", func(t *testing.T) {
		got, err := f.s.GetTemplate(f.ctx, "IW0000001", "111", "otp_login", "en_US")
		require.NoError(t, err)
		assert.Equal(t, normTemplate(a), normTemplate(got))
	})
	t.Run("the same name, language and WABA twice is a conflict", func(t *testing.T) {
		b := validTemplate("IW0000001", "111", "otp_login", "en_US")
		assert.ErrorIs(t, f.s.CreateTemplate(f.ctx, b, nil), state.ErrConflict)
	})
	t.Run("another language, WABA or account is another template", func(t *testing.T) {
		require.NoError(t, f.s.CreateTemplate(f.ctx, validTemplate("IW0000001", "111", "otp_login", "pt_BR"), nil))
		require.NoError(t, f.s.CreateTemplate(f.ctx, validTemplate("IW0000001", "222", "otp_login", "en_US"), nil))
		require.NoError(t, f.s.CreateTemplate(f.ctx, validTemplate("IW0000002", "111", "otp_login", "en_US"), nil))
	})
	t.Run("unknown", func(t *testing.T) {
		_, err := f.s.GetTemplate(f.ctx, "IW0000001", "111", "otp_login", "fr")
		assert.ErrorIs(t, err, state.ErrNotFound)
		assert.ErrorIs(t, f.s.CreateTemplate(f.ctx, validTemplate("IW9999999", "1", "x", "en"), nil), state.ErrNotFound)
	})
	t.Run("list by WABA or all, in creation order", func(t *testing.T) {
		all, err := f.s.ListTemplates(f.ctx, "IW0000001", "")
		require.NoError(t, err)
		require.Len(t, all, 3)
		assert.Equal(t, []string{"111/en_US", "111/pt_BR", "222/en_US"}, []string{
			all[0].WabaID + "/" + all[0].Language, all[1].WabaID + "/" + all[1].Language, all[2].WabaID + "/" + all[2].Language})
		one, err := f.s.ListTemplates(f.ctx, "IW0000001", "222")
		require.NoError(t, err)
		require.Len(t, one, 1)
		_, err = f.s.ListTemplates(f.ctx, "IW9999999", "")
		assert.ErrorIs(t, err, state.ErrNotFound)
	})
	t.Run("update status", func(t *testing.T) {
		u := a
		u.Status, u.Reason, u.ReviewAt, u.UpdatedAt = state.TemplatePaused, "quality", t0.Add(time.Hour), t0.Add(time.Hour)
		require.NoError(t, f.s.UpdateTemplateStatus(f.ctx, u))
		got, err := f.s.GetTemplate(f.ctx, "IW0000001", "111", "otp_login", "en_US")
		require.NoError(t, err)
		assert.Equal(t, state.TemplatePaused, got.Status)
		assert.Equal(t, "quality", got.Reason)
		assertTimeEqual(t, u.ReviewAt, got.ReviewAt, "ReviewAt")
		assert.Equal(t, a.BodyParams, got.BodyParams, "other fields stay")
		u.Language = "xx"
		assert.ErrorIs(t, f.s.UpdateTemplateStatus(f.ctx, u), state.ErrNotFound)
	})
	t.Run("StatusAt is PENDING until the review ends", func(t *testing.T) {
		assert.Equal(t, state.TemplatePending, a.StatusAt(a.ReviewAt.Add(-time.Microsecond)))
		assert.Equal(t, state.TemplateApproved, a.StatusAt(a.ReviewAt))
	})
	t.Run("the template and its events are written together", func(t *testing.T) {
		ev := pendingEvent("tmpl-ev-1", "IW0000001", "", t0)
		require.NoError(t, f.s.CreateTemplate(f.ctx, validTemplate("IW0000001", "111", "welcome", "en"), []state.Event{ev}))
		f.getEvent("tmpl-ev-1")
		// A conflicting event id leaves the template unwritten too.
		err := f.s.CreateTemplate(f.ctx, validTemplate("IW0000001", "111", "welcome2", "en"), []state.Event{ev})
		require.ErrorIs(t, err, state.ErrConflict)
		_, err = f.s.GetTemplate(f.ctx, "IW0000001", "111", "welcome2", "en")
		assert.ErrorIs(t, err, state.ErrNotFound)
	})
	t.Run("deleting the account deletes its templates", func(t *testing.T) {
		require.NoError(t, f.s.DeleteAccount(f.ctx, "IW0000002"))
		f.account("IW0000002")
		list, err := f.s.ListTemplates(f.ctx, "IW0000002", "")
		require.NoError(t, err)
		assert.Empty(t, list)
	})
}

func testWabaNumbers(t *testing.T, open func(t *testing.T) state.Store) {
	f := newFixture(t, open)
	f.account("IW0000001")
	f.app("IW0000001", "AAAAAAAAAAAAAAAAA")
	add := func(waba, number string) error {
		return f.s.AddWabaNumber(f.ctx, state.WabaNumber{Account: "IW0000001", WabaID: waba, Number: number, CreatedAt: t0})
	}
	require.NoError(t, add("111", "8618900000002"))
	require.NoError(t, add("111", "8618900000001"))
	require.NoError(t, add("111", "8618900000001"), "adding a number again is not an error")
	assert.ErrorIs(t, add("222", "8618900000001"), state.ErrConflict, "a number belongs to one WABA")
	assert.ErrorIs(t, f.s.AddWabaNumber(f.ctx, state.WabaNumber{Account: "IW9999999", WabaID: "1", Number: "1"}), state.ErrNotFound)

	nums, err := f.s.WabaNumbers(f.ctx, "IW0000001", "111")
	require.NoError(t, err)
	assert.Equal(t, []string{"8618900000001", "8618900000002"}, nums)
	nums, err = f.s.WabaNumbers(f.ctx, "IW0000001", "333")
	require.NoError(t, err)
	assert.Empty(t, nums)

	t.Run("a submission registers its sending number only if it is new", func(t *testing.T) {
		sub := validSubmission("IW0000001", "AAAAAAAAAAAAAAAAA", "100000000000000001", "n1-")
		sub.RegisterNumber = &state.WabaNumber{Account: "IW0000001", WabaID: "333", Number: "8618900000003", CreatedAt: t0}
		require.NoError(t, f.s.RecordSubmission(f.ctx, sub))
		sub = validSubmission("IW0000001", "AAAAAAAAAAAAAAAAA", "100000000000000002", "n2-")
		sub.RegisterNumber = &state.WabaNumber{Account: "IW0000001", WabaID: "444", Number: "8618900000003", CreatedAt: t0}
		require.NoError(t, f.s.RecordSubmission(f.ctx, sub), "a number registered elsewhere is left as it is")
		nums, err := f.s.WabaNumbers(f.ctx, "IW0000001", "333")
		require.NoError(t, err)
		assert.Equal(t, []string{"8618900000003"}, nums)
		nums, err = f.s.WabaNumbers(f.ctx, "IW0000001", "444")
		require.NoError(t, err)
		assert.Empty(t, nums)
	})
}

func testSessions(t *testing.T, open func(t *testing.T) state.Store) {
	f := newFixture(t, open)
	f.account("IW0000001")
	f.account("IW0000002")
	require.NoError(t, f.s.TouchSession(f.ctx, "IW0000001", "8618900000001", "6200000001", t0))
	require.NoError(t, f.s.TouchSession(f.ctx, "IW0000001", "8618900000001", "6200000002", t0.Add(time.Hour)))
	require.NoError(t, f.s.TouchSession(f.ctx, "IW0000002", "8618900000001", "6200000003", t0))
	err := f.s.TouchSession(f.ctx, "IW9999999", "1", "2", t0)
	assert.True(t, errors.Is(err, state.ErrNotFound), "unknown account: %v", err)

	got, err := f.s.LastInbound(f.ctx, "IW0000001", "8618900000001", []string{"6200000001", "6200000002", "6200000003", "6200000009"})
	require.NoError(t, err)
	require.Len(t, got, 2, "only users who wrote to this business number of this account")
	assertTimeEqual(t, t0, got["6200000001"], "user 1")
	assertTimeEqual(t, t0.Add(time.Hour), got["6200000002"], "user 2")

	// The latest write wins, whatever the sandbox clock says: clocks move back.
	require.NoError(t, f.s.TouchSession(f.ctx, "IW0000001", "8618900000001", "6200000002", t0.Add(-time.Hour)))
	got, err = f.s.LastInbound(f.ctx, "IW0000001", "8618900000001", []string{"6200000002"})
	require.NoError(t, err)
	assertTimeEqual(t, t0.Add(-time.Hour), got["6200000002"], "user 2 again")

	got, err = f.s.LastInbound(f.ctx, "IW0000001", "8618900000999", []string{"6200000001"})
	require.NoError(t, err)
	assert.Empty(t, got)
}
