package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lsst-sqre/squarebot/pkg/secret"
	"github.com/lsst-sqre/squarebot/pkg/slack"
)

// Fixtures shared with the other packages' tests.
var (
	eventFixture       = filepath.Join("..", "..", "test", "testdata", "slack", "events", "message_im.json")
	interactionFixture = filepath.Join("..", "..", "test", "testdata", "slack", "interactions", "shortcut_global.json")
)

// clearEnv sets the variable of every setting to "" for the test, so the
// environment of the machine that runs the tests cannot change the result.
// Viper treats an empty variable as unset.
func clearEnv(t *testing.T) {
	t.Helper()
	for _, s := range settings {
		t.Setenv(envName(s.key), "")
	}
}

// execute calls run with args and returns the exit code and both outputs.
func execute(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(args, &out, &errOut)
	return code, out.String(), errOut.String()
}

// writeTemp writes content to a new file in a temporary folder and
// returns its path.
func writeTemp(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatalf("writing %s: %v", path, err)
	}
	return path
}

func TestRunVersion(t *testing.T) {
	code, stdout, stderr := execute(t, "version")

	if code != 0 {
		t.Errorf("exit code = %d, want 0; stderr: %s", code, stderr)
	}
	if !strings.HasPrefix(stdout, "squarebot dev ") {
		t.Errorf("stdout = %q, want it to start with \"squarebot dev \"", stdout)
	}
}

func TestRunUsageErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
	}{
		{"unknown root flag", []string{"--no-such-flag"}},
		{"unknown version flag", []string{"version", "--no-such-flag"}},
		{"unknown serve flag", []string{"serve", "--no-such-flag"}},
		{"unknown send flag", []string{"send", "--no-such-flag", eventFixture}},
		{"bad duration flag", []string{"send", "--timeout", "soon", eventFixture}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			clearEnv(t)

			code, _, stderr := execute(t, tc.args...)

			if code != 2 {
				t.Errorf("exit code of %v = %d, want 2; stderr: %s", tc.args, code, stderr)
			}
			if !strings.Contains(stderr, "Error:") {
				t.Errorf("stderr = %q, want an Error: line", stderr)
			}
		})
	}
}

func TestServeMissingSettings(t *testing.T) {
	clearEnv(t)
	t.Setenv("SQUAREBOT_SLACK_SIGNING_SECRETS", "")
	t.Setenv("SQUAREBOT_KAFKA_BOOTSTRAP_SERVERS", "")
	t.Setenv("SQUAREBOT_REGISTRY_URL", "")

	code, _, stderr := execute(t, "serve")

	if code != 1 {
		t.Errorf("exit code = %d, want 1", code)
	}
	for _, key := range []string{"slack.signing_secrets", "kafka.bootstrap_servers", "registry.url"} {
		if !strings.Contains(stderr, key) {
			t.Errorf("stderr = %q, want it to name %s", stderr, key)
		}
	}
}

func TestServeUnknownConfigKey(t *testing.T) {
	clearEnv(t)
	path := writeTemp(t, "squarebot.yaml", "kafka:\n  bootstrap_sever: 127.0.0.1:9092\nslack:\n  signing_secrets: [x]\n")

	code, _, stderr := execute(t, "serve", "--config", path)

	if code != 1 {
		t.Errorf("exit code = %d, want 1", code)
	}
	if !strings.Contains(stderr, "kafka.bootstrap_sever") {
		t.Errorf("stderr = %q, want it to name the unknown key kafka.bootstrap_sever", stderr)
	}
	if strings.Contains(stderr, "slack.signing_secrets") {
		t.Errorf("stderr = %q, want only the unknown key named, not slack.signing_secrets", stderr)
	}
}

func TestServeMissingConfigFile(t *testing.T) {
	clearEnv(t)
	path := filepath.Join(t.TempDir(), "absent.yaml")

	code, _, stderr := execute(t, "serve", "--config", path)

	if code != 1 {
		t.Errorf("exit code = %d, want 1", code)
	}
	if !strings.Contains(stderr, path) {
		t.Errorf("stderr = %q, want it to name %s", stderr, path)
	}
}

