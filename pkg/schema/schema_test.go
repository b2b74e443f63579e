package schema_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"slices"
	"testing"

	"github.com/hamba/avro/v2"
	"github.com/riferrei/srclient"

	"github.com/lsst-sqre/squarebot/pkg/devstack"
	"github.com/lsst-sqre/squarebot/pkg/records"
	"github.com/lsst-sqre/squarebot/pkg/route"
	"github.com/lsst-sqre/squarebot/pkg/schema"
	"github.com/lsst-sqre/squarebot/schemas"
)

// testSchemaID is the schema id written into every frame in these tests.
// Its big-endian bytes are 0 0 0 42.
const testSchemaID = 42

func pointerTo[T any](value T) *T { return &value }

// roundTripCase pairs one schema file with a fully populated and a minimal
// value of its generated type. The minimal value leaves every union nil and
// every array empty. Arrays are empty but not nil because hamba/avro decodes
// an empty Avro array into an empty non-nil slice.
type roundTripCase struct {
	full    any
	minimal any
	// decodeTarget returns a pointer to a new zero value of the type.
	decodeTarget func() any
}

func fullNestedMessage(prefix string) *records.SlackNestedMessage {
	return &records.SlackNestedMessage{
		Type:     pointerTo("message"),
		Subtype:  pointerTo("bot_message"),
		User:     pointerTo(prefix + "U0000000001"),
		BotID:    pointerTo(prefix + "B0000000001"),
		Text:     pointerTo(prefix + " text with &amp; and <@U0000000002>"),
		Ts:       pointerTo("1718000500.000100"),
		ThreadTs: pointerTo("1718000400.000100"),
		Edited:   &records.SlackEdited{User: pointerTo(prefix + "U0000000003"), Ts: pointerTo("1718000600.000100")},
	}
}

func fullAction(index string) records.SlackInteractionAction {
	return records.SlackInteractionAction{
		ActionID:             pointerTo("action-" + index),
		BlockID:              pointerTo("block-" + index),
		Type:                 pointerTo("multi_static_select"),
		Name:                 pointerTo("legacy-" + index),
		Value:                pointerTo("value-" + index),
		SelectedOptionValue:  pointerTo("option-" + index),
		SelectedOptionValues: []string{"first-" + index, "second-" + index},
		SelectedDate:         pointerTo("2024-06-10"),
		SelectedTime:         pointerTo("09:30"),
		SelectedUser:         pointerTo("U0000000004"),
		SelectedUsers:        []string{"U0000000005", "U0000000006"},
		SelectedChannel:      pointerTo("C0000000002"),
		SelectedConversation: pointerTo("D0000000002"),
		ActionTs:             pointerTo("1718000700.000100"),
	}
}

