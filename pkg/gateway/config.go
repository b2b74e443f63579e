package gateway

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/lsst-sqre/squarebot/pkg/kafka"
	"github.com/lsst-sqre/squarebot/pkg/route"
	"github.com/lsst-sqre/squarebot/pkg/schema"
	"github.com/lsst-sqre/squarebot/pkg/secret"
)

// Config is the whole service configuration. Call Defaults, then Validate.
type Config struct {
	HTTP  HTTPConfig
	Admin AdminConfig
	// SigningSecrets are the Slack signing secrets; a request signed with
	// any of them is accepted. Required.
	SigningSecrets []secret.Value
	Kafka          kafka.Config
	// AckTimeout is how long a request waits for Kafka to acknowledge its
	// record before the gateway responds 503. It must stay well under Slack's
	// 3-second limit. Default 2 s.
	AckTimeout time.Duration
	Registry   RegistryConfig
	Topics     route.Topics
	// DedupWindow is how long the event id of a delivered event is kept,
	// so that a Slack retry of it gets a 200 response without a second record.
	// Slack retries up to about 5 minutes after the first attempt. 0
	// disables deduplication. Default 10 minutes.
	DedupWindow time.Duration
	// DedupMaxEvents bounds the event ids kept; when full, the oldest is
	// dropped. Default 50000, about 4 MiB of heap: Slack sends a workspace at
	// most 30,000 events an hour, so 5,000 in a 10-minute window, and the
	// default covers ten workspaces at that rate.
	DedupMaxEvents int
	// ShutdownTimeout bounds the drain of in-flight requests and the
	// producer flush after a stop signal. Default 10 s.
	ShutdownTimeout time.Duration
}

// HTTPConfig configures the public listener that serves the Slack endpoints.
type HTTPConfig struct {
	// Addr is the listen address. Default ":8080".
	Addr string
	// PathPrefix is served in addition to the bare paths, so /slack/event
	// is also /{prefix}/slack/event behind a shared ingress. Default "".
	PathPrefix string
	// MaxBodyBytes is the largest accepted request body; larger ones get
	// 413. Default 1 MiB, far above the ~80 KB of a maximal Slack message.
	MaxBodyBytes int64
	// MaxHeaderBytes bounds the request header size. Default 64 KiB.
	MaxHeaderBytes int
	// MaxInFlight is how many requests are handled at once; more get 503
	// at once rather than queueing past Slack's deadline. Default 1024.
	MaxInFlight int
	// ReadHeaderTimeout, ReadTimeout, WriteTimeout and IdleTimeout are the
	// server's timeouts. Defaults 5 s, 10 s, 10 s and 120 s.
	ReadHeaderTimeout time.Duration
	ReadTimeout       time.Duration
	WriteTimeout      time.Duration
	IdleTimeout       time.Duration
}

// AdminConfig configures the admin listener with /healthz, /readyz and
// /metrics.
type AdminConfig struct {
	// Addr is the listen address. Default ":9090".
	Addr string
	// Pprof serves Go's profiling endpoints under /debug/pprof/ on the
	// admin listener. Default false; they reveal internals and cost CPU
	// while a profile runs.
	Pprof bool
}

// RegistryConfig configures the schema registry client.
type RegistryConfig struct {
	// URL is the registry's base URL, such as http://registry:8081. Required.
	URL string
	// Username and Password are HTTP basic auth credentials; both or none.
	Username string
	Password secret.Value
	// CAFile is a PEM file with the CA of an https registry; empty uses the
	// system CAs.
	CAFile string
	// Compatibility is the level set on every subject. Default FORWARD_TRANSITIVE.
	Compatibility string
	// RegisterSchemas makes start-up register the schemas. When false,
	// start-up only looks up the ids of schemas registered beforehand by
	// `squarebot schemas register`. Default true.
	RegisterSchemas bool
	// Timeout bounds each registry request. Default 10 s.
	Timeout time.Duration
}

// LargestRecord returns the size in bytes that Kafka must accept for the
// record of any request body up to maxBodyBytes. A record carries the
// whole body (slack_json) and its message text again, so the size is twice
// the body plus 64 KiB for the other fields, the key and the headers.
func LargestRecord(maxBodyBytes int64) int {
	return int(2*maxBodyBytes + 64<<10)
}