func TestLoadConfigEnvironment(t *testing.T) {
	clearEnv(t)
	t.Setenv("SQUAREBOT_SLACK_SIGNING_SECRETS", "a, b")
	t.Setenv("SQUAREBOT_TOPICS_INTERACTION", "custom.interaction")
	t.Setenv("SQUAREBOT_KAFKA_ACK_TIMEOUT", "1500ms")
	t.Setenv("SQUAREBOT_HTTP_PATH_PREFIX", "/squarebot")
	t.Setenv("SQUAREBOT_KAFKA_SECURITY_PROTOCOL", "sasl_ssl")
	t.Setenv("SQUAREBOT_REGISTRY_REGISTER_SCHEMAS", "false")
	v, err := newViper("")
	if err != nil {
		t.Fatalf("newViper: %v", err)
	}

	config, err := loadConfig(v)

	if err != nil {
		t.Fatalf("loadConfig: %v", err)
	}
	if want := []secret.Value{"a", "b"}; !slices.Equal(config.SigningSecrets, want) {
		t.Errorf("SigningSecrets = %q, want %q", revealAll(config.SigningSecrets), revealAll(want))
	}
	if config.Topics.Interaction != "custom.interaction" {
		t.Errorf("Topics.Interaction = %q, want custom.interaction", config.Topics.Interaction)
	}
	if config.Topics.MessageIM != "lsst.square-events.squarebot.slack.message.im" {
		t.Errorf("Topics.MessageIM = %q, want the default", config.Topics.MessageIM)
	}
	if config.AckTimeout != 1500*time.Millisecond {
		t.Errorf("AckTimeout = %s, want 1.5s", config.AckTimeout)
	}
	if config.HTTP.PathPrefix != "/squarebot" {
		t.Errorf("HTTP.PathPrefix = %q, want /squarebot", config.HTTP.PathPrefix)
	}
	if config.Kafka.SecurityProtocol != "SASL_SSL" {
		t.Errorf("Kafka.SecurityProtocol = %q, want SASL_SSL", config.Kafka.SecurityProtocol)
	}
	if config.Registry.RegisterSchemas {
		t.Error("Registry.RegisterSchemas = true, want false")
	}
}

func revealAll(values []secret.Value) []string {
	revealed := make([]string, 0, len(values))
	for _, value := range values {
		revealed = append(revealed, value.Reveal())
	}
	return revealed
}

func TestLoadConfigDefaults(t *testing.T) {
	clearEnv(t)
	v, err := newViper("")
	if err != nil {
		t.Fatalf("newViper: %v", err)
	}

	config, err := loadConfig(v)

	if err != nil {
		t.Fatalf("loadConfig: %v", err)
	}
	if len(config.SigningSecrets) != 0 {
		t.Errorf("SigningSecrets = %q, want none", revealAll(config.SigningSecrets))
	}
	if config.AckTimeout != 2*time.Second {
		t.Errorf("AckTimeout = %s, want 2s", config.AckTimeout)
	}
	if config.Kafka.Linger != time.Millisecond {
		t.Errorf("Kafka.Linger = %s, want 1ms", config.Kafka.Linger)
	}
	if config.Registry.Compatibility != "FORWARD_TRANSITIVE" {
		t.Errorf("Registry.Compatibility = %q, want FORWARD_TRANSITIVE", config.Registry.Compatibility)
	}
	if !config.Registry.RegisterSchemas {
		t.Error("Registry.RegisterSchemas = false, want true")
	}
	if config.HTTP.Addr != ":8080" || config.Admin.Addr != ":9090" {
		t.Errorf("HTTP.Addr, Admin.Addr = %q, %q, want :8080, :9090", config.HTTP.Addr, config.Admin.Addr)
	}
}

func TestLoadConfigYAML(t *testing.T) {
	clearEnv(t)
	path := writeTemp(t, "squarebot.yaml", strings.Join([]string{
		"slack: {signing_secrets: [x, y]}",
		"kafka:",
		"  ack_timeout: 750ms",
		"  bootstrap_servers: 127.0.0.1:9092",
		"registry:",
		"  compatibility: full",
		"",
	}, "\n"))
	v, err := newViper(path)
	if err != nil {
		t.Fatalf("newViper: %v", err)
	}

	config, err := loadConfig(v)

	if err != nil {
		t.Fatalf("loadConfig: %v", err)
	}
	if want := []secret.Value{"x", "y"}; !slices.Equal(config.SigningSecrets, want) {
		t.Errorf("SigningSecrets = %q, want %q", revealAll(config.SigningSecrets), revealAll(want))
	}
	if config.AckTimeout != 750*time.Millisecond {
		t.Errorf("AckTimeout = %s, want 750ms", config.AckTimeout)
	}
	if config.Kafka.BootstrapServers != "127.0.0.1:9092" {
		t.Errorf("Kafka.BootstrapServers = %q, want 127.0.0.1:9092", config.Kafka.BootstrapServers)
	}
	if config.Registry.Compatibility != "FULL" {
		t.Errorf("Registry.Compatibility = %q, want FULL", config.Registry.Compatibility)
	}
}

