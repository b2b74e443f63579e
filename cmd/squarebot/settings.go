package main

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cast"
	"github.com/spf13/viper"

	"github.com/lsst-sqre/squarebot/pkg/gateway"
	"github.com/lsst-sqre/squarebot/pkg/kafka"
	"github.com/lsst-sqre/squarebot/pkg/route"
	"github.com/lsst-sqre/squarebot/pkg/secret"
)

// envPrefix prefixes every environment variable: the key kafka.client_id
// is read from SQUAREBOT_KAFKA_CLIENT_ID.
const envPrefix = "SQUAREBOT"

// setting is one configuration key with its default and documentation.
// The table below is the single list of keys: viper's defaults, the
// unknown-key check and docs/configuration.md all come from it.
type setting struct {
	key         string
	value       any
	description string
}

// settings lists every configuration key. An empty string default means
// the key has no default.
var settings = []setting{
	{"slack.signing_secrets", "", "Slack signing secrets, comma-separated in the environment or a YAML list. A request signed with any of them is accepted, so a new secret can be added before the old one is removed. Required unless slack.signing_secrets_file is set."},
	{"slack.signing_secrets_file", "", "File with signing secrets, one per line, for a mounted Kubernetes Secret. Added to slack.signing_secrets."},
	{"http.addr", ":8080", "Listen address of the Slack endpoints."},
	{"http.path_prefix", "", "Extra path prefix for the Slack endpoints, such as /squarebot for /squarebot/slack/event behind a shared ingress. The bare paths are served too."},
	{"http.max_body_bytes", 1 << 20, "Largest accepted request body in bytes; larger requests get 413. A maximal Slack message with rich-text blocks is about 80 KB."},
	{"http.max_header_bytes", 64 << 10, "Largest accepted request header block in bytes."},
	{"http.max_in_flight", 1024, "Requests handled at once; beyond it the gateway answers 503 at once so Slack retries, instead of queueing past Slack's 3-second deadline."},
	{"http.read_header_timeout", 5 * time.Second, "Time to read a request's headers."},
	{"http.read_timeout", 10 * time.Second, "Time to read a whole request."},
	{"http.write_timeout", 15 * time.Second, "Time from the end of the request headers to the end of the response. It must be longer than http.read_timeout, so that a request whose body times out still gets its 400."},
	{"http.idle_timeout", 120 * time.Second, "How long an idle keep-alive connection stays open."},
	{"admin.addr", ":9090", "Listen address of /healthz, /readyz and /metrics. Keep it off the ingress."},
	{"admin.pprof", false, "Serve Go's profiling endpoints under /debug/pprof/ on the admin listener, for performance work."},
	{"log.level", "info", "Log level: debug, info, warn or error. Per-request lines are debug."},
	{"log.format", "json", "Log format: json or text."},
	{"kafka.bootstrap_servers", "", "Kafka brokers as host:port[,host:port...]. Required."},
	{"kafka.client_id", "squarebot", "Client id the brokers see."},
	{"kafka.ack_timeout", 2 * time.Second, "How long a request waits for Kafka's acknowledgement before it is answered 503; at most 2.5s, since Slack gives up after 3s."},
	{"kafka.delivery_timeout", time.Minute, "How long librdkafka keeps retrying a record (message.timeout.ms). A record answered 503 may still be delivered within this time."},
	{"kafka.linger", time.Millisecond, "How long librdkafka waits to fill a batch (linger.ms). Under load, 1ms gave about 15 % more requests per second and a lower p99 than 0, with fewer produce requests for the brokers, and adds about 1 ms to a lone request; 0 sends at once. See docs/performance.md."},
	{"kafka.message_max_bytes", 0, "Largest record the producer accepts (librdkafka's message.max.bytes). 0 derives it from http.max_body_bytes: twice the body plus 64 KiB, because a record carries the body and its message text again (2162688 for the default 1 MiB). The topics' max.message.bytes must be at least as large; the Helm chart sets it on the topics it creates."},
	{"kafka.batch_max_messages", 10000, "Most records in one batch (batch.num.messages)."},
	{"kafka.compression", "none", "Batch compression: none, gzip, snappy, lz4 or zstd."},
	{"kafka.queue_max_messages", 100000, "Most records waiting in the producer; when full, requests get 503 at once."},
	{"kafka.security_protocol", "PLAINTEXT", "PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL."},
	{"kafka.sasl_mechanism", "SCRAM-SHA-512", "SASL mechanism: SCRAM-SHA-512, SCRAM-SHA-256 or PLAIN."},
	{"kafka.sasl_username", "", "SASL user name."},
	{"kafka.sasl_password", "", "SASL password. Prefer kafka.sasl_password_file or the environment."},
	{"kafka.sasl_password_file", "", "File holding the SASL password, such as the password key of a Strimzi KafkaUser Secret."},
	{"kafka.tls_ca_file", "", "PEM CA certificate of the brokers, such as Strimzi's ca.crt. Empty uses the system CAs."},
	{"kafka.tls_cert_file", "", "PEM client certificate for mutual TLS, such as Strimzi's user.crt."},
	{"kafka.tls_key_file", "", "PEM client key for mutual TLS, such as Strimzi's user.key."},
	{"kafka.statistics_interval", 15 * time.Second, "How often librdkafka's statistics (queue length, broker round-trip time) update the metrics."},
	{"kafka.debug", "", "librdkafka debug contexts, such as broker,msg; logged at debug level."},
	{"registry.url", "", "Base URL of the Confluent-compatible schema registry. Required."},
	{"registry.username", "", "Registry basic-auth user."},
	{"registry.password", "", "Registry basic-auth password. Prefer registry.password_file or the environment."},
	{"registry.password_file", "", "File holding the registry password."},
	{"registry.ca_file", "", "PEM CA certificate of an https registry."},
	{"registry.compatibility", "FORWARD_TRANSITIVE", "Compatibility level set on every subject at registration."},
	{"registry.register_schemas", true, "Register the schemas at start-up. When false, start-up only looks up schemas registered beforehand by `squarebot schemas register`."},
	{"registry.timeout", 10 * time.Second, "Timeout of each registry request."},
	{"topics.app_mention", route.DefaultAppMentionTopic, "Topic of app_mention events."},
	{"topics.message_channel", route.DefaultMessageChannelTopic, "Topic of messages in public channels."},
	{"topics.message_group", route.DefaultMessageGroupTopic, "Topic of messages in private channels."},
	{"topics.message_im", route.DefaultMessageIMTopic, "Topic of direct messages."},
	{"topics.message_mpim", route.DefaultMessageMPIMTopic, "Topic of multi-person direct messages."},
	{"topics.interaction", route.DefaultInteractionTopic, "Topic of every interaction payload."},
	{"dedup.window", 10 * time.Minute, "How long the event id of a delivered event is kept, so a Slack retry of it is answered 200 without a second record. Per replica. 0 disables."},
	{"dedup.max_events", 50000, "Most event ids kept for deduplication; the oldest is dropped when full. About 60 bytes of heap each (TestDeliveredEventsMemory checks it), so 3 MiB at the default, which covers ten workspaces at Slack's maximum of 30,000 events an hour over a 10-minute window."},
	{"shutdown_timeout", 10 * time.Second, "Budget for draining requests and flushing the producer after SIGTERM."},
}

