package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"time"

	"github.com/lsst-sqre/squarebot/pkg/secret"
)

// singleWarmup is the warm-up before the single-connection window.
const singleWarmup = time.Second

// duplicateEventsMetric counts the events that squarebot did not publish
// because it had seen their event_id before. The load tool sends a fresh
// event_id with every event, so it must stay 0.
const duplicateEventsMetric = "squarebot_duplicate_events_total"

// requestTimeout bounds each request. It is above squarebot's 2 s ack
// timeout, so a slow response is measured rather than cut off.
const requestTimeout = 10 * time.Second

// loadRun is what one gateway needs to be measured: where it is and what
// to send.
type loadRun struct {
	options  options
	target   target
	payloads []payload
	mix      []int
	secret   secret.Value
}

// measure runs the main load with hooks, calls afterMain, then runs the
// single-connection load when its duration is not zero.
func (r loadRun) measure(ctx context.Context, hooks windowHooks, afterMain func()) (main loadResult, single *loadResult) {
	signCtx, stopSigning := context.WithCancel(ctx)
	defer stopSigning()
	s := newSigner(r.secret, r.target, r.payloads)
	go s.run(signCtx)

	main = runLoad(ctx, loadConfig{
		Target:         r.target,
		Connections:    r.options.Connections,
		Warmup:         r.options.Warmup,
		Duration:       r.options.Duration,
		MaxRequests:    r.options.MaxRequests,
		RequestTimeout: requestTimeout,
	}, s, r.mix, hooks)
	afterMain()
	if r.options.SingleDuration == 0 {
		return main, nil
	}
	result := runLoad(ctx, loadConfig{
		Target:         r.target,
		Connections:    1,
		Warmup:         singleWarmup,
		Duration:       r.options.SingleDuration,
		MaxRequests:    r.options.MaxRequests,
		RequestTimeout: requestTimeout,
	}, s, r.mix, windowHooks{begin: func() {}, end: func() {}})
	return main, &result
}

// runBench measures every run and returns the report with medians,
// targets and problems filled in.
func runBench(ctx context.Context, opts options, progress io.Writer) (*benchReport, error) {
	payloads, err := loadPayloads()
	if err != nil {
		return nil, err
	}
	mix, err := buildMix(payloads)
	if err != nil {
		return nil, err
	}
	report := &benchReport{
		Settings: settingsReport{
			Connections:           opts.Connections,
			DurationSeconds:       opts.Duration.Seconds(),
			WarmupSeconds:         opts.Warmup.Seconds(),
			SingleDurationSeconds: opts.SingleDuration.Seconds(),
			Runs:                  opts.Runs,
			Mode:                  "embedded",
			Pinning:               "off",
		},
		Machine: machineReport{
			CPUs:                runtime.NumCPU(),
			CPUModel:            cpuModel(),
			LoadAverageBefore:   readLoadAverage(),
			GoVersion:           runtime.Version(),
			ClockTicksPerSecond: clockTicksPerSecond,
		},
		Mix:      describeMix(payloads, mix),
		Problems: []string{},
	}
	fmt.Fprintf(progress, "mix: %s\n", report.Mix)

	if opts.URL != "" {
		report.Settings.Mode = "external gateway at " + opts.URL
		err = runExternal(ctx, opts, loadRun{options: opts, payloads: payloads, mix: mix, secret: opts.Secret}, report, progress)
	} else {
		err = runEmbedded(ctx, opts, loadRun{options: opts, payloads: payloads, mix: mix}, report, progress)
	}
	if err != nil {
		return nil, err
	}
	report.Machine.LoadAverageAfter = readLoadAverage()
	report.Median = medianRun(report.Runs)
	report.Targets = checkTargets(report.Median, opts.Connections)
	return report, nil
}