func TestLoadConfigEnvironmentOverridesYAML(t *testing.T) {
	clearEnv(t)
	path := writeTemp(t, "squarebot.yaml", "kafka:\n  ack_timeout: 750ms\n")
	t.Setenv("SQUAREBOT_KAFKA_ACK_TIMEOUT", "1s")
	v, err := newViper(path)
	if err != nil {
		t.Fatalf("newViper: %v", err)
	}

	config, err := loadConfig(v)

	if err != nil {
		t.Fatalf("loadConfig: %v", err)
	}
	if config.AckTimeout != time.Second {
		t.Errorf("AckTimeout = %s, want 1s from the environment", config.AckTimeout)
	}
}

func TestLoadConfigSecretFiles(t *testing.T) {
	clearEnv(t)
	t.Setenv("SQUAREBOT_SLACK_SIGNING_SECRETS", "a")
	t.Setenv("SQUAREBOT_SLACK_SIGNING_SECRETS_FILE", writeTemp(t, "signing", "  one \n\n\ttwo\n"))
	t.Setenv("SQUAREBOT_KAFKA_SASL_PASSWORD_FILE", writeTemp(t, "sasl", "  sasl-from-file \n"))
	t.Setenv("SQUAREBOT_REGISTRY_PASSWORD_FILE", writeTemp(t, "registry", "registry-from-file\r\n"))
	v, err := newViper("")
	if err != nil {
		t.Fatalf("newViper: %v", err)
	}

	config, err := loadConfig(v)

	if err != nil {
		t.Fatalf("loadConfig: %v", err)
	}
	if want := []secret.Value{"a", "one", "two"}; !slices.Equal(config.SigningSecrets, want) {
		t.Errorf("SigningSecrets = %q, want %q", revealAll(config.SigningSecrets), revealAll(want))
	}
	if got := config.Kafka.SASLPassword.Reveal(); got != "sasl-from-file" {
		t.Errorf("Kafka.SASLPassword = %q, want sasl-from-file", got)
	}
	if got := config.Registry.Password.Reveal(); got != "registry-from-file" {
		t.Errorf("Registry.Password = %q, want registry-from-file", got)
	}
}

func TestLoadConfigMissingSecretFiles(t *testing.T) {
	tests := []struct {
		variable string
		key      string
	}{
		{"SQUAREBOT_SLACK_SIGNING_SECRETS_FILE", "slack.signing_secrets_file"},
		{"SQUAREBOT_KAFKA_SASL_PASSWORD_FILE", "kafka.sasl_password_file"},
		{"SQUAREBOT_REGISTRY_PASSWORD_FILE", "registry.password_file"},
	}
	for _, tc := range tests {
		t.Run(tc.key, func(t *testing.T) {
			clearEnv(t)
			t.Setenv(tc.variable, filepath.Join(t.TempDir(), "absent"))
			v, err := newViper("")
			if err != nil {
				t.Fatalf("newViper: %v", err)
			}

			_, err = loadConfig(v)

			if err == nil {
				t.Fatalf("loadConfig with a missing %s = nil, want an error", tc.key)
			}
			if !strings.Contains(err.Error(), tc.key) {
				t.Errorf("loadConfig error = %q, want it to name %s", err, tc.key)
			}
		})
	}
}

func TestLoadConfigBadDuration(t *testing.T) {
	tests := []struct {
		key   string
		value string
	}{
		{"kafka.ack_timeout", "soon"},
		{"kafka.linger", "1"},
		{"http.read_timeout", "10 seconds"},
		{"shutdown_timeout", "-"},
	}
	for _, tc := range tests {
		t.Run(tc.key, func(t *testing.T) {
			clearEnv(t)
			t.Setenv(envName(tc.key), tc.value)
			v, err := newViper("")
			if err != nil {
				t.Fatalf("newViper: %v", err)
			}

			_, err = loadConfig(v)

			if err == nil {
				t.Fatalf("loadConfig with %s=%q = nil, want an error", envName(tc.key), tc.value)
			}
			if !strings.Contains(err.Error(), tc.key) {
				t.Errorf("loadConfig error = %q, want it to name %s", err, tc.key)
			}
		})
	}
}

