package steps

import (
	"fmt"
	"io"
	"sort"
	"sync"
)

// NoteKind says what a note is about.
type NoteKind string

// Note kinds.
const (
	// NoteSkipped: a scenario did not run, and why (how to enable it).
	NoteSkipped NoteKind = "skipped"
	// NoteDrift: a real target answered differently from the sandbox's
	// choice where InnoPaaS's docs are silent. Not a failure: the drift a
	// user wants to see, and a hint how to make the sandbox mimic it.
	NoteDrift NoteKind = "drift"
)

// Note is one thing a run wants its user to know beyond pass and fail.
type Note struct {
	Scenario string
	Kind     NoteKind
	Text     string
}

// Report collects the notes of a run; scenarios add to it concurrently.
type Report struct {
	mu        sync.Mutex
	notes     []Note
	scenarios map[string]*scenarioRecord // by pickle id, for PeopleFormatter
}

func (r *Report) add(n Note) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.notes = append(r.notes, n)
}

// Notes returns the notes so far, sorted by kind, then scenario.
func (r *Report) Notes() []Note {
	r.mu.Lock()
	out := append([]Note(nil), r.notes...)
	r.mu.Unlock()
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Kind != out[j].Kind {
			return out[i].Kind < out[j].Kind
		}
		return out[i].Scenario < out[j].Scenario
	})
	return out
}

// Count returns how many notes of a kind were added.
func (r *Report) Count(k NoteKind) int {
	n := 0
	for _, note := range r.Notes() {
		if note.Kind == k {
			n++
		}
	}
	return n
}

// WriteSummary prints the notes grouped by kind; nothing when there are none.
func (r *Report) WriteSummary(w io.Writer) {
	titles := map[NoteKind]string{
		NoteSkipped: "Skipped scenarios (they did not run on this target)",
		NoteDrift:   "Drift (the target differs from the sandbox's choice; not a failure)",
	}
	var last NoteKind
	for _, n := range r.Notes() {
		if n.Kind != last {
			fmt.Fprintf(w, "\n%s:\n", titles[n.Kind])
			last = n.Kind
		}
		fmt.Fprintf(w, "  - %s: %s\n", n.Scenario, n.Text)
	}
}
