package e2e

import (
	"bufio"
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/lsst-sqre/squarebot/pkg/gateway"
	"github.com/lsst-sqre/squarebot/pkg/records"
	"github.com/lsst-sqre/squarebot/pkg/secret"
	"github.com/lsst-sqre/squarebot/pkg/slack"
	"github.com/lsst-sqre/squarebot/test/harness"
)

// Fixed response bodies of rejected requests.
const (
	bodyInvalidSignature = `{"error":"invalid signature"}`
	bodyInvalidEvent     = `{"error":"request body is not a valid Slack event"}`
	bodyNotUTF8          = `{"error":"request body is not valid UTF-8"}`
	bodyContentType      = `{"error":"unsupported content type"}`
	bodyNoPayload        = `{"error":"form field payload is missing"}`
	bodyInvalidPayload   = `{"error":"form field payload is not a valid Slack interaction"}`
	bodyInvalidForm      = `{"error":"request body is not a valid form"}`
	bodyTooLarge         = `{"error":"request body too large"}`
)

// Metric names of rejected requests.
const (
	metricSignatureFailures = "squarebot_signature_failures_total"
	metricBadRequests       = "squarebot_bad_requests_total"
)

// hostileEvent is a valid message event that routes to the im topic.
const hostileEvent = `{"type":"event_callback","team_id":"T0000000001","api_app_id":"A0000000001",` +
	`"event":{"type":"message","channel":"D0000000001","channel_type":"im","user":"U0000000001",` +
	`"text":"hello","ts":"1718000000.000100","event_ts":"1718000000.000100"},` +
	`"event_id":"Ev0000HOSTILE","event_time":1718000000}`

// signedHeader returns the signature headers for body signed at
// timestamp with signingSecret.
func signedHeader(signingSecret secret.Value, timestamp string, body []byte) http.Header {
	header := http.Header{}
	header.Set(slack.HeaderTimestamp, timestamp)
	header.Set(slack.HeaderSignature, slack.Sign(signingSecret, timestamp, body))
	return header
}

// rejection is a request the gateway must reject, with the exact bytes
// sent and everything that must follow from it.
type rejection struct {
	name        string
	path        string
	contentType string
	body        []byte
	// header builds the request headers from body. When it is nil, the
	// harness signs the request now with harness.Secret.
	header   func(body []byte) http.Header
	status   int
	wantBody string
	// metric and reason name the counter the request must increment, and
	// reason is also the reason of its one log line.
	metric string
	reason string
}

// TestHostileRequests sends malformed, unsigned, badly signed and
// oversized requests, each as exact bytes, and checks the status, the
// fixed body, the counter, the single log line, that no 401 carries
// anything computed from the secret, and that nothing is published.
func TestHostileRequests(t *testing.T) {
	logs := &lockedBuffer{}
	logger := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	h := harness.Start(t, harness.Options{Logger: logger})

	for _, tt := range hostileRejections() {
		t.Run(tt.name, func(t *testing.T) {
			before := scrapeMetrics(t, h)
			logStart := logs.lineCount()
			var header http.Header
			if tt.header != nil {
				header = tt.header(tt.body)
			}

			response := h.Post(t, tt.path, tt.contentType, tt.body, header)

			after := scrapeMetrics(t, h)
			if response.Status != tt.status {
				t.Errorf("status = %d, want %d", response.Status, tt.status)
			}
			if got := strings.TrimSpace(response.Body); got != tt.wantBody {
				t.Errorf("body = %s, want %s", got, tt.wantBody)
			}
			key := metricKey(tt.metric, tt.reason)
			if delta := after[key] - before[key]; delta != 1 {
				t.Errorf("%s went up by %v, want 1", key, delta)
			}
			checkOneRejectionLog(t, logs.linesFrom(logStart), tt.reason)
			if tt.status == http.StatusUnauthorized {
				checkNoSecretDerivedData(t, response, tt.body, header)
			}
		})
	}

	if total := h.EndOffsets(t); total != 0 {
		t.Errorf("topics hold %d records after rejected requests, want 0", total)
	}
}

