package deploy_test

import (
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"helm.sh/helm/v3/pkg/chartutil"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
)

func TestSchemaRejectsInvalidValues(t *testing.T) {
	tests := []struct {
		name    string
		values  string
		wantErr string // the schema error line for the value, or its start
	}{
		{"misspelled top-level key", "replicaCont: 2\n", "at '': additional properties 'replicaCont' not allowed"},
		{"misspelled nested key", "kafka:\n  bootstrapServer: kafka:9092\n", "at '/kafka': additional properties 'bootstrapServer' not allowed"},
		{"misspelled deep key", "kafka:\n  tls:\n    ca:\n      secretName: ca\n", "at '/kafka/tls/ca': additional properties 'secretName'"},
		{"misspelled key in a list item", "imagePullSecrets:\n  - nmae: ghcr\n", "at '/imagePullSecrets/0': additional properties 'nmae'"},
		{"string for integer", "replicaCount: two\n", "at '/replicaCount': got string, want integer"},
		{"quoted number for integer", "replicaCount: \"2\"\n", "at '/replicaCount': got string, want integer"},
		{"string for boolean", "ingress:\n  enabled: \"yes\"\n", "at '/ingress/enabled': got string, want boolean"},
		{"unknown security protocol", "kafka:\n  securityProtocol: TLS\n", "at '/kafka/securityProtocol': value must be one of"},
		{"unknown SASL mechanism", "kafka:\n  sasl:\n    mechanism: GSSAPI\n", "at '/kafka/sasl/mechanism': value must be one of"},
		{"unknown KafkaUser authentication", "strimzi:\n  kafkaUser:\n    authentication: scram\n", "at '/strimzi/kafkaUser/authentication': value must be one of"},
		{"zero partitions", "strimzi:\n  kafkaTopics:\n    partitions: 0\n", "at '/strimzi/kafkaTopics/partitions': minimum"},
		{"path prefix without leading slash", "http:\n  pathPrefix: squarebot\n", "at '/http/pathPrefix': 'squarebot' does not match pattern"},
		{"path prefix with trailing slash", "http:\n  pathPrefix: /squarebot/\n", "at '/http/pathPrefix': '/squarebot/' does not match pattern"},
		{"malformed duration", "kafka:\n  ackTimeout: 2 seconds\n", "at '/kafka/ackTimeout': '2 seconds' does not match pattern"},
		{"malformed memory quantity", "resources:\n  limits:\n    memory: lots\n", "at '/resources/limits/memory': 'lots' does not match pattern"},
		{"invalid topic name", "topics:\n  interaction: slack interactions\n", "at '/topics/interaction': 'slack interactions' does not match pattern"},
		{"list for string map", "podAnnotations:\n  - team\n", "at '/podAnnotations': got array, want object"},
		{"number in string map", "podLabels:\n  tier: 1\n", "at '/podLabels/tier': got number, want string"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := renderValues(tt.values, false)

			if err == nil {
				t.Fatalf("values %q were accepted", tt.values)
			}
			if !strings.Contains(err.Error(), "values don't meet the specifications of the schema") {
				t.Errorf("error %q does not come from the schema", err)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("error %q does not contain %q", err, tt.wantErr)
			}
		})
	}
}

func TestSchemaAcceptsValueSets(t *testing.T) {
	chrt := loadChart(t)

	for name, values := range valueSets {
		overrides, err := chartutil.ReadValues([]byte(values))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		merged, err := chartutil.CoalesceValues(chrt, overrides)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if err := chartutil.ValidateAgainstSchema(chrt, merged); err != nil {
			t.Errorf("%s: schema rejected the values: %v", name, err)
		}
	}
}

