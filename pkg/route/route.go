// Package route decides where a Slack payload goes: the Kafka topic, the
// key and value records, and the record headers.
//
// It turns the types of package slack into the generated types of package
// records and leaves encoding and publishing to its callers.
package route

import (
	"github.com/lsst-sqre/squarebot/pkg/schema"
)

// Default topic names.
const (
	DefaultAppMentionTopic     = "lsst.square-events.squarebot.slack.app.mention"
	DefaultMessageChannelTopic = "lsst.square-events.squarebot.slack.message.channel"
	DefaultMessageGroupTopic   = "lsst.square-events.squarebot.slack.message.group"
	DefaultMessageIMTopic      = "lsst.square-events.squarebot.slack.message.im"
	DefaultMessageMPIMTopic    = "lsst.square-events.squarebot.slack.message.mpim"
	DefaultInteractionTopic    = "lsst.square-events.squarebot.slack.interaction"
)

// Topics names the six Kafka topics Squarebot publishes to.
type Topics struct {
	// AppMention receives app_mention events.
	AppMention string
	// MessageChannel receives message events from public channels.
	MessageChannel string
	// MessageGroup receives message events from private channels.
	MessageGroup string
	// MessageIM receives message events from direct messages.
	MessageIM string
	// MessageMPIM receives message events from multi-person direct messages.
	MessageMPIM string
	// Interaction receives every interaction payload.
	Interaction string
}

// DefaultTopics returns the default topic names.
func DefaultTopics() Topics {
	return Topics{
		AppMention:     DefaultAppMentionTopic,
		MessageChannel: DefaultMessageChannelTopic,
		MessageGroup:   DefaultMessageGroupTopic,
		MessageIM:      DefaultMessageIMTopic,
		MessageMPIM:    DefaultMessageMPIMTopic,
		Interaction:    DefaultInteractionTopic,
	}
}

// Bindings returns each topic with its pair of schemas, in a fixed order.
func (t Topics) Bindings() []schema.Binding {
	return []schema.Binding{
		{Topic: t.AppMention, Pair: schema.ChannelPair},
		{Topic: t.MessageChannel, Pair: schema.ChannelPair},
		{Topic: t.MessageGroup, Pair: schema.ChannelPair},
		{Topic: t.MessageIM, Pair: schema.ChannelPair},
		{Topic: t.MessageMPIM, Pair: schema.ChannelPair},
		{Topic: t.Interaction, Pair: schema.InteractionPair},
	}
}

// Names returns the six topic names in the order of Bindings.
func (t Topics) Names() []string {
	return []string{t.AppMention, t.MessageChannel, t.MessageGroup, t.MessageIM, t.MessageMPIM, t.Interaction}
}