// hostileRejections returns the table of TestHostileRequests.
func hostileRejections() []rejection {
	event := []byte(hostileEvent)
	interaction := []byte(`payload=%7B%22type%22%3A%22shortcut%22%2C%22callback_id%22%3A%22x%22%7D`)
	// A valid event whose text contains the bytes C3 28, an invalid UTF-8
	// sequence, and invalid JSON that also ends in invalid UTF-8.
	invalidUTF8Event := []byte("{\"type\":\"event_callback\",\"event\":{\"type\":\"message\",\"channel_type\":\"im\",\"text\":\"caf\xc3\x28\"},\"event_id\":\"Ev0000UTF8\"}")
	invalidUTF8JSON := []byte("{\"type\":\"event_callback\",\"event\":{\"type\":\"message\",\"text\":\"\xff\xfe")
	const eventPath, interactionPath = "/slack/event", "/slack/interaction"
	const jsonType, formType = "application/json", "application/x-www-form-urlencoded"
	const signatureMetric, badRequestMetric = metricSignatureFailures, metricBadRequests

	// The header builders read the clock when the test sends the request,
	// so a slow run cannot move a timestamp across the 300-second window.
	current := func() string { return strconv.FormatInt(time.Now().Unix(), 10) }
	withHeader := func(values map[string][]string) func([]byte) http.Header {
		return func([]byte) http.Header { return http.Header(values) }
	}
	signedAt := func(timestamp func() string) func([]byte) http.Header {
		return func(body []byte) http.Header { return signedHeader(harness.Secret, timestamp(), body) }
	}
	// headers returns the timestamp and the signatures, each made for the
	// current timestamp and then edited.
	headers := func(timestamps int, signatures ...func(string) string) func([]byte) http.Header {
		return func(body []byte) http.Header {
			timestamp := current()
			header := http.Header{}
			for range timestamps {
				header.Add(slack.HeaderTimestamp, timestamp)
			}
			for _, edit := range signatures {
				header.Add(slack.HeaderSignature, edit(slack.Sign(harness.Secret, timestamp, body)))
			}
			return header
		}
	}
	unchanged := func(signature string) string { return signature }
	// Signed over the body with each invalid byte replaced by U+FFFD: a
	// gateway that decoded the body before hashing it would accept this.
	signedOverRepaired := func(body []byte) http.Header {
		return signedHeader(harness.Secret, current(), bytes.ToValidUTF8(body, []byte("\uFFFD")))
	}
	// The current timestamp with its last digit replaced by a letter.
	nonNumeric := func() string {
		timestamp := current()
		return timestamp[:len(timestamp)-1] + "x"
	}
	past := func() string { return strconv.FormatInt(time.Now().Unix()-301, 10) }
	// A timestamp 301 s ahead of the start of the next second: the gateway
	// compares against its clock with sub-second precision, so counting
	// from the current second could leave less than 300 s.
	future := func() string {
		next := time.Now().Truncate(time.Second).Add(time.Second)
		time.Sleep(time.Until(next))
		return strconv.FormatInt(next.Unix()+301, 10)
	}
	deeplyNested := append([]byte(`{"type":"event_callback","event":{"type":"message","blocks":`), bytes.Repeat([]byte("["), 20000)...)
	deeplyNested = append(append(deeplyNested, bytes.Repeat([]byte("]"), 20000)...), "}}"...)

	return []rejection{
		// Bodies that are not valid UTF-8 are hashed as received.
		{"invalid UTF-8 wrong signature", eventPath, jsonType, invalidUTF8Event, signedOverRepaired, 401, bodyInvalidSignature, signatureMetric, "mismatch"},
		{"invalid UTF-8 in valid JSON", eventPath, jsonType, invalidUTF8Event, nil, 400, bodyNotUTF8, badRequestMetric, "invalid_utf8"},
		{"invalid UTF-8 in invalid JSON", eventPath, jsonType, invalidUTF8JSON, nil, 400, bodyNotUTF8, badRequestMetric, "invalid_utf8"},
		{"invalid UTF-8 form body", interactionPath, formType, []byte("payload=\xff"), nil, 400, bodyNotUTF8, badRequestMetric, "invalid_utf8"},

		// Signature headers.
		{"missing signature", eventPath, jsonType, event, func(body []byte) http.Header {
			header := headers(1)(body)
			header.Set(slack.HeaderSignature, "")
			return header
		}, 401, bodyInvalidSignature, signatureMetric, "missing"},
		{"missing timestamp", eventPath, jsonType, event, headers(0, unchanged), 401, bodyInvalidSignature, signatureMetric, "missing"},
		{"missing both", interactionPath, formType, interaction, withHeader(map[string][]string{
			slack.HeaderSignature: {""},
		}), 401, bodyInvalidSignature, signatureMetric, "missing"},
		{"duplicated signature", eventPath, jsonType, event, headers(1, unchanged, unchanged), 401, bodyInvalidSignature, signatureMetric, "malformed"},
		{"duplicated timestamp", eventPath, jsonType, event, headers(2, unchanged), 401, bodyInvalidSignature, signatureMetric, "malformed"},
		{"duplicated both", interactionPath, formType, interaction, headers(2, unchanged, unchanged), 401, bodyInvalidSignature, signatureMetric, "malformed"},
		{"v1 prefix", eventPath, jsonType, event, headers(1, func(s string) string { return "v1" + s[2:] }), 401, bodyInvalidSignature, signatureMetric, "malformed"},
		{"no prefix", eventPath, jsonType, event, headers(1, func(s string) string { return s[3:] }), 401, bodyInvalidSignature, signatureMetric, "malformed"},
		{"non-hex signature", eventPath, jsonType, event, headers(1, func(s string) string { return s[:len(s)-1] + "g" }), 401, bodyInvalidSignature, signatureMetric, "malformed"},
		{"truncated signature", eventPath, jsonType, event, headers(1, func(s string) string { return s[:len(s)-1] }), 401, bodyInvalidSignature, signatureMetric, "malformed"},
		{"extended signature", eventPath, jsonType, event, headers(1, func(s string) string { return s + "0" }), 401, bodyInvalidSignature, signatureMetric, "malformed"},
		{"non-numeric timestamp", eventPath, jsonType, event, signedAt(nonNumeric), 401, bodyInvalidSignature, signatureMetric, "malformed"},
		{"negative timestamp", eventPath, jsonType, event, signedAt(func() string { return "-" + current() }), 401, bodyInvalidSignature, signatureMetric, "malformed"},
		{"timestamp 301 s past", eventPath, jsonType, event, signedAt(past), 401, bodyInvalidSignature, signatureMetric, "stale"},
		{"timestamp 301 s future", interactionPath, formType, interaction, signedAt(future), 401, bodyInvalidSignature, signatureMetric, "stale"},
		{"wrong secret", eventPath, jsonType, event, func(body []byte) http.Header {
			return signedHeader("another-signing-secret", current(), body)
		}, 401, bodyInvalidSignature, signatureMetric, "mismatch"},
		{"one flipped digit", interactionPath, formType, interaction, headers(1, func(s string) string {
			return s[:3] + strconv.FormatUint((uint64(s[3]-'0')+1)%10, 10) + s[4:]
		}), 401, bodyInvalidSignature, signatureMetric, "mismatch"},

		// Content types and body shapes, signed correctly.
		{"event as text/plain", eventPath, "text/plain", event, nil, 400, bodyContentType, badRequestMetric, "content_type"},
		{"event without content type", eventPath, "", event, nil, 400, bodyContentType, badRequestMetric, "content_type"},
		{"interaction as text/plain", interactionPath, "text/plain", interaction, nil, 400, bodyContentType, badRequestMetric, "content_type"},
		{"interaction without content type", interactionPath, "", interaction, nil, 400, bodyContentType, badRequestMetric, "content_type"},
		{"empty event body", eventPath, jsonType, []byte{}, nil, 400, bodyInvalidEvent, badRequestMetric, "invalid_json"},
		{"empty interaction body", interactionPath, formType, []byte{}, nil, 400, bodyNoPayload, badRequestMetric, "missing_payload"},
		{"JSON array", eventPath, jsonType, []byte(`[{"type":"event_callback"}]`), nil, 400, bodyInvalidEvent, badRequestMetric, "invalid_json"},
		{"JSON string", eventPath, jsonType, []byte(`"event_callback"`), nil, 400, bodyInvalidEvent, badRequestMetric, "invalid_json"},
		{"JSON number", eventPath, jsonType, []byte(`1718000000`), nil, 400, bodyInvalidEvent, badRequestMetric, "invalid_json"},
		{"JSON null", eventPath, jsonType, []byte(`null`), nil, 400, bodyInvalidEvent, badRequestMetric, "invalid_json"},
		{"envelope without event", eventPath, jsonType, []byte(`{"type":"event_callback","event_id":"Ev1"}`), nil, 400, bodyInvalidEvent, badRequestMetric, "invalid_json"},
		{"envelope with null event", eventPath, jsonType, []byte(`{"type":"event_callback","event":null}`), nil, 400, bodyInvalidEvent, badRequestMetric, "invalid_json"},
		{"event without type", eventPath, jsonType, []byte(`{"type":"event_callback","event":{"channel":"C1","channel_type":"channel"}}`), nil, 400, bodyInvalidEvent, badRequestMetric, "invalid_json"},
		{"envelope without type", eventPath, jsonType, []byte(`{"event":{"type":"message","channel_type":"im"}}`), nil, 400, bodyInvalidEvent, badRequestMetric, "invalid_json"},
		{"envelope type not a string", eventPath, jsonType, []byte(`{"type":1,"event":{"type":"message"}}`), nil, 400, bodyInvalidEvent, badRequestMetric, "invalid_json"},
		{"byte order mark", eventPath, jsonType, append([]byte("\xef\xbb\xbf"), event...), nil, 400, bodyInvalidEvent, badRequestMetric, "invalid_json"},
		{"trailing garbage", eventPath, jsonType, append(append([]byte{}, event...), "}"...), nil, 400, bodyInvalidEvent, badRequestMetric, "invalid_json"},
		{"nested 20000 deep", eventPath, jsonType, deeplyNested, nil, 400, bodyInvalidEvent, badRequestMetric, "invalid_json"},
		{"form without payload", interactionPath, formType, []byte("token=x&team_id=T1"), nil, 400, bodyNoPayload, badRequestMetric, "missing_payload"},
		{"empty payload", interactionPath, formType, []byte("payload="), nil, 400, bodyNoPayload, badRequestMetric, "missing_payload"},
		{"payload JSON null", interactionPath, formType, []byte("payload=null"), nil, 400, bodyInvalidPayload, badRequestMetric, "invalid_payload"},
		{"payload JSON array", interactionPath, formType, []byte("payload=%5B%5D"), nil, 400, bodyInvalidPayload, badRequestMetric, "invalid_payload"},
		{"payload without type", interactionPath, formType, []byte("payload=%7B%22user%22%3A%7B%7D%7D"), nil, 400, bodyInvalidPayload, badRequestMetric, "invalid_payload"},
		{"bad percent escape", interactionPath, formType, []byte("payload=%7B%zz"), nil, 400, bodyInvalidForm, badRequestMetric, "invalid_form"},
		{"repeated payload", interactionPath, formType, append(append([]byte{}, interaction...), "&"+string(interaction)...), nil, 400, bodyInvalidForm, badRequestMetric, "invalid_form"},
		{"semicolon separator", interactionPath, formType, []byte("a=1;payload=%7B%22type%22%3A%22shortcut%22%7D"), nil, 400, bodyInvalidForm, badRequestMetric, "invalid_form"},
	}
}

