package features_test

import (
	"bytes"
	"io/fs"
	"slices"
	"strconv"
	"testing"

	gherkin "github.com/cucumber/gherkin/go/v42"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/innosandbox/innosandbox/features"
)

// productNeutral are the scenarios that exercise no product's endpoint or
// events, so they carry no product tag (docs/DECISIONS.md row 52).
var productNeutral = []string{
	"Moving my account's clock leaves another account's alone",
	"The clock does not run more than 100 years ahead",
	"An event type the contract does not have is a 400 naming the type",
}

// Every scenario names the one product it exercises, so that --tags @sms
// (or @otp, @whatsapp) runs one product's suite and no scenario is left out
// of all three by accident.
func TestEveryScenarioNamesItsProduct(t *testing.T) {
	products := []string{"@whatsapp", "@sms", "@otp"}
	perProduct := map[string]int{}
	seq := 0
	newID := func() string { seq++; return strconv.Itoa(seq) }
	files, err := fs.Glob(features.FS, "*.feature")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, name := range files {
		data, err := fs.ReadFile(features.FS, name)
		require.NoError(t, err)
		doc, err := gherkin.ParseGherkinDocument(bytes.NewReader(data), newID)
		require.NoError(t, err, name)
		for _, p := range gherkin.Pickles(*doc, name, newID) {
			var tags []string
			for _, tag := range p.Tags {
				if slices.Contains(products, tag.Name) && !slices.Contains(tags, tag.Name) {
					tags = append(tags, tag.Name)
				}
			}
			switch {
			case slices.Contains(productNeutral, p.Name):
				assert.Empty(t, tags, "%s: %q is listed as product-neutral but is tagged %v", name, p.Name, tags)
			default:
				assert.Len(t, tags, 1, "%s: %q should carry exactly one of %v, has %v", name, p.Name, products, tags)
			}
			for _, tag := range tags {
				perProduct[tag]++
			}
		}
	}
	for _, p := range products {
		assert.Positive(t, perProduct[p], "scenarios tagged %s", p)
	}
	t.Logf("scenarios per product: %v", perProduct)
}
