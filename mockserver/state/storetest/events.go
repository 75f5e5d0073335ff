package storetest

import (
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/innosandbox/innosandbox/mockserver/state"
)

// validSubmission is a send to one recipient from number 4930901999 with its
// two status events (ids eventPrefix+"0" and +"1"), due one and three
// seconds after t0, and a sender binding.
func validSubmission(account, appKey, msgID, eventPrefix string) state.Submission {
	delivered := pendingEvent(eventPrefix+"0", account, appKey, t0.Add(time.Second))
	read := pendingEvent(eventPrefix+"1", account, appKey, t0.Add(3*time.Second))
	return state.Submission{
		Message: state.Message{
			ID: msgID, Account: account, AppKey: appKey, Product: state.ProductWhatsApp,
			MessageType: "text", WabaID: "110200", SendNumber: "4930901999",
			Recipients: []string{"4915112345678"}, Wamids: []string{"wamid.HBgNNDkxNTExMjM0NTY3OBUCABEYEjA="},
			UID: "client-ref-1", Request: []byte(`{"to":"4915112345678","type":"text"}`),
			CreatedAt: t0.In(zone),
		},
		BindSender: &state.Binding{Account: account, Kind: state.BindNumber, Value: "4930901999", AppKey: appKey, CreatedAt: t0},
		Events:     []state.Event{delivered, read},
	}
}

