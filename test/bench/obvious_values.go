package main

import (
	"encoding/json"
)

// The obvious baseline fills the typed fields of the value schemas from
// the decoded JSON maps. Optional fields are nil or a plain value, which
// hamba/avro resolves to the matching branch of a ["null", T] union. A
// record inside a union is wrapped in a one-key map named after the
// record's full name, as hamba/avro expects.
const (
	editedName        = "lsst.square.squarebot.SlackEdited"
	nestedMessageName = "lsst.square.squarebot.SlackNestedMessage"
	containerName     = "lsst.square.squarebot.SlackInteractionContainer"
	viewName          = "lsst.square.squarebot.SlackView"
)

// messageValue builds a SlackMessageEvent record from an Events API
// envelope, its inner event and the raw body.
func messageValue(envelope, event map[string]any, body []byte) map[string]any {
	subtype := optionalString(event, "subtype")
	nested := object(event, "message")
	if nested == nil {
		nested = object(event, "root")
	}
	return map[string]any{
		"type":                  stringOrEmpty(event, "type"),
		"subtype":               subtype,
		"event_id":              optionalString(envelope, "event_id"),
		"event_time":            optionalLong(envelope, "event_time"),
		"team_id":               optionalString(envelope, "team_id"),
		"context_team_id":       contextTeamID(envelope),
		"enterprise_id":         optionalString(envelope, "enterprise_id"),
		"api_app_id":            optionalString(envelope, "api_app_id"),
		"channel":               optionalString(event, "channel"),
		"channel_type":          optionalString(event, "channel_type"),
		"user":                  optionalString(event, "user"),
		"bot_id":                optionalString(event, "bot_id"),
		"is_bot":                event["bot_id"] != nil || subtype == "bot_message",
		"text":                  optionalString(event, "text"),
		"ts":                    optionalString(event, "ts"),
		"thread_ts":             optionalString(event, "thread_ts"),
		"parent_user_id":        optionalString(event, "parent_user_id"),
		"event_ts":              optionalString(event, "event_ts"),
		"edited":                editedValue(object(event, "edited")),
		"message":               nestedMessageValue(nested),
		"previous_message":      nestedMessageValue(object(event, "previous_message")),
		"deleted_ts":            optionalString(event, "deleted_ts"),
		"file_ids":              stringsOf(array(event, "files"), "id"),
		"attachment_count":      len(array(event, "attachments")),
		"block_count":           len(array(event, "blocks")),
		"is_ext_shared_channel": envelope["is_ext_shared_channel"] == true,
		"slack_json":            string(body),
	}
}

func editedValue(edited map[string]any) any {
	if edited == nil {
		return nil
	}
	return map[string]any{editedName: map[string]any{
		"user": optionalString(edited, "user"),
		"ts":   optionalString(edited, "ts"),
	}}
}

func nestedMessageValue(message map[string]any) any {
	if message == nil {
		return nil
	}
	return map[string]any{nestedMessageName: map[string]any{
		"type":      optionalString(message, "type"),
		"subtype":   optionalString(message, "subtype"),
		"user":      optionalString(message, "user"),
		"bot_id":    optionalString(message, "bot_id"),
		"text":      optionalString(message, "text"),
		"ts":        optionalString(message, "ts"),
		"thread_ts": optionalString(message, "thread_ts"),
		"edited":    editedValue(object(message, "edited")),
	}}
}

// contextTeamID returns the envelope's context_team_id, else the team of
// its first authorization.
func contextTeamID(envelope map[string]any) any {
	if team := optionalString(envelope, "context_team_id"); team != nil {
		return team
	}
	if authorizations := array(envelope, "authorizations"); len(authorizations) > 0 {
		first, _ := authorizations[0].(map[string]any)
		return optionalString(first, "team_id")
	}
	return nil
}

// keyTeamID returns the workspace of a message key: the context team, else
// the envelope's team_id.
func keyTeamID(envelope map[string]any) any {
	if team := contextTeamID(envelope); team != nil {
		return team
	}
	return optionalString(envelope, "team_id")
}

// interactionValue builds a SlackInteraction record from a decoded
// interaction payload and its raw JSON.
func interactionValue(payload map[string]any, raw string) map[string]any {
	user := object(payload, "user")
	channel := object(payload, "channel")
	container := object(payload, "container")
	userName := optionalString(user, "username")
	if userName == nil {
		userName = optionalString(user, "name")
	}
	return map[string]any{
		"type":                  stringOrEmpty(payload, "type"),
		"team_id":               interactionTeamID(payload),
		"team_domain":           optionalString(object(payload, "team"), "domain"),
		"enterprise_id":         optionalString(object(payload, "enterprise"), "id"),
		"is_enterprise_install": payload["is_enterprise_install"] == true,
		"api_app_id":            optionalString(payload, "api_app_id"),
		"user_id":               optionalString(user, "id"),
		"user_name":             userName,
		"user_team_id":          optionalString(user, "team_id"),
		"channel_id":            optionalString(channel, "id"),
		"channel_name":          optionalString(channel, "name"),
		"container":             containerValue(container),
		"trigger_id":            optionalString(payload, "trigger_id"),
		"response_url":          optionalString(payload, "response_url"),
		"response_urls":         stringsOf(array(payload, "response_urls"), "response_url"),
		"message_ts":            firstNonNil(optionalString(object(payload, "message"), "ts"), optionalString(container, "message_ts"), optionalString(payload, "message_ts")),
		"actions":               actionValues(array(payload, "actions")),
		"view":                  viewValue(object(payload, "view")),
		"state_values_json":     compactJSON(object(payload, "state")["values"]),
		"callback_id":           optionalString(payload, "callback_id"),
		"action_ts":             optionalString(payload, "action_ts"),
		"slack_json":            raw,
	}
}

