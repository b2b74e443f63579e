package e2e

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/lsst-sqre/squarebot/pkg/devstack"
	"github.com/lsst-sqre/squarebot/pkg/gateway"
	"github.com/lsst-sqre/squarebot/pkg/kafka"
	"github.com/lsst-sqre/squarebot/pkg/secret"
	"github.com/lsst-sqre/squarebot/test/fixtures"
	"github.com/lsst-sqre/squarebot/test/harness"
)

// credentials are the secrets of one gateway, each a distinctive random
// value that nothing else can contain by chance.
type credentials struct {
	signing          [2]string
	saslUser         string
	saslPassword     string
	registryUser     string
	registryPassword string
}

func newCredentials(t *testing.T) credentials {
	return credentials{
		signing:          [2]string{distinctiveSecret(t, "signing1"), distinctiveSecret(t, "signing2")},
		saslUser:         "squarebot-secrets-test",
		saslPassword:     distinctiveSecret(t, "sasl"),
		registryUser:     "squarebot-registry",
		registryPassword: distinctiveSecret(t, "registry"),
	}
}

// distinctiveSecret returns label followed by 32 random hexadecimal
// digits.
func distinctiveSecret(t *testing.T, label string) string {
	t.Helper()
	raw := make([]byte, 16)
	if _, err := rand.Read(raw); err != nil {
		t.Fatal(err)
	}
	return label + "-" + hex.EncodeToString(raw)
}

// forms returns each secret in the encodings a leak could take, by a
// name for failure messages: plain, hexadecimal, standard and URL-safe
// base64, and the base64 of the user:password pairs that HTTP basic auth
// sends.
func (c credentials) forms() map[string]string {
	plain := map[string]string{
		"signing secret 1":  c.signing[0],
		"signing secret 2":  c.signing[1],
		"SASL password":     c.saslPassword,
		"registry password": c.registryPassword,
	}
	forms := map[string]string{}
	for name, value := range plain {
		forms[name] = value
		forms[name+" in hex"] = hex.EncodeToString([]byte(value))
		forms[name+" in base64"] = base64.StdEncoding.EncodeToString([]byte(value))
		forms[name+" in URL-safe base64"] = base64.RawURLEncoding.EncodeToString([]byte(value))
	}
	forms["registry basic auth"] = base64.StdEncoding.EncodeToString([]byte(c.registryUser + ":" + c.registryPassword))
	forms["SASL basic auth"] = base64.StdEncoding.EncodeToString([]byte(c.saslUser + ":" + c.saslPassword))
	return forms
}

// checkNoSecret fails the test for every secret form found in output.
// where names the output in failure messages.
func checkNoSecret(t *testing.T, c credentials, where, output string) {
	t.Helper()
	for name, value := range c.forms() {
		if strings.Contains(output, value) {
			t.Errorf("%s contains the %s", where, name)
		}
	}
}

// TestSecretsNeverLeak runs a gateway with two signing secrets, a SASL
// password for the broker and a registry password, and captures every log
// line at debug level with librdkafka's debug output on. It posts every
// fixture with good and bad signatures and a set of malformed bodies and
// reads every admin endpoint. No secret may appear in any log line,
// response body, response header or metric.
func TestSecretsNeverLeak(t *testing.T) {
	creds := newCredentials(t)
	logs := &lockedBuffer{}
	logger := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	h := harness.Start(t, harness.Options{
		Logger: logger,
		Stack: devstack.Options{KafkaOptions: []kfake.Opt{
			kfake.EnableSASL(),
			kfake.Superuser(kafka.MechanismSCRAMSHA512, creds.saslUser, creds.saslPassword),
		}},
		Configure: func(c *gateway.Config) {
			c.SigningSecrets = []secret.Value{secret.Value(creds.signing[0]), secret.Value(creds.signing[1])}
			c.Kafka.SecurityProtocol = kafka.ProtocolSASLPlaintext
			c.Kafka.SASLMechanism = kafka.MechanismSCRAMSHA512
			c.Kafka.SASLUsername = creds.saslUser
			c.Kafka.SASLPassword = secret.Value(creds.saslPassword)
			c.Kafka.Debug = "all"
			c.Registry.Username = creds.registryUser
			c.Registry.Password = secret.Value(creds.registryPassword)
		},
	})
	var responses strings.Builder

	statuses := postEverything(t, h, creds, &responses)
	for _, path := range []string{"/metrics", "/healthz", "/readyz"} {
		responses.WriteString(getAdmin(t, h, path))
	}
	if err := h.Stop(t); err != nil {
		t.Errorf("stopping the gateway: %v", err)
	}

	if statuses[http.StatusOK] < 30 {
		t.Errorf("%d requests got 200, want at least 30: the gateway may not have published over SASL", statuses[http.StatusOK])
	}
	if statuses[http.StatusUnauthorized] == 0 || statuses[http.StatusBadRequest] == 0 {
		t.Errorf("statuses %v, want some 401 and some 400 responses", statuses)
	}
	captured := logs.String()
	if !strings.Contains(captured, "SASL") {
		t.Error("logs never mention SASL, so librdkafka's debug output was not captured")
	}
	checkNoSecret(t, creds, "the logs", captured)
	checkNoSecret(t, creds, "the responses", responses.String())
}

