package sqlstore

import (
	"errors"
	"testing"
	"testing/fstest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/innosandbox/innosandbox/mockserver/state"
)

func TestMigrationsInVersionOrder(t *testing.T) {
	fsys := fstest.MapFS{
		"m/0002_more.sql": {Data: []byte("B")},
		"m/0001_init.sql": {Data: []byte("A")},
		"m/README":        {Data: []byte("not a migration")},
	}
	ms, err := Migrations("test", fsys, "m")
	require.NoError(t, err)
	assert.Equal(t, []Migration{{1, "0001_init", "A"}, {2, "0002_more", "B"}}, ms)
	assert.Equal(t, 2, Latest(ms))
	assert.Equal(t, 0, Latest(nil))
}

func TestMigrationsRefuseGapsAndBadNames(t *testing.T) {
	_, err := Migrations("test", fstest.MapFS{"m/0001_a.sql": {}, "m/0003_c.sql": {}}, "m")
	assert.EqualError(t, err, "test: migration 0003_c: expected version 2")
	_, err = Migrations("test", fstest.MapFS{"m/init.sql": {}}, "m")
	assert.EqualError(t, err, "test: migration init.sql: name must be NNNN_name.sql")
	_, err = Migrations("test", fstest.MapFS{"m/0000_zero.sql": {}}, "m")
	assert.EqualError(t, err, "test: migration 0000_zero.sql: name must be NNNN_name.sql")
}

func TestEventsQuery(t *testing.T) {
	d := Dialect{Time: func(t time.Time) any { return t.Unix() }, Contains: func(ph string) string { return "has(payload, " + ph + ")" }}
	q, args := EventsQuery("id", state.EventFilter{}, d)
	assert.Equal(t, "SELECT id FROM events ORDER BY seq DESC LIMIT $1", q)
	assert.Equal(t, []any{state.DefaultEventLimit}, args)

	q, args = EventsQuery("id, type", state.EventFilter{Account: "A", Status: state.EventFailed, Limit: 7}, d)
	assert.Equal(t, "SELECT id, type FROM events WHERE account = $1 AND status = $2 ORDER BY seq DESC LIMIT $3", q)
	assert.Equal(t, []any{"A", "failed", 7}, args)

	since := time.Unix(1700000000, 0)
	q, args = EventsQuery("id", state.EventFilter{Type: "t", MessageID: "m1", Since: since}, d)
	assert.Equal(t, "SELECT id FROM events WHERE type = $1 AND has(payload, $2) AND created_at >= $3 ORDER BY seq DESC LIMIT $4", q)
	assert.Equal(t, []any{"t", []byte(`"m1"`), int64(1700000000), state.DefaultEventLimit}, args)
}

func TestJSONKeepsNilApartFromEmpty(t *testing.T) {
	v, err := JSON([]string(nil), true)
	require.NoError(t, err)
	assert.Nil(t, v)
	v, err = JSON([]string{}, false)
	require.NoError(t, err)
	assert.Equal(t, "[]", v)
	_, err = JSON(map[string]any{"f": func() {}}, false)
	assert.ErrorContains(t, err, "encode map[string]interface {}")
}

func TestJSONPtrAndHash(t *testing.T) {
	v, err := JSONPtr[state.Target](nil)
	require.NoError(t, err)
	assert.Nil(t, v)
	v, err = JSONPtr(&struct{ A int }{1})
	require.NoError(t, err)
	assert.Equal(t, `{"A":1}`, v)

	want := [32]byte{1, 2, 3}
	h, err := Hash(want[:])
	require.NoError(t, err)
	assert.Equal(t, want, h)
	_, err = Hash([]byte{1})
	assert.EqualError(t, err, "token hash of 1 bytes, want 32")
}

func TestInDueOrder(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	ev := func(id string, due time.Time) state.Event { return state.Event{ID: id, NextAttemptAt: due} }
	got := InDueOrder([]Claimed{
		{ev("later", t0.Add(time.Second)), 1},
		{ev("second", t0), 3},
		{ev("first", t0), 2},
	})
	var ids []string
	for _, e := range got {
		ids = append(ids, e.ID)
	}
	assert.Equal(t, []string{"first", "second", "later"}, ids)
	assert.Empty(t, InDueOrder(nil))
}

// fakeRows serves vals one per row, then err from Err.
type fakeRows struct {
	vals []string
	i    int
	err  error
}

func (r *fakeRows) Next() bool { r.i++; return r.i <= len(r.vals) }
func (r *fakeRows) Err() error { return r.err }
func (r *fakeRows) Scan(dest ...any) error {
	if r.vals[r.i-1] == "bad" {
		return errors.New("bad row")
	}
	*dest[0].(*string) = r.vals[r.i-1]
	return nil
}

func TestCollect(t *testing.T) {
	got, err := Collect(&fakeRows{vals: []string{"a", "b"}}, ScanString)
	require.NoError(t, err)
	assert.Equal(t, []string{"a", "b"}, got)

	got, err = Collect(&fakeRows{}, ScanString)
	require.NoError(t, err)
	assert.Nil(t, got, "no rows: nil, as the stores return it")

	_, err = Collect(&fakeRows{vals: []string{"a", "bad"}}, ScanString)
	assert.EqualError(t, err, "bad row")

	_, err = Collect(&fakeRows{vals: []string{"a"}, err: errors.New("conn lost")}, ScanString)
	assert.EqualError(t, err, "conn lost", "the result set's own error is not lost")
}

func TestCollectClaimed(t *testing.T) {
	scan := func(sc Scanner) (state.Event, int64, error) {
		var id string
		err := sc.Scan(&id)
		return state.Event{ID: id}, int64(len(id)), err
	}
	got, err := CollectClaimed(&fakeRows{vals: []string{"e", "ee"}}, scan, []Claimed{{Seq: 9}}[:0])
	require.NoError(t, err)
	assert.Equal(t, []Claimed{{state.Event{ID: "e"}, 1}, {state.Event{ID: "ee"}, 2}}, got)

	_, err = CollectClaimed(&fakeRows{vals: []string{"bad"}}, scan, nil)
	assert.EqualError(t, err, "bad row")
}

func TestOr(t *testing.T) {
	alt := errors.New("alt")
	assert.Equal(t, alt, Or(nil, alt))
	assert.EqualError(t, Or(errors.New("first"), alt), "first")
}
