//go:build unix

// Package faults checks that the gateway never returns 200 for a record
// Kafka does not hold while the broker or the schema registry fails. The
// faults are a broker that is down at start-up or mid-stream, a slow
// broker, a topic the gateway may not write, a registry that is down or
// rejects a schema, and SIGTERM under load. Every test runs the real gateway, librdkafka and a
// kfake broker over loopback sockets, and matches the records on the
// topics to the requests by Slack event id.
//
// The tests use Unix socket calls to keep a port bound while it refuses
// connections, so the package builds on Unix systems only.
package faults

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/lsst-sqre/squarebot/pkg/gateway"
	"github.com/lsst-sqre/squarebot/pkg/route"
	"github.com/lsst-sqre/squarebot/pkg/secret"
	"github.com/lsst-sqre/squarebot/pkg/slack"
	"github.com/lsst-sqre/squarebot/test/fixtures"
	"github.com/lsst-sqre/squarebot/test/harness"
)

// Fixtures the tests send, and the literal values rewritten in the event
// fixture to make each request a distinct Slack event.
const (
	eventFixture       = "events/message_channels.json"
	imEventFixture     = "events/message_im.json"
	interactionFixture = "interactions/shortcut_global.json"
	fixtureEventID     = `"Ev0000000201"`
	fixtureTimestamp   = "1718000501.000100"
)

// gatewayConfig returns the gateway configuration of these tests: both
// listeners on free loopback ports, the harness signing secret, a 5 s
// shutdown budget, and the given broker and registry.
func gatewayConfig(brokers, registryURL string) gateway.Config {
	config := gateway.DefaultConfig()
	config.SigningSecrets = []secret.Value{harness.Secret}
	config.HTTP.Addr = "127.0.0.1:0"
	config.Admin.Addr = "127.0.0.1:0"
	config.Kafka.BootstrapServers = brokers
	config.Registry.URL = registryURL
	config.ShutdownTimeout = 5 * time.Second
	return config
}

// runningGateway is a gateway started with gateway.New and Run, without
// waiting for readiness.
type runningGateway struct {
	service  *gateway.Service
	url      string
	adminURL string
	logs     *logBuffer
	client   *http.Client

	cancel   context.CancelFunc
	done     chan error
	stopOnce sync.Once
	stopErr  error
}

