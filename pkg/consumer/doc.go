// Package consumer decodes Squarebot's Kafka records into the generated
// types of package records, for backend services written in Go.
//
// Squarebot writes every key and value in the Confluent wire format: a zero
// magic byte, the writer schema's registry id as a 4-byte big-endian
// integer, then the Avro binary encoding. A Decoder fetches the writer
// schema from the schema registry by that id, caches it, and decodes with
// Avro schema resolution against the reader schema, which is the schema
// that the Go type was generated from. So a consumer built against an older
// version of a schema keeps working when Squarebot writes a newer compatible
// one. Fields that the reader does not have are skipped, and reader fields
// that the writer lacks take their default.
//
//	decoder, err := consumer.NewDecoder("http://registry:8081")
//	...
//	key, event, err := decoder.DecodeMessage(ctx, record.Key, record.Value)
//
// The package only decodes. It does not consume from Kafka, so any client
// works (franz-go, confluent-kafka-go, sarama), and it does not deduplicate.
// Consumers should deduplicate message events on their event_id field (also
// sent in the slack_event_id header, see EventID). Slack retries a delivery
// that it considers failed with the same event id. Squarebot also responds
// with 503 when Kafka does not acknowledge a record in time, and such a
// record may still be stored, so Slack's retry then adds a second copy.
// Interactions have no event id.
package consumer
