package deploy_test

import (
	"fmt"
	"maps"
	"os"
	"path"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/yaml"
)

// squarebotConfig mirrors the configuration file that squarebot reads. It is
// decoded strictly, so a key that squarebot does not define fails the test.
type squarebotConfig struct {
	HTTP struct {
		Addr         string `json:"addr"`
		PathPrefix   string `json:"path_prefix"`
		MaxBodyBytes int64  `json:"max_body_bytes"`
	} `json:"http"`
	Admin struct {
		Addr string `json:"addr"`
	} `json:"admin"`
	Log struct {
		Level  string `json:"level"`
		Format string `json:"format"`
	} `json:"log"`
	Kafka struct {
		BootstrapServers string `json:"bootstrap_servers"`
		ClientID         string `json:"client_id"`
		AckTimeout       string `json:"ack_timeout"`
		SecurityProtocol string `json:"security_protocol"`
		SASLMechanism    string `json:"sasl_mechanism"`
		SASLUsername     string `json:"sasl_username"`
		SASLPasswordFile string `json:"sasl_password_file"`
		TLSCAFile        string `json:"tls_ca_file"`
		TLSCertFile      string `json:"tls_cert_file"`
		TLSKeyFile       string `json:"tls_key_file"`
	} `json:"kafka"`
	Registry struct {
		URL             string `json:"url"`
		Username        string `json:"username"`
		PasswordFile    string `json:"password_file"`
		CAFile          string `json:"ca_file"`
		Compatibility   string `json:"compatibility"`
		RegisterSchemas *bool  `json:"register_schemas"`
	} `json:"registry"`
	ShutdownTimeout string `json:"shutdown_timeout"`
	Topics          struct {
		AppMention     string `json:"app_mention"`
		MessageChannel string `json:"message_channel"`
		MessageGroup   string `json:"message_group"`
		MessageIm      string `json:"message_im"`
		MessageMpim    string `json:"message_mpim"`
		Interaction    string `json:"interaction"`
	} `json:"topics"`
}

// readConfig decodes config.yaml from the rendered ConfigMap.
func readConfig(t *testing.T, r rendered) squarebotConfig {
	t.Helper()

	configMap := only[*corev1.ConfigMap](t, r)
	text, ok := configMap.Data["config.yaml"]
	if !ok {
		t.Fatalf("ConfigMap %s has no config.yaml key", configMap.Name)
	}
	var config squarebotConfig
	if err := yaml.UnmarshalStrict([]byte(text), &config); err != nil {
		t.Fatalf("decoding config.yaml strictly: %v\n%s", err, text)
	}
	return config
}

// configSettings returns the settings of config.yaml in the rendered
// ConfigMap by dotted key, such as kafka.client_id.
func configSettings(t *testing.T, r rendered) map[string]any {
	t.Helper()

	var tree map[string]any
	if err := yaml.Unmarshal([]byte(only[*corev1.ConfigMap](t, r).Data["config.yaml"]), &tree); err != nil {
		t.Fatalf("decoding config.yaml: %v", err)
	}
	settings := map[string]any{}
	var flatten func(prefix string, node map[string]any)
	flatten = func(prefix string, node map[string]any) {
		for key, value := range node {
			if child, ok := value.(map[string]any); ok {
				flatten(prefix+key+".", child)
				continue
			}
			settings[prefix+key] = value
		}
	}
	flatten("", tree)
	return settings
}

// secretFile returns the Secret name and key that back the file at filePath
// in the squarebot container, failing the test when no Secret volume does.
func secretFile(t *testing.T, deploy *appsv1.Deployment, filePath string) (secret, key string) {
	t.Helper()

	for _, mount := range container(t, deploy).VolumeMounts {
		if path.Dir(filePath) != mount.MountPath {
			continue
		}
		for _, volume := range deploy.Spec.Template.Spec.Volumes {
			if volume.Name != mount.Name || volume.Secret == nil {
				continue
			}
			for _, item := range volume.Secret.Items {
				if item.Path == path.Base(filePath) {
					return volume.Secret.SecretName, item.Key
				}
			}
		}
	}
	t.Fatalf("no Secret volume provides %s", filePath)
	return "", ""
}

