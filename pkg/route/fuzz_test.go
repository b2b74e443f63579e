package route_test

import (
	"bytes"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/hamba/avro/v2"

	"github.com/lsst-sqre/squarebot/pkg/records"
	"github.com/lsst-sqre/squarebot/pkg/route"
	"github.com/lsst-sqre/squarebot/pkg/schema"
	"github.com/lsst-sqre/squarebot/pkg/slack"
	"github.com/lsst-sqre/squarebot/test/fixtures"
)

// fuzzCatalog returns a catalog of the embedded schemas for every default
// topic, with made-up schema ids in place of the registry's.
func fuzzCatalog(f *testing.F) schema.Catalog {
	f.Helper()
	catalog := schema.Catalog{}
	for i, binding := range route.DefaultTopics().Bindings() {
		key, err := schema.Load(binding.Pair.Key)
		if err != nil {
			f.Fatal(err)
		}
		value, err := schema.Load(binding.Pair.Value)
		if err != nil {
			f.Fatal(err)
		}
		catalog[binding.Topic] = schema.TopicCodecs{
			Key:   schema.Codec{ID: 2*i + 1, Schema: key.Schema},
			Value: schema.Codec{ID: 2*i + 2, Schema: value.Schema},
		}
	}
	return catalog
}

// FuzzRoute feeds one body to both parsers, as if it arrived on the event
// and on the interaction endpoint, routes what parses, and checks that
// every published record encodes with the real schemas and decodes back
// to the same content.
func FuzzRoute(f *testing.F) {
	cases, err := fixtures.Load()
	if err != nil {
		f.Fatal(err)
	}
	for _, c := range cases {
		body, _, err := c.Body()
		if err != nil {
			f.Fatalf("%s: %v", c.File, err)
		}
		f.Add(body)
	}
	for _, seed := range []string{
		`{"type":"event_callback","event":{"type":"message","channel_type":"im","files":[{},{"id":""}],"blocks":[1],"attachments":[null]}}`,
		`{"type":"event_callback","event":{"type":"app_mention","text":"","edited":{},"root":{"edited":{}}}}`,
		`{"type":"event_callback","event_time":-1,"event":{"type":"message","channel_type":"mpim","message":{"text":null}}}`,
		`payload={"type":"block_actions","actions":[{"selected_options":[{"value":1}],"selected_users":[1,null,"U1"]}],"state":{"values":{}}}`,
		`payload={"type":"view_submission","view":{"state":{"values":[]}},"response_urls":[{},{"response_url":"x"}],"container":{"attachment_id":-9223372036854775808}}`,
	} {
		f.Add([]byte(seed))
	}

	catalog := fuzzCatalog(f)
	router := route.NewRouter(route.DefaultTopics())
	header := http.Header{"X-Slack-Retry-Num": {"1"}, "X-Slack-Retry-Reason": {"http_timeout"}}
	delivery := route.DeliveryFromHeader(header, time.Unix(1718000000, 0))

	f.Fuzz(func(t *testing.T, body []byte) {
		if envelope, err := slack.ParseEventEnvelope(body); err == nil {
			decision := router.Event(envelope, body, delivery)
			if decision.Outcome == route.Publish {
				checkEventRecord(t, catalog, decision.Record, envelope, body)
			} else if decision.EventType == "" {
				t.Error("unpublished decision has no event type")
			}
		}
		if interaction, payload, err := slack.ParseInteractionForm(body); err == nil {
			record := router.Interaction(interaction, payload, delivery)
			checkInteractionRecord(t, catalog, record, interaction, payload)
		}
	})
}

