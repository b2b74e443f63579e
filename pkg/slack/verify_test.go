package slack_test

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lsst-sqre/squarebot/pkg/secret"
	"github.com/lsst-sqre/squarebot/pkg/slack"
)

// Slack's published example of a signed slash-command request.
const (
	knownSecret    = "8f742231b10e8888abcd99yyyzzz85a5"
	knownTimestamp = "1531420618"
	knownBody      = "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"
	knownSignature = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"
)

func TestSignKnownAnswer(t *testing.T) {
	got := slack.Sign(knownSecret, knownTimestamp, []byte(knownBody))

	if got != knownSignature {
		t.Errorf("Sign() = %s, want %s", got, knownSignature)
	}
}

func TestVerify(t *testing.T) {
	now := time.Unix(1531420618, 0)
	body := []byte(knownBody)
	headers := func(timestamp, signature string) http.Header {
		h := http.Header{}
		if timestamp != "" {
			h.Set(slack.HeaderTimestamp, timestamp)
		}
		if signature != "" {
			h.Set(slack.HeaderSignature, signature)
		}
		return h
	}
	signedAt := func(at time.Time, secretValue secret.Value) http.Header {
		timestamp := strconv.FormatInt(at.Unix(), 10)
		return headers(timestamp, slack.Sign(secretValue, timestamp, body))
	}

	tests := []struct {
		name    string
		secrets []secret.Value
		header  http.Header
		body    []byte
		want    error
	}{
		{"known answer", []secret.Value{knownSecret}, headers(knownTimestamp, knownSignature), body, nil},
		{"second secret", []secret.Value{"old-secret", knownSecret}, headers(knownTimestamp, knownSignature), body, nil},
		{"wrong secret", []secret.Value{"another-secret"}, headers(knownTimestamp, knownSignature), body, slack.ErrSignatureMismatch},
		{"tampered body", []secret.Value{knownSecret}, headers(knownTimestamp, knownSignature), []byte(knownBody + "&x=1"), slack.ErrSignatureMismatch},
		{"empty body", []secret.Value{knownSecret}, headers(knownTimestamp, knownSignature), nil, slack.ErrSignatureMismatch},
		{"stale timestamp", []secret.Value{knownSecret}, signedAt(now.Add(-301*time.Second), knownSecret), body, slack.ErrStaleTimestamp},
		{"future timestamp", []secret.Value{knownSecret}, signedAt(now.Add(301*time.Second), knownSecret), body, slack.ErrStaleTimestamp},
		{"edge of window", []secret.Value{knownSecret}, signedAt(now.Add(-300*time.Second), knownSecret), body, nil},
		{"missing signature", []secret.Value{knownSecret}, headers(knownTimestamp, ""), body, slack.ErrMissingSignature},
		{"missing timestamp", []secret.Value{knownSecret}, headers("", knownSignature), body, slack.ErrMissingSignature},
		{"missing both", []secret.Value{knownSecret}, http.Header{}, body, slack.ErrMissingSignature},
		{"non-numeric timestamp", []secret.Value{knownSecret}, headers("15314206l8", knownSignature), body, slack.ErrMalformedSignature},
		{"negative timestamp", []secret.Value{knownSecret}, headers("-1531420618", knownSignature), body, slack.ErrMalformedSignature},
		{"non-hex signature", []secret.Value{knownSecret}, headers(knownTimestamp, "v0="+strings.Repeat("zz", 32)), body, slack.ErrMalformedSignature},
		{"truncated signature", []secret.Value{knownSecret}, headers(knownTimestamp, knownSignature[:40]), body, slack.ErrMalformedSignature},
		{"v1 prefix", []secret.Value{knownSecret}, headers(knownTimestamp, "v1="+knownSignature[3:]), body, slack.ErrMalformedSignature},
		{"uppercase hex", []secret.Value{knownSecret}, headers(knownTimestamp, "v0="+strings.ToUpper(knownSignature[3:])), body, nil},
		{"repeated signature", []secret.Value{knownSecret}, http.Header{
			slack.HeaderTimestamp: {knownTimestamp},
			slack.HeaderSignature: {knownSignature, knownSignature},
		}, body, slack.ErrMalformedSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			verifier, err := slack.NewVerifier(tt.secrets, slack.WithClock(func() time.Time { return now }))
			if err != nil {
				t.Fatal(err)
			}

			err = verifier.Verify(tt.header, tt.body)

			if !errors.Is(err, tt.want) || (tt.want == nil && err != nil) {
				t.Errorf("Verify() = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestVerifyErrorsHideSignature(t *testing.T) {
	verifier, err := slack.NewVerifier([]secret.Value{knownSecret}, slack.WithClock(func() time.Time { return time.Unix(1531420618, 0) }))
	if err != nil {
		t.Fatal(err)
	}
	header := http.Header{}
	header.Set(slack.HeaderTimestamp, knownTimestamp)
	header.Set(slack.HeaderSignature, "v0="+strings.Repeat("0", 64))

	err = verifier.Verify(header, []byte(knownBody))

	if err == nil {
		t.Fatal("Verify() accepted a wrong signature")
	}
	if strings.Contains(err.Error(), knownSignature[3:]) {
		t.Errorf("error text contains the expected signature: %v", err)
	}
}

func TestNewVerifierRejectsEmptySecrets(t *testing.T) {
	cases := map[string][]secret.Value{
		"none":        nil,
		"empty":       {""},
		"one of many": {"good", ""},
	}
	for name, secrets := range cases {
		t.Run(name, func(t *testing.T) {
			if _, err := slack.NewVerifier(secrets); err == nil {
				t.Error("NewVerifier() accepted an empty secret list or value")
			}
		})
	}
}

func TestReasonClasses(t *testing.T) {
	cases := map[error]string{
		slack.ErrMissingSignature:   "missing",
		slack.ErrMalformedSignature: "malformed",
		slack.ErrStaleTimestamp:     "stale",
		slack.ErrSignatureMismatch:  "mismatch",
		errors.New("other"):         "other",
	}
	for err, want := range cases {
		if got := slack.Reason(err); got != want {
			t.Errorf("Reason(%v) = %q, want %q", err, got, want)
		}
	}
}