// runExternal measures the gateway at --url, whose process the tool does
// not know, so no /proc figure of it is reported.
func runExternal(ctx context.Context, opts options, run loadRun, report *benchReport, progress io.Writer) error {
	to, err := parseTarget(ctx, opts.URL, systemLookup)
	if err != nil {
		return err
	}
	run.target = to
	for i := 1; i <= opts.Runs; i++ {
		fmt.Fprintf(progress, "run %d/%d: %s\n", i, opts.Runs, opts.URL)
		cpu := newCPUWindow(os.Getpid())
		main, single := run.measure(ctx, cpu.hooks(), func() {})
		if err := ctx.Err(); err != nil {
			return err
		}
		variant := newVariantReport(variantTarget, main, cpu.used[0], cpu.others())
		if single != nil {
			variant.Single = newSingleReport(*single)
		}
		report.Problems = append(report.Problems, responseProblems(i, variant)...)
		report.Runs = append(report.Runs, runReport{Variants: []variantReport{variant}})
	}
	return nil
}

// embedded contains the processes and files shared by every variant of an
// embedded invocation.
type embedded struct {
	options  options
	run      loadRun
	logDir   string
	binary   string
	broker   *process
	cpus     cpuLayout
	progress io.Writer
}

// runEmbedded starts the broker once, then measures each variant in a
// process of its own, run after run.
func runEmbedded(ctx context.Context, opts options, run loadRun, report *benchReport, progress io.Writer) error {
	e := &embedded{options: opts, progress: progress}
	signingSecret, err := randomSecret()
	if err != nil {
		return err
	}
	run.secret = signingSecret
	e.run = run
	if e.cpus, err = planCPUs(opts.Pin); err != nil {
		return err
	}
	report.Settings.Pinning = e.cpus.describe()

	if e.logDir, err = os.MkdirTemp("", "squarebot-bench-"); err != nil {
		return err
	}
	if opts.KeepLogs {
		fmt.Fprintf(progress, "logs are kept in %s\n", e.logDir)
	} else {
		defer os.RemoveAll(e.logDir)
	}
	if report.Settings.SquarebotSource, err = e.prepareBinary(ctx); err != nil {
		return err
	}

	brokerArgs := []string{"-blackhole=" + strconv.FormatBool(opts.Blackhole)}
	e.broker, err = startChild(ctx, childBroker, brokerArgs, nil, filepath.Join(e.logDir, "broker.log"), e.cpus.others)
	if err != nil {
		return err
	}
	defer e.broker.stop()
	if len(e.broker.addrs) != 2 {
		return fmt.Errorf("broker ready line has %d addresses, want the Kafka address and the registry URL", len(e.broker.addrs))
	}
	fmt.Fprintf(progress, "broker: pid %d, Kafka %s, registry %s\n", e.broker.PID(), e.broker.addrs[0], e.broker.addrs[1])

	for i := 1; i <= opts.Runs; i++ {
		var current runReport
		for _, name := range opts.Variants {
			variant, problems, err := e.measureVariant(ctx, i, name)
			if err != nil {
				return fmt.Errorf("run %d, %s: %w", i, name, err)
			}
			current.Variants = append(current.Variants, variant)
			report.Problems = append(report.Problems, problems...)
		}
		current.Ratios = current.computeRatios()
		report.Runs = append(report.Runs, current)
	}
	return e.describeBroker(report)
}

// prepareBinary builds squarebot once, unless --squarebot-bin names a
// binary or squarebot is not measured, and returns where the binary comes
// from.
func (e *embedded) prepareBinary(ctx context.Context) (string, error) {
	if e.options.SquarebotBinary != "" {
		e.binary = e.options.SquarebotBinary
		return "binary " + e.binary + " given with --squarebot-bin", nil
	}
	if !slices.Contains(e.options.Variants, variantSquarebot) {
		return "not measured", nil
	}
	root, err := moduleRoot(ctx)
	if err != nil {
		return "", err
	}
	source := describeSource(ctx, root)
	fmt.Fprintf(e.progress, "building ./cmd/squarebot from %s\n", source)
	e.binary, err = buildSquarebot(ctx, root, e.logDir, e.progress)
	return source, err
}

