package gateway

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/lsst-sqre/squarebot/pkg/kafka"
	"github.com/lsst-sqre/squarebot/pkg/route"
	"github.com/lsst-sqre/squarebot/pkg/slack"
)

// Publisher sends one encoded record and waits for Kafka's acknowledgement
// for at most timeout. *kafka.Producer implements it.
type Publisher interface {
	PublishWithin(message kafka.Message, timeout time.Duration) error
}

// handler serves the Slack endpoints.
type handler struct {
	verifier     *slack.Verifier
	router       *route.Router
	pipeline     *atomic.Pointer[pipeline]
	logger       *slog.Logger
	metrics      *metrics
	maxBodyBytes int64
	ackTimeout   time.Duration
	delivered    *deliveredEvents
}

// event serves POST /slack/event.
func (h *handler) event(c echo.Context) error {
	request := c.Request()
	receivedAt := time.Now()
	buffer, err := h.readVerified(c, "event")
	if err != nil {
		return err
	}
	// The record's slack_json refers to the buffer without a copy, so the
	// buffer goes back to its pool only when the handler returns, after
	// the record was encoded and handed to the producer.
	defer releaseBody(buffer)
	body := buffer.Bytes()
	if !hasMediaType(request, "application/json") {
		return h.reject(c, "event", errContentType)
	}
	envelope, err := slack.ParseEventEnvelope(body)
	if err != nil {
		return h.reject(c, "event", errInvalidJSON)
	}

	decision := h.router.Event(envelope, body, route.DeliveryFromHeader(request.Header, receivedAt))
	switch decision.Outcome {
	case route.Challenge:
		h.ignored(c, "url_verification", decision.EventType)
		return h.respond(c, "event", http.StatusOK, map[string]string{"challenge": decision.Challenge})
	case route.RateLimited:
		h.logger.Warn("Slack stopped sending events for a minute because the app was rate limited",
			"team_id", envelope.TeamID, "minute_rate_limited", envelope.MinuteRateLimited)
		h.ignored(c, "rate_limited", decision.EventType)
		return h.respondEmpty(c, "event")
	case route.Unrouted:
		h.logger.Debug("event has no route", "event_type", decision.EventType, "event_id", envelope.EventID)
		h.ignored(c, "unrouted", decision.EventType)
		return h.respondEmpty(c, "event")
	}
	if h.delivered.contains(envelope.EventID) {
		h.metrics.duplicates.Inc()
		h.logger.Debug("event already delivered; not publishing it again",
			"event_id", envelope.EventID, "retry_num", request.Header.Get("X-Slack-Retry-Num"))
		return h.respondEmpty(c, "event")
	}
	return h.publish(c, "event", decision.Record, receivedAt, envelope.EventID)
}

// interaction serves POST /slack/interaction.
func (h *handler) interaction(c echo.Context) error {
	request := c.Request()
	receivedAt := time.Now()
	buffer, err := h.readVerified(c, "interaction")
	if err != nil {
		return err
	}
	defer releaseBody(buffer)
	body := buffer.Bytes()
	if !hasMediaType(request, "application/x-www-form-urlencoded") {
		return h.reject(c, "interaction", errContentType)
	}
	interaction, payload, err := slack.ParseInteractionForm(body)
	if err != nil {
		return h.reject(c, "interaction", classifyInteractionError(err))
	}

	record := h.router.Interaction(interaction, payload, route.DeliveryFromHeader(request.Header, receivedAt))
	return h.publish(c, "interaction", record, receivedAt, "")
}

// readVerified reads the body within the size limit and verifies its
// signature. On failure it has already written the response and returns
// a non-nil error for Echo to ignore.
func (h *handler) readVerified(c echo.Context, endpoint string) (*bytes.Buffer, error) {
	request := c.Request()
	if request.ContentLength > h.maxBodyBytes {
		return nil, h.reject(c, endpoint, errBodyTooLarge)
	}
	buffer, err := readBody(c.Response().Writer, request, h.maxBodyBytes)
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return nil, h.reject(c, endpoint, errBodyTooLarge)
		}
		return nil, h.reject(c, endpoint, errReadBody)
	}
	body := buffer.Bytes()
	if isSSLCheck(request, body) {
		releaseBody(buffer)
		h.logger.Debug("responded to Slack's ssl_check", "endpoint", endpoint)
		h.metrics.ignoredEvents.WithLabelValues("ssl_check", "ssl_check").Inc()
		if err := h.respondEmpty(c, endpoint); err != nil {
			return nil, err
		}
		return nil, errResponded
	}
	if err := h.verifier.Verify(request.Header, body); err != nil {
		reason := slack.Reason(err)
		h.metrics.signatureFailures.WithLabelValues(reason).Inc()
		releaseBody(buffer)
		h.logger.Warn("rejected request with an invalid Slack signature",
			"endpoint", endpoint, "reason", reason, "remote_addr", request.RemoteAddr)
		return nil, h.respond(c, endpoint, http.StatusUnauthorized, map[string]string{"error": "invalid signature"})
	}
	if !utf8.Valid(body) {
		releaseBody(buffer)
		return nil, h.reject(c, endpoint, errNotUTF8)
	}
	return buffer, nil
}

