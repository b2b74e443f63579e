package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/lsst-sqre/squarebot/pkg/secret"
	"github.com/lsst-sqre/squarebot/pkg/slack"
)

// sendOptions are the flags of `squarebot send`.
type sendOptions struct {
	url         string
	secret      string
	kind        string
	retryNum    int
	retryReason string
	timeout     time.Duration
}

func newSendCommand(stdout io.Writer) *cobra.Command {
	var options sendOptions
	command := &cobra.Command{
		Use:   "send [flags] FILE",
		Short: "Sign a Slack payload file and POST it to a gateway, as Slack would",
		Long: "Sign a Slack payload file with a signing secret and POST it as Slack does: an Events API " +
			"JSON file byte for byte to /slack/event, an interaction payload JSON file compacted and " +
			"form-encoded as payload=... to /slack/interaction. The kind is detected from the JSON " +
			"unless --kind is given. Prints the response status and body.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runSend(cmd, options, args[0], stdout)
		},
	}
	flags := command.Flags()
	flags.StringVar(&options.url, "url", "http://127.0.0.1:8080", "gateway base URL, including any path prefix")
	flags.StringVar(&options.secret, "secret", "", "signing secret (default: the first of $SQUAREBOT_SLACK_SIGNING_SECRETS)")
	flags.StringVar(&options.kind, "kind", "auto", "payload kind: event, interaction or auto")
	flags.IntVar(&options.retryNum, "retry-num", -1, "send X-Slack-Retry-Num with this value, as a Slack retry does")
	flags.StringVar(&options.retryReason, "retry-reason", "", "send X-Slack-Retry-Reason with this value")
	flags.DurationVar(&options.timeout, "timeout", 10*time.Second, "HTTP request timeout")
	return command
}

func runSend(cmd *cobra.Command, options sendOptions, file string, stdout io.Writer) error {
	signingSecret := options.secret
	if signingSecret == "" {
		for _, candidate := range strings.Split(os.Getenv(envName("slack.signing_secrets")), ",") {
			if candidate = strings.TrimSpace(candidate); candidate != "" {
				signingSecret = candidate
				break
			}
		}
	}
	if signingSecret == "" {
		return usageError{fmt.Errorf("no signing secret: pass --secret or set %s", envName("slack.signing_secrets"))}
	}
	data, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	kind := options.kind
	if kind == "auto" {
		kind = detectKind(data)
	}

	var body []byte
	var path, contentType string
	switch kind {
	case "event":
		body, path, contentType = data, "/slack/event", "application/json"
	case "interaction":
		if body, err = slack.EncodeInteractionForm(data); err != nil {
			return fmt.Errorf("%s: %w", file, err)
		}
		path, contentType = "/slack/interaction", "application/x-www-form-urlencoded"
	default:
		return usageError{fmt.Errorf("--kind: %q is not event, interaction or auto", options.kind)}
	}

	request, err := http.NewRequestWithContext(cmd.Context(), http.MethodPost, strings.TrimSuffix(options.url, "/")+path, bytes.NewReader(body))
	if err != nil {
		return usageError{fmt.Errorf("--url: %w", err)}
	}
	request.Header.Set("Content-Type", contentType)
	if options.retryNum >= 0 {
		request.Header.Set("X-Slack-Retry-Num", fmt.Sprint(options.retryNum))
		request.Header.Set("X-Slack-Retry-Reason", options.retryReason)
	}
	slack.SignRequest(request, secret.Value(signingSecret), body, time.Now())

	response, err := (&http.Client{Timeout: options.timeout}).Do(request)
	if err != nil {
		return fmt.Errorf("sending %s: %w", file, err)
	}
	defer response.Body.Close()
	answer, err := io.ReadAll(io.LimitReader(response.Body, 1<<20))
	if err != nil {
		return fmt.Errorf("reading the response: %w", err)
	}
	fmt.Fprintf(stdout, "POST %s -> %s\n", request.URL.Path, response.Status)
	if len(answer) > 0 {
		fmt.Fprintln(stdout, strings.TrimSpace(string(answer)))
	}
	if response.StatusCode >= 300 {
		return fmt.Errorf("gateway responded %s", response.Status)
	}
	return nil
}

// detectKind returns "event" for an Events API body and "interaction"
// otherwise: Events API bodies have a top-level type of event_callback,
// url_verification or app_rate_limited.
func detectKind(data []byte) string {
	var probe struct {
		Type string `json:"type"`
	}
	_ = json.Unmarshal(data, &probe)
	switch probe.Type {
	case slack.TypeEventCallback, slack.TypeURLVerification, slack.TypeAppRateLimited:
		return "event"
	default:
		return "interaction"
	}
}