// describeBroker records the broker's figures and checks its log.
func (e *embedded) describeBroker(report *benchReport) error {
	memory, err := readMemory(e.broker.PID())
	if err != nil {
		return fmt.Errorf("reading the broker's memory: %w", err)
	}
	report.Broker = &brokerReport{
		PID:        e.broker.PID(),
		Blackhole:  e.options.Blackhole,
		PeakRSSMiB: float64(memory.PeakRSS) / mebibyte,
	}
	if e.broker.exited() {
		report.Problems = append(report.Problems, "the broker process exited during the runs")
	}
	if summary, err := summarizeLog(e.broker.logPath); err == nil {
		report.Broker.Log = summary
		if summary.Total() > 0 {
			report.Problems = append(report.Problems, logProblem("broker", 0, summary))
		}
	}
	return nil
}

// startVariant starts the named gateway and returns it with its URL.
func (e *embedded) startVariant(ctx context.Context, name, logPath string) (*process, string, error) {
	switch name {
	case variantSquarebot:
		return startSquarebot(ctx, squarebotSettings{
			Binary:        e.binary,
			SigningSecret: e.run.secret.Reveal(),
			KafkaAddr:     e.broker.addrs[0],
			RegistryURL:   e.broker.addrs[1],
			LogPath:       logPath,
			CPUs:          e.cpus.gateway,
		})
	case variantObvious:
		args := []string{"-kafka", e.broker.addrs[0], "-registry", e.broker.addrs[1]}
		env := []string{secretEnv + "=" + e.run.secret.Reveal()}
		p, err := startChild(ctx, childObvious, args, env, logPath, e.cpus.gateway)
		if err != nil {
			return nil, "", err
		}
		return p, "http://" + p.addrs[0], nil
	case variantCeiling:
		p, err := startChild(ctx, childCeiling, nil, nil, logPath, e.cpus.gateway)
		if err != nil {
			return nil, "", err
		}
		return p, "http://" + p.addrs[0], nil
	default:
		return nil, "", fmt.Errorf("unknown variant %q", name)
	}
}

// measureVariant starts one variant, measures it under load and at one
// connection, stops it and returns its report and the problems seen.
func (e *embedded) measureVariant(ctx context.Context, runNumber int, name string) (variantReport, []string, error) {
	fmt.Fprintf(e.progress, "run %d/%d: %s: starting\n", runNumber, e.options.Runs, name)
	logPath := filepath.Join(e.logDir, fmt.Sprintf("%s-run%d.log", name, runNumber))
	gateway, gatewayURL, err := e.startVariant(ctx, name, logPath)
	if err != nil {
		return variantReport{}, nil, err
	}
	defer gateway.stop()
	idle, err := readMemory(gateway.PID())
	if err != nil {
		return variantReport{}, nil, fmt.Errorf("reading idle memory: %w", err)
	}
	run := e.run
	if run.target, err = parseTarget(ctx, gatewayURL, systemLookup); err != nil {
		return variantReport{}, nil, err
	}

	cpu := newCPUWindow(gateway.PID(), e.broker.PID(), os.Getpid())
	var peak processMemory
	main, single := run.measure(ctx, cpu.hooks(), func() { peak, _ = readMemory(gateway.PID()) })
	if err := ctx.Err(); err != nil {
		return variantReport{}, nil, err
	}
	if cpu.err != nil && !gateway.exited() {
		return variantReport{}, nil, cpu.err
	}
	crashed := gateway.exited()
	var duplicates float64
	if gateway.adminURL != "" && !crashed {
		duplicates, _ = scrapeCounter(gateway.adminURL+"/metrics", duplicateEventsMetric)
	}
	exitCode := gateway.stop()

	variant := newVariantReport(name, main, cpu.used[2], cpu.others())
	if single != nil {
		variant.Single = newSingleReport(*single)
	}
	variant.Process = &processReport{
		CPUSeconds:          cpu.used[0].Seconds(),
		CPUMicrosPerRequest: ratio(float64(cpu.used[0].Microseconds()), float64(main.Requests)),
		PeakRSSMiB:          float64(peak.PeakRSS) / mebibyte,
		IdleRSSMiB:          float64(idle.RSS) / mebibyte,
		BrokerCPUSeconds:    cpu.used[1].Seconds(),
		StartToReadyMs:      milliseconds(gateway.startToReady),
		ExitCode:            &exitCode,
	}
	problems := responseProblems(runNumber, variant)
	problems = append(problems, processProblems(runNumber, name, crashed, exitCode, duplicates)...)
	if summary, err := summarizeLog(logPath); err == nil {
		variant.Process.Log = &summary
		if summary.Total() > 0 {
			problems = append(problems, logProblem(name, runNumber, summary))
		}
	}
	fmt.Fprintf(e.progress, "run %d/%d: %s: %.0f req/s, p99 %.2f ms, %g non-200, %g errors\n",
		runNumber, e.options.Runs, name, variant.RequestsPerSecond, variant.P99Ms, variant.Non200, variant.Errors)
	return variant, problems, nil
}

