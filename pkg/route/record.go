package route

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
	"time"
	"unsafe"

	"github.com/lsst-sqre/squarebot/pkg/records"
	"github.com/lsst-sqre/squarebot/pkg/slack"
)

// Kafka header names set on every record.
const (
	// HeaderEventID carries the Events API event_id; absent on interactions.
	HeaderEventID = "slack_event_id"
	// HeaderRetryNum carries X-Slack-Retry-Num when Slack retried the delivery.
	HeaderRetryNum = "slack_retry_num"
	// HeaderRetryReason carries X-Slack-Retry-Reason when Slack retried the delivery.
	HeaderRetryReason = "slack_retry_reason"
	// HeaderReceivedAt carries when Squarebot received the request, in
	// RFC 3339 format with milliseconds, in UTC.
	HeaderReceivedAt = "squarebot_received_at"
)

// Header is one Kafka record header.
type Header struct {
	Key   string
	Value []byte
}

// Record is a routed payload ready for encoding: Key and Value are pointers
// to the generated types of package records that match the topic.
type Record struct {
	Topic   string
	Key     any
	Value   any
	Headers []Header
}

// Delivery is request metadata that travels in the record headers.
type Delivery struct {
	// ReceivedAt is when the request arrived.
	ReceivedAt time.Time
	// RetryNum and RetryReason are Slack's X-Slack-Retry-Num and
	// X-Slack-Retry-Reason headers, empty on a first delivery.
	RetryNum    string
	RetryReason string
}

// headers returns the record headers for a payload with eventID ("" when
// it has none).
func (d Delivery) headers(eventID string) []Header {
	headers := make([]Header, 0, 4)
	if eventID != "" {
		headers = append(headers, Header{HeaderEventID, []byte(eventID)})
	}
	if d.RetryNum != "" {
		headers = append(headers, Header{HeaderRetryNum, []byte(d.RetryNum)})
	}
	if d.RetryReason != "" {
		headers = append(headers, Header{HeaderRetryReason, []byte(d.RetryReason)})
	}
	receivedAt := d.ReceivedAt.UTC().Format("2006-01-02T15:04:05.000Z07:00")
	return append(headers, Header{HeaderReceivedAt, []byte(receivedAt)})
}

// sharedString returns a string that shares b's memory, so b must not
// change while the string is in use. The payload is the largest part of a
// record, up to the body limit, and the record lives only until it is
// encoded, so it is not copied.
func sharedString(b []byte) string {
	return unsafe.String(unsafe.SliceData(b), len(b))
}

// stringBlock hands out pointers to copies of strings, taken from blocks of
// several strings, so that a record's many optional fields cost a few
// allocations instead of one each.
type stringBlock struct {
	free []string
}

// stringBlockSize is how many strings one allocation holds: most records
// have fewer optional string fields.
const stringBlockSize = 24

// optional returns nil for "" and a pointer to a copy of s otherwise,
// because Avro optional fields are null when Slack sent nothing.
func (b *stringBlock) optional(s string) *string {
	if s == "" {
		return nil
	}
	if len(b.free) == 0 {
		b.free = make([]string, stringBlockSize)
	}
	pointer := &b.free[0]
	*pointer = s
	b.free = b.free[1:]
	return pointer
}

func optionalInt64(n int64) *int64 {
	if n == 0 {
		return nil
	}
	return &n
}

// compactJSON returns raw as compact JSON, or nil when raw is empty or null.
func compactJSON(raw json.RawMessage) *string {
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	var buffer bytes.Buffer
	if err := json.Compact(&buffer, raw); err != nil {
		return nil
	}
	text := buffer.String()
	return &text
}

func edited(e *slack.Edited, strs *stringBlock) *records.SlackEdited {
	if e == nil {
		return nil
	}
	return &records.SlackEdited{User: strs.optional(e.User), Ts: strs.optional(e.TS)}
}

func nestedMessage(m *slack.NestedMessage, strs *stringBlock) *records.SlackNestedMessage {
	if m == nil {
		return nil
	}
	return &records.SlackNestedMessage{
		Type:     strs.optional(m.Type),
		Subtype:  strs.optional(m.Subtype),
		User:     strs.optional(m.User),
		BotID:    strs.optional(m.BotID),
		Text:     m.Text,
		Ts:       strs.optional(m.TS),
		ThreadTs: strs.optional(m.ThreadTS),
		Edited:   edited(m.Edited, strs),
	}
}

// DeliveryFromHeader reads Slack's retry headers from a request received
// at receivedAt. A retry number that is not a non-negative integer is
// dropped and a retry reason is cut to 64 bytes, so headers never carry
// arbitrary client input.
func DeliveryFromHeader(header http.Header, receivedAt time.Time) Delivery {
	delivery := Delivery{ReceivedAt: receivedAt}
	if n, err := strconv.Atoi(header.Get("X-Slack-Retry-Num")); err == nil && n >= 0 {
		delivery.RetryNum = strconv.Itoa(n)
	}
	reason := header.Get("X-Slack-Retry-Reason")
	if len(reason) > maxRetryReason {
		reason = reason[:maxRetryReason]
	}
	delivery.RetryReason = reason
	return delivery
}

// maxRetryReason bounds the X-Slack-Retry-Reason value copied into a
// header. Slack's reasons, such as http_timeout, are far shorter.
const maxRetryReason = 64
