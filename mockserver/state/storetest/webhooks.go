package storetest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/innosandbox/innosandbox/mockserver/state"
)

func testWebhooks(t *testing.T, open func(t *testing.T) state.Store) {
	setup := func(t *testing.T) *fixture { return twoApps(t, open) }
	getHook := func(f *fixture, app, product string) state.Webhook {
		f.t.Helper()
		w, err := f.s.GetWebhook(f.ctx, app, product)
		require.NoError(f.t, err)
		return w
	}
	t.Run("create then get returns every field", func(t *testing.T) {
		for name, change := range map[string]func(w *state.Webhook){
			"username set, authorization nil": func(*state.Webhook) {},
			"both headers set":                func(w *state.Webhook) { w.Authorization = strp("Bearer abc") },
			"both headers nil":                func(w *state.Webhook) { w.Username = nil },
			"PUT with one event":              func(w *state.Webhook) { w.Method, w.Events = "PUT", []string{state.EventWAMO} },
		} {
			t.Run(name, func(t *testing.T) {
				f := setup(t)
				want := validWebhook("AppOne00000000001", state.ProductWhatsApp)
				want.CreatedAt = want.CreatedAt.In(zone)
				change(&want)
				require.NoError(t, f.s.CreateWebhook(f.ctx, want))
				assert.Equal(t, normWebhook(want), normWebhook(getHook(f, "AppOne00000000001", state.ProductWhatsApp)))
			})
		}
	})
	t.Run("create for a configured product conflicts and keeps the first", func(t *testing.T) {
		f := setup(t)
		first := f.webhook("AppOne00000000001", state.ProductWhatsApp)
		dup := validWebhook("AppOne00000000001", state.ProductWhatsApp)
		dup.URL = "https://other.example.com/"
		assert.ErrorIs(t, f.s.CreateWebhook(f.ctx, dup), state.ErrConflict)
		assert.Equal(t, normWebhook(first), normWebhook(getHook(f, "AppOne00000000001", state.ProductWhatsApp)))
	})
	t.Run("the same product on another app is no conflict", func(t *testing.T) {
		f := setup(t)
		f.webhook("AppOne00000000001", state.ProductWhatsApp)
		assert.NoError(t, f.s.CreateWebhook(f.ctx, validWebhook("AppTwo00000000002", state.ProductWhatsApp)))
	})
	t.Run("create for an unknown app is not found", func(t *testing.T) {
		f := setup(t)
		err := f.s.CreateWebhook(f.ctx, validWebhook("AppNone0000000009", state.ProductWhatsApp))
		assert.ErrorIs(t, err, state.ErrNotFound)
	})
	t.Run("update replaces the configuration and keeps CreatedAt", func(t *testing.T) {
		f := setup(t)
		old := f.webhook("AppOne00000000001", state.ProductWhatsApp)
		upd := state.Webhook{AppKey: old.AppKey, Product: old.Product, URL: "http://changed.example.com:8080/x?y=1",
			Events: []string{state.EventWAMO}, Method: "PUT", Username: nil, Authorization: strp("Basic eDp5"),
			CreatedAt: old.CreatedAt, UpdatedAt: t0.Add(time.Hour)}
		require.NoError(t, f.s.UpdateWebhook(f.ctx, upd))
		assert.Equal(t, normWebhook(upd), normWebhook(getHook(f, "AppOne00000000001", state.ProductWhatsApp)))

		upd.CreatedAt = t0.Add(99 * time.Hour)
		require.NoError(t, f.s.UpdateWebhook(f.ctx, upd))
		assertTimeEqual(t, old.CreatedAt, getHook(f, "AppOne00000000001", state.ProductWhatsApp).CreatedAt, "CreatedAt")
	})
	t.Run("update of a missing configuration is not found", func(t *testing.T) {
		f := setup(t)
		f.webhook("AppOne00000000001", state.ProductSMS)
		err := f.s.UpdateWebhook(f.ctx, validWebhook("AppOne00000000001", state.ProductWhatsApp))
		assert.ErrorIs(t, err, state.ErrNotFound)
		_, err = f.s.GetWebhook(f.ctx, "AppOne00000000001", state.ProductWhatsApp)
		assert.ErrorIs(t, err, state.ErrNotFound, "update must not create")
		err = f.s.UpdateWebhook(f.ctx, validWebhook("AppNone0000000009", state.ProductSMS))
		assert.ErrorIs(t, err, state.ErrNotFound)
	})
	t.Run("get of a missing configuration is not found", func(t *testing.T) {
		f := setup(t)
		f.webhook("AppOne00000000001", state.ProductSMS)
		_, err := f.s.GetWebhook(f.ctx, "AppOne00000000001", state.ProductWhatsApp)
		assert.ErrorIs(t, err, state.ErrNotFound)
		_, err = f.s.GetWebhook(f.ctx, "AppTwo00000000002", state.ProductSMS)
		assert.ErrorIs(t, err, state.ErrNotFound)
	})
	t.Run("list is the app's configurations ordered by product", func(t *testing.T) {
		f := setup(t)
		wa := f.webhook("AppOne00000000001", state.ProductWhatsApp)
		sms := f.webhook("AppOne00000000001", state.ProductSMS)
		otp := f.webhook("AppOne00000000001", state.ProductOTP)
		f.webhook("AppTwo00000000002", state.ProductSMS)
		got, err := f.s.ListWebhooks(f.ctx, "AppOne00000000001")
		require.NoError(t, err)
		assert.Equal(t, normAll([]state.Webhook{otp, sms, wa}, normWebhook), normAll(got, normWebhook))
	})
	testListOfApp(t, setup, "configurations", func(f *fixture, appKey string) ([]state.Webhook, error) { return f.s.ListWebhooks(f.ctx, appKey) })
	t.Run("delete removes one product's configuration", func(t *testing.T) {
		f := setup(t)
		f.webhook("AppOne00000000001", state.ProductWhatsApp)
		sms := f.webhook("AppOne00000000001", state.ProductSMS)
		require.NoError(t, f.s.DeleteWebhook(f.ctx, "AppOne00000000001", state.ProductWhatsApp))
		_, err := f.s.GetWebhook(f.ctx, "AppOne00000000001", state.ProductWhatsApp)
		assert.ErrorIs(t, err, state.ErrNotFound)
		got, err := f.s.ListWebhooks(f.ctx, "AppOne00000000001")
		require.NoError(t, err)
		assert.Equal(t, []state.Webhook{normWebhook(sms)}, normAll(got, normWebhook))
		assert.ErrorIs(t, f.s.DeleteWebhook(f.ctx, "AppOne00000000001", state.ProductWhatsApp), state.ErrNotFound, "twice")
		require.NoError(t, f.s.CreateWebhook(f.ctx, validWebhook("AppOne00000000001", state.ProductWhatsApp)), "can be created again")
	})
	t.Run("delete of a missing configuration is not found", func(t *testing.T) {
		f := setup(t)
		assert.ErrorIs(t, f.s.DeleteWebhook(f.ctx, "AppOne00000000001", state.ProductWhatsApp), state.ErrNotFound)
		assert.ErrorIs(t, f.s.DeleteWebhook(f.ctx, "AppNone0000000009", state.ProductWhatsApp), state.ErrNotFound)
	})
}

