// Package slack verifies Slack's signed HTTP requests and decodes the
// payloads of the Events API and of interactive components.
//
// It does not handle Kafka or Avro: it turns request bytes into Go values
// and reports why a request is not acceptable. It does not call Slack's Web
// API and does not handle slash commands.
package slack