func roundTripCases() map[string]roundTripCase {
	return map[string]roundTripCase{
		"slack_channel_key.avsc": {
			full:         &records.SlackChannelKey{TeamID: pointerTo("T0000000001"), Channel: pointerTo("C0000000001")},
			minimal:      &records.SlackChannelKey{},
			decodeTarget: func() any { return &records.SlackChannelKey{} },
		},
		"slack_interaction_key.avsc": {
			full:         &records.SlackInteractionKey{TeamID: pointerTo("T0000000001"), UserID: pointerTo("U0000000001")},
			minimal:      &records.SlackInteractionKey{},
			decodeTarget: func() any { return &records.SlackInteractionKey{} },
		},
		"slack_message_event.avsc": {
			full: &records.SlackMessageEvent{
				Type:               "message",
				Subtype:            pointerTo("message_changed"),
				EventID:            pointerTo("Ev0000000001"),
				EventTime:          pointerTo(int64(1718000503)),
				TeamID:             pointerTo("T0000000001"),
				ContextTeamID:      pointerTo("T0000000002"),
				EnterpriseID:       pointerTo("E0000000001"),
				APIAppID:           pointerTo("A0000000001"),
				Channel:            pointerTo("C0000000001"),
				ChannelType:        pointerTo("channel"),
				User:               pointerTo("U0000000001"),
				BotID:              pointerTo("B0000000001"),
				IsBot:              true,
				Text:               pointerTo("héllo <@U0000000002> &lt;tag&gt; 🚀"),
				Ts:                 pointerTo("1718000503.000300"),
				ThreadTs:           pointerTo("1718000400.000100"),
				ParentUserID:       pointerTo("U0000000007"),
				EventTs:            pointerTo("1718000503.000301"),
				Edited:             &records.SlackEdited{User: pointerTo("U0000000001"), Ts: pointerTo("1718000550.000100")},
				Message:            fullNestedMessage("new"),
				PreviousMessage:    fullNestedMessage("old"),
				DeletedTs:          pointerTo("1718000300.000100"),
				FileIds:            []string{"F0000000001", "F0000000002"},
				AttachmentCount:    3,
				BlockCount:         -1,
				IsExtSharedChannel: true,
				SlackJSON:          `{"type":"event_callback","event":{"type":"message"}}`,
			},
			minimal: &records.SlackMessageEvent{
				Type:      "app_mention",
				FileIds:   []string{},
				SlackJSON: "{}",
			},
			decodeTarget: func() any { return &records.SlackMessageEvent{} },
		},
		"slack_interaction.avsc": {
			full: &records.SlackInteraction{
				Type:                "block_actions",
				TeamID:              pointerTo("T0000000001"),
				TeamDomain:          pointerTo("example"),
				EnterpriseID:        pointerTo("E0000000001"),
				IsEnterpriseInstall: true,
				APIAppID:            pointerTo("A0000000001"),
				UserID:              pointerTo("U0000000001"),
				UserName:            pointerTo("example.user1"),
				UserTeamID:          pointerTo("T0000000003"),
				ChannelID:           pointerTo("C0000000001"),
				ChannelName:         pointerTo("general"),
				Container: &records.SlackInteractionContainer{
					Type:         pointerTo("message_attachment"),
					MessageTs:    pointerTo("1718000800.000100"),
					ChannelID:    pointerTo("C0000000001"),
					ViewID:       pointerTo("V0000000001"),
					ThreadTs:     pointerTo("1718000400.000100"),
					AttachmentID: pointerTo(int64(2)),
					IsEphemeral:  true,
				},
				TriggerID:    pointerTo("7000000000013.1000000000001.abc"),
				ResponseURL:  pointerTo("https://hooks.slack.com/actions/T0000000001/1/abc"),
				ResponseUrls: []string{"https://hooks.slack.com/app/1", "https://hooks.slack.com/app/2"},
				MessageTs:    pointerTo("1718000800.000100"),
				Actions:      []records.SlackInteractionAction{fullAction("1"), fullAction("2")},
				View: &records.SlackView{
					ID:                 pointerTo("V0000000001"),
					Type:               pointerTo("modal"),
					CallbackID:         pointerTo("incident_modal"),
					PrivateMetadata:    pointerTo(`{"channel":"C0000000001"}`),
					Hash:               pointerTo("1718000900.abcdef"),
					ExternalID:         pointerTo("external-1"),
					RootViewID:         pointerTo("V0000000000"),
					PreviousViewID:     pointerTo("V0000000009"),
					AppInstalledTeamID: pointerTo("T0000000001"),
					StateValuesJSON:    pointerTo(`{"block":{"action":{"type":"plain_text_input","value":"x"}}}`),
				},
				StateValuesJSON: pointerTo(`{"b":{"a":{"type":"static_select"}}}`),
				CallbackID:      pointerTo("open_incident_modal"),
				ActionTs:        pointerTo("1718003300.111111"),
				SlackJSON:       `{"type":"block_actions"}`,
			},
			minimal: &records.SlackInteraction{
				Type:         "view_closed",
				ResponseUrls: []string{},
				Actions:      []records.SlackInteractionAction{},
				SlackJSON:    "{}",
			},
			decodeTarget: func() any { return &records.SlackInteraction{} },
		},
	}
}

