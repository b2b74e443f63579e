// Package kafka publishes Squarebot's records with librdkafka (through
// confluent-kafka-go) and waits for each record's delivery report.
//
// It holds the one mapping from Squarebot's settings to librdkafka's keys
// (Config.ConfigMap). It does not handle Slack payloads, routing or Avro: records
// arrive as encoded bytes.
package kafka

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	ckafka "github.com/confluentinc/confluent-kafka-go/v2/kafka"
)

// Header is one Kafka record header.
type Header struct {
	Key   string
	Value []byte
}

// Message is one record to publish.
type Message struct {
	Topic   string
	Key     []byte
	Value   []byte
	Headers []Header
}

// ErrQueueFull means librdkafka's local queue is full, so the record was
// not accepted; the caller should respond so that the sender retries.
var ErrQueueFull = errors.New("producer queue is full")

// ErrClosed means the producer has been closed.
var ErrClosed = errors.New("producer is closed")

// DeliveryError is a failed delivery report or a rejected produce call.
type DeliveryError struct {
	// Code is librdkafka's error code.
	Code ckafka.ErrorCode
	err  error
}

func (e *DeliveryError) Error() string { return "delivering record: " + e.err.Error() }
func (e *DeliveryError) Unwrap() error { return e.err }

// ErrorClass returns a short, fixed class for err, for logs and metric
// labels: "deadline", "canceled", "queue_full", "closed",
// "topic_authorization", "unknown_topic", "message_too_large",
// "timed_out", "transport", "fatal" or "other".
func ErrorClass(err error) string {
	var delivery *DeliveryError
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return "deadline"
	case errors.Is(err, context.Canceled):
		return "canceled"
	case errors.Is(err, ErrQueueFull):
		return "queue_full"
	case errors.Is(err, ErrClosed):
		return "closed"
	case errors.As(err, &delivery):
	default:
		return "other"
	}
	switch delivery.Code {
	case ckafka.ErrTopicAuthorizationFailed, ckafka.ErrClusterAuthorizationFailed:
		return "topic_authorization"
	case ckafka.ErrUnknownTopicOrPart, ckafka.ErrUnknownTopic, ckafka.ErrUnknownPartition:
		return "unknown_topic"
	case ckafka.ErrMsgSizeTooLarge:
		return "message_too_large"
	case ckafka.ErrMsgTimedOut, ckafka.ErrTimedOut, ckafka.ErrTimedOutQueue:
		return "timed_out"
	case ckafka.ErrTransport, ckafka.ErrAllBrokersDown:
		return "transport"
	case ckafka.ErrFatal:
		return "fatal"
	default:
		return "other"
	}
}

// Producer publishes records and waits for their delivery reports. It is
// safe for concurrent use. Close it after Flush.
type Producer struct {
	producer *ckafka.Producer
	logger   *slog.Logger
	reports  sync.Pool
	records  sync.Pool
	timers   sync.Pool
	done     chan struct{}
	// closing guards the librdkafka handle: Publish holds it shared while
	// it calls Produce, and Close holds it exclusively, because Produce on
	// a closed handle is undefined.
	closing  sync.RWMutex
	closed   bool
	fatal    atomic.Pointer[error]
	errorLog *errorLimit
	stats    func(json string)
}

// Option changes a Producer built by NewProducer.
type Option func(*Producer)

// WithStatsHandler receives librdkafka's statistics JSON every
// statistics interval.
func WithStatsHandler(handle func(json string)) Option {
	return func(p *Producer) { p.stats = handle }
}

// NewProducer starts a producer. It does not wait for a broker to respond;
// use Ping for that.
func NewProducer(config Config, logger *slog.Logger, options ...Option) (*Producer, error) {
	config.Defaults()
	if err := config.Validate(); err != nil {
		return nil, err
	}
	producer, err := ckafka.NewProducer(config.ConfigMap())
	if err != nil {
		return nil, fmt.Errorf("creating Kafka producer: %w", err)
	}
	p := &Producer{
		producer: producer,
		logger:   logger,
		done:     make(chan struct{}),
		errorLog: newErrorLimit(10 * time.Second),
	}
	p.reports.New = func() any { return make(chan ckafka.Event, 1) }
	p.records.New = func() any { return new(pooledRecord) }
	for _, option := range options {
		option(p)
	}
	go p.readEvents()
	go p.readLogs()
	return p, nil
}

