package slack_test

import (
	"errors"
	"testing"

	"github.com/lsst-sqre/squarebot/pkg/slack"
)

// TestParseRejectsInvalidJSON covers invalid documents that a decoder
// skipping unread parts accepts: FuzzParseEventEnvelope found them when
// json-iterator decoded without validJSON's pass before it.
func TestParseRejectsInvalidJSON(t *testing.T) {
	bodies := map[string]string{
		"raw tab in a skipped string": "{\"\":{\"\":\"\\b\t\"},\"tYpe\":\"0\"}",
		"raw newline in text":         "{\"type\":\"event_callback\",\"event\":{\"type\":\"message\",\"text\":\"a\nb\"}}",
		"trailing garbage":            `{"type":"url_verification"} x`,
	}
	for name, body := range bodies {
		t.Run(name, func(t *testing.T) {
			_, errEvent := slack.ParseEventEnvelope([]byte(body))
			_, errInteraction := slack.ParseInteraction([]byte(body))

			if !errors.Is(errEvent, slack.ErrMalformedPayload) {
				t.Errorf("ParseEventEnvelope = %v, want ErrMalformedPayload", errEvent)
			}
			if !errors.Is(errInteraction, slack.ErrMalformedPayload) {
				t.Errorf("ParseInteraction = %v, want ErrMalformedPayload", errInteraction)
			}
		})
	}
}
