package gateway

import (
	"encoding/json"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
)

// kafkaStats exports the parts of librdkafka's statistics JSON that tell
// an operator whether Kafka keeps up: the local queue and each broker's
// round-trip time.
type kafkaStats struct {
	queueMessages prometheus.Gauge
	queueBytes    prometheus.Gauge
	brokerRTT     *prometheus.GaugeVec
	brokerUp      *prometheus.GaugeVec

	mu      sync.Mutex
	brokers map[string]bool
}

func newKafkaStats(registerer prometheus.Registerer) *kafkaStats {
	stats := &kafkaStats{
		queueMessages: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "squarebot_kafka_queue_messages",
			Help: "Records waiting in librdkafka's queue for delivery (msg_cnt), at the last statistics report.",
		}),
		queueBytes: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "squarebot_kafka_queue_bytes",
			Help: "Bytes of the records waiting in librdkafka's queue (msg_size), at the last statistics report.",
		}),
		brokerRTT: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "squarebot_kafka_broker_rtt_seconds",
			Help: "Average request round-trip time to each broker over the last statistics interval.",
		}, []string{"broker"}),
		brokerUp: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "squarebot_kafka_broker_up",
			Help: "1 when librdkafka's connection to the broker is UP, 0 otherwise.",
		}, []string{"broker"}),
		brokers: map[string]bool{},
	}
	registerer.MustRegister(stats.queueMessages, stats.queueBytes, stats.brokerRTT, stats.brokerUp)
	return stats
}

// librdkafkaStats is the subset of librdkafka's statistics JSON read here;
// see STATISTICS.md in librdkafka's sources for the whole format.
type librdkafkaStats struct {
	MsgCount int64 `json:"msg_cnt"`
	MsgSize  int64 `json:"msg_size"`
	Brokers  map[string]struct {
		Name   string `json:"name"`
		NodeID int32  `json:"nodeid"`
		State  string `json:"state"`
		RTT    struct {
			Avg int64 `json:"avg"` // microseconds
		} `json:"rtt"`
	} `json:"brokers"`
}

// maxBrokerLabels bounds the broker label values.
const maxBrokerLabels = 64

// observe updates the gauges from one statistics report. Bootstrap entries
// (node id -1) are skipped, since they duplicate the real brokers.
func (s *kafkaStats) observe(report string) {
	var stats librdkafkaStats
	if err := json.Unmarshal([]byte(report), &stats); err != nil {
		return
	}
	s.queueMessages.Set(float64(stats.MsgCount))
	s.queueBytes.Set(float64(stats.MsgSize))

	s.mu.Lock()
	defer s.mu.Unlock()
	for _, broker := range stats.Brokers {
		if broker.NodeID < 0 {
			continue
		}
		if !s.brokers[broker.Name] && len(s.brokers) >= maxBrokerLabels {
			continue
		}
		s.brokers[broker.Name] = true
		s.brokerRTT.WithLabelValues(broker.Name).Set(float64(broker.RTT.Avg) / 1e6)
		up := 0.0
		if broker.State == "UP" {
			up = 1
		}
		s.brokerUp.WithLabelValues(broker.Name).Set(up)
	}
}