func TestRenderDecodesStrictly(t *testing.T) {
	wantKinds := map[string][]string{
		"default":                       {"ConfigMap", "Deployment", "PodDisruptionBudget", "Service", "ServiceAccount"},
		"sasl-scram":                    {"ConfigMap", "Deployment", "PodDisruptionBudget", "Service", "ServiceAccount"},
		"mtls":                          {"ConfigMap", "Deployment", "PodDisruptionBudget", "Service", "ServiceAccount"},
		"ingress":                       {"ConfigMap", "Deployment", "Ingress", "PodDisruptionBudget", "Service", "ServiceAccount"},
		"strimzi-scram":                 {"ConfigMap", "Deployment", "KafkaTopic", "KafkaTopic", "KafkaTopic", "KafkaTopic", "KafkaTopic", "KafkaTopic", "KafkaUser", "PodDisruptionBudget", "Service", "ServiceAccount"},
		"strimzi-tls":                   {"ConfigMap", "Deployment", "KafkaTopic", "KafkaTopic", "KafkaTopic", "KafkaTopic", "KafkaTopic", "KafkaTopic", "KafkaUser", "PodDisruptionBudget", "Service", "ServiceAccount"},
		"autoscaling":                   {"ConfigMap", "Deployment", "HorizontalPodAutoscaler", "PodDisruptionBudget", "Service", "ServiceAccount"},
		"monitoring-and-network-policy": {"ConfigMap", "Deployment", "NetworkPolicy", "PodDisruptionBudget", "Service", "ServiceAccount", "ServiceMonitor"},
	}
	for _, name := range slices.Sorted(maps.Keys(valueSets)) {
		t.Run(name, func(t *testing.T) {
			r := render(t, valueSets[name])

			if got, want := r.kinds(), wantKinds[name]; !slices.Equal(got, want) {
				t.Errorf("rendered kinds %v, expected %v", got, want)
			}
			for _, o := range r.objects {
				if o.name == "" {
					t.Errorf("%s: %s has no metadata.name", o.source, o.kind)
				}
			}
		})
	}
}

func TestStandardLabels(t *testing.T) {
	want := map[string]string{
		"app.kubernetes.io/name":       "squarebot",
		"app.kubernetes.io/instance":   releaseName,
		"app.kubernetes.io/version":    "0.1.0",
		"app.kubernetes.io/component":  "gateway",
		"app.kubernetes.io/part-of":    "squarebot",
		"app.kubernetes.io/managed-by": "Helm",
		"helm.sh/chart":                "squarebot-0.1.0",
	}
	for _, name := range slices.Sorted(maps.Keys(valueSets)) {
		r := render(t, valueSets[name])
		for _, o := range r.objects {
			var meta struct {
				Metadata struct {
					Labels map[string]string `json:"labels"`
				} `json:"metadata"`
			}
			if err := yaml.Unmarshal([]byte(o.doc), &meta); err != nil {
				t.Fatalf("%s: %v", o.source, err)
			}
			for key, value := range want {
				if got := meta.Metadata.Labels[key]; got != value {
					t.Errorf("%s: %s %s label %s = %q, expected %q", name, o.kind, o.name, key, got, value)
				}
			}
		}
	}
}