// DefaultConfig returns a configuration with every default set and the
// required settings empty.
func DefaultConfig() Config {
	config := Config{
		HTTP: HTTPConfig{
			Addr:              ":8080",
			MaxBodyBytes:      1 << 20,
			MaxHeaderBytes:    64 << 10,
			MaxInFlight:       1024,
			ReadHeaderTimeout: 5 * time.Second,
			ReadTimeout:       10 * time.Second,
			WriteTimeout:      15 * time.Second,
			IdleTimeout:       120 * time.Second,
		},
		Admin:           AdminConfig{Addr: ":9090"},
		AckTimeout:      2 * time.Second,
		Registry:        RegistryConfig{Compatibility: "FORWARD_TRANSITIVE", RegisterSchemas: true, Timeout: 10 * time.Second},
		Topics:          route.DefaultTopics(),
		ShutdownTimeout: 10 * time.Second,
		DedupWindow:     10 * time.Minute,
		DedupMaxEvents:  50000,
	}
	config.Kafka.MessageMaxBytes = LargestRecord(config.HTTP.MaxBodyBytes)
	config.Kafka.Defaults()
	return config
}

// Validate checks the whole configuration at once and returns an error
// that names each invalid setting by its configuration key and says how
// to fix it.
func (c *Config) Validate() error {
	var problems []error
	add := func(format string, args ...any) { problems = append(problems, fmt.Errorf(format, args...)) }

	if len(c.SigningSecrets) == 0 {
		add("slack.signing_secrets is missing: set SQUAREBOT_SLACK_SIGNING_SECRETS to the app's signing secret (comma-separated to accept several)")
	}
	for i, value := range c.SigningSecrets {
		if !value.IsSet() {
			add("slack.signing_secrets: entry %d of %d is empty", i+1, len(c.SigningSecrets))
		}
	}
	if err := c.Kafka.Validate(); err != nil {
		problems = append(problems, err)
	}
	if largest := LargestRecord(c.HTTP.MaxBodyBytes); c.Kafka.MessageMaxBytes > 0 && c.Kafka.MessageMaxBytes < largest {
		add("kafka.message_max_bytes: %d is below %d, the largest record a body of http.max_body_bytes (%d) can make; "+
			"set it to at least %d (0 derives it), or lower http.max_body_bytes, so that no accepted request fails at Kafka",
			c.Kafka.MessageMaxBytes, largest, c.HTTP.MaxBodyBytes, largest)
	}
	if c.AckTimeout <= 0 || c.AckTimeout > 2500*time.Millisecond {
		add("kafka.ack_timeout: %s is outside (0, 2.5s]; Slack gives up after 3s", c.AckTimeout)
	}
	problems = append(problems, c.Registry.validate()...)
	problems = append(problems, c.HTTP.validate()...)
	if err := checkListenAddr(c.Admin.Addr); err != nil {
		add("admin.addr: %w", err)
	}
	if c.HTTP.Addr == c.Admin.Addr && !strings.HasSuffix(c.Admin.Addr, ":0") {
		add("http.addr and admin.addr are both %q: give the admin listener its own port", c.Admin.Addr)
	}
	problems = append(problems, validateTopics(c.Topics)...)
	if c.DedupWindow < 0 {
		add("dedup.window: %s must not be negative; 0 disables deduplication", c.DedupWindow)
	}
	if c.DedupWindow > 0 && c.DedupMaxEvents < 1 {
		add("dedup.max_events: %d must be at least 1 while dedup.window is set", c.DedupMaxEvents)
	}
	if c.ShutdownTimeout <= 0 {
		add("shutdown_timeout: %s must be positive", c.ShutdownTimeout)
	}
	return errors.Join(problems...)
}

// ClientConfig returns the settings of a registry client for r.
func (r RegistryConfig) ClientConfig() schema.ClientConfig {
	return schema.ClientConfig{URL: r.URL, Username: r.Username, Password: r.Password, CAFile: r.CAFile, Timeout: r.Timeout}
}