func testRecordSubmission(t *testing.T, open func(t *testing.T) state.Store) {
	setup := func(t *testing.T) *fixture { return twoApps(t, open) }
	// assertNothingWritten checks that a refused submission left no trace.
	assertNothingWritten := func(f *fixture, sub state.Submission, msgWasThere bool) {
		f.t.Helper()
		if !msgWasThere {
			_, err := f.s.GetMessage(f.ctx, sub.Message.ID)
			assert.ErrorIs(f.t, err, state.ErrNotFound, "message")
		}
		_, err := f.s.FindBinding(f.ctx, sub.BindSender.Account, sub.BindSender.Kind, sub.BindSender.Value)
		assert.ErrorIs(f.t, err, state.ErrNotFound, "sender binding")
	}
	t.Run("writes the message, the events and the sender binding", func(t *testing.T) {
		f := setup(t)
		sub := validSubmission("IW0000001", "AppOne00000000001", "100000000000000001", "ev-")
		require.NoError(t, f.s.RecordSubmission(f.ctx, sub))
		msg, err := f.s.GetMessage(f.ctx, sub.Message.ID)
		require.NoError(t, err)
		assert.Equal(t, normMessage(sub.Message), normMessage(msg))
		for _, want := range sub.Events {
			got, attempts, err := f.s.GetEvent(f.ctx, want.ID)
			require.NoError(t, err)
			assert.Equal(t, normEvent(want), normEvent(got))
			assert.Empty(t, attempts)
		}
		b, err := f.s.FindBinding(f.ctx, "IW0000001", state.BindNumber, "4930901999")
		require.NoError(t, err)
		assert.Equal(t, normBinding(*sub.BindSender), normBinding(b))
	})
	t.Run("many recipients", func(t *testing.T) {
		f := setup(t)
		sub := validSubmission("IW0000001", "AppOne00000000001", "100000000000000001", "ev-")
		sub.Message.Recipients, sub.Message.Wamids, sub.Events = nil, nil, nil
		for i := range 250 {
			sub.Message.Recipients = append(sub.Message.Recipients, fmt.Sprintf("49151%08d", i))
			sub.Message.Wamids = append(sub.Message.Wamids, fmt.Sprintf("wamid.%d", i))
			sub.Events = append(sub.Events,
				pendingEvent(fmt.Sprintf("ev-%d-d", i), "IW0000001", "AppOne00000000001", t0.Add(time.Second)),
				pendingEvent(fmt.Sprintf("ev-%d-r", i), "IW0000001", "AppOne00000000001", t0.Add(3*time.Second)))
		}
		require.NoError(t, f.s.RecordSubmission(f.ctx, sub))
		msg, err := f.s.GetMessage(f.ctx, sub.Message.ID)
		require.NoError(t, err)
		assert.Equal(t, normMessage(sub.Message), normMessage(msg))
		evs, err := f.s.ListEvents(f.ctx, state.EventFilter{Account: "IW0000001", Limit: 1000})
		require.NoError(t, err)
		assert.Len(t, evs, 500)
	})
	t.Run("a message without request body and uid round-trips", func(t *testing.T) {
		f := setup(t)
		sub := validSubmission("IW0000001", "AppOne00000000001", "100000000000000001", "ev-")
		sub.Message.Request, sub.Message.UID, sub.Message.WabaID = nil, "", ""
		require.NoError(t, f.s.RecordSubmission(f.ctx, sub))
		msg, err := f.s.GetMessage(f.ctx, sub.Message.ID)
		require.NoError(t, err)
		assert.Equal(t, normMessage(sub.Message), normMessage(msg))
	})
	t.Run("a dropped event without target round-trips", func(t *testing.T) {
		f := setup(t)
		sub := validSubmission("IW0000001", "AppOne00000000001", "100000000000000001", "ev-")
		sub.Events[1] = droppedEvent("ev-1", "IW0000001")
		require.NoError(t, f.s.RecordSubmission(f.ctx, sub))
		got := f.getEvent("ev-1")
		assert.Equal(t, normEvent(sub.Events[1]), normEvent(got))
	})
	t.Run("a sender bound already keeps its binding", func(t *testing.T) {
		f := setup(t)
		before := f.binding("IW0000001", "AppTwo00000000002", state.BindNumber, "4930901999")
		sub := validSubmission("IW0000001", "AppOne00000000001", "100000000000000001", "ev-")
		require.NoError(t, f.s.RecordSubmission(f.ctx, sub))
		b, err := f.s.FindBinding(f.ctx, "IW0000001", state.BindNumber, "4930901999")
		require.NoError(t, err)
		assert.Equal(t, normBinding(before), normBinding(b))
		_, err = f.s.GetMessage(f.ctx, sub.Message.ID)
		assert.NoError(t, err)
	})
	t.Run("a second send from the same number succeeds", func(t *testing.T) {
		f := setup(t)
		require.NoError(t, f.s.RecordSubmission(f.ctx, validSubmission("IW0000001", "AppOne00000000001", "100000000000000001", "a-")))
		require.NoError(t, f.s.RecordSubmission(f.ctx, validSubmission("IW0000001", "AppOne00000000001", "100000000000000002", "b-")))
		binds, err := f.s.ListBindings(f.ctx, "AppOne00000000001")
		require.NoError(t, err)
		assert.Len(t, binds, 1)
	})
	t.Run("without BindSender nothing is bound", func(t *testing.T) {
		f := setup(t)
		sub := validSubmission("IW0000001", "AppOne00000000001", "100000000000000001", "ev-")
		sub.BindSender = nil
		require.NoError(t, f.s.RecordSubmission(f.ctx, sub))
		_, err := f.s.FindBinding(f.ctx, "IW0000001", state.BindNumber, "4930901999")
		assert.ErrorIs(t, err, state.ErrNotFound)
	})
	t.Run("an unknown app is not found and nothing is written", func(t *testing.T) {
		f := setup(t)
		sub := validSubmission("IW0000001", "AppNone0000000009", "100000000000000001", "ev-")
		sub.BindSender = nil
		assert.ErrorIs(t, f.s.RecordSubmission(f.ctx, sub), state.ErrNotFound)
		_, err := f.s.GetMessage(f.ctx, sub.Message.ID)
		assert.ErrorIs(t, err, state.ErrNotFound)
		_, _, err = f.s.GetEvent(f.ctx, "ev-0")
		assert.ErrorIs(t, err, state.ErrNotFound)
	})
	t.Run("an event of an unknown account is not found and nothing is written", func(t *testing.T) {
		f := setup(t)
		sub := validSubmission("IW0000001", "AppOne00000000001", "100000000000000001", "ev-")
		sub.Events[1].Account = "IW0000009"
		assert.ErrorIs(t, f.s.RecordSubmission(f.ctx, sub), state.ErrNotFound)
		assertNothingWritten(f, sub, false)
		_, _, err := f.s.GetEvent(f.ctx, "ev-0")
		assert.ErrorIs(t, err, state.ErrNotFound)
	})
	t.Run("a message of an unknown account is not found and nothing is written", func(t *testing.T) {
		f := setup(t)
		sub := validSubmission("IW0000001", "AppOne00000000001", "100000000000000001", "ev-")
		sub.Message.Account = "IW0000009"
		assert.ErrorIs(t, f.s.RecordSubmission(f.ctx, sub), state.ErrNotFound)
		assertNothingWritten(f, sub, false)
	})
	t.Run("a used message id conflicts and nothing is written", func(t *testing.T) {
		f := setup(t)
		first := validSubmission("IW0000001", "AppOne00000000001", "100000000000000001", "a-")
		first.BindSender = nil
		require.NoError(t, f.s.RecordSubmission(f.ctx, first))
		sub := validSubmission("IW0000001", "AppOne00000000001", "100000000000000001", "b-")
		assert.ErrorIs(t, f.s.RecordSubmission(f.ctx, sub), state.ErrConflict)
		assertNothingWritten(f, sub, true)
		for _, id := range []string{"b-0", "b-1"} {
			_, _, err := f.s.GetEvent(f.ctx, id)
			assert.ErrorIs(t, err, state.ErrNotFound, id)
		}
		msg, err := f.s.GetMessage(f.ctx, "100000000000000001")
		require.NoError(t, err)
		assert.Equal(t, normMessage(first.Message), normMessage(msg))
	})
	t.Run("a used event id conflicts and nothing is written", func(t *testing.T) {
		f := setup(t)
		existing := pendingEvent("ev-1", "IW0000001", "AppTwo00000000002", t0)
		f.events(existing)
		sub := validSubmission("IW0000001", "AppOne00000000001", "100000000000000001", "ev-")
		assert.ErrorIs(t, f.s.RecordSubmission(f.ctx, sub), state.ErrConflict)
		assertNothingWritten(f, sub, false)
		_, _, err := f.s.GetEvent(f.ctx, "ev-0")
		assert.ErrorIs(t, err, state.ErrNotFound, "the event before the conflicting one")
		assert.Equal(t, normEvent(existing), normEvent(f.getEvent("ev-1")))
	})
	t.Run("an event id used twice in the submission conflicts and nothing is written", func(t *testing.T) {
		f := setup(t)
		sub := validSubmission("IW0000001", "AppOne00000000001", "100000000000000001", "ev-")
		sub.Events[1].ID = sub.Events[0].ID
		assert.ErrorIs(t, f.s.RecordSubmission(f.ctx, sub), state.ErrConflict)
		assertNothingWritten(f, sub, false)
		_, _, err := f.s.GetEvent(f.ctx, "ev-0")
		assert.ErrorIs(t, err, state.ErrNotFound)
	})
	t.Run("get of an unknown message is not found", func(t *testing.T) {
		f := setup(t)
		_, err := f.s.GetMessage(f.ctx, "100000000000000009")
		assert.ErrorIs(t, err, state.ErrNotFound)
	})
}

