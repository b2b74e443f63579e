package e2e

import (
	"net/http"
	"testing"
	"time"

	"github.com/lsst-sqre/squarebot/pkg/gateway"
	"github.com/lsst-sqre/squarebot/test/fixtures"
	"github.com/lsst-sqre/squarebot/test/harness"
)

// TestPipelineBrokerGone checks that a request whose record Kafka cannot
// take gets 503 at the ack deadline, so Slack retries.
func TestPipelineBrokerGone(t *testing.T) {
	const ackTimeout = 500 * time.Millisecond
	h := harness.Start(t, harness.Options{Configure: func(c *gateway.Config) { c.AckTimeout = ackTimeout; c.ShutdownTimeout = time.Second }})
	h.Stack.Kafka.Close()
	started := time.Now()

	response := h.Post(t, "/slack/event", "application/json", fixtures.MustBody(t, "events/message_channels.json"), nil)

	elapsed := time.Since(started)
	if response.Status != http.StatusServiceUnavailable {
		t.Errorf("status = %d, want 503", response.Status)
	}
	if response.Header.Get("Retry-After") == "" {
		t.Error("Retry-After header missing on 503")
	}
	if elapsed < ackTimeout || elapsed > ackTimeout+time.Second {
		t.Errorf("answered after %s, want about the ack timeout %s", elapsed, ackTimeout)
	}
}