func (r *RegistryConfig) validate() []error {
	var problems []error
	parsed, err := url.Parse(r.URL)
	switch {
	case r.URL == "":
		problems = append(problems, errors.New("registry.url is missing: set SQUAREBOT_REGISTRY_URL to the schema registry's base URL, such as http://registry:8081"))
	case err != nil || (parsed.Scheme != "http" && parsed.Scheme != "https") || parsed.Host == "":
		problems = append(problems, fmt.Errorf("registry.url: %q is not an http or https URL", redactURL(r.URL, parsed)))
	}
	if (r.Username == "") != !r.Password.IsSet() {
		problems = append(problems, errors.New("registry.username and registry.password must be set together"))
	}
	if !schema.ValidCompatibility(r.Compatibility) {
		problems = append(problems, fmt.Errorf("registry.compatibility: %q is not one of %s", r.Compatibility, schema.CompatibilityLevels()))
	}
	if r.Timeout <= 0 {
		problems = append(problems, fmt.Errorf("registry.timeout: %s must be positive", r.Timeout))
	}
	return problems
}

func (h *HTTPConfig) validate() []error {
	var problems []error
	if err := checkListenAddr(h.Addr); err != nil {
		problems = append(problems, fmt.Errorf("http.addr: %w", err))
	}
	if h.PathPrefix != "" && (!strings.HasPrefix(h.PathPrefix, "/") || strings.HasSuffix(h.PathPrefix, "/") || strings.ContainsAny(h.PathPrefix, "?#* ")) {
		problems = append(problems, fmt.Errorf("http.path_prefix: %q must start with / and not end with /, such as /squarebot", h.PathPrefix))
	}
	if h.MaxBodyBytes < 64<<10 {
		problems = append(problems, fmt.Errorf("http.max_body_bytes: %d is below 65536; real Slack payloads reach about 80 KB", h.MaxBodyBytes))
	}
	if h.WriteTimeout <= h.ReadTimeout {
		problems = append(problems, fmt.Errorf("http.write_timeout: %s must be longer than http.read_timeout (%s), or a request whose body "+
			"times out gets no 400 because the response's write time has run out too", h.WriteTimeout, h.ReadTimeout))
	}
	if h.MaxInFlight < 1 {
		problems = append(problems, fmt.Errorf("http.max_in_flight: %d must be at least 1", h.MaxInFlight))
	}
	for key, value := range map[string]time.Duration{
		"http.read_header_timeout": h.ReadHeaderTimeout, "http.read_timeout": h.ReadTimeout,
		"http.write_timeout": h.WriteTimeout, "http.idle_timeout": h.IdleTimeout,
	} {
		if value <= 0 {
			problems = append(problems, fmt.Errorf("%s: %s must be positive", key, value))
		}
	}
	return problems
}

func checkListenAddr(addr string) error {
	if _, port, err := net.SplitHostPort(addr); err != nil || port == "" {
		return fmt.Errorf("%q is not host:port or :port", addr)
	}
	return nil
}

func validateTopics(topics route.Topics) []error {
	var problems []error
	keys := []string{"topics.app_mention", "topics.message_channel", "topics.message_group", "topics.message_im", "topics.message_mpim", "topics.interaction"}
	names := topics.Names()
	for i, name := range names {
		if err := checkTopicName(name); err != nil {
			problems = append(problems, fmt.Errorf("%s: %w", keys[i], err))
		}
	}
	// Mention and message topics share one schema pair and may share a
	// topic; the interaction topic has other schemas under the same subjects.
	interaction := len(names) - 1
	for i, name := range names[:interaction] {
		if name == names[interaction] {
			problems = append(problems, fmt.Errorf("%s and topics.interaction are both %q: interactions have their own schemas, so give them their own topic", keys[i], name))
		}
	}
	return problems
}

// checkTopicName applies Kafka's topic name rules: 1 to 249 characters of
// ASCII letters, digits, '.', '_' and '-', and not "." or "..".
func checkTopicName(name string) error {
	if name == "" || len(name) > 249 || name == "." || name == ".." {
		return fmt.Errorf("%q is not a valid Kafka topic name", name)
	}
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-') {
			return fmt.Errorf("%q is not a valid Kafka topic name: only letters, digits, '.', '_' and '-' are allowed", name)
		}
	}
	return nil
}

// redactURL hides a password in a URL quoted in an error message.
func redactURL(raw string, parsed *url.URL) string {
	if parsed == nil || parsed.User == nil {
		return raw
	}
	return parsed.Redacted()
}
