package slack_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/lsst-sqre/squarebot/pkg/secret"
	"github.com/lsst-sqre/squarebot/pkg/slack"
	"github.com/lsst-sqre/squarebot/test/fixtures"
)

// Signing secrets of the fuzz targets. The verifier accepts both, as it
// does while an operator rotates a secret.
const (
	fuzzOldSecret secret.Value = "fuzz-old-signing-secret-5f0c2a"
	fuzzNewSecret secret.Value = "fuzz-new-signing-secret-91d7e4"
)

// fuzzTimestamp is the timestamp the fixture seeds are signed at.
const fuzzTimestamp = "1718000000"

// fixtureBodies returns the request body of every fixture, as the gateway
// receives it.
func fixtureBodies(f *testing.F) [][]byte {
	f.Helper()
	cases, err := fixtures.Load()
	if err != nil {
		f.Fatal(err)
	}
	bodies := make([][]byte, 0, len(cases))
	for _, c := range cases {
		body, _, err := c.Body()
		if err != nil {
			f.Fatalf("%s: %v", c.File, err)
		}
		bodies = append(bodies, body)
	}
	if len(bodies) == 0 {
		f.Fatal("no fixtures found")
	}
	return bodies
}

// signatureHeader returns the two signature headers Slack sends.
func signatureHeader(timestamp, signature string) http.Header {
	header := http.Header{}
	header.Set(slack.HeaderTimestamp, timestamp)
	header.Set(slack.HeaderSignature, signature)
	return header
}

// mutateSignature returns signature with one hexadecimal digit replaced by
// another digit of a different value, chosen from seed, so the result is
// well-formed but wrong.
func mutateSignature(signature string, seed int) string {
	const digits = "0123456789abcdef"
	position := 3 + seed%64
	current := strings.IndexByte(digits, signature[position]|0x20)
	replacement := digits[(current+1+seed%15)%16]
	return signature[:position] + string(replacement) + signature[position+1:]
}

// FuzzVerify checks that Verify never panics, accepts exactly the
// signatures Sign makes for the same timestamp and body with a configured
// secret, rejects every other signature, and rejects timestamps outside
// the allowed skew.
func FuzzVerify(f *testing.F) {
	for _, body := range fixtureBodies(f) {
		f.Add(body, fuzzTimestamp, slack.Sign(fuzzNewSecret, fuzzTimestamp, body))
		f.Add(body, fuzzTimestamp, slack.Sign(fuzzOldSecret, fuzzTimestamp, body))
		f.Add(body, "0"+fuzzTimestamp, "v0="+strings.Repeat("0", 64))
	}
	f.Add([]byte(knownBody), knownTimestamp, knownSignature)
	f.Add([]byte{}, "", "")
	f.Add([]byte("\xff\xfe"), "-1", "v1=00")
	f.Add([]byte("x"), "+1718000000", "V0="+strings.Repeat("A", 64))
	f.Add([]byte("x"), "9223372036854775807", "v0="+strings.Repeat("f", 64))

	clock := time.Unix(1718000000, 0)
	verifier, err := slack.NewVerifier([]secret.Value{fuzzOldSecret, fuzzNewSecret}, slack.WithClock(func() time.Time { return clock }))
	if err != nil {
		f.Fatal(err)
	}

	f.Fuzz(func(t *testing.T, body []byte, timestamp, signature string) {
		seconds, parseErr := strconv.ParseInt(timestamp, 10, 64)
		validTimestamp := parseErr == nil && seconds >= 0

		// Arbitrary headers against the fixed clock.
		err := verifier.Verify(signatureHeader(timestamp, signature), body)
		if err == nil {
			if !validTimestamp {
				t.Fatalf("Verify accepted the malformed timestamp %q", timestamp)
			}
			if skew := clock.Unix() - seconds; skew > 300 || skew < -300 {
				t.Fatalf("Verify accepted timestamp %q, %d s from the clock", timestamp, skew)
			}
			if !strings.EqualFold(signature, slack.Sign(fuzzOldSecret, timestamp, body)) &&
				!strings.EqualFold(signature, slack.Sign(fuzzNewSecret, timestamp, body)) {
				t.Fatalf("Verify accepted signature %q, which no configured secret makes", signature)
			}
		} else if slack.Reason(err) == "other" {
			t.Fatalf("Verify returned an error of no known class: %v", err)
		}

		// Sign's own signature, with the clock at the request's timestamp.
		if !validTimestamp {
			return
		}
		atTimestamp, err := slack.NewVerifier([]secret.Value{fuzzOldSecret, fuzzNewSecret},
			slack.WithClock(func() time.Time { return time.Unix(seconds, 0) }))
		if err != nil {
			t.Fatal(err)
		}
		for _, signingSecret := range []secret.Value{fuzzOldSecret, fuzzNewSecret} {
			good := slack.Sign(signingSecret, timestamp, body)
			if err := atTimestamp.Verify(signatureHeader(timestamp, good), body); err != nil {
				t.Fatalf("Verify rejected Sign's signature %s for timestamp %q: %v", good, timestamp, err)
			}
			bad := mutateSignature(good, len(body)+len(signature))
			if err := atTimestamp.Verify(signatureHeader(timestamp, bad), body); !errors.Is(err, slack.ErrSignatureMismatch) {
				t.Fatalf("Verify(%s) with one digit of %s changed = %v, want %v", bad, good, err, slack.ErrSignatureMismatch)
			}
		}
	})
}

