package main

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

const sampleMetrics = `# HELP squarebot_duplicate_events_total Events answered 200 without publishing.
# TYPE squarebot_duplicate_events_total counter
squarebot_duplicate_events_total 12
squarebot_published_total{topic="a"} 5
squarebot_published_total{topic="b"} 7
`

func TestScrapeCounter(t *testing.T) {
	server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte(sampleMetrics))
	}))
	defer server.Close()

	duplicates, found := scrapeCounter(server.URL, "squarebot_duplicate_events_total")
	published, _ := scrapeCounter(server.URL, "squarebot_published_total")
	_, missingFound := scrapeCounter(server.URL, "squarebot_missing_total")

	if !found || duplicates != 12 {
		t.Errorf("duplicates = %g, %t; want 12, true", duplicates, found)
	}
	if published != 12 {
		t.Errorf("published = %g, want the sum 12 of both series", published)
	}
	if missingFound {
		t.Error("a missing metric was reported as found")
	}
}
