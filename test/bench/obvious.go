package main

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"time"

	"github.com/confluentinc/confluent-kafka-go/v2/kafka"
	"github.com/hamba/avro/v2"

	"github.com/lsst-sqre/squarebot/pkg/route"
	"github.com/lsst-sqre/squarebot/schemas"
)

// obviousServer is the gateway a team would write by hand: net/http, an
// HMAC-SHA256 check that compares hex strings, encoding/json into
// map[string]any, hamba/avro encoding of maps in the Confluent wire format,
// and one librdkafka produce per request (linger.ms=0, acks=all) that
// waits for its delivery report on a channel of its own. It is the
// baseline of the "obvious" variant and shares no request-path code with
// Squarebot.
type obviousServer struct {
	secret   []byte
	producer *kafka.Producer
	schemas  obviousSchemas
	// ids maps each subject, such as "<topic>-value", to its schema id.
	ids map[string]int
}

// obviousSchemas are the embedded schemas, parsed once at start.
type obviousSchemas struct {
	channelKey     avro.Schema
	message        avro.Schema
	interactionKey avro.Schema
	interaction    avro.Schema
}

// obviousAckTimeout is how long a request waits for its delivery report
// before the server responds 503, as Squarebot's default ack timeout.
const obviousAckTimeout = 2 * time.Second

// runObvious registers the schemas, connects the producer and serves
// /slack/event and /slack/interaction until ctx ends.
func runObvious(ctx context.Context, args []string, stdout io.Writer) error {
	flags := flag.NewFlagSet(childObvious, flag.ContinueOnError)
	bootstrap := flags.String("kafka", "", "Kafka bootstrap address, host:port")
	registryURL := flags.String("registry", "", "schema registry base URL")
	if err := flags.Parse(args); err != nil {
		return err
	}
	signingSecret := os.Getenv(secretEnv)
	if signingSecret == "" || *bootstrap == "" || *registryURL == "" {
		return fmt.Errorf("-kafka, -registry and %s are required", secretEnv)
	}

	server := &obviousServer{secret: []byte(signingSecret), ids: map[string]int{}}
	if err := server.loadSchemas(ctx, *registryURL); err != nil {
		return err
	}
	producer, err := kafka.NewProducer(&kafka.ConfigMap{
		"bootstrap.servers": *bootstrap,
		"linger.ms":         0,
		"acks":              "all",
	})
	if err != nil {
		return fmt.Errorf("creating producer: %w", err)
	}
	// Delivery reports go to each request's channel. The shared channel
	// only carries client errors, which this baseline ignores.
	go func() {
		for range producer.Events() {
		}
	}()
	if _, err := producer.GetMetadata(nil, true, 10_000); err != nil {
		producer.Close()
		return fmt.Errorf("connecting to Kafka: %w", err)
	}
	server.producer = producer

	return serveUntilDone(ctx, server, stdout, func() {
		producer.Flush(5_000)
		producer.Close()
	})
}

// obviousSchemaFiles maps each embedded schema file to its role.
var obviousSchemaFiles = []string{
	"slack_channel_key.avsc",
	"slack_message_event.avsc",
	"slack_interaction_key.avsc",
	"slack_interaction.avsc",
}

// parseObviousSchemas parses the embedded key and value schemas and
// returns them with their texts by file name.
func parseObviousSchemas() (obviousSchemas, map[string]string, error) {
	var parsed obviousSchemas
	targets := []*avro.Schema{&parsed.channelKey, &parsed.message, &parsed.interactionKey, &parsed.interaction}
	texts := map[string]string{}
	for i, name := range obviousSchemaFiles {
		text, err := schemas.FS.ReadFile(name)
		if err != nil {
			return obviousSchemas{}, nil, err
		}
		if *targets[i], err = avro.Parse(string(text)); err != nil {
			return obviousSchemas{}, nil, fmt.Errorf("parsing %s: %w", name, err)
		}
		texts[name] = string(text)
	}
	return parsed, texts, nil
}

