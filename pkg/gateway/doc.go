// Package gateway is Squarebot's HTTP service: the Echo server with the
// Slack endpoints, the admin listener with health, readiness and metrics,
// and the start-up and shutdown sequence that ties them to the schema
// registry and the Kafka producer.
//
// Requests are verified before their body is parsed, and a request is
// answered 200 only after Kafka has acknowledged its record. The package
// does not answer block_suggestion or view_submission requests with
// options or validation errors: both are published and answered with an
// empty 200.
package gateway
