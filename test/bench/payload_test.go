package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lsst-sqre/squarebot/pkg/secret"
	"github.com/lsst-sqre/squarebot/pkg/slack"
)

func testPayloads(t *testing.T) []payload {
	t.Helper()
	payloads, err := loadPayloads()
	if err != nil {
		t.Fatal(err)
	}
	return payloads
}

func TestLoadPayloadsCoversChannelTypes(t *testing.T) {
	payloads := testPayloads(t)

	paths := map[string]string{}
	for _, p := range payloads {
		paths[p.Name] = p.Path
	}
	for _, name := range []string{"message_channels", "message_groups", "message_im", "message_mpim", "app_mention_plain", "view_submission"} {
		if _, ok := paths[name]; !ok {
			t.Errorf("fixture %s is not in the mix", name)
		}
	}
	for _, skipped := range []string{"url_verification", "reaction_added", "app_rate_limited", "command_basic"} {
		if _, ok := paths[skipped]; ok {
			t.Errorf("unpublished fixture %s is in the mix", skipped)
		}
	}
}

func TestBuildMixShares(t *testing.T) {
	payloads := testPayloads(t)

	mix, err := buildMix(payloads)

	if err != nil {
		t.Fatal(err)
	}
	counts := map[string]int{}
	for _, i := range mix {
		counts[payloads[i].Class]++
	}
	for _, share := range classShares {
		if got := counts[share.class] * 100 / len(mix); got != share.percent {
			t.Errorf("%s share = %d %%, want %d %%", share.class, got, share.percent)
		}
	}
}

func TestBuildMixIsStable(t *testing.T) {
	payloads := testPayloads(t)

	first, _ := buildMix(payloads)
	second, _ := buildMix(payloads)

	if !slices.Equal(first, second) {
		t.Error("two schedules built from the same fixtures differ")
	}
}

// TestSignedRequestsVerify parses every pre-built request as a server
// would and checks its signature with Squarebot's verifier.
func TestSignedRequestsVerify(t *testing.T) {
	const signingSecret secret.Value = "bench-test-secret"
	payloads := testPayloads(t)
	to := target{Host: "127.0.0.1:8080", Addr: "127.0.0.1:8080", PathPrefix: "/squarebot"}
	verifier, err := slack.NewVerifier([]secret.Value{signingSecret})
	if err != nil {
		t.Fatal(err)
	}

	s := newSigner(signingSecret, to, payloads)

	for i, p := range payloads {
		request, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(s.request(i, s.newBuffer()))))
		if err != nil {
			t.Fatalf("%s: %v", p.Name, err)
		}
		body, err := io.ReadAll(request.Body)
		if err != nil {
			t.Fatalf("%s: %v", p.Name, err)
		}
		if p.EventID[0] < 0 && !bytes.Equal(body, p.Body) {
			t.Errorf("%s: body differs from the fixture body", p.Name)
		}
		if len(body) != len(p.Body) {
			t.Errorf("%s: body has %d bytes, want %d", p.Name, len(body), len(p.Body))
		}
		if want := "/squarebot" + p.Path; request.URL.Path != want {
			t.Errorf("%s: path = %s, want %s", p.Name, request.URL.Path, want)
		}
		if got := request.Header.Get("Content-Type"); got != p.ContentType {
			t.Errorf("%s: content type = %s, want %s", p.Name, got, p.ContentType)
		}
		if err := verifier.Verify(request.Header, body); err != nil {
			t.Errorf("%s: verify: %v", p.Name, err)
		}
	}
}

func TestSignerUsesCurrentSecond(t *testing.T) {
	payloads := testPayloads(t)

	s := newSigner("secret", target{Host: "127.0.0.1:1"}, payloads)

	age := time.Now().Unix() - s.current.Load().second
	if age < 0 || age > 1 {
		t.Errorf("signed set is %d s old, want at most 1", age)
	}
	if !strings.Contains(string(s.request(0, s.newBuffer())), slack.HeaderTimestamp+": ") {
		t.Error("request has no timestamp header")
	}
}

// TestSignerFreshEventIDs checks that every event request carries an
// event_id of its own, still signed correctly, and that the rest of the
// body is the fixture's.
func TestSignerFreshEventIDs(t *testing.T) {
	const signingSecret secret.Value = "bench-test-secret"
	payloads := testPayloads(t)
	verifier, err := slack.NewVerifier([]secret.Value{signingSecret})
	if err != nil {
		t.Fatal(err)
	}
	s := newSigner(signingSecret, target{Host: "127.0.0.1:1"}, payloads)
	index := slices.IndexFunc(payloads, func(p payload) bool { return p.Name == "message_im" })
	p := payloads[index]

	seen := map[string]bool{}
	for range 3 {
		request, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(s.request(index, s.newBuffer()))))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(request.Body)
		var envelope struct {
			EventID string `json:"event_id"`
		}
		if err := json.Unmarshal(body, &envelope); err != nil {
			t.Fatalf("body is not JSON: %v", err)
		}
		seen[envelope.EventID] = true

		if err := verifier.Verify(request.Header, body); err != nil {
			t.Errorf("verify: %v", err)
		}
		if !bytes.Equal(body[:p.EventID[0]], p.Body[:p.EventID[0]]) || !bytes.Equal(body[p.EventID[1]:], p.Body[p.EventID[1]:]) {
			t.Error("body differs from the fixture outside the event_id")
		}
	}
	if len(seen) != 3 {
		t.Errorf("3 requests carried %d distinct event ids: %v", len(seen), seen)
	}
}

func TestWriteEventID(t *testing.T) {
	id := []byte("Ev0000000000")

	writeEventID(id, 36*36+35)

	if string(id) != "Ev000000010Z" {
		t.Errorf("writeEventID = %s, want Ev000000010Z", id)
	}
}
