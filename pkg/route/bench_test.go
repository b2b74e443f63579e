package route_test

import (
	"testing"
	"time"

	"github.com/lsst-sqre/squarebot/pkg/route"
	"github.com/lsst-sqre/squarebot/pkg/schema"
	"github.com/lsst-sqre/squarebot/pkg/slack"
	"github.com/lsst-sqre/squarebot/test/fixtures"
)

// benchmarkCatalog encodes with the embedded schemas and made-up ids.
func benchmarkCatalog(b *testing.B) schema.Catalog {
	b.Helper()
	catalog := schema.Catalog{}
	for i, binding := range route.DefaultTopics().Bindings() {
		key, err := schema.Load(binding.Pair.Key)
		if err != nil {
			b.Fatal(err)
		}
		value, err := schema.Load(binding.Pair.Value)
		if err != nil {
			b.Fatal(err)
		}
		catalog[binding.Topic] = schema.TopicCodecs{
			Key:   schema.Codec{ID: 2*i + 1, Schema: key.Schema},
			Value: schema.Codec{ID: 2*i + 2, Schema: value.Schema},
		}
	}
	return catalog
}

func BenchmarkRouteEvent(b *testing.B) {
	body := fixtures.MustBody(b, "events/app_mention_rich_text_blocks.json")
	router := route.NewRouter(route.DefaultTopics())
	delivery := route.Delivery{ReceivedAt: time.Now()}
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()

	for b.Loop() {
		envelope, err := slack.ParseEventEnvelope(body)
		if err != nil {
			b.Fatal(err)
		}
		if decision := router.Event(envelope, body, delivery); decision.Outcome != route.Publish {
			b.Fatal("not published")
		}
	}
}

func BenchmarkRouteAndEncodeEvent(b *testing.B) {
	body := fixtures.MustBody(b, "events/app_mention_rich_text_blocks.json")
	router := route.NewRouter(route.DefaultTopics())
	catalog := benchmarkCatalog(b)
	delivery := route.Delivery{ReceivedAt: time.Now()}
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()

	for b.Loop() {
		envelope, err := slack.ParseEventEnvelope(body)
		if err != nil {
			b.Fatal(err)
		}
		record := router.Event(envelope, body, delivery).Record
		if _, _, err := catalog.Encode(record.Topic, record.Key, record.Value); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEncodeEvent(b *testing.B) {
	body := fixtures.MustBody(b, "events/app_mention_rich_text_blocks.json")
	catalog := benchmarkCatalog(b)
	envelope, err := slack.ParseEventEnvelope(body)
	if err != nil {
		b.Fatal(err)
	}
	record := route.NewRouter(route.DefaultTopics()).Event(envelope, body, route.Delivery{}).Record
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()

	for b.Loop() {
		if _, _, err := catalog.Encode(record.Topic, record.Key, record.Value); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRouteInteraction(b *testing.B) {
	body := fixtures.MustBody(b, "interactions/block_actions_button_message.json")
	router := route.NewRouter(route.DefaultTopics())
	catalog := benchmarkCatalog(b)
	delivery := route.Delivery{ReceivedAt: time.Now()}
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()

	for b.Loop() {
		interaction, payload, err := slack.ParseInteractionForm(body)
		if err != nil {
			b.Fatal(err)
		}
		record := router.Interaction(interaction, payload, delivery)
		if _, _, err := catalog.Encode(record.Topic, record.Key, record.Value); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEncodeEventFrames(b *testing.B) {
	body := fixtures.MustBody(b, "events/app_mention_rich_text_blocks.json")
	catalog := benchmarkCatalog(b)
	envelope, err := slack.ParseEventEnvelope(body)
	if err != nil {
		b.Fatal(err)
	}
	record := route.NewRouter(route.DefaultTopics()).Event(envelope, body, route.Delivery{}).Record
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()

	for b.Loop() {
		key, value, err := catalog.EncodeFrames(record.Topic, record.Key, record.Value)
		if err != nil {
			b.Fatal(err)
		}
		key.Release()
		value.Release()
	}
}
