package route

import (
	"github.com/lsst-sqre/squarebot/pkg/records"
	"github.com/lsst-sqre/squarebot/pkg/slack"
)

// Outcome is the gateway's action for an Events API request.
type Outcome int

const (
	// Publish means Decision.Record goes to Kafka.
	Publish Outcome = iota
	// Challenge means the request is Slack's url_verification handshake,
	// returned as Decision.Challenge.
	Challenge
	// RateLimited means Slack reports that it stopped sending events for a
	// minute (app_rate_limited); nothing is published.
	RateLimited
	// Unrouted means a valid event that no topic takes; nothing is published.
	Unrouted
)

// Decision is the routing result for one Events API request.
type Decision struct {
	Outcome Outcome
	// Record is set when Outcome is Publish.
	Record Record
	// Challenge is set when Outcome is Challenge.
	Challenge string
	// EventType names the envelope type, or the inner event type of an
	// event_callback, for logs and counters.
	EventType string
}

// Router maps Slack payloads to Kafka records. It is safe for concurrent use.
type Router struct {
	topics Topics
}

// NewRouter returns a Router that publishes to topics.
func NewRouter(topics Topics) *Router {
	return &Router{topics: topics}
}

// Event routes an Events API request. body is the raw request body,
// stored whole in the record without a copy: body must stay unchanged
// while the record is in use.
func (r *Router) Event(envelope *slack.EventEnvelope, body []byte, delivery Delivery) Decision {
	switch envelope.Type {
	case slack.TypeURLVerification:
		return Decision{Outcome: Challenge, Challenge: envelope.Challenge, EventType: envelope.Type}
	case slack.TypeAppRateLimited:
		return Decision{Outcome: RateLimited, EventType: envelope.Type}
	case slack.TypeEventCallback:
	default:
		return Decision{Outcome: Unrouted, EventType: envelope.Type}
	}

	event := envelope.Event
	topic := r.eventTopic(event)
	if topic == "" {
		return Decision{Outcome: Unrouted, EventType: event.Type}
	}
	var strs stringBlock
	record := Record{
		Topic: topic,
		Key: &records.SlackChannelKey{
			TeamID:  strs.optional(envelope.ContextTeam()),
			Channel: strs.optional(event.Channel),
		},
		Value:   messageValue(envelope, body, &strs),
		Headers: delivery.headers(envelope.EventID),
	}
	return Decision{Outcome: Publish, Record: record, EventType: event.Type}
}

// eventTopic returns the topic of an inner event, or "" when none takes it.
// Messages go by channel_type only, never by the channel id's prefix,
// because private channels can have C ids.
func (r *Router) eventTopic(event *slack.Event) string {
	switch event.Type {
	case "app_mention":
		return r.topics.AppMention
	case "message":
		switch event.ChannelType {
		case "channel":
			return r.topics.MessageChannel
		case "group":
			return r.topics.MessageGroup
		case "im":
			return r.topics.MessageIM
		case "mpim":
			return r.topics.MessageMPIM
		}
	}
	return ""
}

func messageValue(envelope *slack.EventEnvelope, body []byte, strs *stringBlock) *records.SlackMessageEvent {
	event := envelope.Event
	value := &records.SlackMessageEvent{
		Type:               event.Type,
		Subtype:            strs.optional(event.Subtype),
		EventID:            strs.optional(envelope.EventID),
		EventTime:          optionalInt64(envelope.EventTime),
		TeamID:             strs.optional(envelope.TeamID),
		ContextTeamID:      strs.optional(envelope.ContextTeam()),
		EnterpriseID:       strs.optional(envelope.Enterprise()),
		APIAppID:           strs.optional(envelope.APIAppID),
		Channel:            strs.optional(event.Channel),
		ChannelType:        strs.optional(event.ChannelType),
		User:               strs.optional(event.User),
		BotID:              strs.optional(event.BotID),
		IsBot:              event.BotID != "" || event.Subtype == "bot_message",
		Text:               event.Text,
		Ts:                 strs.optional(event.TS),
		ThreadTs:           strs.optional(event.ThreadTS),
		ParentUserID:       strs.optional(event.ParentUserID),
		EventTs:            strs.optional(event.EventTS),
		Edited:             edited(event.Edited, strs),
		Message:            nestedMessage(event.Message, strs),
		PreviousMessage:    nestedMessage(event.PreviousMessage, strs),
		DeletedTs:          strs.optional(event.DeletedTS),
		FileIds:            make([]string, 0, len(event.Files)),
		AttachmentCount:    int(event.Attachments),
		BlockCount:         int(event.Blocks),
		IsExtSharedChannel: envelope.IsExtSharedChannel,
		SlackJSON:          sharedString(body),
	}
	if value.Message == nil {
		value.Message = nestedMessage(event.Root, strs)
	}
	for _, file := range event.Files {
		if file.ID != "" {
			value.FileIds = append(value.FileIds, file.ID)
		}
	}
	return value
}

// Interaction routes an interaction payload; every type goes to the
// interaction topic. payload is the decoded payload JSON, stored whole in
// the record without a copy: payload must stay unchanged while the record
// is in use.
func (r *Router) Interaction(interaction *slack.Interaction, payload []byte, delivery Delivery) Record {
	var userID string
	if interaction.User != nil {
		userID = interaction.User.ID
	}
	var strs stringBlock
	return Record{
		Topic: r.topics.Interaction,
		Key: &records.SlackInteractionKey{
			TeamID: strs.optional(interaction.TeamID()),
			UserID: strs.optional(userID),
		},
		Value:   interactionValue(interaction, payload, &strs),
		Headers: delivery.headers(""),
	}
}
