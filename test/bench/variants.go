package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Variant names, in the order they are measured.
const (
	variantCeiling   = "ceiling"
	variantObvious   = "obvious"
	variantSquarebot = "squarebot"
	// variantTarget names the gateway of --url, which the tool did not start.
	variantTarget = "target"
)

// allVariants is the default --variants list.
var allVariants = []string{variantCeiling, variantObvious, variantSquarebot}

// Time limits of child processes.
const (
	// readyTimeout bounds the wait for a child's ready line or for
	// squarebot's /readyz.
	readyTimeout = 60 * time.Second
	// readyPollInterval is how often /readyz is polled.
	readyPollInterval = 5 * time.Millisecond
	// stopTimeout bounds the wait for a child to exit after SIGTERM, above
	// squarebot's default 10 s shutdown budget.
	stopTimeout = 15 * time.Second
)

// process is a child process: the broker, a baseline server or squarebot.
type process struct {
	name    string
	cmd     *exec.Cmd
	logPath string
	// stdin stays open while the child runs. Bench children exit when it
	// closes, so they never outlive the load tool.
	stdin io.WriteCloser
	// addrs are the addresses of the child's ready line.
	addrs []string
	// startToReady is the time from starting the process to its first
	// ready response or ready line.
	startToReady time.Duration
	// adminURL is squarebot's admin listener, such as
	// http://127.0.0.1:9090, or "" for other children.
	adminURL string
	done     chan struct{}
}

// PID returns the process id, which /proc figures are read from.
func (p *process) PID() int { return p.cmd.Process.Pid }

// exited reports whether the process has ended.
func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// stop sends SIGTERM, waits up to stopTimeout, then kills the process. It
// returns the exit code, or -1 when the process was killed by a signal.
func (p *process) stop() int {
	if !p.exited() {
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		if p.stdin != nil {
			p.stdin.Close()
		}
		select {
		case <-p.done:
		case <-time.After(stopTimeout):
			_ = p.cmd.Process.Kill()
			<-p.done
		}
	}
	return p.cmd.ProcessState.ExitCode()
}

// newCommand returns the command for name and args, run under
// `taskset -c cpus` when cpus is not empty. taskset executes the program in
// its own process, so the PID is the program's.
func newCommand(cpus, name string, args ...string) *exec.Cmd {
	if cpus != "" {
		return exec.Command("taskset", append([]string{"-c", cpus, name}, args...)...)
	}
	return exec.Command(name, args...)
}

// startProcess starts cmd with its standard error in a new file at
// logPath. The child gets SIGKILL if the load tool dies first.
func startProcess(name string, cmd *exec.Cmd, logPath string) (*process, io.ReadCloser, error) {
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, nil, err
	}
	defer logFile.Close()
	cmd.Stderr = logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, nil, err
	}
	var stdout io.ReadCloser
	if cmd.Stdout == nil {
		if stdout, err = cmd.StdoutPipe(); err != nil {
			return nil, nil, err
		}
	}
	if err := cmd.Start(); err != nil {
		return nil, nil, fmt.Errorf("starting %s: %w", name, err)
	}
	p := &process{name: name, cmd: cmd, logPath: logPath, stdin: stdin, done: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		close(p.done)
	}()
	return p, stdout, nil
}

// startChild re-executes the bench binary as the child kind and waits for
// its ready line.
func startChild(ctx context.Context, kind string, args, env []string, logPath, cpus string) (*process, error) {
	executable, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := newCommand(cpus, executable, append([]string{childCommand, kind}, args...)...)
	cmd.Env = append(childEnvironment(), env...)
	started := time.Now()
	p, stdout, err := startProcess(kind, cmd, logPath)
	if err != nil {
		return nil, err
	}

	lines := make(chan string, 1)
	go func() {
		scanner := bufio.NewScanner(stdout)
		if scanner.Scan() {
			lines <- scanner.Text()
		}
		close(lines)
		_, _ = io.Copy(io.Discard, stdout)
	}()
	select {
	case line, ok := <-lines:
		if !ok {
			p.stop()
			return nil, fmt.Errorf("%s exited before it was ready; see %s", kind, logPath)
		}
		if p.addrs, err = parseReadyLine(line); err != nil {
			p.stop()
			return nil, fmt.Errorf("%s: %w", kind, err)
		}
	case <-time.After(readyTimeout):
		p.stop()
		return nil, fmt.Errorf("%s was not ready after %s; see %s", kind, readyTimeout, logPath)
	case <-ctx.Done():
		p.stop()
		return nil, ctx.Err()
	}
	p.startToReady = time.Since(started)
	return p, nil
}

// squarebotSettings are what `squarebot serve` needs beyond its defaults.
type squarebotSettings struct {
	Binary        string
	SigningSecret string
	KafkaAddr     string
	RegistryURL   string
	LogPath       string
	CPUs          string
}