// postEverything posts every fixture signed with each signing secret, with
// a wrong, a malformed and a stale signature, then a set of malformed
// bodies signed correctly. It writes every response's headers and body to
// responses and returns how many responses had each status.
func postEverything(t *testing.T, h *harness.Harness, creds credentials, responses *strings.Builder) map[int]int {
	t.Helper()
	cases, err := fixtures.Load()
	if err != nil {
		t.Fatal(err)
	}
	statuses := map[int]int{}
	send := func(path, contentType string, body []byte, header http.Header) {
		response := h.Post(t, path, contentType, body, header)
		statuses[response.Status]++
		if err := response.Header.Write(responses); err != nil {
			t.Fatal(err)
		}
		responses.WriteString(response.Body)
	}
	now := time.Now().Unix()
	timestamp := strconv.FormatInt(now, 10)

	for i, c := range cases {
		body, contentType, err := c.Body()
		if err != nil {
			t.Fatal(err)
		}
		good := secret.Value(creds.signing[i%2])
		other := secret.Value(creds.signing[(i+1)%2])
		malformed := signedHeader(good, timestamp, body)
		malformed.Set("X-Slack-Signature", "v1="+strings.TrimPrefix(malformed.Get("X-Slack-Signature"), "v0="))

		send(c.Endpoint(), contentType, body, signedHeader(good, timestamp, body))
		send(c.Endpoint(), contentType, body, signedHeader(other, timestamp, body))
		send(c.Endpoint(), contentType, body, signedHeader("not-a-configured-secret", timestamp, body))
		send(c.Endpoint(), contentType, body, malformed)
		send(c.Endpoint(), contentType, body, signedHeader(good, strconv.FormatInt(now-600, 10), body))
	}

	malformedBodies := []struct {
		path, contentType string
		body              []byte
	}{
		{"/slack/event", "application/json", []byte(`{"type":"event_callback",`)},
		{"/slack/event", "application/json", []byte("{\"type\":\"event_callback\",\"event\":{\"type\":\"message\",\"text\":\"\xff\"}}")},
		{"/slack/event", "application/json", []byte(`[]`)},
		{"/slack/event", "text/plain", []byte(`{"type":"url_verification","challenge":"c"}`)},
		{"/slack/interaction", "application/x-www-form-urlencoded", []byte("payload=%zz")},
		{"/slack/interaction", "application/x-www-form-urlencoded", []byte("token=" + url.QueryEscape(creds.signing[0]))},
		{"/slack/interaction", "application/x-www-form-urlencoded", []byte("payload=%7B%7D")},
		{"/slack/interaction", "application/x-www-form-urlencoded", []byte(strings.Repeat("a", 2<<20))},
	}
	for _, request := range malformedBodies {
		// The token form above carries a secret in the request itself, and
		// the response must not echo it.
		send(request.path, request.contentType, request.body, signedHeader(secret.Value(creds.signing[0]), timestamp, request.body))
	}
	return statuses
}

// getAdmin returns the headers and body of a GET on the admin listener.
func getAdmin(t *testing.T, h *harness.Harness, path string) string {
	t.Helper()
	response, err := h.Client.Get(h.AdminURL + path)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer response.Body.Close()
	var out strings.Builder
	if err := response.Header.Write(&out); err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(response.Body)
	if err != nil {
		t.Fatalf("reading %s: %v", path, err)
	}
	return out.String() + string(body)
}