func testEvents(t *testing.T, open func(t *testing.T) state.Store) {
	setup := func(t *testing.T) *fixture { return outbox(t, open) }
	t.Run("add then get returns every field", func(t *testing.T) {
		for name, change := range map[string]func(e *state.Event){
			"pending with a full target": func(*state.Event) {},
			"target without header":      func(e *state.Event) { e.Target.Username, e.Target.Authorization = nil, nil },
			"target with empty URL":      func(e *state.Event) { e.Target.URL = "" },
			"dropped without target":     func(e *state.Event) { e.Status, e.Reason, e.Target, e.AppKey = state.EventDropped, "why", nil, "" },
			"delivered after attempts":   func(e *state.Event) { e.Status, e.Attempts = state.EventDelivered, 3 },
			"failed with a reason":       func(e *state.Event) { e.Status, e.Reason, e.Attempts = state.EventFailed, "410 Gone", 1 },
			"nil payload":                func(e *state.Event) { e.Payload = nil },
			"binary payload":             func(e *state.Event) { e.Payload = []byte{0, 1, 2, 0xff, '"', '\\'} },
			"zero times":                 func(e *state.Event) { e.DueAt, e.NextAttemptAt = time.Time{}, time.Time{} },
			"times before 1970 and later": func(e *state.Event) {
				e.DueAt, e.UpdatedAt = time.Date(1969, 7, 20, 20, 17, 40, 1000, time.UTC), t0.AddDate(200, 0, 0)
			},
		} {
			t.Run(name, func(t *testing.T) {
				f := setup(t)
				want := pendingEvent("ev-1", "IW0000001", "AppOne00000000001", t0.In(zone))
				change(&want)
				f.events(want)
				got, attempts, err := f.s.GetEvent(f.ctx, "ev-1")
				require.NoError(t, err)
				assert.Equal(t, normEvent(want), normEvent(got))
				assert.Empty(t, attempts)
			})
		}
	})
	t.Run("adds several at once", func(t *testing.T) {
		f := setup(t)
		a := pendingEvent("ev-1", "IW0000001", "AppOne00000000001", t0)
		b := droppedEvent("ev-2", "IW0000001")
		f.events(a, b)
		assert.Equal(t, normEvent(a), normEvent(f.getEvent("ev-1")))
		assert.Equal(t, normEvent(b), normEvent(f.getEvent("ev-2")))
	})
	t.Run("a used id conflicts and nothing is written", func(t *testing.T) {
		f := setup(t)
		existing := pendingEvent("ev-1", "IW0000001", "AppOne00000000001", t0)
		f.events(existing)
		changed := existing
		changed.Type = "other"
		err := f.s.AddEvents(f.ctx, []state.Event{pendingEvent("ev-0", "IW0000001", "AppOne00000000001", t0), changed})
		assert.ErrorIs(t, err, state.ErrConflict)
		_, _, err = f.s.GetEvent(f.ctx, "ev-0")
		assert.ErrorIs(t, err, state.ErrNotFound)
		assert.Equal(t, normEvent(existing), normEvent(f.getEvent("ev-1")))
	})
	t.Run("an id used twice in one call conflicts and nothing is written", func(t *testing.T) {
		f := setup(t)
		a := pendingEvent("ev-1", "IW0000001", "AppOne00000000001", t0)
		err := f.s.AddEvents(f.ctx, []state.Event{a, a})
		assert.ErrorIs(t, err, state.ErrConflict)
		_, _, err = f.s.GetEvent(f.ctx, "ev-1")
		assert.ErrorIs(t, err, state.ErrNotFound)
	})
	t.Run("an event of an unknown account is not found and nothing is written", func(t *testing.T) {
		f := setup(t)
		err := f.s.AddEvents(f.ctx, []state.Event{pendingEvent("ev-1", "IW0000001", "AppOne00000000001", t0), droppedEvent("ev-2", "IW0000009")})
		assert.ErrorIs(t, err, state.ErrNotFound)
		_, _, err = f.s.GetEvent(f.ctx, "ev-1")
		assert.ErrorIs(t, err, state.ErrNotFound)
	})
	t.Run("get of an unknown event is not found", func(t *testing.T) {
		f := setup(t)
		f.events(pendingEvent("ev-1", "IW0000001", "AppOne00000000001", t0))
		_, _, err := f.s.GetEvent(f.ctx, "ev-2")
		assert.ErrorIs(t, err, state.ErrNotFound)
	})
}

