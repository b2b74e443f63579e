package gateway_test

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/lsst-sqre/squarebot/pkg/gateway"
	"github.com/lsst-sqre/squarebot/pkg/kafka"
	"github.com/lsst-sqre/squarebot/pkg/route"
	"github.com/lsst-sqre/squarebot/pkg/secret"
)

// Secret values that no error text may contain.
const (
	testSigningSecret    = "signing-5ecret-for-tests"
	testSASLPassword     = "sasl-pa55word-for-tests"
	testRegistryPassword = "registry-pa55word-for-tests"
)

func TestDefaultConfig(t *testing.T) {
	config := gateway.DefaultConfig()

	want := gateway.Config{
		HTTP: gateway.HTTPConfig{
			Addr:              ":8080",
			MaxBodyBytes:      1 << 20,
			MaxHeaderBytes:    64 << 10,
			MaxInFlight:       1024,
			ReadHeaderTimeout: 5 * time.Second,
			ReadTimeout:       10 * time.Second,
			WriteTimeout:      15 * time.Second,
			IdleTimeout:       120 * time.Second,
		},
		Admin:      gateway.AdminConfig{Addr: ":9090"},
		AckTimeout: 2 * time.Second,
		Registry: gateway.RegistryConfig{
			Compatibility:   "FORWARD_TRANSITIVE",
			RegisterSchemas: true,
			Timeout:         10 * time.Second,
		},
		Topics:          route.DefaultTopics(),
		DedupWindow:     10 * time.Minute,
		DedupMaxEvents:  50000,
		ShutdownTimeout: 10 * time.Second,
	}
	// Kafka is compared on its own below, so a difference there does not
	// hide one here.
	got := config
	got.Kafka = kafka.Config{}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("DefaultConfig() without Kafka:\n got %+v\nwant %+v", got, want)
	}
	if len(config.SigningSecrets) != 0 {
		t.Errorf("DefaultConfig().SigningSecrets = %v, want none", config.SigningSecrets)
	}
	if config.Registry.URL != "" {
		t.Errorf("DefaultConfig().Registry.URL = %q, want empty", config.Registry.URL)
	}
	if config.Kafka.BootstrapServers != "" {
		t.Errorf("DefaultConfig().Kafka.BootstrapServers = %q, want empty", config.Kafka.BootstrapServers)
	}
}

// TestDefaultConfigKafkaDefaults checks that DefaultConfig, which promises
// every default, fills the Kafka defaults too.
// TestDefaultConfigKafkaDefaults expects kafka.Config's defaults, except
// for a message size that fits the record of the largest accepted body.
func TestDefaultConfigKafkaDefaults(t *testing.T) {
	config := gateway.DefaultConfig()

	want := kafka.Config{MessageMaxBytes: 2<<20 + 64<<10}
	want.Defaults()
	if config.Kafka != want {
		t.Errorf("DefaultConfig().Kafka:\n got %+v\nwant %+v (kafka.Config.Defaults)", config.Kafka, want)
	}
}

// TestDefaultConfigValidWithRequired sets only the three required settings
// on DefaultConfig and expects a valid configuration.
func TestDefaultConfigValidWithRequired(t *testing.T) {
	config := gateway.DefaultConfig()
	config.SigningSecrets = []secret.Value{testSigningSecret}
	config.Kafka.BootstrapServers = "127.0.0.1:9092"
	config.Registry.URL = "http://127.0.0.1:8081"

	err := config.Validate()

	if err != nil {
		t.Errorf("Validate() of DefaultConfig with the required settings = %v, want nil", err)
	}
}

