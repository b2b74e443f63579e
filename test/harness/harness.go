// Package harness starts the whole Squarebot pipeline in-process for tests:
// the dev stack (kfake broker and schema registry) and the gateway, all on
// free loopback ports, and reads back what was published.
package harness

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/lsst-sqre/squarebot/pkg/consumer"
	"github.com/lsst-sqre/squarebot/pkg/devstack"
	"github.com/lsst-sqre/squarebot/pkg/gateway"
	"github.com/lsst-sqre/squarebot/pkg/schema"
	"github.com/lsst-sqre/squarebot/pkg/secret"
	"github.com/lsst-sqre/squarebot/pkg/slack"
)

// Secret is the signing secret the harness configures.
const Secret secret.Value = "harness-signing-secret-0123456789"

// Harness is a running dev stack and gateway.
type Harness struct {
	Stack   *devstack.Stack
	Service *gateway.Service
	Config  gateway.Config
	// URL is the gateway's base URL, without the path prefix.
	URL string
	// AdminURL is the admin listener's base URL.
	AdminURL string
	Client   *http.Client

	cancel   context.CancelFunc
	done     chan error
	stopOnce sync.Once
	stopErr  error
}

// Options changes the harness configuration.
type Options struct {
	// Configure edits the gateway configuration before start.
	Configure func(*gateway.Config)
	// Logger receives the gateway's logs; default discards them.
	Logger *slog.Logger
	// Stack options for the broker and registry.
	Stack devstack.Options
}

