package kafka_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	ckafka "github.com/confluentinc/confluent-kafka-go/v2/kafka"

	"github.com/lsst-sqre/squarebot/pkg/kafka"
	"github.com/lsst-sqre/squarebot/pkg/secret"
)

// testPassword is a SASL password that must never appear in printed output.
const testPassword = "sasl-pa55word-for-tests"

func TestConfigDefaults(t *testing.T) {
	config := kafka.Config{BootstrapServers: "127.0.0.1:9092"}

	config.Defaults()

	want := kafka.Config{
		BootstrapServers:   "127.0.0.1:9092",
		ClientID:           "squarebot",
		SecurityProtocol:   kafka.ProtocolPlaintext,
		SASLMechanism:      kafka.MechanismSCRAMSHA512,
		Linger:             0,
		MessageMaxBytes:    1000000,
		BatchMaxMessages:   10000,
		Compression:        "none",
		DeliveryTimeout:    time.Minute,
		QueueMaxMessages:   100000,
		StatisticsInterval: 15 * time.Second,
	}
	if config != want {
		t.Errorf("after Defaults:\n got %+v\nwant %+v", config, want)
	}
}

func TestConfigDefaultsKeepSetValues(t *testing.T) {
	config := kafka.Config{
		BootstrapServers:   "broker:9093",
		ClientID:           "custom",
		SecurityProtocol:   kafka.ProtocolSASLSSL,
		SASLMechanism:      kafka.MechanismPlain,
		Linger:             5 * time.Millisecond,
		MessageMaxBytes:    4 << 20,
		BatchMaxMessages:   10,
		Compression:        "zstd",
		DeliveryTimeout:    30 * time.Second,
		QueueMaxMessages:   50,
		StatisticsInterval: 5 * time.Second,
	}
	want := config

	config.Defaults()

	if config != want {
		t.Errorf("Defaults changed set values:\n got %+v\nwant %+v", config, want)
	}
}

// validConfig returns a configuration that passes Validate.
func validConfig() kafka.Config {
	config := kafka.Config{BootstrapServers: "127.0.0.1:9092"}
	config.Defaults()
	return config
}

// writeFile creates a file with placeholder PEM content in a temporary
// folder and returns its path. Validate only checks that the file exists.
func writeFile(t *testing.T, name string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte("-----BEGIN CERTIFICATE-----\n"), 0o600); err != nil {
		t.Fatalf("writing %s: %v", path, err)
	}
	return path
}

