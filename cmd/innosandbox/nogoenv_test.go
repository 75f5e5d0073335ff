package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Starting innosandbox runs no go command, although godog's package
// initialisation would (see package nogoenv); and the program's own PATH is
// the one it was given.
func TestNoGoCommandAtStartUp(t *testing.T) {
	dir := t.TempDir()
	marker := filepath.Join(dir, "go-ran")
	require.NoError(t, os.WriteFile(filepath.Join(dir, "go"), []byte("#!/bin/sh\ntouch \"$MARKER\"\nexit 1\n"), 0o755))
	env := append(os.Environ(), "MARKER="+marker, "PATH="+dir+string(os.PathListSeparator)+os.Getenv("PATH"))

	// The stand-in is found and leaves its mark when a go command runs.
	probe := exec.Command("/bin/sh", "-c", "go env GOTOOLDIR")
	probe.Env = env
	_ = probe.Run()
	require.FileExists(t, marker, "the stand-in go command did not run: the test would prove nothing")
	require.NoError(t, os.Remove(marker))

	cmd := exec.Command(os.Args[0], "--version")
	cmd.Env = append(env, "INNOSANDBOX_TEST_CHILD=1")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	require.NoError(t, cmd.Run(), out.String())
	assert.Contains(t, out.String(), "innosandbox version")
	assert.NoFileExists(t, marker, "a go command ran while innosandbox started")

	// This test binary went through the same initialisation: PATH is back.
	environ, err := os.ReadFile("/proc/self/environ")
	if err != nil {
		t.Skip("no /proc/self/environ to compare PATH with:", err)
	}
	want, found := "", false
	for _, kv := range strings.Split(string(environ), "\x00") {
		if v, ok := strings.CutPrefix(kv, "PATH="); ok {
			want, found = v, true
		}
	}
	got, ok := os.LookupEnv("PATH")
	assert.Equal(t, found, ok, "PATH set at start and now")
	assert.Equal(t, want, got)
}