// envName returns the environment variable of a key.
func envName(key string) string {
	return envPrefix + "_" + strings.ToUpper(strings.ReplaceAll(key, ".", "_"))
}

// newViper returns a viper instance with every default set, reading the
// environment and, when configFile is not empty, the YAML file. Keys in
// the file that are not settings are rejected, so a misspelled key never
// goes unnoticed.
func newViper(configFile string) (*viper.Viper, error) {
	v := viper.New()
	v.SetEnvPrefix(envPrefix)
	v.SetEnvKeyReplacer(strings.NewReplacer(".", "_"))
	v.AutomaticEnv()
	known := make([]string, 0, len(settings))
	for _, s := range settings {
		v.SetDefault(s.key, s.value)
		known = append(known, s.key)
	}
	if configFile == "" {
		return v, nil
	}
	v.SetConfigFile(configFile)
	v.SetConfigType("yaml")
	if err := v.ReadInConfig(); err != nil {
		return nil, fmt.Errorf("reading --config %s: %w", configFile, err)
	}
	var unknown []string
	for _, key := range v.AllKeys() {
		if !slices.Contains(known, key) {
			unknown = append(unknown, key)
		}
	}
	if len(unknown) > 0 {
		slices.Sort(unknown)
		return nil, fmt.Errorf("--config %s: unknown keys %s; see docs/configuration.md", configFile, strings.Join(unknown, ", "))
	}
	return v, nil
}