// publish encodes and sends a record, then responds 200 once Kafka
// acknowledged it, or 503 when it could not within the ack timeout.
func (h *handler) publish(c echo.Context, endpoint string, record route.Record, receivedAt time.Time, eventID string) error {
	ready := h.pipeline.Load()
	if ready == nil {
		h.metrics.deliveryFailures.WithLabelValues("not_ready").Inc()
		h.logger.Warn("request arrived before start-up finished; responding 503 so Slack retries",
			"topic", record.Topic, "event_id", eventID)
		c.Response().Header().Set("Retry-After", "5")
		return h.respond(c, endpoint, http.StatusServiceUnavailable, map[string]string{"error": "temporarily unavailable"})
	}
	keyFrame, valueFrame, err := ready.catalog.EncodeFrames(record.Topic, record.Key, record.Value)
	if err != nil {
		// Routing only builds records that match their schemas, so this is
		// a bug rather than bad input.
		h.logger.Error("encoding record failed", "err", err, "topic", record.Topic, "event_id", eventID)
		return h.respond(c, endpoint, http.StatusInternalServerError, map[string]string{"error": "internal error"})
	}
	// The producer copies key and value when it accepts the record, so the
	// frames go back to their pool once Publish returns.
	defer keyFrame.Release()
	defer valueFrame.Release()
	message := kafka.Message{Topic: record.Topic, Key: keyFrame.Bytes(), Value: valueFrame.Bytes(), Headers: make([]kafka.Header, len(record.Headers))}
	for i, header := range record.Headers {
		message.Headers[i] = kafka.Header{Key: header.Key, Value: header.Value}
	}

	// A client that hangs up does not cancel the publish, because the
	// record may be on its way and the response decides whether Slack
	// retries: only the ack timeout ends the wait.
	if err := ready.publisher.PublishWithin(message, h.ackTimeout); err != nil {
		class := kafka.ErrorClass(err)
		h.metrics.deliveryFailures.WithLabelValues(class).Inc()
		h.logger.Warn("Kafka did not acknowledge the record; responding 503 so Slack retries",
			"err", err, "class", class, "topic", record.Topic, "event_id", eventID)
		c.Response().Header().Set("Retry-After", "1")
		return h.respond(c, endpoint, http.StatusServiceUnavailable, map[string]string{"error": "temporarily unavailable"})
	}
	h.delivered.add(eventID)
	h.metrics.recordPublished(record.Topic, time.Since(receivedAt))
	if h.logger.Enabled(context.Background(), slog.LevelDebug) {
		h.logger.Debug("published record", "topic", record.Topic, "event_id", eventID)
	}
	return h.respondEmpty(c, endpoint)
}

func (h *handler) ignored(c echo.Context, outcome, eventType string) {
	h.metrics.ignoredEvents.WithLabelValues(outcome, h.metrics.eventTypes.label(eventType)).Inc()
}

// reject responds with a 4xx for a request that failed a check after or instead
// of signature verification.
func (h *handler) reject(c echo.Context, endpoint string, rejection *requestError) error {
	h.metrics.badRequests.WithLabelValues(rejection.reason).Inc()
	h.logger.Warn("rejected request", "endpoint", endpoint, "reason", rejection.reason,
		"status", rejection.status, "remote_addr", c.Request().RemoteAddr)
	return h.respond(c, endpoint, rejection.status, map[string]string{"error": rejection.message})
}

func (h *handler) respond(c echo.Context, endpoint string, status int, body map[string]string) error {
	h.metrics.recordRequest(endpoint, status)
	if err := c.JSON(status, body); err != nil {
		return err
	}
	return errResponded
}

func (h *handler) respondEmpty(c echo.Context, endpoint string) error {
	h.metrics.recordRequest(endpoint, http.StatusOK)
	return c.NoContent(http.StatusOK)
}

// isSSLCheck reports whether the request is Slack's certificate check: a
// form post whose ssl_check field is exactly "1". Slack sends it without
// signature headers, so it is recognised before verification, and it never
// publishes anything, whatever else the form carries.
func isSSLCheck(request *http.Request, body []byte) bool {
	if !hasMediaType(request, "application/x-www-form-urlencoded") || !bytes.Contains(body, []byte("ssl_check=")) {
		return false
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return false
	}
	values := form["ssl_check"]
	return len(values) == 1 && values[0] == "1"
}

// hasMediaType reports whether the request's Content-Type is want, with
// any parameters such as charset.
func hasMediaType(request *http.Request, want string) bool {
	contentType := request.Header.Get(echo.HeaderContentType)
	// Slack sends the bare media type. Parsing it allocates, so the exact
	// value is recognised first.
	if contentType == want {
		return true
	}
	mediaType, _, err := mime.ParseMediaType(contentType)
	return err == nil && mediaType == want
}
