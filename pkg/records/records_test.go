package records_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestGeneratedCodeCurrent regenerates the types into a temporary file with
// the same avrogen command as go:generate and fails when records.go differs,
// so the Go types can never drift from schemas/*.avsc.
func TestGeneratedCodeCurrent(t *testing.T) {
	if testing.Short() {
		t.Skip("runs avrogen through go run")
	}
	source, err := os.ReadFile("generate.go")
	if err != nil {
		t.Fatal(err)
	}
	var args []string
	for _, line := range strings.Split(string(source), "\n") {
		if rest, ok := strings.CutPrefix(line, "//go:generate go "); ok {
			args = strings.Fields(rest)
		}
	}
	if len(args) == 0 {
		t.Fatal("generate.go has no go:generate line")
	}
	output := filepath.Join(t.TempDir(), "records.go")
	for i, arg := range args {
		if arg == "records.go" && i > 0 && args[i-1] == "-o" {
			args[i] = output
		}
	}

	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go command not on PATH")
	}
	command := exec.Command(goTool, args...)
	command.Stderr = os.Stderr
	if err := command.Run(); err != nil {
		t.Fatalf("running avrogen: %v", err)
	}

	want, err := os.ReadFile(output)
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile("records.go")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Error("pkg/records/records.go is stale: run go generate ./...")
	}
}