// loadConfig maps viper's values to the gateway configuration. Errors name
// the key; the gateway validates the combination afterwards.
func loadConfig(v *viper.Viper) (gateway.Config, error) {
	config := gateway.DefaultConfig()
	var problems []error
	duration := func(key string) time.Duration {
		d, err := parseDuration(v.Get(key))
		if err != nil {
			problems = append(problems, fmt.Errorf("%s: %w", key, err))
		}
		return d
	}
	integer := func(key string) int {
		n, err := cast.ToIntE(v.Get(key))
		if err != nil {
			problems = append(problems, fmt.Errorf("%s: %q is not an integer", key, fmt.Sprint(v.Get(key))))
		}
		return n
	}
	boolean := func(key string) bool {
		b, err := cast.ToBoolE(v.Get(key))
		if err != nil {
			problems = append(problems, fmt.Errorf("%s: %q is not true or false", key, fmt.Sprint(v.Get(key))))
		}
		return b
	}
	readSecret := func(key string) secret.Value {
		value, err := secretFromFile(v.GetString(key+"_file"), key+"_file")
		if err != nil {
			problems = append(problems, err)
		}
		if value == "" {
			value = secret.Value(strings.TrimSpace(v.GetString(key)))
		}
		return value
	}

	secrets, err := signingSecrets(v)
	if err != nil {
		problems = append(problems, err)
	}
	config.SigningSecrets = secrets
	config.HTTP = gateway.HTTPConfig{
		Addr:              v.GetString("http.addr"),
		PathPrefix:        v.GetString("http.path_prefix"),
		MaxBodyBytes:      int64(integer("http.max_body_bytes")),
		MaxHeaderBytes:    integer("http.max_header_bytes"),
		MaxInFlight:       integer("http.max_in_flight"),
		ReadHeaderTimeout: duration("http.read_header_timeout"),
		ReadTimeout:       duration("http.read_timeout"),
		WriteTimeout:      duration("http.write_timeout"),
		IdleTimeout:       duration("http.idle_timeout"),
	}
	config.Admin.Addr = v.GetString("admin.addr")
	config.Admin.Pprof = boolean("admin.pprof")
	config.AckTimeout = duration("kafka.ack_timeout")
	config.Kafka = kafka.Config{
		BootstrapServers:   v.GetString("kafka.bootstrap_servers"),
		ClientID:           v.GetString("kafka.client_id"),
		SecurityProtocol:   strings.ToUpper(v.GetString("kafka.security_protocol")),
		SASLMechanism:      strings.ToUpper(v.GetString("kafka.sasl_mechanism")),
		SASLUsername:       v.GetString("kafka.sasl_username"),
		SASLPassword:       readSecret("kafka.sasl_password"),
		TLSCAFile:          v.GetString("kafka.tls_ca_file"),
		TLSCertFile:        v.GetString("kafka.tls_cert_file"),
		TLSKeyFile:         v.GetString("kafka.tls_key_file"),
		Linger:             duration("kafka.linger"),
		MessageMaxBytes:    integer("kafka.message_max_bytes"),
		BatchMaxMessages:   integer("kafka.batch_max_messages"),
		Compression:        strings.ToLower(v.GetString("kafka.compression")),
		DeliveryTimeout:    duration("kafka.delivery_timeout"),
		QueueMaxMessages:   integer("kafka.queue_max_messages"),
		StatisticsInterval: duration("kafka.statistics_interval"),
		Debug:              v.GetString("kafka.debug"),
	}
	config.Registry = gateway.RegistryConfig{
		URL:             v.GetString("registry.url"),
		Username:        v.GetString("registry.username"),
		Password:        readSecret("registry.password"),
		CAFile:          v.GetString("registry.ca_file"),
		Compatibility:   strings.ToUpper(v.GetString("registry.compatibility")),
		RegisterSchemas: boolean("registry.register_schemas"),
		Timeout:         duration("registry.timeout"),
	}
	config.Topics = route.Topics{
		AppMention:     v.GetString("topics.app_mention"),
		MessageChannel: v.GetString("topics.message_channel"),
		MessageGroup:   v.GetString("topics.message_group"),
		MessageIM:      v.GetString("topics.message_im"),
		MessageMPIM:    v.GetString("topics.message_mpim"),
		Interaction:    v.GetString("topics.interaction"),
	}
	config.ShutdownTimeout = duration("shutdown_timeout")
	config.DedupWindow = duration("dedup.window")
	config.DedupMaxEvents = integer("dedup.max_events")
	return config, errors.Join(problems...)
}

// signingSecrets reads slack.signing_secrets (a comma-separated string or
// a YAML list) and slack.signing_secrets_file (one secret per line).
func signingSecrets(v *viper.Viper) ([]secret.Value, error) {
	var values []string
	switch raw := v.Get("slack.signing_secrets").(type) {
	case string:
		values = strings.Split(raw, ",")
	case []any:
		for _, item := range raw {
			values = append(values, fmt.Sprint(item))
		}
	case []string:
		values = raw
	default:
		return nil, errors.New("slack.signing_secrets must be a string or a list of strings")
	}
	if path := v.GetString("slack.signing_secrets_file"); path != "" {
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("slack.signing_secrets_file: %w", err)
		}
		values = append(values, strings.Split(string(data), "\n")...)
	}
	var secrets []secret.Value
	for _, value := range values {
		if value = strings.TrimSpace(value); value != "" {
			secrets = append(secrets, secret.Value(value))
		}
	}
	return secrets, nil
}

// secretFromFile reads a secret from path, or returns "" when path is empty.
func secretFromFile(path, key string) (secret.Value, error) {
	if path == "" {
		return "", nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("%s: %w", key, err)
	}
	return secret.Value(strings.TrimSpace(string(data))), nil
}

// parseDuration accepts a Go duration string ("2s", "500ms") or a
// time.Duration default.
func parseDuration(value any) (time.Duration, error) {
	switch typed := value.(type) {
	case time.Duration:
		return typed, nil
	case string:
		d, err := time.ParseDuration(typed)
		if err != nil {
			return 0, fmt.Errorf("%q is not a duration such as 2s or 500ms", typed)
		}
		return d, nil
	default:
		return 0, fmt.Errorf("%v is not a duration such as 2s or 500ms", value)
	}
}