// checkOneRejectionLog checks that the request wrote exactly one log line
// about itself, at warn level, with the expected reason.
func checkOneRejectionLog(t *testing.T, lines []map[string]any, reason string) {
	t.Helper()
	var about []map[string]any
	for _, line := range lines {
		if _, ok := line["endpoint"]; ok {
			about = append(about, line)
		}
	}
	if len(about) != 1 {
		t.Fatalf("the request wrote %d log lines with an endpoint, want 1: %v", len(about), about)
	}
	if about[0]["reason"] != reason {
		t.Errorf("log reason = %v, want %s", about[0]["reason"], reason)
	}
	if about[0]["level"] != "WARN" {
		t.Errorf("log level = %v, want WARN", about[0]["level"])
	}
}

// checkNoSecretDerivedData checks that a 401 response carries neither the
// signing secret nor the signature the gateway would have accepted for
// the request, in any usual encoding.
func checkNoSecretDerivedData(t *testing.T, response harness.Response, body []byte, sent http.Header) {
	t.Helper()
	timestamp := sent.Get(slack.HeaderTimestamp)
	if timestamp == "" {
		timestamp = strconv.FormatInt(time.Now().Unix(), 10)
	}
	mac := hmac.New(sha256.New, []byte(harness.Secret.Reveal()))
	mac.Write([]byte("v0:" + timestamp + ":"))
	mac.Write(body)
	digest := mac.Sum(nil)
	forbidden := map[string]string{
		"secret":                 harness.Secret.Reveal(),
		"correct signature":      slack.Sign(harness.Secret, timestamp, body),
		"hex digest":             hex.EncodeToString(digest),
		"upper-case hex digest":  strings.ToUpper(hex.EncodeToString(digest)),
		"base64 digest":          base64.StdEncoding.EncodeToString(digest),
		"base64 secret":          base64.StdEncoding.EncodeToString([]byte(harness.Secret.Reveal())),
		"hex secret":             hex.EncodeToString([]byte(harness.Secret.Reveal())),
		"raw-URL base64 digest":  base64.RawURLEncoding.EncodeToString(digest),
		"half of the hex digest": hex.EncodeToString(digest)[:32],
		"second half of the hex": hex.EncodeToString(digest)[32:],
	}
	var headers strings.Builder
	if err := response.Header.Write(&headers); err != nil {
		t.Fatal(err)
	}
	for name, value := range forbidden {
		if strings.Contains(response.Body, value) {
			t.Errorf("401 body contains the %s", name)
		}
		if strings.Contains(headers.String(), value) {
			t.Errorf("401 headers contain the %s", name)
		}
	}
}

