package slack

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"unicode/utf8"
)

// Interaction is the payload of an interactive component request
// (block_actions, view_submission, view_closed, shortcut, message_action,
// block_suggestion and the legacy interactive_message, dialog_submission and
// dialog_cancellation). Fields that a type does not have stay empty; unknown
// fields and element types are ignored here and kept in the raw payload.
type Interaction struct {
	Type                string        `json:"type"`
	Team                *Team         `json:"team"`
	Enterprise          *Enterprise   `json:"enterprise"`
	IsEnterpriseInstall bool          `json:"is_enterprise_install"`
	APIAppID            string        `json:"api_app_id"`
	User                *User         `json:"user"`
	Channel             *Channel      `json:"channel"`
	Container           *Container    `json:"container"`
	TriggerID           string        `json:"trigger_id"`
	ResponseURL         string        `json:"response_url"`
	ResponseURLs        []ResponseURL `json:"response_urls"`
	Message             *MessageRef   `json:"message"`
	MessageTS           string        `json:"message_ts"`
	Actions             []Action      `json:"actions"`
	View                *View         `json:"view"`
	// State is an object with the input values in block_actions, but an
	// opaque string in legacy dialog payloads, so it stays raw here.
	State      json.RawMessage `json:"state"`
	CallbackID string          `json:"callback_id"`
	ActionTS   string          `json:"action_ts"`
}

// Team is a workspace reference.
type Team struct {
	ID     string `json:"id"`
	Domain string `json:"domain"`
}

// Enterprise is an Enterprise Grid organisation reference.
type Enterprise struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// User is the user who acted. Legacy payloads have name but no username.
type User struct {
	ID       string `json:"id"`
	Username string `json:"username"`
	Name     string `json:"name"`
	TeamID   string `json:"team_id"`
}

// Channel is a conversation reference.
type Channel struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// Container is the location of the element the user operated.
type Container struct {
	Type         string `json:"type"`
	MessageTS    string `json:"message_ts"`
	ChannelID    string `json:"channel_id"`
	ViewID       string `json:"view_id"`
	ThreadTS     string `json:"thread_ts"`
	AttachmentID *int64 `json:"attachment_id"`
	IsEphemeral  bool   `json:"is_ephemeral"`
}

// ResponseURL is one entry of a view_submission's response_urls.
type ResponseURL struct {
	BlockID     string `json:"block_id"`
	ActionID    string `json:"action_id"`
	ChannelID   string `json:"channel_id"`
	ResponseURL string `json:"response_url"`
}

// MessageRef is the message an element was on; only its timestamp is typed.
type MessageRef struct {
	TS string `json:"ts"`
}

// Action is one element operation of a block_actions or legacy
// interactive_message payload. Element types vary and new ones appear, so
// decoding never fails on a field's JSON type: a string field that holds
// another JSON value keeps that value's JSON text.
type Action struct {
	ActionID             string
	BlockID              string
	Type                 string
	Name                 string
	Value                *string
	SelectedOption       *Option
	SelectedOptions      []Option
	SelectedDate         *string
	SelectedTime         *string
	SelectedUser         *string
	SelectedUsers        []string
	SelectedChannel      *string
	SelectedConversation *string
	ActionTS             string
}

// UnmarshalJSON decodes an action leniently, as the Action doc describes.
func (a *Action) UnmarshalJSON(data []byte) error {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(data, &fields); err != nil {
		return err
	}
	*a = Action{
		ActionID:             derefText(fields["action_id"]),
		BlockID:              derefText(fields["block_id"]),
		Type:                 derefText(fields["type"]),
		Name:                 derefText(fields["name"]),
		Value:                text(fields["value"]),
		SelectedOption:       option(fields["selected_option"]),
		SelectedDate:         text(fields["selected_date"]),
		SelectedTime:         text(fields["selected_time"]),
		SelectedUser:         text(fields["selected_user"]),
		SelectedUsers:        texts(fields["selected_users"]),
		SelectedChannel:      text(fields["selected_channel"]),
		SelectedConversation: text(fields["selected_conversation"]),
		ActionTS:             derefText(fields["action_ts"]),
	}
	var options []json.RawMessage
	if json.Unmarshal(fields["selected_options"], &options) == nil {
		for _, raw := range options {
			if selected := option(raw); selected != nil {
				a.SelectedOptions = append(a.SelectedOptions, *selected)
			}
		}
	}
	return nil
}

// text returns a JSON string's value, the JSON text of any other value, or
// nil for a missing field or null.
func text(raw json.RawMessage) *string {
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	var value string
	if json.Unmarshal(raw, &value) != nil {
		value = string(raw)
	}
	return &value
}

func derefText(raw json.RawMessage) string {
	if value := text(raw); value != nil {
		return *value
	}
	return ""
}