func TestCodecRoundTripCoversEverySchema(t *testing.T) {
	sources, err := schema.Embedded()
	if err != nil {
		t.Fatalf("Embedded: %v", err)
	}
	cases := roundTripCases()

	var embedded []string
	for _, source := range sources {
		embedded = append(embedded, source.Name)
	}
	var covered []string
	for name := range cases {
		covered = append(covered, name)
	}
	slices.Sort(covered)

	if !slices.Equal(embedded, covered) {
		t.Errorf("embedded schemas = %v, round-trip cases = %v; add a case for each new schema", embedded, covered)
	}
}

func TestCodecRoundTrip(t *testing.T) {
	sources, err := schema.Embedded()
	if err != nil {
		t.Fatalf("Embedded: %v", err)
	}
	cases := roundTripCases()

	for _, source := range sources {
		tc, ok := cases[source.Name]
		if !ok {
			t.Errorf("no round-trip case for %s", source.Name)
			continue
		}
		variants := []struct {
			name  string
			value any
		}{{"full", tc.full}, {"minimal", tc.minimal}}
		for _, variant := range variants {
			value := variant.value
			t.Run(source.Name+"/"+variant.name, func(t *testing.T) {
				codec := schema.Codec{ID: testSchemaID, Schema: source.Schema}

				record, err := codec.Encode(value)
				if err != nil {
					t.Fatalf("Encode: %v", err)
				}
				id, payload, err := schema.SplitFrame(record)
				if err != nil {
					t.Fatalf("SplitFrame: %v", err)
				}
				decoded := tc.decodeTarget()
				err = avro.Unmarshal(source.Schema, payload, decoded)

				if err != nil {
					t.Fatalf("avro.Unmarshal: %v", err)
				}
				if header := record[:5]; !bytes.Equal(header, []byte{0, 0, 0, 0, testSchemaID}) {
					t.Errorf("frame header = %v, want [0 0 0 0 42]", header)
				}
				if id != testSchemaID {
					t.Errorf("SplitFrame schema id = %d, want %d", id, testSchemaID)
				}
				if !reflect.DeepEqual(decoded, value) {
					t.Errorf("decoded value differs from the encoded one\n got: %s\nwant: %s", asJSON(t, decoded), asJSON(t, value))
				}
			})
		}
	}
}

// emptyFields returns the dotted paths of the nil pointers and empty
// slices in value, looking into nested structs and slice elements.
func emptyFields(path string, value reflect.Value) []string {
	switch value.Kind() {
	case reflect.Pointer:
		if value.IsNil() {
			return []string{path}
		}
		return emptyFields(path, value.Elem())
	case reflect.Slice:
		if value.Len() == 0 {
			return []string{path}
		}
		var empty []string
		for i := range value.Len() {
			empty = append(empty, emptyFields(fmt.Sprintf("%s[%d]", path, i), value.Index(i))...)
		}
		return empty
	case reflect.Struct:
		var empty []string
		for i := range value.NumField() {
			empty = append(empty, emptyFields(path+"."+value.Type().Field(i).Name, value.Field(i))...)
		}
		return empty
	default:
		return nil
	}
}

func TestCodecRoundTripFullValuesSetEveryField(t *testing.T) {
	for name, tc := range roundTripCases() {
		empty := emptyFields(name, reflect.ValueOf(tc.full))

		if len(empty) > 0 {
			t.Errorf("full value of %s leaves %v unset, want every optional field set and every array non-empty", name, empty)
		}
	}
}

func asJSON(t *testing.T, value any) string {
	t.Helper()
	text, err := json.Marshal(value)
	if err != nil {
		t.Fatalf("json.Marshal: %v", err)
	}
	return string(text)
}

