// Package deploy_test checks the deployment artifacts: the Helm chart in
// charts/squarebot, rendered with Helm's Go library and decoded strictly into
// Kubernetes API types, and the Dockerfile, parsed with BuildKit's parser.
// Nothing here talks to a cluster, a registry or a Docker engine.
package deploy_test

import (
	"fmt"
	"maps"
	"path"
	"slices"
	"strings"
	"testing"

	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/engine"
	"helm.sh/helm/v3/pkg/releaseutil"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"
)

const (
	chartDir    = "../../charts/squarebot"
	releaseName = "squarebot"
	namespace   = "squarebot"

	// fullname is the base name of every resource for releaseName.
	fullname = "squarebot"
)

// testKubeVersion is the oldest Kubernetes version that Chart.yaml accepts.
var testKubeVersion = chartutil.KubeVersion{Version: "v1.30.0", Major: "1", Minor: "30"}

// valueSets are the value overrides that the tests render, by scenario name.
// Host names use the reserved .test domain.
var valueSets = map[string]string{
	"default": ``,

	"sasl-scram": `
kafka:
  bootstrapServers: kafka-0.kafka.squarebot.test:9094,kafka-1.kafka.squarebot.test:9094
  securityProtocol: SASL_SSL
  sasl:
    mechanism: SCRAM-SHA-512
    username: squarebot-producer
    existingSecret: kafka-sasl
    passwordKey: sasl-password
  tls:
    ca:
      existingSecret: kafka-cluster-ca
      key: cluster-ca.pem
registry:
  url: https://registry.squarebot.test
  username: squarebot-registry
  password:
    existingSecret: registry-credentials
    key: registry-password
  ca:
    existingSecret: registry-ca
    key: registry-ca.pem
`,

	"mtls": `
kafka:
  bootstrapServers: kafka.squarebot.test:9093
  securityProtocol: SSL
  tls:
    ca:
      existingSecret: kafka-cluster-ca
    clientCert:
      existingSecret: kafka-client
registry:
  url: http://registry.squarebot.test:8081
`,

	"ingress": `
http:
  pathPrefix: /squarebot
ingress:
  enabled: true
  className: nginx
  annotations:
    nginx.ingress.kubernetes.io/proxy-body-size: 1m
  hosts:
    - slack.squarebot.test
  tls:
    - secretName: slack-squarebot-test-tls
      hosts:
        - slack.squarebot.test
`,

	"strimzi-scram": `
kafka:
  bootstrapServers: sasquatch-kafka-bootstrap.squarebot.test:9094
  securityProtocol: SASL_SSL
strimzi:
  cluster: sasquatch
  kafkaTopics:
    enabled: true
    partitions: 6
    replicas: 2
    retentionMs: 86400000
  kafkaUser:
    enabled: true
    name: squarebot-producer
    authentication: scram-sha-512
`,

	"strimzi-tls": `
kafka:
  bootstrapServers: sasquatch-kafka-bootstrap.squarebot.test:9093
  securityProtocol: SSL
strimzi:
  cluster: sasquatch
  kafkaTopics:
    enabled: true
  kafkaUser:
    enabled: true
    authentication: tls
`,

	"autoscaling": `
autoscaling:
  enabled: true
  minReplicas: 3
  maxReplicas: 9
  targetCPUUtilizationPercentage: 60
  targetMemoryUtilizationPercentage: 80
`,

	"monitoring-and-network-policy": `
serviceMonitor:
  enabled: true
  labels:
    release: prometheus
  interval: 15s
podDisruptionBudget:
  minAvailable: 1
networkPolicy:
  enabled: true
  httpFrom:
    - namespaceSelector:
        matchLabels:
          kubernetes.io/metadata.name: ingress-nginx
  adminFrom:
    - namespaceSelector:
        matchLabels:
          kubernetes.io/metadata.name: monitoring
      podSelector:
        matchLabels:
          app.kubernetes.io/name: prometheus
  egress:
    - to:
        - ipBlock:
            cidr: 192.0.2.0/24
      ports:
        - port: 9094
          protocol: TCP
`,
}

// object is one rendered manifest, decoded into its Go type.
type object struct {
	source string // template path, such as squarebot/templates/deployment.yaml
	kind   string
	name   string
	doc    string // the manifest text
	value  any    // a pointer to the Go type of kind
}

// rendered is the output of one chart render.
type rendered struct {
	files   map[string]string // template path to rendered text, NOTES.txt included
	objects []object
}

// ServiceMonitor mirrors the monitoring.coreos.com/v1 fields that the chart sets.
type ServiceMonitor struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	Spec              struct {
		Selector  metav1.LabelSelector `json:"selector"`
		Endpoints []struct {
			Port          string `json:"port"`
			Path          string `json:"path"`
			Interval      string `json:"interval"`
			ScrapeTimeout string `json:"scrapeTimeout"`
		} `json:"endpoints"`
	} `json:"spec"`
}

// KafkaTopic mirrors the kafka.strimzi.io/v1beta2 fields that the chart sets.
type KafkaTopic struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	Spec              struct {
		TopicName  string           `json:"topicName"`
		Partitions int32            `json:"partitions"`
		Replicas   int32            `json:"replicas"`
		Config     map[string]int64 `json:"config"`
	} `json:"spec"`
}

// KafkaUser mirrors the kafka.strimzi.io/v1beta2 fields that the chart sets.
type KafkaUser struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	Spec              struct {
		Authentication struct {
			Type string `json:"type"`
		} `json:"authentication"`
		Authorization struct {
			Type string     `json:"type"`
			ACLs []KafkaACL `json:"acls"`
		} `json:"authorization"`
	} `json:"spec"`
}

