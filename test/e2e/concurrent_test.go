package e2e

import (
	"bytes"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lsst-sqre/squarebot/pkg/records"
	"github.com/lsst-sqre/squarebot/pkg/route"
	"github.com/lsst-sqre/squarebot/test/fixtures"
	"github.com/lsst-sqre/squarebot/test/harness"
)

// TestPipelineConcurrentBodiesIntact posts events of different sizes from
// several clients at once and checks that each record's slack_json is
// exactly its own request body. The gateway reuses body buffers between
// requests and the record refers to the buffer without a copy, so a
// buffer returned to its pool too early shows up here as another
// request's bytes.
func TestPipelineConcurrentBodiesIntact(t *testing.T) {
	const clients, perClient = 8, 40
	h := harness.Start(t, harness.Options{})
	template := string(fixtures.MustBody(t, "events/message_channels.json"))
	if !strings.Contains(template, `"Ev0000000201"`) {
		t.Fatal("fixture events/message_channels.json no longer has event id Ev0000000201")
	}
	bodies := map[string][]byte{}
	for i := range clients * perClient {
		id := fmt.Sprintf("EvConcurrent%05d", i)
		// Padding of varying length inside the JSON makes every body a
		// different size, so a reused buffer never matches by chance.
		padding := strings.Repeat(" ", (i*37)%900)
		body := strings.Replace(template, `"Ev0000000201"`, `"`+id+`"`+padding, 1)
		bodies[id] = []byte(body)
	}

	ids := make(chan string, len(bodies))
	for id := range bodies {
		ids <- id
	}
	close(ids)
	var wait sync.WaitGroup
	statuses := make(chan string, len(bodies))
	for range clients {
		wait.Go(func() {
			for id := range ids {
				response := h.Post(t, "/slack/event", "application/json", bodies[id], nil)
				if response.Status != http.StatusOK {
					statuses <- fmt.Sprintf("%s: status %d, body %s", id, response.Status, response.Body)
				}
			}
		})
	}
	wait.Wait()
	close(statuses)
	for status := range statuses {
		t.Error(status)
	}

	consumed := h.Consume(t, len(bodies), 30*time.Second)
	if len(consumed) != len(bodies) {
		t.Fatalf("consumed %d records, want %d", len(consumed), len(bodies))
	}
	decoder := h.NewDecoder()
	for _, record := range consumed {
		id := record.Headers[route.HeaderEventID]
		var value records.SlackMessageEvent
		decoder.Decode(t, record.ValueBytes, &value)
		if !bytes.Equal([]byte(value.SlackJSON), bodies[id]) {
			t.Errorf("record of %s: slack_json is not its request body", id)
		}
	}
}
