package consumer_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/hamba/avro/v2"
	"github.com/riferrei/srclient"

	"github.com/lsst-sqre/squarebot/pkg/consumer"
	"github.com/lsst-sqre/squarebot/pkg/records"
	"github.com/lsst-sqre/squarebot/pkg/route"
	"github.com/lsst-sqre/squarebot/pkg/schema"
)

func pointer[T any](value T) *T { return &value }

func sampleKey() *records.SlackChannelKey {
	return &records.SlackChannelKey{TeamID: pointer("T0001"), Channel: pointer("C0123")}
}

// sampleEvent returns a message_changed event with every field set.
func sampleEvent() *records.SlackMessageEvent {
	return &records.SlackMessageEvent{
		Type:          "message",
		Subtype:       pointer("message_changed"),
		EventID:       pointer("Ev0123ABCD"),
		EventTime:     pointer(int64(1_700_000_000)),
		TeamID:        pointer("T0001"),
		ContextTeamID: pointer("T0001"),
		EnterpriseID:  pointer("E0001"),
		APIAppID:      pointer("A0001"),
		Channel:       pointer("C0123"),
		ChannelType:   pointer("channel"),
		User:          pointer("U0456"),
		BotID:         pointer("B0789"),
		IsBot:         true,
		Text:          pointer("deploy <https://example.org|now> &amp; report"),
		Ts:            pointer("1700000000.000100"),
		ThreadTs:      pointer("1699999999.000100"),
		ParentUserID:  pointer("U0999"),
		EventTs:       pointer("1700000000.000200"),
		Edited:        &records.SlackEdited{User: pointer("U0456"), Ts: pointer("1700000001.000000")},
		Message: &records.SlackNestedMessage{
			Type:     pointer("message"),
			User:     pointer("U0456"),
			Text:     pointer("new text"),
			Ts:       pointer("1700000000.000100"),
			ThreadTs: pointer("1699999999.000100"),
			Edited:   &records.SlackEdited{User: pointer("U0456"), Ts: pointer("1700000001.000000")},
		},
		PreviousMessage:    &records.SlackNestedMessage{Type: pointer("message"), Subtype: pointer("bot_message"), BotID: pointer("B0789"), Text: pointer("old text")},
		DeletedTs:          pointer("1699999998.000100"),
		FileIds:            []string{"F0001", "F0002"},
		AttachmentCount:    2,
		BlockCount:         5,
		IsExtSharedChannel: true,
		SlackJSON:          `{"type":"event_callback","event_id":"Ev0123ABCD"}`,
	}
}

func sampleInteraction() *records.SlackInteraction {
	return &records.SlackInteraction{
		Type:                "block_actions",
		TeamID:              pointer("T0001"),
		TeamDomain:          pointer("example"),
		IsEnterpriseInstall: true,
		APIAppID:            pointer("A0001"),
		UserID:              pointer("U0456"),
		UserName:            pointer("someone"),
		ChannelID:           pointer("C0123"),
		Container:           &records.SlackInteractionContainer{Type: pointer("message"), MessageTs: pointer("1.2"), AttachmentID: pointer(int64(3)), IsEphemeral: true},
		TriggerID:           pointer("trigger"),
		ResponseURL:         pointer("https://hooks.slack.example/actions/1"),
		ResponseUrls:        []string{},
		MessageTs:           pointer("1.2"),
		Actions: []records.SlackInteractionAction{{
			ActionID:             pointer("approve"),
			Type:                 pointer("multi_static_select"),
			SelectedOptionValues: []string{"a", "b"},
			SelectedUsers:        []string{},
		}},
		View:       &records.SlackView{ID: pointer("V0001"), CallbackID: pointer("deploy"), StateValuesJSON: pointer(`{}`)},
		SlackJSON:  `{"type":"block_actions"}`,
		CallbackID: pointer("deploy"),
	}
}