func TestLoadConfigNumericDurationInYAML(t *testing.T) {
	clearEnv(t)
	path := writeTemp(t, "squarebot.yaml", "kafka:\n  ack_timeout: 2\n")
	v, err := newViper(path)
	if err != nil {
		t.Fatalf("newViper: %v", err)
	}

	_, err = loadConfig(v)

	if err == nil {
		t.Fatal("loadConfig with kafka.ack_timeout: 2 = nil, want an error")
	}
	if !strings.Contains(err.Error(), "kafka.ack_timeout") {
		t.Errorf("loadConfig error = %q, want it to name kafka.ack_timeout", err)
	}
}

// TestLoadConfigBadScalar checks that a number or boolean that does not
// parse is reported by key, as a bad duration is, instead of becoming the
// zero value.
func TestLoadConfigBadScalar(t *testing.T) {
	tests := []struct {
		key   string
		value string
	}{
		{"registry.register_schemas", "yes"},
		{"kafka.batch_max_messages", "10k"},
		{"http.max_header_bytes", "64KiB"},
	}
	for _, tc := range tests {
		t.Run(tc.key, func(t *testing.T) {
			clearEnv(t)
			t.Setenv(envName(tc.key), tc.value)
			v, err := newViper("")
			if err != nil {
				t.Fatalf("newViper: %v", err)
			}

			_, err = loadConfig(v)

			if err == nil {
				t.Fatalf("loadConfig with %s=%q = nil, want an error naming %s", envName(tc.key), tc.value, tc.key)
			}
			if !strings.Contains(err.Error(), tc.key) {
				t.Errorf("loadConfig error = %q, want it to name %s", err, tc.key)
			}
		})
	}
}

func TestHelpHidesSecrets(t *testing.T) {
	secrets := map[string]string{
		"SQUAREBOT_SLACK_SIGNING_SECRETS": "topsecret-value-123",
		"SQUAREBOT_KAFKA_SASL_PASSWORD":   "sasl-value-456",
		"SQUAREBOT_REGISTRY_PASSWORD":     "registry-value-789",
	}
	commands := [][]string{
		{"serve", "--help"}, {"dev", "--help"}, {"send", "--help"},
		{"schemas", "--help"}, {"tail", "--help"}, {"--help"},
	}
	for _, args := range commands {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			clearEnv(t)
			for variable, value := range secrets {
				t.Setenv(variable, value)
			}

			code, stdout, stderr := execute(t, args...)

			if code != 0 {
				t.Errorf("exit code = %d, want 0; stderr: %s", code, stderr)
			}
			if !strings.Contains(stdout, "Usage:") {
				t.Errorf("stdout = %q, want the usage text", stdout)
			}
			for variable, value := range secrets {
				if strings.Contains(stdout+stderr, value) {
					t.Errorf("help output contains the value of %s", variable)
				}
			}
		})
	}
}

// receivedRequest is what the test Slack receiver recorded of one request.
type receivedRequest struct {
	path        string
	contentType string
	header      http.Header
	body        []byte
	verifyErr   error
}

// newReceiver starts a loopback HTTP server that records each request and
// checks its Slack signature against signingSecret. It responds with 401
// to a request that fails verification and with 200 "ok" to any other.
func newReceiver(t *testing.T, signingSecret string) (*httptest.Server, <-chan receivedRequest) {
	t.Helper()
	verifier, err := slack.NewVerifier([]secret.Value{secret.Value(signingSecret)})
	if err != nil {
		t.Fatalf("NewVerifier: %v", err)
	}
	requests := make(chan receivedRequest, 8)
	server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, "reading body", http.StatusBadRequest)
			return
		}
		verifyErr := verifier.Verify(r.Header, body)
		requests <- receivedRequest{
			path:        r.URL.Path,
			contentType: r.Header.Get("Content-Type"),
			header:      r.Header.Clone(),
			body:        body,
			verifyErr:   verifyErr,
		}
		if verifyErr != nil {
			http.Error(w, "invalid signature", http.StatusUnauthorized)
			return
		}
		_, _ = io.WriteString(w, "ok")
	}))
	t.Cleanup(server.Close)
	return server, requests
}

