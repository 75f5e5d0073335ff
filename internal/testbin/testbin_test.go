package testbin

import (
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// module writes a small main module that prints an embedded file.
func module(t *testing.T, greeting string) string {
	t.Helper()
	root := t.TempDir()
	files := map[string]string{
		"go.mod":       "module example.com/hello\n\ngo 1.21\n",
		"main.go":      "package main\n\nimport (\n\t_ \"embed\"\n\t\"fmt\"\n)\n\n//go:embed greeting.txt\nvar greeting string\n\nvar version = \"dev\"\n\nfunc main() { fmt.Print(greeting, \" \", version) }\n",
		"greeting.txt": greeting,
	}
	for name, text := range files {
		require.NoError(t, os.WriteFile(filepath.Join(root, name), []byte(text), 0o644))
	}
	return root
}

func output(t *testing.T, bin string) string {
	t.Helper()
	out, err := exec.Command(bin).Output()
	require.NoError(t, err)
	return string(out)
}

// withCache points the cache at a folder of the test's own.
func withCache(t *testing.T) {
	t.Setenv("TMPDIR", t.TempDir())
}

func TestBuildIsSharedUntilTheSourceChanges(t *testing.T) {
	withCache(t)
	opts := Options{Package: ".", Trimpath: true, Ldflags: "-X main.version=v1", Env: []string{"CGO_ENABLED=0"}}
	root := module(t, "hello")
	bin, err := Build(root, opts)
	require.NoError(t, err)
	assert.Equal(t, "hello v1", output(t, bin))
	built, err := os.Stat(bin)
	require.NoError(t, err)

	// A second clone of the same source gets the same binary, not rebuilt.
	again, err := Build(module(t, "hello"), opts)
	require.NoError(t, err)
	assert.Equal(t, bin, again)
	after, err := os.Stat(again)
	require.NoError(t, err)
	assert.Equal(t, built.ModTime(), after.ModTime(), "the cached binary was rebuilt")

	// An embedded file changed: another binary, with the new content.
	changed, err := Build(module(t, "bonjour"), opts)
	require.NoError(t, err)
	assert.NotEqual(t, bin, changed)
	assert.Equal(t, "bonjour v1", output(t, changed))

	// Other flags: another binary.
	opts.Ldflags = "-X main.version=v2"
	other, err := Build(root, opts)
	require.NoError(t, err)
	assert.NotEqual(t, bin, other)
	assert.Equal(t, "hello v2", output(t, other))
}

func TestConcurrentCallersGetOneBuild(t *testing.T) {
	withCache(t)
	root := module(t, "hello")
	var wg sync.WaitGroup
	paths := make([]string, 4)
	errs := make([]error, 4)
	for i := range paths {
		wg.Add(1)
		go func() { defer wg.Done(); paths[i], errs[i] = Build(root, Options{Package: "."}) }()
	}
	wg.Wait()
	for i := range paths {
		require.NoError(t, errs[i])
		assert.Equal(t, paths[0], paths[i])
	}
	assert.Equal(t, "hello dev", output(t, paths[0]))
	_, err := os.Stat(paths[0] + ".tmp")
	assert.True(t, os.IsNotExist(err), "a build's temporary file is left behind")
}

func TestABuildThatFailsSaysWhy(t *testing.T) {
	withCache(t)
	root := module(t, "hello")
	require.NoError(t, os.WriteFile(filepath.Join(root, "main.go"), []byte("package main\n\nfunc main() { undefined() }\n"), 0o644))
	_, err := Build(root, Options{Package: "."})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "undefined")
}

func TestUnusedBinariesArePruned(t *testing.T) {
	withCache(t)
	bin, err := Build(module(t, "old"), Options{Package: "."})
	require.NoError(t, err)
	old := filepath.Dir(bin)
	long := time.Now().Add(-2 * keepFor)
	require.NoError(t, os.Chtimes(old, long, long))
	_, err = Build(module(t, "new"), Options{Package: "."})
	require.NoError(t, err)
	_, err = os.Stat(old)
	assert.True(t, os.IsNotExist(err), "a binary unused for %s is still cached", 2*keepFor)
}