// validConfig returns a configuration that passes Validate, with the Kafka
// defaults filled in explicitly.
func validConfig() gateway.Config {
	config := gateway.DefaultConfig()
	config.SigningSecrets = []secret.Value{testSigningSecret}
	config.Kafka.BootstrapServers = "127.0.0.1:9092"
	config.Kafka.Defaults()
	config.Registry.URL = "http://127.0.0.1:8081"
	return config
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name   string
		change func(*gateway.Config)
		// wantKeys are the configuration keys the error must name. An
		// empty list means Validate must return nil.
		wantKeys []string
	}{
		{name: "valid", change: func(*gateway.Config) {}},
		{name: "two signing secrets", change: func(c *gateway.Config) {
			c.SigningSecrets = []secret.Value{testSigningSecret, "second-secret"}
		}},
		{name: "https registry with credentials", change: func(c *gateway.Config) {
			c.Registry.URL = "https://registry.example:8081/ccompat"
			c.Registry.Username, c.Registry.Password = "squarebot", testRegistryPassword
		}},
		{name: "ack timeout 2.5s", change: func(c *gateway.Config) { c.AckTimeout = 2500 * time.Millisecond }},
		{name: "path prefix", change: func(c *gateway.Config) { c.HTTP.PathPrefix = "/squarebot" }},
		{name: "write timeout equal to read timeout", change: func(c *gateway.Config) { c.HTTP.WriteTimeout = c.HTTP.ReadTimeout },
			wantKeys: []string{"http.write_timeout", "http.read_timeout"}},
		{name: "message max fits a smaller body", change: func(c *gateway.Config) {
			c.HTTP.MaxBodyBytes = 256 << 10
			c.Kafka.MessageMaxBytes = 1000000
		}},
		{name: "message max below the largest record", change: func(c *gateway.Config) { c.Kafka.MessageMaxBytes = 1000000 },
			wantKeys: []string{"kafka.message_max_bytes", "http.max_body_bytes"}},
		{name: "nested path prefix", change: func(c *gateway.Config) { c.HTTP.PathPrefix = "/bots/squarebot" }},
		{name: "both listeners on port 0", change: func(c *gateway.Config) {
			c.HTTP.Addr, c.Admin.Addr = "127.0.0.1:0", "127.0.0.1:0"
		}},
		{name: "deduplication off", change: func(c *gateway.Config) { c.DedupWindow, c.DedupMaxEvents = 0, 0 }},
		{name: "max body 64 KiB", change: func(c *gateway.Config) { c.HTTP.MaxBodyBytes = 64 << 10 }},
		{name: "two message topics equal", change: func(c *gateway.Config) {
			c.Topics.MessageGroup = c.Topics.MessageChannel
		}},
		{name: "every channel topic equal", change: func(c *gateway.Config) {
			c.Topics.AppMention = "slack.messages"
			c.Topics.MessageChannel, c.Topics.MessageGroup = "slack.messages", "slack.messages"
			c.Topics.MessageIM, c.Topics.MessageMPIM = "slack.messages", "slack.messages"
		}},

		{name: "missing signing secrets", change: func(c *gateway.Config) { c.SigningSecrets = nil },
			wantKeys: []string{"slack.signing_secrets"}},
		{name: "missing bootstrap servers", change: func(c *gateway.Config) { c.Kafka.BootstrapServers = "" },
			wantKeys: []string{"kafka.bootstrap_servers"}},
		{name: "missing registry URL", change: func(c *gateway.Config) { c.Registry.URL = "" },
			wantKeys: []string{"registry.url"}},
		{name: "every required setting missing", change: func(c *gateway.Config) {
			c.SigningSecrets, c.Kafka.BootstrapServers, c.Registry.URL = nil, "", ""
		}, wantKeys: []string{"slack.signing_secrets", "kafka.bootstrap_servers", "registry.url"}},
		{name: "empty secret in list", change: func(c *gateway.Config) {
			c.SigningSecrets = []secret.Value{testSigningSecret, ""}
		}, wantKeys: []string{"slack.signing_secrets", "entry 2 of 2"}},
		{name: "registry URL without scheme", change: func(c *gateway.Config) { c.Registry.URL = "registry:8081" },
			wantKeys: []string{"registry.url"}},
		{name: "registry URL host only", change: func(c *gateway.Config) { c.Registry.URL = "registry.example" },
			wantKeys: []string{"registry.url"}},
		{name: "registry ftp URL", change: func(c *gateway.Config) { c.Registry.URL = "ftp://x" },
			wantKeys: []string{"registry.url"}},
		{name: "registry URL without host", change: func(c *gateway.Config) { c.Registry.URL = "http://" },
			wantKeys: []string{"registry.url"}},
		{name: "registry username without password", change: func(c *gateway.Config) { c.Registry.Username = "squarebot" },
			wantKeys: []string{"registry.password"}},
		{name: "registry password without username", change: func(c *gateway.Config) { c.Registry.Password = testRegistryPassword },
			wantKeys: []string{"registry.username"}},
		{name: "bad compatibility", change: func(c *gateway.Config) { c.Registry.Compatibility = "SOMETIMES" },
			wantKeys: []string{"registry.compatibility"}},
		{name: "registry timeout 0", change: func(c *gateway.Config) { c.Registry.Timeout = 0 },
			wantKeys: []string{"registry.timeout"}},
		{name: "ack timeout 0", change: func(c *gateway.Config) { c.AckTimeout = 0 },
			wantKeys: []string{"kafka.ack_timeout"}},
		{name: "ack timeout 3s", change: func(c *gateway.Config) { c.AckTimeout = 3 * time.Second },
			wantKeys: []string{"kafka.ack_timeout"}},
		{name: "path prefix without leading slash", change: func(c *gateway.Config) { c.HTTP.PathPrefix = "squarebot" },
			wantKeys: []string{"http.path_prefix"}},
		{name: "path prefix with trailing slash", change: func(c *gateway.Config) { c.HTTP.PathPrefix = "/squarebot/" },
			wantKeys: []string{"http.path_prefix"}},
		{name: "path prefix slash only", change: func(c *gateway.Config) { c.HTTP.PathPrefix = "/" },
			wantKeys: []string{"http.path_prefix"}},
		{name: "path prefix with query", change: func(c *gateway.Config) { c.HTTP.PathPrefix = "/squarebot?x=1" },
			wantKeys: []string{"http.path_prefix"}},
		{name: "max body below 64 KiB", change: func(c *gateway.Config) { c.HTTP.MaxBodyBytes = 64<<10 - 1 },
			wantKeys: []string{"http.max_body_bytes"}},
		{name: "max in flight 0", change: func(c *gateway.Config) { c.HTTP.MaxInFlight = 0 },
			wantKeys: []string{"http.max_in_flight"}},
		{name: "read timeout 0", change: func(c *gateway.Config) { c.HTTP.ReadTimeout = 0 },
			wantKeys: []string{"http.read_timeout"}},
		{name: "http addr without port", change: func(c *gateway.Config) { c.HTTP.Addr = "127.0.0.1" },
			wantKeys: []string{"http.addr"}},
		{name: "admin addr without port", change: func(c *gateway.Config) { c.Admin.Addr = "localhost" },
			wantKeys: []string{"admin.addr"}},
		{name: "http addr equal to admin addr", change: func(c *gateway.Config) {
			c.HTTP.Addr, c.Admin.Addr = ":9000", ":9000"
		}, wantKeys: []string{"http.addr", "admin.addr"}},
		{name: "invalid topic name", change: func(c *gateway.Config) { c.Topics.MessageIM = "bad topic!" },
			wantKeys: []string{"topics.message_im"}},
		{name: "empty topic name", change: func(c *gateway.Config) { c.Topics.AppMention = "" },
			wantKeys: []string{"topics.app_mention"}},
		{name: "topic name dot dot", change: func(c *gateway.Config) { c.Topics.Interaction = ".." },
			wantKeys: []string{"topics.interaction"}},
		{name: "topic name 250 characters", change: func(c *gateway.Config) {
			c.Topics.MessageMPIM = strings.Repeat("a", 250)
		}, wantKeys: []string{"topics.message_mpim"}},
		{name: "interaction topic equal to a message topic", change: func(c *gateway.Config) {
			c.Topics.Interaction = c.Topics.MessageGroup
		}, wantKeys: []string{"topics.interaction", "topics.message_group"}},
		{name: "negative dedup window", change: func(c *gateway.Config) { c.DedupWindow = -time.Minute },
			wantKeys: []string{"dedup.window"}},
		{name: "dedup window without max events", change: func(c *gateway.Config) { c.DedupMaxEvents = 0 },
			wantKeys: []string{"dedup.max_events"}},
		{name: "shutdown timeout 0", change: func(c *gateway.Config) { c.ShutdownTimeout = 0 },
			wantKeys: []string{"shutdown_timeout"}},
		{name: "invalid Kafka setting", change: func(c *gateway.Config) { c.Kafka.Compression = "brotli" },
			wantKeys: []string{"kafka.compression"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			config := validConfig()
			tc.change(&config)

			err := config.Validate()

			if len(tc.wantKeys) == 0 {
				if err != nil {
					t.Errorf("Validate() = %v, want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate() = nil, want an error naming %v", tc.wantKeys)
			}
			for _, key := range tc.wantKeys {
				if !strings.Contains(err.Error(), key) {
					t.Errorf("Validate() = %q, want it to name %s", err, key)
				}
			}
		})
	}
}

