package e2e

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lsst-sqre/squarebot/pkg/gateway"
	"github.com/lsst-sqre/squarebot/pkg/slack"
	"github.com/lsst-sqre/squarebot/test/harness"
)

// TestHostileShortBodyGets400 sends a signed event whose Content-Length
// promises 10 more bytes than follow. When the read timeout passes the
// gateway must still write its 400, which it could not while the write
// timeout ended at the same moment as the read timeout.
func TestHostileShortBodyGets400(t *testing.T) {
	h := harness.Start(t, harness.Options{Configure: func(c *gateway.Config) {
		c.HTTP.ReadTimeout = 500 * time.Millisecond
		c.HTTP.WriteTimeout = c.HTTP.ReadTimeout + time.Second
	}})
	body := []byte(hostileEvent)
	timestamp := strconv.FormatInt(time.Now().Unix(), 10)
	conn := dialGateway(t, h)

	request := fmt.Sprintf("POST /slack/event HTTP/1.1\r\nHost: squarebot\r\nContent-Type: application/json\r\n"+
		"Content-Length: %d\r\n%s: %s\r\n%s: %s\r\n\r\n%s",
		len(body)+10, slack.HeaderTimestamp, timestamp,
		slack.HeaderSignature, slack.Sign(harness.Secret, timestamp, body), body)
	if _, err := conn.Write([]byte(request)); err != nil {
		t.Fatal(err)
	}
	response, text := readResponse(t, conn)

	if response.StatusCode != http.StatusBadRequest {
		t.Errorf("status %d, want 400", response.StatusCode)
	}
	if !strings.Contains(text, `"error"`) {
		t.Errorf("body %q, want a JSON error reason", text)
	}
}