func TestCodecEncodeRejectsWrongType(t *testing.T) {
	source, err := schema.Load(schema.InteractionPair.Key)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	codec := schema.Codec{ID: testSchemaID, Schema: source.Schema}

	record, err := codec.Encode("not a record")

	if err == nil {
		t.Errorf("Encode(string) = %v, want an error", record)
	}
}

func TestAppendFrame(t *testing.T) {
	prefix := []byte("x")

	got := schema.AppendFrame(prefix, 0x01020304)

	want := []byte{'x', 0, 1, 2, 3, 4}
	if !bytes.Equal(got, want) {
		t.Errorf("AppendFrame = %v, want %v", got, want)
	}
}

func TestSplitFrame(t *testing.T) {
	tests := []struct {
		name        string
		record      []byte
		wantID      int
		wantPayload []byte
		wantErr     error
	}{
		{name: "empty", record: nil, wantErr: schema.ErrNotFramed},
		{name: "one byte", record: []byte{0}, wantErr: schema.ErrNotFramed},
		{name: "header minus one", record: []byte{0, 0, 0, 0}, wantErr: schema.ErrNotFramed},
		{name: "wrong magic byte", record: []byte{1, 0, 0, 0, 42, 2, 'a'}, wantErr: schema.ErrNotFramed},
		{name: "JSON text", record: []byte(`{"type":"message"}`), wantErr: schema.ErrNotFramed},
		{name: "header only", record: []byte{0, 0, 0, 0, 7}, wantID: 7, wantPayload: []byte{}},
		{name: "header and payload", record: []byte{0, 0, 0, 1, 0, 2, 'a'}, wantID: 256, wantPayload: []byte{2, 'a'}},
		{name: "largest id", record: []byte{0, 0x7f, 0xff, 0xff, 0xff}, wantID: 1<<31 - 1, wantPayload: []byte{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			id, payload, err := schema.SplitFrame(tc.record)

			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("SplitFrame error = %v, want %v", err, tc.wantErr)
			}
			if id != tc.wantID {
				t.Errorf("SplitFrame id = %d, want %d", id, tc.wantID)
			}
			if !bytes.Equal(payload, tc.wantPayload) {
				t.Errorf("SplitFrame payload = %v, want %v", payload, tc.wantPayload)
			}
		})
	}
}

func TestCatalogEncodeUnknownTopic(t *testing.T) {
	catalog := schema.Catalog{}

	_, _, err := catalog.Encode("no.such.topic", &records.SlackChannelKey{}, &records.SlackMessageEvent{})

	if err == nil {
		t.Error("Catalog.Encode with an unknown topic returned nil, want an error")
	}
}

func TestValidCompatibility(t *testing.T) {
	tests := []struct {
		level string
		want  bool
	}{
		{"NONE", true},
		{"BACKWARD", true},
		{"BACKWARD_TRANSITIVE", true},
		{"FORWARD", true},
		{"FORWARD_TRANSITIVE", true},
		{"FULL", true},
		{"FULL_TRANSITIVE", true},
		{"", false},
		{"SOMETIMES", false},
		{"FORWARD TRANSITIVE", false},
		{" FULL", false},
	}
	for _, tc := range tests {
		t.Run(tc.level, func(t *testing.T) {
			got := schema.ValidCompatibility(tc.level)

			if got != tc.want {
				t.Errorf("ValidCompatibility(%q) = %t, want %t", tc.level, got, tc.want)
			}
		})
	}
}

// avroField is the part of an Avro record field that the schema checks read.
type avroField struct {
	Name       string          `json:"name"`
	Type       json.RawMessage `json:"type"`
	Doc        string          `json:"doc"`
	Default    json.RawMessage `json:"default"`
	HasDefault bool            `json:"-"`
}

// fieldVisit is one record field found by walkFields, with the dotted path
// from the top-level record.
type fieldVisit struct {
	path  string
	field avroField
}