// referenceEnvelope decodes body with encoding/json and applies the checks
// that ParseEventEnvelope documents. It is the reference for the faster
// decoder ParseEventEnvelope uses.
func referenceEnvelope(body []byte) (*slack.EventEnvelope, bool) {
	var envelope slack.EventEnvelope
	if json.Unmarshal(body, &envelope) != nil || envelope.Type == "" {
		return nil, false
	}
	if envelope.Type == slack.TypeEventCallback && (envelope.Event == nil || envelope.Event.Type == "") {
		return nil, false
	}
	return &envelope, true
}

// referenceInteraction decodes payload with encoding/json and applies the
// checks that ParseInteraction documents.
func referenceInteraction(payload []byte) (*slack.Interaction, bool) {
	var interaction slack.Interaction
	if json.Unmarshal(payload, &interaction) != nil || interaction.Type == "" {
		return nil, false
	}
	return &interaction, true
}

// FuzzParseEventEnvelope checks that ParseEventEnvelope never panics, that
// a parsed envelope has the shape routing relies on, and that it accepts
// the same bodies as encoding/json. For valid UTF-8, which is all the
// gateway passes on, the decoded envelopes must be equal too.
func FuzzParseEventEnvelope(f *testing.F) {
	for _, body := range fixtureBodies(f) {
		f.Add(body)
	}
	for _, seed := range []string{
		``, `null`, `[]`, `"x"`, `1`, `{}`, `{"type":""}`, `{"type":"event_callback"}`,
		`{"type":"event_callback","event":null}`, `{"type":"event_callback","event":{}}`,
		`{"type":"event_callback","event":{"type":"message","text":null}}`,
		`{"type":"event_callback","event":{"type":"message"},"authorizations":[]}`,
		"{\"type\":\"x\xff\"}",
		// A raw tab after a backslash escape, which JSON does not allow.
		"{\"type\":\"event_callback\",\"event\":{\"type\":\"message\",\"text\":\"\\n\tb\"}}",
	} {
		f.Add([]byte(seed))
	}

	f.Fuzz(func(t *testing.T, body []byte) {
		envelope, err := slack.ParseEventEnvelope(body)

		reference, referenceOK := referenceEnvelope(body)
		if (err == nil) != referenceOK {
			t.Fatalf("ParseEventEnvelope error = %v, but encoding/json accepts the body: %v", err, referenceOK)
		}
		if err == nil && utf8.Valid(body) && !reflect.DeepEqual(envelope, reference) {
			t.Fatalf("ParseEventEnvelope decoded\n%+v\nencoding/json decoded\n%+v", envelope, reference)
		}
		if err != nil {
			if envelope != nil {
				t.Fatalf("ParseEventEnvelope returned an envelope with error %v", err)
			}
			if !errors.Is(err, slack.ErrMalformedPayload) {
				t.Fatalf("error %v does not match ErrMalformedPayload", err)
			}
			return
		}
		if envelope.Type == "" {
			t.Fatal("parsed envelope has an empty type")
		}
		if envelope.Type == slack.TypeEventCallback {
			if envelope.Event == nil {
				t.Fatal("parsed event_callback has no event")
			}
			if envelope.Event.Type == "" {
				t.Fatal("parsed event_callback has an event with an empty type")
			}
		}
		_ = envelope.ContextTeam()
		_ = envelope.Enterprise()
	})
}