// TestHostileFormEncodings posts interaction forms whose percent-encoding
// differs from url.Values.Encode, signed over the exact bytes, and checks
// that each verifies and that the decoded values reach the record.
func TestHostileFormEncodings(t *testing.T) {
	h := harness.Start(t, harness.Options{})
	encodings := []struct {
		name   string
		encode func(string) string
	}{
		{"%20 for space, %7E, %2A", func(s string) string { return percentEncode(s, "%20", false, "") }},
		{"lower-case hex", func(s string) string { return percentEncode(s, "%20", true, "") }},
		{"+ for space, literal ~ and *", func(s string) string { return percentEncode(s, "+", false, "~*") }},
		{"+ for space, lower-case hex", func(s string) string { return percentEncode(s, "+", true, "") }},
		{"every byte escaped", func(s string) string { return escapeEveryByte(s) }},
	}
	payloads := map[string]string{}

	for i, encoding := range encodings {
		value := fmt.Sprintf("variant %d a~b*c", i)
		payload := fmt.Sprintf(`{"type":"block_actions","team":{"id":"T0000000001","domain":"example"},`+
			`"user":{"id":"U0000000001","username":"a user~name*","team_id":"T0000000001"},`+
			`"api_app_id":"A0000000001","trigger_id":"1.2.3","callback_id":"cb %d ~*",`+
			`"actions":[{"action_id":"approve","block_id":"b 1","type":"button","value":%q,"action_ts":"1718000000.000100"}]}`, i, value)
		body := []byte("payload=" + encoding.encode(payload))
		payloads[value] = payload

		response := h.Post(t, "/slack/interaction", "application/x-www-form-urlencoded", body, nil)

		if response.Status != http.StatusOK {
			t.Errorf("%s: status = %d (body %s), want 200; request body %q", encoding.name, response.Status, response.Body, body)
		}
	}

	consumed := h.Consume(t, len(encodings), 15*time.Second)
	if len(consumed) != len(encodings) {
		t.Fatalf("consumed %d records, want %d", len(consumed), len(encodings))
	}
	decoder := h.NewDecoder()
	for _, record := range consumed {
		var value records.SlackInteraction
		decoder.Decode(t, record.ValueBytes, &value)
		if len(value.Actions) != 1 || value.Actions[0].Value == nil {
			t.Errorf("record at offset %d has actions %v, want one with a value", record.Offset, value.Actions)
			continue
		}
		actionValue := *value.Actions[0].Value
		payload, ok := payloads[actionValue]
		if !ok {
			t.Errorf("record has action value %q, which no request sent", actionValue)
			continue
		}
		delete(payloads, actionValue)
		if value.SlackJSON != payload {
			t.Errorf("slack_json = %s, want %s", value.SlackJSON, payload)
		}
		if got := text(value.UserName); got != "a user~name*" {
			t.Errorf("user_name = %q, want %q", got, "a user~name*")
		}
		if got := text(value.Actions[0].BlockID); got != "b 1" {
			t.Errorf("block_id = %q, want %q", got, "b 1")
		}
	}
	if len(payloads) != 0 {
		t.Errorf("no record for the action values %v", payloads)
	}
}