// roundTrip encodes key and value for topic, decodes them into the
// pointers decodedKey and decodedValue, and checks that encoding the
// decoded values gives the same bytes.
func roundTrip(t *testing.T, catalog schema.Catalog, record route.Record, decodedKey, decodedValue any) {
	t.Helper()
	codecs, ok := catalog[record.Topic]
	if !ok {
		t.Fatalf("record routed to topic %q, which has no schemas", record.Topic)
	}
	keyBytes, valueBytes, err := catalog.Encode(record.Topic, record.Key, record.Value)
	if err != nil {
		t.Fatalf("encoding record for %s: %v", record.Topic, err)
	}

	decode(t, codecs.Key, keyBytes, decodedKey)
	decode(t, codecs.Value, valueBytes, decodedValue)

	keyAgain, valueAgain, err := catalog.Encode(record.Topic, decodedKey, decodedValue)
	if err != nil {
		t.Fatalf("encoding the decoded record for %s: %v", record.Topic, err)
	}
	if !bytes.Equal(keyAgain, keyBytes) {
		t.Errorf("key differs after a round trip:\n first %x\nsecond %x", keyBytes, keyAgain)
	}
	if !bytes.Equal(valueAgain, valueBytes) {
		t.Errorf("value differs after a round trip:\n first %x\nsecond %x", valueBytes, valueAgain)
	}
}

// decode checks the wire-format frame of framed and decodes its Avro
// payload into out.
func decode(t *testing.T, codec schema.Codec, framed []byte, out any) {
	t.Helper()
	id, payload, err := schema.SplitFrame(framed)
	if err != nil {
		t.Fatalf("splitting frame: %v", err)
	}
	if id != codec.ID {
		t.Errorf("frame has schema id %d, want %d", id, codec.ID)
	}
	if err := avro.Unmarshal(codec.Schema, payload, out); err != nil {
		t.Fatalf("decoding %T: %v", out, err)
	}
}

func checkEventRecord(t *testing.T, catalog schema.Catalog, record route.Record, envelope *slack.EventEnvelope, body []byte) {
	t.Helper()
	if !slices.Contains(route.DefaultTopics().Names(), record.Topic) || record.Topic == route.DefaultInteractionTopic {
		t.Fatalf("event routed to topic %q", record.Topic)
	}
	var key records.SlackChannelKey
	var value records.SlackMessageEvent

	roundTrip(t, catalog, record, &key, &value)

	if deref(key.Channel) != deref(optionalString(envelope.Event.Channel)) {
		t.Errorf("key channel = %s, want %s", deref(key.Channel), envelope.Event.Channel)
	}
	if deref(key.TeamID) != deref(optionalString(envelope.ContextTeam())) {
		t.Errorf("key team_id = %s, want %s", deref(key.TeamID), envelope.ContextTeam())
	}
	if value.Type != envelope.Event.Type {
		t.Errorf("value type = %q, want %q", value.Type, envelope.Event.Type)
	}
	if deref(value.EventID) != deref(optionalString(envelope.EventID)) {
		t.Errorf("value event_id = %s, want %s", deref(value.EventID), envelope.EventID)
	}
	if deref(value.Text) != deref(envelope.Event.Text) {
		t.Errorf("value text = %q, want %q", deref(value.Text), deref(envelope.Event.Text))
	}
	if value.SlackJSON != string(body) {
		t.Error("value slack_json differs from the request body")
	}
	if value.BlockCount != int(envelope.Event.Blocks) {
		t.Errorf("value block_count = %d, want %d", value.BlockCount, int(envelope.Event.Blocks))
	}
}

func checkInteractionRecord(t *testing.T, catalog schema.Catalog, record route.Record, interaction *slack.Interaction, payload []byte) {
	t.Helper()
	if record.Topic != route.DefaultInteractionTopic {
		t.Fatalf("interaction routed to topic %q", record.Topic)
	}
	var key records.SlackInteractionKey
	var value records.SlackInteraction

	roundTrip(t, catalog, record, &key, &value)

	if deref(key.TeamID) != deref(optionalString(interaction.TeamID())) {
		t.Errorf("key team_id = %s, want %s", deref(key.TeamID), interaction.TeamID())
	}
	var userID string
	if interaction.User != nil {
		userID = interaction.User.ID
	}
	if deref(key.UserID) != deref(optionalString(userID)) {
		t.Errorf("key user_id = %s, want %s", deref(key.UserID), userID)
	}
	if value.Type != interaction.Type {
		t.Errorf("value type = %q, want %q", value.Type, interaction.Type)
	}
	if value.SlackJSON != string(payload) {
		t.Error("value slack_json differs from the payload")
	}
	if len(value.Actions) != len(interaction.Actions) {
		t.Errorf("value has %d actions, want %d", len(value.Actions), len(interaction.Actions))
	}
}

// optionalString mirrors how routing maps "" to a null field.
func optionalString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
