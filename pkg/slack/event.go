package slack

import (
	"encoding/json"
	"errors"
	"fmt"
)

// Envelope types of the Events API.
const (
	TypeEventCallback   = "event_callback"
	TypeURLVerification = "url_verification"
	TypeAppRateLimited  = "app_rate_limited"
)

// ErrMalformedPayload means a request body or payload is not the JSON that
// Slack sends: invalid JSON, a non-object, or a required field missing.
var ErrMalformedPayload = errors.New("malformed Slack payload")

// EventEnvelope is the body of an Events API request: the outer callback
// with one inner event. Fields Squarebot does not type are still available
// in the raw body it keeps.
type EventEnvelope struct {
	Type                string          `json:"type"`
	Challenge           string          `json:"challenge"`
	TeamID              string          `json:"team_id"`
	ContextTeamID       string          `json:"context_team_id"`
	EnterpriseID        string          `json:"enterprise_id"`
	ContextEnterpriseID string          `json:"context_enterprise_id"`
	APIAppID            string          `json:"api_app_id"`
	EventID             string          `json:"event_id"`
	EventTime           int64           `json:"event_time"`
	IsExtSharedChannel  bool            `json:"is_ext_shared_channel"`
	Authorizations      []Authorization `json:"authorizations"`
	Event               *Event          `json:"event"`
	// MinuteRateLimited is set on app_rate_limited: the start of the minute
	// in which Slack stopped sending events, in Unix seconds.
	MinuteRateLimited int64 `json:"minute_rate_limited"`
}

// Authorization is one installation the event is visible to.
type Authorization struct {
	EnterpriseID string `json:"enterprise_id"`
	TeamID       string `json:"team_id"`
	UserID       string `json:"user_id"`
	IsBot        bool   `json:"is_bot"`
}

// Event is the inner event of an event_callback. It types the fields of
// message and app_mention events; other event types decode into it too,
// with most fields empty.
type Event struct {
	Type            string         `json:"type"`
	Subtype         string         `json:"subtype"`
	Channel         string         `json:"channel"`
	ChannelType     string         `json:"channel_type"`
	User            string         `json:"user"`
	BotID           string         `json:"bot_id"`
	Text            *string        `json:"text"`
	TS              string         `json:"ts"`
	ThreadTS        string         `json:"thread_ts"`
	ParentUserID    string         `json:"parent_user_id"`
	EventTS         string         `json:"event_ts"`
	Edited          *Edited        `json:"edited"`
	Message         *NestedMessage `json:"message"`
	Root            *NestedMessage `json:"root"`
	PreviousMessage *NestedMessage `json:"previous_message"`
	DeletedTS       string         `json:"deleted_ts"`
	Files           []File         `json:"files"`
	Attachments     ElementCount   `json:"attachments"`
	Blocks          ElementCount   `json:"blocks"`
}

// ElementCount is the number of elements of a JSON array whose content
// is not needed, such as a message's blocks: decoding it skips the
// elements without keeping them. A value other than an array counts 0.
type ElementCount int

// UnmarshalJSON counts the elements for encoding/json. Squarebot's own
// decoder, jsonReader, counts them without allocating.
func (c *ElementCount) UnmarshalJSON(data []byte) error {
	var elements []json.RawMessage
	if err := json.Unmarshal(data, &elements); err != nil {
		*c = 0
		return nil
	}
	*c = ElementCount(len(elements))
	return nil
}

// Edited records the last edit of a message.
type Edited struct {
	User string `json:"user"`
	TS   string `json:"ts"`
}

// NestedMessage is a message inside a message event: the new or old version
// of an edited or deleted message, or the root of a thread broadcast.
type NestedMessage struct {
	Type     string  `json:"type"`
	Subtype  string  `json:"subtype"`
	User     string  `json:"user"`
	BotID    string  `json:"bot_id"`
	Text     *string `json:"text"`
	TS       string  `json:"ts"`
	ThreadTS string  `json:"thread_ts"`
	Edited   *Edited `json:"edited"`
}

// File is a file shared in a message; only its id is typed.
type File struct {
	ID string `json:"id"`
}

// ParseEventEnvelope decodes an Events API request body. It checks the
// shape that routing relies on: a JSON object with a type, and for an
// event_callback an event object with a type. Errors match
// ErrMalformedPayload.
func ParseEventEnvelope(body []byte) (*EventEnvelope, error) {
	if !validJSON(body) {
		return nil, fmt.Errorf("%w: invalid JSON", ErrMalformedPayload)
	}
	var envelope EventEnvelope
	reader := jsonReader{data: body}
	reader.envelope(&envelope)
	if reader.err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformedPayload, reader.err)
	}
	if envelope.Type == "" {
		return nil, fmt.Errorf("%w: no type field", ErrMalformedPayload)
	}
	if envelope.Type == TypeEventCallback {
		if envelope.Event == nil {
			return nil, fmt.Errorf("%w: event_callback without event", ErrMalformedPayload)
		}
		if envelope.Event.Type == "" {
			return nil, fmt.Errorf("%w: event without type", ErrMalformedPayload)
		}
	}
	return &envelope, nil
}

// ContextTeam returns the workspace in whose context the app received the
// event: context_team_id, else the first authorization's team, else
// team_id. It is the same for every message of a Slack Connect channel,
// whichever organisation the author belongs to.
func (e *EventEnvelope) ContextTeam() string {
	if e.ContextTeamID != "" {
		return e.ContextTeamID
	}
	if len(e.Authorizations) > 0 && e.Authorizations[0].TeamID != "" {
		return e.Authorizations[0].TeamID
	}
	return e.TeamID
}

// Enterprise returns the Enterprise Grid organisation of the event, or "".
func (e *EventEnvelope) Enterprise() string {
	if e.EnterpriseID != "" {
		return e.EnterpriseID
	}
	if e.ContextEnterpriseID != "" {
		return e.ContextEnterpriseID
	}
	if len(e.Authorizations) > 0 {
		return e.Authorizations[0].EnterpriseID
	}
	return ""
}
