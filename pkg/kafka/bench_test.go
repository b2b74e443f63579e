package kafka

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	ckafka "github.com/confluentinc/confluent-kafka-go/v2/kafka"
	"github.com/twmb/franz-go/pkg/kfake"
)

// The producer benchmarks publish a 3 KB record from 64 goroutines and
// wait for each acknowledgement, as the gateway does, against an
// in-process kfake broker that discards the records. They compare the
// librdkafka settings that trade latency for throughput.

const benchTopic = "bench"

func startBenchBroker(b *testing.B) string {
	b.Helper()
	cluster, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(3, benchTopic), kfake.BlackholeProduce(),
		kfake.BrokerConfigs(map[string]string{"log.segment.bytes": "1048576"}))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(cluster.Close)
	return cluster.ListenAddrs()[0]
}

// publishPerMessage publishes like Publish, but receives the delivery
// report on a channel passed to Produce instead of through the shared
// events channel, the other delivery path confluent-kafka-go offers.
func (p *Producer) publishPerMessage(ctx context.Context, message Message, reports chan ckafka.Event) error {
	record := &ckafka.Message{
		TopicPartition: ckafka.TopicPartition{Topic: &message.Topic, Partition: ckafka.PartitionAny},
		Key:            message.Key,
		Value:          message.Value,
	}
	if err := p.producer.Produce(record, reports); err != nil {
		return err
	}
	select {
	case event := <-reports:
		return event.(*ckafka.Message).TopicPartition.Error
	case <-ctx.Done():
		return ctx.Err()
	}
}

func benchmarkPublish(b *testing.B, config Config, perMessage bool) {
	config.BootstrapServers = startBenchBroker(b)
	producer, err := NewProducer(config, slog.New(slog.DiscardHandler))
	if err != nil {
		b.Fatal(err)
	}
	defer producer.Close()
	ctx := context.Background()
	if err := producer.Ping(ctx); err != nil {
		b.Fatal(err)
	}
	value := make([]byte, 3000)
	channels := sync.Pool{New: func() any { return make(chan ckafka.Event, 1) }}
	b.SetParallelism(32)
	b.ReportAllocs()
	b.ResetTimer()

	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			i++
			message := Message{Topic: benchTopic, Key: []byte(fmt.Sprint(i % 50)), Value: value}
			publishCtx, cancel := context.WithTimeout(ctx, 2*time.Second)
			if perMessage {
				reports := channels.Get().(chan ckafka.Event)
				err = producer.publishPerMessage(publishCtx, message, reports)
				channels.Put(reports)
			} else {
				err = producer.Publish(publishCtx, message)
			}
			cancel()
			if err != nil {
				b.Error(err)
				return
			}
		}
	})
}

func BenchmarkPublishLinger(b *testing.B) {
	for _, linger := range []time.Duration{0, time.Millisecond, 5 * time.Millisecond} {
		b.Run(fmt.Sprintf("linger=%s", linger), func(b *testing.B) {
			config := Config{Linger: linger}
			if linger == 0 {
				// Defaults treats 0 as unset; one nanosecond rounds to 0 ms.
				config.Linger = time.Nanosecond
			}
			benchmarkPublish(b, config, false)
		})
	}
}

func BenchmarkPublishBatchSize(b *testing.B) {
	for _, size := range []int{100, 1000, 10000} {
		b.Run(fmt.Sprintf("batch=%d", size), func(b *testing.B) {
			benchmarkPublish(b, Config{BatchMaxMessages: size}, false)
		})
	}
}

func BenchmarkPublishCompression(b *testing.B) {
	for _, codec := range []string{"none", "lz4", "zstd"} {
		b.Run("compression="+codec, func(b *testing.B) {
			benchmarkPublish(b, Config{Compression: codec}, false)
		})
	}
}

func BenchmarkPublishDeliveryPath(b *testing.B) {
	b.Run("events-channel", func(b *testing.B) { benchmarkPublish(b, Config{}, false) })
	b.Run("per-message-channel", func(b *testing.B) { benchmarkPublish(b, Config{}, true) })
}
