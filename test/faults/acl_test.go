//go:build unix

package faults

import (
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/sasl/scram"

	"github.com/lsst-sqre/squarebot/pkg/devstack"
	"github.com/lsst-sqre/squarebot/pkg/gateway"
	"github.com/lsst-sqre/squarebot/pkg/kafka"
	"github.com/lsst-sqre/squarebot/pkg/secret"
	"github.com/lsst-sqre/squarebot/test/fixtures"
)

// SASL users of the broker with ACLs: the gateway's user is bound by the
// ACLs, and the admin reads the records back.
const (
	gatewayUser = "squarebot"
	adminUser   = "admin"
)

// TestTopicWithoutWritePermission runs the gateway as a SCRAM user that may
// write every topic except two. It may only describe the interaction topic,
// so the broker rejects the produce request. It may not even describe the
// direct message topic, so the broker leaves it out of metadata. Records
// for either get 503 with a warn line that names the error class, and the
// delivery failure metric counts them. Events for a permitted topic still
// get 200.
func TestTopicWithoutWritePermission(t *testing.T) {
	t.Parallel()
	topics := gateway.DefaultConfig().Topics
	password, adminPassword := randomPassword(t), randomPassword(t)
	acls := []kfake.ACL{{
		Resource: kmsg.ACLResourceTypeTopic, Name: topics.Interaction,
		Pattern: kmsg.ACLResourcePatternTypeLiteral, Operation: kmsg.ACLOperationDescribe, Allow: true,
	}}
	for _, topic := range []string{topics.AppMention, topics.MessageChannel, topics.MessageGroup, topics.MessageMPIM} {
		acls = append(acls, kfake.ACL{
			Resource: kmsg.ACLResourceTypeTopic, Name: topic,
			Pattern: kmsg.ACLResourcePatternTypeLiteral, Operation: kmsg.ACLOperationWrite, Allow: true,
		})
	}
	stack := startStack(t, devstack.Options{KafkaOptions: []kfake.Opt{
		kfake.EnableSASL(),
		kfake.EnableACLs(),
		kfake.Superuser(kafka.MechanismSCRAMSHA512, adminUser, adminPassword),
		kfake.User(kafka.MechanismSCRAMSHA512, gatewayUser, password, acls...),
	}})
	config := gatewayConfig(stack.KafkaAddr, stack.RegistryURL)
	config.Kafka.SecurityProtocol = kafka.ProtocolSASLPlaintext
	config.Kafka.SASLMechanism = kafka.MechanismSCRAMSHA512
	config.Kafka.SASLUsername = gatewayUser
	config.Kafka.SASLPassword = secret.Value(password)
	g := startGateway(t, config)
	g.waitReady(t, 20*time.Second)
	source := newEventSource(t, "ACL")
	interactionBody, err := readCaseBody(interactionFixture)
	if err != nil {
		t.Fatal(err)
	}
	imBody := fixtures.MustRead(t, imEventFixture)
	imEventID := fixtureEventIDOf(t, imBody)

	interaction := postSigned(g.client, g.url, "/slack/interaction", "application/x-www-form-urlencoded", interactionBody)
	directMessage := postSigned(g.client, g.url, "/slack/event", "application/json", imBody)
	directMessage.eventID = imEventID
	permitted := postEvent(g.client, g.url, source)
	failures := map[string]float64{}
	for _, class := range []string{"topic_authorization", "unknown_topic", "deadline", "other"} {
		failures[class] = g.metric(t, `squarebot_delivery_failures_total{class="`+class+`"}`)
	}
	readyAfter := g.readyStatus()
	warnings := g.logs.lines(isPublishWarning)
	if err := g.stop(); err != nil {
		t.Errorf("Run returned %v, want nil", err)
	}
	outcomes := []outcome{interaction, directMessage, permitted}
	check := checkRecords(t, stack.KafkaAddr, topics.Names(), outcomes,
		kgo.SASL(scram.Auth{User: adminUser, Pass: adminPassword}.AsSha512Mechanism()))

	counts := countOutcomes(outcomes)
	t.Logf("requests sent=%d 200=%d 503=%d other=%d; interaction %d in %s, direct message %d in %s, channel message %d; delivery failures by class %v; records found=%d missing=%d late=%d",
		counts.sent, counts.ok, counts.unavailable, counts.other+counts.refused+counts.timeouts,
		interaction.status, interaction.elapsed.Round(time.Millisecond), directMessage.status, directMessage.elapsed.Round(time.Millisecond),
		permitted.status, failures, check.records, len(check.missing), check.late)
	for _, warning := range warnings {
		t.Logf("warn line: class=%v topic=%v event_id=%q err=%v", warning["class"], warning["topic"], warning["event_id"], warning["err"])
	}
	if interaction.status != http.StatusServiceUnavailable {
		t.Errorf("interaction to the topic without write permission: status %d (err %v), want 503", interaction.status, interaction.err)
	}
	if directMessage.status != http.StatusServiceUnavailable {
		t.Errorf("event to the topic without any permission: status %d (err %v), want 503", directMessage.status, directMessage.err)
	}
	if permitted.status != http.StatusOK {
		t.Errorf("event to a permitted topic: status %d (err %v), want 200", permitted.status, permitted.err)
	}
	if failures["topic_authorization"] != 2 {
		t.Errorf(`squarebot_delivery_failures_total{class="topic_authorization"} = %v, want 2 (all classes: %v)`, failures["topic_authorization"], failures)
	}
	if !checkWarning(t, warnings, topics.Interaction, "") || !checkWarning(t, warnings, topics.MessageIM, imEventID) {
		t.Logf("gateway logs:\n%s", g.logs.tail(30))
	}
	if readyAfter != http.StatusOK {
		t.Errorf("/readyz after the rejected records = %d, want 200", readyAfter)
	}
	if len(check.missing) > 0 {
		t.Errorf("events answered 200 without a record: %v", check.missing)
	}
}

// checkWarning checks that one publish warning for topic carries the class
// topic_authorization and, for events, the event id. It returns false when
// no warning names topic.
func checkWarning(t *testing.T, warnings []map[string]any, topic, eventID string) bool {
	t.Helper()
	for _, warning := range warnings {
		if warning["topic"] != topic {
			continue
		}
		if warning["class"] != "topic_authorization" {
			t.Errorf("warn line for %s has class %v, want topic_authorization", topic, warning["class"])
		}
		if eventID != "" && warning["event_id"] != eventID {
			t.Errorf("warn line for %s has event_id %v, want %s", topic, warning["event_id"], eventID)
		}
		return true
	}
	t.Errorf("no warn line with a class for topic %s", topic)
	return false
}

func randomPassword(t *testing.T) string {
	t.Helper()
	raw := make([]byte, 16)
	if _, err := rand.Read(raw); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(raw)
}
