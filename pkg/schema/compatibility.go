package schema

import (
	"fmt"
	"strings"

	"github.com/hamba/avro/v2"
)

// Version is one earlier version of a subject, for compatibility checks.
type Version struct {
	// Number is the subject's version number, used in messages.
	Number int
	Schema avro.Schema
}

// Incompatibilities checks candidate against earlier versions under a
// registry compatibility level, as Confluent Schema Registry does, and
// returns one message per failed check; none means compatible. Backward
// levels require the candidate to read data written with earlier versions,
// forward levels require earlier versions to read data written with the
// candidate, full levels require both, and transitive levels check every
// version instead of only the last. previous must be in ascending order.
func Incompatibilities(level string, candidate avro.Schema, previous []Version) []string {
	level = strings.ToUpper(level)
	if len(previous) == 0 || level == "NONE" {
		return nil
	}
	if !strings.HasSuffix(level, "_TRANSITIVE") {
		previous = previous[len(previous)-1:]
	}
	backward := strings.HasPrefix(level, "BACKWARD") || strings.HasPrefix(level, "FULL")
	forward := strings.HasPrefix(level, "FORWARD") || strings.HasPrefix(level, "FULL")

	var messages []string
	for _, old := range previous {
		if backward {
			if err := checkReadable(candidate, old.Schema); err != nil {
				messages = append(messages, fmt.Sprintf(
					"the new schema cannot read data written with version %d: %v", old.Number, err))
			}
		}
		if forward {
			if err := checkReadable(old.Schema, candidate); err != nil {
				messages = append(messages, fmt.Sprintf(
					"version %d cannot read data written with the new schema: %v", old.Number, err))
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