func TestDeploymentSecurityContext(t *testing.T) {
	for _, name := range slices.Sorted(maps.Keys(valueSets)) {
		t.Run(name, func(t *testing.T) {
			deploy := only[*appsv1.Deployment](t, render(t, valueSets[name]))
			pod := deploy.Spec.Template.Spec
			podSecurity := pod.SecurityContext
			c := container(t, deploy)
			security := c.SecurityContext

			if podSecurity == nil || security == nil {
				t.Fatalf("pod security context %v, container security context %v: both must be set", podSecurity, security)
			}
			if podSecurity.RunAsNonRoot == nil || !*podSecurity.RunAsNonRoot {
				t.Errorf("pod runAsNonRoot = %v, expected true", deref(podSecurity.RunAsNonRoot))
			}
			if podSecurity.RunAsUser == nil || *podSecurity.RunAsUser != 65532 {
				t.Errorf("pod runAsUser = %v, expected 65532", deref(podSecurity.RunAsUser))
			}
			if podSecurity.SeccompProfile == nil || podSecurity.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
				t.Errorf("pod seccompProfile = %v, expected RuntimeDefault", podSecurity.SeccompProfile)
			}
			if security.RunAsNonRoot == nil || !*security.RunAsNonRoot {
				t.Errorf("container runAsNonRoot = %v, expected true", deref(security.RunAsNonRoot))
			}
			if security.RunAsUser == nil || *security.RunAsUser != 65532 {
				t.Errorf("container runAsUser = %v, expected 65532", deref(security.RunAsUser))
			}
			if security.ReadOnlyRootFilesystem == nil || !*security.ReadOnlyRootFilesystem {
				t.Errorf("readOnlyRootFilesystem = %v, expected true", deref(security.ReadOnlyRootFilesystem))
			}
			if security.AllowPrivilegeEscalation == nil || *security.AllowPrivilegeEscalation {
				t.Errorf("allowPrivilegeEscalation = %v, expected false", deref(security.AllowPrivilegeEscalation))
			}
			if security.Privileged == nil || *security.Privileged {
				t.Errorf("privileged = %v, expected false", deref(security.Privileged))
			}
			if security.Capabilities == nil || !slices.Equal(security.Capabilities.Drop, []corev1.Capability{"ALL"}) {
				t.Errorf("capabilities = %v, expected drop [ALL]", security.Capabilities)
			}
			if security.Capabilities != nil && len(security.Capabilities.Add) != 0 {
				t.Errorf("capabilities.add = %v, expected none", security.Capabilities.Add)
			}
			if security.SeccompProfile == nil || security.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
				t.Errorf("container seccompProfile = %v, expected RuntimeDefault", security.SeccompProfile)
			}
			if pod.AutomountServiceAccountToken == nil || *pod.AutomountServiceAccountToken {
				t.Errorf("automountServiceAccountToken = %v, expected false", deref(pod.AutomountServiceAccountToken))
			}
			if pod.EnableServiceLinks == nil || *pod.EnableServiceLinks {
				t.Errorf("enableServiceLinks = %v, expected false", deref(pod.EnableServiceLinks))
			}
			for _, volume := range pod.Volumes {
				if volume.Secret != nil && (volume.Secret.DefaultMode == nil || *volume.Secret.DefaultMode != 0o440) {
					t.Errorf("Secret volume %s has defaultMode %s, expected 0440", volume.Name, octal(volume.Secret.DefaultMode))
				}
			}
		})
	}
}

func TestDeploymentProbes(t *testing.T) {
	deploy := only[*appsv1.Deployment](t, render(t, valueSets["default"]))
	c := container(t, deploy)
	probes := []struct {
		name  string
		probe *corev1.Probe
		path  string
	}{
		{"startup", c.StartupProbe, "/healthz"},
		{"liveness", c.LivenessProbe, "/healthz"},
		{"readiness", c.ReadinessProbe, "/readyz"},
	}

	var adminPort int32
	for _, port := range c.Ports {
		if port.Name == "admin" {
			adminPort = port.ContainerPort
		}
	}

	if adminPort != 9090 {
		t.Errorf("container port admin = %d, expected 9090", adminPort)
	}
	for _, p := range probes {
		if p.probe == nil || p.probe.HTTPGet == nil {
			t.Errorf("%s probe = %v, expected an HTTP GET", p.name, p.probe)
			continue
		}
		if p.probe.HTTPGet.Path != p.path {
			t.Errorf("%s probe path = %q, expected %q", p.name, p.probe.HTTPGet.Path, p.path)
		}
		if p.probe.HTTPGet.Port != intstr.FromString("admin") {
			t.Errorf("%s probe port = %v, expected the admin port", p.name, p.probe.HTTPGet.Port)
		}
		if p.probe.PeriodSeconds < 1 || p.probe.TimeoutSeconds < 1 || p.probe.FailureThreshold < 1 {
			t.Errorf("%s probe timings period=%d timeout=%d failures=%d, expected all set", p.name, p.probe.PeriodSeconds, p.probe.TimeoutSeconds, p.probe.FailureThreshold)
		}
	}
}