// loadSchemas parses the embedded schemas and registers each under the key
// or value subject of every topic that uses it.
func (s *obviousServer) loadSchemas(ctx context.Context, registryURL string) error {
	parsed, texts, err := parseObviousSchemas()
	if err != nil {
		return err
	}
	s.schemas = parsed
	topics := route.DefaultTopics()
	for _, topic := range topics.Names() {
		keyFile, valueFile := obviousSchemaFiles[0], obviousSchemaFiles[1]
		if topic == topics.Interaction {
			keyFile, valueFile = obviousSchemaFiles[2], obviousSchemaFiles[3]
		}
		for subject, file := range map[string]string{topic + "-key": keyFile, topic + "-value": valueFile} {
			id, err := registerSchema(ctx, registryURL, subject, texts[file])
			if err != nil {
				return err
			}
			s.ids[subject] = id
		}
	}
	return nil
}

// registerSchema registers text under subject with the registry's REST API
// and returns the schema id.
func registerSchema(ctx context.Context, registryURL, subject, text string) (int, error) {
	body, err := json.Marshal(map[string]string{"schema": text})
	if err != nil {
		return 0, err
	}
	endpoint := registryURL + "/subjects/" + url.PathEscape(subject) + "/versions"
	request, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	request.Header.Set("Content-Type", "application/vnd.schemaregistry.v1+json")
	response, err := http.DefaultClient.Do(request)
	if err != nil {
		return 0, fmt.Errorf("registering %s: %w", subject, err)
	}
	defer response.Body.Close()
	var answer struct {
		ID int `json:"id"`
	}
	if response.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("registering %s: registry responded %s", subject, response.Status)
	}
	if err := json.NewDecoder(response.Body).Decode(&answer); err != nil {
		return 0, fmt.Errorf("registering %s: %w", subject, err)
	}
	return answer.ID, nil
}

func (s *obviousServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
	if err != nil {
		http.Error(w, "cannot read body", http.StatusBadRequest)
		return
	}
	if !s.verify(r.Header, body) {
		http.Error(w, "invalid signature", http.StatusUnauthorized)
		return
	}
	switch r.URL.Path {
	case "/slack/event":
		s.handleEvent(w, body)
	case "/slack/interaction":
		s.handleInteraction(w, body)
	default:
		http.NotFound(w, r)
	}
}

// verify checks the timestamp and compares the hex signature with the one
// computed over "v0:{timestamp}:{body}".
func (s *obviousServer) verify(header http.Header, body []byte) bool {
	timestamp := header.Get("X-Slack-Request-Timestamp")
	seconds, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil {
		return false
	}
	if skew := time.Since(time.Unix(seconds, 0)); skew > 5*time.Minute || skew < -5*time.Minute {
		return false
	}
	mac := hmac.New(sha256.New, s.secret)
	mac.Write([]byte("v0:" + timestamp + ":"))
	mac.Write(body)
	expected := "v0=" + hex.EncodeToString(mac.Sum(nil))
	return hmac.Equal([]byte(expected), []byte(header.Get("X-Slack-Signature")))
}

// obviousRecord is a routed record before encoding.
type obviousRecord struct {
	topic       string
	keySchema   avro.Schema
	key         map[string]any
	valueSchema avro.Schema
	value       map[string]any
}

func (s *obviousServer) handleEvent(w http.ResponseWriter, body []byte) {
	var envelope map[string]any
	if err := json.Unmarshal(body, &envelope); err != nil {
		http.Error(w, "invalid JSON", http.StatusBadRequest)
		return
	}
	if envelope["type"] == "url_verification" {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"challenge": envelope["challenge"]})
		return
	}
	record, ok := s.eventRecord(envelope, body)
	if !ok {
		w.WriteHeader(http.StatusOK)
		return
	}
	s.publish(w, record)
}