// Publish sends one record and waits for its delivery report or for ctx
// to end, whichever comes first. It returns nil only once the brokers have
// acknowledged the record (acks=all). When ctx ends first, the record may
// still be delivered later; the error then matches ctx's error.
func (p *Producer) Publish(ctx context.Context, message Message) error {
	return publish(p, ctx.Done(), func() error { return context.Cause(ctx) }, message)
}

// ErrAckTimeout is the error of PublishWithin when the brokers did not
// acknowledge the record in time. It matches context.DeadlineExceeded,
// so ErrorClass returns "deadline".
var ErrAckTimeout = fmt.Errorf("no acknowledgement from Kafka within the ack timeout: %w", context.DeadlineExceeded)

// PublishWithin is Publish with a timeout instead of a context, for the
// request path: it waits on a pooled timer, which costs less than a
// context with a deadline for every record. When the timeout passes
// first, it returns ErrAckTimeout and the record may still be delivered
// later.
func (p *Producer) PublishWithin(message Message, timeout time.Duration) error {
	timer, _ := p.timers.Get().(*time.Timer)
	if timer == nil {
		timer = time.NewTimer(timeout)
	} else {
		timer.Reset(timeout)
	}
	err := publish(p, timer.C, func() error { return ErrAckTimeout }, message)
	// Since Go 1.23, Stop leaves no stale value in the channel, so the
	// timer can be reused whether or not it fired.
	timer.Stop()
	p.timers.Put(timer)
	return err
}

// publish sends one record and waits for its delivery report or for a
// value or close on done, after which it returns cause().
func publish[T any](p *Producer, done <-chan T, cause func() error, message Message) error {
	// Each record gets its delivery report on its own pooled channel, which
	// BenchmarkPublishDeliveryPath measured about 15 % faster than routing
	// every report through the shared events channel.
	report := p.reports.Get().(chan ckafka.Event)
	record := p.records.Get().(*pooledRecord)
	record.topic = message.Topic
	record.message = ckafka.Message{
		TopicPartition: ckafka.TopicPartition{Topic: &record.topic, Partition: ckafka.PartitionAny},
		Key:            message.Key,
		Value:          message.Value,
	}
	if len(message.Headers) > 0 {
		headers := record.headers[:0]
		for _, header := range message.Headers {
			headers = append(headers, ckafka.Header{Key: header.Key, Value: header.Value})
		}
		record.message.Headers = headers
	}

	p.closing.RLock()
	if p.closed {
		p.closing.RUnlock()
		p.reports.Put(report)
		p.releaseRecord(record)
		return ErrClosed
	}
	err := p.producer.Produce(&record.message, report)
	p.closing.RUnlock()
	// Produce copies what it needs into librdkafka, so the record can go
	// back to its pool at once.
	p.releaseRecord(record)
	if err != nil {
		p.reports.Put(report)
		var kafkaErr ckafka.Error
		if errors.As(err, &kafkaErr) && kafkaErr.Code() == ckafka.ErrQueueFull {
			return ErrQueueFull
		}
		return deliveryError(err)
	}

	select {
	case event := <-report:
		p.reports.Put(report)
		if delivered, ok := event.(*ckafka.Message); ok && delivered.TopicPartition.Error != nil {
			return deliveryError(delivered.TopicPartition.Error)
		}
		return nil
	case <-done:
		// The report still arrives later and fills the channel's buffer,
		// so the channel is left to the garbage collector, not reused.
		return cause()
	}
}

// pooledRecord is the librdkafka message that publish passes to Produce,
// with room for the headers that Squarebot sets.
type pooledRecord struct {
	message ckafka.Message
	topic   string
	headers [4]ckafka.Header
}

// releaseRecord clears the references of record to the caller's bytes and
// returns it to its pool.
func (p *Producer) releaseRecord(record *pooledRecord) {
	*record = pooledRecord{}
	p.records.Put(record)
}

func deliveryError(err error) error {
	var kafkaErr ckafka.Error
	if errors.As(err, &kafkaErr) {
		return &DeliveryError{Code: kafkaErr.Code(), err: err}
	}
	return &DeliveryError{Code: ckafka.ErrUnknown, err: err}
}

// readEvents logs client-level errors and passes on statistics until the
// producer is closed. Delivery reports go to each record's own channel.
func (p *Producer) readEvents() {
	defer close(p.done)
	for event := range p.producer.Events() {
		switch e := event.(type) {
		case ckafka.Error:
			p.handleClientError(e)
		case *ckafka.Stats:
			if p.stats != nil {
				p.stats(e.String())
			}
		}
	}
}

