package e2e

import (
	"bytes"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/lsst-sqre/squarebot/pkg/gateway"
	"github.com/lsst-sqre/squarebot/pkg/records"
	"github.com/lsst-sqre/squarebot/test/fixtures"
	"github.com/lsst-sqre/squarebot/test/harness"
)

// TestPipelineLargestBodyPublished posts an event just under the default
// body limit whose text is almost the whole body. Its record carries the
// body and the text, about twice the body, which is more than librdkafka's
// default message.max.bytes of 1000000. The gateway must size the producer
// for it rather than respond 503 to every retry.
func TestPipelineLargestBodyPublished(t *testing.T) {
	h := harness.Start(t, harness.Options{})
	template := string(fixtures.MustBody(t, "events/message_im.json"))
	const marker = `"text": "`
	if !strings.Contains(template, marker) {
		t.Fatalf("fixture events/message_im.json has no %s field", marker)
	}
	text := strings.Repeat("a", int(gateway.DefaultConfig().HTTP.MaxBodyBytes)-len(template)-1024)
	body := []byte(strings.Replace(template, marker, marker+text, 1))

	response := h.Post(t, "/slack/event", "application/json", body, nil)

	if response.Status != http.StatusOK {
		t.Fatalf("status %d for a %d-byte body, want 200 (body %s)", response.Status, len(body), response.Body)
	}
	consumed := h.Consume(t, 1, 30*time.Second)
	if len(consumed) != 1 {
		t.Fatalf("consumed %d records, want 1", len(consumed))
	}
	if size := len(consumed[0].ValueBytes); size <= 1000000 {
		t.Errorf("record value is %d bytes, want over 1000000 for this test to cover the limit", size)
	}
	var value records.SlackMessageEvent
	h.NewDecoder().Decode(t, consumed[0].ValueBytes, &value)
	if !bytes.Equal([]byte(value.SlackJSON), body) {
		t.Error("slack_json differs from the request body")
	}
}
