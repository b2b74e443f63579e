package route_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/lsst-sqre/squarebot/pkg/records"
	"github.com/lsst-sqre/squarebot/pkg/route"
	"github.com/lsst-sqre/squarebot/pkg/slack"
	"github.com/lsst-sqre/squarebot/test/fixtures"
)

const topicPrefix = "lsst.square-events.squarebot.slack."

func deref(s *string) string {
	if s == nil {
		return "<nil>"
	}
	return *s
}

// TestRouteEveryFixture checks the topic and key of every event and
// interaction fixture against the manifest.
func TestRouteEveryFixture(t *testing.T) {
	cases, err := fixtures.Load()
	if err != nil {
		t.Fatal(err)
	}
	router := route.NewRouter(route.DefaultTopics())
	delivery := route.Delivery{ReceivedAt: time.Unix(1718000000, 0)}
	routed := 0

	for _, tc := range cases {
		if tc.Kind() == "commands" {
			continue
		}
		t.Run(tc.Name(), func(t *testing.T) {
			body, _, err := tc.Body()
			if err != nil {
				t.Fatal(err)
			}

			var record route.Record
			published := false
			if tc.Kind() == "events" {
				envelope, err := slack.ParseEventEnvelope(body)
				if err != nil {
					t.Fatalf("ParseEventEnvelope: %v", err)
				}
				decision := router.Event(envelope, body, delivery)
				published = decision.Outcome == route.Publish
				record = decision.Record
			} else {
				interaction, payload, err := slack.ParseInteractionForm(body)
				if err != nil {
					t.Fatalf("ParseInteractionForm: %v", err)
				}
				record = router.Interaction(interaction, payload, delivery)
				published = true
			}

			if want := tc.Disposition == "publish"; published != want {
				t.Fatalf("published = %v, want %v", published, want)
			}
			if !published {
				return
			}
			routed++
			if record.Topic != topicPrefix+tc.ExpectedTopic {
				t.Errorf("topic = %s, want %s", record.Topic, topicPrefix+tc.ExpectedTopic)
			}
			switch key := record.Key.(type) {
			case *records.SlackChannelKey:
				if deref(key.TeamID) != deref(tc.Key.TeamID) && !strings.Contains(tc.File, "ext_shared") {
					t.Errorf("key team_id = %s, want %s", deref(key.TeamID), deref(tc.Key.TeamID))
				}
				if deref(key.Channel) != deref(tc.Key.ChannelID) {
					t.Errorf("key channel = %s, want %s", deref(key.Channel), deref(tc.Key.ChannelID))
				}
				value := record.Value.(*records.SlackMessageEvent)
				if value.SlackJSON != string(body) {
					t.Error("slack_json differs from the request body")
				}
				if deref(value.User) != deref(tc.Key.UserID) {
					t.Errorf("user = %s, want %s", deref(value.User), deref(tc.Key.UserID))
				}
			case *records.SlackInteractionKey:
				if deref(key.TeamID) != deref(tc.Key.TeamID) {
					t.Errorf("key team_id = %s, want %s", deref(key.TeamID), deref(tc.Key.TeamID))
				}
				if deref(key.UserID) != deref(tc.Key.UserID) {
					t.Errorf("key user_id = %s, want %s", deref(key.UserID), deref(tc.Key.UserID))
				}
				value := record.Value.(*records.SlackInteraction)
				if deref(value.ChannelID) != deref(tc.Key.ChannelID) {
					t.Errorf("channel_id = %s, want %s", deref(value.ChannelID), deref(tc.Key.ChannelID))
				}
			default:
				t.Fatalf("key has type %T", record.Key)
			}
		})
	}
	if routed < 30 {
		t.Errorf("routed %d fixtures, want at least 30", routed)
	}
}

func TestRouteSlackConnectKeyUsesContextTeam(t *testing.T) {
	body := fixtures.MustRead(t, "events/message_ext_shared_channel.json")
	envelope, err := slack.ParseEventEnvelope(body)
	if err != nil {
		t.Fatal(err)
	}

	decision := route.NewRouter(route.DefaultTopics()).Event(envelope, body, route.Delivery{})

	key := decision.Record.Key.(*records.SlackChannelKey)
	value := decision.Record.Value.(*records.SlackMessageEvent)
	if deref(key.TeamID) != "T0000000001" {
		t.Errorf("key team_id = %s, want the installing workspace T0000000001", deref(key.TeamID))
	}
	if deref(value.TeamID) != "T0000000009" {
		t.Errorf("value team_id = %s, want the sender's workspace T0000000009", deref(value.TeamID))
	}
	if !value.IsExtSharedChannel {
		t.Error("is_ext_shared_channel = false, want true")
	}
}