// walkFields returns every field of the record schema in text, including
// the fields of records nested in unions and arrays. A named type that is
// referenced by name is visited where it is defined.
func walkFields(t *testing.T, name string, text []byte) []fieldVisit {
	t.Helper()
	var visits []fieldVisit
	var walkType func(path string, raw json.RawMessage)
	walkType = func(path string, raw json.RawMessage) {
		var union []json.RawMessage
		if json.Unmarshal(raw, &union) == nil {
			for _, branch := range union {
				walkType(path, branch)
			}
			return
		}
		var definition struct {
			Type   string            `json:"type"`
			Items  json.RawMessage   `json:"items"`
			Fields []json.RawMessage `json:"fields"`
		}
		if json.Unmarshal(raw, &definition) != nil {
			return
		}
		switch definition.Type {
		case "array":
			walkType(path+"[]", definition.Items)
		case "record":
			for _, rawField := range definition.Fields {
				var field avroField
				if err := json.Unmarshal(rawField, &field); err != nil {
					t.Fatalf("%s: decoding a field of %s: %v", name, path, err)
				}
				var keys map[string]json.RawMessage
				if err := json.Unmarshal(rawField, &keys); err != nil {
					t.Fatalf("%s: decoding a field of %s: %v", name, path, err)
				}
				_, field.HasDefault = keys["default"]
				fieldPath := path + "." + field.Name
				visits = append(visits, fieldVisit{path: fieldPath, field: field})
				walkType(fieldPath, field.Type)
			}
		}
	}
	walkType(name, text)
	return visits
}

func schemaFiles(t *testing.T) map[string][]byte {
	t.Helper()
	names, err := fs.Glob(schemas.FS, "*.avsc")
	if err != nil {
		t.Fatalf("listing schemas: %v", err)
	}
	if len(names) == 0 {
		t.Fatal("schemas.FS contains no .avsc file")
	}
	files := make(map[string][]byte, len(names))
	for _, name := range names {
		text, err := fs.ReadFile(schemas.FS, name)
		if err != nil {
			t.Fatalf("reading %s: %v", name, err)
		}
		files[name] = text
	}
	return files
}

func TestSchemaFieldsHaveDocs(t *testing.T) {
	for name, text := range schemaFiles(t) {
		visits := walkFields(t, name, text)

		if len(visits) == 0 {
			t.Errorf("%s: found no fields", name)
		}
		for _, visit := range visits {
			if visit.field.Doc == "" {
				t.Errorf("%s has no doc", visit.path)
			}
		}
	}
}

func TestSchemaOptionalFieldsNullFirst(t *testing.T) {
	for name, text := range schemaFiles(t) {
		for _, visit := range walkFields(t, name, text) {
			var union []json.RawMessage
			isUnion := json.Unmarshal(visit.field.Type, &union) == nil
			defaultIsNull := visit.field.HasDefault && string(visit.field.Default) == "null"

			if !isUnion {
				if defaultIsNull {
					t.Errorf("%s has default null but type %s, want a union with \"null\" first", visit.path, visit.field.Type)
				}
				continue
			}
			if len(union) == 0 || string(union[0]) != `"null"` {
				t.Errorf("%s has type %s, want a union with \"null\" first", visit.path, visit.field.Type)
			}
			if !defaultIsNull {
				t.Errorf("%s has default %q (set %t), want null", visit.path, visit.field.Default, visit.field.HasDefault)
			}
		}
	}
}

// newRegistry starts the project's in-process schema registry on a
// loopback httptest server and returns a client for it and its base URL.
func newRegistry(t *testing.T) (*srclient.SchemaRegistryClient, string) {
	t.Helper()
	server := httptest.NewServer(devstack.NewRegistry())
	t.Cleanup(server.Close)
	return srclient.NewSchemaRegistryClient(server.URL), server.URL
}

