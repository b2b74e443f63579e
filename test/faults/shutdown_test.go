//go:build unix

package faults

import (
	"errors"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/lsst-sqre/squarebot/pkg/devstack"
	"github.com/lsst-sqre/squarebot/pkg/gateway"
	"github.com/lsst-sqre/squarebot/test/harness"
)

// Load and timing of TestShutdownUnderLoad.
const (
	shutdownBudget       = 5 * time.Second
	shutdownSenders      = 4
	shutdownSendInterval = 20 * time.Millisecond
	shutdownMaxPerSender = 1000
	// shutdownSignalAfter is how long the load runs before SIGTERM.
	shutdownSignalAfter = 2 * time.Second
	// shutdownSendFor bounds the load in case connections are never
	// refused.
	shutdownSendFor = 15 * time.Second
	// shutdownExitSlack is how much longer than the budget the process may
	// take to exit: the admin listener has its own 1 s budget after the
	// flush, and the process must then exit.
	shutdownExitSlack = 1500 * time.Millisecond
	readyPollInterval = 2 * time.Millisecond
)

// probe is one GET /readyz during shutdown.
type probe struct {
	started time.Time
	status  int // 0 when the request failed
	err     error
}

// TestShutdownUnderLoad runs `squarebot serve` as a child process, streams
// events into it and sends SIGTERM midway. The process must exit 0 within
// the shutdown budget, /readyz must not return 200 once the public listener
// refuses connections, every event answered 200 must be stored, and the
// log must show the shutdown in order.
func TestShutdownUnderLoad(t *testing.T) {
	binary := buildSquarebot(t)
	stack := startStack(t, devstack.Options{})
	logs := &logBuffer{}
	command := exec.Command(binary, "serve")
	command.Env = append(environmentWithout("SQUAREBOT_"),
		"SQUAREBOT_SLACK_SIGNING_SECRETS="+harness.Secret.Reveal(),
		"SQUAREBOT_HTTP_ADDR=127.0.0.1:0",
		"SQUAREBOT_ADMIN_ADDR=127.0.0.1:0",
		"SQUAREBOT_KAFKA_BOOTSTRAP_SERVERS="+stack.KafkaAddr,
		"SQUAREBOT_REGISTRY_URL="+stack.RegistryURL,
		"SQUAREBOT_LOG_FORMAT=json",
		"SQUAREBOT_SHUTDOWN_TIMEOUT="+shutdownBudget.String(),
	)
	command.Stderr = logs
	if err := command.Start(); err != nil {
		t.Fatalf("starting squarebot serve: %v", err)
	}
	exited := make(chan struct{})
	var waitErr error
	go func() {
		waitErr = command.Wait()
		close(exited)
	}()
	t.Cleanup(func() {
		select {
		case <-exited:
		default:
			_ = command.Process.Kill()
			<-exited
		}
	})
	publicURL, adminURL := childAddresses(t, logs)
	child := &runningGateway{url: publicURL, adminURL: adminURL, logs: logs, client: &http.Client{Timeout: 5 * time.Second}}
	child.waitReady(t, 20*time.Second)
	source := newEventSource(t, "TERM")
	client := newLoadClient()

	started := time.Now()
	var outcomes []outcome
	var mu sync.Mutex
	var senders sync.WaitGroup
	for range shutdownSenders {
		senders.Go(func() {
			sent := sendUntilRefused(client, publicURL, source, started.Add(shutdownSendFor))
			mu.Lock()
			outcomes = append(outcomes, sent...)
			mu.Unlock()
		})
	}
	stopProbes := make(chan struct{})
	probes := make(chan []probe, 1)
	go func() { probes <- probeReadiness(adminURL, stopProbes) }()
	time.Sleep(shutdownSignalAfter)
	signaled := time.Now()
	if err := command.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatalf("sending SIGTERM: %v", err)
	}
	var exitErr error
	select {
	case <-exited:
		exitErr = waitErr
	case <-time.After(3 * shutdownBudget):
		t.Fatalf("squarebot serve did not exit %s after SIGTERM; logs:\n%s", 3*shutdownBudget, logs.tail(20))
	}
	exitAfter := time.Since(signaled)
	senders.Wait()
	close(stopProbes)
	readiness := <-probes
	config := gateway.DefaultConfig()
	check := checkRecords(t, stack.KafkaAddr, config.Topics.Names(), outcomes)

	counts := countOutcomes(outcomes)
	refusedAt, refusedOK := firstRefusal(outcomes)
	late200, seen503 := readinessAfter(readiness, refusedAt)
	lastOK := lastSuccess(outcomes).Sub(signaled)
	shutdownBegan := logTime(t, logs, "shutting down").Sub(signaled)
	stopped := logTime(t, logs, "stopped").Sub(signaled)
	t.Logf("requests sent=%d 200=%d 503=%d refused=%d other errors=%d timeouts=%d; records found=%d missing=%d late=%d; exit %v %s after SIGTERM; after SIGTERM: shutdown began %s, last 200 %s, first refusal %s, stopped %s; /readyz probes=%d, 503 seen=%v, 200 after the listener refused=%d",
		counts.sent, counts.ok, counts.unavailable, counts.refused, counts.other, counts.timeouts,
		check.records, len(check.missing), check.late, exitErr, exitAfter.Round(time.Millisecond),
		shutdownBegan.Round(time.Millisecond), lastOK.Round(time.Millisecond), refusedAt.Sub(signaled).Round(time.Millisecond),
		stopped.Round(time.Millisecond), len(readiness), seen503, late200)
	if exitErr != nil {
		t.Errorf("squarebot serve exited with %v, want status 0; logs:\n%s", exitErr, logs.tail(20))
	}
	if exitAfter > shutdownBudget+shutdownExitSlack {
		t.Errorf("exited %s after SIGTERM, want within the %s budget (+%s)", exitAfter, shutdownBudget, shutdownExitSlack)
	}
	if len(check.missing) > 0 {
		t.Errorf("%d events answered 200 have no record, such as %v", len(check.missing), check.missing[:min(5, len(check.missing))])
	}
	if counts.timeouts > 0 {
		t.Errorf("%d requests got no answer within 5s, want 0", counts.timeouts)
	}
	if !refusedOK {
		t.Error("no request was refused after SIGTERM, so the public listener never closed")
	}
	if late200 > 0 {
		t.Errorf("/readyz answered 200 %d times after the public listener refused connections", late200)
	}
	if !seen503 {
		t.Errorf("/readyz never answered 503 during shutdown in %d probes every %s", len(readiness), readyPollInterval)
	}
	checkShutdownLog(t, logs)
}

