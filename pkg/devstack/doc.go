// Package devstack holds the in-process Kafka broker and schema registry
// that `squarebot dev` and the tests run against.
//
// The schema registry, Registry, speaks the subset of Confluent Schema
// Registry's REST API that github.com/riferrei/srclient and the Confluent
// serializers call, for Avro schemas only. It keeps its state in memory and
// has no authentication, so neither part of this package is for production.
package devstack