// percentEncode form-encodes s: letters, digits and "-._" stay, every
// byte in literal stays, space becomes space, and every other byte
// becomes %XX, in lower-case hex when lower is set.
func percentEncode(s, space string, lower bool, literal string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("-._", c) >= 0:
			b.WriteByte(c)
		case strings.IndexByte(literal, c) >= 0:
			b.WriteByte(c)
		case c == ' ':
			b.WriteString(space)
		case lower:
			fmt.Fprintf(&b, "%%%02x", c)
		default:
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// escapeEveryByte percent-encodes every byte of s, letters included.
func escapeEveryByte(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		fmt.Fprintf(&b, "%%%02X", s[i])
	}
	return b.String()
}

// TestHostileInteractionInvalidUTF8 posts an interaction form that is
// plain ASCII but whose percent-decoded payload contains the byte FF, which
// is not valid UTF-8. An event body with that byte is rejected with 400,
// and Avro strings must be UTF-8, so the payload must be rejected too and
// nothing published.
func TestHostileInteractionInvalidUTF8(t *testing.T) {
	h := harness.Start(t, harness.Options{})
	body := []byte("payload=%7B%22type%22%3A%22shortcut%22%2C%22callback_id%22%3A%22x%FFy%22%7D")

	response := h.Post(t, "/slack/interaction", "application/x-www-form-urlencoded", body, nil)

	if response.Status != http.StatusBadRequest {
		t.Errorf("status = %d, want 400", response.Status)
	}
	if got := strings.TrimSpace(response.Body); got != bodyInvalidPayload {
		t.Errorf("body = %s, want %s", got, bodyInvalidPayload)
	}
	if total := h.EndOffsets(t); total != 0 {
		t.Errorf("topics hold %d records, want 0", total)
	}
}

// TestHostileRawControlCharacter posts JSON whose string contains a raw
// tab (byte 09) after a backslash escape. JSON allows control characters
// in strings only escaped, so the body is invalid and must get 400, as the
// same tab before any escape does.
func TestHostileRawControlCharacter(t *testing.T) {
	logs := &lockedBuffer{}
	h := harness.Start(t, harness.Options{Logger: slog.New(slog.NewJSONHandler(logs, nil))})
	tests := []struct {
		name        string
		path        string
		contentType string
		body        []byte
		wantBody    string
		reason      string
	}{
		{"event text", "/slack/event", "application/json",
			[]byte("{\"type\":\"event_callback\",\"event\":{\"type\":\"message\",\"channel_type\":\"im\",\"text\":\"\\n\tb\"},\"event_id\":\"Ev0000TAB1\"}"),
			bodyInvalidEvent, "invalid_json"},
		{"event unknown field", "/slack/event", "application/json",
			[]byte("{\"type\":\"event_callback\",\"x\":\"\\b\t\",\"event\":{\"type\":\"message\",\"channel_type\":\"im\"},\"event_id\":\"Ev0000TAB2\"}"),
			bodyInvalidEvent, "invalid_json"},
		{"tab before any escape", "/slack/event", "application/json",
			[]byte("{\"type\":\"event_callback\",\"event\":{\"type\":\"message\",\"channel_type\":\"im\",\"text\":\"\tb\\n\"},\"event_id\":\"Ev0000TAB3\"}"),
			bodyInvalidEvent, "invalid_json"},
		{"interaction payload", "/slack/interaction", "application/x-www-form-urlencoded",
			[]byte("payload=%7B%22type%22%3A%22shortcut%22%2C%22callback_id%22%3A%22%5Cn%09%22%7D"),
			bodyInvalidPayload, "invalid_payload"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := scrapeMetrics(t, h)
			logStart := logs.lineCount()

			response := h.Post(t, tt.path, tt.contentType, tt.body, nil)

			if response.Status != http.StatusBadRequest {
				t.Errorf("status = %d, want 400", response.Status)
			}
			if got := strings.TrimSpace(response.Body); got != tt.wantBody {
				t.Errorf("body = %s, want %s", got, tt.wantBody)
			}
			key := metricKey(metricBadRequests, tt.reason)
			if delta := scrapeMetrics(t, h)[key] - before[key]; delta != 1 {
				t.Errorf("%s went up by %v, want 1", key, delta)
			}
			checkOneRejectionLog(t, logs.linesFrom(logStart), tt.reason)
		})
	}

	if total := h.EndOffsets(t); total != 0 {
		t.Errorf("topics hold %d records, want 0", total)
	}
}