func TestConfigValidate(t *testing.T) {
	caFile := writeFile(t, "ca.crt")
	certFile := writeFile(t, "user.crt")
	keyFile := writeFile(t, "user.key")
	missingFile := filepath.Join(t.TempDir(), "missing-ca.crt")

	tests := []struct {
		name   string
		change func(*kafka.Config)
		// wantKeys are the configuration keys the error must name. An
		// empty list means Validate must return nil.
		wantKeys []string
	}{
		{name: "defaults", change: func(*kafka.Config) {}},
		{name: "several servers", change: func(c *kafka.Config) { c.BootstrapServers = "a:9092, b:9093,c:9094" }},
		{name: "IPv6 server", change: func(c *kafka.Config) { c.BootstrapServers = "[::1]:9092" }},
		{name: "SASL_SSL with credentials", change: func(c *kafka.Config) {
			c.SecurityProtocol, c.SASLUsername, c.SASLPassword = kafka.ProtocolSASLSSL, "squarebot", testPassword
		}},
		{name: "SASL_PLAINTEXT with SCRAM-SHA-256", change: func(c *kafka.Config) {
			c.SecurityProtocol, c.SASLMechanism = kafka.ProtocolSASLPlaintext, kafka.MechanismSCRAMSHA256
			c.SASLUsername, c.SASLPassword = "squarebot", testPassword
		}},
		{name: "SSL with CA and client certificate", change: func(c *kafka.Config) {
			c.SecurityProtocol, c.TLSCAFile, c.TLSCertFile, c.TLSKeyFile = kafka.ProtocolSSL, caFile, certFile, keyFile
		}},
		{name: "mechanism ignored without SASL", change: func(c *kafka.Config) { c.SASLMechanism = "GSSAPI" }},
		{name: "zero linger", change: func(c *kafka.Config) { c.Linger = 0 }},
		{name: "lz4 compression", change: func(c *kafka.Config) { c.Compression = "lz4" }},

		{name: "missing bootstrap servers", change: func(c *kafka.Config) { c.BootstrapServers = "" },
			wantKeys: []string{"kafka.bootstrap_servers"}},
		{name: "bootstrap servers only commas", change: func(c *kafka.Config) { c.BootstrapServers = " , " },
			wantKeys: []string{"kafka.bootstrap_servers"}},
		{name: "server with scheme", change: func(c *kafka.Config) { c.BootstrapServers = "kafka://host:9092" },
			wantKeys: []string{"kafka.bootstrap_servers"}},
		{name: "server without port", change: func(c *kafka.Config) { c.BootstrapServers = "host" },
			wantKeys: []string{"kafka.bootstrap_servers"}},
		{name: "server with empty port", change: func(c *kafka.Config) { c.BootstrapServers = "host:" },
			wantKeys: []string{"kafka.bootstrap_servers"}},
		{name: "server with non-numeric port", change: func(c *kafka.Config) { c.BootstrapServers = "host:port" },
			wantKeys: []string{"kafka.bootstrap_servers"}},
		{name: "server with port out of range", change: func(c *kafka.Config) { c.BootstrapServers = "host:70000" },
			wantKeys: []string{"kafka.bootstrap_servers"}},
		{name: "server without host", change: func(c *kafka.Config) { c.BootstrapServers = ":9092" },
			wantKeys: []string{"kafka.bootstrap_servers"}},
		{name: "second server without port", change: func(c *kafka.Config) { c.BootstrapServers = "a:9092,b" },
			wantKeys: []string{"kafka.bootstrap_servers"}},
		{name: "bad protocol", change: func(c *kafka.Config) { c.SecurityProtocol = "TLS" },
			wantKeys: []string{"kafka.security_protocol"}},
		{name: "empty protocol", change: func(c *kafka.Config) { c.SecurityProtocol = "" },
			wantKeys: []string{"kafka.security_protocol"}},
		{name: "bad mechanism", change: func(c *kafka.Config) {
			c.SecurityProtocol, c.SASLMechanism = kafka.ProtocolSASLSSL, "GSSAPI"
			c.SASLUsername, c.SASLPassword = "squarebot", testPassword
		}, wantKeys: []string{"kafka.sasl_mechanism"}},
		{name: "bad compression", change: func(c *kafka.Config) { c.Compression = "brotli" },
			wantKeys: []string{"kafka.compression"}},
		{name: "SASL without username", change: func(c *kafka.Config) {
			c.SecurityProtocol, c.SASLPassword = kafka.ProtocolSASLSSL, testPassword
		}, wantKeys: []string{"kafka.sasl_username"}},
		{name: "SASL without password", change: func(c *kafka.Config) {
			c.SecurityProtocol, c.SASLUsername = kafka.ProtocolSASLPlaintext, "squarebot"
		}, wantKeys: []string{"kafka.sasl_password"}},
		{name: "cert without key", change: func(c *kafka.Config) {
			c.SecurityProtocol, c.TLSCertFile = kafka.ProtocolSSL, certFile
		}, wantKeys: []string{"kafka.tls_key_file"}},
		{name: "key without cert", change: func(c *kafka.Config) {
			c.SecurityProtocol, c.TLSKeyFile = kafka.ProtocolSSL, keyFile
		}, wantKeys: []string{"kafka.tls_cert_file"}},
		{name: "CA file with PLAINTEXT", change: func(c *kafka.Config) { c.TLSCAFile = caFile },
			wantKeys: []string{"kafka.security_protocol"}},
		{name: "client certificate with SASL_PLAINTEXT", change: func(c *kafka.Config) {
			c.SecurityProtocol, c.SASLUsername, c.SASLPassword = kafka.ProtocolSASLPlaintext, "squarebot", testPassword
			c.TLSCertFile, c.TLSKeyFile = certFile, keyFile
		}, wantKeys: []string{"kafka.security_protocol"}},
		{name: "missing CA file", change: func(c *kafka.Config) {
			c.SecurityProtocol, c.TLSCAFile = kafka.ProtocolSSL, missingFile
		}, wantKeys: []string{"kafka.tls_ca_file", missingFile}},
		{name: "missing key file", change: func(c *kafka.Config) {
			c.SecurityProtocol, c.TLSCertFile, c.TLSKeyFile = kafka.ProtocolSSL, certFile, missingFile
		}, wantKeys: []string{"kafka.tls_key_file"}},
		{name: "negative linger", change: func(c *kafka.Config) { c.Linger = -time.Millisecond },
			wantKeys: []string{"kafka.linger"}},
		{name: "linger above 5s", change: func(c *kafka.Config) { c.Linger = 6 * time.Second },
			wantKeys: []string{"kafka.linger"}},
		{name: "message max below librdkafka's range", change: func(c *kafka.Config) { c.MessageMaxBytes = 999 },
			wantKeys: []string{"kafka.message_max_bytes"}},
		{name: "message max above librdkafka's range", change: func(c *kafka.Config) { c.MessageMaxBytes = 1000000001 },
			wantKeys: []string{"kafka.message_max_bytes"}},
		{name: "delivery timeout below 1s", change: func(c *kafka.Config) { c.DeliveryTimeout = 500 * time.Millisecond },
			wantKeys: []string{"kafka.delivery_timeout"}},
		{name: "negative statistics interval", change: func(c *kafka.Config) { c.StatisticsInterval = -time.Second },
			wantKeys: []string{"kafka.statistics_interval"}},
		{name: "statistics interval below 1ms", change: func(c *kafka.Config) { c.StatisticsInterval = 500 * time.Microsecond },
			wantKeys: []string{"kafka.statistics_interval"}},
		{name: "several problems at once", change: func(c *kafka.Config) {
			c.BootstrapServers, c.SecurityProtocol, c.Compression = "", "TLS", "brotli"
		}, wantKeys: []string{"kafka.bootstrap_servers", "kafka.security_protocol", "kafka.compression"}},
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
			if strings.Contains(err.Error(), testPassword) {
				t.Errorf("Validate() = %q, which contains the SASL password", err)
			}
		})
	}
}