// Start starts the stack and the gateway and waits until the gateway is
// ready. Everything stops when the test ends.
func Start(t testing.TB, options Options) *Harness {
	t.Helper()
	config := gateway.DefaultConfig()
	if options.Stack.Topics == nil {
		options.Stack.Topics = config.Topics.Names()
	}
	stack, err := devstack.Start(options.Stack)
	if err != nil {
		t.Fatalf("starting dev stack: %v", err)
	}
	t.Cleanup(func() { _ = stack.Close() })

	config.SigningSecrets = []secret.Value{Secret}
	config.HTTP.Addr = "127.0.0.1:0"
	config.Admin.Addr = "127.0.0.1:0"
	config.Kafka.BootstrapServers = stack.KafkaAddr
	config.Registry.URL = stack.RegistryURL
	config.ShutdownTimeout = 5 * time.Second
	if options.Configure != nil {
		options.Configure(&config)
	}
	logger := options.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	service, err := gateway.New(config, logger)
	if err != nil {
		t.Fatalf("creating gateway: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	h := &Harness{
		Stack:    stack,
		Service:  service,
		Config:   config,
		URL:      "http://" + service.PublicAddr(),
		AdminURL: "http://" + service.AdminAddr(),
		Client:   &http.Client{Timeout: 10 * time.Second},
		cancel:   cancel,
		done:     make(chan error, 1),
	}
	go func() { h.done <- service.Run(ctx) }()
	t.Cleanup(func() { h.Stop(t) })
	h.WaitReady(t, 20*time.Second)
	return h
}

// WaitReady polls /readyz until it returns 200 or timeout passes.
func (h *Harness) WaitReady(t testing.TB, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		response, err := h.Client.Get(h.AdminURL + "/readyz")
		if err == nil {
			response.Body.Close()
			if response.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("gateway not ready after %s", timeout)
}

// Stop shuts the gateway down and returns Run's error; later calls return
// the same result.
func (h *Harness) Stop(t testing.TB) error {
	h.stopOnce.Do(func() {
		h.cancel()
		select {
		case h.stopErr = <-h.done:
		case <-time.After(30 * time.Second):
			h.stopErr = errors.New("gateway did not stop within 30s")
		}
	})
	return h.stopErr
}

// Response is a gateway's HTTP response.
type Response struct {
	Status int
	Body   string
	Header http.Header
}

// Post sends body to path (such as "/slack/event"), signed now with Secret
// unless header already carries a signature. A signature header with an
// empty value sends the request unsigned, without that header.
func (h *Harness) Post(t testing.TB, path, contentType string, body []byte, header http.Header) Response {
	t.Helper()
	request, err := http.NewRequest(http.MethodPost, h.URL+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for key, values := range header {
		request.Header[key] = values
	}
	if contentType != "" {
		request.Header.Set("Content-Type", contentType)
	}
	if _, ok := request.Header[slack.HeaderSignature]; !ok {
		slack.SignRequest(request, Secret, body, time.Now())
	} else if request.Header.Get(slack.HeaderSignature) == "" {
		request.Header.Del(slack.HeaderSignature)
	}
	response, err := h.Client.Do(request)
	if err != nil {
		t.Fatalf("POST %s: %v", path, err)
	}
	defer response.Body.Close()
	answer, err := io.ReadAll(response.Body)
	if err != nil {
		t.Fatalf("reading response of POST %s: %v", path, err)
	}
	return Response{Status: response.StatusCode, Body: string(answer), Header: response.Header}
}

// Record is a consumed Kafka record with its key and value decoded through
// the registry.
type Record struct {
	Topic     string
	Partition int32
	Offset    int64
	// KeySchemaID and ValueSchemaID are the ids in the wire-format headers.
	KeySchemaID   int
	ValueSchemaID int
	// KeyBytes and ValueBytes are the raw record key and value.
	KeyBytes   []byte
	ValueBytes []byte
	Headers    map[string]string
}

// EndOffsets returns the sum of the end offsets of the configured topics:
// the number of records published so far.
func (h *Harness) EndOffsets(t testing.TB) int64 {
	t.Helper()
	client, err := kgo.NewClient(kgo.SeedBrokers(h.Stack.KafkaAddr))
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	offsets, err := kadm.NewClient(client).ListEndOffsets(ctx, h.Config.Topics.Names()...)
	if err != nil {
		t.Fatalf("listing end offsets: %v", err)
	}
	var total int64
	offsets.Each(func(offset kadm.ListedOffset) { total += offset.Offset })
	return total
}

// Consume reads records from the start of every configured topic with a
// separate franz-go client until it has want records or timeout passes.
func (h *Harness) Consume(t testing.TB, want int, timeout time.Duration) []Record {
	t.Helper()
	client, err := kgo.NewClient(
		kgo.SeedBrokers(h.Stack.KafkaAddr),
		kgo.ConsumeTopics(uniqueNames(h.Config.Topics.Names())...),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
	)
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()

	var records []Record
	for len(records) < want {
		fetches := client.PollFetches(ctx)
		if ctx.Err() != nil {
			break
		}
		fetches.EachError(func(topic string, partition int32, err error) {
			t.Errorf("fetching %s/%d: %v", topic, partition, err)
		})
		fetches.EachRecord(func(r *kgo.Record) {
			records = append(records, toRecord(t, r))
		})
	}
	return records
}

func toRecord(t testing.TB, r *kgo.Record) Record {
	record := Record{Topic: r.Topic, Partition: r.Partition, Offset: r.Offset, KeyBytes: r.Key, ValueBytes: r.Value, Headers: map[string]string{}}
	var err error
	if record.KeySchemaID, _, err = schema.SplitFrame(r.Key); err != nil {
		t.Errorf("%s offset %d: key: %v", r.Topic, r.Offset, err)
	}
	if record.ValueSchemaID, _, err = schema.SplitFrame(r.Value); err != nil {
		t.Errorf("%s offset %d: value: %v", r.Topic, r.Offset, err)
	}
	for _, header := range r.Headers {
		record.Headers[header.Key] = string(header.Value)
	}
	return record
}

func uniqueNames(names []string) []string {
	seen := map[string]bool{}
	var unique []string
	for _, name := range names {
		if !seen[name] {
			seen[name] = true
			unique = append(unique, name)
		}
	}
	return unique
}

// Decoder decodes wire-format records with the writer schema fetched from
// the registry by id, as a consumer would, through pkg/consumer.
type Decoder struct {
	decoder *consumer.Decoder
}

// NewDecoder returns a Decoder that queries the harness registry.
func (h *Harness) NewDecoder() *Decoder {
	decoder, err := consumer.NewDecoder(h.Stack.RegistryURL)
	if err != nil {
		panic(fmt.Sprintf("harness registry URL %q rejected: %v", h.Stack.RegistryURL, err))
	}
	return &Decoder{decoder: decoder}
}

// Decode decodes a framed record into out, a pointer to a records type.
func (d *Decoder) Decode(t testing.TB, framed []byte, out any) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := d.decoder.Decode(ctx, framed, out); err != nil {
		t.Fatal(err)
	}
}
