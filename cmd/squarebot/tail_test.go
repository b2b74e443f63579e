package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/lsst-sqre/squarebot/test/fixtures"
	"github.com/lsst-sqre/squarebot/test/harness"
)

func TestTailPrintsDecodedRecords(t *testing.T) {
	h := harness.Start(t, harness.Options{})
	cases, err := fixtures.Load()
	if err != nil {
		t.Fatal(err)
	}
	sent := 0
	for _, c := range cases {
		if c.File != "events/message_im.json" && c.File != "interactions/view_submission.json" {
			continue
		}
		body, contentType, err := c.Body()
		if err != nil {
			t.Fatal(err)
		}
		if response := h.Post(t, c.Endpoint(), contentType, body, nil); response.Status != 200 {
			t.Fatalf("%s: status %d", c.File, response.Status)
		}
		sent++
	}

	code, stdout, stderr := runCommand(t, "tail", "--bootstrap-servers", h.Stack.KafkaAddr,
		"--registry-url", h.Stack.RegistryURL, "--from-beginning", "--max", "2")

	if code != 0 {
		t.Fatalf("exit code = %d, stderr %s", code, stderr)
	}
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	if len(lines) != sent {
		t.Fatalf("printed %d lines, want %d:\n%s", len(lines), sent, stdout)
	}
	types := map[string]bool{}
	for _, line := range lines {
		var record struct {
			Topic string `json:"topic"`
			Key   map[string]any
			Value struct {
				Type      string `json:"type"`
				SlackJSON string `json:"slack_json"`
			}
			Headers map[string]string
		}
		if err := json.Unmarshal([]byte(line), &record); err != nil {
			t.Fatalf("line is not JSON: %v\n%s", err, line)
		}
		types[record.Value.Type] = true
		if record.Key["team_id"] != "T0000000001" {
			t.Errorf("%s: key team_id = %v, want T0000000001", record.Topic, record.Key["team_id"])
		}
		if record.Value.SlackJSON == "" {
			t.Errorf("%s: slack_json is empty", record.Topic)
		}
		if record.Headers["squarebot_received_at"] == "" {
			t.Errorf("%s: header squarebot_received_at missing", record.Topic)
		}
	}
	if !types["message"] || !types["view_submission"] {
		t.Errorf("value types = %v, want message and view_submission", types)
	}
}
