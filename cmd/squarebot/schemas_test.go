package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/lsst-sqre/squarebot/pkg/devstack"
	"github.com/lsst-sqre/squarebot/pkg/schema"
)

func runCommand(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func putJSON(t *testing.T, url string, body any) {
	t.Helper()
	data, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	request, err := http.NewRequest(http.MethodPut, url, bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	response, err := http.DefaultClient.Do(request)
	if err != nil {
		t.Fatal(err)
	}
	response.Body.Close()
	if response.StatusCode != http.StatusOK {
		t.Fatalf("PUT %s: status %d", url, response.StatusCode)
	}
}

func postJSON(t *testing.T, url string, body any) {
	t.Helper()
	data, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	response, err := http.Post(url, "application/vnd.schemaregistry.v1+json", bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	response.Body.Close()
	if response.StatusCode != http.StatusOK {
		t.Fatalf("POST %s: status %d", url, response.StatusCode)
	}
}

func TestSchemasRegisterThenCheck(t *testing.T) {
	registry := httptest.NewServer(devstack.NewRegistry())
	defer registry.Close()

	code, stdout, stderr := runCommand(t, "schemas", "register", "--registry-url", registry.URL)
	if code != 0 {
		t.Fatalf("register exit code = %d, stderr %s", code, stderr)
	}
	if lines := strings.Count(stdout, "FORWARD_TRANSITIVE"); lines != 12 {
		t.Errorf("register printed %d subjects, want 12:\n%s", lines, stdout)
	}

	code, stdout, stderr = runCommand(t, "schemas", "check", "--registry-url", registry.URL)
	if code != 0 {
		t.Errorf("check exit code = %d, want 0; stdout %s stderr %s", code, stdout, stderr)
	}
	if got := strings.Count(stdout, "ok under FORWARD_TRANSITIVE"); got != 12 {
		t.Errorf("check passed %d subjects, want 12:\n%s", got, stdout)
	}
}

func TestSchemasCheckNamesIncompatibleSubject(t *testing.T) {
	registry := httptest.NewServer(devstack.NewRegistry())
	defer registry.Close()
	const subject = "lsst.square-events.squarebot.slack.interaction-key"
	// A later version that requires a field the embedded schema lacks: old
	// consumers of it could not read what this binary would write.
	source, err := schema.Load("slack_interaction_key.avsc")
	if err != nil {
		t.Fatal(err)
	}
	var document map[string]any
	if err := json.Unmarshal([]byte(source.Text), &document); err != nil {
		t.Fatal(err)
	}
	document["fields"] = append(document["fields"].([]any), map[string]any{"name": "tenant", "type": "string"})
	future, err := json.Marshal(document)
	if err != nil {
		t.Fatal(err)
	}
	putJSON(t, registry.URL+"/config/"+subject, map[string]string{"compatibility": "NONE"})
	postJSON(t, registry.URL+"/subjects/"+subject+"/versions", map[string]string{"schema": string(future)})
	putJSON(t, registry.URL+"/config/"+subject, map[string]string{"compatibility": "FORWARD_TRANSITIVE"})

	code, stdout, stderr := runCommand(t, "schemas", "check", "--registry-url", registry.URL)

	if code != 1 {
		t.Errorf("exit code = %d, want 1", code)
	}
	if !strings.Contains(stdout, subject+": INCOMPATIBLE under FORWARD_TRANSITIVE") {
		t.Errorf("output does not name the subject and level:\n%s", stdout)
	}
	if !strings.Contains(stdout, "tenant") {
		t.Errorf("output does not name the missing field:\n%s", stdout)
	}
	if !strings.Contains(stderr, "1 subject(s)") {
		t.Errorf("stderr = %q, want the count of failing subjects", stderr)
	}
}

func TestSchemasShowUnknown(t *testing.T) {
	code, _, stderr := runCommand(t, "schemas", "show", "no-such-subject")

	if code != 2 {
		t.Errorf("exit code = %d, want 2", code)
	}
	if !strings.Contains(stderr, "no-such-subject") {
		t.Errorf("stderr = %q, want the unknown name", stderr)
	}
}

func TestSchemasShowSubject(t *testing.T) {
	code, stdout, _ := runCommand(t, "schemas", "show", "lsst.square-events.squarebot.slack.message.im-value")

	if code != 0 {
		t.Fatalf("exit code = %d, want 0", code)
	}
	if !strings.Contains(stdout, `"name": "SlackMessageEvent"`) {
		t.Errorf("output is not the message value schema:\n%.200s", stdout)
	}
}