func TestDeploymentShutdown(t *testing.T) {
	r := render(t, valueSets["default"])
	deploy := only[*appsv1.Deployment](t, r)
	c := container(t, deploy)
	grace := deploy.Spec.Template.Spec.TerminationGracePeriodSeconds
	shutdown, err := time.ParseDuration(readConfig(t, r).ShutdownTimeout)
	if err != nil {
		t.Fatalf("shutdown_timeout: %v", err)
	}
	drainSeconds := int64(shutdown / time.Second)

	if c.Lifecycle == nil || c.Lifecycle.PreStop == nil || c.Lifecycle.PreStop.Sleep == nil {
		t.Fatalf("preStop = %+v, expected a sleep handler", c.Lifecycle)
	}
	preStop := c.Lifecycle.PreStop
	if preStop.Exec != nil || preStop.HTTPGet != nil || preStop.TCPSocket != nil {
		t.Errorf("preStop = %+v, expected only the sleep handler because the image has no shell", preStop)
	}
	if preStop.Sleep.Seconds != 5 {
		t.Errorf("preStop sleep = %d s, expected 5 s", preStop.Sleep.Seconds)
	}
	if drainSeconds != 10 {
		t.Errorf("shutdown_timeout = %s, expected 10s", shutdown)
	}
	if grace == nil || *grace < preStop.Sleep.Seconds+drainSeconds {
		t.Errorf("terminationGracePeriodSeconds = %v, expected at least preStop %d s + shutdown %d s", deref(grace), preStop.Sleep.Seconds, drainSeconds)
	}
}

func TestDeploymentRejectsShortGracePeriod(t *testing.T) {
	_, err := renderValues("preStopSleepSeconds: 10\nshutdownTimeoutSeconds: 20\nterminationGracePeriodSeconds: 30\n", false)

	if err == nil {
		t.Fatal("rendered a grace period shorter than preStop + shutdown")
	}
	if !strings.Contains(err.Error(), "terminationGracePeriodSeconds (30) must be at least preStopSleepSeconds + shutdownTimeoutSeconds + 5 (35)") {
		t.Errorf("error %q does not name the values and the minimum", err)
	}
}

func TestDeploymentCommandAndPorts(t *testing.T) {
	deploy := only[*appsv1.Deployment](t, render(t, valueSets["default"]))
	c := container(t, deploy)
	ports := map[string]int32{}
	for _, port := range c.Ports {
		ports[port.Name] = port.ContainerPort
	}

	if want := []string{"serve", "--config", "/etc/squarebot/config.yaml"}; !slices.Equal(c.Args, want) {
		t.Errorf("args = %q, expected %q", c.Args, want)
	}
	if len(c.Command) != 0 {
		t.Errorf("command = %q, expected the image entrypoint", c.Command)
	}
	if c.Image != "ghcr.io/lsst-sqre/squarebot:0.1.0" {
		t.Errorf("image = %q, expected the appVersion tag", c.Image)
	}
	if !maps.Equal(ports, map[string]int32{"http": 8080, "admin": 9090}) {
		t.Errorf("container ports = %v, expected http 8080 and admin 9090", ports)
	}
	if deploy.Spec.Replicas == nil || *deploy.Spec.Replicas != 2 {
		t.Errorf("replicas = %v, expected 2", deref(deploy.Spec.Replicas))
	}
	for _, resource := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
		if _, ok := c.Resources.Requests[resource]; !ok {
			t.Errorf("no %s request", resource)
		}
		if _, ok := c.Resources.Limits[resource]; !ok {
			t.Errorf("no %s limit", resource)
		}
	}
}

func TestDeploymentMountsConfig(t *testing.T) {
	r := render(t, valueSets["default"])
	deploy := only[*appsv1.Deployment](t, r)
	configMap := only[*corev1.ConfigMap](t, r)
	var mounted bool

	for _, mount := range container(t, deploy).VolumeMounts {
		if mount.MountPath != "/etc/squarebot" {
			continue
		}
		for _, volume := range deploy.Spec.Template.Spec.Volumes {
			if volume.Name == mount.Name && volume.ConfigMap != nil && volume.ConfigMap.Name == configMap.Name {
				mounted = true
			}
		}
	}

	if !mounted {
		t.Errorf("ConfigMap %s is not mounted at /etc/squarebot", configMap.Name)
	}
}

func TestDeploymentSelectsItsPods(t *testing.T) {
	r := render(t, valueSets["default"])
	deploy := only[*appsv1.Deployment](t, r)
	service := only[*corev1.Service](t, r)
	podLabels := deploy.Spec.Template.Labels

	for key, value := range deploy.Spec.Selector.MatchLabels {
		if podLabels[key] != value {
			t.Errorf("Deployment selector %s=%s does not match the pod labels %v", key, value, podLabels)
		}
	}
	for key, value := range service.Spec.Selector {
		if podLabels[key] != value {
			t.Errorf("Service selector %s=%s does not match the pod labels %v", key, value, podLabels)
		}
	}
	if deploy.Spec.Template.Spec.ServiceAccountName != fullname {
		t.Errorf("serviceAccountName = %q, expected %q", deploy.Spec.Template.Spec.ServiceAccountName, fullname)
	}
}