// TestSchemaClosesEveryObject walks values.schema.json. Objects with named
// properties must reject other keys, and free-form maps (labels, annotations,
// node selectors) must constrain their values to strings.
func TestSchemaClosesEveryObject(t *testing.T) {
	var schema map[string]any
	data, err := os.ReadFile(filepath.Join(chartDir, "values.schema.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &schema); err != nil {
		t.Fatal(err)
	}
	// Helm merges a parent chart's "global" values into every subchart, and
	// this chart reads none of them, so that one object stays open.
	open := map[string]bool{"/properties/global": true}

	var walk func(at string, node any)
	walk = func(at string, node any) {
		switch node := node.(type) {
		case []any:
			for i, child := range node {
				walk(at+"/"+strconv.Itoa(i), child)
			}
		case map[string]any:
			_, hasProperties := node["properties"]
			if node["type"] == "object" || hasProperties {
				checkClosed(t, at, node, open[at])
			}
			for key, child := range node {
				walk(at+"/"+key, child)
			}
		}
	}
	walk("", schema)
}

func checkClosed(t *testing.T, at string, node map[string]any, open bool) {
	t.Helper()

	additional, set := node["additionalProperties"]
	_, hasProperties := node["properties"]
	switch {
	case open:
		if set {
			t.Errorf("%s: expected no additionalProperties on the open object", at)
		}
	case hasProperties:
		if additional != false {
			t.Errorf("%s: additionalProperties = %v, expected false", at, additional)
		}
	default:
		values, ok := additional.(map[string]any)
		if !ok || values["type"] != "string" {
			t.Errorf("%s: a map without properties must set additionalProperties to {type: string}, found %v", at, additional)
		}
	}
}

// fakeSecrets are secret-looking strings that no rendered manifest may
// contain.
var fakeSecrets = []string{
	"8f2b7c1e9d0a4f63b5e2c7d9a1f04e6b", // the shape of a Slack signing secret
	"xoxb-0000000000-FAKE-NOT-A-TOKEN",
	"Fake-SASL-Password-7c1e9d0a",
	"Fake-Registry-Password-4f63b5e2",
	"-----BEGIN PRIVATE KEY-----FAKE",
}

// literalSecretValues puts the fake secrets at keys where an operator might
// try to give a secret value directly.
var literalSecretValues = `
slack:
  signingSecret: 8f2b7c1e9d0a4f63b5e2c7d9a1f04e6b
  botToken: xoxb-0000000000-FAKE-NOT-A-TOKEN
  signingSecrets:
    value: 8f2b7c1e9d0a4f63b5e2c7d9a1f04e6b
kafka:
  sasl:
    password: Fake-SASL-Password-7c1e9d0a
  tls:
    clientCert:
      key: "-----BEGIN PRIVATE KEY-----FAKE"
registry:
  password:
    value: Fake-Registry-Password-4f63b5e2
    password: Fake-Registry-Password-4f63b5e2
`

func TestSchemaRejectsLiteralSecrets(t *testing.T) {
	_, err := renderValues(literalSecretValues, false)

	if err == nil {
		t.Fatal("values with literal secrets were accepted")
	}
	for _, key := range []string{"signingSecret", "botToken", "value", "password", "key"} {
		if !strings.Contains(err.Error(), "'"+key+"'") {
			t.Errorf("error %q does not name the key %q", err, key)
		}
	}
}

// TestManifestsContainNoSecrets renders every value set with the literal
// secrets added and schema validation skipped, as helm install
// --skip-schema-validation would, and checks that no template copies them.
func TestManifestsContainNoSecrets(t *testing.T) {
	for _, name := range slices.Sorted(maps.Keys(valueSets)) {
		t.Run(name, func(t *testing.T) {
			values := mergeValues(t, valueSets[name], literalSecretValues)
			files, err := renderValues(values, true)
			if err != nil {
				t.Fatalf("rendering chart: %v", err)
			}
			r := decodeFiles(t, files)
			text := r.text()

			for _, secret := range fakeSecrets {
				if strings.Contains(text, secret) {
					t.Errorf("rendered output contains the secret %q", secret)
				}
			}
			if n := len(all[*corev1.Secret](r)); n != 0 {
				t.Errorf("rendered %d Secrets, expected none", n)
			}
			for _, env := range container(t, only[*appsv1.Deployment](t, r)).Env {
				if env.Value != "" {
					t.Errorf("env %s has a literal value, expected valueFrom", env.Name)
				}
				if env.ValueFrom == nil || env.ValueFrom.SecretKeyRef == nil {
					t.Errorf("env %s does not come from a Secret", env.Name)
				}
			}
			assertNoSecretSettings(t, r)
		})
	}
}

// assertNoSecretSettings checks that config.yaml names files for passwords
// and never carries the setting that takes the value itself.
func assertNoSecretSettings(t *testing.T, r rendered) {
	t.Helper()

	for key, value := range configSettings(t, r) {
		if value == "" {
			continue
		}
		if strings.Contains(key, "password") && !strings.HasSuffix(key, "_file") {
			t.Errorf("config.yaml sets %s, expected a file setting", key)
		}
		if strings.Contains(key, "secret") {
			t.Errorf("config.yaml sets %s, expected the environment to carry it", key)
		}
	}
}

// mergeValues merges YAML value documents. A later document overrides an
// earlier one where both set a key.
func mergeValues(t *testing.T, docs ...string) string {
	t.Helper()

	merged := map[string]any{}
	for _, doc := range docs {
		values, err := chartutil.ReadValues([]byte(doc))
		if err != nil {
			t.Fatal(err)
		}
		merged = chartutil.MergeTables(values, merged)
	}
	out, err := chartutil.Values(merged).YAML()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestTemplatesRejectInconsistentValues(t *testing.T) {
	tests := []struct {
		name    string
		values  string
		wantErr string
	}{
		{
			"SASL without a user",
			"kafka:\n  securityProtocol: SASL_SSL\n  sasl:\n    existingSecret: kafka-sasl\n",
			"kafka.sasl.username is empty",
		},
		{
			"SASL without a password Secret",
			"kafka:\n  securityProtocol: SASL_SSL\n  sasl:\n    username: squarebot\n",
			"kafka.sasl.existingSecret is empty",
		},
		{
			"SASL values with PLAINTEXT",
			"kafka:\n  sasl:\n    username: squarebot\n    existingSecret: kafka-sasl\n",
			"kafka.securityProtocol is PLAINTEXT",
		},
		{
			"client certificate without TLS",
			"kafka:\n  securityProtocol: SASL_PLAINTEXT\n  sasl:\n    username: squarebot\n    existingSecret: kafka-sasl\n  tls:\n    clientCert:\n      existingSecret: kafka-client\n",
			"mutual TLS needs SSL",
		},
		{
			"CA without TLS",
			"kafka:\n  tls:\n    ca:\n      existingSecret: kafka-ca\n",
			"kafka.tls.ca.existingSecret is set",
		},
		{
			"registry user without password",
			"registry:\n  username: squarebot\n",
			"registry.password.existingSecret is empty",
		},
		{
			"registry password without user",
			"registry:\n  password:\n    existingSecret: registry\n",
			"registry.username is empty",
		},
		{
			"registry CA over plain HTTP",
			"registry:\n  url: http://registry.squarebot.test\n  ca:\n    existingSecret: registry-ca\n",
			"registry.url uses http://",
		},
		{
			"Strimzi resources without a cluster",
			"strimzi:\n  kafkaTopics:\n    enabled: true\n",
			"strimzi.cluster is empty",
		},
		{
			"SCRAM KafkaUser with SSL",
			"kafka:\n  securityProtocol: SSL\nstrimzi:\n  cluster: sasquatch\n  kafkaUser:\n    enabled: true\n",
			"use SASL_SSL or SASL_PLAINTEXT",
		},
		{
			"SCRAM KafkaUser with PLAIN",
			"kafka:\n  securityProtocol: SASL_SSL\n  sasl:\n    mechanism: PLAIN\nstrimzi:\n  cluster: sasquatch\n  kafkaUser:\n    enabled: true\n",
			"kafka.sasl.mechanism is PLAIN",
		},
		{
			"SCRAM KafkaUser with its own SASL user",
			"kafka:\n  securityProtocol: SASL_SSL\n  sasl:\n    username: other\nstrimzi:\n  cluster: sasquatch\n  kafkaUser:\n    enabled: true\n",
			"clear kafka.sasl.username",
		},
		{
			"TLS KafkaUser with SASL_SSL",
			"kafka:\n  securityProtocol: SASL_SSL\nstrimzi:\n  cluster: sasquatch\n  kafkaUser:\n    enabled: true\n    authentication: tls\n",
			"strimzi.kafkaUser.authentication is tls but kafka.securityProtocol is SASL_SSL",
		},
		{
			"TLS KafkaUser with its own certificate",
			"kafka:\n  securityProtocol: SSL\n  tls:\n    clientCert:\n      existingSecret: kafka-client\nstrimzi:\n  cluster: sasquatch\n  kafkaUser:\n    enabled: true\n    authentication: tls\n",
			"clear kafka.tls.clientCert.existingSecret",
		},
		{
			"topics that collide as resource names",
			"topics:\n  appMention: Slack.Mention\n  interaction: slack.mention\nstrimzi:\n  cluster: sasquatch\n  kafkaTopics:\n    enabled: true\n",
			"both give the KafkaTopic name \"slack.mention\"",
		},
		{
			"topic that is no resource name",
			"topics:\n  appMention: _slack.mention\nstrimzi:\n  cluster: sasquatch\n  kafkaTopics:\n    enabled: true\n",
			"not a valid Kubernetes name",
		},
		{
			"autoscaling minimum above maximum",
			"autoscaling:\n  enabled: true\n  minReplicas: 5\n  maxReplicas: 2\n",
			"autoscaling.minReplicas (5) is greater than autoscaling.maxReplicas (2)",
		},
		{
			"autoscaling without a target",
			"autoscaling:\n  enabled: true\n  targetCPUUtilizationPercentage: 0\n",
			"no target is set",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := renderValues(tt.values, false)

			if err == nil {
				t.Fatal("inconsistent values were rendered")
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("error %q does not contain %q", err, tt.wantErr)
			}
		})
	}
}

// readmeKey matches the key column of a row in the README's values table.
var readmeKey = regexp.MustCompile("(?m)^\\| `([^`]+)` \\|")

func TestReadmeDocumentsEveryValue(t *testing.T) {
	values, err := chartutil.ReadValuesFile(filepath.Join(chartDir, "values.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile(filepath.Join(chartDir, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	var documented []string
	for _, match := range readmeKey.FindAllStringSubmatch(string(readme), -1) {
		documented = append(documented, match[1])
	}
	sort.Strings(documented)

	want := valueKeys("", values)
	if !slices.Equal(documented, want) {
		t.Errorf("README documents %v\nvalues.yaml defines %v", documented, want)
	}
}

// valueKeys returns the sorted dotted paths of the leaves of values. Empty
// maps, lists and resources, which the README documents as a whole, count as
// leaves.
func valueKeys(prefix string, values map[string]any) []string {
	var keys []string
	for key, value := range values {
		path := prefix + key
		child, ok := value.(map[string]any)
		if ok && len(child) > 0 && path != "resources" {
			keys = append(keys, valueKeys(path+".", child)...)
			continue
		}
		keys = append(keys, path)
	}
	sort.Strings(keys)
	return keys
}
