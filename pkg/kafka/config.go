package kafka

import (
	"errors"
	"fmt"
	"net"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	ckafka "github.com/confluentinc/confluent-kafka-go/v2/kafka"

	"github.com/lsst-sqre/squarebot/pkg/secret"
)

// Security protocols, as librdkafka and Kafka name them.
const (
	ProtocolPlaintext     = "PLAINTEXT"
	ProtocolSSL           = "SSL"
	ProtocolSASLPlaintext = "SASL_PLAINTEXT"
	ProtocolSASLSSL       = "SASL_SSL"
)

// SASL mechanisms Squarebot supports.
const (
	MechanismSCRAMSHA512 = "SCRAM-SHA-512"
	MechanismSCRAMSHA256 = "SCRAM-SHA-256"
	MechanismPlain       = "PLAIN"
)

// Config holds the producer settings. The zero value is not usable: set at
// least BootstrapServers and call Validate.
type Config struct {
	// BootstrapServers is a comma-separated list of host:port pairs.
	BootstrapServers string
	// ClientID names the producer in broker logs and quotas. Default "squarebot".
	ClientID string
	// SecurityProtocol is PLAINTEXT (default), SSL, SASL_PLAINTEXT or SASL_SSL.
	SecurityProtocol string
	// SASLMechanism is SCRAM-SHA-512 (default), SCRAM-SHA-256 or PLAIN; used
	// with the SASL protocols only.
	SASLMechanism string
	// SASLUsername and SASLPassword are the SASL credentials.
	SASLUsername string
	SASLPassword secret.Value
	// TLSCAFile is a PEM file with the CA that signed the brokers'
	// certificates, such as Strimzi's ca.crt. Empty uses the system CAs.
	TLSCAFile string
	// TLSCertFile and TLSKeyFile are the PEM client certificate and key for
	// mutual TLS, such as Strimzi's user.crt and user.key.
	TLSCertFile string
	TLSKeyFile  string
	// Linger is how long librdkafka waits to fill a batch (linger.ms). Zero
	// sends at once. The squarebot command defaults to 1 ms, which was
	// faster under the load tool (docs/performance.md), although
	// BenchmarkPublishLinger, with broker and publishers in one process,
	// favours 0.
	Linger time.Duration
	// MessageMaxBytes is the largest record librdkafka accepts
	// (message.max.bytes); Publish fails with class message_too_large for a
	// larger one. Default 1000000, librdkafka's own.
	MessageMaxBytes int
	// BatchMaxMessages caps the records in one batch (batch.num.messages).
	// Default 10000.
	BatchMaxMessages int
	// Compression is none (default), gzip, snappy, lz4 or zstd.
	Compression string
	// DeliveryTimeout bounds how long librdkafka keeps retrying a record
	// (message.timeout.ms). A record can still be delivered after the
	// gateway gave up waiting for it; this bounds how late. Default 60 s.
	DeliveryTimeout time.Duration
	// QueueMaxMessages caps the records waiting in the producer
	// (queue.buffering.max.messages). A full queue fails a publish at once.
	// Default 100000.
	QueueMaxMessages int
	// StatisticsInterval is how often librdkafka reports statistics to the
	// stats handler (statistics.interval.ms); 0 takes the default of 15 s.
	StatisticsInterval time.Duration
	// Debug sets librdkafka's debug contexts, such as "broker,msg"; empty
	// disables debug logs.
	Debug string
}

// Defaults fills unset fields with their defaults.
func (c *Config) Defaults() {
	if c.ClientID == "" {
		c.ClientID = "squarebot"
	}
	if c.SecurityProtocol == "" {
		c.SecurityProtocol = ProtocolPlaintext
	}
	if c.SASLMechanism == "" {
		c.SASLMechanism = MechanismSCRAMSHA512
	}
	if c.BatchMaxMessages == 0 {
		c.BatchMaxMessages = 10000
	}
	if c.MessageMaxBytes == 0 {
		c.MessageMaxBytes = 1000000
	}
	if c.Compression == "" {
		c.Compression = "none"
	}
	if c.DeliveryTimeout == 0 {
		c.DeliveryTimeout = time.Minute
	}
	if c.QueueMaxMessages == 0 {
		c.QueueMaxMessages = 100000
	}
	if c.StatisticsInterval == 0 {
		c.StatisticsInterval = 15 * time.Second
	}
}