// TestHostileJSONCharset checks that a JSON content type with a charset
// parameter is accepted.
func TestHostileJSONCharset(t *testing.T) {
	h := harness.Start(t, harness.Options{})

	response := h.Post(t, "/slack/event", "application/json; charset=utf-8", []byte(hostileEvent), nil)

	if response.Status != http.StatusOK {
		t.Errorf("status = %d (body %s), want 200", response.Status, response.Body)
	}
	if total := h.EndOffsets(t); total != 1 {
		t.Errorf("topics hold %d records, want 1", total)
	}
}

// TestHostileLargeMessage checks that the body limit leaves room for the
// largest message Slack sends: 40,000 characters of text, repeated in a
// rich_text block, about 80 KB.
func TestHostileLargeMessage(t *testing.T) {
	h := harness.Start(t, harness.Options{})
	messageText := strings.Repeat("0123456789 squarebot ~*& ", 1600)
	blocks := fmt.Sprintf(`[{"type":"rich_text","block_id":"rt1","elements":[{"type":"rich_text_section","elements":[{"type":"text","text":%q}]}]}]`, messageText)
	body := []byte(fmt.Sprintf(`{"type":"event_callback","team_id":"T0000000001","event":{"type":"message","channel":"C0000000001",`+
		`"channel_type":"channel","user":"U0000000001","text":%q,"blocks":%s,"ts":"1718000000.000200"},"event_id":"Ev0000LARGE"}`, messageText, blocks))
	if len(messageText) != 40000 || len(body) < 80000 {
		t.Fatalf("text has %d characters and the body %d bytes, want 40000 and at least 80000", len(messageText), len(body))
	}

	response := h.Post(t, "/slack/event", "application/json", body, nil)

	if response.Status != http.StatusOK {
		t.Fatalf("status = %d (body %s), want 200", response.Status, response.Body)
	}
	consumed := h.Consume(t, 1, 10*time.Second)
	if len(consumed) != 1 {
		t.Fatalf("consumed %d records, want 1", len(consumed))
	}
	var value records.SlackMessageEvent
	h.NewDecoder().Decode(t, consumed[0].ValueBytes, &value)
	if text(value.Text) != messageText {
		t.Errorf("text has %d bytes, want the %d sent", len(text(value.Text)), len(messageText))
	}
	if value.BlockCount != 1 {
		t.Errorf("block_count = %d, want 1", value.BlockCount)
	}
}

// TestHostileOversizedAnnounced sends headers announcing a body over the
// limit and only a few bytes of it, and checks that the 413 arrives
// without the rest of the body.
func TestHostileOversizedAnnounced(t *testing.T) {
	logs := &lockedBuffer{}
	h := harness.Start(t, harness.Options{Logger: slog.New(slog.NewJSONHandler(logs, nil))})
	limit := h.Config.HTTP.MaxBodyBytes

	for _, length := range []int64{limit + 1, 1 << 30} {
		t.Run(strconv.FormatInt(length, 10), func(t *testing.T) {
			before := scrapeMetrics(t, h)
			logStart := logs.lineCount()
			conn := dialGateway(t, h)
			head := fmt.Sprintf("POST /slack/event HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"+
				"Content-Length: %d\r\nX-Slack-Request-Timestamp: %d\r\nX-Slack-Signature: v0=%s\r\n\r\n",
				length, time.Now().Unix(), strings.Repeat("0", 64))

			if _, err := io.WriteString(conn, head+`{"type":"event_`); err != nil {
				t.Fatalf("writing request: %v", err)
			}
			response, body := readResponse(t, conn)

			if response.StatusCode != http.StatusRequestEntityTooLarge {
				t.Errorf("status = %d, want 413", response.StatusCode)
			}
			if strings.TrimSpace(body) != bodyTooLarge {
				t.Errorf("body = %s, want %s", body, bodyTooLarge)
			}
			key := metricKey(metricBadRequests, "body_too_large")
			if delta := scrapeMetrics(t, h)[key] - before[key]; delta != 1 {
				t.Errorf("%s went up by %v, want 1", key, delta)
			}
			checkOneRejectionLog(t, logs.linesFrom(logStart), "body_too_large")
		})
	}

	if total := h.EndOffsets(t); total != 0 {
		t.Errorf("topics hold %d records, want 0", total)
	}
}

