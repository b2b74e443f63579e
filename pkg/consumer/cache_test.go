package consumer_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lsst-sqre/squarebot/pkg/records"
	"github.com/lsst-sqre/squarebot/pkg/schema"
)

// slowLookups delays every schema request, so that concurrent first
// requests for one id overlap.
func slowLookups(delay time.Duration) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, request *http.Request) {
			time.Sleep(delay)
			next.ServeHTTP(w, request)
		})
	}
}

func TestDecodeFetchesEachSchemaIDOnce(t *testing.T) {
	registry := startRegistry(t, slowLookups(50*time.Millisecond))
	newerText := newerMessageSchema(t)
	newerID := registry.Register(t, schema.Binding{Topic: messageTopic}.ValueSubject(), newerText)
	_, current, err := registry.Catalog.Encode(messageTopic, sampleKey(), sampleEvent())
	if err != nil {
		t.Fatal(err)
	}
	newer := encodeFramed(t, newerText, newerID, newerEvent{SlackMessageEvent: *sampleEvent(), ReactionCount: 3})
	const recordCount, workers = 100, 8
	batch := make([][]byte, recordCount)
	for i := range batch {
		batch[i] = current
		if i%2 == 1 {
			batch[i] = newer
		}
	}
	decoder := registry.Decoder(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	var next atomic.Int64
	start := make(chan struct{})
	errs := make(chan error, recordCount)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			<-start
			for i := next.Add(1) - 1; i < recordCount; i = next.Add(1) - 1 {
				var event records.SlackMessageEvent
				if err := decoder.Decode(ctx, batch[i], &event); err != nil {
					errs <- err
					continue
				}
				if event.BlockCount != sampleEvent().BlockCount {
					errs <- fmt.Errorf("record %d: block_count is %d, want %d", i, event.BlockCount, sampleEvent().BlockCount)
				}
			}
		})
	}
	close(start)
	wg.Wait()
	close(errs)

	for err := range errs {
		t.Errorf("decoding: %v", err)
	}
	if got := registry.Lookups(); got != 2 {
		t.Errorf("registry requests: got %d, want 2, one per schema id", got)
	}
}

func TestDecodeRetriesFailedFetch(t *testing.T) {
	var requests atomic.Int64
	failFirst := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, request *http.Request) {
			if requests.Add(1) == 1 {
				http.Error(w, "registry starting", http.StatusServiceUnavailable)
				return
			}
			next.ServeHTTP(w, request)
		})
	}
	registry := startRegistry(t, failFirst)
	_, value, err := registry.Catalog.Encode(messageTopic, sampleKey(), sampleEvent())
	if err != nil {
		t.Fatal(err)
	}
	decoder := registry.Decoder(t)
	ctx := context.Background()

	var event records.SlackMessageEvent
	firstErr := decoder.Decode(ctx, value, &event)
	secondErr := decoder.Decode(ctx, value, &event)

	if firstErr == nil {
		t.Error("first decode: got no error from a registry that returned 503")
	}
	if secondErr != nil {
		t.Errorf("second decode: %v", secondErr)
	}
	if got := requests.Load(); got != 2 {
		t.Errorf("registry requests: got %d, want 2", got)
	}
}

func TestDecodeWaiterOutlivesCanceledFetch(t *testing.T) {
	// The first schema request hangs until its caller gives up, and later
	// ones pass.
	arrived := make(chan struct{})
	var requests atomic.Int64
	hangFirst := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, request *http.Request) {
			if requests.Add(1) == 1 {
				close(arrived)
				<-request.Context().Done()
				return
			}
			next.ServeHTTP(w, request)
		})
	}
	registry := startRegistry(t, hangFirst)
	_, value, err := registry.Catalog.Encode(messageTopic, sampleKey(), sampleEvent())
	if err != nil {
		t.Fatal(err)
	}
	decoder := registry.Decoder(t)
	impatient, cancel := context.WithCancel(context.Background())
	patient, stop := context.WithTimeout(context.Background(), 10*time.Second)
	defer stop()

	firstErr := make(chan error, 1)
	go func() {
		var event records.SlackMessageEvent
		firstErr <- decoder.Decode(impatient, value, &event)
	}()
	<-arrived
	secondErr := make(chan error, 1)
	go func() {
		var event records.SlackMessageEvent
		secondErr <- decoder.Decode(patient, value, &event)
	}()
	// NOTE: the second caller may not be waiting yet when the first gives
	// up. It then fetches on its own, and the test still passes.
	time.Sleep(50 * time.Millisecond)
	cancel()

	if err := <-firstErr; !errors.Is(err, context.Canceled) {
		t.Errorf("canceled caller: got %v, want context.Canceled", err)
	}
	if err := <-secondErr; err != nil {
		t.Errorf("waiting caller: %v", err)
	}
	if got := requests.Load(); got != 2 {
		t.Errorf("registry requests: got %d, want 2", got)
	}
}
