package mockserver_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/innosandbox/innosandbox/mockserver"
	"github.com/innosandbox/innosandbox/mockserver/state/memstore"
	"github.com/innosandbox/innosandbox/spec"
)

func TestSmoke(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	srv, err := mockserver.New(ctx, mockserver.Config{Spec: spec.MustLoadEmbedded(), Store: memstore.New(), Strict: true})
	if err != nil {
		t.Fatal(err)
	}
	go srv.Run(ctx)
	ts := httptest.NewServer(srv)
	defer ts.Close()
	got := make(chan string, 10)
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- r.Method + " " + r.Header.Get("UserName") + " " + string(b)
	}))
	defer recv.Close()
	do := func(method, path, body string, h map[string]string) {
		req, _ := http.NewRequest(method, ts.URL+path, strings.NewReader(body))
		for k, v := range h {
			req.Header[k] = []string{v}
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		fmt.Println(method, path, resp.StatusCode, resp.Header.Get("X-Sandbox-Auth-Reason"), resp.Header.Get("X-Sandbox-Warning"), string(b))
	}
	auth := map[string]string{"Content-Type": "application/json;charset=utf-8", "AppKey": "XFbZY1rtTKo3UD4n1", "Authorization": "YUIYIUIAIIASUDIAOSIDUOIWUOQWUEOIUWOEUQWOEUOQWUOUWOUWQOWU"}
	js := map[string]string{"Content-Type": "application/json"}
	do("POST", "/_sandbox/apps/XFbZY1rtTKo3UD4n1/webhooks", `{"product":"whatsapp","url":"`+recv.URL+`","events":["whatsapp_message_status_updated","whatsapp_mo_message_received"],"username":"shop"}`, js)
	do("POST", "/api/whatsapp/v3/msg/submit", `{"wabaId":"1","messageType":"text","sendNumber":"8618912123456","recipientNumber":"6285234567899","body":"hi","extra":1}`, auth)
	do("POST", "/api/whatsapp/v3/msg/submit", `{"wabaId":"1","messageType":"text","sendNumber":"8618912123456","recipientNumber":"6285234567899"}`, auth)
	do("POST", "/api/whatsapp/v3/msg/submit", `{"wabaId":"1","messageType":"document","sendNumber":"8618912123456","recipientNumber":"6285234567899","media":{"link":"x"}}`, auth)
	do("POST", "/api/whatsapp/v3/msg/submit", `{"wabaId":"1","messageType":"audio","sendNumber":"8618912123456","recipientNumber":"6285234567899","media":{"link":"x","caption":"c"}}`, auth)
	do("POST", "/api/whatsapp/v3/msg/submit", `{"wabaId":"1","messageType":"bogus","sendNumber":"8618912123456","recipientNumber":"6285234567899"}`, auth)
	do("POST", "/api/whatsapp/v3/msg/submit", `{"wabaId":"1",`, auth)
	do("POST", "/api/whatsapp/v3/msg/submit", `[1]`, auth)
	do("POST", "/api/whatsapp/v3/msg/submit", `{}`, map[string]string{"Content-Type": "application/json"})
	do("GET", "/api/whatsapp/v3/msg/submit", ``, auth)
	do("POST", "/api/whatsapp/v3/nope", ``, auth)
	do("POST", "/_sandbox/clock/advance", `{"by":"5s"}`, js)
	do("POST", "/_sandbox/events/inbound", `{"to":"8618912123456","from":"6285234567899"}`, js)
	for i := 0; i < 3; i++ {
		select {
		case g := <-got:
			fmt.Println("RECEIVED", g)
		case <-time.After(2 * time.Second):
			t.Fatal("no delivery")
		}
	}
	do("GET", "/_sandbox/deliveries?limit=1", ``, nil)
}
