package main

import "testing"

func TestLogSummaryCounts(t *testing.T) {
	lines := []string{
		`{"time":"2024-06-11T10:00:00Z","level":"INFO","msg":"ready"}`,
		`{"time":"2024-06-11T10:00:01Z","level":"WARN","msg":"Kafka did not acknowledge the record; answering 503 so Slack retries"}`,
		`{"time":"2024-06-11T10:00:02Z","level":"WARN","msg":"Kafka did not acknowledge the record; answering 503 so Slack retries"}`,
		`{"time":"2024-06-11T10:00:03Z","level":"ERROR","msg":"encoding record failed"}`,
		`%6|1718000000.123|GETSUBSCRIPTIONS|rdkafka#producer-1| [thrd:main]: Telemetry client instance id changed`,
		`%4|1718000000.456|REQTMOUT|rdkafka#producer-1| [thrd:127.0.0.1:9092/1]: Timed out 1 in-flight request`,
		`panic: runtime error: invalid memory address or nil pointer dereference`,
		``,
	}
	var summary logSummary

	for _, line := range lines {
		summary.add(line)
	}

	if summary.Warnings != 3 {
		t.Errorf("Warnings = %d, want 3", summary.Warnings)
	}
	if summary.Errors != 1 {
		t.Errorf("Errors = %d, want 1", summary.Errors)
	}
	if summary.Other != 1 {
		t.Errorf("Other = %d, want 1", summary.Other)
	}
	if len(summary.Samples) != 4 {
		t.Errorf("Samples = %q, want 4 distinct messages", summary.Samples)
	}
}
