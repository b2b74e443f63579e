package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl"
	"github.com/twmb/franz-go/pkg/sasl/scram"

	"github.com/lsst-sqre/squarebot/pkg/devstack"
	"github.com/lsst-sqre/squarebot/pkg/gateway"
	"github.com/lsst-sqre/squarebot/pkg/kafka"
	"github.com/lsst-sqre/squarebot/pkg/secret"
	"github.com/lsst-sqre/squarebot/pkg/slack"
	"github.com/lsst-sqre/squarebot/test/fixtures"
	"github.com/lsst-sqre/squarebot/test/harness"
)

// scramUser is the SASL user of the secured brokers, named like the
// KafkaUser a Strimzi deployment would create for Squarebot.
const scramUser = "squarebot"

// Fixtures posted by the security tests and the topics they land on.
const (
	securityEventFixture       = "events/message_channels.json"
	securityInteractionFixture = "interactions/shortcut_global.json"
	securityEventTopic         = topicPrefix + "message.channel"
	securityInteractionTopic   = topicPrefix + "interaction"
)

// notReadyPeriod is how long a gateway with credentials the broker rejects
// is watched to confirm that it never becomes ready.
const notReadyPeriod = 3 * time.Second

// TestSecuritySASLSCRAM publishes over SASL_PLAINTEXT with SCRAM-SHA-512
// and reads the records back with an authenticated client.
func TestSecuritySASLSCRAM(t *testing.T) {
	password := newPassword(t)
	h := harness.Start(t, harness.Options{
		Stack:     devstack.Options{KafkaOptions: scramBroker(password)},
		Configure: useSCRAM(kafka.ProtocolSASLPlaintext, password),
	})

	postEventAndInteraction(t, h)

	checkReadBack(t, h, kgo.SASL(scramMechanism(password)))
}

// TestSecuritySASLWrongPassword checks that a gateway whose SASL password
// the broker rejects never turns ready, responds 503 so that Slack
// retries, and never logs the password, even with librdkafka's security
// and configuration debug logs on.
func TestSecuritySASLWrongPassword(t *testing.T) {
	password := newPassword(t)
	wrongPassword := newPassword(t)
	g := startGateway(t, devstack.Options{KafkaOptions: scramBroker(password)}, func(c *gateway.Config) {
		useSCRAM(kafka.ProtocolSASLPlaintext, wrongPassword)(c)
		c.Kafka.Debug = "security,broker,conf"
	})

	// NOTE: kfake closes the connection on a wrong SCRAM proof instead of
	// returning SASL_AUTHENTICATION_FAILED as Kafka does, so librdkafka
	// 2.11.1 reports a transport failure under this phrase rather than
	// its authentication error code.
	logs := g.checkRejected(t, "SASL authentication error")

	if strings.Contains(logs, wrongPassword) {
		t.Error("logs contain the SASL password")
	}
}

// TestSecurityTLS publishes over SSL to a broker whose certificate for
// 127.0.0.1 is signed by the CA in ca.crt.
func TestSecurityTLS(t *testing.T) {
	ca := harness.NewCA(t)
	broker := ca.IssueServer(t, net.IPv4(127, 0, 0, 1))
	files := harness.WriteStrimziFiles(t, ca, nil)
	h := harness.Start(t, harness.Options{
		Stack:     devstack.Options{KafkaOptions: []kfake.Opt{kfake.TLS(&tls.Config{Certificates: []tls.Certificate{broker.TLS}})}},
		Configure: useTLS(kafka.ProtocolSSL, files),
	})

	postEventAndInteraction(t, h)

	checkReadBack(t, h, kgo.DialTLSConfig(&tls.Config{RootCAs: ca.Pool()}))
}

