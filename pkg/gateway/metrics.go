package gateway

import (
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics holds the gateway's Prometheus collectors. Every label takes its
// values from a small fixed set, never from error text or request input.
type metrics struct {
	requests          *prometheus.CounterVec
	signatureFailures *prometheus.CounterVec
	badRequests       *prometheus.CounterVec
	published         *prometheus.CounterVec
	publishDuration   *prometheus.HistogramVec
	deliveryFailures  *prometheus.CounterVec
	ignoredEvents     *prometheus.CounterVec
	inFlight          prometheus.Gauge
	duplicates        prometheus.Counter
	eventTypes        *labelSet

	// topics and okRequests hold the series of the hot path, resolved once,
	// because resolving label values costs a hash and a lock per call.
	topics     map[string]topicSeries
	okRequests map[string]prometheus.Counter
}

// topicSeries are the per-topic series of one published record.
type topicSeries struct {
	published prometheus.Counter
	duration  prometheus.Observer
}

// prepare resolves the hot-path series for the topics and endpoints.
func (m *metrics) prepare(topics []string, endpoints []string) {
	m.topics = make(map[string]topicSeries, len(topics))
	for _, topic := range topics {
		m.topics[topic] = topicSeries{
			published: m.published.WithLabelValues(topic),
			duration:  m.publishDuration.WithLabelValues(topic),
		}
	}
	m.okRequests = make(map[string]prometheus.Counter, len(endpoints))
	for _, endpoint := range endpoints {
		m.okRequests[endpoint] = m.requests.WithLabelValues(endpoint, "200")
	}
}

// recordPublished counts a published record and its latency.
func (m *metrics) recordPublished(topic string, latency time.Duration) {
	series, ok := m.topics[topic]
	if !ok {
		series = topicSeries{published: m.published.WithLabelValues(topic), duration: m.publishDuration.WithLabelValues(topic)}
	}
	series.published.Inc()
	series.duration.Observe(latency.Seconds())
}

// recordRequest counts a request by endpoint and response status.
func (m *metrics) recordRequest(endpoint string, status int) {
	if counter, ok := m.okRequests[endpoint]; ok && status == 200 {
		counter.Inc()
		return
	}
	m.requests.WithLabelValues(endpoint, strconv.Itoa(status)).Inc()
}

func newMetrics(registerer prometheus.Registerer) *metrics {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "squarebot_http_requests_total",
			Help: "Slack requests handled, by endpoint and HTTP status code.",
		}, []string{"endpoint", "code"}),
		signatureFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "squarebot_signature_failures_total",
			Help: "Requests rejected with 401, by reason: missing, malformed, stale or mismatch.",
		}, []string{"reason"}),
		badRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "squarebot_bad_requests_total",
			Help: "Requests rejected with another 4xx status, by reason class.",
		}, []string{"reason"}),
		published: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "squarebot_records_published_total",
			Help: "Records acknowledged by Kafka, by topic.",
		}, []string{"topic"}),
		publishDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "squarebot_publish_duration_seconds",
			Help:    "Time from request receipt to the Kafka delivery report, for acknowledged records.",
			Buckets: []float64{.0005, .001, .002, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"topic"}),
		deliveryFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "squarebot_delivery_failures_total",
			Help: "Records Kafka did not acknowledge in time, answered 503, by error class.",
		}, []string{"class"}),
		ignoredEvents: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "squarebot_events_ignored_total",
			Help: "Valid requests answered without publishing, by outcome (url_verification, rate_limited, unrouted, ssl_check) and event type.",
		}, []string{"outcome", "type"}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "squarebot_http_requests_in_flight",
			Help: "Slack requests being handled now.",
		}),
		duplicates: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "squarebot_duplicate_events_total",
			Help: "Events answered 200 without publishing because their event id was delivered within the deduplication window.",
		}),
		eventTypes: newLabelSet(maxEventTypeLabels),
	}
	registerer.MustRegister(m.requests, m.signatureFailures, m.badRequests, m.published,
		m.publishDuration, m.deliveryFailures, m.ignoredEvents, m.inFlight, m.duplicates)
	return m
}

// maxEventTypeLabels bounds the distinct event type label values. Slack
// defines far fewer event types than this; later ones count as "other".
const maxEventTypeLabels = 64

// labelSet admits the first max distinct values it receives and maps the rest
// to "other", so a label fed from request content stays bounded.
type labelSet struct {
	mu     sync.RWMutex
	max    int
	values map[string]struct{}
}

func newLabelSet(max int) *labelSet {
	return &labelSet{max: max, values: make(map[string]struct{})}
}

func (s *labelSet) label(value string) string {
	if len(value) > 64 || value == "" {
		return "other"
	}
	s.mu.RLock()
	_, ok := s.values[value]
	s.mu.RUnlock()
	if ok {
		return value
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.values[value]; ok {
		return value
	}
	if len(s.values) >= s.max {
		return "other"
	}
	s.values[value] = struct{}{}
	return value
}