func testListEvents(t *testing.T, open func(t *testing.T) state.Store) {
	// setup adds, oldest first: a1 (acct 1, app One, pending), a2 (acct 1,
	// app Two, dropped-as-routed: delivered), a3 (acct 1, no app, dropped,
	// other type), b1 (acct 2, app Other, pending). Due times run against
	// creation order so that only creation order yields newest first.
	setup := func(t *testing.T) *fixture {
		f := twoAccounts(t, open)
		a1 := pendingEvent("a1", "IW0000001", "AppOne00000000001", t0.Add(4*time.Hour))
		a2 := pendingEvent("a2", "IW0000001", "AppTwo00000000002", t0.Add(3*time.Hour))
		a2.Status = state.EventDelivered
		a3 := droppedEvent("a3", "IW0000001")
		a3.Type = state.EventWAMO
		b1 := pendingEvent("b1", "IW0000002", "AppOther000000003", t0)
		f.events(a1, a2)
		f.events(a3)
		f.events(b1)
		return f
	}
	for _, tc := range []struct {
		name   string
		filter state.EventFilter
		want   []string
	}{
		{"no filter: all, newest first", state.EventFilter{}, []string{"b1", "a3", "a2", "a1"}},
		{"by account", state.EventFilter{Account: "IW0000001"}, []string{"a3", "a2", "a1"}},
		{"by app", state.EventFilter{AppKey: "AppTwo00000000002"}, []string{"a2"}},
		{"by type", state.EventFilter{Type: state.EventWAStatus}, []string{"b1", "a2", "a1"}},
		{"by status", state.EventFilter{Status: state.EventPending}, []string{"b1", "a1"}},
		{"by account and status", state.EventFilter{Account: "IW0000001", Status: state.EventPending}, []string{"a1"}},
		{"by account and app", state.EventFilter{Account: "IW0000001", AppKey: "AppOther000000003"}, []string{}},
		{"by account, app, type and status", state.EventFilter{Account: "IW0000001", AppKey: "AppOne00000000001",
			Type: state.EventWAStatus, Status: state.EventPending}, []string{"a1"}},
		{"nothing matches", state.EventFilter{Account: "IW0000009"}, []string{}},
		{"limit keeps the newest", state.EventFilter{Limit: 2}, []string{"b1", "a3"}},
		{"limit with a filter", state.EventFilter{Account: "IW0000001", Limit: 1}, []string{"a3"}},
		{"by message id: the payload carries it", state.EventFilter{MessageID: "a2"}, []string{"a2"}},
		{"by message id: a part of a value is no match", state.EventFilter{MessageID: "a"}, []string{}},
		{"by message id and account", state.EventFilter{Account: "IW0000002", MessageID: "a2"}, []string{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := setup(t)
			got, err := f.s.ListEvents(f.ctx, tc.filter)
			require.NoError(t, err)
			assert.Equal(t, tc.want, eventIDs(got))
		})
	}
	t.Run("since keeps the events created at or after it", func(t *testing.T) {
		f := newFixture(t, open)
		f.account("IW0000001")
		var evs []state.Event
		for i := range 3 {
			e := droppedEvent("ev-"+strconv.Itoa(i), "IW0000001")
			e.CreatedAt = t0.Add(time.Duration(i) * time.Second)
			e.Payload = []byte(`{"id":"ev-` + strconv.Itoa(i) + `","body":{"id":"100000000000000042","wamid":"wamid.X"}}`)
			evs = append(evs, e)
		}
		f.events(evs...)
		got, err := f.s.ListEvents(f.ctx, state.EventFilter{Since: t0.Add(time.Second)})
		require.NoError(t, err)
		assert.Equal(t, []string{"ev-2", "ev-1"}, eventIDs(got))
		got, err = f.s.ListEvents(f.ctx, state.EventFilter{Since: t0.Add(1500 * time.Millisecond), MessageID: "100000000000000042"})
		require.NoError(t, err)
		assert.Equal(t, []string{"ev-2"}, eventIDs(got), "with a message id in the body")
		got, err = f.s.ListEvents(f.ctx, state.EventFilter{MessageID: "wamid.X"})
		require.NoError(t, err)
		assert.Len(t, got, 3, "a wamid is a message id too")
		got, err = f.s.ListEvents(f.ctx, state.EventFilter{Since: t0.Add(time.Hour)})
		require.NoError(t, err)
		assert.Empty(t, got)
	})
	t.Run("returns every field", func(t *testing.T) {
		f := setup(t)
		want := f.getEvent("a1")
		got, err := f.s.ListEvents(f.ctx, state.EventFilter{AppKey: "AppOne00000000001"})
		require.NoError(t, err)
		require.Len(t, got, 1)
		assert.Equal(t, normEvent(want), normEvent(got[0]))
	})
	t.Run("the default limit is 100", func(t *testing.T) {
		f := newFixture(t, open)
		f.account("IW0000001")
		var evs []state.Event
		for i := range 105 {
			evs = append(evs, droppedEvent("ev-"+strconv.Itoa(i), "IW0000001"))
		}
		f.events(evs...)
		got, err := f.s.ListEvents(f.ctx, state.EventFilter{})
		require.NoError(t, err)
		require.Len(t, got, 100)
		assert.Equal(t, "ev-104", got[0].ID)
		assert.Equal(t, "ev-5", got[99].ID)
		got, err = f.s.ListEvents(f.ctx, state.EventFilter{Limit: 200})
		require.NoError(t, err)
		assert.Len(t, got, 105)
	})
}