// TestSecretsNotInCommandOutput builds the squarebot binary and runs its
// help, version and send commands, and serve with an invalid setting,
// with every secret set in the environment, and checks that no secret
// appears in their output.
func TestSecretsNotInCommandOutput(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the squarebot binary; skipped with -short")
	}
	creds := newCredentials(t)
	binary := buildSquarebot(t)
	h := harness.Start(t, harness.Options{Configure: func(c *gateway.Config) {
		c.SigningSecrets = []secret.Value{secret.Value(creds.signing[0]), secret.Value(creds.signing[1])}
	}})
	fixture := filepath.Join(fixtures.Dir(), "events", "message_im.json")
	environment := append(os.Environ(),
		"SQUAREBOT_SLACK_SIGNING_SECRETS="+creds.signing[0]+","+creds.signing[1],
		"SQUAREBOT_KAFKA_SASL_USERNAME="+creds.saslUser,
		"SQUAREBOT_KAFKA_SASL_PASSWORD="+creds.saslPassword,
		"SQUAREBOT_KAFKA_SECURITY_PROTOCOL=SASL_PLAINTEXT",
		"SQUAREBOT_REGISTRY_USERNAME="+creds.registryUser,
		"SQUAREBOT_REGISTRY_PASSWORD="+creds.registryPassword,
		// Loopback addresses with nothing listening, in case a command
		// tries to connect anywhere.
		"SQUAREBOT_KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:1",
		"SQUAREBOT_REGISTRY_URL=http://127.0.0.1:1",
		"SQUAREBOT_HTTP_ADDR=127.0.0.1:0",
		"SQUAREBOT_ADMIN_ADDR=127.0.0.1:0",
	)
	commands := []struct {
		args     []string
		wantExit int
	}{
		{[]string{"--help"}, 0},
		{[]string{"serve", "--help"}, 0},
		{[]string{"dev", "--help"}, 0},
		{[]string{"send", "--help"}, 0},
		{[]string{"tail", "--help"}, 0},
		{[]string{"schemas", "--help"}, 0},
		{[]string{"version"}, 0},
		{[]string{"send", "--url", h.URL, fixture}, 0},
		// kafka.ack_timeout above 2.5s fails validation, so serve prints
		// its configuration errors and exits without connecting.
		{[]string{"serve"}, 1},
	}
	for _, command := range commands {
		name := strings.Join(command.args, " ")
		if strings.HasPrefix(name, "send --url") {
			name = "send"
		}
		t.Run(name, func(t *testing.T) {
			env := environment
			if command.args[0] == "serve" && len(command.args) == 1 {
				env = append(env, "SQUAREBOT_KAFKA_ACK_TIMEOUT=10s")
			}

			output, exitCode := runBinary(t, binary, env, command.args...)

			if exitCode != command.wantExit {
				t.Errorf("exit code = %d, want %d; output:\n%s", exitCode, command.wantExit, output)
			}
			if strings.TrimSpace(output) == "" {
				t.Error("the command printed nothing")
			}
			checkNoSecret(t, creds, "the output", output)
		})
	}
}

// buildSquarebot builds cmd/squarebot into a temporary folder and returns
// the binary's path.
func buildSquarebot(t *testing.T) string {
	t.Helper()
	goCommand, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("go command not found, so the binary cannot be built: %v", err)
	}
	binary := filepath.Join(t.TempDir(), "squarebot")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	build := exec.CommandContext(ctx, goCommand, "build", "-o", binary, "github.com/lsst-sqre/squarebot/cmd/squarebot")
	if output, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building squarebot: %v\n%s", err, output)
	}
	return binary
}

// runBinary runs binary with args and env for at most 30 seconds and
// returns its combined output and exit code.
func runBinary(t *testing.T, binary string, env []string, args ...string) (string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	command := exec.CommandContext(ctx, binary, args...)
	command.Env = env
	output, err := command.CombinedOutput()
	var exitError *exec.ExitError
	switch {
	case err == nil:
		return string(output), 0
	case errors.As(err, &exitError):
		return string(output), exitError.ExitCode()
	default:
		t.Fatalf("running squarebot %s: %v", strings.Join(args, " "), err)
		return "", -1
	}
}