func TestConfigValidateHidesSecrets(t *testing.T) {
	tests := []struct {
		name   string
		change func(*gateway.Config)
	}{
		{name: "secrets with other errors", change: func(c *gateway.Config) {
			c.Kafka.BootstrapServers = "kafka://broker:9092"
			c.Registry.URL = "ftp://x"
			c.AckTimeout = 0
		}},
		{name: "one secret empty", change: func(c *gateway.Config) {
			c.SigningSecrets = []secret.Value{testSigningSecret, ""}
		}},
		{name: "SASL without username", change: func(c *gateway.Config) {
			c.Kafka.SASLUsername = ""
		}},
		{name: "registry password without username", change: func(c *gateway.Config) {
			c.Registry.Username = ""
		}},
		{name: "bad SASL mechanism", change: func(c *gateway.Config) {
			c.Kafka.SASLMechanism = "GSSAPI"
		}},
		{name: "registry URL with the password", change: func(c *gateway.Config) {
			c.Registry.URL = "ftp://squarebot:" + testRegistryPassword + "@registry:8081"
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			config := validConfig()
			config.Kafka.SecurityProtocol = kafka.ProtocolSASLSSL
			config.Kafka.SASLUsername = "squarebot"
			config.Kafka.SASLPassword = testSASLPassword
			config.Registry.Username = "squarebot"
			config.Registry.Password = testRegistryPassword
			tc.change(&config)

			err := config.Validate()

			if err == nil {
				t.Fatal("Validate() = nil, want an error")
			}
			for _, value := range []string{testSigningSecret, testSASLPassword, testRegistryPassword} {
				if strings.Contains(err.Error(), value) {
					t.Errorf("Validate() = %q, which contains the secret %q", err, value)
				}
			}
		})
	}
}
