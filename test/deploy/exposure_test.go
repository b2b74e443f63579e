package deploy_test

import (
	"maps"
	"slices"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

func TestIngressRoutesSlackPaths(t *testing.T) {
	r := render(t, valueSets["ingress"])
	ingress := only[*networkingv1.Ingress](t, r)
	config := readConfig(t, r)

	if config.HTTP.PathPrefix != "/squarebot" {
		t.Errorf("path_prefix = %q, expected /squarebot", config.HTTP.PathPrefix)
	}
	if ingress.Spec.IngressClassName == nil || *ingress.Spec.IngressClassName != "nginx" {
		t.Errorf("ingressClassName = %v, expected nginx", deref(ingress.Spec.IngressClassName))
	}
	if len(ingress.Spec.TLS) != 1 || ingress.Spec.TLS[0].SecretName != "slack-squarebot-test-tls" {
		t.Errorf("tls = %+v, expected the slack-squarebot-test-tls Secret", ingress.Spec.TLS)
	}
	if len(ingress.Spec.Rules) != 1 {
		t.Fatalf("rendered %d rules, expected 1", len(ingress.Spec.Rules))
	}
	rule := ingress.Spec.Rules[0]
	if rule.Host != "slack.squarebot.test" {
		t.Errorf("host = %q, expected slack.squarebot.test", rule.Host)
	}
	if rule.HTTP == nil || len(rule.HTTP.Paths) != 1 {
		t.Fatalf("rule %+v, expected one path", rule)
	}
	p := rule.HTTP.Paths[0]
	if p.Path != "/squarebot/slack" || p.PathType == nil || *p.PathType != networkingv1.PathTypePrefix {
		t.Errorf("path %q type %v, expected prefix /squarebot/slack", p.Path, deref(p.PathType))
	}
	if p.Backend.Service == nil || p.Backend.Service.Name != fullname || p.Backend.Service.Port.Name != "http" {
		t.Errorf("backend %+v, expected Service %s port http", p.Backend, fullname)
	}
	if got := ingress.Annotations["nginx.ingress.kubernetes.io/proxy-body-size"]; got != "1m" {
		t.Errorf("annotation proxy-body-size = %q, expected 1m", got)
	}
}

func TestIngressWithoutHosts(t *testing.T) {
	ingress := only[*networkingv1.Ingress](t, render(t, "ingress:\n  enabled: true\n"))

	if len(ingress.Spec.Rules) != 1 || ingress.Spec.Rules[0].Host != "" {
		t.Fatalf("rules %+v, expected one rule for any host", ingress.Spec.Rules)
	}
	if path := ingress.Spec.Rules[0].HTTP.Paths[0].Path; path != "/slack" {
		t.Errorf("path = %q, expected /slack without a prefix", path)
	}
	if ingress.Spec.IngressClassName != nil {
		t.Errorf("ingressClassName = %q, expected the cluster default", *ingress.Spec.IngressClassName)
	}
}

func TestAutoscaling(t *testing.T) {
	r := render(t, valueSets["autoscaling"])
	hpa := only[*autoscalingv2.HorizontalPodAutoscaler](t, r)
	deploy := only[*appsv1.Deployment](t, r)
	targets := map[corev1.ResourceName]int32{}
	for _, metric := range hpa.Spec.Metrics {
		if metric.Type != autoscalingv2.ResourceMetricSourceType || metric.Resource == nil {
			t.Fatalf("metric %+v, expected a resource metric", metric)
		}
		if metric.Resource.Target.Type != autoscalingv2.UtilizationMetricType || metric.Resource.Target.AverageUtilization == nil {
			t.Fatalf("metric target %+v, expected average utilization", metric.Resource.Target)
		}
		targets[metric.Resource.Name] = *metric.Resource.Target.AverageUtilization
	}

	if deploy.Spec.Replicas != nil {
		t.Errorf("Deployment replicas = %d, expected none so that the autoscaler owns the count", *deploy.Spec.Replicas)
	}
	ref := hpa.Spec.ScaleTargetRef
	if ref.APIVersion != "apps/v1" || ref.Kind != "Deployment" || ref.Name != deploy.Name {
		t.Errorf("scaleTargetRef = %+v, expected Deployment %s", ref, deploy.Name)
	}
	if hpa.Spec.MinReplicas == nil || *hpa.Spec.MinReplicas != 3 || hpa.Spec.MaxReplicas != 9 {
		t.Errorf("replicas %v to %d, expected 3 to 9", deref(hpa.Spec.MinReplicas), hpa.Spec.MaxReplicas)
	}
	if !maps.Equal(targets, map[corev1.ResourceName]int32{corev1.ResourceCPU: 60, corev1.ResourceMemory: 80}) {
		t.Errorf("targets = %v, expected cpu 60 and memory 80", targets)
	}
}

func TestServiceMonitorScrapesAdminPort(t *testing.T) {
	r := render(t, valueSets["monitoring-and-network-policy"])
	monitor := only[*ServiceMonitor](t, r)
	service := only[*corev1.Service](t, r)

	if monitor.APIVersion != "monitoring.coreos.com/v1" {
		t.Errorf("apiVersion = %q, expected monitoring.coreos.com/v1", monitor.APIVersion)
	}
	if monitor.Labels["release"] != "prometheus" {
		t.Errorf("labels = %v, expected release=prometheus", monitor.Labels)
	}
	for key, value := range monitor.Spec.Selector.MatchLabels {
		if service.Labels[key] != value {
			t.Errorf("selector %s=%s does not match the Service labels %v", key, value, service.Labels)
		}
	}
	if len(monitor.Spec.Endpoints) != 1 {
		t.Fatalf("rendered %d endpoints, expected 1", len(monitor.Spec.Endpoints))
	}
	endpoint := monitor.Spec.Endpoints[0]
	if endpoint.Port != "admin" || endpoint.Path != "/metrics" {
		t.Errorf("endpoint port %q path %q, expected admin and /metrics", endpoint.Port, endpoint.Path)
	}
	if endpoint.Interval != "15s" || endpoint.ScrapeTimeout != "10s" {
		t.Errorf("interval %q timeout %q, expected 15s and 10s", endpoint.Interval, endpoint.ScrapeTimeout)
	}
}

func TestNetworkPolicy(t *testing.T) {
	r := render(t, valueSets["monitoring-and-network-policy"])
	policy := only[*networkingv1.NetworkPolicy](t, r)
	deploy := only[*appsv1.Deployment](t, r)
	ingressByPort := map[string]networkingv1.NetworkPolicyIngressRule{}
	for _, rule := range policy.Spec.Ingress {
		if len(rule.Ports) != 1 || rule.Ports[0].Port == nil {
			t.Fatalf("ingress rule %+v, expected exactly one port", rule)
		}
		ingressByPort[rule.Ports[0].Port.String()] = rule
	}

	if !maps.Equal(policy.Spec.PodSelector.MatchLabels, deploy.Spec.Selector.MatchLabels) {
		t.Errorf("podSelector %v, expected the Deployment selector %v", policy.Spec.PodSelector.MatchLabels, deploy.Spec.Selector.MatchLabels)
	}
	wantTypes := []networkingv1.PolicyType{networkingv1.PolicyTypeIngress, networkingv1.PolicyTypeEgress}
	if !slices.Equal(policy.Spec.PolicyTypes, wantTypes) {
		t.Errorf("policyTypes = %v, expected %v", policy.Spec.PolicyTypes, wantTypes)
	}
	if len(ingressByPort) != 2 {
		t.Errorf("ingress rules for ports %v, expected http and admin", slices.Sorted(maps.Keys(ingressByPort)))
	}
	httpFrom := ingressByPort["http"].From
	if len(httpFrom) != 1 || httpFrom[0].NamespaceSelector == nil || httpFrom[0].NamespaceSelector.MatchLabels["kubernetes.io/metadata.name"] != "ingress-nginx" {
		t.Errorf("http port open to %+v, expected the ingress-nginx namespace", httpFrom)
	}
	adminFrom := ingressByPort["admin"].From
	if len(adminFrom) != 1 || adminFrom[0].PodSelector == nil || adminFrom[0].PodSelector.MatchLabels["app.kubernetes.io/name"] != "prometheus" {
		t.Errorf("admin port open to %+v, expected Prometheus in the monitoring namespace", adminFrom)
	}
	if len(policy.Spec.Egress) != 2 {
		t.Fatalf("rendered %d egress rules, expected the configured one and DNS", len(policy.Spec.Egress))
	}
	dns := policy.Spec.Egress[1]
	if len(dns.To) != 0 || len(dns.Ports) != 2 || *dns.Ports[0].Port != intstr.FromInt32(53) {
		t.Errorf("last egress rule %+v, expected DNS on port 53 to every destination", dns)
	}
}

func TestNetworkPolicyLeavesEgressOpen(t *testing.T) {
	policy := only[*networkingv1.NetworkPolicy](t, render(t, "networkPolicy:\n  enabled: true\n"))

	if !slices.Equal(policy.Spec.PolicyTypes, []networkingv1.PolicyType{networkingv1.PolicyTypeIngress}) {
		t.Errorf("policyTypes = %v, expected Ingress only", policy.Spec.PolicyTypes)
	}
	for _, rule := range policy.Spec.Ingress {
		if len(rule.From) != 0 {
			t.Errorf("ingress rule %+v has sources, expected every source allowed by default", rule)
		}
	}
}
