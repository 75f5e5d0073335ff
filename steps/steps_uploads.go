package steps

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"strings"

	"github.com/cucumber/godog"
)

// Steps of uploads.feature.

// upload makes an uploadFile call with a body and its Content-Type.
func (w *world) upload(ctx context.Context, contentType string, body []byte) error {
	c, err := w.newSend(ctx)
	if err != nil {
		return err
	}
	c.header["Content-Type"] = []string{contentType}
	return w.callPublic(ctx, http.MethodPost, UploadPath, c.header, body)
}

// form builds a multipart/form-data body with one part per name; a part's
// Content-Type is given, as a client that knows its file's type sends it.
func form(parts ...[3]string) (contentType string, body []byte) {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for _, p := range parts {
		h := textproto.MIMEHeader{}
		h.Set("Content-Disposition", fmt.Sprintf(`form-data; name=%q; filename=%q`, p[0], p[1]))
		if p[2] != "" {
			h.Set("Content-Type", p[2])
		}
		pw, _ := mw.CreatePart(h)
		_, _ = pw.Write([]byte("innosandbox test file " + p[1]))
	}
	_ = mw.Close()
	return mw.FormDataContentType(), buf.Bytes()
}

// registerUploads binds uploads.feature's steps.
func (w *world) registerUploads(sc *godog.ScenarioContext) {
	sc.Step(`^I upload a file "([^"]+)" of type "([^"]*)"$`, w.iUploadAFileOfType)
	sc.Step(`^I upload a PNG file of (\d+) MiB and one byte$`, w.iUploadAPNGFileOfMiBAndOneByte)
	sc.Step(`^I upload a form whose only part is "([^"]+)"$`, w.iUploadAFormWhoseOnlyPartIs)
	sc.Step(`^I upload a file as "([^"]+)"$`, w.iUploadAFileAs)
	sc.Step(`^the file is accepted with a handle starting "([^"]+)"$`, w.theFileIsAcceptedWithAHandleStarting)
	sc.Step(`^the handle names the type "([^"]+)"$`, w.theHandleNamesTheType)
}

func (w *world) iUploadAFileOfType(ctx context.Context, name, mimeType string) error {
	ct, body := form([3]string{"file", name, mimeType})
	return w.upload(ctx, ct, body)
}

func (w *world) iUploadAPNGFileOfMiBAndOneByte(ctx context.Context, mib int) error {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", `form-data; name="file"; filename="big.png"`)
	h.Set("Content-Type", "image/png")
	pw, err := mw.CreatePart(h)
	if err != nil {
		return err
	}
	if _, err := pw.Write(bytes.Repeat([]byte{0x42}, mib<<20+1)); err != nil {
		return err
	}
	if err := mw.Close(); err != nil {
		return err
	}
	return w.upload(ctx, mw.FormDataContentType(), buf.Bytes())
}

func (w *world) iUploadAFormWhoseOnlyPartIs(ctx context.Context, part string) error {
	ct, body := form([3]string{part, "logo.png", "image/png"})
	return w.upload(ctx, ct, body)
}

func (w *world) iUploadAFileAs(ctx context.Context, contentType string) error {
	return w.upload(ctx, contentType, []byte(`{"file":"logo.png"}`))
}

func (w *world) theFileIsAcceptedWithAHandleStarting(_ context.Context, prefix string) error {
	if err := w.accepted("file"); err != nil {
		return err
	}
	h := w.lastEnv.DataString()
	if !strings.HasPrefix(h, prefix) {
		return about(fmt.Errorf("data should be a handle starting %q, but it is %q", prefix, h), w.last)
	}
	w.handle = h
	return nil
}

func (w *world) theHandleNamesTheType(ctx context.Context, mimeType string) error {
	if w.handle == "" {
		return errors.New("no file was accepted yet")
	}
	enc, _, _ := strings.Cut(strings.TrimPrefix(w.handle, "4::"), ":")
	got, err := base64.StdEncoding.DecodeString(enc)
	if w.innosandbox() {
		if err != nil {
			return fmt.Errorf("the handle's type part %q is not base64: %w", enc, err)
		}
		return expectEqual(fmt.Sprintf("the type the handle %q carries", w.handle), mimeType, string(got))
	}
	// How the handle carries the type is the sandbox's choice: on a
	// real target a difference is drift.
	if err != nil || string(got) != mimeType {
		w.note(ctx, NoteDrift, fmt.Sprintf("the handle %q does not carry the type %q (base64 after 4::, as the sandbox's handles do)", w.handle, mimeType))
	}
	return nil
}