// receive returns the one request the receiver recorded.
func receive(t *testing.T, requests <-chan receivedRequest) receivedRequest {
	t.Helper()
	select {
	case request := <-requests:
		return request
	default:
		t.Fatal("the receiver got no request")
		return receivedRequest{}
	}
}

func TestSendWithoutSecret(t *testing.T) {
	clearEnv(t)

	code, _, stderr := execute(t, "send", eventFixture)

	if code != 2 {
		t.Errorf("exit code = %d, want 2", code)
	}
	if !strings.Contains(stderr, "--secret") {
		t.Errorf("stderr = %q, want it to name --secret", stderr)
	}
}

func TestSendEvent(t *testing.T) {
	clearEnv(t)
	server, requests := newReceiver(t, "send-secret")
	want, err := os.ReadFile(eventFixture)
	if err != nil {
		t.Fatalf("reading %s: %v", eventFixture, err)
	}

	code, stdout, stderr := execute(t, "send", "--url", server.URL, "--secret", "send-secret", eventFixture)

	if code != 0 {
		t.Fatalf("exit code = %d, want 0; stdout: %s stderr: %s", code, stdout, stderr)
	}
	request := receive(t, requests)
	if request.verifyErr != nil {
		t.Errorf("signature verification = %v, want nil", request.verifyErr)
	}
	if request.path != "/slack/event" {
		t.Errorf("path = %q, want /slack/event", request.path)
	}
	if request.contentType != "application/json" {
		t.Errorf("Content-Type = %q, want application/json", request.contentType)
	}
	if !bytes.Equal(request.body, want) {
		t.Errorf("body differs from %s:\n got %q\nwant %q", eventFixture, request.body, want)
	}
	if got := request.header.Values("X-Slack-Retry-Num"); len(got) != 0 {
		t.Errorf("X-Slack-Retry-Num = %q, want no header without --retry-num", got)
	}
	if !strings.Contains(stdout, "POST /slack/event -> 200 OK") {
		t.Errorf("stdout = %q, want the status line POST /slack/event -> 200 OK", stdout)
	}
}

func TestSendInteraction(t *testing.T) {
	clearEnv(t)
	server, requests := newReceiver(t, "send-secret")
	raw, err := os.ReadFile(interactionFixture)
	if err != nil {
		t.Fatalf("reading %s: %v", interactionFixture, err)
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, raw); err != nil {
		t.Fatalf("compacting %s: %v", interactionFixture, err)
	}

	code, stdout, stderr := execute(t, "send", "--url", server.URL+"/", "--secret", "send-secret", interactionFixture)

	if code != 0 {
		t.Fatalf("exit code = %d, want 0; stdout: %s stderr: %s", code, stdout, stderr)
	}
	request := receive(t, requests)
	if request.verifyErr != nil {
		t.Errorf("signature verification = %v, want nil", request.verifyErr)
	}
	if request.path != "/slack/interaction" {
		t.Errorf("path = %q, want /slack/interaction", request.path)
	}
	if request.contentType != "application/x-www-form-urlencoded" {
		t.Errorf("Content-Type = %q, want application/x-www-form-urlencoded", request.contentType)
	}
	form, err := url.ParseQuery(string(request.body))
	if err != nil {
		t.Fatalf("parsing the form body %q: %v", request.body, err)
	}
	if len(form) != 1 {
		t.Errorf("form fields = %v, want only payload", form)
	}
	if got := form.Get("payload"); got != compact.String() {
		t.Errorf("payload field:\n got %q\nwant %q", got, compact.String())
	}
	if !strings.Contains(stdout, "POST /slack/interaction -> 200 OK") {
		t.Errorf("stdout = %q, want the status line POST /slack/interaction -> 200 OK", stdout)
	}
}

func TestSendPathPrefix(t *testing.T) {
	clearEnv(t)
	server, requests := newReceiver(t, "send-secret")

	code, _, stderr := execute(t, "send", "--url", server.URL+"/squarebot/", "--secret", "send-secret", eventFixture)

	if code != 0 {
		t.Fatalf("exit code = %d, want 0; stderr: %s", code, stderr)
	}
	if request := receive(t, requests); request.path != "/squarebot/slack/event" {
		t.Errorf("path = %q, want /squarebot/slack/event", request.path)
	}
}

