package gateway

import (
	"hash/maphash"
	"sync"
	"time"
)

// deliveredEvents remembers the event ids whose records Kafka acknowledged,
// for a time window and up to a number of ids, so that a Slack retry of an
// event already stored gets a 200 response without a second record.
//
// It is per process: replicas do not share it, so a retry that reaches
// another replica is published again, with the same event id.
//
// It stores a 128-bit keyed hash of each id rather than the id, which
// keeps an entry near 60 bytes. Two different ids collide with a
// probability of about n²/2¹²⁹ for n stored ids: for 100,000 ids, about
// 10⁻²⁹.
type deliveredEvents struct {
	window time.Duration
	max    int
	now    func() time.Time
	seeds  [2]maphash.Seed

	mu    sync.Mutex
	seen  map[eventHash]time.Time
	queue []deliveredEvent // in insertion order, which is time order
	head  int
}

type eventHash [2]uint64

type deliveredEvent struct {
	hash eventHash
	at   time.Time
}

func newDeliveredEvents(window time.Duration, max int) *deliveredEvents {
	return &deliveredEvents{
		window: window,
		max:    max,
		now:    time.Now,
		seeds:  [2]maphash.Seed{maphash.MakeSeed(), maphash.MakeSeed()},
		seen:   make(map[eventHash]time.Time),
	}
}

func (d *deliveredEvents) hash(id string) eventHash {
	return eventHash{maphash.String(d.seeds[0], id), maphash.String(d.seeds[1], id)}
}

// contains reports whether id was delivered within the window.
func (d *deliveredEvents) contains(id string) bool {
	if d == nil || id == "" {
		return false
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	at, ok := d.seen[d.hash(id)]
	return ok && d.now().Sub(at) < d.window
}

// add records id as delivered now, evicting expired ids and, when full,
// the oldest one.
func (d *deliveredEvents) add(id string) {
	if d == nil || id == "" {
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	now := d.now()
	d.expire(now)
	hash := d.hash(id)
	if _, ok := d.seen[hash]; ok {
		return
	}
	if len(d.seen) >= d.max {
		d.evictOldest()
	}
	d.seen[hash] = now
	d.queue = append(d.queue, deliveredEvent{hash: hash, at: now})
}

// expire drops the ids older than the window from the front of the queue.
func (d *deliveredEvents) expire(now time.Time) {
	for d.head < len(d.queue) && now.Sub(d.queue[d.head].at) >= d.window {
		d.evictOldest()
	}
}

func (d *deliveredEvents) evictOldest() {
	if d.head >= len(d.queue) {
		return
	}
	delete(d.seen, d.queue[d.head].hash)
	d.queue[d.head] = deliveredEvent{}
	d.head++
	// Compact once the consumed front is half the slice, so memory stays
	// proportional to the ids kept.
	if d.head > len(d.queue)/2 && d.head > 1024 {
		d.queue = append(d.queue[:0:0], d.queue[d.head:]...)
		d.head = 0
	}
}

// size returns the number of ids kept.
func (d *deliveredEvents) size() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.seen)
}
