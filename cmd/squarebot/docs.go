package main

import (
	"fmt"
	"strings"
	"time"
)

// configurationMarkdown renders docs/configuration.md from the settings
// table, so the reference never drifts from the code.
func configurationMarkdown() string {
	var b strings.Builder
	b.WriteString(`# Configuration

Squarebot reads its settings from a YAML file given with ` + "`--config`" + ` and from
environment variables, which take precedence. Each key below maps to the
variable ` + "`SQUAREBOT_`" + ` followed by the key in upper case with dots replaced by
underscores: ` + "`kafka.bootstrap_servers`" + ` is ` + "`SQUAREBOT_KAFKA_BOOTSTRAP_SERVERS`" + `.
In YAML, dots are nesting levels:

` + "```yaml" + `
slack:
  signing_secrets: [first-secret, second-secret]
kafka:
  bootstrap_servers: kafka-bootstrap:9093
  security_protocol: SASL_SSL
  sasl_username: squarebot
  sasl_password_file: /etc/squarebot/kafka/password
  tls_ca_file: /etc/squarebot/kafka-ca/ca.crt
registry:
  url: http://schema-registry:8081
http:
  path_prefix: /squarebot
` + "```" + `

Start-up validates everything at once and stops with one message per invalid
setting, naming its key. Unknown keys in the file are rejected, so a
misspelling never goes unnoticed. Durations take Go's syntax (` + "`500ms`" + `,
` + "`2s`" + `, ` + "`1m`" + `). Secrets are never logged; prefer the ` + "`*_file`" + ` keys or the
environment for them.

This file is generated from ` + "`cmd/squarebot/settings.go`" + `; after changing a
setting, run ` + "`go test ./cmd/squarebot -run TestConfigurationDoc -update`" + `.

| key | environment variable | default | description |
| --- | --- | --- | --- |
`)
	for _, s := range settings {
		fmt.Fprintf(&b, "| `%s` | `%s` | %s | %s |\n", s.key, envName(s.key), formatDefault(s.value), strings.ReplaceAll(s.description, "|", "\\|"))
	}
	return b.String()
}

func formatDefault(value any) string {
	switch typed := value.(type) {
	case string:
		if typed == "" {
			return "(none)"
		}
		return "`" + typed + "`"
	case time.Duration:
		return "`" + typed.String() + "`"
	default:
		return fmt.Sprintf("`%v`", typed)
	}
}