// TestSecurityTLSRejectsBroker checks that the gateway verifies the
// broker's certificate: it never turns ready when the certificate is
// signed by another CA or names another IP address.
func TestSecurityTLSRejectsBroker(t *testing.T) {
	tests := []struct {
		name  string
		issue func(t *testing.T, trusted *harness.CA) harness.KeyPair
	}{
		{
			name: "unknown CA",
			issue: func(t *testing.T, _ *harness.CA) harness.KeyPair {
				return harness.NewCA(t).IssueServer(t, net.IPv4(127, 0, 0, 1))
			},
		},
		{
			name: "other IP address",
			issue: func(t *testing.T, trusted *harness.CA) harness.KeyPair {
				return trusted.IssueServer(t, net.IPv4(127, 0, 0, 2))
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ca := harness.NewCA(t)
			broker := tt.issue(t, ca)
			files := harness.WriteStrimziFiles(t, ca, nil)
			g := startGateway(t, devstack.Options{KafkaOptions: []kfake.Opt{kfake.TLS(&tls.Config{Certificates: []tls.Certificate{broker.TLS}})}}, useTLS(kafka.ProtocolSSL, files))

			// OpenSSL 3, bundled with librdkafka 2.11.1, reports both an
			// untrusted issuer and an IP address mismatch with this phrase.
			g.checkRejected(t, "certificate verify failed")
		})
	}
}

// TestSecurityMutualTLS publishes over SSL to a broker that requires a
// client certificate, with the files named as in a Strimzi KafkaUser
// Secret.
func TestSecurityMutualTLS(t *testing.T) {
	ca := harness.NewCA(t)
	broker := ca.IssueServer(t, net.IPv4(127, 0, 0, 1))
	client := ca.IssueClient(t, scramUser)
	files := harness.WriteStrimziFiles(t, ca, &client)
	h := harness.Start(t, harness.Options{
		Stack:     devstack.Options{KafkaOptions: []kfake.Opt{kfake.TLS(mutualTLSConfig(ca, broker))}},
		Configure: useTLS(kafka.ProtocolSSL, files),
	})

	postEventAndInteraction(t, h)

	checkReadBack(t, h, kgo.DialTLSConfig(&tls.Config{RootCAs: ca.Pool(), Certificates: []tls.Certificate{client.TLS}}))
}

// TestSecurityMutualTLSNoClientCert checks that a gateway without a client
// certificate never turns ready against a broker that requires one, and
// responds 503 to Slack.
func TestSecurityMutualTLSNoClientCert(t *testing.T) {
	ca := harness.NewCA(t)
	broker := ca.IssueServer(t, net.IPv4(127, 0, 0, 1))
	files := harness.WriteStrimziFiles(t, ca, nil)
	g := startGateway(t, devstack.Options{KafkaOptions: []kfake.Opt{kfake.TLS(mutualTLSConfig(ca, broker))}}, useTLS(kafka.ProtocolSSL, files))

	// The broker, Go's crypto/tls with TLS 1.3, sends the
	// certificate_required alert, which OpenSSL names this way.
	g.checkRejected(t, "alert certificate required")
}

// TestSecuritySASLOverTLS publishes over SASL_SSL with SCRAM-SHA-512, the
// usual setup of a Strimzi listener with SCRAM authentication.
func TestSecuritySASLOverTLS(t *testing.T) {
	password := newPassword(t)
	ca := harness.NewCA(t)
	broker := ca.IssueServer(t, net.IPv4(127, 0, 0, 1))
	files := harness.WriteStrimziFiles(t, ca, nil)
	kafkaOptions := append(scramBroker(password), kfake.TLS(&tls.Config{Certificates: []tls.Certificate{broker.TLS}}))
	h := harness.Start(t, harness.Options{
		Stack: devstack.Options{KafkaOptions: kafkaOptions},
		Configure: func(c *gateway.Config) {
			useSCRAM(kafka.ProtocolSASLSSL, password)(c)
			c.Kafka.TLSCAFile = files.CAFile
		},
	})

	postEventAndInteraction(t, h)

	checkReadBack(t, h,
		kgo.SASL(scramMechanism(password)),
		kgo.DialTLSConfig(&tls.Config{RootCAs: ca.Pool()}),
	)
}

// newPassword returns a random 32-character password, so that a leak
// check cannot match anything else by chance.
func newPassword(t *testing.T) string {
	t.Helper()
	raw := make([]byte, 16)
	if _, err := rand.Read(raw); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(raw)
}

// scramBroker returns the kfake options of a broker that accepts only
// scramUser with password over SCRAM-SHA-512.
func scramBroker(password string) []kfake.Opt {
	return []kfake.Opt{kfake.EnableSASL(), kfake.Superuser(kafka.MechanismSCRAMSHA512, scramUser, password)}
}

func scramMechanism(password string) sasl.Mechanism {
	return scram.Auth{User: scramUser, Pass: password}.AsSha512Mechanism()
}

