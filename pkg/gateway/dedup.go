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
// It stores a 128-bit keyed hash of each id rather than the id, in a map
// and a circular queue that contain no pointers, so the garbage collector
// does not scan them and an entry takes about 60 bytes
// (TestDeliveredEventsMemory). Two different ids collide with a
// probability of about n²/2¹²⁹ for n stored ids: for 100,000 ids, about
// 10⁻²⁹.
type deliveredEvents struct {
	window time.Duration
	max    int
	now    func() time.Time
	// epoch is the zero of the entries' times, which are durations since
	// it, so they use the monotonic clock.
	epoch time.Time
	seeds [2]maphash.Seed

	mu   sync.Mutex
	seen map[eventHash]struct{}
	// queue is a circular buffer of the entries in delivery order, which
	// is time order: count entries from index first, wrapping around.
	queue []deliveredEvent
	first int
	count int
}

type eventHash [2]uint64

type deliveredEvent struct {
	hash eventHash
	at   time.Duration // since epoch
}

// minQueueCapacity is the smallest capacity the queue shrinks to.
const minQueueCapacity = 1024

func newDeliveredEvents(window time.Duration, max int) *deliveredEvents {
	return &deliveredEvents{
		window: window,
		max:    max,
		now:    time.Now,
		epoch:  time.Now(),
		seeds:  [2]maphash.Seed{maphash.MakeSeed(), maphash.MakeSeed()},
		seen:   make(map[eventHash]struct{}),
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
	hash := d.hash(id)
	d.mu.Lock()
	defer d.mu.Unlock()
	d.expire(d.now().Sub(d.epoch))
	_, ok := d.seen[hash]
	return ok
}

// add records id as delivered now, evicting expired ids and, when full,
// the oldest one.
func (d *deliveredEvents) add(id string) {
	if d == nil || id == "" {
		return
	}
	hash := d.hash(id)
	d.mu.Lock()
	defer d.mu.Unlock()
	now := d.now().Sub(d.epoch)
	d.expire(now)
	if _, ok := d.seen[hash]; ok {
		return
	}
	if d.count >= d.max {
		d.evictOldest()
	}
	d.push(deliveredEvent{hash: hash, at: now})
	d.seen[hash] = struct{}{}
}

// expire drops the ids older than the window from the front of the queue,
// and shrinks the queue and map once they are mostly empty.
func (d *deliveredEvents) expire(now time.Duration) {
	for d.count > 0 && now-d.queue[d.first].at >= d.window {
		d.evictOldest()
	}
	capacity := len(d.queue)
	for capacity > minQueueCapacity && d.count <= capacity/4 {
		capacity /= 2
	}
	if capacity < len(d.queue) {
		d.resize(capacity)
		// Go maps never release their tables, so a new one replaces it.
		d.seen = make(map[eventHash]struct{}, d.count)
		for i := range d.count {
			d.seen[d.queue[i].hash] = struct{}{}
		}
	}
}

func (d *deliveredEvents) evictOldest() {
	delete(d.seen, d.queue[d.first].hash)
	d.first = (d.first + 1) % len(d.queue)
	d.count--
}

// push appends an entry at the back of the queue, growing it up to max
// entries.
func (d *deliveredEvents) push(entry deliveredEvent) {
	if d.count == len(d.queue) {
		d.resize(min(max(2*len(d.queue), minQueueCapacity), d.max))
	}
	d.queue[(d.first+d.count)%len(d.queue)] = entry
	d.count++
}

// resize moves the entries, oldest first, into a queue of the given
// capacity, which must be at least count.
func (d *deliveredEvents) resize(capacity int) {
	queue := make([]deliveredEvent, capacity)
	for i := range d.count {
		queue[i] = d.queue[(d.first+i)%len(d.queue)]
	}
	d.queue = queue
	d.first = 0
}

// size returns the number of ids kept.
func (d *deliveredEvents) size() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.count
}