// settingOf returns a librdkafka setting and whether it is present.
func settingOf(settings *ckafka.ConfigMap, key string) (ckafka.ConfigValue, bool) {
	value, ok := (*settings)[key]
	return value, ok
}

func TestConfigMapFixedSettings(t *testing.T) {
	config := validConfig()

	settings := config.ConfigMap()

	want := map[string]ckafka.ConfigValue{
		"bootstrap.servers":            "127.0.0.1:9092",
		"client.id":                    "squarebot",
		"acks":                         "all",
		"enable.idempotence":           true,
		"partitioner":                  "murmur2_random",
		"linger.ms":                    "0",
		"batch.num.messages":           10000,
		"message.max.bytes":            1000000,
		"compression.type":             "none",
		"message.timeout.ms":           60000,
		"queue.buffering.max.messages": 100000,
		"security.protocol":            "plaintext",
		"statistics.interval.ms":       15000,
		"reconnect.backoff.max.ms":     1000,
		"go.delivery.report.fields":    "none",
	}
	for key, wantValue := range want {
		value, ok := settingOf(settings, key)
		if !ok {
			t.Errorf("ConfigMap has no %s, want %v", key, wantValue)
			continue
		}
		if value != wantValue {
			t.Errorf("ConfigMap %s = %#v, want %#v", key, value, wantValue)
		}
	}
}

func TestConfigMapLinger(t *testing.T) {
	tests := []struct {
		linger time.Duration
		want   string
	}{
		{0, "0"},
		{500 * time.Microsecond, "0.5"},
		{time.Millisecond, "1"},
		{1500 * time.Microsecond, "1.5"},
		{250 * time.Millisecond, "250"},
		{5 * time.Second, "5000"},
	}
	for _, tc := range tests {
		t.Run(tc.linger.String(), func(t *testing.T) {
			config := validConfig()
			config.Linger = tc.linger

			value, _ := settingOf(config.ConfigMap(), "linger.ms")

			if value != tc.want {
				t.Errorf("linger.ms for %s = %#v, want %q", tc.linger, value, tc.want)
			}
		})
	}
}

func TestConfigMapSASL(t *testing.T) {
	saslKeys := []string{"sasl.mechanisms", "sasl.username", "sasl.password"}
	tests := []struct {
		protocol     string
		wantProtocol string
		wantSASL     bool
	}{
		{kafka.ProtocolPlaintext, "plaintext", false},
		{kafka.ProtocolSSL, "ssl", false},
		{kafka.ProtocolSASLPlaintext, "sasl_plaintext", true},
		{kafka.ProtocolSASLSSL, "sasl_ssl", true},
	}
	for _, tc := range tests {
		t.Run(tc.protocol, func(t *testing.T) {
			config := validConfig()
			config.SecurityProtocol = tc.protocol
			config.SASLMechanism = kafka.MechanismSCRAMSHA256
			config.SASLUsername = "squarebot"
			config.SASLPassword = testPassword

			settings := config.ConfigMap()

			if value, _ := settingOf(settings, "security.protocol"); value != tc.wantProtocol {
				t.Errorf("security.protocol = %#v, want %q", value, tc.wantProtocol)
			}
			for _, key := range saslKeys {
				if _, ok := settingOf(settings, key); ok != tc.wantSASL {
					t.Errorf("%s present = %t, want %t with %s", key, ok, tc.wantSASL, tc.protocol)
				}
			}
			if !tc.wantSASL {
				return
			}
			wantValues := map[string]ckafka.ConfigValue{
				"sasl.mechanisms": kafka.MechanismSCRAMSHA256,
				"sasl.username":   "squarebot",
				"sasl.password":   testPassword,
			}
			for key, want := range wantValues {
				if value, _ := settingOf(settings, key); value != want {
					t.Errorf("%s = %#v, want %#v", key, value, want)
				}
			}
		})
	}
}