func (p *Producer) handleClientError(e ckafka.Error) {
	if e.IsFatal() {
		err := error(e)
		p.fatal.Store(&err)
		p.logger.Error("Kafka producer failed fatally; restart the process", "err", e, "code", e.Code().String())
		return
	}
	suppressed, ok := p.errorLog.allow(e.Code(), time.Now())
	if !ok {
		return
	}
	// Authentication and certificate failures need an operator; transport
	// errors repeat while a broker is away, and librdkafka reconnects by
	// itself.
	level := slog.LevelWarn
	if needsOperator(e.Code()) {
		level = slog.LevelError
	}
	p.logger.Log(context.Background(), level, "Kafka client error", "err", e, "code", e.Code().String(),
		"suppressed_since_last", suppressed)
}

// needsOperator reports whether a client error code means a configuration
// or credential problem that retrying cannot fix.
func needsOperator(code ckafka.ErrorCode) bool {
	switch code {
	case ckafka.ErrAuthentication, ckafka.ErrSaslAuthenticationFailed, ckafka.ErrSsl,
		ckafka.ErrTopicAuthorizationFailed, ckafka.ErrClusterAuthorizationFailed:
		return true
	}
	return false
}

// errorLimit lets one log line per error code through per interval and
// counts the ones it holds back, because librdkafka reports the same
// connection error every few hundred milliseconds while a broker is away.
type errorLimit struct {
	mu         sync.Mutex
	interval   time.Duration
	last       map[ckafka.ErrorCode]time.Time
	suppressed map[ckafka.ErrorCode]int
}

func newErrorLimit(interval time.Duration) *errorLimit {
	return &errorLimit{interval: interval, last: map[ckafka.ErrorCode]time.Time{}, suppressed: map[ckafka.ErrorCode]int{}}
}

// allow reports whether to log an error with code now, and how many were
// held back since the last one logged.
func (l *errorLimit) allow(code ckafka.ErrorCode, now time.Time) (suppressed int, ok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if last, seen := l.last[code]; seen && now.Sub(last) < l.interval {
		l.suppressed[code]++
		return 0, false
	}
	suppressed = l.suppressed[code]
	l.last[code] = now
	l.suppressed[code] = 0
	return suppressed, true
}

// readLogs passes librdkafka's own log lines on at debug level: the
// errors among them also arrive as client error events, which
// handleClientError logs once, with a rate limit.
func (p *Producer) readLogs() {
	for entry := range p.producer.Logs() {
		p.logger.Debug("librdkafka", "facility", entry.Tag, "message", entry.Message, "syslog_level", entry.Level)
	}
}

// Fatal returns the fatal error librdkafka reported, or nil. After a fatal
// error the producer cannot publish again.
func (p *Producer) Fatal() error {
	if err := p.fatal.Load(); err != nil {
		return *err
	}
	return nil
}

// Ping requests cluster metadata and returns an error when no broker
// responds before ctx ends.
func (p *Producer) Ping(ctx context.Context) error {
	timeout := maxPing
	if deadline, ok := ctx.Deadline(); ok {
		timeout = min(time.Until(deadline), maxPing)
	}
	if timeout <= 0 {
		return context.DeadlineExceeded
	}
	p.closing.RLock()
	defer p.closing.RUnlock()
	if p.closed {
		return ErrClosed
	}
	// GetMetadata cannot be canceled, so each call is kept short: Close
	// waits for it.
	if _, err := p.producer.GetMetadata(nil, false, int(timeout/time.Millisecond)); err != nil {
		return fmt.Errorf("fetching Kafka metadata: %w", err)
	}
	return nil
}

// maxPing bounds one metadata request of Ping.
const maxPing = 2 * time.Second

// Flush waits until every queued record has its delivery report or ctx
// ends, and returns how many records were still queued then.
func (p *Producer) Flush(ctx context.Context) int {
	for {
		remaining := p.producer.Len()
		if remaining == 0 {
			return 0
		}
		select {
		case <-ctx.Done():
			return remaining
		default:
		}
		p.producer.Flush(50)
	}
}

// Close stops the producer. Records still queued are lost, so call Flush
// first. Close is safe to call more than once.
func (p *Producer) Close() {
	p.closing.Lock()
	defer p.closing.Unlock()
	if p.closed {
		return
	}
	p.closed = true
	p.producer.Close()
	<-p.done
}