// assertEqual fails with both values as JSON, which shows pointer targets.
func assertEqual(t *testing.T, what string, got, want any) {
	t.Helper()
	if reflect.DeepEqual(got, want) {
		return
	}
	gotJSON, _ := json.Marshal(got)
	wantJSON, _ := json.Marshal(want)
	t.Errorf("%s:\n got %s\nwant %s", what, gotJSON, wantJSON)
}

func TestDecodeMessageRoundTrip(t *testing.T) {
	registry := startRegistry(t)
	key, value, err := registry.Catalog.Encode(messageTopic, sampleKey(), sampleEvent())
	if err != nil {
		t.Fatal(err)
	}
	decoder := registry.Decoder(t)
	ctx := context.Background()

	gotKey, gotEvent, err := decoder.DecodeMessage(ctx, key, value)

	if err != nil {
		t.Fatalf("DecodeMessage: %v", err)
	}
	assertEqual(t, "key", gotKey, sampleKey())
	assertEqual(t, "value", gotEvent, sampleEvent())

	var viaDecode records.SlackMessageEvent
	if err := decoder.Decode(ctx, value, &viaDecode); err != nil {
		t.Fatalf("Decode: %v", err)
	}
	assertEqual(t, "value from Decode", &viaDecode, sampleEvent())
}

func TestDecodeInteractionRoundTrip(t *testing.T) {
	registry := startRegistry(t)
	key := &records.SlackInteractionKey{TeamID: pointer("T0001"), UserID: pointer("U0456")}
	keyBytes, value, err := registry.Catalog.Encode(route.DefaultInteractionTopic, key, sampleInteraction())
	if err != nil {
		t.Fatal(err)
	}

	gotKey, gotInteraction, err := registry.Decoder(t).DecodeInteraction(context.Background(), keyBytes, value)

	if err != nil {
		t.Fatalf("DecodeInteraction: %v", err)
	}
	assertEqual(t, "key", gotKey, key)
	assertEqual(t, "value", gotInteraction, sampleInteraction())
}

// newerEvent is a consumer's own type for the newer message schema.
type newerEvent struct {
	records.SlackMessageEvent
	ReactionCount int     `avro:"reaction_count"`
	WorkspaceName *string `avro:"workspace_name"`
}

// newerMessageSchema adds reaction_count after text and workspace_name after
// block_count, so that the skipped fields sit between known ones.
func newerMessageSchema(t *testing.T) string {
	return evolveSchema(t, schema.ChannelPair.Value, func(fields []any) []any {
		fields = insertField(t, fields, "text", map[string]any{"name": "reaction_count", "type": "int", "default": 0})
		return insertField(t, fields, "block_count", map[string]any{"name": "workspace_name", "type": []any{"null", "string"}, "default": nil})
	})
}

func TestDecodeNewerWriterSkipsAddedFields(t *testing.T) {
	registry := startRegistry(t)
	subject := schema.Binding{Topic: messageTopic}.ValueSubject()
	newerText := newerMessageSchema(t)
	newerID := registry.Register(t, subject, newerText)
	if newerID == registry.Catalog[messageTopic].Value.ID {
		t.Fatalf("the newer schema got the id %d of the current one", newerID)
	}
	newer := newerEvent{SlackMessageEvent: *sampleEvent(), ReactionCount: 7, WorkspaceName: pointer("Rubin")}
	record := encodeFramed(t, newerText, newerID, newer)
	decoder := registry.Decoder(t)
	ctx := context.Background()

	var got records.SlackMessageEvent
	err := decoder.Decode(ctx, record, &got)

	if err != nil {
		t.Fatalf("decoding a newer record into the current type: %v", err)
	}
	assertEqual(t, "current fields", &got, sampleEvent())

	// The consumer's own type for the newer schema reads the added fields,
	// which shows that the record contains them.
	newerReader, err := avro.ParseWithCache(newerText, "", &avro.SchemaCache{})
	if err != nil {
		t.Fatal(err)
	}
	var gotNewer newerEvent
	if err := decoder.DecodeWith(ctx, record, newerReader, &gotNewer); err != nil {
		t.Fatalf("DecodeWith the newer schema: %v", err)
	}
	assertEqual(t, "newer fields", gotNewer, newer)
}

