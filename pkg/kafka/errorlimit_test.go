package kafka

import (
	"testing"
	"time"

	ckafka "github.com/confluentinc/confluent-kafka-go/v2/kafka"
)

func TestErrorLimitOnePerInterval(t *testing.T) {
	limit := newErrorLimit(10 * time.Second)
	start := time.Unix(1718000000, 0)

	_, first := limit.allow(ckafka.ErrAllBrokersDown, start)
	_, repeat := limit.allow(ckafka.ErrAllBrokersDown, start.Add(time.Second))
	_, other := limit.allow(ckafka.ErrTransport, start.Add(time.Second))
	limit.allow(ckafka.ErrAllBrokersDown, start.Add(2*time.Second))
	suppressed, later := limit.allow(ckafka.ErrAllBrokersDown, start.Add(11*time.Second))

	if !first {
		t.Error("first error held back")
	}
	if repeat {
		t.Error("repeat within the interval logged")
	}
	if !other {
		t.Error("an error with another code held back")
	}
	if !later {
		t.Error("error after the interval held back")
	}
	if suppressed != 2 {
		t.Errorf("suppressed = %d, want 2", suppressed)
	}
}
