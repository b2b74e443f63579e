package slack_test

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/lsst-sqre/squarebot/pkg/slack"
)

// TestParseEventEnvelopeMatchesEncodingJSON covers the rules of
// encoding/json that Squarebot's decoder follows on purpose: repeated
// keys, case-insensitive keys, null for each kind of field and type
// mismatches.
func TestParseEventEnvelopeMatchesEncodingJSON(t *testing.T) {
	for _, body := range []string{
		`{"type":"event_callback","event":{"type":"message","edited":{"user":"U1"},"edited":{"ts":"1.2"}}}`,
		`{"type":"event_callback","event":{"type":"message","edited":{"user":"U1"},"edited":null}}`,
		`{"type":"x","authorizations":[{"team_id":"T1","user_id":"U1"},{"team_id":"T2"}],"authorizations":[{"team_id":"T3"}]}`,
		`{"type":"x","authorizations":[{"team_id":"T1"},{"team_id":"T2"}],"authorizations":[{"user_id":"U3"}],"authorizations":[{},{}]}`,
		`{"type":"x","authorizations":[]}`,
		`{"type":"x","authorizations":null}`,
		`{"type":"x","authorizations":[null,{"is_bot":true}]}`,
		`{"type":"x","authorizations":{}}`,
		`{"type":"x","authorizations":[1]}`,
		`{"TYPE":"x","Team_ID":"T1","tEaM_iD":"T2"}`,
		"{\"type\":\"x\",\"team_id\":\"T1\",\"\u212aey\":\"K\",\"\u017fubtype\":\"s\"}",
		`{"type":"event_callback","event":{"\u017fubtype":"bot_message","type":"message"}}`,
		`{"type":"x","team_\u0069d":"T9"}`,
		`{"type":"x","team_id":null,"team_id":"T1","team_id":null}`,
		`{"type":"x","event_time":1718000000,"event_time":null}`,
		`{"type":"x","event_time":1.5}`,
		`{"type":"x","event_time":1e3}`,
		`{"type":"x","event_time":-0}`,
		`{"type":"x","event_time":99999999999999999999}`,
		`{"type":"x","event_time":"1"}`,
		`{"type":"x","is_ext_shared_channel":"true"}`,
		`{"type":"x","is_ext_shared_channel":true,"is_ext_shared_channel":null}`,
		`{"type":1}`,
		`{"type":"event_callback","event":[]}`,
		`{"type":"event_callback","event":{"type":"message","text":null}}`,
		`{"type":"event_callback","event":{"type":"message","text":"a","text":null}}`,
		`{"type":"event_callback","event":{"type":"message","text":"tab\tin\u00e9\ud800x\\n"}}`,
		`{"type":"event_callback","event":{"type":"message","blocks":[1,[2],{"a":"]"}],"attachments":"x"}}`,
		`{"type":"event_callback","event":{"type":"message","blocks":null,"files":[{"id":"F1"},null,{"id":null}]}}`,
		`{"type":"event_callback","event":{"type":"message","files":[{"id":"F1","name":"a"}],"files":[{"mode":"x"}]}}`,
		`{"type":"event_callback","event":{"type":"message","message":{"text":"a"},"root":{"edited":{"ts":"1"}},"previous_message":null}}`,
		`{"type":"event_callback","event":{"type":"message","message":"text"}}`,
		`null`, `[]`, `"x"`, `1`, `{}`,
	} {
		t.Run(body, func(t *testing.T) {
			var want slack.EventEnvelope
			wantErr := json.Unmarshal([]byte(body), &want)

			got, err := slack.ParseEventEnvelope([]byte(body))

			wantOK := wantErr == nil && want.Type != "" &&
				(want.Type != slack.TypeEventCallback || want.Event != nil && want.Event.Type != "")
			if (err == nil) != wantOK {
				t.Fatalf("ParseEventEnvelope error = %v, encoding/json error = %v", err, wantErr)
			}
			if err == nil && !reflect.DeepEqual(*got, want) {
				t.Errorf("ParseEventEnvelope decoded\n%+v\nencoding/json decoded\n%+v", *got, want)
			}
		})
	}
}