// startSquarebot runs `squarebot serve` with its default configuration on
// free loopback ports and waits until its /readyz responds 200, polling
// every readyPollInterval. It returns the process and the public URL.
func startSquarebot(ctx context.Context, settings squarebotSettings) (*process, string, error) {
	ports, err := freeLoopbackPorts(2)
	if err != nil {
		return nil, "", err
	}
	publicAddr := net.JoinHostPort("127.0.0.1", strconv.Itoa(ports[0]))
	adminAddr := net.JoinHostPort("127.0.0.1", strconv.Itoa(ports[1]))
	cmd := newCommand(settings.CPUs, settings.Binary, "serve")
	cmd.Env = append(childEnvironment(),
		"SQUAREBOT_SLACK_SIGNING_SECRETS="+settings.SigningSecret,
		"SQUAREBOT_KAFKA_BOOTSTRAP_SERVERS="+settings.KafkaAddr,
		"SQUAREBOT_REGISTRY_URL="+settings.RegistryURL,
		"SQUAREBOT_HTTP_ADDR="+publicAddr,
		"SQUAREBOT_ADMIN_ADDR="+adminAddr,
	)
	cmd.Stdout = io.Discard

	started := time.Now()
	p, _, err := startProcess(variantSquarebot, cmd, settings.LogPath)
	if err != nil {
		return nil, "", err
	}
	if err := waitReady(ctx, p, "http://"+adminAddr+"/readyz"); err != nil {
		p.stop()
		return nil, "", err
	}
	p.startToReady = time.Since(started)
	p.adminURL = "http://" + adminAddr
	return p, "http://" + publicAddr, nil
}

// waitReady polls readyURL until it responds 200, the process exits, ctx
// ends or readyTimeout passes.
func waitReady(ctx context.Context, p *process, readyURL string) error {
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(readyTimeout)
	for time.Now().Before(deadline) {
		if response, err := client.Get(readyURL); err == nil {
			_, _ = io.Copy(io.Discard, response.Body)
			response.Body.Close()
			if response.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-p.done:
			return fmt.Errorf("%s exited with code %d before it was ready; see %s", p.name, p.cmd.ProcessState.ExitCode(), p.logPath)
		case <-time.After(readyPollInterval):
		}
	}
	return fmt.Errorf("%s was not ready after %s; see %s", p.name, readyTimeout, p.logPath)
}

// scrapeCounter returns the sum of every series of the counter name in the
// Prometheus text exposition at metricsURL, and false when the metric is
// absent or the request failed.
func scrapeCounter(metricsURL, name string) (float64, bool) {
	client := &http.Client{Timeout: 5 * time.Second}
	response, err := client.Get(metricsURL)
	if err != nil {
		return 0, false
	}
	defer response.Body.Close()
	total, found := 0.0, false
	scanner := bufio.NewScanner(response.Body)
	scanner.Buffer(make([]byte, 64*1024), 1024*1024)
	for scanner.Scan() {
		line := scanner.Text()
		if !strings.HasPrefix(line, name+" ") && !strings.HasPrefix(line, name+"{") {
			continue
		}
		fields := strings.Fields(line)
		value, err := strconv.ParseFloat(fields[len(fields)-1], 64)
		if err != nil {
			continue
		}
		total += value
		found = true
	}
	return total, found
}

// childEnvironment returns the load tool's environment without any
// SQUAREBOT_ variable, so that settings of the caller's shell do not change
// the configuration under test.
func childEnvironment() []string {
	var env []string
	for _, entry := range os.Environ() {
		if !strings.HasPrefix(entry, "SQUAREBOT_") {
			env = append(env, entry)
		}
	}
	return env
}

// freeLoopbackPorts returns n distinct ports that were free on 127.0.0.1.
// Another process could take one before the child binds it, which would
// make the child fail at start.
func freeLoopbackPorts(n int) ([]int, error) {
	listeners := make([]net.Listener, 0, n)
	defer func() {
		for _, listener := range listeners {
			listener.Close()
		}
	}()
	ports := make([]int, 0, n)
	for range n {
		listener, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		listeners = append(listeners, listener)
		ports = append(ports, listener.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// buildSquarebot builds ./cmd/squarebot of the module at root into dir and
// returns the binary's path.
func buildSquarebot(ctx context.Context, root, dir string, progress io.Writer) (string, error) {
	binary := filepath.Join(dir, "squarebot")
	build := exec.CommandContext(ctx, "go", "build", "-o", binary, "./cmd/squarebot")
	build.Dir = root
	build.Stdout = progress
	build.Stderr = progress
	if err := build.Run(); err != nil {
		return "", fmt.Errorf("building ./cmd/squarebot in %s: %w", root, err)
	}
	return binary, nil
}

// describeSource names the source that squarebot was built from: the Git
// commit and the number of uncommitted files, other than tests, under the
// folders that go into the binary. It returns "unknown commit" when Git
// cannot tell.
func describeSource(ctx context.Context, root string) string {
	commit, err := exec.CommandContext(ctx, "git", "-C", root, "rev-parse", "--short", "HEAD").Output()
	if err != nil {
		return "unknown commit"
	}
	status, err := exec.CommandContext(ctx, "git", "-C", root, "status", "--porcelain", "--", "pkg", "cmd", "schemas", "go.mod", "go.sum").Output()
	if err != nil {
		return "commit " + strings.TrimSpace(string(commit))
	}
	changed := 0
	for line := range strings.Lines(string(status)) {
		if !strings.HasSuffix(strings.TrimSpace(line), "_test.go") {
			changed++
		}
	}
	if changed == 0 {
		return fmt.Sprintf("commit %s, no uncommitted change", strings.TrimSpace(string(commit)))
	}
	return fmt.Sprintf("commit %s plus %d uncommitted files under pkg, cmd or schemas", strings.TrimSpace(string(commit)), changed)
}

// moduleRoot returns the folder of the go.mod that `go env GOMOD` reports.
func moduleRoot(ctx context.Context) (string, error) {
	output, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("finding the module root: %w", err)
	}
	gomod := strings.TrimSpace(string(output))
	if gomod == "" || gomod == os.DevNull {
		return "", errors.New("no go.mod found: run the tool from the squarebot module, or pass --squarebot-bin")
	}
	return filepath.Dir(gomod), nil
}