// buildSquarebot builds cmd/squarebot into a temporary folder.
func buildSquarebot(t *testing.T) string {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("go command not found: %v", err)
	}
	binary := filepath.Join(t.TempDir(), "squarebot")
	build := exec.Command(goTool, "build", "-o", binary, "github.com/lsst-sqre/squarebot/cmd/squarebot")
	if output, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building squarebot: %v\n%s", err, output)
	}
	return binary
}

// environmentWithout returns the process environment without the
// variables whose names start with prefix.
func environmentWithout(prefix string) []string {
	var kept []string
	for _, variable := range os.Environ() {
		if !strings.HasPrefix(variable, prefix) {
			kept = append(kept, variable)
		}
	}
	return kept
}

// childAddresses reads the listener addresses from the child's log line
// that carries http_addr and admin_addr.
func childAddresses(t *testing.T, logs *logBuffer) (publicURL, adminURL string) {
	t.Helper()
	hasAddresses := func(entry map[string]any) bool { return entry["http_addr"] != nil && entry["admin_addr"] != nil }
	lines := waitForLines(logs, hasAddresses, 1, 20*time.Second)
	if len(lines) == 0 {
		t.Fatalf("squarebot serve logged no line with http_addr and admin_addr; logs:\n%s", logs.tail(20))
	}
	httpAddr, _ := lines[0]["http_addr"].(string)
	adminAddr, _ := lines[0]["admin_addr"].(string)
	if httpAddr == "" || adminAddr == "" {
		t.Fatalf("listening line %v lacks http_addr or admin_addr", lines[0])
	}
	return "http://" + httpAddr, "http://" + adminAddr
}

