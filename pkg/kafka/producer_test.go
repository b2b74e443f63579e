package kafka

import (
	"errors"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// TestPublishWithinTimeoutThenSuccess publishes against a kfake broker
// that holds back its first produce response: the first record times out
// with ErrAckTimeout, and the next ones, which reuse the pooled timer and
// record, are acknowledged.
func TestPublishWithinTimeoutThenSuccess(t *testing.T) {
	cluster, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, "events"))
	if err != nil {
		t.Fatal(err)
	}
	defer cluster.Close()
	var produceRequests atomic.Int32
	cluster.ControlKey(int16(kmsg.Produce), func(kmsg.Request) (kmsg.Response, error, bool) {
		cluster.KeepControl()
		if produceRequests.Add(1) == 1 {
			cluster.SleepControl(func() { time.Sleep(time.Second) })
		}
		return nil, nil, false
	})
	producer, err := NewProducer(Config{BootstrapServers: cluster.ListenAddrs()[0]}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer producer.Close()
	message := Message{Topic: "events", Key: []byte("key"), Value: []byte("value"),
		Headers: []Header{{Key: "slack_event_id", Value: []byte("Ev1")}}}

	first := producer.PublishWithin(message, 300*time.Millisecond)

	if !errors.Is(first, ErrAckTimeout) {
		t.Fatalf("first PublishWithin = %v, want ErrAckTimeout", first)
	}
	if class := ErrorClass(first); class != "deadline" {
		t.Errorf("ErrorClass = %q, want deadline", class)
	}
	for i := range 3 {
		if err := producer.PublishWithin(message, 5*time.Second); err != nil {
			t.Errorf("PublishWithin %d after the timeout = %v, want nil", i+2, err)
		}
	}
}
