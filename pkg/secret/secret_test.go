package secret_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/lsst-sqre/squarebot/pkg/secret"
)

func TestValueNeverPrinted(t *testing.T) {
	const plain = "xoxb-very-secret-value"
	value := secret.Value(plain)
	holder := struct{ Password secret.Value }{value}

	jsonBytes, err := json.Marshal(holder)
	if err != nil {
		t.Fatal(err)
	}
	var logged bytes.Buffer
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("config", "password", value, "holder", holder)

	outputs := map[string]string{
		"%s":   fmt.Sprintf("value=%s", value),
		"%v":   fmt.Sprintf("%v", value),
		"%+v":  fmt.Sprintf("%+v", holder),
		"%#v":  fmt.Sprintf("%#v", holder),
		"json": string(jsonBytes),
		"slog": logged.String(),
	}
	for form, output := range outputs {
		if strings.Contains(output, plain) {
			t.Errorf("%s output contains the secret: %s", form, output)
		}
		if !strings.Contains(output, "[REDACTED]") {
			t.Errorf("%s output lacks the redaction mark: %s", form, output)
		}
	}
	if value.Reveal() != plain {
		t.Errorf("Reveal() = %q, want the plain secret", value.Reveal())
	}
}

func TestValueEmpty(t *testing.T) {
	var value secret.Value

	if value.IsSet() {
		t.Error("IsSet() = true for an empty secret")
	}
	if value.String() != "" {
		t.Errorf("String() = %q, want empty", value.String())
	}
}
