package gateway

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestKafkaStatsObserve(t *testing.T) {
	stats := newKafkaStats(prometheus.NewRegistry())
	report := `{"msg_cnt": 7, "msg_size": 2048, "brokers": {
		"127.0.0.1:9092/bootstrap": {"name": "127.0.0.1:9092/bootstrap", "nodeid": -1, "state": "UP", "rtt": {"avg": 9000}},
		"127.0.0.1:9092/0": {"name": "127.0.0.1:9092/0", "nodeid": 0, "state": "UP", "rtt": {"avg": 1500}},
		"127.0.0.1:9093/1": {"name": "127.0.0.1:9093/1", "nodeid": 1, "state": "DOWN", "rtt": {"avg": 0}}}}`

	stats.observe(report)

	if got := testutil.ToFloat64(stats.queueMessages); got != 7 {
		t.Errorf("queue messages = %v, want 7", got)
	}
	if got := testutil.ToFloat64(stats.queueBytes); got != 2048 {
		t.Errorf("queue bytes = %v, want 2048", got)
	}
	if got := testutil.ToFloat64(stats.brokerRTT.WithLabelValues("127.0.0.1:9092/0")); got != 0.0015 {
		t.Errorf("broker rtt = %v, want 0.0015", got)
	}
	if got := testutil.ToFloat64(stats.brokerUp.WithLabelValues("127.0.0.1:9093/1")); got != 0 {
		t.Errorf("broker up = %v, want 0 for a DOWN broker", got)
	}
	if got := testutil.CollectAndCount(stats.brokerRTT); got != 2 {
		t.Errorf("broker rtt series = %d, want 2 (bootstrap entry skipped)", got)
	}
}

func TestKafkaStatsIgnoresInvalidReport(t *testing.T) {
	stats := newKafkaStats(prometheus.NewRegistry())
	stats.observe(`{"msg_cnt": 3}`)

	stats.observe(`not json`)

	if got := testutil.ToFloat64(stats.queueMessages); got != 3 {
		t.Errorf("queue messages = %v, want the last valid value 3", got)
	}
}
