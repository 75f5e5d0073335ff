package storetest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/innosandbox/innosandbox/mockserver/state"
)

// RunSecrets runs the checks of SecretStore and TemplateGroupStore. Run
// calls it; it is separate so the checks can be named alone.
func RunSecrets(t *testing.T, open func(t *testing.T) state.Store) {
	t.Run("AppSecrets", func(t *testing.T) { testAppSecrets(t, open) })
	t.Run("Nonces", func(t *testing.T) { testNonces(t, open) })
	t.Run("TemplateGroups", func(t *testing.T) { testTemplateGroups(t, open) })
}

func testAppSecrets(t *testing.T, open func(t *testing.T) state.Store) {
	f := twoApps(t, open)
	one := state.AppSecret{AppKey: "AppOne00000000001", Sealed: []byte{1, 2, 3, 0, 255}, IssuedAt: t0.In(zone)}

	_, err := f.s.GetAppSecret(f.ctx, one.AppKey)
	assert.ErrorIs(t, err, state.ErrNotFound, "no secret yet")
	require.NoError(t, f.s.SetAppSecret(f.ctx, one))
	got, err := f.s.GetAppSecret(f.ctx, one.AppKey)
	require.NoError(t, err)
	assert.Equal(t, one.Sealed, got.Sealed)
	assert.True(t, one.IssuedAt.Equal(got.IssuedAt))

	t.Run("a rotation replaces it", func(t *testing.T) {
		next := state.AppSecret{AppKey: one.AppKey, Sealed: []byte("other"), IssuedAt: t0.Add(time.Hour)}
		require.NoError(t, f.s.SetAppSecret(f.ctx, next))
		got, err := f.s.GetAppSecret(f.ctx, one.AppKey)
		require.NoError(t, err)
		assert.Equal(t, next.Sealed, got.Sealed)
		assert.True(t, next.IssuedAt.Equal(got.IssuedAt))
		_, err = f.s.GetAppSecret(f.ctx, "AppTwo00000000002")
		assert.ErrorIs(t, err, state.ErrNotFound, "another app's secret is its own")
	})
	t.Run("unknown app", func(t *testing.T) {
		assert.ErrorIs(t, f.s.SetAppSecret(f.ctx, state.AppSecret{AppKey: "NoSuchApp00000000", Sealed: []byte("x"), IssuedAt: t0}), state.ErrNotFound)
	})
	t.Run("DeleteApp removes it", func(t *testing.T) {
		require.NoError(t, f.s.DeleteApp(f.ctx, one.AppKey))
		_, err := f.s.GetAppSecret(f.ctx, one.AppKey)
		assert.ErrorIs(t, err, state.ErrNotFound)
	})
}

func testNonces(t *testing.T, open func(t *testing.T) state.Store) {
	f := twoApps(t, open)
	const app, other = "AppOne00000000001", "AppTwo00000000002"
	w := 5 * time.Minute
	require.NoError(t, f.s.UseNonce(f.ctx, app, "n1", t0, t0.Add(w)))
	assert.ErrorIs(t, f.s.UseNonce(f.ctx, app, "n1", t0.Add(w-time.Microsecond), t0.Add(2*w)), state.ErrConflict, "a replay within the window")
	require.NoError(t, f.s.UseNonce(f.ctx, other, "n1", t0, t0.Add(w)), "another app's nonces are its own")
	require.NoError(t, f.s.UseNonce(f.ctx, app, "n2", t0, t0.Add(w)))
	require.NoError(t, f.s.UseNonce(f.ctx, app, "n1", t0.Add(w), t0.Add(2*w)), "a nonce is forgotten when its window ends")
	assert.ErrorIs(t, f.s.UseNonce(f.ctx, app, "n1", t0.Add(w+time.Second), t0.Add(3*w)), state.ErrConflict, "and remembered again from its new use")
	assert.ErrorIs(t, f.s.UseNonce(f.ctx, "NoSuchApp00000000", "n1", t0, t0.Add(w)), state.ErrNotFound)
	require.NoError(t, f.s.DeleteApp(f.ctx, app))
	require.NoError(t, f.s.CreateApp(f.ctx, validApp("IW0000001", app)))
	require.NoError(t, f.s.UseNonce(f.ctx, app, "n2", t0, t0.Add(w)), "DeleteApp forgets its nonces")
}

