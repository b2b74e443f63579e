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