// subjectLevel returns the compatibility level set on subject itself, from
// GET /config/{subject}.
func subjectLevel(t *testing.T, baseURL, subject string) string {
	t.Helper()
	response, err := http.Get(baseURL + "/config/" + url.PathEscape(subject))
	if err != nil {
		t.Fatalf("GET /config/%s: %v", subject, err)
	}
	defer response.Body.Close()
	if response.StatusCode != http.StatusOK {
		t.Fatalf("GET /config/%s: status %s, want 200 OK", subject, response.Status)
	}
	var body struct {
		CompatibilityLevel string `json:"compatibilityLevel"`
	}
	if err := json.NewDecoder(response.Body).Decode(&body); err != nil {
		t.Fatalf("GET /config/%s: decoding the body: %v", subject, err)
	}
	return body.CompatibilityLevel
}

func subjectsOf(bindings []schema.Binding) []string {
	var subjects []string
	for _, binding := range bindings {
		subjects = append(subjects, binding.KeySubject(), binding.ValueSubject())
	}
	slices.Sort(subjects)
	return slices.Compact(subjects)
}

func schemaIDs(catalog schema.Catalog) map[string][2]int {
	ids := make(map[string][2]int, len(catalog))
	for topic, codecs := range catalog {
		ids[topic] = [2]int{codecs.Key.ID, codecs.Value.ID}
	}
	return ids
}

func TestRegisterCreatesSubjects(t *testing.T) {
	client, baseURL := newRegistry(t)
	bindings := route.DefaultTopics().Bindings()

	catalog, err := schema.Register(context.Background(), client, bindings, "FORWARD_TRANSITIVE", true)
	if err != nil {
		t.Fatalf("Register: %v", err)
	}
	subjects, err := client.GetSubjects()
	if err != nil {
		t.Fatalf("GetSubjects: %v", err)
	}

	slices.Sort(subjects)
	want := subjectsOf(bindings)
	if len(subjects) != 12 {
		t.Errorf("registry has %d subjects, want 12", len(subjects))
	}
	if !slices.Equal(subjects, want) {
		t.Errorf("subjects = %v, want %v", subjects, want)
	}
	for _, subject := range want {
		if level := subjectLevel(t, baseURL, subject); level != "FORWARD_TRANSITIVE" {
			t.Errorf("compatibility of %s = %q, want FORWARD_TRANSITIVE", subject, level)
		}
	}
	if len(catalog) != 6 {
		t.Errorf("catalog has %d topics, want 6", len(catalog))
	}
}

func TestRegisterCatalogIDs(t *testing.T) {
	client, _ := newRegistry(t)
	topics := route.DefaultTopics()

	catalog, err := schema.Register(context.Background(), client, topics.Bindings(), "FORWARD_TRANSITIVE", true)
	if err != nil {
		t.Fatalf("Register: %v", err)
	}

	channelTopics := []string{topics.AppMention, topics.MessageChannel, topics.MessageGroup, topics.MessageIM, topics.MessageMPIM}
	first := catalog[channelTopics[0]]
	for _, topic := range channelTopics[1:] {
		if got := catalog[topic].Key.ID; got != first.Key.ID {
			t.Errorf("key schema id of %s = %d, want %d as for %s", topic, got, first.Key.ID, channelTopics[0])
		}
		if got := catalog[topic].Value.ID; got != first.Value.ID {
			t.Errorf("value schema id of %s = %d, want %d as for %s", topic, got, first.Value.ID, channelTopics[0])
		}
	}
	interaction := catalog[topics.Interaction]
	distinct := []int{first.Key.ID, first.Value.ID, interaction.Key.ID, interaction.Value.ID}
	if slices.Sort(distinct); len(slices.Compact(distinct)) != 4 {
		t.Errorf("schema ids key/value of channel and interaction topics = %d/%d and %d/%d, want four distinct ids",
			first.Key.ID, first.Value.ID, interaction.Key.ID, interaction.Value.ID)
	}
	for _, id := range distinct {
		if id <= 0 {
			t.Errorf("schema id %d, want a positive id", id)
		}
	}
	wantNames := map[string]string{
		"channel key":       "lsst.square.squarebot.SlackChannelKey",
		"channel value":     "lsst.square.squarebot.SlackMessageEvent",
		"interaction key":   "lsst.square.squarebot.SlackInteractionKey",
		"interaction value": "lsst.square.squarebot.SlackInteraction",
	}
	gotSchemas := map[string]avro.Schema{
		"channel key":       first.Key.Schema,
		"channel value":     first.Value.Schema,
		"interaction key":   interaction.Key.Schema,
		"interaction value": interaction.Value.Schema,
	}
	for role, want := range wantNames {
		named, ok := gotSchemas[role].(avro.NamedSchema)
		if !ok {
			t.Errorf("%s schema is %T, want a named record schema", role, gotSchemas[role])
			continue
		}
		if named.FullName() != want {
			t.Errorf("%s schema = %s, want %s", role, named.FullName(), want)
		}
	}
}

