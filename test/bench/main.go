// Command bench is Squarebot's load tool. It signs the Slack fixtures of
// test/testdata/slack with fresh timestamps and sends them over keep-alive
// HTTP connections, each a closed loop with one request in flight, to
// gateways on loopback addresses only.
//
// By default (--embedded) it starts a kfake broker and schema registry in a
// child process. It then measures three gateways one after the other, each
// in a process of its own. They are a bare net/http server (ceiling), a
// hand-written gateway (obvious) and `squarebot serve` built from
// ./cmd/squarebot. With
// --url it measures one running gateway instead. It prints requests per
// second, latency percentiles, status counts and, for processes it
// started, CPU time and resident memory read from /proc.
//
// Run it from the module root:
//
//	go run ./test/bench --runs 3 -d 10s
//
// docs/performance.md explains the variants and the figures.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/lsst-sqre/squarebot/pkg/secret"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == childCommand {
		os.Exit(runChild(os.Args[2:], os.Stdout, os.Stderr))
	}
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// Limits of the flags, so that every invocation ends in bounded time: at
// most maxRuns × 3 variants × (maxWarmup + maxDuration + 1 s +
// maxSingleDuration) of load, plus start and stop times.
const (
	maxConnections    = 1024
	maxDuration       = 120 * time.Second
	maxWarmup         = 30 * time.Second
	maxSingleDuration = 30 * time.Second
	maxRuns           = 10
	maxRequestLimit   = 100_000_000
)

// options are the parsed flags.
type options struct {
	Connections    int
	Duration       time.Duration
	Warmup         time.Duration
	SingleDuration time.Duration
	MaxRequests    int
	Runs           int
	Variants       []string
	// URL is the gateway of --url, or empty in embedded mode.
	URL             string
	Secret          secret.Value
	Blackhole       bool
	Pin             bool
	SquarebotBinary string
	KeepLogs        bool
	JSON            bool
}

// run executes the load tool and returns the exit code: 0 on success, 1
// when a run failed, 2 for a usage error.
func run(args []string, stdout, stderr io.Writer) int {
	opts, err := parseOptions(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "bench:", err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	report, err := runBench(ctx, opts, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "bench:", err)
		return 1
	}
	if opts.JSON {
		if err := writeJSON(stdout, report); err != nil {
			fmt.Fprintln(stderr, "bench:", err)
			return 1
		}
		return 0
	}
	writeText(stdout, report)
	return 0
}

// parseOptions parses and validates the command line.
func parseOptions(args []string, stderr io.Writer) (options, error) {
	var opts options
	var embedded bool
	var variants, signingSecret string
	flags := flag.NewFlagSet("bench", flag.ContinueOnError)
	flags.SetOutput(stderr)
	flags.IntVar(&opts.Connections, "c", 64, "keep-alive connections of the main load, each with one request in flight")
	flags.DurationVar(&opts.Duration, "d", 10*time.Second, "measured time of each main load, at most 2m0s")
	flags.DurationVar(&opts.Warmup, "warmup", 2*time.Second, "unmeasured load before each measured window, at most 30s")
	flags.DurationVar(&opts.SingleDuration, "single-d", 3*time.Second, "measured time of the 1-connection run after each main load (after a 1s warm-up); 0 skips it")
	flags.IntVar(&opts.MaxRequests, "n", 10_000_000, "maximum measured requests per window; the window ends early when it is reached")
	flags.IntVar(&opts.Runs, "runs", 1, "how many times to measure the whole sequence; the report adds the median of each figure")
	flags.StringVar(&variants, "variants", strings.Join(allVariants, ","), "comma-separated variants to measure in embedded mode: ceiling, obvious, squarebot")
	flags.BoolVar(&embedded, "embedded", true, "start the broker, registry and gateways as child processes")
	flags.StringVar(&opts.URL, "url", "", "measure the running gateway at this http URL instead; its host must be a loopback address")
	flags.StringVar(&signingSecret, "secret", "", "signing secret of the --url gateway (default: the first of $SQUAREBOT_SLACK_SIGNING_SECRETS)")
	flags.BoolVar(&opts.Blackhole, "blackhole", true, "make the kfake broker acknowledge records without storing them, so memory stays flat in long runs")
	flags.BoolVar(&opts.Pin, "pin", false, "pin the gateway under test to CPU 1 and the broker and load generator to CPU 0 with taskset")
	flags.StringVar(&opts.SquarebotBinary, "squarebot-bin", "", "use this squarebot binary instead of building ./cmd/squarebot")
	flags.BoolVar(&opts.KeepLogs, "keep-logs", false, "keep the children's logs in the temporary folder and print its path")
	flags.BoolVar(&opts.JSON, "json", false, "print the report as JSON instead of tables")
	if err := flags.Parse(args); err != nil {
		return options{}, err
	}
	if flags.NArg() > 0 {
		return options{}, fmt.Errorf("unexpected argument %q", flags.Arg(0))
	}

	embeddedSet := false
	flags.Visit(func(f *flag.Flag) { embeddedSet = embeddedSet || f.Name == "embedded" })
	if opts.URL != "" && embedded && embeddedSet {
		return options{}, errors.New("--url and --embedded exclude each other")
	}
	if opts.URL == "" && !embedded {
		return options{}, errors.New("--embedded=false needs --url")
	}
	if opts.URL != "" {
		opts.Secret = secret.Value(firstSecret(signingSecret))
	}
	opts.Variants = strings.Split(variants, ",")
	return opts, opts.validate()
}

// firstSecret returns flagValue, or else the first entry of
// $SQUAREBOT_SLACK_SIGNING_SECRETS.
func firstSecret(flagValue string) string {
	if flagValue != "" {
		return flagValue
	}
	return strings.TrimSpace(strings.Split(os.Getenv("SQUAREBOT_SLACK_SIGNING_SECRETS"), ",")[0])
}

// validate rejects values outside the limits, so every run is bounded.
func (o options) validate() error {
	var problems []error
	if o.Connections < 1 || o.Connections > maxConnections {
		problems = append(problems, fmt.Errorf("-c %d is outside 1 to %d", o.Connections, maxConnections))
	}
	if o.Duration <= 0 || o.Duration > maxDuration {
		problems = append(problems, fmt.Errorf("-d %s is outside (0, %s]", o.Duration, maxDuration))
	}
	if o.Warmup < 0 || o.Warmup > maxWarmup {
		problems = append(problems, fmt.Errorf("-warmup %s is outside 0 to %s", o.Warmup, maxWarmup))
	}
	if o.SingleDuration < 0 || o.SingleDuration > maxSingleDuration {
		problems = append(problems, fmt.Errorf("-single-d %s is outside 0 to %s", o.SingleDuration, maxSingleDuration))
	}
	if o.MaxRequests < o.Connections || o.MaxRequests > maxRequestLimit {
		problems = append(problems, fmt.Errorf("-n %d is outside %d (one per connection) to %d", o.MaxRequests, o.Connections, maxRequestLimit))
	}
	if o.Runs < 1 || o.Runs > maxRuns {
		problems = append(problems, fmt.Errorf("--runs %d is outside 1 to %d", o.Runs, maxRuns))
	}
	for _, name := range o.Variants {
		if !slices.Contains(allVariants, name) {
			problems = append(problems, fmt.Errorf("--variants: %q is not ceiling, obvious or squarebot", name))
		}
	}
	if o.URL != "" && !o.Secret.IsSet() {
		problems = append(problems, errors.New("--url needs --secret or $SQUAREBOT_SLACK_SIGNING_SECRETS"))
	}
	return errors.Join(problems...)
}
