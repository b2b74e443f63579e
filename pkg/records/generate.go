// Package records holds the Go types of Squarebot's Kafka record keys and
// values, generated from the Avro schemas in the repository's schemas folder.
//
// Each type maps field by field to one schema through `avro` struct tags, so
// it can be encoded and decoded with github.com/hamba/avro/v2 against the
// embedded schema or against a compatible writer schema from the registry.
// Do not edit records.go by hand: change the .avsc file and run
// `go generate ./...`.
package records

//go:generate go run github.com/hamba/avro/v2/cmd/avrogen -pkg records -o records.go -tags json:snake ../../schemas/slack_channel_key.avsc ../../schemas/slack_message_event.avsc ../../schemas/slack_interaction_key.avsc ../../schemas/slack_interaction.avsc
