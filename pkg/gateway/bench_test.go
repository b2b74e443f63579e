package gateway_test

import (
	"bytes"
	"io"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/lsst-sqre/squarebot/pkg/gateway"
	"github.com/lsst-sqre/squarebot/pkg/slack"
	"github.com/lsst-sqre/squarebot/test/fixtures"
	"github.com/lsst-sqre/squarebot/test/harness"
)

// BenchmarkHandlerEvent measures one whole request: HTTP over loopback,
// verification, parsing, routing, encoding and publishing through
// librdkafka to an in-process kfake broker, waiting for the ack.
func BenchmarkHandlerEvent(b *testing.B) {
	benchmarkHandler(b, "events/app_mention_rich_text_blocks.json")
}

// BenchmarkHandlerInteraction is BenchmarkHandlerEvent for a form-encoded
// block_actions payload.
func BenchmarkHandlerInteraction(b *testing.B) {
	benchmarkHandler(b, "interactions/block_actions_button_message.json")
}

func benchmarkHandler(b *testing.B, file string) {
	// Every request repeats one event id, so deduplication is off to make
	// each one publish.
	h := harness.Start(b, harness.Options{Configure: func(c *gateway.Config) { c.DedupWindow = 0 }})
	var body []byte
	var contentType, path string
	cases, err := fixtures.Load()
	if err != nil {
		b.Fatal(err)
	}
	for _, c := range cases {
		if c.File == file {
			body, contentType, err = c.Body()
			if err != nil {
				b.Fatal(err)
			}
			path = c.Endpoint()
		}
	}
	timestamp := strconv.FormatInt(time.Now().Unix(), 10)
	signature := slack.Sign(harness.Secret, timestamp, body)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	b.SetParallelism(8)
	b.ResetTimer()

	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			request, err := http.NewRequest(http.MethodPost, h.URL+path, bytes.NewReader(body))
			if err != nil {
				b.Error(err)
				return
			}
			request.Header.Set("Content-Type", contentType)
			request.Header.Set(slack.HeaderTimestamp, timestamp)
			request.Header.Set(slack.HeaderSignature, signature)
			response, err := client.Do(request)
			if err != nil {
				b.Error(err)
				return
			}
			_, _ = io.Copy(io.Discard, response.Body)
			response.Body.Close()
			if response.StatusCode != http.StatusOK {
				b.Errorf("status %d", response.StatusCode)
				return
			}
		}
	})
}