func TestDecodeOlderWriterTakesReaderDefault(t *testing.T) {
	registry := startRegistry(t)
	subject := schema.Binding{Topic: messageTopic}.ValueSubject()
	olderText := evolveSchema(t, schema.ChannelPair.Value, func(fields []any) []any {
		return removeField(t, fields, "block_count")
	})
	olderID := registry.Register(t, subject, olderText)
	record := encodeFramed(t, olderText, olderID, sampleEvent())
	decoder := registry.Decoder(t)
	ctx := context.Background()

	var got records.SlackMessageEvent
	err := decoder.Decode(ctx, record, &got)

	if err != nil {
		t.Fatalf("decoding an older record: %v", err)
	}
	want := sampleEvent()
	want.BlockCount = 0
	assertEqual(t, "value", &got, want)

	// A reader default other than the zero value shows that resolution,
	// not Decode's zeroing, set the field. The reader differs from the
	// embedded one only in this default, which hamba/avro's caches must
	// keep apart.
	readerText := evolveSchema(t, schema.ChannelPair.Value, func(fields []any) []any {
		for _, field := range fields {
			if field := field.(map[string]any); field["name"] == "block_count" {
				field["default"] = -1
			}
		}
		return fields
	})
	reader, err := avro.ParseWithCache(readerText, "", &avro.SchemaCache{})
	if err != nil {
		t.Fatal(err)
	}
	var withDefault records.SlackMessageEvent
	if err := decoder.DecodeWith(ctx, record, reader, &withDefault); err != nil {
		t.Fatalf("DecodeWith a reader whose default is -1: %v", err)
	}
	if withDefault.BlockCount != -1 {
		t.Errorf("block_count: got %d, want the reader default -1", withDefault.BlockCount)
	}
}

func TestDecodeWithSubsetReader(t *testing.T) {
	registry := startRegistry(t)
	_, value, err := registry.Catalog.Encode(messageTopic, sampleKey(), sampleEvent())
	if err != nil {
		t.Fatal(err)
	}
	// A backend that needs only three fields generates its type from a
	// reduced copy of the schema with the same record name.
	reader, err := avro.ParseWithCache(`{
		"type": "record", "name": "SlackMessageEvent", "namespace": "lsst.square.squarebot",
		"fields": [
			{"name": "channel", "type": ["null", "string"], "default": null},
			{"name": "text", "type": ["null", "string"], "default": null},
			{"name": "reply_count", "type": "int", "default": 0}
		]}`, "", &avro.SchemaCache{})
	if err != nil {
		t.Fatal(err)
	}
	type slimEvent struct {
		Channel    *string `avro:"channel"`
		Text       *string `avro:"text"`
		ReplyCount int     `avro:"reply_count"`
	}

	var got slimEvent
	err = registry.Decoder(t).DecodeWith(context.Background(), value, reader, &got)

	if err != nil {
		t.Fatalf("DecodeWith: %v", err)
	}
	assertEqual(t, "slim event", got, slimEvent{Channel: sampleEvent().Channel, Text: sampleEvent().Text})
}

func TestDecodeResetsReusedValue(t *testing.T) {
	registry := startRegistry(t)
	_, first, err := registry.Catalog.Encode(messageTopic, sampleKey(), sampleEvent())
	if err != nil {
		t.Fatal(err)
	}
	plain := &records.SlackMessageEvent{Type: "message", FileIds: []string{}, SlackJSON: "{}"}
	_, second, err := registry.Catalog.Encode(messageTopic, sampleKey(), plain)
	if err != nil {
		t.Fatal(err)
	}
	decoder := registry.Decoder(t)
	ctx := context.Background()

	var event records.SlackMessageEvent
	if err := decoder.Decode(ctx, first, &event); err != nil {
		t.Fatal(err)
	}
	if err := decoder.Decode(ctx, second, &event); err != nil {
		t.Fatal(err)
	}

	if len(event.FileIds) != 0 {
		t.Errorf("file_ids: got %v from the earlier record, want none", event.FileIds)
	}
	assertEqual(t, "second value", &event, plain)
}