// interactionTeamID returns team.id, else user.team_id, else view.team_id,
// else enterprise.id.
func interactionTeamID(payload map[string]any) any {
	return firstNonNil(
		optionalString(object(payload, "team"), "id"),
		optionalString(object(payload, "user"), "team_id"),
		optionalString(object(payload, "view"), "team_id"),
		optionalString(object(payload, "enterprise"), "id"),
	)
}

func containerValue(container map[string]any) any {
	if container == nil {
		return nil
	}
	return map[string]any{containerName: map[string]any{
		"type":          optionalString(container, "type"),
		"message_ts":    optionalString(container, "message_ts"),
		"channel_id":    optionalString(container, "channel_id"),
		"view_id":       optionalString(container, "view_id"),
		"thread_ts":     optionalString(container, "thread_ts"),
		"attachment_id": optionalLong(container, "attachment_id"),
		"is_ephemeral":  container["is_ephemeral"] == true,
	}}
}

func actionValues(actions []any) []any {
	values := make([]any, 0, len(actions))
	for _, item := range actions {
		action, _ := item.(map[string]any)
		values = append(values, map[string]any{
			"action_id":              optionalString(action, "action_id"),
			"block_id":               optionalString(action, "block_id"),
			"type":                   optionalString(action, "type"),
			"name":                   optionalString(action, "name"),
			"value":                  optionalString(action, "value"),
			"selected_option_value":  optionalString(object(action, "selected_option"), "value"),
			"selected_option_values": stringsOf(array(action, "selected_options"), "value"),
			"selected_date":          optionalString(action, "selected_date"),
			"selected_time":          optionalString(action, "selected_time"),
			"selected_user":          optionalString(action, "selected_user"),
			"selected_users":         stringsOf(array(action, "selected_users"), ""),
			"selected_channel":       optionalString(action, "selected_channel"),
			"selected_conversation":  optionalString(action, "selected_conversation"),
			"action_ts":              optionalString(action, "action_ts"),
		})
	}
	return values
}

func viewValue(view map[string]any) any {
	if view == nil {
		return nil
	}
	return map[string]any{viewName: map[string]any{
		"id":                    optionalString(view, "id"),
		"type":                  optionalString(view, "type"),
		"callback_id":           optionalString(view, "callback_id"),
		"private_metadata":      optionalString(view, "private_metadata"),
		"hash":                  optionalString(view, "hash"),
		"external_id":           optionalString(view, "external_id"),
		"root_view_id":          optionalString(view, "root_view_id"),
		"previous_view_id":      optionalString(view, "previous_view_id"),
		"app_installed_team_id": optionalString(view, "app_installed_team_id"),
		"state_values_json":     compactJSON(object(view, "state")["values"]),
	}}
}

// object returns m[key] when it is a JSON object, else nil. A nil m is
// allowed.
func object(m map[string]any, key string) map[string]any {
	value, _ := m[key].(map[string]any)
	return value
}

// array returns m[key] when it is a JSON array, else nil.
func array(m map[string]any, key string) []any {
	value, _ := m[key].([]any)
	return value
}

// optionalString returns m[key] when it is a string, else nil.
func optionalString(m map[string]any, key string) any {
	if value, ok := m[key].(string); ok {
		return value
	}
	return nil
}

// stringOrEmpty returns m[key] when it is a string, else "".
func stringOrEmpty(m map[string]any, key string) string {
	value, _ := m[key].(string)
	return value
}

// optionalLong returns m[key] as an int64 when it is a JSON number, else nil.
func optionalLong(m map[string]any, key string) any {
	if value, ok := m[key].(float64); ok {
		return int64(value)
	}
	return nil
}

// stringsOf returns the string field key of each object in items, or each
// string item itself when key is "".
func stringsOf(items []any, key string) []string {
	values := make([]string, 0, len(items))
	for _, item := range items {
		if key == "" {
			if value, ok := item.(string); ok {
				values = append(values, value)
			}
			continue
		}
		element, _ := item.(map[string]any)
		if value, ok := element[key].(string); ok {
			values = append(values, value)
		}
	}
	return values
}

// compactJSON returns value encoded as JSON, or nil when value is nil.
func compactJSON(value any) any {
	if value == nil {
		return nil
	}
	data, err := json.Marshal(value)
	if err != nil {
		return nil
	}
	return string(data)
}

func firstNonNil(values ...any) any {
	for _, value := range values {
		if value != nil {
			return value
		}
	}
	return nil
}