// Validate checks the configuration and returns one error naming every
// invalid setting by its configuration key.
func (c *Config) Validate() error {
	var problems []error
	servers := 0
	for _, server := range strings.Split(c.BootstrapServers, ",") {
		server = strings.TrimSpace(server)
		if server == "" {
			continue
		}
		servers++
		if err := checkHostPort(server); err != nil {
			problems = append(problems, fmt.Errorf("kafka.bootstrap_servers: %w", err))
		}
	}
	if servers == 0 {
		problems = append(problems, errors.New("kafka.bootstrap_servers is missing: set it to host:port[,host:port...]"))
	}
	protocols := []string{ProtocolPlaintext, ProtocolSSL, ProtocolSASLPlaintext, ProtocolSASLSSL}
	if !slices.Contains(protocols, c.SecurityProtocol) {
		problems = append(problems, fmt.Errorf("kafka.security_protocol: %q is not one of %s", c.SecurityProtocol, strings.Join(protocols, ", ")))
	}
	if c.usesSASL() {
		mechanisms := []string{MechanismSCRAMSHA512, MechanismSCRAMSHA256, MechanismPlain}
		if !slices.Contains(mechanisms, c.SASLMechanism) {
			problems = append(problems, fmt.Errorf("kafka.sasl_mechanism: %q is not one of %s", c.SASLMechanism, strings.Join(mechanisms, ", ")))
		}
		if c.SASLUsername == "" || !c.SASLPassword.IsSet() {
			problems = append(problems, fmt.Errorf("kafka.sasl_username and kafka.sasl_password are required with security protocol %s", c.SecurityProtocol))
		}
	}
	if (c.TLSCertFile == "") != (c.TLSKeyFile == "") {
		problems = append(problems, errors.New("kafka.tls_cert_file and kafka.tls_key_file must be set together"))
	}
	if (c.TLSCAFile != "" || c.TLSCertFile != "") && !c.usesTLS() {
		problems = append(problems, fmt.Errorf("kafka TLS files are set but kafka.security_protocol is %s: use SSL or SASL_SSL", c.SecurityProtocol))
	}
	for key, path := range map[string]string{"kafka.tls_ca_file": c.TLSCAFile, "kafka.tls_cert_file": c.TLSCertFile, "kafka.tls_key_file": c.TLSKeyFile} {
		if path == "" {
			continue
		}
		if _, err := os.Stat(path); err != nil {
			problems = append(problems, fmt.Errorf("%s: %w", key, err))
		}
	}
	compressions := []string{"none", "gzip", "snappy", "lz4", "zstd"}
	if !slices.Contains(compressions, c.Compression) {
		problems = append(problems, fmt.Errorf("kafka.compression: %q is not one of %s", c.Compression, strings.Join(compressions, ", ")))
	}
	if c.Linger < 0 || c.Linger > 5*time.Second {
		problems = append(problems, fmt.Errorf("kafka.linger: %s is outside 0 to 5s", c.Linger))
	}
	if c.MessageMaxBytes < 1000 || c.MessageMaxBytes > 1000000000 {
		problems = append(problems, fmt.Errorf("kafka.message_max_bytes: %d is outside librdkafka's range of 1000 to 1000000000", c.MessageMaxBytes))
	}
	if c.StatisticsInterval < time.Millisecond {
		problems = append(problems, fmt.Errorf("kafka.statistics_interval: %s is below 1ms", c.StatisticsInterval))
	}
	if c.DeliveryTimeout < time.Second {
		problems = append(problems, fmt.Errorf("kafka.delivery_timeout: %s is below 1s", c.DeliveryTimeout))
	}
	return errors.Join(problems...)
}