func TestServicePorts(t *testing.T) {
	service := only[*corev1.Service](t, render(t, valueSets["default"]))
	ports := map[string]corev1.ServicePort{}
	for _, port := range service.Spec.Ports {
		ports[port.Name] = port
	}

	for name, number := range map[string]int32{"http": 8080, "admin": 9090} {
		port, ok := ports[name]
		if !ok {
			t.Errorf("Service has no port %s", name)
			continue
		}
		if port.Port != number {
			t.Errorf("Service port %s = %d, expected %d", name, port.Port, number)
		}
		if port.TargetPort != intstr.FromString(name) {
			t.Errorf("Service port %s targets %v, expected the container port %s", name, port.TargetPort, name)
		}
	}
	if service.Spec.Type != corev1.ServiceTypeClusterIP {
		t.Errorf("Service type = %s, expected ClusterIP", service.Spec.Type)
	}
}

func TestConfigDefaults(t *testing.T) {
	config := readConfig(t, render(t, valueSets["default"]))

	if config.HTTP.Addr != ":8080" || config.Admin.Addr != ":9090" {
		t.Errorf("listen addresses %q and %q, expected :8080 and :9090", config.HTTP.Addr, config.Admin.Addr)
	}
	if config.HTTP.MaxBodyBytes != 1048576 {
		t.Errorf("max_body_bytes = %d, expected 1048576", config.HTTP.MaxBodyBytes)
	}
	if config.Kafka.SecurityProtocol != "PLAINTEXT" || config.Kafka.ClientID != "squarebot" || config.Kafka.AckTimeout != "2s" {
		t.Errorf("kafka = %+v, expected PLAINTEXT, client id squarebot and ack timeout 2s", config.Kafka)
	}
	if config.Kafka.BootstrapServers != "" || config.Registry.URL != "" {
		t.Errorf("bootstrap_servers %q and registry url %q, expected both left out by default", config.Kafka.BootstrapServers, config.Registry.URL)
	}
	if config.Registry.Compatibility != "FORWARD_TRANSITIVE" || config.Registry.RegisterSchemas == nil || !*config.Registry.RegisterSchemas {
		t.Errorf("registry = %+v, expected FORWARD_TRANSITIVE and register_schemas true", config.Registry)
	}
	if config.ShutdownTimeout != "10s" {
		t.Errorf("shutdown_timeout = %q, expected 10s", config.ShutdownTimeout)
	}
	if config.Topics.AppMention != "lsst.square-events.squarebot.slack.app.mention" {
		t.Errorf("app_mention topic = %q, expected the default", config.Topics.AppMention)
	}
	if config.Topics.Interaction != "lsst.square-events.squarebot.slack.interaction" {
		t.Errorf("interaction topic = %q, expected the default", config.Topics.Interaction)
	}
}

func TestSigningSecretsFromSecret(t *testing.T) {
	tests := []struct {
		name       string
		values     string
		wantSecret string
		wantKey    string
	}{
		{"default", "", fullname, "slack-signing-secrets"},
		{"existing secret", "slack:\n  signingSecrets:\n    existingSecret: slack-app\n    key: signing\n", "slack-app", "signing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			deploy := only[*appsv1.Deployment](t, render(t, tt.values))
			var ref *corev1.SecretKeySelector

			for _, env := range container(t, deploy).Env {
				if env.Name == "SQUAREBOT_SLACK_SIGNING_SECRETS" && env.ValueFrom != nil {
					ref = env.ValueFrom.SecretKeyRef
				}
			}

			if ref == nil {
				t.Fatal("SQUAREBOT_SLACK_SIGNING_SECRETS does not come from a secretKeyRef")
			}
			if ref.Name != tt.wantSecret || ref.Key != tt.wantKey {
				t.Errorf("signing secrets from Secret %s key %s, expected %s key %s", ref.Name, ref.Key, tt.wantSecret, tt.wantKey)
			}
		})
	}
}