// TestHostileOversizedChunked streams a chunked body with no length past
// the limit and checks that the 413 arrives, both when the client sends
// the whole body and when it stops sending 64 KiB past the limit without
// a final chunk. In the second case only a gateway that stops reading at
// the limit can respond before the 3-second wait runs out.
func TestHostileOversizedChunked(t *testing.T) {
	h := harness.Start(t, harness.Options{})
	limit := h.Config.HTTP.MaxBodyBytes
	tests := []struct {
		name  string
		bytes int64
		final bool
	}{
		{"whole body sent", 2 * limit, true},
		{"sender stops past the limit", limit + 64<<10, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			conn := dialGateway(t, h)
			if err := conn.SetDeadline(time.Now().Add(3 * time.Second)); err != nil {
				t.Fatal(err)
			}
			written := make(chan error, 1)

			go func() { written <- writeChunked(conn, tt.bytes, tt.final) }()
			response, body := readResponse(t, conn)

			if response.StatusCode != http.StatusRequestEntityTooLarge {
				t.Errorf("status = %d, want 413", response.StatusCode)
			}
			if strings.TrimSpace(body) != bodyTooLarge {
				t.Errorf("body = %s, want %s", body, bodyTooLarge)
			}
			conn.Close()
			<-written
		})
	}

	if total := h.EndOffsets(t); total != 0 {
		t.Errorf("topics hold %d records, want 0", total)
	}
}

// writeChunked writes a request to /slack/event with a chunked body of
// at least size bytes of "a", in 16 KiB chunks, and the final zero-length
// chunk when final is set. It returns the first write error, which is
// expected once the gateway has responded and closed the connection.
func writeChunked(conn net.Conn, size int64, final bool) error {
	head := fmt.Sprintf("POST /slack/event HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"+
		"Transfer-Encoding: chunked\r\nX-Slack-Request-Timestamp: %d\r\nX-Slack-Signature: v0=%s\r\n\r\n",
		time.Now().Unix(), strings.Repeat("0", 64))
	if _, err := io.WriteString(conn, head); err != nil {
		return err
	}
	chunk := bytes.Repeat([]byte("a"), 16<<10)
	for sent := int64(0); sent < size; sent += int64(len(chunk)) {
		if _, err := fmt.Fprintf(conn, "%x\r\n%s\r\n", len(chunk), chunk); err != nil {
			return err
		}
	}
	if final {
		_, err := io.WriteString(conn, "0\r\n\r\n")
		return err
	}
	return nil
}

// dialGateway opens a TCP connection to the gateway's public listener
// that is closed when the test ends and fails all I/O after 10 seconds.
func dialGateway(t *testing.T, h *harness.Harness) net.Conn {
	t.Helper()
	conn, err := net.DialTimeout("tcp", strings.TrimPrefix(h.URL, "http://"), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	if err := conn.SetDeadline(time.Now().Add(10 * time.Second)); err != nil {
		t.Fatal(err)
	}
	return conn
}

// readResponse reads one HTTP response and its body from conn.
func readResponse(t *testing.T, conn net.Conn) (*http.Response, string) {
	t.Helper()
	response, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("no response before the connection deadline: %v", err)
	}
	if err != nil {
		t.Fatalf("reading response: %v", err)
	}
	defer response.Body.Close()
	body, err := io.ReadAll(response.Body)
	if err != nil {
		t.Fatalf("reading response body: %v", err)
	}
	return response, string(body)
}

