package gateway

import (
	"bytes"
	"errors"
	"net/http"
	"sync"

	"github.com/lsst-sqre/squarebot/pkg/slack"
)

// errResponded signals to Echo's error handler that the response is written.
var errResponded = errors.New("response already written")

// requestError is a rejected request: its status, the reason class for
// logs and metrics, and the fixed message sent to the client. The message
// never contains error text or request content.
type requestError struct {
	status  int
	reason  string
	message string
}

// The fixed set of rejections; each reason is a metric label value.
var (
	errBodyTooLarge = &requestError{http.StatusRequestEntityTooLarge, "body_too_large", "request body too large"}
	errReadBody     = &requestError{http.StatusBadRequest, "read_failed", "request body could not be read"}
	errContentType  = &requestError{http.StatusBadRequest, "content_type", "unsupported content type"}
	errInvalidJSON  = &requestError{http.StatusBadRequest, "invalid_json", "request body is not a valid Slack event"}
	errNoPayload    = &requestError{http.StatusBadRequest, "missing_payload", "form field payload is missing"}
	errBadPayload   = &requestError{http.StatusBadRequest, "invalid_payload", "form field payload is not a valid Slack interaction"}
	errBadForm      = &requestError{http.StatusBadRequest, "invalid_form", "request body is not a valid form"}
	errNotUTF8      = &requestError{http.StatusBadRequest, "invalid_utf8", "request body is not valid UTF-8"}
)

// classifyInteractionError maps a ParseInteractionForm error to its
// rejection.
func classifyInteractionError(err error) *requestError {
	switch {
	case errors.Is(err, slack.ErrNoPayloadField):
		return errNoPayload
	case errors.Is(err, slack.ErrInvalidForm):
		return errBadForm
	default:
		return errBadPayload
	}
}

// readBody reads the whole body into a pooled buffer, failing with
// *http.MaxBytesError once it passes limit, so an oversized body is never
// silently cut. w must be net/http's own ResponseWriter, not a wrapper:
// MaxBytesReader then signals the server to close the connection after the
// response instead of draining the rest of the body, which a client that
// stops sending would block forever. Return the buffer with releaseBody when no value derived
// from its bytes without a copy is used any more.
func readBody(w http.ResponseWriter, request *http.Request, limit int64) (*bytes.Buffer, error) {
	buffer := bodyPool.Get().(*bytes.Buffer)
	buffer.Reset()
	if request.ContentLength > 0 && request.ContentLength <= limit {
		// bytes.Buffer.ReadFrom wants bytes.MinRead free bytes before each
		// read, including the one that reaches the end of the body.
		buffer.Grow(int(request.ContentLength) + bytes.MinRead)
	}
	_, err := buffer.ReadFrom(http.MaxBytesReader(w, request.Body, limit))
	if err != nil {
		releaseBody(buffer)
		return nil, err
	}
	return buffer, nil
}

// bodyPool holds request body buffers for reuse.
var bodyPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// maxPooledBody is the largest body buffer kept for reuse, in bytes.
const maxPooledBody = 256 << 10

func releaseBody(buffer *bytes.Buffer) {
	if buffer != nil && buffer.Cap() <= maxPooledBody {
		bodyPool.Put(buffer)
	}
}
