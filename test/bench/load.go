package main

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"sync"
	"syscall"
	"time"
)

// loadConfig describes one load run against one gateway.
type loadConfig struct {
	Target target
	// Connections is the number of keep-alive connections. Each is a closed
	// loop with one request in flight.
	Connections int
	// Warmup is sent before the measured window and not recorded.
	Warmup time.Duration
	// Duration is the length of the measured window.
	Duration time.Duration
	// MaxRequests caps the measured requests. Each connection stops after
	// its equal share.
	MaxRequests int
	// RequestTimeout bounds one request from the first written byte to the
	// end of the response.
	RequestTimeout time.Duration
}

// windowHooks are called when the measured window opens and when it
// closes, so that the caller reads /proc over the same span.
type windowHooks struct {
	begin func()
	end   func()
}

// loadResult contains the figures of one measured window.
type loadResult struct {
	// Requests counts the requests started in the window, with or without a response.
	Requests int
	// Window is the measured time, normally loadConfig.Duration.
	Window time.Duration
	// Latency covers every request that got a response, whatever its status.
	Latency latencySummary
	// Status counts responses by HTTP status code.
	Status map[int]int
	// Errors counts requests that got no complete response, by class.
	Errors map[string]int
}

// RequestsPerSecond returns the measured throughput.
func (r loadResult) RequestsPerSecond() float64 {
	if r.Window <= 0 {
		return 0
	}
	return float64(r.Requests) / r.Window.Seconds()
}

// Non200 returns the number of responses whose status was not 200.
func (r loadResult) Non200() int {
	count := 0
	for status, n := range r.Status {
		if status != http.StatusOK {
			count += n
		}
	}
	return count
}

// ErrorCount returns the number of requests that got no response.
func (r loadResult) ErrorCount() int {
	count := 0
	for _, n := range r.Errors {
		count += n
	}
	return count
}

// window is the span whose requests are recorded.
type window struct {
	from  time.Time
	until time.Time
}

// connectionResult is what one connection recorded.
type connectionResult struct {
	latencies  []time.Duration
	status     map[int]int
	errors     map[string]int
	lastFinish time.Time
}

// runLoad drives config.Connections closed loops against config.Target
// with the requests of s, in the order of mix, and returns the measured
// figures. It returns after Warmup+Duration plus at most one request
// timeout, or earlier when ctx ends or MaxRequests is reached.
func runLoad(ctx context.Context, config loadConfig, s *signer, mix []int, hooks windowHooks) loadResult {
	start := time.Now()
	measured := window{from: start.Add(config.Warmup)}
	measured.until = measured.from.Add(config.Duration)
	limit := (config.MaxRequests + config.Connections - 1) / config.Connections
	// Connections start at offsets spread over the schedule, so they do
	// not send the same payload at the same moment.
	step := max(len(mix)/config.Connections, 1)

	results := make([]connectionResult, config.Connections)
	var group sync.WaitGroup
	for i := range config.Connections {
		group.Go(func() {
			results[i] = runConnection(ctx, config, s, mix, i*step, measured, limit)
		})
	}
	sleepUntil(ctx, measured.from)
	hooks.begin()
	sleepUntil(ctx, measured.until)
	hooks.end()
	group.Wait()
	return mergeResults(results, measured)
}

// runConnection sends requests on one connection until the window closes,
// ctx ends or limit requests were measured.
func runConnection(ctx context.Context, config loadConfig, s *signer, mix []int, offset int, measured window, limit int) connectionResult {
	client := &httpClient{addr: config.Target.Addr, timeout: config.RequestTimeout}
	defer client.close()
	result := connectionResult{
		latencies: make([]time.Duration, 0, 1024),
		status:    map[int]int{},
		errors:    map[string]int{},
	}
	buffer := s.newBuffer()
	count := 0
	for next := offset; ctx.Err() == nil && count < limit; next++ {
		began := time.Now()
		if !began.Before(measured.until) {
			break
		}
		status, err := client.do(s.request(mix[next%len(mix)], buffer))
		finished := time.Now()
		if err != nil && client.conn == nil && errors.Is(err, syscall.ECONNREFUSED) {
			// The gateway is gone, so pause instead of spinning on dial.
			time.Sleep(10 * time.Millisecond)
		}
		if began.Before(measured.from) {
			continue
		}
		count++
		result.lastFinish = finished
		if err != nil {
			result.errors[errorClass(err)]++
			continue
		}
		result.status[status]++
		result.latencies = append(result.latencies, finished.Sub(began))
	}
	return result
}

// mergeResults adds up the connections' figures. The window ends at the
// configured end, or earlier when every connection hit the request limit.
func mergeResults(results []connectionResult, measured window) loadResult {
	merged := loadResult{Status: map[int]int{}, Errors: map[string]int{}}
	var latencies []time.Duration
	var lastFinish time.Time
	for _, r := range results {
		latencies = append(latencies, r.latencies...)
		for status, n := range r.status {
			merged.Status[status] += n
			merged.Requests += n
		}
		for class, n := range r.errors {
			merged.Errors[class] += n
			merged.Requests += n
		}
		if r.lastFinish.After(lastFinish) {
			lastFinish = r.lastFinish
		}
	}
	end := measured.until
	if lastFinish.Before(end) {
		end = lastFinish
	}
	merged.Window = max(end.Sub(measured.from), 0)
	merged.Latency = summarizeLatencies(latencies)
	return merged
}

// sleepUntil waits until deadline or until ctx ends.
func sleepUntil(ctx context.Context, deadline time.Time) {
	timer := time.NewTimer(time.Until(deadline))
	defer timer.Stop()
	select {
	case <-ctx.Done():
	case <-timer.C:
	}
}

// httpClient sends pre-built HTTP/1.1 requests over one keep-alive
// connection and reads each response in full. It redials after an error
// or a response that closes the connection.
type httpClient struct {
	addr    string
	timeout time.Duration
	conn    net.Conn
	reader  *bufio.Reader
}

// do sends request and returns the response status.
func (c *httpClient) do(request []byte) (int, error) {
	if c.conn == nil {
		if err := c.dial(); err != nil {
			return 0, err
		}
	}
	if err := c.conn.SetDeadline(time.Now().Add(c.timeout)); err != nil {
		c.close()
		return 0, err
	}
	if _, err := c.conn.Write(request); err != nil {
		c.close()
		return 0, err
	}
	response, err := http.ReadResponse(c.reader, nil)
	if err != nil {
		c.close()
		return 0, err
	}
	_, err = io.Copy(io.Discard, response.Body)
	response.Body.Close()
	if err != nil {
		c.close()
		return 0, err
	}
	if response.Close {
		c.close()
	}
	return response.StatusCode, nil
}

func (c *httpClient) dial() error {
	conn, err := net.DialTimeout("tcp", c.addr, c.timeout)
	if err != nil {
		return err
	}
	c.conn = conn
	if c.reader == nil {
		c.reader = bufio.NewReaderSize(conn, 4096)
	} else {
		c.reader.Reset(conn)
	}
	return nil
}

func (c *httpClient) close() {
	if c.conn != nil {
		c.conn.Close()
		c.conn = nil
	}
}

// errorClass returns a short class for a request error: "timeout",
// "refused", "reset", "closed" or "other".
func errorClass(err error) string {
	var netErr net.Error
	switch {
	case errors.Is(err, os.ErrDeadlineExceeded), errors.As(err, &netErr) && netErr.Timeout():
		return "timeout"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "refused"
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return "reset"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "closed"
	default:
		return "other"
	}
}