func useSCRAM(protocol, password string) func(*gateway.Config) {
	return func(c *gateway.Config) {
		c.Kafka.SecurityProtocol = protocol
		c.Kafka.SASLMechanism = kafka.MechanismSCRAMSHA512
		c.Kafka.SASLUsername = scramUser
		c.Kafka.SASLPassword = secret.Value(password)
	}
}

func useTLS(protocol string, files harness.StrimziFiles) func(*gateway.Config) {
	return func(c *gateway.Config) {
		c.Kafka.SecurityProtocol = protocol
		c.Kafka.TLSCAFile = files.CAFile
		c.Kafka.TLSCertFile = files.CertFile
		c.Kafka.TLSKeyFile = files.KeyFile
	}
}

func mutualTLSConfig(ca *harness.CA, broker harness.KeyPair) *tls.Config {
	return &tls.Config{
		Certificates: []tls.Certificate{broker.TLS},
		ClientAuth:   tls.RequireAndVerifyClientCert,
		ClientCAs:    ca.Pool(),
	}
}

// postEventAndInteraction posts a channel message and a global shortcut
// and checks that both get status 200, which the gateway returns only
// once the broker has acknowledged the record.
func postEventAndInteraction(t *testing.T, h *harness.Harness) {
	t.Helper()
	event := h.Post(t, "/slack/event", "application/json", fixtures.MustBody(t, securityEventFixture), nil)
	interaction := h.Post(t, "/slack/interaction", "application/x-www-form-urlencoded", fixtures.MustBody(t, securityInteractionFixture), nil)

	if event.Status != http.StatusOK {
		t.Errorf("event status = %d, want 200 (body %s)", event.Status, event.Body)
	}
	if interaction.Status != http.StatusOK {
		t.Errorf("interaction status = %d, want 200 (body %s)", interaction.Status, interaction.Body)
	}
}

// checkReadBack reads the two posted records back with a franz-go client
// configured with options, which carry the broker's SASL or TLS settings,
// and checks that each topic contains exactly its one record.
func checkReadBack(t *testing.T, h *harness.Harness, options ...kgo.Opt) {
	t.Helper()
	options = append(options,
		kgo.SeedBrokers(h.Stack.KafkaAddr),
		kgo.ConsumeTopics(securityEventTopic, securityInteractionTopic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		// franz-go's first fetch can cover only some partitions. When
		// those are empty, kfake delays the response for the whole max
		// wait (5 s by default) as a broker does, so a short max wait
		// keeps the read quick.
		kgo.FetchMaxWait(200*time.Millisecond),
	)
	client, err := kgo.NewClient(options...)
	if err != nil {
		t.Fatalf("creating consumer: %v", err)
	}
	defer client.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	perTopic := map[string]int{}
	for read := 0; read < 2 && ctx.Err() == nil; {
		fetches := client.PollFetches(ctx)
		fetches.EachError(func(topic string, partition int32, err error) {
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("fetching %s/%d: %v", topic, partition, err)
			}
		})
		fetches.EachRecord(func(record *kgo.Record) {
			perTopic[record.Topic]++
			read++
		})
	}

	for _, topic := range []string{securityEventTopic, securityInteractionTopic} {
		if perTopic[topic] != 1 {
			t.Errorf("read %d records from %s, want 1", perTopic[topic], topic)
		}
	}
	if total := storedRecords(t, h.Stack); total != 2 {
		t.Errorf("topics hold %d records, want 2", total)
	}
}

// storedRecords returns the sum of the high watermarks of every topic in
// the broker, read through kfake directly, so it needs no credentials.
func storedRecords(t *testing.T, stack *devstack.Stack) int64 {
	t.Helper()
	var total int64
	for _, topic := range gateway.DefaultConfig().Topics.Names() {
		for _, partition := range stack.Kafka.PartitionInfos(topic) {
			total += partition.HighWatermark
		}
	}
	return total
}

// unreadyGateway is a gateway started like harness.Start does, but without
// waiting for it to become ready, for brokers that reject its credentials.
type unreadyGateway struct {
	stack *devstack.Stack
	// logs receives the gateway's JSON logs at debug level.
	logs     *syncBuffer
	url      string
	adminURL string
	client   *http.Client
	cancel   context.CancelFunc
	done     chan error
	stopOnce sync.Once
}