func TestDecodeLongStringField(t *testing.T) {
	registry := startRegistry(t)
	event := sampleEvent()
	// 2 MiB is twice hamba/avro's default limit for one string.
	event.SlackJSON = `{"text":"` + strings.Repeat("x", 2<<20) + `"}`
	_, value, err := registry.Catalog.Encode(messageTopic, sampleKey(), event)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()

	var got records.SlackMessageEvent
	err = registry.Decoder(t).Decode(ctx, value, &got)

	if err != nil {
		t.Fatalf("decoding a 2 MiB slack_json with the default limit: %v", err)
	}
	if len(got.SlackJSON) != len(event.SlackJSON) {
		t.Errorf("slack_json length: got %d, want %d", len(got.SlackJSON), len(event.SlackJSON))
	}

	limited := registry.Decoder(t, consumer.WithMaxFieldSize(1<<20))
	if err := limited.Decode(ctx, value, &got); err == nil {
		t.Error("decoding a 2 MiB slack_json with a 1 MiB limit: got no error")
	}
}

func TestDecodeRejectsUnknownType(t *testing.T) {
	registry := startRegistry(t)
	_, value, err := registry.Catalog.Encode(messageTopic, sampleKey(), sampleEvent())
	if err != nil {
		t.Fatal(err)
	}
	decoder := registry.Decoder(t)
	ctx := context.Background()

	var other struct{ Text *string }
	err = decoder.Decode(ctx, value, &other)
	if err == nil || !strings.Contains(err.Error(), "use DecodeWith") {
		t.Errorf("Decode into %T: got %v, want an error that points to DecodeWith", &other, err)
	}

	var event records.SlackMessageEvent
	err = decoder.Decode(ctx, value, event)
	if err == nil || !strings.Contains(err.Error(), "no embedded reader schema") {
		t.Errorf("Decode into a non-pointer: got %v, want an error", err)
	}

	reader := schemaOf(t, schema.ChannelPair.Value)
	err = decoder.DecodeWith(ctx, value, reader, (*records.SlackMessageEvent)(nil))
	if err == nil || !strings.Contains(err.Error(), "non-nil pointer") {
		t.Errorf("DecodeWith into a nil pointer: got %v, want an error", err)
	}
}

func schemaOf(t *testing.T, file string) avro.Schema {
	t.Helper()
	source, err := schema.Load(file)
	if err != nil {
		t.Fatal(err)
	}
	return source.Schema
}

// recursiveNode is a linked list, the simplest recursive schema.
const recursiveNode = `{"type": "record", "name": "Node", "fields": [
	{"name": "value", "type": "int"},
	{"name": "next", "type": ["null", "Node"], "default": null}]}`

func TestDecodeWithRejectsRecursiveReader(t *testing.T) {
	fetcher := fetcherFunc(func(context.Context, int) (string, error) { return recursiveNode, nil })
	decoder, err := consumer.NewDecoderFromFetcher(fetcher)
	if err != nil {
		t.Fatal(err)
	}
	reader, err := avro.ParseWithCache(recursiveNode, "", &avro.SchemaCache{})
	if err != nil {
		t.Fatal(err)
	}
	type node struct {
		Value int   `avro:"value"`
		Next  *node `avro:"next"`
	}
	record := encodeFramed(t, recursiveNode, 1, node{Value: 1, Next: &node{Value: 2}})

	var got node
	err = decoder.DecodeWith(context.Background(), record, reader, &got)

	if err == nil || !strings.Contains(err.Error(), "recursive") {
		t.Errorf("got %v, want an error about the recursive reader", err)
	}
}