func testTemplateGroups(t *testing.T, open func(t *testing.T) state.Store) {
	f := newFixture(t, open)
	f.account("IW0000001")
	f.account("IW0000002")
	g := state.TemplateGroup{Account: "IW0000001", WabaID: "111", ID: "demo_otp",
		Templates: map[string]string{"en_US": "otp_login", "id": "otp_login_id"}, CreatedAt: t0.In(zone), UpdatedAt: t0}
	require.NoError(t, f.s.PutTemplateGroup(f.ctx, g))
	got, err := f.s.GetTemplateGroup(f.ctx, "IW0000001", "111", "demo_otp")
	require.NoError(t, err)
	assert.Equal(t, g.Templates, got.Templates)
	assert.True(t, g.CreatedAt.Equal(got.CreatedAt))

	t.Run("put again replaces the templates, keeps CreatedAt", func(t *testing.T) {
		h := g
		h.Templates = map[string]string{"pt_BR": "otp_br"}
		h.CreatedAt, h.UpdatedAt = t0.Add(time.Hour), t0.Add(time.Hour)
		require.NoError(t, f.s.PutTemplateGroup(f.ctx, h))
		got, err := f.s.GetTemplateGroup(f.ctx, "IW0000001", "111", "demo_otp")
		require.NoError(t, err)
		assert.Equal(t, h.Templates, got.Templates)
		assert.True(t, g.CreatedAt.Equal(got.CreatedAt), "created %s", got.CreatedAt)
		assert.True(t, h.UpdatedAt.Equal(got.UpdatedAt))
	})
	t.Run("list by WABA or all, ordered by WABA then id", func(t *testing.T) {
		for _, x := range []state.TemplateGroup{
			{Account: "IW0000001", WabaID: "222", ID: "a", Templates: map[string]string{"en": "x"}, CreatedAt: t0, UpdatedAt: t0},
			{Account: "IW0000001", WabaID: "111", ID: "b", Templates: map[string]string{"en": "y"}, CreatedAt: t0, UpdatedAt: t0},
			{Account: "IW0000002", WabaID: "111", ID: "c", Templates: map[string]string{"en": "z"}, CreatedAt: t0, UpdatedAt: t0},
		} {
			require.NoError(t, f.s.PutTemplateGroup(f.ctx, x))
		}
		all, err := f.s.ListTemplateGroups(f.ctx, "IW0000001", "")
		require.NoError(t, err)
		var ids []string
		for _, x := range all {
			ids = append(ids, x.WabaID+"/"+x.ID)
		}
		assert.Equal(t, []string{"111/b", "111/demo_otp", "222/a"}, ids)
		one, err := f.s.ListTemplateGroups(f.ctx, "IW0000001", "222")
		require.NoError(t, err)
		require.Len(t, one, 1)
		none, err := f.s.ListTemplateGroups(f.ctx, "IW0000001", "333")
		require.NoError(t, err)
		assert.NotNil(t, none)
		assert.Empty(t, none)
		_, err = f.s.ListTemplateGroups(f.ctx, "IW9999999", "")
		assert.ErrorIs(t, err, state.ErrNotFound)
	})
	t.Run("unknown", func(t *testing.T) {
		_, err := f.s.GetTemplateGroup(f.ctx, "IW0000002", "111", "demo_otp")
		assert.ErrorIs(t, err, state.ErrNotFound, "another account's group is not found")
		assert.ErrorIs(t, f.s.PutTemplateGroup(f.ctx, state.TemplateGroup{Account: "IW9999999", WabaID: "1", ID: "x",
			Templates: map[string]string{}, CreatedAt: t0, UpdatedAt: t0}), state.ErrNotFound)
		assert.ErrorIs(t, f.s.DeleteTemplateGroup(f.ctx, "IW0000001", "111", "nope"), state.ErrNotFound)
	})
	t.Run("delete, and DeleteAccount removes them", func(t *testing.T) {
		require.NoError(t, f.s.DeleteTemplateGroup(f.ctx, "IW0000001", "111", "b"))
		_, err := f.s.GetTemplateGroup(f.ctx, "IW0000001", "111", "b")
		assert.ErrorIs(t, err, state.ErrNotFound)
		require.NoError(t, f.s.DeleteAccount(f.ctx, "IW0000001"))
		f.account("IW0000001")
		all, err := f.s.ListTemplateGroups(f.ctx, "IW0000001", "")
		require.NoError(t, err)
		assert.Empty(t, all)
	})
}