// TestHostileFlood sends 20 requests at once to a gateway that handles at
// most 4 while the broker delays every produce request. The requests
// beyond the limit must get 503 with Retry-After at once, and no request
// may wait past the ack timeout.
func TestHostileFlood(t *testing.T) {
	const (
		requests    = 20
		maxInFlight = 4
		ackTimeout  = time.Second
		// brokerDelay delays each produce request past the ack timeout.
		brokerDelay = 4 * time.Second
	)
	h := harness.Start(t, harness.Options{Configure: func(c *gateway.Config) {
		c.HTTP.MaxInFlight = maxInFlight
		c.AckTimeout = ackTimeout
		c.DedupWindow = 0
	}})
	release := make(chan struct{})
	var releaseOnce sync.Once
	releaseBroker := func() { releaseOnce.Do(func() { close(release) }) }
	t.Cleanup(releaseBroker)
	h.Stack.Kafka.ControlKey(kmsg.Produce.Int16(), func(kmsg.Request) (kmsg.Response, error, bool) {
		h.Stack.Kafka.KeepControl()
		h.Stack.Kafka.SleepControl(func() {
			select {
			case <-release:
			case <-time.After(brokerDelay):
			}
		})
		return nil, nil, false
	})
	before := scrapeMetrics(t, h)
	body := []byte(hostileEvent)

	results := make([]floodResult, requests)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range requests {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			results[i] = postTimed(h, body)
		}()
	}
	close(start)
	wg.Wait()

	overloaded := 0
	for i, result := range results {
		if result.err != nil {
			t.Errorf("request %d: %v", i, result.err)
			continue
		}
		if result.elapsed > ackTimeout+time.Second {
			t.Errorf("request %d answered after %s, want within the ack timeout %s plus 1 s", i, result.elapsed, ackTimeout)
		}
		if result.status != http.StatusServiceUnavailable {
			t.Errorf("request %d: status = %d, want 503 while the broker holds every record", i, result.status)
		}
		if result.retryAfter == "" {
			t.Errorf("request %d: 503 without Retry-After", i)
		}
		if strings.Contains(result.body, "too many requests in flight") {
			overloaded++
			if result.elapsed > ackTimeout/2 {
				t.Errorf("request %d over the limit answered after %s, want well under the ack timeout %s", i, result.elapsed, ackTimeout)
			}
		}
	}
	if overloaded < requests-2*maxInFlight {
		t.Errorf("%d of %d requests were turned away as overloaded, want at least %d", overloaded, requests, requests-2*maxInFlight)
	}
	after := scrapeMetrics(t, h)
	key := metricKey(metricBadRequests, "overloaded")
	if delta := after[key] - before[key]; delta != float64(overloaded) {
		t.Errorf("%s went up by %v, want %d", key, delta, overloaded)
	}
	// docs/operations.md defines this counter as every Slack request the
	// gateway responded to, by status, so the requests turned away count too.
	answered := `squarebot_http_requests_total{code="503",endpoint="event"}`
	if delta := after[answered] - before[answered]; delta != requests {
		t.Errorf("%s went up by %v, want %d", answered, delta, requests)
	}

	releaseBroker()
	if err := h.Stop(t); err != nil {
		t.Errorf("stopping the gateway: %v", err)
	}
	if total, admitted := h.EndOffsets(t), int64(requests-overloaded); total > admitted {
		t.Errorf("topics hold %d records, want at most the %d requests admitted", total, admitted)
	}
}

// floodResult is the outcome of one request of TestHostileFlood.
type floodResult struct {
	status     int
	body       string
	retryAfter string
	elapsed    time.Duration
	err        error
}

// postTimed posts a signed event with its own bounded client, for use
// outside the test goroutine.
func postTimed(h *harness.Harness, body []byte) floodResult {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	request, err := http.NewRequestWithContext(ctx, http.MethodPost, h.URL+"/slack/event", bytes.NewReader(body))
	if err != nil {
		return floodResult{err: err}
	}
	request.Header.Set("Content-Type", "application/json")
	slack.SignRequest(request, harness.Secret, body, time.Now())
	started := time.Now()
	response, err := http.DefaultClient.Do(request)
	if err != nil {
		return floodResult{err: err, elapsed: time.Since(started)}
	}
	defer response.Body.Close()
	answer, err := io.ReadAll(response.Body)
	return floodResult{
		status:     response.StatusCode,
		body:       string(answer),
		retryAfter: response.Header.Get("Retry-After"),
		elapsed:    time.Since(started),
		err:        err,
	}
}

// scrapeMetrics returns every sample of the gateway's /metrics, keyed by
// the metric name with its labels as exposed, such as
// squarebot_bad_requests_total{reason="invalid_json"}.
func scrapeMetrics(t *testing.T, h *harness.Harness) map[string]float64 {
	t.Helper()
	response, err := h.Client.Get(h.AdminURL + "/metrics")
	if err != nil {
		t.Fatalf("GET /metrics: %v", err)
	}
	defer response.Body.Close()
	samples := map[string]float64{}
	scanner := bufio.NewScanner(response.Body)
	scanner.Buffer(make([]byte, 64<<10), 1<<20)
	for scanner.Scan() {
		line := scanner.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		cut := strings.LastIndexByte(line, ' ')
		value, err := strconv.ParseFloat(line[cut+1:], 64)
		if cut < 0 || err != nil {
			t.Fatalf("unparsable metrics line %q", line)
		}
		samples[line[:cut]] = value
	}
	if err := scanner.Err(); err != nil {
		t.Fatalf("reading /metrics: %v", err)
	}
	return samples
}

// metricKey returns the scrapeMetrics key of a counter with one reason
// label.
func metricKey(name, reason string) string {
	return name + `{reason="` + reason + `"}`
}

// lockedBuffer collects the gateway's log output, written from many
// goroutines, and splits it into JSON lines.
type lockedBuffer struct {
	mu     sync.Mutex
	buffer bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buffer.Write(p)
}

// String returns everything written so far.
func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buffer.String()
}

// lineCount returns the number of complete lines written so far.
func (b *lockedBuffer) lineCount() int {
	return strings.Count(b.String(), "\n")
}

// linesFrom decodes the complete lines after the first start lines.
// A line that is not JSON is returned as {"unparsed": line}.
func (b *lockedBuffer) linesFrom(start int) []map[string]any {
	raw := strings.Split(b.String(), "\n")
	raw = raw[:len(raw)-1]
	var lines []map[string]any
	for _, line := range raw[min(start, len(raw)):] {
		var fields map[string]any
		if err := json.Unmarshal([]byte(line), &fields); err != nil {
			fields = map[string]any{"unparsed": line}
		}
		lines = append(lines, fields)
	}
	return lines
}
