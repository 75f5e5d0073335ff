package spec_test

import (
	"encoding/json"
	"testing"

	"github.com/innosandbox/innosandbox/spec"
)

var textBody = []byte(`{"wabaId":"110129512080569","messageType":"text","sendNumber":"8618912123456","recipientNumber":"6285234567899","body":"Thanks for your reply."}`)

func decoded(b *testing.B) any {
	var v any
	if err := json.Unmarshal(textBody, &v); err != nil {
		b.Fatal(err)
	}
	return v
}

// BenchmarkValidateSubmitBody: kin-openapi validating a text send against
// the oneOf-with-discriminator request schema, as every submit does.
func BenchmarkValidateSubmitBody(b *testing.B) {
	sc := spec.MustLoadEmbedded().Public.Doc.Components.Schemas["WhatsappSubmitRequest"].Value
	v := decoded(b)
	b.ReportAllocs()
	for b.Loop() {
		if err := sc.VisitJSON(v); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkUnknownFields: the unknown-field check every JSON body gets.
func BenchmarkUnknownFields(b *testing.B) {
	sc := spec.MustLoadEmbedded().Public.Doc.Components.Schemas["WhatsappSubmitRequest"].Value
	v := decoded(b)
	b.ReportAllocs()
	for b.Loop() {
		if u := spec.UnknownFields(sc, v); u != nil {
			b.Fatal(u)
		}
	}
}

// BenchmarkLoad: loading and validating both embedded documents (start-up).
func BenchmarkLoad(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		spec.MustLoadEmbedded()
	}
}
