package gateway

import (
	"fmt"
	"math/rand/v2"
	"runtime"
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
	if len(events.queue) != 1000 {
		t.Errorf("queue capacity = %d, want the bound 1000", len(events.queue))
	}
	if len(events.seen) != 1000 {
		t.Errorf("map contains %d ids, want 1000", len(events.seen))
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

// TestDeliveredEventsMemory keeps the per-id cost documented in the
// configuration reference honest.
func TestDeliveredEventsMemory(t *testing.T) {
	const ids = 100000
	eventIDs := make([]string, ids)
	for i := range eventIDs {
		eventIDs[i] = fmt.Sprintf("Ev%010d", i)
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	events := newDeliveredEvents(time.Hour, ids)

	for _, id := range eventIDs {
		events.add(id)
	}

	runtime.GC()
	runtime.ReadMemStats(&after)
	// The ids were allocated before the first reading, so they must stay
	// alive through the second one too.
	runtime.KeepAlive(eventIDs)
	perID := float64(after.HeapAlloc-before.HeapAlloc) / ids
	t.Logf("%.0f bytes of heap per stored id", perID)
	if perID > 64 {
		t.Errorf("%.0f bytes of heap per stored id, want at most 64", perID)
	}
	if events.size() != ids {
		t.Errorf("size = %d, want %d", events.size(), ids)
	}
}

// TestDeliveredEventsMatchesModel runs a random mix of deliveries, lookups
// and clock steps against a plain list of ids, so the circular queue's
// wrapping, growing and shrinking are checked against obvious code.
func TestDeliveredEventsMatchesModel(t *testing.T) {
	const window, bound = time.Minute, 3000
	random := rand.New(rand.NewPCG(1, 2))
	now := time.Unix(1718000000, 0)
	events := newDeliveredEvents(window, bound)
	events.now = func() time.Time { return now }
	type delivery struct {
		id string
		at time.Time
	}
	var model []delivery // oldest first
	modelContains := func(id string) bool {
		for _, d := range model {
			if d.id == id && now.Sub(d.at) < window {
				return true
			}
		}
		return false
	}

	for step := range 40000 {
		id := fmt.Sprintf("Ev%d", random.IntN(6000))
		switch operation := random.IntN(10); {
		case operation < 5:
			for len(model) > 0 && now.Sub(model[0].at) >= window {
				model = model[1:]
			}
			if !modelContains(id) {
				if len(model) >= bound {
					model = model[1:]
				}
				model = append(model, delivery{id: id, at: now})
			}
			events.add(id)
		case operation < 9:
			if got, want := events.contains(id), modelContains(id); got != want {
				t.Fatalf("step %d: contains(%s) = %t, want %t", step, id, got, want)
			}
		default:
			// Mostly small steps, sometimes one that expires most or all ids.
			now = now.Add(time.Duration(random.IntN(200)) * time.Millisecond)
			if random.IntN(300) == 0 {
				now = now.Add(time.Duration(random.Int64N(int64(window + window/10))))
			}
		}
	}
	// A lookup expires what the window passed since the last step.
	events.contains("Ev-final")
	for len(model) > 0 && now.Sub(model[0].at) >= window {
		model = model[1:]
	}
	if events.size() != len(model) {
		t.Errorf("size = %d, want %d", events.size(), len(model))
	}
}
