package consumer_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/riferrei/srclient"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/lsst-sqre/squarebot/pkg/consumer"
	"github.com/lsst-sqre/squarebot/pkg/devstack"
	"github.com/lsst-sqre/squarebot/pkg/records"
	"github.com/lsst-sqre/squarebot/pkg/route"
	"github.com/lsst-sqre/squarebot/pkg/schema"
)

// Example consumes the message channel topic with franz-go and decodes each
// record. The setup starts an in-process broker and registry and publishes
// one message the way Squarebot does.
func Example() {
	kafkaAddr, registryURL, stop := startExampleStack()
	defer stop()

	client, err := kgo.NewClient(
		kgo.SeedBrokers(kafkaAddr),
		kgo.ConsumeTopics(route.DefaultMessageChannelTopic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
	)
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()
	decoder, err := consumer.NewDecoder(registryURL)
	if err != nil {
		log.Fatal(err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for consumed := 0; consumed == 0 && ctx.Err() == nil; {
		client.PollFetches(ctx).EachRecord(func(record *kgo.Record) {
			consumed++
			key, event, err := decoder.DecodeMessage(ctx, record.Key, record.Value)
			if err != nil {
				log.Printf("skipping offset %d: %v", record.Offset, err)
				return
			}
			fmt.Printf("%s in %s by %s: %s\n", consumer.EventID(record.Headers), *key.Channel, *event.User, *event.Text)
		})
	}
	// Output: Ev0123ABCD in C0123 by U0456: deploy finished
}

// startExampleStack starts a dev stack with the message channel topic,
// registers the schemas, and publishes one message record with its
// event id header. It exits the example on any error.
func startExampleStack() (kafkaAddr, registryURL string, stop func()) {
	topic := route.DefaultMessageChannelTopic
	stack, err := devstack.Start(devstack.Options{Topics: []string{topic}})
	if err != nil {
		log.Fatal(err)
	}
	registry := srclient.NewSchemaRegistryClient(stack.RegistryURL)
	registry.CodecCreationEnabled(false)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	catalog, err := schema.Register(ctx, registry, route.DefaultTopics().Bindings(), "FORWARD_TRANSITIVE", true)
	if err != nil {
		log.Fatal(err)
	}

	channel, user, text, eventID := "C0123", "U0456", "deploy finished", "Ev0123ABCD"
	key := &records.SlackChannelKey{TeamID: &[]string{"T0001"}[0], Channel: &channel}
	value := &records.SlackMessageEvent{
		Type: "message", EventID: &eventID, Channel: &channel, User: &user, Text: &text,
		FileIds: []string{}, SlackJSON: `{"type":"event_callback"}`,
	}
	keyBytes, valueBytes, err := catalog.Encode(topic, key, value)
	if err != nil {
		log.Fatal(err)
	}

	producer, err := kgo.NewClient(kgo.SeedBrokers(stack.KafkaAddr))
	if err != nil {
		log.Fatal(err)
	}
	defer producer.Close()
	record := &kgo.Record{
		Topic: topic, Key: keyBytes, Value: valueBytes,
		Headers: []kgo.RecordHeader{{Key: route.HeaderEventID, Value: []byte(eventID)}},
	}
	if err := producer.ProduceSync(ctx, record).FirstErr(); err != nil {
		log.Fatal(err)
	}
	return stack.KafkaAddr, stack.RegistryURL, func() { _ = stack.Close() }
}