// TestParseInteractionMatchesEncodingJSON covers the same rules for
// interaction payloads, and the lenient decoding of actions.
func TestParseInteractionMatchesEncodingJSON(t *testing.T) {
	for _, payload := range []string{
		`{"type":"block_actions","team":{"id":"T1"},"team":{"domain":"d"},"user":null}`,
		`{"type":"block_actions","TEAM":{"ID":"T1"},"Container":{"Attachment_ID":3}}`,
		`{"type":"block_actions","container":{"attachment_id":1},"container":{"attachment_id":null}}`,
		`{"type":"block_actions","container":{"attachment_id":1.5}}`,
		`{"type":"block_actions","container":{"attachment_id":"1"}}`,
		`{"type":"block_actions","container":{"is_ephemeral":true,"message_ts":"1.2"}}`,
		`{"type":"block_actions","state":null}`,
		`{"type":"block_actions","state": {"values": {"b": {"a": {"type": "x"}}}} }`,
		`{"type":"dialog_submission","state":"opaque","state":"again"}`,
		`{"type":"view_submission","view":{"state":{"values":{}},"state":null}}`,
		`{"type":"view_submission","view":{"state":{"values":null}},"response_urls":[{"response_url":"u"},null]}`,
		`{"type":"view_submission","response_urls":[{"block_id":"b"}],"response_urls":[{"action_id":"a"},{}]}`,
		`{"type":"block_actions","actions":[]}`,
		`{"type":"block_actions","actions":null}`,
		`{"type":"block_actions","actions":[null]}`,
		`{"type":"block_actions","actions":[1]}`,
		`{"type":"block_actions","actions":["a"]}`,
		`{"type":"block_actions","actions":[{"value":{"a": 1},"action_id":7,"Action_ID":"x","block_id":null}]}`,
		`{"type":"block_actions","actions":[{"value":"a","value":null,"selected_date":[1, 2]}]}`,
		`{"type":"block_actions","actions":[{"selected_option":{"value":"v"},"selected_options":[null,1,{},{"value":2}]}]}`,
		`{"type":"block_actions","actions":[{"selected_option":null,"selected_options":[]}]}`,
		`{"type":"block_actions","actions":[{"selected_option":"x","selected_options":{}}]}`,
		`{"type":"block_actions","actions":[{"selected_users":null}]}`,
		`{"type":"block_actions","actions":[{"selected_users":[]}]}`,
		`{"type":"block_actions","actions":[{"selected_users":["U1",null,3,{"a":"b"}]}]}`,
		`{"type":"block_actions","actions":[{"selected_users":"U1"}]}`,
		`{"type":"block_actions","actions":[{"value":"caf\u00e9 \ud83d\ude00 \n"}]}`,
		`{"type":"block_actions","actions":[{"act\u0069on_id":"escaped key"}]}`,
		`{"type":"block_actions","actions":[{"action_id":"a"}],"actions":[{"block_id":"b"}]}`,
		`{"type":"shortcut","is_enterprise_install":"false"}`,
		`{"type":2}`, `null`, `[]`, `{}`,
	} {
		t.Run(payload, func(t *testing.T) {
			var want slack.Interaction
			wantErr := json.Unmarshal([]byte(payload), &want)

			got, err := slack.ParseInteraction([]byte(payload))

			if wantOK := wantErr == nil && want.Type != ""; (err == nil) != wantOK {
				t.Fatalf("ParseInteraction error = %v, encoding/json error = %v", err, wantErr)
			}
			if err == nil && !reflect.DeepEqual(*got, want) {
				t.Errorf("ParseInteraction decoded\n%+v\nencoding/json decoded\n%+v", *got, want)
			}
			if err == nil && !reflect.DeepEqual(got.StateValues(), want.StateValues()) {
				t.Errorf("StateValues = %s, from encoding/json %s", got.StateValues(), want.StateValues())
			}
		})
	}
}