// checkHostPort accepts host:port with a port from 1 to 65535.
func checkHostPort(server string) error {
	host, portText, err := net.SplitHostPort(server)
	if err != nil || host == "" || strings.Contains(server, "://") {
		return fmt.Errorf("%q is not host:port", server)
	}
	port, err := strconv.Atoi(portText)
	if err != nil || port < 1 || port > 65535 {
		return fmt.Errorf("%q has no port from 1 to 65535", server)
	}
	return nil
}

func (c *Config) usesSASL() bool {
	return c.SecurityProtocol == ProtocolSASLPlaintext || c.SecurityProtocol == ProtocolSASLSSL
}

func (c *Config) usesTLS() bool {
	return c.SecurityProtocol == ProtocolSSL || c.SecurityProtocol == ProtocolSASLSSL
}

// ConfigMap turns the configuration into librdkafka producer settings.
// With ConsumerConfigMap it is the only place where librdkafka's keys
// appear. Idempotence is always on, which implies acks=all, so a retried
// batch is never written twice.
func (c *Config) ConfigMap() *ckafka.ConfigMap {
	settings := c.connectionSettings()
	producerSettings := ckafka.ConfigMap{
		"acks":                         "all",
		"enable.idempotence":           true,
		"partitioner":                  "murmur2_random",
		"linger.ms":                    strconv.FormatFloat(float64(c.Linger)/float64(time.Millisecond), 'f', -1, 64),
		"batch.num.messages":           c.BatchMaxMessages,
		"message.max.bytes":            c.MessageMaxBytes,
		"compression.type":             c.Compression,
		"message.timeout.ms":           int(c.DeliveryTimeout / time.Millisecond),
		"queue.buffering.max.messages": c.QueueMaxMessages,
		"go.delivery.reports":          true,
		// librdkafka backs off reconnects up to 10 s by default, which kept
		// requests failing for up to 10 s after a broker came back. Slack
		// gives each delivery 3 s, so reconnect within a second.
		"reconnect.backoff.ms":     100,
		"reconnect.backoff.max.ms": 1000,
		// Delivery reports carry only the error and the opaque channel:
		// copying key and value back into Go memory would double the
		// allocations per record.
		"go.delivery.report.fields": "none",
		// The Go client's defaults of one million slots for these channels
		// cost memory for nothing: Publish calls Produce directly, and one
		// goroutine drains the events as they come.
		"go.events.channel.size":  10000,
		"go.produce.channel.size": 1,
		"statistics.interval.ms":  int(c.StatisticsInterval / time.Millisecond),
	}
	for key, value := range producerSettings {
		settings[key] = value
	}
	return &settings
}

// ConsumerConfigMap returns librdkafka consumer settings for reading
// topics as a member of groupID without committing offsets, starting at
// the earliest offset when fromBeginning is set and at the end otherwise.
func (c *Config) ConsumerConfigMap(groupID string, fromBeginning bool) *ckafka.ConfigMap {
	settings := c.connectionSettings()
	reset := "latest"
	if fromBeginning {
		reset = "earliest"
	}
	settings["group.id"] = groupID
	settings["enable.auto.commit"] = false
	settings["auto.offset.reset"] = reset
	return &settings
}

// connectionSettings returns the broker address, client id, security and
// logging settings that producers and consumers share.
func (c *Config) connectionSettings() ckafka.ConfigMap {
	settings := ckafka.ConfigMap{
		"bootstrap.servers":      c.BootstrapServers,
		"client.id":              c.ClientID,
		"security.protocol":      strings.ToLower(c.SecurityProtocol),
		"go.logs.channel.enable": true,
	}
	if c.usesSASL() {
		settings["sasl.mechanisms"] = c.SASLMechanism
		settings["sasl.username"] = c.SASLUsername
		settings["sasl.password"] = c.SASLPassword.Reveal()
	}
	if c.TLSCAFile != "" {
		settings["ssl.ca.location"] = c.TLSCAFile
	}
	if c.TLSCertFile != "" {
		settings["ssl.certificate.location"] = c.TLSCertFile
		settings["ssl.key.location"] = c.TLSKeyFile
	}
	if c.Debug != "" {
		settings["debug"] = c.Debug
	}
	return settings
}
