package main

import (
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite generated docs")

func TestConfigurationDocCurrent(t *testing.T) {
	path := filepath.Join("..", "..", "docs", "configuration.md")
	want := configurationMarkdown()

	if *update {
		if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}

	if string(got) != want {
		t.Error("docs/configuration.md is stale; run go test ./cmd/squarebot -run TestConfigurationDoc -update")
	}
}

func TestSettingsHaveDescriptions(t *testing.T) {
	seen := map[string]bool{}
	for _, s := range settings {
		if s.description == "" {
			t.Errorf("setting %s has no description", s.key)
		}
		if seen[s.key] {
			t.Errorf("setting %s is listed twice", s.key)
		}
		seen[s.key] = true
	}
}

func TestSchemaReferenceCurrent(t *testing.T) {
	path := filepath.Join("..", "..", "docs", "schema-reference.md")
	want, err := schemaReference()
	if err != nil {
		t.Fatal(err)
	}

	if *update {
		if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}

	if string(got) != want {
		t.Error("docs/schema-reference.md is stale; run go run ./cmd/squarebot schemas reference > docs/schema-reference.md")
	}
}