// startGateway starts a dev stack with stackOptions and a gateway
// configured like the harness configures it, then edited by configure.
// The gateway stops when the test ends, if stop was not called before.
func startGateway(t *testing.T, stackOptions devstack.Options, configure func(*gateway.Config)) *unreadyGateway {
	t.Helper()
	config := gateway.DefaultConfig()
	stackOptions.Topics = config.Topics.Names()
	stack, err := devstack.Start(stackOptions)
	if err != nil {
		t.Fatalf("starting dev stack: %v", err)
	}
	t.Cleanup(func() { _ = stack.Close() })

	config.SigningSecrets = []secret.Value{harness.Secret}
	config.HTTP.Addr = "127.0.0.1:0"
	config.Admin.Addr = "127.0.0.1:0"
	config.Kafka.BootstrapServers = stack.KafkaAddr
	config.Registry.URL = stack.RegistryURL
	config.ShutdownTimeout = 5 * time.Second
	configure(&config)
	logs := &syncBuffer{}
	logger := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	service, err := gateway.New(config, logger)
	if err != nil {
		t.Fatalf("creating gateway: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	g := &unreadyGateway{
		stack:    stack,
		logs:     logs,
		url:      "http://" + service.PublicAddr(),
		adminURL: "http://" + service.AdminAddr(),
		client:   &http.Client{Timeout: 5 * time.Second},
		cancel:   cancel,
		done:     make(chan error, 1),
	}
	go func() { g.done <- service.Run(ctx) }()
	t.Cleanup(func() { g.stop(t) })
	return g
}

// stop shuts the gateway down and waits for Run to return, so that no log
// line is written after it. Later calls do nothing.
func (g *unreadyGateway) stop(t *testing.T) {
	t.Helper()
	g.stopOnce.Do(func() {
		g.cancel()
		select {
		case err := <-g.done:
			if err != nil {
				t.Errorf("gateway stopped with error: %v", err)
			}
		case <-time.After(15 * time.Second):
			t.Error("gateway did not stop within 15s")
		}
	})
}

// checkRejected checks that the gateway never turns ready within
// notReadyPeriod, responds 503 to a signed event so that Slack retries,
// and stores nothing. It then stops the gateway, checks that the logs
// contain reason, the error text that shows why the broker rejected the
// connection, and returns the logs.
func (g *unreadyGateway) checkRejected(t *testing.T, reason string) string {
	t.Helper()
	g.checkNeverReady(t, notReadyPeriod)
	status := g.post(t, "/slack/event", "application/json", fixtures.MustBody(t, securityEventFixture))
	g.stop(t)

	if status != http.StatusServiceUnavailable {
		t.Errorf("event status = %d, want 503", status)
	}
	if total := storedRecords(t, g.stack); total != 0 {
		t.Errorf("topics hold %d records, want 0", total)
	}
	logs := g.logs.String()
	if !strings.Contains(logs, reason) {
		t.Errorf("logs do not contain %q, so the gateway may be unready for another reason:\n%s", reason, logs)
	}
	return logs
}

// checkNeverReady polls /readyz for period and fails on any status other
// than 503.
func (g *unreadyGateway) checkNeverReady(t *testing.T, period time.Duration) {
	t.Helper()
	polls := 0
	for deadline := time.Now().Add(period); time.Now().Before(deadline); polls++ {
		response, err := g.client.Get(g.adminURL + "/readyz")
		if err != nil {
			t.Fatalf("GET /readyz: %v", err)
		}
		response.Body.Close()
		if response.StatusCode != http.StatusServiceUnavailable {
			t.Fatalf("/readyz status = %d after %d polls, want 503", response.StatusCode, polls)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// post sends body to path, signed with the harness secret, and returns the
// response status.
func (g *unreadyGateway) post(t *testing.T, path, contentType string, body []byte) int {
	t.Helper()
	request, err := http.NewRequest(http.MethodPost, g.url+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	request.Header.Set("Content-Type", contentType)
	slack.SignRequest(request, harness.Secret, body, time.Now())
	response, err := g.client.Do(request)
	if err != nil {
		t.Fatalf("POST %s: %v", path, err)
	}
	defer response.Body.Close()
	if _, err := io.Copy(io.Discard, response.Body); err != nil {
		t.Fatalf("reading response of POST %s: %v", path, err)
	}
	return response.StatusCode
}

// syncBuffer is a bytes.Buffer that the gateway's goroutines can write
// while the test reads it.
type syncBuffer struct {
	mu     sync.Mutex
	buffer bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buffer.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buffer.String()
}
