package consumer_test

import (
	"testing"

	"github.com/confluentinc/confluent-kafka-go/v2/kafka"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/lsst-sqre/squarebot/pkg/consumer"
	"github.com/lsst-sqre/squarebot/pkg/route"
)

func TestEventIDFromBothClients(t *testing.T) {
	franz := []kgo.RecordHeader{
		{Key: route.HeaderRetryNum, Value: []byte("1")},
		{Key: route.HeaderEventID, Value: []byte("Ev0123ABCD")},
	}
	confluent := []kafka.Header{
		{Key: route.HeaderEventID, Value: []byte("Ev0123ABCD")},
	}

	if got := consumer.EventID(franz); got != "Ev0123ABCD" {
		t.Errorf("franz-go headers: got %q, want Ev0123ABCD", got)
	}
	if got := consumer.EventID(confluent); got != "Ev0123ABCD" {
		t.Errorf("confluent-kafka-go headers: got %q, want Ev0123ABCD", got)
	}
	if got := consumer.EventID([]kgo.RecordHeader{{Key: route.HeaderReceivedAt, Value: []byte("2024-01-01T00:00:00.000Z")}}); got != "" {
		t.Errorf("interaction headers: got %q, want an empty event id", got)
	}
	if got, ok := consumer.HeaderValue(franz, route.HeaderRetryNum); !ok || got != "1" {
		t.Errorf("retry number: got %q, %v, want \"1\", true", got, ok)
	}
	if _, ok := consumer.HeaderValue(franz, route.HeaderRetryReason); ok {
		t.Error("retry reason: found a header that is not there")
	}
}
