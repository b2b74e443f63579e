package slack_test

import (
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/lsst-sqre/squarebot/pkg/secret"
	"github.com/lsst-sqre/squarebot/pkg/slack"
	"github.com/lsst-sqre/squarebot/test/fixtures"
)

func BenchmarkVerify(b *testing.B) {
	body := fixtures.MustBody(b, "events/message_channels.json")
	now := time.Now()
	verifier, err := slack.NewVerifier([]secret.Value{"old-secret", "bench-secret"}, slack.WithClock(func() time.Time { return now }))
	if err != nil {
		b.Fatal(err)
	}
	timestamp := strconv.FormatInt(now.Unix(), 10)
	header := http.Header{}
	header.Set(slack.HeaderTimestamp, timestamp)
	header.Set(slack.HeaderSignature, slack.Sign("bench-secret", timestamp, body))
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()

	for b.Loop() {
		if err := verifier.Verify(header, body); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseEventEnvelope(b *testing.B) {
	body := fixtures.MustBody(b, "events/app_mention_rich_text_blocks.json")
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()

	for b.Loop() {
		if _, err := slack.ParseEventEnvelope(body); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseInteractionForm(b *testing.B) {
	body := fixtures.MustBody(b, "interactions/block_actions_button_message.json")
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()

	for b.Loop() {
		if _, _, err := slack.ParseInteractionForm(body); err != nil {
			b.Fatal(err)
		}
	}
}