// FuzzParseInteractionForm checks that ParseInteractionForm never panics,
// that a parsed interaction has a type, that the returned payload parses
// on its own to the same type, and that encoding/json accepts and decodes
// the payload the same way.
func FuzzParseInteractionForm(f *testing.F) {
	for _, body := range fixtureBodies(f) {
		f.Add(body)
	}
	for _, seed := range []string{
		``, `payload=`, `payload`, `payload=%`, `payload=%zz`, `payload=null`, `payload=%7B%7D`,
		`payload=%7B%22type%22%3A%22x%22%7D&payload=%7B%22type%22%3A%22y%22%7D`,
		`payload={"type":"shortcut"}`, `payload=%7B%22type%22%3A%22block_actions%22%2C%22actions%22%3A%5B1%5D%7D`,
		`payload={"type":"block_actions","actions":[{"value":{"a":1},"selected_options":[null,1,{}]}],"state":"s"}`,
		`payload={"type":"block_actions","team":null,"user":null,"view":{"state":null},"container":{"attachment_id":1e3}}`,
		`a=1;payload={"type":"x"}`,
		// A raw tab after a backslash escape, which JSON does not allow.
		`payload=%7B%22type%22%3A%22shortcut%22%2C%22callback_id%22%3A%22%5Cn%09%22%7D`,
	} {
		f.Add([]byte(seed))
	}

	f.Fuzz(func(t *testing.T, body []byte) {
		interaction, payload, err := slack.ParseInteractionForm(body)

		if form, formErr := url.ParseQuery(string(body)); formErr == nil && len(form["payload"]) == 1 &&
			form["payload"][0] != "" && utf8.ValidString(form["payload"][0]) {
			if _, referenceOK := referenceInteraction([]byte(form["payload"][0])); (err == nil) != referenceOK {
				t.Fatalf("ParseInteractionForm error = %v, but encoding/json accepts the payload: %v", err, referenceOK)
			}
		}
		if err != nil {
			if interaction != nil || payload != nil {
				t.Fatalf("ParseInteractionForm returned a result with error %v", err)
			}
			if !errors.Is(err, slack.ErrMalformedPayload) {
				t.Fatalf("error %v does not match ErrMalformedPayload", err)
			}
			return
		}
		if interaction.Type == "" {
			t.Fatal("parsed interaction has an empty type")
		}
		if len(payload) == 0 {
			t.Fatal("parsed interaction has an empty payload")
		}
		again, err := slack.ParseInteraction(payload)
		if err != nil {
			t.Fatalf("ParseInteraction rejected the payload ParseInteractionForm returned: %v", err)
		}
		if again.Type != interaction.Type {
			t.Fatalf("ParseInteraction type = %q, ParseInteractionForm type = %q", again.Type, interaction.Type)
		}
		if reference, _ := referenceInteraction(payload); !reflect.DeepEqual(interaction, reference) {
			t.Fatalf("ParseInteractionForm decoded\n%+v\nencoding/json decoded\n%+v", interaction, reference)
		}
		_ = interaction.TeamID()
		_ = interaction.StateValues()
	})
}