func TestConfigMapTLSFiles(t *testing.T) {
	tlsKeys := []string{"ssl.ca.location", "ssl.certificate.location", "ssl.key.location"}
	tests := []struct {
		name                  string
		caFile, cert, keyFile string
		want                  map[string]string
	}{
		{name: "no files", want: map[string]string{}},
		{name: "CA only", caFile: "/etc/kafka/ca.crt",
			want: map[string]string{"ssl.ca.location": "/etc/kafka/ca.crt"}},
		{name: "client certificate only", cert: "/etc/kafka/user.crt", keyFile: "/etc/kafka/user.key",
			want: map[string]string{"ssl.certificate.location": "/etc/kafka/user.crt", "ssl.key.location": "/etc/kafka/user.key"}},
		{name: "all files", caFile: "/etc/kafka/ca.crt", cert: "/etc/kafka/user.crt", keyFile: "/etc/kafka/user.key",
			want: map[string]string{
				"ssl.ca.location":          "/etc/kafka/ca.crt",
				"ssl.certificate.location": "/etc/kafka/user.crt",
				"ssl.key.location":         "/etc/kafka/user.key",
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			config := validConfig()
			config.SecurityProtocol = kafka.ProtocolSSL
			config.TLSCAFile, config.TLSCertFile, config.TLSKeyFile = tc.caFile, tc.cert, tc.keyFile

			settings := config.ConfigMap()

			for _, key := range tlsKeys {
				value, ok := settingOf(settings, key)
				want, wantOK := tc.want[key]
				if ok != wantOK {
					t.Errorf("%s present = %t, want %t", key, ok, wantOK)
					continue
				}
				if ok && value != want {
					t.Errorf("%s = %#v, want %q", key, value, want)
				}
			}
		})
	}
}

func TestConsumerConfigMap(t *testing.T) {
	tests := []struct {
		fromBeginning bool
		wantReset     string
	}{
		{false, "latest"},
		{true, "earliest"},
	}
	for _, tc := range tests {
		t.Run(tc.wantReset, func(t *testing.T) {
			config := validConfig()
			config.SecurityProtocol = kafka.ProtocolSASLSSL
			config.SASLUsername = "squarebot"
			config.SASLPassword = testPassword
			config.TLSCAFile = "/etc/kafka/ca.crt"

			settings := config.ConsumerConfigMap("squarebot-tail-1", tc.fromBeginning)

			want := map[string]ckafka.ConfigValue{
				"bootstrap.servers":  "127.0.0.1:9092",
				"client.id":          "squarebot",
				"group.id":           "squarebot-tail-1",
				"enable.auto.commit": false,
				"auto.offset.reset":  tc.wantReset,
				"security.protocol":  "sasl_ssl",
				"sasl.username":      "squarebot",
				"sasl.password":      testPassword,
				"ssl.ca.location":    "/etc/kafka/ca.crt",
			}
			for key, wantValue := range want {
				if value, ok := settingOf(settings, key); !ok || value != wantValue {
					t.Errorf("%s = %#v (present %t), want %#v", key, value, ok, wantValue)
				}
			}
			for _, key := range []string{"acks", "enable.idempotence", "partitioner", "linger.ms"} {
				if value, ok := settingOf(settings, key); ok {
					t.Errorf("consumer setting %s = %#v, want no producer setting", key, value)
				}
			}
		})
	}
}

func TestConfigMapDebug(t *testing.T) {
	config := validConfig()
	withoutDebug := config.ConfigMap()
	config.Debug = "broker,msg"

	withDebug := config.ConfigMap()

	if _, ok := settingOf(withoutDebug, "debug"); ok {
		t.Error("debug is set with an empty Debug, want it absent")
	}
	if value, _ := settingOf(withDebug, "debug"); value != "broker,msg" {
		t.Errorf("debug = %#v, want \"broker,msg\"", value)
	}
}

func TestConfigPrintHidesPassword(t *testing.T) {
	config := validConfig()
	config.SecurityProtocol = kafka.ProtocolSASLSSL
	config.SASLUsername = "squarebot"
	config.SASLPassword = secret.Value(testPassword)
	encoded, err := json.Marshal(config)
	if err != nil {
		t.Fatalf("json.Marshal: %v", err)
	}

	printed := map[string]string{
		"Sprint":         fmt.Sprint(config),
		"Sprint pointer": fmt.Sprint(&config),
		"%+v":            fmt.Sprintf("%+v", config),
		"%#v":            fmt.Sprintf("%#v", config),
		"JSON":           string(encoded),
	}

	for form, text := range printed {
		if strings.Contains(text, testPassword) {
			t.Errorf("%s of a Config contains the SASL password: %s", form, text)
		}
		if !strings.Contains(text, "squarebot") {
			t.Errorf("%s of a Config = %s, want it to show the other fields", form, text)
		}
	}
}
