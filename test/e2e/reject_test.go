package e2e

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/lsst-sqre/squarebot/pkg/gateway"
	"github.com/lsst-sqre/squarebot/pkg/slack"
	"github.com/lsst-sqre/squarebot/test/fixtures"
	"github.com/lsst-sqre/squarebot/test/harness"
)

// TestPipelineRejects checks that each bad request gets its status and a
// fixed body, and that none of them publishes anything.
func TestPipelineRejects(t *testing.T) {
	h := harness.Start(t, harness.Options{})
	event := fixtures.MustBody(t, "events/message_im.json")
	interaction := fixtures.MustBody(t, "interactions/shortcut_global.json")
	wrongSignature := http.Header{}
	wrongSignature.Set(slack.HeaderTimestamp, "1718000000")
	wrongSignature.Set(slack.HeaderSignature, "v0="+strings.Repeat("ab", 32))
	oversized := append([]byte(`{"type":"event_callback","event":{"type":"message","text":"`), bytes.Repeat([]byte("a"), 1<<20)...)
	oversized = append(oversized, `"}}`...)

	tests := []struct {
		name        string
		path        string
		contentType string
		body        []byte
		header      http.Header
		status      int
		wantBody    string
	}{
		{"wrong signature", "/slack/event", "application/json", event, wrongSignature, 401, `{"error":"invalid signature"}`},
		{"malformed JSON", "/slack/event", "application/json", []byte(`{"type": "event_callback", `), nil, 400, `{"error":"request body is not a valid Slack event"}`},
		{"JSON array", "/slack/event", "application/json", []byte(`[1,2]`), nil, 400, `{"error":"request body is not a valid Slack event"}`},
		{"event without type", "/slack/event", "application/json", []byte(`{"type":"event_callback","event":{"channel":"C1"}}`), nil, 400, `{"error":"request body is not a valid Slack event"}`},
		{"event as form", "/slack/event", "application/x-www-form-urlencoded", event, nil, 400, `{"error":"unsupported content type"}`},
		{"interaction without payload", "/slack/interaction", "application/x-www-form-urlencoded", []byte("token=x&team_id=T1"), nil, 400, `{"error":"form field payload is missing"}`},
		{"interaction payload not JSON", "/slack/interaction", "application/x-www-form-urlencoded", []byte(url.Values{"payload": {"{nope"}}.Encode()), nil, 400, `{"error":"form field payload is not a valid Slack interaction"}`},
		{"interaction as JSON", "/slack/interaction", "application/json", interaction, nil, 400, `{"error":"unsupported content type"}`},
		{"body over limit", "/slack/event", "application/json", oversized, nil, 413, `{"error":"request body too large"}`},
		{"unknown path", "/slack/other", "application/json", event, nil, 404, `{"error":"Not Found"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			response := h.Post(t, tt.path, tt.contentType, tt.body, tt.header)

			if response.Status != tt.status {
				t.Errorf("status = %d, want %d", response.Status, tt.status)
			}
			if strings.TrimSpace(response.Body) != tt.wantBody {
				t.Errorf("body = %s, want %s", response.Body, tt.wantBody)
			}
		})
	}

	if total := h.EndOffsets(t); total != 0 {
		t.Errorf("topics hold %d records after rejected requests, want 0", total)
	}
}

func TestPipelinePathPrefix(t *testing.T) {
	h := harness.Start(t, harness.Options{Configure: func(c *gateway.Config) { c.HTTP.PathPrefix = "/squarebot" }})

	prefixed := h.Post(t, "/squarebot/slack/event", "application/json", fixtures.MustBody(t, "events/message_im.json"), nil)
	bare := h.Post(t, "/slack/interaction", "application/x-www-form-urlencoded", fixtures.MustBody(t, "interactions/shortcut_global.json"), nil)

	if prefixed.Status != http.StatusOK {
		t.Errorf("prefixed path: status = %d, want 200", prefixed.Status)
	}
	if bare.Status != http.StatusOK {
		t.Errorf("bare path: status = %d, want 200", bare.Status)
	}
	if records := h.Consume(t, 2, 10*time.Second); len(records) != 2 {
		t.Errorf("consumed %d records, want 2", len(records))
	}
}

func TestPipelineChallenge(t *testing.T) {
	h := harness.Start(t, harness.Options{})
	body := fixtures.MustBody(t, "events/url_verification.json")
	var fixture struct {
		Challenge string `json:"challenge"`
	}
	if err := json.Unmarshal(body, &fixture); err != nil {
		t.Fatal(err)
	}

	response := h.Post(t, "/slack/event", "application/json", body, nil)

	var answer struct {
		Challenge string `json:"challenge"`
	}
	if err := json.Unmarshal([]byte(response.Body), &answer); err != nil {
		t.Fatalf("answer %q is not JSON: %v", response.Body, err)
	}
	if response.Status != http.StatusOK {
		t.Errorf("status = %d, want 200", response.Status)
	}
	if answer.Challenge != fixture.Challenge {
		t.Errorf("challenge = %q, want %q", answer.Challenge, fixture.Challenge)
	}
}

func TestPipelineRetryHeaders(t *testing.T) {
	h := harness.Start(t, harness.Options{})
	header := http.Header{}
	header.Set("X-Slack-Retry-Num", "1")
	header.Set("X-Slack-Retry-Reason", "http_timeout")

	response := h.Post(t, "/slack/event", "application/json", fixtures.MustBody(t, "events/message_mpim.json"), header)

	if response.Status != http.StatusOK {
		t.Fatalf("status = %d, want 200", response.Status)
	}
	records := h.Consume(t, 1, 10*time.Second)
	if len(records) != 1 {
		t.Fatalf("consumed %d records, want 1", len(records))
	}
	if got := records[0].Headers["slack_retry_num"]; got != "1" {
		t.Errorf("header slack_retry_num = %q, want 1", got)
	}
	if got := records[0].Headers["slack_retry_reason"]; got != "http_timeout" {
		t.Errorf("header slack_retry_reason = %q, want http_timeout", got)
	}
}

// TestPipelineRejectsOtherMethods sends every method but POST to both
// endpoints. Each gets 405 with Allow: POST and a JSON reason, OPTIONS
// too, to which Echo would otherwise respond with 204.
func TestPipelineRejectsOtherMethods(t *testing.T) {
	h := harness.Start(t, harness.Options{})
	for _, path := range []string{"/slack/event", "/slack/interaction"} {
		for _, method := range []string{http.MethodGet, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodOptions} {
			t.Run(method+" "+path, func(t *testing.T) {
				request, err := http.NewRequest(method, h.URL+path, nil)
				if err != nil {
					t.Fatal(err)
				}
				response, err := h.Client.Do(request)
				if err != nil {
					t.Fatal(err)
				}
				defer response.Body.Close()
				body, err := io.ReadAll(response.Body)
				if err != nil {
					t.Fatal(err)
				}

				if response.StatusCode != http.StatusMethodNotAllowed {
					t.Errorf("status = %d, want 405", response.StatusCode)
				}
				if allow := response.Header.Get("Allow"); allow != http.MethodPost {
					t.Errorf("Allow = %q, want POST", allow)
				}
				if want := `{"error":"Method Not Allowed"}`; strings.TrimSpace(string(body)) != want {
					t.Errorf("body = %s, want %s", body, want)
				}
			})
		}
	}
}