func TestSendRetryHeaders(t *testing.T) {
	clearEnv(t)
	server, requests := newReceiver(t, "send-secret")

	code, _, stderr := execute(t, "send", "--url", server.URL, "--secret", "send-secret",
		"--retry-num", "2", "--retry-reason", "http_timeout", eventFixture)

	if code != 0 {
		t.Fatalf("exit code = %d, want 0; stderr: %s", code, stderr)
	}
	request := receive(t, requests)
	if got := request.header.Get("X-Slack-Retry-Num"); got != "2" {
		t.Errorf("X-Slack-Retry-Num = %q, want 2", got)
	}
	if got := request.header.Get("X-Slack-Retry-Reason"); got != "http_timeout" {
		t.Errorf("X-Slack-Retry-Reason = %q, want http_timeout", got)
	}
	if request.verifyErr != nil {
		t.Errorf("signature verification = %v, want nil", request.verifyErr)
	}
}

func TestSendSecretFromEnvironment(t *testing.T) {
	clearEnv(t)
	t.Setenv("SQUAREBOT_SLACK_SIGNING_SECRETS", " first-secret , second-secret")
	server, requests := newReceiver(t, "first-secret")

	code, _, stderr := execute(t, "send", "--url", server.URL, eventFixture)

	if code != 0 {
		t.Fatalf("exit code = %d, want 0; stderr: %s", code, stderr)
	}
	if request := receive(t, requests); request.verifyErr != nil {
		t.Errorf("signature verification with the first secret = %v, want nil", request.verifyErr)
	}
}

func TestSendSkipsEmptySecretEntry(t *testing.T) {
	clearEnv(t)
	t.Setenv("SQUAREBOT_SLACK_SIGNING_SECRETS", ", second-secret")
	server, requests := newReceiver(t, "second-secret")

	code, _, stderr := execute(t, "send", "--url", server.URL, eventFixture)

	if code != 0 {
		t.Fatalf("exit code = %d, want 0; stderr: %s", code, stderr)
	}
	if request := receive(t, requests); request.verifyErr != nil {
		t.Errorf("signature verification with the second secret = %v, want nil", request.verifyErr)
	}
}

func TestSendRejected(t *testing.T) {
	clearEnv(t)
	server, requests := newReceiver(t, "server-secret")

	code, stdout, stderr := execute(t, "send", "--url", server.URL, "--secret", "other-secret", eventFixture)

	if code != 1 {
		t.Errorf("exit code = %d, want 1", code)
	}
	if request := receive(t, requests); request.verifyErr == nil {
		t.Error("the receiver verified a request signed with the wrong secret")
	}
	if !strings.Contains(stdout, "401 Unauthorized") {
		t.Errorf("stdout = %q, want the 401 status line", stdout)
	}
	if !strings.Contains(stderr, "401") {
		t.Errorf("stderr = %q, want the error to name the 401 status", stderr)
	}
}

func TestSendBadKind(t *testing.T) {
	clearEnv(t)
	server, requests := newReceiver(t, "send-secret")

	code, _, stderr := execute(t, "send", "--url", server.URL, "--secret", "send-secret", "--kind", "command", eventFixture)

	if code != 2 {
		t.Errorf("exit code = %d, want 2", code)
	}
	if !strings.Contains(stderr, "--kind") {
		t.Errorf("stderr = %q, want it to name --kind", stderr)
	}
	if len(requests) != 0 {
		t.Errorf("the receiver got %d requests, want none", len(requests))
	}
}

func TestSendMissingFile(t *testing.T) {
	clearEnv(t)
	server, requests := newReceiver(t, "send-secret")
	path := filepath.Join(t.TempDir(), "absent.json")

	code, _, stderr := execute(t, "send", "--url", server.URL, "--secret", "send-secret", path)

	if code != 1 {
		t.Errorf("exit code = %d, want 1", code)
	}
	if !strings.Contains(stderr, path) {
		t.Errorf("stderr = %q, want it to name %s", stderr, path)
	}
	if len(requests) != 0 {
		t.Errorf("the receiver got %d requests, want none", len(requests))
	}
}

func TestSendServerDown(t *testing.T) {
	clearEnv(t)
	server := httptest.NewServer(http.NotFoundHandler())
	closedURL := server.URL
	server.Close()

	code, _, stderr := execute(t, "send", "--url", closedURL, "--secret", "send-secret", "--timeout", "2s", eventFixture)

	if code != 1 {
		t.Errorf("exit code = %d, want 1; stderr: %s", code, stderr)
	}
}

