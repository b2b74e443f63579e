package deploy_test

import (
	"github.com/lsst-sqre/squarebot/pkg/gateway"
	"maps"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
)

// customTopics renames two topics and routes two inputs to one topic, so the
// KafkaUser and KafkaTopic tests see configured names and no duplicates.
const customTopics = `
topics:
  appMention: square.slack.app_mention
  messageChannel: square.slack.messages
  messageGroup: square.slack.messages
`

// wantCustomTopics is the set of distinct topics that customTopics configures.
var wantCustomTopics = []string{
	"lsst.square-events.squarebot.slack.interaction",
	"lsst.square-events.squarebot.slack.message.im",
	"lsst.square-events.squarebot.slack.message.mpim",
	"square.slack.app_mention",
	"square.slack.messages",
}

func TestKafkaUserACLsCoverConfiguredTopics(t *testing.T) {
	for _, scenario := range []string{"strimzi-scram", "strimzi-tls"} {
		t.Run(scenario, func(t *testing.T) {
			user := only[*KafkaUser](t, render(t, valueSets[scenario]+customTopics))
			var topics []string
			for _, acl := range user.Spec.Authorization.ACLs {
				topics = append(topics, acl.Resource.Name)

				if acl.Resource.Type != "topic" {
					t.Errorf("ACL on %s %q, expected a topic", acl.Resource.Type, acl.Resource.Name)
				}
				if acl.Resource.PatternType != "literal" {
					t.Errorf("ACL on %q has pattern type %q, expected literal", acl.Resource.Name, acl.Resource.PatternType)
				}
				if ops := slices.Sorted(slices.Values(acl.Operations)); !slices.Equal(ops, []string{"Describe", "Write"}) {
					t.Errorf("ACL on %q allows %v, expected exactly Describe and Write", acl.Resource.Name, ops)
				}
			}
			slices.Sort(topics)

			if !slices.Equal(topics, wantCustomTopics) {
				t.Errorf("ACL topics %v, expected exactly %v", topics, wantCustomTopics)
			}
			if user.Spec.Authorization.Type != "simple" {
				t.Errorf("authorization type %q, expected simple", user.Spec.Authorization.Type)
			}
			if user.Labels["strimzi.io/cluster"] != "sasquatch" {
				t.Errorf("strimzi.io/cluster label = %q, expected sasquatch", user.Labels["strimzi.io/cluster"])
			}
		})
	}
}

func TestKafkaUserSCRAM(t *testing.T) {
	r := render(t, valueSets["strimzi-scram"])
	user := only[*KafkaUser](t, r)
	deploy := only[*appsv1.Deployment](t, r)
	config := readConfig(t, r)

	if user.Name != "squarebot-producer" || user.Spec.Authentication.Type != "scram-sha-512" {
		t.Errorf("KafkaUser %s with %s, expected squarebot-producer with scram-sha-512", user.Name, user.Spec.Authentication.Type)
	}
	if config.Kafka.SASLUsername != user.Name || config.Kafka.SASLMechanism != "SCRAM-SHA-512" {
		t.Errorf("SASL user %q mechanism %q, expected %q with SCRAM-SHA-512", config.Kafka.SASLUsername, config.Kafka.SASLMechanism, user.Name)
	}
	assertSecretFile(t, deploy, "sasl_password_file", config.Kafka.SASLPasswordFile, user.Name, "password")
	assertSecretFile(t, deploy, "tls_ca_file", config.Kafka.TLSCAFile, "sasquatch-cluster-ca-cert", "ca.crt")
	if config.Kafka.TLSCertFile != "" {
		t.Errorf("tls_cert_file = %q, expected none with SCRAM", config.Kafka.TLSCertFile)
	}
}

func TestKafkaUserTLS(t *testing.T) {
	r := render(t, valueSets["strimzi-tls"])
	user := only[*KafkaUser](t, r)
	deploy := only[*appsv1.Deployment](t, r)
	config := readConfig(t, r)

	if user.Name != fullname || user.Spec.Authentication.Type != "tls" {
		t.Errorf("KafkaUser %s with %s, expected %s with tls", user.Name, user.Spec.Authentication.Type, fullname)
	}
	assertSecretFile(t, deploy, "tls_cert_file", config.Kafka.TLSCertFile, user.Name, "user.crt")
	assertSecretFile(t, deploy, "tls_key_file", config.Kafka.TLSKeyFile, user.Name, "user.key")
	assertSecretFile(t, deploy, "tls_ca_file", config.Kafka.TLSCAFile, "sasquatch-cluster-ca-cert", "ca.crt")
	if config.Kafka.SASLPasswordFile != "" {
		t.Errorf("sasl_password_file = %q, expected none with TLS", config.Kafka.SASLPasswordFile)
	}
}

func TestKafkaTopics(t *testing.T) {
	topics := all[*KafkaTopic](render(t, valueSets["strimzi-scram"]+customTopics))
	byTopic := map[string]*KafkaTopic{}
	for _, topic := range topics {
		byTopic[topic.Spec.TopicName] = topic
	}

	if got := slices.Sorted(maps.Keys(byTopic)); !slices.Equal(got, wantCustomTopics) || len(topics) != len(wantCustomTopics) {
		t.Fatalf("KafkaTopics for %v (%d resources), expected one each for %v", got, len(topics), wantCustomTopics)
	}
	for name, topic := range byTopic {
		if topic.Spec.Partitions != 6 || topic.Spec.Replicas != 2 {
			t.Errorf("%s: %d partitions and %d replicas, expected 6 and 2", name, topic.Spec.Partitions, topic.Spec.Replicas)
		}
		wantConfig := map[string]int64{"retention.ms": 86400000, "max.message.bytes": int64(gateway.LargestRecord(1 << 20))}
		if !maps.Equal(topic.Spec.Config, wantConfig) {
			t.Errorf("%s: config %v, expected %v", name, topic.Spec.Config, wantConfig)
		}
		if topic.Labels["strimzi.io/cluster"] != "sasquatch" {
			t.Errorf("%s: strimzi.io/cluster label = %q, expected sasquatch", name, topic.Labels["strimzi.io/cluster"])
		}
		if topic.Annotations["helm.sh/resource-policy"] != "keep" {
			t.Errorf("%s: annotations %v, expected helm.sh/resource-policy keep", name, topic.Annotations)
		}
		if topic.Name != strings.ReplaceAll(strings.ToLower(name), "_", "-") {
			t.Errorf("%s: resource name %q, expected the topic name in lower case with dashes", name, topic.Name)
		}
	}
}

func TestKafkaTopicsDeletableOnUninstall(t *testing.T) {
	values := `
strimzi:
  cluster: sasquatch
  kafkaTopics:
    enabled: true
    keepOnUninstall: false
`
	topics := all[*KafkaTopic](render(t, values))

	if len(topics) != 6 {
		t.Fatalf("rendered %d KafkaTopics, expected 6", len(topics))
	}
	for _, topic := range topics {
		if _, ok := topic.Annotations["helm.sh/resource-policy"]; ok {
			t.Errorf("%s: annotations %v, expected no resource policy", topic.Name, topic.Annotations)
		}
	}
}