func texts(raw json.RawMessage) []string {
	var items []json.RawMessage
	if json.Unmarshal(raw, &items) != nil {
		return nil
	}
	values := make([]string, 0, len(items))
	for _, item := range items {
		if value := text(item); value != nil {
			values = append(values, *value)
		}
	}
	return values
}

func option(raw json.RawMessage) *Option {
	var fields map[string]json.RawMessage
	if json.Unmarshal(raw, &fields) != nil || fields == nil {
		return nil
	}
	return &Option{Value: derefText(fields["value"])}
}

// Option is a selected menu, overflow, radio or checkbox option.
type Option struct {
	Value string `json:"value"`
}

// View is a modal or App Home view.
type View struct {
	ID                 string `json:"id"`
	TeamID             string `json:"team_id"`
	Type               string `json:"type"`
	CallbackID         string `json:"callback_id"`
	PrivateMetadata    string `json:"private_metadata"`
	Hash               string `json:"hash"`
	ExternalID         string `json:"external_id"`
	RootViewID         string `json:"root_view_id"`
	PreviousViewID     string `json:"previous_view_id"`
	AppInstalledTeamID string `json:"app_installed_team_id"`
	State              *State `json:"state"`
}

// State holds the current input values, kept as raw JSON because their
// shape depends on each element type.
type State struct {
	Values json.RawMessage `json:"values"`
}

// Errors of ParseInteractionForm about the form itself. Both match
// ErrMalformedPayload too.
var (
	// ErrNoPayloadField means the form has no non-empty payload field.
	ErrNoPayloadField = fmt.Errorf("%w: no payload field", ErrMalformedPayload)
	// ErrInvalidForm means the body is not valid form encoding or repeats
	// the payload field.
	ErrInvalidForm = fmt.Errorf("%w: invalid form", ErrMalformedPayload)
)

// ParseInteractionForm decodes an interaction request body: a
// form-encoded body whose payload field holds the interaction JSON. It
// returns the decoded interaction and the payload JSON, in a new slice that
// does not share memory with body. Errors match ErrMalformedPayload.
func ParseInteractionForm(body []byte) (*Interaction, []byte, error) {
	payload, err := formPayload(body)
	if err != nil {
		return nil, nil, err
	}
	if !utf8.Valid(payload) {
		return nil, nil, fmt.Errorf("%w: payload field is not valid UTF-8 after form decoding", ErrMalformedPayload)
	}
	interaction, err := ParseInteraction(payload)
	if err != nil {
		return nil, nil, err
	}
	return interaction, payload, nil
}

// ParseInteraction decodes interaction JSON. The payload must be an object
// with a type. Errors match ErrMalformedPayload.
func ParseInteraction(payload []byte) (*Interaction, error) {
	if !validJSON(payload) {
		return nil, fmt.Errorf("%w: invalid JSON", ErrMalformedPayload)
	}
	var interaction Interaction
	reader := jsonReader{data: payload}
	reader.interaction(&interaction)
	if reader.err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformedPayload, reader.err)
	}
	if interaction.Type == "" {
		return nil, fmt.Errorf("%w: no type field", ErrMalformedPayload)
	}
	return &interaction, nil
}

// StateValues returns state.values of a block_actions payload on a
// message, or nil when the payload has no state object.
func (i *Interaction) StateValues() json.RawMessage {
	// jsonReader needs validated JSON, and an Interaction need not come
	// from ParseInteraction.
	if len(i.State) == 0 || i.State[0] != '{' || !validJSON(i.State) {
		return nil
	}
	var state State
	reader := jsonReader{data: i.State}
	reader.state(&state)
	if reader.err != nil {
		return nil
	}
	return state.Values
}

// TeamID returns the workspace of the interaction: team.id, else
// user.team_id, else view.team_id, else enterprise.id. Org-wide installs
// send "team": null, so the later sources matter there.
func (i *Interaction) TeamID() string {
	switch {
	case i.Team != nil && i.Team.ID != "":
		return i.Team.ID
	case i.User != nil && i.User.TeamID != "":
		return i.User.TeamID
	case i.View != nil && i.View.TeamID != "":
		return i.View.TeamID
	case i.Enterprise != nil:
		return i.Enterprise.ID
	default:
		return ""
	}
}

// EncodeInteractionForm builds the request body Slack sends for an
// interaction: the payload JSON compacted and form-encoded as payload=...
func EncodeInteractionForm(payload []byte) ([]byte, error) {
	var compact bytes.Buffer
	if err := json.Compact(&compact, payload); err != nil {
		return nil, fmt.Errorf("compacting interaction payload: %w", err)
	}
	return []byte(url.Values{"payload": {compact.String()}}.Encode()), nil
}
