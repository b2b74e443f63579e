package schema_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/hamba/avro/v2"

	"github.com/lsst-sqre/squarebot/pkg/schema"
)

// guardLevel is the level the repository holds schemas to. The registry
// enforces FORWARD_TRANSITIVE, so old consumers read new records; the
// repository also demands the backward direction, so a consumer built
// from the newest schema can replay a topic from its first record.
const guardLevel = "FULL_TRANSITIVE"

// historyDir holds the released versions of each schema file.
var historyDir = filepath.Join("..", "..", "schemas", "history")

func parse(t *testing.T, text string) avro.Schema {
	t.Helper()
	parsed, err := avro.ParseWithCache(text, "", &avro.SchemaCache{})
	if err != nil {
		t.Fatalf("parsing schema: %v", err)
	}
	return parsed
}

// releasedVersions returns the kept versions of a schema file in order.
func releasedVersions(t *testing.T, file string) []schema.Version {
	t.Helper()
	dir := filepath.Join(historyDir, strings.TrimSuffix(file, ".avsc"))
	paths, err := filepath.Glob(filepath.Join(dir, "v*.avsc"))
	if err != nil {
		t.Fatal(err)
	}
	var versions []schema.Version
	for n := 1; n <= len(paths); n++ {
		path := filepath.Join(dir, "v"+itoa(n)+".avsc")
		if !slices.Contains(paths, path) {
			t.Fatalf("%s: versions are not numbered v1 to v%d", dir, len(paths))
		}
		text, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		versions = append(versions, schema.Version{Number: n, Schema: parse(t, string(text))})
	}
	return versions
}

func itoa(n int) string { return strconv.Itoa(n) }

func TestSchemasCompatibleWithReleases(t *testing.T) {
	sources, err := schema.Embedded()
	if err != nil {
		t.Fatal(err)
	}

	for _, source := range sources {
		t.Run(source.Name, func(t *testing.T) {
			versions := releasedVersions(t, source.Name)
			if len(versions) == 0 {
				t.Fatalf("no released version of %s in schemas/history", source.Name)
			}

			for _, message := range schema.Incompatibilities(guardLevel, source.Schema, versions) {
				t.Error(message)
			}
		})
	}
}

// TestGuardRejectsBreakingEdits proves the guard fails for the edits that
// break consumers, applied to the real value schema.
func TestGuardRejectsBreakingEdits(t *testing.T) {
	released := releasedVersions(t, "slack_message_event.avsc")
	latest, err := os.ReadFile(filepath.Join(historyDir, "slack_message_event", "v"+itoa(len(released))+".avsc"))
	if err != nil {
		t.Fatal(err)
	}
	edits := map[string]func(fields []map[string]any) []map[string]any{
		"new field without default": func(fields []map[string]any) []map[string]any {
			return append(fields, map[string]any{"name": "reaction_count", "type": "int"})
		},
		"removed field without default": func(fields []map[string]any) []map[string]any {
			return slices.DeleteFunc(fields, func(f map[string]any) bool { return f["name"] == "slack_json" })
		},
		"changed type": func(fields []map[string]any) []map[string]any {
			for _, f := range fields {
				if f["name"] == "attachment_count" {
					f["type"] = "string"
					f["default"] = "0"
				}
			}
			return fields
		},
	}
	safe := map[string]func(fields []map[string]any) []map[string]any{
		"new optional field": func(fields []map[string]any) []map[string]any {
			return append(fields, map[string]any{"name": "reaction_count", "type": []any{"null", "int"}, "default": nil})
		},
		"removed field with default": func(fields []map[string]any) []map[string]any {
			return slices.DeleteFunc(fields, func(f map[string]any) bool { return f["name"] == "block_count" })
		},
	}

	for name, edit := range edits {
		t.Run(name, func(t *testing.T) {
			candidate := editFields(t, latest, edit)

			if messages := schema.Incompatibilities(guardLevel, candidate, released); len(messages) == 0 {
				t.Error("the guard accepted a breaking edit")
			}
		})
	}
	for name, edit := range safe {
		t.Run(name, func(t *testing.T) {
			candidate := editFields(t, latest, edit)

			if messages := schema.Incompatibilities(guardLevel, candidate, released); len(messages) != 0 {
				t.Errorf("the guard rejected a compatible edit: %v", messages)
			}
		})
	}
}

func editFields(t *testing.T, text []byte, edit func([]map[string]any) []map[string]any) avro.Schema {
	t.Helper()
	var document map[string]any
	if err := json.Unmarshal(text, &document); err != nil {
		t.Fatal(err)
	}
	var fields []map[string]any
	raw, err := json.Marshal(document["fields"])
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &fields); err != nil {
		t.Fatal(err)
	}
	document["fields"] = edit(fields)
	edited, err := json.Marshal(document)
	if err != nil {
		t.Fatal(err)
	}
	return parse(t, string(edited))
}
