package steps

import (
	"context"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/innosandbox/innosandbox/spec"
)

var testContract = &Contract{Spec: spec.MustLoadEmbedded()}

func jsonHeader() http.Header {
	return http.Header{"Content-Type": {"application/json;charset=utf-8"}}
}

// validSubmit is a valid exchange with the public API; cases change one thing.
func validSubmit() *Exchange {
	return &Exchange{
		Method: http.MethodPost, URL: "https://api.example.com" + SubmitPath,
		ReqHeader: jsonHeader(), Status: http.StatusOK, Header: jsonHeader(),
		Body: []byte(`{"code":"0","message":"Success","data":"356139161272397824"}`),
	}
}

func TestCheckResponse(t *testing.T) {
	ctx := context.Background()
	require.NoError(t, testContract.CheckResponse(ctx, PublicAPI, "", validSubmit()), "the valid exchange")

	tests := []struct {
		name     string
		api      API
		basePath string
		change   func(e *Exchange)
		wantErr  string // "" for a valid answer
	}{
		{name: "a refusal with HTTP 200 and code 102 (as a real endpoint may)", change: func(e *Exchange) {
			e.Body = []byte(`{"code":"102","message":"wrong password","data":null}`)
		}},
		{name: "the sandbox's 401", change: func(e *Exchange) {
			e.Status = 401
			e.Body = []byte(`{"code":"102","message":"authentication failure","data":null}`)
		}},
		{name: "a message id that is not 18 digits", change: func(e *Exchange) {
			e.Body = []byte(`{"code":"0","message":"Success","data":"abc"}`)
		}, wantErr: "/data"},
		{name: "a numeric code", change: func(e *Exchange) {
			e.Body = []byte(`{"code":0,"message":"Success","data":"356139161272397824"}`)
		}, wantErr: "/code"},
		{name: "no message", change: func(e *Exchange) {
			e.Body = []byte(`{"code":"0","data":"356139161272397824"}`)
		}, wantErr: "message"},
		{name: "a 401 whose code is 0", change: func(e *Exchange) {
			e.Status = 401
			e.Body = []byte(`{"code":"0","message":"authentication failure","data":null}`)
		}, wantErr: "/code"},
		{name: "a status the contract gives only to refusals, answered with success", change: func(e *Exchange) {
			e.Status = http.StatusTeapot
		}, wantErr: "/code"},
		{name: "not JSON", change: func(e *Exchange) {
			e.Header = http.Header{"Content-Type": {"text/html"}}
			e.Body = []byte(`<html>`)
		}, wantErr: "whatsappSubmitMessage"},
		{name: "a base path is stripped before routing", basePath: "/innopaas", change: func(e *Exchange) {
			e.URL = "https://gw.example.com/innopaas" + SubmitPath
		}},
		{name: "an unknown path answered with the envelope", change: func(e *Exchange) {
			e.URL = "https://api.example.com/api/whatsapp/v3/msg/sub"
			e.Status = 404
			e.Body = []byte(`{"code":"404","message":"no operation at POST /api/whatsapp/v3/msg/sub","data":null}`)
		}},
		{name: "a wrong method answered with the envelope", change: func(e *Exchange) {
			e.Method = http.MethodGet
			e.Status = 405
			e.Body = []byte(`{"code":"405","message":"method GET is not allowed","data":null}`)
		}},
		{name: "HEAD is refused without a body", change: func(e *Exchange) {
			e.Method, e.Status, e.Header, e.Body = http.MethodHead, 405, http.Header{}, nil
		}},
		{name: "HEAD must still be refused", change: func(e *Exchange) {
			e.Method, e.Header, e.Body = http.MethodHead, http.Header{}, nil
		}, wantErr: "must be refused"},
		{name: "an unknown path answered with success", change: func(e *Exchange) {
			e.URL = "https://api.example.com/api/whatsapp/v3/msg/sub"
		}, wantErr: "must be refused"},
		{name: "an unknown path answered with code 0", change: func(e *Exchange) {
			e.URL = "https://api.example.com/api/whatsapp/v3/msg/sub"
			e.Status = 404
		}, wantErr: "/code"},
		{name: "a control answer", api: ControlAPI, change: func(e *Exchange) {
			e.Method, e.URL = http.MethodGet, "http://127.0.0.1:1/_sandbox/clock"
			e.Body = []byte(`{"now":"2026-11-28T11:00:00.000Z","offset":"25h0m0s","offsetSeconds":90000}`)
		}},
		{name: "a control answer missing a field", api: ControlAPI, change: func(e *Exchange) {
			e.Method, e.URL = http.MethodGet, "http://127.0.0.1:1/_sandbox/clock"
			e.Body = []byte(`{"now":"2026-11-28T11:00:00.000Z","offset":"25h0m0s"}`)
		}, wantErr: "offsetSeconds"},
		{name: "a control answer with path parameters", api: ControlAPI, change: func(e *Exchange) {
			e.Method, e.URL, e.Status = http.MethodDelete, "http://127.0.0.1:1/_sandbox/apps/XFbZY1rtTKo3UD4n1/tokens", 204
			e.Header, e.Body = http.Header{}, nil
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ex := validSubmit()
			tt.change(ex)
			err := testContract.CheckResponse(ctx, tt.api, tt.basePath, ex)
			if tt.wantErr == "" {
				assert.NoError(t, err)
				return
			}
			if assert.Error(t, err) {
				assert.Contains(t, err.Error(), tt.wantErr)
				assert.Contains(t, err.Error(), "breaks the contract")
			}
		})
	}
}