func TestRegisterTwiceSameIDs(t *testing.T) {
	client, _ := newRegistry(t)
	bindings := route.DefaultTopics().Bindings()
	first, err := schema.Register(context.Background(), client, bindings, "FORWARD_TRANSITIVE", true)
	if err != nil {
		t.Fatalf("first Register: %v", err)
	}

	second, err := schema.Register(context.Background(), client, bindings, "FORWARD_TRANSITIVE", true)

	if err != nil {
		t.Fatalf("second Register: %v", err)
	}
	if got, want := schemaIDs(second), schemaIDs(first); !reflect.DeepEqual(got, want) {
		t.Errorf("second Register ids = %v, want %v", got, want)
	}
}

func TestRegisterLookupOnly(t *testing.T) {
	client, _ := newRegistry(t)
	bindings := route.DefaultTopics().Bindings()
	registered, err := schema.Register(context.Background(), client, bindings, "FORWARD_TRANSITIVE", true)
	if err != nil {
		t.Fatalf("Register: %v", err)
	}

	found, err := schema.Register(context.Background(), client, bindings, "FORWARD_TRANSITIVE", false)

	if err != nil {
		t.Fatalf("look-up Register: %v", err)
	}
	if got, want := schemaIDs(found), schemaIDs(registered); !reflect.DeepEqual(got, want) {
		t.Errorf("look-up ids = %v, want %v", got, want)
	}
}

func TestRegisterLookupOnlyEmptyRegistry(t *testing.T) {
	client, _ := newRegistry(t)
	bindings := route.DefaultTopics().Bindings()

	catalog, err := schema.Register(context.Background(), client, bindings, "FORWARD_TRANSITIVE", false)

	var registryErr *schema.RegistryError
	if !errors.As(err, &registryErr) {
		t.Fatalf("Register error = %v (%T), want a *schema.RegistryError", err, err)
	}
	if catalog != nil {
		t.Errorf("Register catalog = %v, want nil on error", catalog)
	}
	if want := bindings[0].KeySubject(); registryErr.Subject != want {
		t.Errorf("RegistryError.Subject = %q, want %q", registryErr.Subject, want)
	}
	if registryErr.Code != 40401 {
		t.Errorf("RegistryError.Code = %d, want 40401 (subject not found)", registryErr.Code)
	}
	subjects, err := client.GetSubjects()
	if err != nil {
		t.Fatalf("GetSubjects: %v", err)
	}
	if len(subjects) != 0 {
		t.Errorf("look-up created subjects %v, want none", subjects)
	}
}

