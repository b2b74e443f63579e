// Package e2e runs the whole pipeline over real sockets: signed HTTP
// requests into the gateway, librdkafka into a kfake broker, and a separate
// franz-go consumer reading the records back, decoded with the writer
// schema fetched from the registry.
package e2e

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/lsst-sqre/squarebot/pkg/records"
	"github.com/lsst-sqre/squarebot/pkg/route"
	"github.com/lsst-sqre/squarebot/test/fixtures"
	"github.com/lsst-sqre/squarebot/test/harness"
)

const topicPrefix = "lsst.square-events.squarebot.slack."

func text(s *string) string {
	if s == nil {
		return "<null>"
	}
	return *s
}

// sent is a fixture posted to the gateway and the record it should produce.
type sent struct {
	fixture fixtures.Case
	body    []byte
	eventID string
	// payload is the interaction JSON as encoded into the form.
	payload string
}

// TestPipelineEveryFixture posts every fixture, then reads every topic and
// checks each record against the fixture it came from.
func TestPipelineEveryFixture(t *testing.T) {
	h := harness.Start(t, harness.Options{})
	cases, err := fixtures.Load()
	if err != nil {
		t.Fatal(err)
	}

	var published []sent
	for _, tc := range cases {
		body, contentType, err := tc.Body()
		if err != nil {
			t.Fatal(err)
		}
		if tc.Kind() == "commands" {
			continue
		}

		response := h.Post(t, tc.Endpoint(), contentType, body, nil)

		if response.Status != http.StatusOK {
			t.Errorf("%s: status %d, want 200 (body %s)", tc.File, response.Status, response.Body)
			continue
		}
		if tc.Disposition == "publish" {
			published = append(published, newSent(t, tc, body))
		}
	}
	if len(published) < 35 {
		t.Fatalf("only %d fixtures to publish, want at least 35", len(published))
	}

	records := h.Consume(t, len(published), 30*time.Second)

	if len(records) != len(published) {
		t.Fatalf("consumed %d records, want %d", len(records), len(published))
	}
	if total := h.EndOffsets(t); total != int64(len(published)) {
		t.Errorf("topics hold %d records, want exactly %d", total, len(published))
	}
	decoder := h.NewDecoder()
	byID := map[string]Record{}
	for _, record := range records {
		byID[recordID(t, decoder, record)] = Record{record}
	}
	for _, s := range published {
		t.Run(s.fixture.Name(), func(t *testing.T) {
			record, ok := byID[s.id()]
			if !ok {
				t.Fatalf("no record for %s", s.fixture.File)
			}
			checkRecord(t, decoder, s, record.Record)
		})
	}
}

// Record wraps a consumed record for the lookup map.
type Record struct{ harness.Record }

func newSent(t *testing.T, tc fixtures.Case, body []byte) sent {
	s := sent{fixture: tc, body: body}
	raw, err := tc.Read()
	if err != nil {
		t.Fatal(err)
	}
	if tc.Kind() == "events" {
		var envelope struct {
			EventID string `json:"event_id"`
		}
		if err := json.Unmarshal(raw, &envelope); err != nil {
			t.Fatal(err)
		}
		s.eventID = envelope.EventID
	} else if s.payload, err = fixtures.CompactPayload(raw); err != nil {
		t.Fatal(err)
	}
	return s
}

// id identifies a fixture's record: the event id for events, the payload
// JSON for interactions, which have no event id.
func (s sent) id() string {
	if s.eventID != "" {
		return s.eventID
	}
	return s.payload
}

func recordID(t *testing.T, decoder *harness.Decoder, record harness.Record) string {
	if id := record.Headers[route.HeaderEventID]; id != "" {
		return id
	}
	var value records.SlackInteraction
	decoder.Decode(t, record.ValueBytes, &value)
	return value.SlackJSON
}

func checkRecord(t *testing.T, decoder *harness.Decoder, s sent, record harness.Record) {
	want := s.fixture.Key
	if record.Topic != topicPrefix+s.fixture.ExpectedTopic {
		t.Errorf("topic = %s, want %s", record.Topic, topicPrefix+s.fixture.ExpectedTopic)
	}
	if _, ok := record.Headers[route.HeaderReceivedAt]; !ok {
		t.Errorf("header %s missing", route.HeaderReceivedAt)
	}

	if s.fixture.Kind() == "events" {
		var key records.SlackChannelKey
		var value records.SlackMessageEvent
		decoder.Decode(t, record.KeyBytes, &key)
		decoder.Decode(t, record.ValueBytes, &value)
		if record.Headers[route.HeaderEventID] != s.eventID {
			t.Errorf("header %s = %q, want %q", route.HeaderEventID, record.Headers[route.HeaderEventID], s.eventID)
		}
		// The Slack Connect key uses the installing workspace; see
		// TestRouteSlackConnectKeyUsesContextTeam.
		if !strings.Contains(s.fixture.File, "ext_shared") && text(key.TeamID) != text(want.TeamID) {
			t.Errorf("key team_id = %s, want %s", text(key.TeamID), text(want.TeamID))
		}
		if text(key.Channel) != text(want.ChannelID) {
			t.Errorf("key channel = %s, want %s", text(key.Channel), text(want.ChannelID))
		}
		if text(value.User) != text(want.UserID) {
			t.Errorf("user = %s, want %s", text(value.User), text(want.UserID))
		}
		if text(value.EventID) != s.eventID {
			t.Errorf("event_id = %s, want %s", text(value.EventID), s.eventID)
		}
		if !bytes.Equal([]byte(value.SlackJSON), s.body) {
			t.Error("slack_json differs from the request body")
		}
		checkMessageFields(t, s.fixture.Name(), &value)
		return
	}

	var key records.SlackInteractionKey
	var value records.SlackInteraction
	decoder.Decode(t, record.KeyBytes, &key)
	decoder.Decode(t, record.ValueBytes, &value)
	if text(key.TeamID) != text(want.TeamID) {
		t.Errorf("key team_id = %s, want %s", text(key.TeamID), text(want.TeamID))
	}
	if text(key.UserID) != text(want.UserID) {
		t.Errorf("key user_id = %s, want %s", text(key.UserID), text(want.UserID))
	}
	if text(value.ChannelID) != text(want.ChannelID) {
		t.Errorf("channel_id = %s, want %s", text(value.ChannelID), text(want.ChannelID))
	}
	if value.SlackJSON != s.payload {
		t.Error("slack_json differs from the payload")
	}
	checkInteractionFields(t, s.fixture.Name(), &value)
}