func testBindings(t *testing.T, open func(t *testing.T) state.Store) {
	setup := func(t *testing.T) *fixture { return twoAccounts(t, open) }
	find := func(f *fixture, account string, kind state.BindingKind, value string) state.Binding {
		f.t.Helper()
		b, err := f.s.FindBinding(f.ctx, account, kind, value)
		require.NoError(f.t, err)
		return b
	}
	t.Run("create then find returns every field", func(t *testing.T) {
		f := setup(t)
		want := validBinding("IW0000001", "AppOne00000000001", state.BindNumber, "4930901820")
		want.CreatedAt = want.CreatedAt.In(zone)
		require.NoError(t, f.s.CreateBinding(f.ctx, want))
		assert.Equal(t, normBinding(want), normBinding(find(f, "IW0000001", state.BindNumber, "4930901820")))
	})
	t.Run("a value bound to any app of the account conflicts", func(t *testing.T) {
		f := setup(t)
		first := f.binding("IW0000001", "AppOne00000000001", state.BindNumber, "4930901820")
		for _, app := range []string{"AppOne00000000001", "AppTwo00000000002"} {
			err := f.s.CreateBinding(f.ctx, validBinding("IW0000001", app, state.BindNumber, "4930901820"))
			assert.ErrorIs(t, err, state.ErrConflict, app)
		}
		assert.Equal(t, normBinding(first), normBinding(find(f, "IW0000001", state.BindNumber, "4930901820")))
	})
	t.Run("the same value in another account or of another kind is no conflict", func(t *testing.T) {
		f := setup(t)
		f.binding("IW0000001", "AppOne00000000001", state.BindNumber, "4930901820")
		f.binding("IW0000002", "AppOther000000003", state.BindNumber, "4930901820")
		f.binding("IW0000001", "AppTwo00000000002", state.BindWABA, "4930901820")
		assert.Equal(t, "AppOne00000000001", find(f, "IW0000001", state.BindNumber, "4930901820").AppKey)
		assert.Equal(t, "AppOther000000003", find(f, "IW0000002", state.BindNumber, "4930901820").AppKey)
		assert.Equal(t, "AppTwo00000000002", find(f, "IW0000001", state.BindWABA, "4930901820").AppKey)
	})
	for name, b := range map[string]state.Binding{
		"unknown app":            validBinding("IW0000001", "AppNone0000000009", state.BindNumber, "4930901820"),
		"app of another account": validBinding("IW0000001", "AppOther000000003", state.BindNumber, "4930901820"),
		"unknown account":        validBinding("IW0000009", "AppOne00000000001", state.BindNumber, "4930901820"),
	} {
		t.Run("create for an "+name+" is not found", func(t *testing.T) {
			f := setup(t)
			assert.ErrorIs(t, f.s.CreateBinding(f.ctx, b), state.ErrNotFound)
			_, err := f.s.FindBinding(f.ctx, b.Account, b.Kind, b.Value)
			assert.ErrorIs(t, err, state.ErrNotFound)
		})
	}
	t.Run("find of an unbound value is not found", func(t *testing.T) {
		f := setup(t)
		f.binding("IW0000001", "AppOne00000000001", state.BindNumber, "4930901820")
		for _, q := range []struct {
			account string
			kind    state.BindingKind
			value   string
		}{
			{"IW0000001", state.BindNumber, "4930901821"},
			{"IW0000001", state.BindWABA, "4930901820"},
			{"IW0000002", state.BindNumber, "4930901820"},
		} {
			_, err := f.s.FindBinding(f.ctx, q.account, q.kind, q.value)
			assert.ErrorIs(t, err, state.ErrNotFound, "%+v", q)
		}
	})
	t.Run("list is the app's bindings ordered by kind, then value", func(t *testing.T) {
		f := setup(t)
		n2 := f.binding("IW0000001", "AppOne00000000001", state.BindNumber, "4930901822")
		w1 := f.binding("IW0000001", "AppOne00000000001", state.BindWABA, "110")
		n1 := f.binding("IW0000001", "AppOne00000000001", state.BindNumber, "4930901821")
		f.binding("IW0000001", "AppTwo00000000002", state.BindNumber, "4930901823")
		got, err := f.s.ListBindings(f.ctx, "AppOne00000000001")
		require.NoError(t, err)
		assert.Equal(t, normAll([]state.Binding{n1, n2, w1}, normBinding), normAll(got, normBinding))
	})
	testListOfApp(t, setup, "bindings", func(f *fixture, appKey string) ([]state.Binding, error) { return f.s.ListBindings(f.ctx, appKey) })
	t.Run("delete unbinds the value", func(t *testing.T) {
		f := setup(t)
		f.binding("IW0000001", "AppOne00000000001", state.BindNumber, "4930901820")
		waba := f.binding("IW0000001", "AppOne00000000001", state.BindWABA, "4930901820")
		require.NoError(t, f.s.DeleteBinding(f.ctx, "IW0000001", state.BindNumber, "4930901820"))
		_, err := f.s.FindBinding(f.ctx, "IW0000001", state.BindNumber, "4930901820")
		assert.ErrorIs(t, err, state.ErrNotFound)
		got, err := f.s.ListBindings(f.ctx, "AppOne00000000001")
		require.NoError(t, err)
		assert.Equal(t, []state.Binding{normBinding(waba)}, normAll(got, normBinding))
		f.binding("IW0000001", "AppTwo00000000002", state.BindNumber, "4930901820")
	})
	t.Run("delete of an unbound value is not found", func(t *testing.T) {
		f := setup(t)
		f.binding("IW0000001", "AppOne00000000001", state.BindNumber, "4930901820")
		assert.ErrorIs(t, f.s.DeleteBinding(f.ctx, "IW0000002", state.BindNumber, "4930901820"), state.ErrNotFound)
		assert.ErrorIs(t, f.s.DeleteBinding(f.ctx, "IW0000001", state.BindWABA, "4930901820"), state.ErrNotFound)
		find(f, "IW0000001", state.BindNumber, "4930901820")
	})
}
