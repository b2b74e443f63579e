package gateway

import (
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/labstack/echo/v4"
)

// newEcho builds the public router: the two Slack endpoints, bare and
// under the path prefix, and nothing else.
func newEcho(h *handler, prefix string, limit *inFlightLimit) *echo.Echo {
	e := echo.New()
	e.HideBanner = true
	e.HidePort = true
	e.HTTPErrorHandler = h.handleEchoError
	e.Use(limit.middleware)
	// Echo responds to OPTIONS on a known path with 204 by itself, so
	// OPTIONS gets an explicit route to the same 405 as every other method.
	rejectMethod := func(echo.Context) error { return echo.ErrMethodNotAllowed }
	for _, base := range uniquePrefixes(prefix) {
		e.POST(base+"/slack/event", h.event)
		e.POST(base+"/slack/interaction", h.interaction)
		e.OPTIONS(base+"/slack/event", rejectMethod)
		e.OPTIONS(base+"/slack/interaction", rejectMethod)
	}
	return e
}

func uniquePrefixes(prefix string) []string {
	if prefix == "" {
		return []string{""}
	}
	return []string{"", prefix}
}

// handleEchoError writes a fixed JSON body for Echo's own errors, such as
// 404 for an unknown path and 405 for a wrong method, and logs and counts
// them like other rejected requests. Handlers write their own responses
// and return errResponded.
func (h *handler) handleEchoError(err error, c echo.Context) {
	if errors.Is(err, errResponded) || c.Response().Committed {
		return
	}
	status := http.StatusInternalServerError
	var httpError *echo.HTTPError
	if errors.As(err, &httpError) {
		status = httpError.Code
	}
	reason := "other"
	switch status {
	case http.StatusNotFound:
		reason = "not_found"
	case http.StatusMethodNotAllowed:
		reason = "method_not_allowed"
		// Both endpoints take POST only. Echo's own Allow would also list
		// OPTIONS, which has a route only to be rejected.
		c.Response().Header().Set(echo.HeaderAllow, http.MethodPost)
	}
	h.metrics.badRequests.WithLabelValues(reason).Inc()
	h.logger.Warn("rejected request", "reason", reason, "status", status, "remote_addr", c.Request().RemoteAddr)
	_ = c.JSON(status, map[string]string{"error": http.StatusText(status)})
}

// endpointOf returns the endpoint label of a route path.
func endpointOf(path string) string {
	if strings.HasSuffix(path, "/slack/event") {
		return "event"
	}
	return "interaction"
}

// inFlightLimit responds 503 at once when too many requests are being
// handled, instead of letting them queue past Slack's deadline.
type inFlightLimit struct {
	slots   chan struct{}
	metrics *metrics
	logger  *slog.Logger
	// lastLog and turnedAway keep the warning to one line a second, with
	// the count of requests turned away since the last line.
	lastLog    atomic.Int64
	turnedAway atomic.Int64
}

func newInFlightLimit(max int, m *metrics, logger *slog.Logger) *inFlightLimit {
	return &inFlightLimit{slots: make(chan struct{}, max), metrics: m, logger: logger}
}

// warnTurnedAway logs at most one line a second about requests turned away.
func (l *inFlightLimit) warnTurnedAway() {
	count := l.turnedAway.Add(1)
	now := time.Now().UnixNano()
	last := l.lastLog.Load()
	if now-last < int64(time.Second) || !l.lastLog.CompareAndSwap(last, now) {
		return
	}
	l.turnedAway.Add(-count)
	l.logger.Warn("too many requests in flight; responding 503 so Slack retries",
		"max_in_flight", cap(l.slots), "turned_away", count)
}

func (l *inFlightLimit) middleware(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		select {
		case l.slots <- struct{}{}:
		default:
			l.metrics.badRequests.WithLabelValues("overloaded").Inc()
			l.metrics.recordRequest(endpointOf(c.Path()), http.StatusServiceUnavailable)
			l.warnTurnedAway()
			c.Response().Header().Set("Retry-After", "1")
			_ = c.JSON(http.StatusServiceUnavailable, map[string]string{"error": "too many requests in flight"})
			return errResponded
		}
		l.metrics.inFlight.Inc()
		defer func() {
			l.metrics.inFlight.Dec()
			<-l.slots
		}()
		return next(c)
	}
}