// responseProblems lists non-200 responses and requests without a response.
func responseProblems(runNumber int, v variantReport) []string {
	var problems []string
	if v.Non200 > 0 {
		problems = append(problems, fmt.Sprintf("run %d %s: %g non-200 responses under load (%s)", runNumber, v.Name, v.Non200, statusSummary(v.StatusCounts)))
	}
	if v.Errors > 0 {
		problems = append(problems, fmt.Sprintf("run %d %s: %g requests without a response under load (%s)", runNumber, v.Name, v.Errors, classSummary(v.ErrorClasses)))
	}
	if s := v.Single; s != nil && s.Non200+s.Errors > 0 {
		problems = append(problems, fmt.Sprintf("run %d %s: %g non-200 responses and %g errors at 1 connection", runNumber, v.Name, s.Non200, s.Errors))
	}
	return problems
}

// processProblems lists a crash, an unclean exit and events that the
// gateway did not publish because it took them for duplicates.
func processProblems(runNumber int, name string, crashed bool, exitCode int, duplicates float64) []string {
	var problems []string
	if duplicates > 0 {
		problems = append(problems, fmt.Sprintf("run %d %s: %g events were treated as duplicates and not published, so the figures do not measure the whole pipeline", runNumber, name, duplicates))
	}
	if crashed {
		problems = append(problems, fmt.Sprintf("run %d %s: the process exited during the load with code %d", runNumber, name, exitCode))
	} else if exitCode != 0 {
		problems = append(problems, fmt.Sprintf("run %d %s: exit code %d after SIGTERM, want 0", runNumber, name, exitCode))
	}
	return problems
}

// logProblem describes the log lines worth reading. A runNumber of 0
// means the log covers every run.
func logProblem(name string, runNumber int, summary logSummary) string {
	where := name + " log"
	if runNumber > 0 {
		where = fmt.Sprintf("run %d %s log", runNumber, name)
	}
	return fmt.Sprintf("%s: %d WARN, %d ERROR and %d other lines, such as %q", where, summary.Warnings, summary.Errors, summary.Other, summary.Samples)
}

// randomSecret returns 32 random hexadecimal digits, the shape of a Slack
// signing secret.
func randomSecret() (secret.Value, error) {
	var bytes [16]byte
	if _, err := rand.Read(bytes[:]); err != nil {
		return "", fmt.Errorf("generating a signing secret: %w", err)
	}
	return secret.Value(hex.EncodeToString(bytes[:])), nil
}
