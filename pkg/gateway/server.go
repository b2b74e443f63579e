package gateway

import (
	"errors"
	"net/http"
	"strings"

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
	for _, base := range uniquePrefixes(prefix) {
		e.POST(base+"/slack/event", h.event)
		e.POST(base+"/slack/interaction", h.interaction)
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
}

func newInFlightLimit(max int, m *metrics) *inFlightLimit {
	return &inFlightLimit{slots: make(chan struct{}, max), metrics: m}
}

func (l *inFlightLimit) middleware(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		select {
		case l.slots <- struct{}{}:
		default:
			l.metrics.badRequests.WithLabelValues("overloaded").Inc()
			l.metrics.recordRequest(endpointOf(c.Path()), http.StatusServiceUnavailable)
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