// startGateway builds the gateway from config with a JSON logger into a
// logBuffer and runs it until the test ends.
func startGateway(t testing.TB, config gateway.Config) *runningGateway {
	t.Helper()
	logs := &logBuffer{}
	logger := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	service, err := gateway.New(config, logger)
	if err != nil {
		t.Fatalf("creating gateway: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	g := &runningGateway{
		service:  service,
		url:      "http://" + service.PublicAddr(),
		adminURL: "http://" + service.AdminAddr(),
		logs:     logs,
		client:   &http.Client{Timeout: 5 * time.Second},
		cancel:   cancel,
		done:     make(chan error, 1),
	}
	go func() { g.done <- service.Run(ctx) }()
	t.Cleanup(func() {
		if err := g.stop(); err != nil {
			t.Logf("gateway stopped with: %v", err)
		}
	})
	return g
}

// stop cancels Run and returns its error; later calls return the same.
func (g *runningGateway) stop() error {
	g.stopOnce.Do(func() {
		g.cancel()
		select {
		case g.stopErr = <-g.done:
		case <-time.After(30 * time.Second):
			g.stopErr = errors.New("gateway did not stop within 30s")
		}
	})
	return g.stopErr
}

// readyStatus returns the status of GET /readyz, or 0 when it failed.
func (g *runningGateway) readyStatus() int {
	response, err := g.client.Get(g.adminURL + "/readyz")
	if err != nil {
		return 0
	}
	response.Body.Close()
	return response.StatusCode
}

// waitReady polls /readyz until it returns 200 and returns how long that
// took, or fails the test after timeout.
func (g *runningGateway) waitReady(t testing.TB, timeout time.Duration) time.Duration {
	t.Helper()
	started := time.Now()
	for time.Since(started) < timeout {
		if g.readyStatus() == http.StatusOK {
			return time.Since(started)
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("gateway not ready after %s; logs:\n%s", timeout, g.logs.tail(20))
	return 0
}

// metric returns the value of the sample whose name and labels are exactly
// series, such as `squarebot_delivery_failures_total{class="deadline"}`,
// or 0 when /metrics has no such sample.
func (g *runningGateway) metric(t testing.TB, series string) float64 {
	t.Helper()
	response, err := g.client.Get(g.adminURL + "/metrics")
	if err != nil {
		t.Fatalf("GET /metrics: %v", err)
	}
	defer response.Body.Close()
	scanner := bufio.NewScanner(response.Body)
	scanner.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for scanner.Scan() {
		name, value, ok := strings.Cut(scanner.Text(), " ")
		if !ok || name != series {
			continue
		}
		number, err := strconv.ParseFloat(value, 64)
		if err != nil {
			t.Fatalf("metric %s has value %q: %v", series, value, err)
		}
		return number
	}
	if err := scanner.Err(); err != nil {
		t.Fatalf("reading /metrics: %v", err)
	}
	return 0
}

// logBuffer collects JSON log lines; it is safe for concurrent use.
type logBuffer struct {
	mu   sync.Mutex
	data bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.data.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.data.String()
}

// lines returns the log lines for which match returns true, decoded. A line
// that is not JSON is skipped.
func (b *logBuffer) lines(match func(entry map[string]any) bool) []map[string]any {
	var found []map[string]any
	for _, line := range strings.Split(b.String(), "\n") {
		var entry map[string]any
		if json.Unmarshal([]byte(line), &entry) != nil {
			continue
		}
		if match(entry) {
			found = append(found, entry)
		}
	}
	return found
}

// entries returns the log lines whose msg is message.
func (b *logBuffer) entries(message string) []map[string]any {
	return b.lines(func(entry map[string]any) bool { return entry["msg"] == message })
}

// tail returns the last n lines, for failure messages.
func (b *logBuffer) tail(n int) string {
	lines := strings.Split(strings.TrimRight(b.String(), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// waitForLines polls the logs until count lines match and returns them, or
// returns the matching lines after timeout.
func waitForLines(logs *logBuffer, match func(entry map[string]any) bool, count int, timeout time.Duration) []map[string]any {
	deadline := time.Now().Add(timeout)
	for {
		found := logs.lines(match)
		if len(found) >= count || time.Now().After(deadline) {
			return found
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// isRetry matches the warn lines of a start-up step that failed and will be
// tried again, by their documented keys rather than their wording.
func isRetry(step string) func(entry map[string]any) bool {
	return func(entry map[string]any) bool {
		return entry["level"] == "WARN" && entry["step"] == step && entry["attempt"] != nil && entry["err"] != nil
	}
}

// retriesOf returns the retry log lines of step.
func retriesOf(logs *logBuffer, step string) []map[string]any {
	return logs.lines(isRetry(step))
}

// isPublishWarning matches the warn lines of records Kafka did not take:
// they carry the error class and the topic.
func isPublishWarning(entry map[string]any) bool {
	return entry["level"] == "WARN" && entry["class"] != nil && entry["topic"] != nil
}

// eventSource makes distinct Slack message events from the channel message
// fixture by rewriting its event_id and ts.
type eventSource struct {
	template []byte
	prefix   string
	next     atomic.Int64
}

// newEventSource returns a source whose event ids start with "Ev" and
// prefix, which must be unique among the sources of a test.
func newEventSource(t testing.TB, prefix string) *eventSource {
	t.Helper()
	template := fixtures.MustRead(t, eventFixture)
	if n := bytes.Count(template, []byte(fixtureEventID)); n != 1 {
		t.Fatalf("%s holds the event id %s %d times, want 1", eventFixture, fixtureEventID, n)
	}
	if n := bytes.Count(template, []byte(fixtureTimestamp)); n != 2 {
		t.Fatalf("%s holds the timestamp %s %d times, want 2 (ts and event_ts)", eventFixture, fixtureTimestamp, n)
	}
	return &eventSource{template: template, prefix: prefix}
}

// event returns a new event id and the request body that carries it.
func (s *eventSource) event() (id string, body []byte) {
	n := s.next.Add(1)
	id = fmt.Sprintf("Ev%s%07d", s.prefix, n)
	body = bytes.Replace(s.template, []byte(fixtureEventID), []byte(strconv.Quote(id)), 1)
	body = bytes.ReplaceAll(body, []byte(fixtureTimestamp), fmt.Appendf(nil, "1718000501.%06d", n%1000000))
	return id, body
}

// readCaseBody returns the request body Slack sends for a fixture file.
func readCaseBody(file string) ([]byte, error) {
	body, _, err := fixtures.Case{File: file}.Body()
	return body, err
}

// fixtureEventIDOf returns the event_id of an event body.
func fixtureEventIDOf(t testing.TB, body []byte) string {
	t.Helper()
	var envelope struct {
		EventID string `json:"event_id"`
	}
	if err := json.Unmarshal(body, &envelope); err != nil || envelope.EventID == "" {
		t.Fatalf("event body has no event_id (err %v)", err)
	}
	return envelope.EventID
}

// outcome is the response to one signed request, or the error that
// replaced it.
type outcome struct {
	eventID string
	// body is the request body of an event; a stored record must carry it
	// unchanged as its slack_json.
	body       []byte
	status     int // 0 when the request failed without a response
	retryAfter string
	started    time.Time
	elapsed    time.Duration
	err        error
}

// timedOut reports whether the client gave up waiting for a response.
func (o outcome) timedOut() bool {
	var netErr net.Error
	return errors.Is(o.err, context.DeadlineExceeded) || errors.As(o.err, &netErr) && netErr.Timeout()
}

// refused reports whether the connection was refused.
func (o outcome) refused() bool { return errors.Is(o.err, syscall.ECONNREFUSED) }

// postSigned sends body to baseURL+path signed with the harness secret and
// returns the outcome. Unlike harness.Post it reports a failed request
// instead of ending the test, so load goroutines can count failures.
func postSigned(client *http.Client, baseURL, path, contentType string, body []byte) outcome {
	result := outcome{started: time.Now()}
	request, err := http.NewRequest(http.MethodPost, baseURL+path, bytes.NewReader(body))
	if err != nil {
		result.err = err
		return result
	}
	request.Header.Set("Content-Type", contentType)
	slack.SignRequest(request, harness.Secret, body, time.Now())
	response, err := client.Do(request)
	if err != nil {
		result.elapsed = time.Since(result.started)
		result.err = err
		return result
	}
	_, err = io.Copy(io.Discard, response.Body)
	response.Body.Close()
	result.elapsed = time.Since(result.started)
	result.status = response.StatusCode
	result.retryAfter = response.Header.Get("Retry-After")
	result.err = err
	return result
}

// postEvent sends a new event from source and returns its outcome.
func postEvent(client *http.Client, baseURL string, source *eventSource) outcome {
	id, body := source.event()
	result := postSigned(client, baseURL, "/slack/event", "application/json", body)
	result.eventID = id
	result.body = body
	return result
}

// tally counts the outcomes of a run by kind.
type tally struct {
	sent, ok, unavailable, timeouts, refused, other int
}

func countOutcomes(outcomes []outcome) tally {
	var counts tally
	for _, o := range outcomes {
		counts.sent++
		switch {
		case o.status == http.StatusOK:
			counts.ok++
		case o.status == http.StatusServiceUnavailable:
			counts.unavailable++
		case o.timedOut():
			counts.timeouts++
		case o.refused():
			counts.refused++
		default:
			counts.other++
		}
	}
	return counts
}

// recordCheck compares the responses to requests with the records on the
// topics.
type recordCheck struct {
	records    int
	missing    []string // answered 200 without a record
	late       int      // answered otherwise but stored, allowed
	duplicates []string // event ids stored more than once
	// altered lists the events answered 200 whose record value does not
	// contain the request body byte for byte.
	altered []string
}

// checkRecords reads every record of topics and matches them to outcomes
// by the slack_event_id header. It fails the test when a record of an event
// answered 200 does not contain the request body.
func checkRecords(t testing.TB, brokers string, topics []string, outcomes []outcome, options ...kgo.Opt) recordCheck {
	t.Helper()
	stored := map[string]int{}
	values := map[string][]byte{}
	records := readAll(t, brokers, topics, options...)
	for _, record := range records {
		for _, header := range record.Headers {
			if header.Key == route.HeaderEventID {
				stored[string(header.Value)]++
				values[string(header.Value)] = record.Value
			}
		}
	}
	check := recordCheck{records: len(records)}
	for _, o := range outcomes {
		if o.eventID == "" {
			continue
		}
		switch {
		case o.status == http.StatusOK && stored[o.eventID] == 0:
			check.missing = append(check.missing, o.eventID)
		case o.status != http.StatusOK && stored[o.eventID] > 0:
			check.late++
		}
		// Avro stores a string as its length and its bytes, so the value
		// contains the body verbatim when slack_json is intact.
		if o.status == http.StatusOK && o.body != nil && stored[o.eventID] > 0 && !bytes.Contains(values[o.eventID], o.body) {
			check.altered = append(check.altered, o.eventID)
		}
		if stored[o.eventID] > 1 {
			check.duplicates = append(check.duplicates, o.eventID)
		}
	}
	if len(check.altered) > 0 {
		t.Errorf("%d events answered 200 are stored without their request body as slack_json, such as %s", len(check.altered), check.altered[0])
	}
	return check
}

// readAll reads topics from the start up to their end offsets at the time
// of the call, with a separate franz-go client.
func readAll(t testing.TB, brokers string, topics []string, options ...kgo.Opt) []*kgo.Record {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	admin, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(brokers)}, options...)...)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	ends, err := kadm.NewClient(admin).ListEndOffsets(ctx, topics...)
	if err != nil {
		t.Fatalf("listing end offsets: %v", err)
	}
	var want int64
	ends.Each(func(offset kadm.ListedOffset) {
		if offset.Err != nil {
			t.Errorf("end offset of %s/%d: %v", offset.Topic, offset.Partition, offset.Err)
		}
		want += offset.Offset
	})

	consumer, err := kgo.NewClient(append([]kgo.Opt{
		kgo.SeedBrokers(brokers),
		kgo.ConsumeTopics(topics...),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
	}, options...)...)
	if err != nil {
		t.Fatal(err)
	}
	defer consumer.Close()
	var records []*kgo.Record
	for int64(len(records)) < want {
		fetches := consumer.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("read %d of %d records before the deadline", len(records), want)
		}
		fetches.EachError(func(topic string, partition int32, err error) {
			t.Errorf("fetching %s/%d: %v", topic, partition, err)
		})
		records = append(records, fetches.Records()...)
	}
	return records
}
