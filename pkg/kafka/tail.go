package kafka

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"time"

	ckafka "github.com/confluentinc/confluent-kafka-go/v2/kafka"
)

// Record is one consumed Kafka record.
type Record struct {
	Topic     string
	Partition int32
	Offset    int64
	Timestamp time.Time
	Key       []byte
	Value     []byte
	Headers   []Header
}

// Tailer reads records from topics for inspection, as `squarebot tail`
// does. It joins a fresh consumer group named squarebot-tail-<random> and
// never commits offsets, so it leaves no position behind and disturbs no
// other consumer.
type Tailer struct {
	consumer *ckafka.Consumer
	logger   *slog.Logger
}

// NewTailer subscribes to topics, from their first records when
// fromBeginning is set and from their ends otherwise.
func NewTailer(config Config, topics []string, fromBeginning bool, logger *slog.Logger) (*Tailer, error) {
	config.Defaults()
	if err := config.Validate(); err != nil {
		return nil, err
	}
	var suffix [6]byte
	if _, err := rand.Read(suffix[:]); err != nil {
		return nil, err
	}
	consumer, err := ckafka.NewConsumer(config.ConsumerConfigMap("squarebot-tail-"+hex.EncodeToString(suffix[:]), fromBeginning))
	if err != nil {
		return nil, fmt.Errorf("creating Kafka consumer: %w", err)
	}
	tailer := &Tailer{consumer: consumer, logger: logger}
	go tailer.readLogs()
	if err := consumer.SubscribeTopics(topics, nil); err != nil {
		consumer.Close()
		return nil, fmt.Errorf("subscribing to %v: %w", topics, err)
	}
	return tailer, nil
}

func (t *Tailer) readLogs() {
	for entry := range t.consumer.Logs() {
		t.logger.Debug("librdkafka", "facility", entry.Tag, "message", entry.Message)
	}
}

// Next returns the next record, waiting until one arrives or ctx ends.
// Partition-level errors such as an unknown topic are returned; transient
// broker errors are logged and skipped.
func (t *Tailer) Next(ctx context.Context) (*Record, error) {
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		event := t.consumer.Poll(100)
		switch e := event.(type) {
		case *ckafka.Message:
			if e.TopicPartition.Error != nil {
				return nil, fmt.Errorf("reading %s: %w", *e.TopicPartition.Topic, e.TopicPartition.Error)
			}
			record := &Record{
				Topic:     *e.TopicPartition.Topic,
				Partition: e.TopicPartition.Partition,
				Offset:    int64(e.TopicPartition.Offset),
				Timestamp: e.Timestamp,
				Key:       e.Key,
				Value:     e.Value,
			}
			for _, header := range e.Headers {
				record.Headers = append(record.Headers, Header{Key: header.Key, Value: header.Value})
			}
			return record, nil
		case ckafka.Error:
			if e.IsFatal() || e.Code() == ckafka.ErrUnknownTopicOrPart {
				return nil, fmt.Errorf("reading topics: %w", errors.New(e.String()))
			}
			t.logger.Warn("Kafka consumer error", "err", e, "code", e.Code().String())
		}
	}
}

// Close leaves the group and releases the consumer.
func (t *Tailer) Close() error {
	return t.consumer.Close()
}