// KafkaACL mirrors one rule of a Strimzi simple authorization.
type KafkaACL struct {
	Resource struct {
		Type        string `json:"type"`
		Name        string `json:"name"`
		PatternType string `json:"patternType"`
	} `json:"resource"`
	Operations []string `json:"operations"`
}

// newObjects maps "apiVersion kind" to a constructor of the Go type that a
// manifest of that kind decodes into.
var newObjects = map[string]func() any{
	"v1 ConfigMap":                            func() any { return new(corev1.ConfigMap) },
	"v1 Service":                              func() any { return new(corev1.Service) },
	"v1 ServiceAccount":                       func() any { return new(corev1.ServiceAccount) },
	"apps/v1 Deployment":                      func() any { return new(appsv1.Deployment) },
	"policy/v1 PodDisruptionBudget":           func() any { return new(policyv1.PodDisruptionBudget) },
	"autoscaling/v2 HorizontalPodAutoscaler":  func() any { return new(autoscalingv2.HorizontalPodAutoscaler) },
	"networking.k8s.io/v1 Ingress":            func() any { return new(networkingv1.Ingress) },
	"networking.k8s.io/v1 NetworkPolicy":      func() any { return new(networkingv1.NetworkPolicy) },
	"monitoring.coreos.com/v1 ServiceMonitor": func() any { return new(ServiceMonitor) },
	"kafka.strimzi.io/v1beta2 KafkaTopic":     func() any { return new(KafkaTopic) },
	"kafka.strimzi.io/v1beta2 KafkaUser":      func() any { return new(KafkaUser) },
}

// renderValues renders the chart with values (YAML) over the chart defaults,
// validating them against values.schema.json unless skipSchema is set.
func renderValues(values string, skipSchema bool) (map[string]string, error) {
	chrt, err := loader.Load(chartDir)
	if err != nil {
		return nil, fmt.Errorf("loading chart: %w", err)
	}
	overrides, err := chartutil.ReadValues([]byte(values))
	if err != nil {
		return nil, fmt.Errorf("reading values: %w", err)
	}

	caps := chartutil.DefaultCapabilities.Copy()
	caps.KubeVersion = testKubeVersion
	options := chartutil.ReleaseOptions{Name: releaseName, Namespace: namespace, Revision: 1, IsInstall: true}
	top, err := chartutil.ToRenderValuesWithSchemaValidation(chrt, overrides, options, caps, skipSchema)
	if err != nil {
		return nil, err
	}

	return engine.Render(chrt, top)
}

// render renders the chart with values and decodes every manifest strictly,
// failing the test on an unknown field, a duplicate key or an unknown kind.
func render(t *testing.T, values string) rendered {
	t.Helper()

	files, err := renderValues(values, false)
	if err != nil {
		t.Fatalf("rendering chart: %v", err)
	}

	return decodeFiles(t, files)
}

func decodeFiles(t *testing.T, files map[string]string) rendered {
	t.Helper()

	out := rendered{files: files}
	for _, source := range slices.Sorted(maps.Keys(files)) {
		if path.Ext(source) != ".yaml" {
			continue
		}
		docs := releaseutil.SplitManifests(files[source])
		for _, key := range slices.Sorted(maps.Keys(docs)) {
			out.objects = append(out.objects, decodeManifest(t, source, docs[key]))
		}
	}

	return out
}

func decodeManifest(t *testing.T, source, doc string) object {
	t.Helper()

	var head struct {
		metav1.TypeMeta `json:",inline"`
		Metadata        struct {
			Name string `json:"name"`
		} `json:"metadata"`
	}
	if err := yaml.Unmarshal([]byte(doc), &head); err != nil {
		t.Fatalf("%s: reading apiVersion and kind: %v\n%s", source, err, doc)
	}
	newObject, ok := newObjects[head.APIVersion+" "+head.Kind]
	if !ok {
		t.Fatalf("%s: rendered %s %s, which the tests cannot decode: add its Go type to newObjects", source, head.APIVersion, head.Kind)
	}

	value := newObject()
	if err := yaml.UnmarshalStrict([]byte(doc), value); err != nil {
		t.Fatalf("%s: decoding %s %q strictly: %v\n%s", source, head.Kind, head.Metadata.Name, err, doc)
	}

	return object{source: source, kind: head.Kind, name: head.Metadata.Name, doc: doc, value: value}
}

// all returns the rendered objects of Go type T.
func all[T any](r rendered) []T {
	var found []T
	for _, o := range r.objects {
		if v, ok := o.value.(T); ok {
			found = append(found, v)
		}
	}
	return found
}

// only returns the single rendered object of Go type T, failing the test
// unless there is exactly one.
func only[T any](t *testing.T, r rendered) T {
	t.Helper()

	found := all[T](r)
	if len(found) != 1 {
		var zero T
		t.Fatalf("rendered %d objects of type %T, expected 1", len(found), zero)
	}
	return found[0]
}

// kinds returns the sorted kinds of the rendered objects, one entry per object.
func (r rendered) kinds() []string {
	var kinds []string
	for _, o := range r.objects {
		kinds = append(kinds, o.kind)
	}
	slices.Sort(kinds)
	return kinds
}

// text returns every rendered file, NOTES.txt included, as one string.
func (r rendered) text() string {
	var b strings.Builder
	for _, source := range slices.Sorted(maps.Keys(r.files)) {
		b.WriteString(r.files[source])
		b.WriteString("\n")
	}
	return b.String()
}

// container returns the squarebot container of a Deployment.
func container(t *testing.T, deploy *appsv1.Deployment) corev1.Container {
	t.Helper()

	for _, c := range deploy.Spec.Template.Spec.Containers {
		if c.Name == "squarebot" {
			return c
		}
	}
	t.Fatalf("deployment %s has no container named squarebot", deploy.Name)
	return corev1.Container{}
}
