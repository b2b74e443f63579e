package devstack

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/hamba/avro/v2"

	"github.com/lsst-sqre/squarebot/pkg/schema"
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

// findIncompatibilities checks candidate against versions, which must be
// in ascending order, and returns one message per failed check. An empty
// result means that the candidate is compatible.
func findIncompatibilities(level compatibilityLevel, candidate avro.Schema, versions []*version) []string {
	previous := make([]schema.Version, len(versions))
	for i, v := range versions {
		previous[i] = schema.Version{Number: v.number, Schema: v.schema.parsed}
	}
	return schema.Incompatibilities(string(level), candidate, previous)
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