func TestKafkaSASLSCRAM(t *testing.T) {
	r := render(t, valueSets["sasl-scram"])
	deploy := only[*appsv1.Deployment](t, r)
	config := readConfig(t, r)

	if config.Kafka.SecurityProtocol != "SASL_SSL" || config.Kafka.SASLMechanism != "SCRAM-SHA-512" {
		t.Errorf("security protocol %q and mechanism %q, expected SASL_SSL and SCRAM-SHA-512", config.Kafka.SecurityProtocol, config.Kafka.SASLMechanism)
	}
	if config.Kafka.SASLUsername != "squarebot-producer" {
		t.Errorf("sasl_username = %q, expected squarebot-producer", config.Kafka.SASLUsername)
	}
	if config.Kafka.BootstrapServers != "kafka-0.kafka.squarebot.test:9094,kafka-1.kafka.squarebot.test:9094" {
		t.Errorf("bootstrap_servers = %q, expected the two brokers of the values", config.Kafka.BootstrapServers)
	}
	assertSecretFile(t, deploy, "sasl_password_file", config.Kafka.SASLPasswordFile, "kafka-sasl", "sasl-password")
	assertSecretFile(t, deploy, "tls_ca_file", config.Kafka.TLSCAFile, "kafka-cluster-ca", "cluster-ca.pem")
	assertSecretFile(t, deploy, "registry password_file", config.Registry.PasswordFile, "registry-credentials", "registry-password")
	assertSecretFile(t, deploy, "registry ca_file", config.Registry.CAFile, "registry-ca", "registry-ca.pem")
	if config.Kafka.TLSCertFile != "" || config.Kafka.TLSKeyFile != "" {
		t.Errorf("client certificate files %q and %q, expected none with SASL", config.Kafka.TLSCertFile, config.Kafka.TLSKeyFile)
	}
	if config.Registry.Username != "squarebot-registry" {
		t.Errorf("registry username = %q, expected squarebot-registry", config.Registry.Username)
	}
}

func TestKafkaMutualTLS(t *testing.T) {
	r := render(t, valueSets["mtls"])
	deploy := only[*appsv1.Deployment](t, r)
	config := readConfig(t, r)

	if config.Kafka.SecurityProtocol != "SSL" {
		t.Errorf("security protocol %q, expected SSL", config.Kafka.SecurityProtocol)
	}
	assertSecretFile(t, deploy, "tls_cert_file", config.Kafka.TLSCertFile, "kafka-client", "user.crt")
	assertSecretFile(t, deploy, "tls_key_file", config.Kafka.TLSKeyFile, "kafka-client", "user.key")
	assertSecretFile(t, deploy, "tls_ca_file", config.Kafka.TLSCAFile, "kafka-cluster-ca", "ca.crt")
	if config.Kafka.SASLPasswordFile != "" || config.Kafka.SASLUsername != "" {
		t.Errorf("SASL settings %+v, expected none with SSL", config.Kafka)
	}
	if config.Registry.PasswordFile != "" || config.Registry.CAFile != "" {
		t.Errorf("registry files %q and %q, expected none", config.Registry.PasswordFile, config.Registry.CAFile)
	}
}

func assertSecretFile(t *testing.T, deploy *appsv1.Deployment, setting, filePath, wantSecret, wantKey string) {
	t.Helper()

	if filePath == "" {
		t.Errorf("%s is not set", setting)
		return
	}
	secret, key := secretFile(t, deploy, filePath)
	if secret != wantSecret || key != wantKey {
		t.Errorf("%s %s comes from Secret %s key %s, expected %s key %s", setting, filePath, secret, key, wantSecret, wantKey)
	}
}

func TestChecksumFollowsConfig(t *testing.T) {
	checksum := func(values string) string {
		deploy := only[*appsv1.Deployment](t, render(t, values))
		sum := deploy.Spec.Template.Annotations["checksum/config"]
		if len(sum) != 64 {
			t.Fatalf("checksum/config = %q, expected a SHA-256 hex digest", sum)
		}
		return sum
	}
	base := checksum("")

	if got := checksum("log:\n  level: debug\n"); got == base {
		t.Error("checksum/config did not change when log.level changed")
	}
	if got := checksum("topics:\n  interaction: squarebot.interaction\n"); got == base {
		t.Error("checksum/config did not change when a topic changed")
	}
	if got := checksum("replicaCount: 5\npodAnnotations:\n  team: square\n"); got != base {
		t.Error("checksum/config changed although config.yaml did not")
	}
}