func TestDecodeSkipsRecursiveWriterField(t *testing.T) {
	// A writer may add a field whose type refers to the record itself. The
	// current reader has no such field, so resolution skips it.
	writerText := evolveSchema(t, schema.ChannelPair.Value, func(fields []any) []any {
		return append(fields, map[string]any{
			"name": "reply_to", "type": []any{"null", "SlackMessageEvent"}, "default": nil,
		})
	})
	fetcher := fetcherFunc(func(context.Context, int) (string, error) { return writerText, nil })
	decoder, err := consumer.NewDecoderFromFetcher(fetcher)
	if err != nil {
		t.Fatal(err)
	}
	type threadedEvent struct {
		records.SlackMessageEvent
		ReplyTo *threadedEvent `avro:"reply_to"`
	}
	record := encodeFramed(t, writerText, 1, threadedEvent{
		SlackMessageEvent: *sampleEvent(),
		ReplyTo:           &threadedEvent{SlackMessageEvent: records.SlackMessageEvent{Type: "message", SlackJSON: "{}"}},
	})

	var got records.SlackMessageEvent
	err = decoder.Decode(context.Background(), record, &got)

	if err != nil {
		t.Fatalf("decoding a record with a recursive writer field: %v", err)
	}
	assertEqual(t, "value", &got, sampleEvent())
}

func TestDecodeUnframedRecord(t *testing.T) {
	registry := startRegistry(t)
	decoder := registry.Decoder(t)
	tests := []struct {
		name   string
		record []byte
	}{
		{name: "nil", record: nil},
		{name: "shorter than the header", record: []byte{0, 0, 0, 1}},
		{name: "JSON", record: []byte(`{"type":"message"}`)},
		{name: "wrong magic byte", record: []byte{1, 0, 0, 0, 1, 2}},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			var event records.SlackMessageEvent
			err := decoder.Decode(context.Background(), test.record, &event)

			if !errors.Is(err, schema.ErrNotFramed) {
				t.Errorf("got %v, want an error matching schema.ErrNotFramed", err)
			}
			if !errors.Is(err, consumer.ErrNotFramed) {
				t.Errorf("got %v, want an error matching consumer.ErrNotFramed", err)
			}
		})
	}
	if registry.Lookups() != 0 {
		t.Errorf("unframed records made %d registry requests, want 0", registry.Lookups())
	}
}

func TestDecodeUnknownSchemaID(t *testing.T) {
	registry := startRegistry(t)
	payload, err := avro.Marshal(schemaOf(t, schema.ChannelPair.Value), sampleEvent())
	if err != nil {
		t.Fatal(err)
	}
	record := append(schema.AppendFrame(nil, 9999), payload...)

	var event records.SlackMessageEvent
	err = registry.Decoder(t).Decode(context.Background(), record, &event)

	if !errors.Is(err, consumer.ErrSchemaNotFound) {
		t.Fatalf("got %v, want an error matching ErrSchemaNotFound", err)
	}
	var registryErr *consumer.RegistryError
	if !errors.As(err, &registryErr) || registryErr.Code != 40403 {
		t.Errorf("got %v, want a *RegistryError with code 40403", err)
	}
	if !strings.Contains(err.Error(), "schema id 9999") {
		t.Errorf("error %q does not name the schema id", err)
	}
}