// syncBuffer is a bytes.Buffer that a command goroutine writes while the
// test reads it.
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

// waitFor calls check every 50 ms until it returns true or timeout passes.
func waitFor(timeout time.Duration, check func() bool) bool {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if check() {
			return true
		}
		time.Sleep(50 * time.Millisecond)
	}
	return check()
}

// bannerValue returns the first field after label in the dev banner.
func bannerValue(t *testing.T, banner, label string) string {
	t.Helper()
	match := regexp.MustCompile(`(?m)^\s*` + regexp.QuoteMeta(label) + `:\s+(\S+)`).FindStringSubmatch(banner)
	if match == nil {
		t.Errorf("banner has no %q line:\n%s", label, banner)
		return ""
	}
	return match[1]
}

// TestDevStack runs `squarebot dev` on loopback ports, sends one event
// through it and stops it.
func TestDevStack(t *testing.T) {
	clearEnv(t)
	var stdout, stderr syncBuffer
	root := newRootCommand(&stdout, &stderr)
	root.SetArgs([]string{"dev",
		"--http-addr", "127.0.0.1:0", "--admin-addr", "127.0.0.1:0",
		"--kafka-addr", "127.0.0.1:0", "--registry-addr", "127.0.0.1:0"})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var runErr error
	finished := make(chan struct{})
	go func() {
		runErr = root.ExecuteContext(ctx)
		close(finished)
	}()
	// A failed check stops the test early, so stop the stack here too.
	defer func() {
		cancel()
		select {
		case <-finished:
		case <-time.After(15 * time.Second):
		}
	}()

	printed := waitFor(10*time.Second, func() bool {
		select {
		case <-finished:
			return true
		default:
			return strings.Contains(stdout.String(), "signing secret:")
		}
	})
	select {
	case <-finished:
		t.Fatalf("dev returned %v before it was stopped\nstdout: %s\nstderr: %s", runErr, stdout.String(), stderr.String())
	default:
	}
	if !printed {
		t.Fatalf("dev printed no signing secret within 10s\nstdout: %s\nstderr: %s", stdout.String(), stderr.String())
	}
	banner := stdout.String()
	gatewayURL := bannerValue(t, banner, "gateway")
	adminURL := bannerValue(t, banner, "admin")
	kafkaAddr := bannerValue(t, banner, "kafka bootstrap")
	registryURL := bannerValue(t, banner, "schema registry")
	signingSecret := bannerValue(t, banner, "signing secret")
	loopback := regexp.MustCompile(`^(http://)?127\.0\.0\.1:[1-9][0-9]*$`)
	for label, value := range map[string]string{
		"gateway": gatewayURL, "admin": adminURL, "kafka bootstrap": kafkaAddr, "schema registry": registryURL,
	} {
		if !loopback.MatchString(value) {
			t.Errorf("%s = %q, want a 127.0.0.1 address with a bound port", label, value)
		}
	}
	if !regexp.MustCompile(`^[0-9a-f]{32}$`).MatchString(signingSecret) {
		t.Errorf("signing secret = %q, want 32 hexadecimal digits", signingSecret)
	}
	if t.Failed() {
		t.FailNow()
	}

	client := &http.Client{Timeout: time.Second}
	ready := waitFor(10*time.Second, func() bool {
		response, err := client.Get(adminURL + "/readyz")
		if err != nil {
			return false
		}
		response.Body.Close()
		return response.StatusCode == http.StatusOK
	})
	if !ready {
		t.Fatalf("%s/readyz did not return 200 within 10s\nstderr: %s", adminURL, stderr.String())
	}
	code, sendOut, sendErr := execute(t, "send", "--url", gatewayURL, "--secret", signingSecret, eventFixture)
	if code != 0 {
		t.Errorf("send through the dev gateway: exit code %d, want 0\nstdout: %s\nstderr: %s", code, sendOut, sendErr)
	}
	if !strings.Contains(sendOut, "200 OK") {
		t.Errorf("send through the dev gateway printed %q, want 200 OK", sendOut)
	}

	cancel()
	select {
	case <-finished:
	case <-time.After(15 * time.Second):
		t.Fatal("dev did not return within 15s of cancel")
	}
	if runErr != nil {
		t.Errorf("dev returned %v after cancel, want nil", runErr)
	}
	if strings.Contains(stderr.String(), signingSecret) {
		t.Error("dev logs contain the signing secret")
	}
}
