package gateway

import (
	"fmt"
	"testing"
	"time"
)

func TestDeliveredEventsWindow(t *testing.T) {
	now := time.Unix(1718000000, 0)
	events := newDeliveredEvents(10*time.Minute, 100)
	events.now = func() time.Time { return now }
	events.add("Ev1")

	now = now.Add(9 * time.Minute)
	inside := events.contains("Ev1")
	now = now.Add(time.Minute)
	after := events.contains("Ev1")

	if !inside {
		t.Error("Ev1 not found 9 minutes after delivery, want found")
	}
	if after {
		t.Error("Ev1 found 10 minutes after delivery, want expired")
	}
	if events.contains("Ev2") {
		t.Error("Ev2 found but never added")
	}
}

func TestDeliveredEventsBounded(t *testing.T) {
	events := newDeliveredEvents(time.Hour, 1000)

	for i := range 5000 {
		events.add(fmt.Sprintf("Ev%d", i))
	}

	if got := events.size(); got != 1000 {
		t.Errorf("size = %d, want the bound 1000", got)
	}
	if events.contains("Ev0") {
		t.Error("oldest id still kept after eviction")
	}
	if !events.contains("Ev4999") {
		t.Error("newest id not kept")
	}
	if len(events.queue)-events.head != 1000 {
		t.Errorf("queue holds %d live entries, want 1000", len(events.queue)-events.head)
	}
}

func TestDeliveredEventsExpiryFreesMemory(t *testing.T) {
	now := time.Unix(1718000000, 0)
	events := newDeliveredEvents(time.Minute, 100000)
	events.now = func() time.Time { return now }
	for i := range 3000 {
		events.add(fmt.Sprintf("Ev%d", i))
	}

	now = now.Add(2 * time.Minute)
	events.add("late")

	if got := events.size(); got != 1 {
		t.Errorf("size = %d after the window passed, want 1", got)
	}
	if len(events.queue) > 1024 {
		t.Errorf("queue slice keeps %d entries, want it compacted", len(events.queue))
	}
}

func TestDeliveredEventsNil(t *testing.T) {
	var events *deliveredEvents

	events.add("Ev1")

	if events.contains("Ev1") {
		t.Error("a disabled cache reported a delivered id")
	}
}