func TestPodDisruptionBudget(t *testing.T) {
	tests := []struct {
		name               string
		values             string
		wantMaxUnavailable *intstr.IntOrString
		wantMinAvailable   *intstr.IntOrString
	}{
		{"default", "", ptr(intstr.FromInt32(1)), nil},
		{"min available", "podDisruptionBudget:\n  minAvailable: 50%\n", nil, ptr(intstr.FromString("50%"))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := render(t, tt.values)
			pdb := only[*policyv1.PodDisruptionBudget](t, r)
			deploy := only[*appsv1.Deployment](t, r)

			if !equalIntOrString(pdb.Spec.MaxUnavailable, tt.wantMaxUnavailable) {
				t.Errorf("maxUnavailable = %v, expected %v", deref(pdb.Spec.MaxUnavailable), deref(tt.wantMaxUnavailable))
			}
			if !equalIntOrString(pdb.Spec.MinAvailable, tt.wantMinAvailable) {
				t.Errorf("minAvailable = %v, expected %v", deref(pdb.Spec.MinAvailable), deref(tt.wantMinAvailable))
			}
			if !maps.Equal(pdb.Spec.Selector.MatchLabels, deploy.Spec.Selector.MatchLabels) {
				t.Errorf("PodDisruptionBudget selector %v, expected the Deployment selector %v", pdb.Spec.Selector.MatchLabels, deploy.Spec.Selector.MatchLabels)
			}
		})
	}
}

func equalIntOrString(a, b *intstr.IntOrString) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

func ptr[T any](v T) *T {
	return &v
}

// deref formats the value behind p, or "unset" for nil, for test messages.
func deref[T any](p *T) string {
	if p == nil {
		return "unset"
	}
	return fmt.Sprint(*p)
}

func octal(p *int32) string {
	if p == nil {
		return "unset"
	}
	return fmt.Sprintf("%#o", *p)
}

func TestImageDigestReplacesTag(t *testing.T) {
	digest := "sha256:" + strings.Repeat("ab", 32)
	values := "image:\n  tag: 9.9.9\n  digest: " + digest + "\n"

	deploy := only[*appsv1.Deployment](t, render(t, values))

	if got, want := container(t, deploy).Image, "ghcr.io/lsst-sqre/squarebot@"+digest; got != want {
		t.Errorf("image = %q, expected %q", got, want)
	}
	if got := deploy.Labels["app.kubernetes.io/version"]; got != "9.9.9" {
		t.Errorf("version label = %q, expected the tag 9.9.9", got)
	}
}

func TestNotesWarnAboutRequiredValues(t *testing.T) {
	tests := []struct {
		name        string
		values      string
		wantWarning []string
	}{
		{"defaults", "", []string{"kafka.bootstrapServers is empty", "registry.url is empty"}},
		{"registry missing", "kafka:\n  bootstrapServers: kafka.squarebot.test:9092\n", []string{"registry.url is empty"}},
		{"both set", valueSets["mtls"], nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			notes := render(t, tt.values).files["squarebot/templates/NOTES.txt"]
			var warnings []string
			for _, line := range strings.Split(notes, "\n") {
				if warning, ok := strings.CutPrefix(line, "WARNING: "); ok {
					warning, _, _ = strings.Cut(warning, ". ")
					warnings = append(warnings, warning)
				}
			}

			if !slices.Equal(warnings, tt.wantWarning) {
				t.Errorf("NOTES.txt warns %q, expected %q", warnings, tt.wantWarning)
			}
		})
	}
}

// settingsDoc is the configuration reference that cmd/squarebot generates
// from its list of settings. squarebot rejects a config file key that is
// not in that list.
const settingsDoc = "../../docs/configuration.md"

func TestConfigKeysAreSquarebotSettings(t *testing.T) {
	doc, err := os.ReadFile(settingsDoc)
	if err != nil {
		t.Fatal(err)
	}
	known := map[string]bool{}
	for _, match := range regexp.MustCompile("(?m)^\\| `([a-z0-9_.]+)` \\|").FindAllStringSubmatch(string(doc), -1) {
		known[match[1]] = true
	}
	if len(known) == 0 {
		t.Fatalf("found no settings in %s", settingsDoc)
	}

	for _, name := range slices.Sorted(maps.Keys(valueSets)) {
		for key := range configSettings(t, render(t, valueSets[name])) {
			if !known[key] {
				t.Errorf("%s: config.yaml sets %s, which %s does not list", name, key, settingsDoc)
			}
		}
	}
}