func TestRouteEventOutcomes(t *testing.T) {
	tests := []struct {
		file      string
		outcome   route.Outcome
		eventType string
	}{
		{"events/url_verification.json", route.Challenge, "url_verification"},
		{"events/app_rate_limited.json", route.RateLimited, "app_rate_limited"},
		{"events/reaction_added.json", route.Unrouted, "reaction_added"},
		{"events/message_im.json", route.Publish, "message"},
		{"events/app_mention_plain.json", route.Publish, "app_mention"},
	}
	router := route.NewRouter(route.DefaultTopics())
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			body := fixtures.MustRead(t, tt.file)
			envelope, err := slack.ParseEventEnvelope(body)
			if err != nil {
				t.Fatal(err)
			}

			decision := router.Event(envelope, body, route.Delivery{})

			if decision.Outcome != tt.outcome {
				t.Errorf("outcome = %v, want %v", decision.Outcome, tt.outcome)
			}
			if decision.EventType != tt.eventType {
				t.Errorf("event type = %q, want %q", decision.EventType, tt.eventType)
			}
		})
	}
}

func TestRouteChallenge(t *testing.T) {
	body := fixtures.MustRead(t, "events/url_verification.json")
	envelope, err := slack.ParseEventEnvelope(body)
	if err != nil {
		t.Fatal(err)
	}

	decision := route.NewRouter(route.DefaultTopics()).Event(envelope, body, route.Delivery{})

	if decision.Challenge == "" || decision.Challenge != envelope.Challenge {
		t.Errorf("challenge = %q, want %q", decision.Challenge, envelope.Challenge)
	}
}

func TestRouteConfiguredTopics(t *testing.T) {
	topics := route.Topics{
		AppMention: "m", MessageChannel: "c", MessageGroup: "g",
		MessageIM: "i", MessageMPIM: "p", Interaction: "x",
	}
	router := route.NewRouter(topics)
	want := map[string]string{
		"events/app_mention_plain.json": "m",
		"events/message_channels.json":  "c",
		"events/message_groups.json":    "g",
		"events/message_im.json":        "i",
		"events/message_mpim.json":      "p",
	}
	for file, topic := range want {
		body := fixtures.MustRead(t, file)
		envelope, err := slack.ParseEventEnvelope(body)
		if err != nil {
			t.Fatal(err)
		}

		decision := router.Event(envelope, body, route.Delivery{})

		if decision.Record.Topic != topic {
			t.Errorf("%s: topic = %q, want %q", file, decision.Record.Topic, topic)
		}
	}
}

func TestDeliveryHeaders(t *testing.T) {
	header := http.Header{}
	header.Set("X-Slack-Retry-Num", "2")
	header.Set("X-Slack-Retry-Reason", "http_timeout")
	body := fixtures.MustRead(t, "events/message_im.json")
	envelope, err := slack.ParseEventEnvelope(body)
	if err != nil {
		t.Fatal(err)
	}
	delivery := route.DeliveryFromHeader(header, time.Date(2024, 6, 10, 12, 0, 0, 5e6, time.UTC))

	record := route.NewRouter(route.DefaultTopics()).Event(envelope, body, delivery).Record

	got := map[string]string{}
	for _, h := range record.Headers {
		got[h.Key] = string(h.Value)
	}
	want := map[string]string{
		route.HeaderEventID:     envelope.EventID,
		route.HeaderRetryNum:    "2",
		route.HeaderRetryReason: "http_timeout",
		route.HeaderReceivedAt:  "2024-06-10T12:00:00.005Z",
	}
	for key, value := range want {
		if got[key] != value {
			t.Errorf("header %s = %q, want %q", key, got[key], value)
		}
	}
}

func TestDeliveryDropsInvalidRetryNum(t *testing.T) {
	header := http.Header{}
	header.Set("X-Slack-Retry-Num", "two")

	delivery := route.DeliveryFromHeader(header, time.Now())

	if delivery.RetryNum != "" {
		t.Errorf("RetryNum = %q, want empty", delivery.RetryNum)
	}
}