// eventRecord routes an Events API envelope. It returns false for an
// envelope or event type that is not published.
func (s *obviousServer) eventRecord(envelope map[string]any, body []byte) (obviousRecord, bool) {
	if envelope["type"] != "event_callback" {
		return obviousRecord{}, false
	}
	event := object(envelope, "event")
	topic := eventTopic(event)
	if topic == "" {
		return obviousRecord{}, false
	}
	return obviousRecord{
		topic:       topic,
		keySchema:   s.schemas.channelKey,
		key:         map[string]any{"team_id": keyTeamID(envelope), "channel": optionalString(event, "channel")},
		valueSchema: s.schemas.message,
		value:       messageValue(envelope, event, body),
	}, true
}

func (s *obviousServer) handleInteraction(w http.ResponseWriter, body []byte) {
	form, err := url.ParseQuery(string(body))
	if err != nil || form.Get("payload") == "" {
		http.Error(w, "missing payload", http.StatusBadRequest)
		return
	}
	raw := form.Get("payload")
	var payload map[string]any
	if err := json.Unmarshal([]byte(raw), &payload); err != nil {
		http.Error(w, "invalid JSON", http.StatusBadRequest)
		return
	}
	s.publish(w, s.interactionRecord(payload, raw))
}

// interactionRecord routes an interaction payload to the interaction topic.
func (s *obviousServer) interactionRecord(payload map[string]any, raw string) obviousRecord {
	return obviousRecord{
		topic:       route.DefaultInteractionTopic,
		keySchema:   s.schemas.interactionKey,
		key:         map[string]any{"team_id": interactionTeamID(payload), "user_id": optionalString(object(payload, "user"), "id")},
		valueSchema: s.schemas.interaction,
		value:       interactionValue(payload, raw),
	}
}

// publish encodes the record, produces it and responds 200 once the
// delivery report is a success, or 503.
func (s *obviousServer) publish(w http.ResponseWriter, record obviousRecord) {
	keyBytes, keyErr := s.encode(record.topic+"-key", record.keySchema, record.key)
	valueBytes, valueErr := s.encode(record.topic+"-value", record.valueSchema, record.value)
	if err := errors.Join(keyErr, valueErr); err != nil {
		fmt.Fprintln(os.Stderr, "encoding record:", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}

	delivery := make(chan kafka.Event, 1)
	message := &kafka.Message{
		TopicPartition: kafka.TopicPartition{Topic: &record.topic, Partition: kafka.PartitionAny},
		Key:            keyBytes,
		Value:          valueBytes,
	}
	if err := s.producer.Produce(message, delivery); err != nil {
		http.Error(w, "unavailable", http.StatusServiceUnavailable)
		return
	}
	select {
	case event := <-delivery:
		if report, ok := event.(*kafka.Message); !ok || report.TopicPartition.Error != nil {
			http.Error(w, "unavailable", http.StatusServiceUnavailable)
			return
		}
	case <-time.After(obviousAckTimeout):
		http.Error(w, "unavailable", http.StatusServiceUnavailable)
		return
	}
	w.WriteHeader(http.StatusOK)
}

// encode returns value as Avro binary in the Confluent wire format: a zero
// byte, the 4-byte big-endian schema id of subject, then the Avro data.
func (s *obviousServer) encode(subject string, schema avro.Schema, value map[string]any) ([]byte, error) {
	data, err := avro.Marshal(schema, value)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", subject, err)
	}
	framed := make([]byte, 5, 5+len(data))
	binary.BigEndian.PutUint32(framed[1:], uint32(s.ids[subject]))
	return append(framed, data...), nil
}

// eventTopic returns the topic of an inner event, or "" for an event type
// that is not published.
func eventTopic(event map[string]any) string {
	switch event["type"] {
	case "app_mention":
		return route.DefaultAppMentionTopic
	case "message":
	default:
		return ""
	}
	switch event["channel_type"] {
	case "channel":
		return route.DefaultMessageChannelTopic
	case "group":
		return route.DefaultMessageGroupTopic
	case "im":
		return route.DefaultMessageIMTopic
	case "mpim":
		return route.DefaultMessageMPIMTopic
	default:
		return ""
	}
}
