package devstack

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/hamba/avro/v2"
)

// compatibilityLevel is one of Confluent's subject compatibility levels.
type compatibilityLevel string

// The levels that Confluent Schema Registry defines. BACKWARD is its default.
const (
	levelNone               compatibilityLevel = "NONE"
	levelBackward           compatibilityLevel = "BACKWARD"
	levelBackwardTransitive compatibilityLevel = "BACKWARD_TRANSITIVE"
	levelForward            compatibilityLevel = "FORWARD"
	levelForwardTransitive  compatibilityLevel = "FORWARD_TRANSITIVE"
	levelFull               compatibilityLevel = "FULL"
	levelFullTransitive     compatibilityLevel = "FULL_TRANSITIVE"
)

// parseLevel maps a level name to its constant. Like Confluent, it ignores
// letter case.
func parseLevel(name string) (compatibilityLevel, bool) {
	level := compatibilityLevel(strings.ToUpper(name))
	switch level {
	case levelNone, levelBackward, levelBackwardTransitive, levelForward,
		levelForwardTransitive, levelFull, levelFullTransitive:
		return level, true
	}
	return "", false
}

// checksBackward reports whether the level requires the new schema to read
// data written with earlier versions.
func (l compatibilityLevel) checksBackward() bool {
	switch l {
	case levelBackward, levelBackwardTransitive, levelFull, levelFullTransitive:
		return true
	}
	return false
}

// checksForward reports whether the level requires earlier versions to read
// data written with the new schema.
func (l compatibilityLevel) checksForward() bool {
	switch l {
	case levelForward, levelForwardTransitive, levelFull, levelFullTransitive:
		return true
	}
	return false
}

// transitive reports whether the level checks every live version rather
// than only the latest one.
func (l compatibilityLevel) transitive() bool {
	switch l {
	case levelBackwardTransitive, levelForwardTransitive, levelFullTransitive:
		return true
	}
	return false
}

// findIncompatibilities checks candidate against the last of versions, or
// against all of them for a transitive level, and returns one message per
// failed check. An empty result means that the candidate is compatible. The
// versions must be in ascending order.
func findIncompatibilities(level compatibilityLevel, candidate avro.Schema, versions []*version) []string {
	if len(versions) == 0 || level == levelNone {
		return nil
	}
	if !level.transitive() {
		versions = versions[len(versions)-1:]
	}

	var messages []string
	for _, v := range versions {
		old := v.schema.parsed
		if level.checksBackward() {
			if err := checkReadable(candidate, old); err != nil {
				messages = append(messages, fmt.Sprintf(
					"the new schema cannot read data written with version %d: %v", v.number, err))
			}
		}
		if level.checksForward() {
			if err := checkReadable(old, candidate); err != nil {
				messages = append(messages, fmt.Sprintf(
					"version %d cannot read data written with the new schema: %v", v.number, err))
			}
		}
	}
	return messages
}

// checkReadable returns an error when data written with writer cannot be
// read with reader.
//
// Each call uses a new avro.SchemaCompatibility because hamba/avro v2.31.0
// caches results by the schemas' parsing canonical form fingerprints. That
// form drops field defaults, so a shared checker would reuse a verdict for a
// schema that differs only in a default.
func checkReadable(reader, writer avro.Schema) error {
	return avro.NewSchemaCompatibility().Compatible(reader, writer)
}

// compactSchema removes insignificant whitespace from a schema's JSON text.
// The result is the form the registry stores, returns and compares, so two
// registrations that differ only in layout get the same schema ID. It keeps
// docs, key order and everything else.
func compactSchema(text string) (string, error) {
	var buf bytes.Buffer
	if err := json.Compact(&buf, []byte(text)); err != nil {
		return "", fmt.Errorf("schema is not valid JSON: %w", err)
	}
	return buf.String(), nil
}

// parseAvro parses text with a schema cache that holds only the named types
// of deps, parsed in order.
//
// The cache must be fresh for every parse. avro.Parse shares one global cache
// keyed by full name, so a type name in one schema could resolve to a record
// that another registration defined.
func parseAvro(text string, deps []*schemaRecord) (avro.Schema, error) {
	cache := &avro.SchemaCache{}
	for _, dep := range deps {
		if _, err := avro.ParseWithCache(dep.text, "", cache); err != nil {
			return nil, fmt.Errorf("parsing referenced schema %d: %w", dep.id, err)
		}
	}
	return avro.ParseWithCache(text, "", cache)
}