func TestDecodeIncompatibleWriter(t *testing.T) {
	tests := []struct {
		name string
		// attachmentType and attachmentDefault replace attachment_count's
		// int type and 0 default in the writer.
		attachmentType    string
		attachmentDefault any
		attachments       any
	}{
		{name: "int changed to string", attachmentType: "string", attachmentDefault: "", attachments: "two"},
		{name: "int widened to long", attachmentType: "long", attachmentDefault: 0, attachments: int64(2)},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			registry := startRegistry(t)
			writerText := evolveSchema(t, schema.ChannelPair.Value, func(fields []any) []any {
				for _, field := range fields {
					if field := field.(map[string]any); field["name"] == "attachment_count" {
						field["type"] = test.attachmentType
						field["default"] = test.attachmentDefault
					}
				}
				return fields
			})

			// The registry rejects the change under the topic's subject, so
			// only a subject without compatibility checks takes it.
			_, err := registry.Admin.CreateSchema(schema.Binding{Topic: messageTopic}.ValueSubject(), writerText, srclient.Avro)
			var rejected srclient.Error
			if !errors.As(err, &rejected) || rejected.Code != 409 {
				t.Fatalf("registering under FORWARD_TRANSITIVE: got %v, want error code 409", err)
			}
			const looseSubject = "consumer-test-incompatible-value"
			if _, err := registry.Admin.ChangeSubjectCompatibilityLevel(looseSubject, srclient.None); err != nil {
				t.Fatal(err)
			}
			writerID := registry.Register(t, looseSubject, writerText)
			record := encodeFramed(t, writerText, writerID, map[string]any{
				"type": "message", "attachment_count": test.attachments, "slack_json": "{}",
			})
			decoder := registry.Decoder(t)

			var event records.SlackMessageEvent
			err = decoder.Decode(context.Background(), record, &event)

			if !errors.Is(err, consumer.ErrIncompatibleSchema) {
				t.Fatalf("got %v, want an error matching ErrIncompatibleSchema", err)
			}
			if !strings.Contains(err.Error(), "lsst.square.squarebot.SlackMessageEvent") {
				t.Errorf("error %q does not name the reader schema", err)
			}
			if !strings.Contains(err.Error(), fmt.Sprintf("schema id %d", writerID)) {
				t.Errorf("error %q does not name the writer schema id %d", err, writerID)
			}

			// The outcome is cached, so a second record makes no request.
			before := registry.Lookups()
			err = decoder.Decode(context.Background(), record, &event)
			if !errors.Is(err, consumer.ErrIncompatibleSchema) {
				t.Errorf("second decode: got %v, want ErrIncompatibleSchema", err)
			}
			if registry.Lookups() != before {
				t.Errorf("second decode made %d registry requests, want 0", registry.Lookups()-before)
			}
		})
	}
}

func TestDecodeWithNestedDefaultPerReader(t *testing.T) {
	// Both readers add a field with a default to a nested record, and
	// differ only in that default.
	const writerText = `{"type": "record", "name": "Outer", "fields": [
		{"name": "inner", "type": {"type": "record", "name": "Inner", "fields": [
			{"name": "a", "type": "int"}]}}]}`
	readerText := func(defaultB int) string {
		return fmt.Sprintf(`{"type": "record", "name": "Outer", "fields": [
			{"name": "inner", "type": {"type": "record", "name": "Inner", "fields": [
				{"name": "a", "type": "int"},
				{"name": "b", "type": "int", "default": %d}]}}]}`, defaultB)
	}
	type inner struct {
		A int `avro:"a"`
		B int `avro:"b"`
	}
	type outer struct {
		Inner inner `avro:"inner"`
	}
	fetcher := fetcherFunc(func(context.Context, int) (string, error) { return writerText, nil })
	decoder, err := consumer.NewDecoderFromFetcher(fetcher)
	if err != nil {
		t.Fatal(err)
	}
	record := encodeFramed(t, writerText, 1, outer{Inner: inner{A: 5}})

	for _, defaultB := range []int{1, 2} {
		reader, err := avro.ParseWithCache(readerText(defaultB), "", &avro.SchemaCache{})
		if err != nil {
			t.Fatal(err)
		}
		var got outer
		if err := decoder.DecodeWith(context.Background(), record, reader, &got); err != nil {
			t.Fatalf("reader with default %d: %v", defaultB, err)
		}
		if got.Inner != (inner{A: 5, B: defaultB}) {
			t.Errorf("reader with default %d: got %+v, want {A:5 B:%d}", defaultB, got.Inner, defaultB)
		}
	}
}