// sendUntilRefused sends a new event every shutdownSendInterval until a
// connection is refused, stop passes or shutdownMaxPerSender requests.
func sendUntilRefused(client *http.Client, baseURL string, source *eventSource, stop time.Time) []outcome {
	ticker := time.NewTicker(shutdownSendInterval)
	defer ticker.Stop()
	var outcomes []outcome
	for len(outcomes) < shutdownMaxPerSender && time.Now().Before(stop) {
		result := postEvent(client, baseURL, source)
		outcomes = append(outcomes, result)
		if result.refused() {
			break
		}
		<-ticker.C
	}
	return outcomes
}

// probeReadiness polls /readyz until stop is closed or the admin listener
// refuses connections.
func probeReadiness(adminURL string, stop <-chan struct{}) []probe {
	client := &http.Client{Timeout: time.Second}
	var probes []probe
	for {
		select {
		case <-stop:
			return probes
		default:
		}
		result := probe{started: time.Now()}
		response, err := client.Get(adminURL + "/readyz")
		if err == nil {
			response.Body.Close()
			result.status = response.StatusCode
		}
		result.err = err
		probes = append(probes, result)
		if errors.Is(err, syscall.ECONNREFUSED) {
			return probes
		}
		time.Sleep(readyPollInterval)
	}
}

// firstRefusal returns when the first refused request failed: by then the
// public listener was closed.
func firstRefusal(outcomes []outcome) (time.Time, bool) {
	var first time.Time
	for _, o := range outcomes {
		failed := o.started.Add(o.elapsed)
		if o.refused() && (first.IsZero() || failed.Before(first)) {
			first = failed
		}
	}
	return first, !first.IsZero()
}

// lastSuccess returns when the last 200 response arrived.
func lastSuccess(outcomes []outcome) time.Time {
	var last time.Time
	for _, o := range outcomes {
		if answered := o.started.Add(o.elapsed); o.status == http.StatusOK && answered.After(last) {
			last = answered
		}
	}
	return last
}

// logTime returns the time of the first log line whose msg is message.
func logTime(t *testing.T, logs *logBuffer, message string) time.Time {
	t.Helper()
	lines := logs.entries(message)
	if len(lines) == 0 {
		t.Errorf("no log line %q", message)
		return time.Time{}
	}
	text, _ := lines[0]["time"].(string)
	moment, err := time.Parse(time.RFC3339Nano, text)
	if err != nil {
		t.Errorf("log line %q has time %q: %v", message, text, err)
	}
	return moment
}

// readinessAfter counts the probes started after moment that got 200, and
// reports whether any probe got 503.
func readinessAfter(probes []probe, moment time.Time) (late200 int, seen503 bool) {
	for _, p := range probes {
		if p.status == http.StatusServiceUnavailable {
			seen503 = true
		}
		if p.status == http.StatusOK && !moment.IsZero() && p.started.After(moment) {
			late200++
		}
	}
	return late200, seen503
}

// checkShutdownLog checks that the log shows readiness, then the start and
// the end of the shutdown, and no lost records.
func checkShutdownLog(t *testing.T, logs *logBuffer) {
	t.Helper()
	var order []string
	for _, line := range strings.Split(logs.String(), "\n") {
		for _, message := range []string{`"msg":"ready"`, `"msg":"shutting down"`, `"msg":"stopped"`, `"msg":"records still queued`} {
			if strings.Contains(line, message) {
				order = append(order, message)
			}
		}
	}
	want := []string{`"msg":"ready"`, `"msg":"shutting down"`, `"msg":"stopped"`}
	if strings.Join(order, " ") != strings.Join(want, " ") {
		t.Errorf("lifecycle log lines in order %v, want %v; logs:\n%s", order, want, logs.tail(10))
	}
}