// incompatibleSchema returns the embedded schema file with one more
// required field. Data written with the embedded schema lacks that field,
// so a reader with this schema cannot read it, and forward compatibility
// fails.
func incompatibleSchema(t *testing.T, file string) string {
	t.Helper()
	source, err := schema.Load(file)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	var document map[string]any
	if err := json.Unmarshal([]byte(source.Text), &document); err != nil {
		t.Fatalf("decoding %s: %v", file, err)
	}
	fields := document["fields"].([]any)
	document["fields"] = append(fields, map[string]any{"name": "required_extra", "type": "string", "doc": "Field with no default."})
	text, err := json.Marshal(document)
	if err != nil {
		t.Fatalf("encoding the edited %s: %v", file, err)
	}
	return string(text)
}

func TestRegisterIncompatibleSubject(t *testing.T) {
	client, baseURL := newRegistry(t)
	topics := route.DefaultTopics()
	bindings := topics.Bindings()
	target := schema.Binding{Topic: topics.Interaction, Pair: schema.InteractionPair}.ValueSubject()
	if _, err := client.ChangeSubjectCompatibilityLevel(target, srclient.None); err != nil {
		t.Fatalf("setting %s to NONE: %v", target, err)
	}
	if _, err := client.CreateSchema(target, incompatibleSchema(t, schema.InteractionPair.Value), srclient.Avro); err != nil {
		t.Fatalf("registering the edited schema under %s: %v", target, err)
	}

	catalog, err := schema.Register(context.Background(), client, bindings, "FORWARD_TRANSITIVE", true)

	var registryErr *schema.RegistryError
	if !errors.As(err, &registryErr) {
		t.Fatalf("Register error = %v (%T), want a *schema.RegistryError", err, err)
	}
	if catalog != nil {
		t.Errorf("Register catalog = %v, want nil on error", catalog)
	}
	if registryErr.Subject != target {
		t.Errorf("RegistryError.Subject = %q, want %q", registryErr.Subject, target)
	}
	if registryErr.Code != http.StatusConflict {
		t.Errorf("RegistryError.Code = %d, want 409", registryErr.Code)
	}
	if !registryErr.Permanent() {
		t.Errorf("RegistryError{Code: %d}.Permanent() = false, want true", registryErr.Code)
	}
	if level := subjectLevel(t, baseURL, target); level != "FORWARD_TRANSITIVE" {
		t.Errorf("compatibility of %s = %q, want FORWARD_TRANSITIVE", target, level)
	}
}

func TestRegisterInvalidCompatibility(t *testing.T) {
	client, _ := newRegistry(t)
	bindings := route.DefaultTopics().Bindings()

	catalog, err := schema.Register(context.Background(), client, bindings, "SOMETIMES", true)

	if err == nil {
		t.Fatalf("Register with level SOMETIMES = %v, want an error", catalog)
	}
	subjects, err := client.GetSubjects()
	if err != nil {
		t.Fatalf("GetSubjects: %v", err)
	}
	if len(subjects) != 0 {
		t.Errorf("Register with an invalid level created subjects %v, want none", subjects)
	}
}

func TestRegisterCanceledContext(t *testing.T) {
	client, _ := newRegistry(t)
	bindings := route.DefaultTopics().Bindings()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()

	_, err := schema.Register(ctx, client, bindings, "FORWARD_TRANSITIVE", true)

	if !errors.Is(err, context.Canceled) {
		t.Errorf("Register error = %v, want context.Canceled", err)
	}
}

func TestRegistryErrorPermanent(t *testing.T) {
	tests := []struct {
		name string
		code int
		want bool
	}{
		{"incompatible", 409, true},
		{"incompatible, newer code", 40901, true},
		{"invalid schema", 42201, true},
		{"invalid compatibility level", 42203, true},
		{"subject not found", 40401, false},
		{"server error", 50001, false},
		{"no error body", 0, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			registryErr := &schema.RegistryError{Subject: "topic-value", Code: tc.code, Message: "message"}

			got := registryErr.Permanent()

			if got != tc.want {
				t.Errorf("RegistryError{Code: %d}.Permanent() = %t, want %t", tc.code, got, tc.want)
			}
		})
	}
}
