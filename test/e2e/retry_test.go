package e2e

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/lsst-sqre/squarebot/pkg/gateway"
	"github.com/lsst-sqre/squarebot/test/fixtures"
	"github.com/lsst-sqre/squarebot/test/harness"
)

// TestPipelineRetryNotPublishedTwice sends an event, then Slack's retry of
// it with a new signature: the retry is answered 200 and only one record
// exists.
func TestPipelineRetryNotPublishedTwice(t *testing.T) {
	h := harness.Start(t, harness.Options{})
	body := fixtures.MustBody(t, "events/message_groups.json")
	retry := http.Header{}
	retry.Set("X-Slack-Retry-Num", "1")
	retry.Set("X-Slack-Retry-Reason", "http_timeout")

	first := h.Post(t, "/slack/event", "application/json", body, nil)
	second := h.Post(t, "/slack/event", "application/json", body, retry)

	if first.Status != http.StatusOK || second.Status != http.StatusOK {
		t.Fatalf("statuses = %d, %d, want 200, 200", first.Status, second.Status)
	}
	if total := h.EndOffsets(t); total != 1 {
		t.Errorf("topics hold %d records, want 1", total)
	}
}

func TestPipelineDedupDisabled(t *testing.T) {
	h := harness.Start(t, harness.Options{Configure: func(c *gateway.Config) { c.DedupWindow = 0 }})
	body := fixtures.MustBody(t, "events/message_groups.json")

	h.Post(t, "/slack/event", "application/json", body, nil)
	h.Post(t, "/slack/event", "application/json", body, nil)

	if total := h.EndOffsets(t); total != 2 {
		t.Errorf("topics hold %d records with deduplication off, want 2", total)
	}
}

// TestPipelineSSLCheck covers Slack's unsigned ssl_check posts: exactly
// ssl_check=1 is answered 200 with an empty body and publishes nothing,
// and any other value goes through signature verification.
func TestPipelineSSLCheck(t *testing.T) {
	h := harness.Start(t, harness.Options{})
	unsigned := http.Header{"X-Slack-Signature": {""}}
	payload := url.Values{"payload": {string(readFixturePayload(t))}, "ssl_check": {"1"}}.Encode()

	tests := []struct {
		name   string
		path   string
		body   string
		status int
	}{
		{"token only", "/slack/interaction", "ssl_check=1&token=XXXXXXXXXXXXXXXXXXXXXXXX", 200},
		{"with payload", "/slack/interaction", payload, 200},
		{"on the event path", "/slack/event", "ssl_check=1&token=x", 200},
		{"value 0", "/slack/interaction", "ssl_check=0&token=x", 401},
		{"value 1x", "/slack/interaction", "ssl_check=1x&token=x", 401},
		{"repeated", "/slack/interaction", "ssl_check=1&ssl_check=1", 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			response := h.Post(t, tt.path, "application/x-www-form-urlencoded", []byte(tt.body), noSignature(unsigned))

			if response.Status != tt.status {
				t.Errorf("status = %d, want %d", response.Status, tt.status)
			}
			if tt.status == 200 && response.Body != "" {
				t.Errorf("body = %q, want empty", response.Body)
			}
		})
	}
	time.Sleep(100 * time.Millisecond)
	if total := h.EndOffsets(t); total != 0 {
		t.Errorf("topics hold %d records, want 0", total)
	}
}

// noSignature returns headers that keep the harness from signing: a
// present but empty signature header counts as missing for the gateway.
func noSignature(header http.Header) http.Header {
	copied := http.Header{}
	for key, values := range header {
		copied[key] = values
	}
	return copied
}

func readFixturePayload(t *testing.T) []byte {
	t.Helper()
	form := fixtures.MustBody(t, "interactions/shortcut_global.json")
	values, err := url.ParseQuery(string(form))
	if err != nil {
		t.Fatal(err)
	}
	return []byte(strings.TrimSpace(values.Get("payload")))
}
