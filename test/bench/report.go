package main

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// benchReport is everything one invocation measured. The table and the
// JSON output are two views of it.
type benchReport struct {
	Settings settingsReport `json:"settings"`
	Machine  machineReport  `json:"machine"`
	// Mix describes the request mix.
	Mix    string        `json:"mix"`
	Broker *brokerReport `json:"broker,omitempty"`
	Runs   []runReport   `json:"runs"`
	// Median contains the median of each figure and ratio over the runs.
	Median  runReport     `json:"median"`
	Targets []targetCheck `json:"targets"`
	// Problems lists what a reader should look at: non-200 responses,
	// requests without a response, crashes, unclean exits and log lines at
	// warning level or above.
	Problems []string `json:"problems"`
}

// settingsReport records the flags that shaped the load.
type settingsReport struct {
	Connections           int     `json:"connections"`
	DurationSeconds       float64 `json:"duration_seconds"`
	WarmupSeconds         float64 `json:"warmup_seconds"`
	SingleDurationSeconds float64 `json:"single_connection_duration_seconds"`
	Runs                  int     `json:"runs"`
	Mode                  string  `json:"mode"`
	// SquarebotSource names the commit squarebot was built from.
	SquarebotSource string `json:"squarebot_source,omitempty"`
	Pinning         string `json:"pinning"`
}

// machineReport describes the machine the figures come from.
type machineReport struct {
	CPUs                int    `json:"cpus"`
	CPUModel            string `json:"cpu_model"`
	LoadAverageBefore   string `json:"load_average_before"`
	LoadAverageAfter    string `json:"load_average_after"`
	GoVersion           string `json:"go_version"`
	ClockTicksPerSecond int    `json:"clock_ticks_per_second"`
}

// brokerReport describes the broker process that every variant shared.
type brokerReport struct {
	PID        int        `json:"pid"`
	Blackhole  bool       `json:"blackhole_produce"`
	PeakRSSMiB float64    `json:"peak_rss_mib"`
	Log        logSummary `json:"log"`
}

// runReport contains one run of every variant, or the medians of all runs.
type runReport struct {
	Variants []variantReport `json:"variants"`
	Ratios   *ratioReport    `json:"ratios,omitempty"`
}

// variantReport contains the figures of one variant. Counts are float64
// because a median of an even number of runs can fall between two counts.
type variantReport struct {
	Name              string         `json:"name"`
	Requests          float64        `json:"requests"`
	RequestsPerSecond float64        `json:"requests_per_second"`
	P50Ms             float64        `json:"p50_ms"`
	P90Ms             float64        `json:"p90_ms"`
	P99Ms             float64        `json:"p99_ms"`
	MaxMs             float64        `json:"max_ms"`
	Non200            float64        `json:"non_200"`
	Errors            float64        `json:"errors"`
	StatusCounts      map[string]int `json:"status_counts,omitempty"`
	ErrorClasses      map[string]int `json:"error_classes,omitempty"`
	// LoadGeneratorCPUSeconds is the load tool's own CPU time in the
	// measured window: the client's share of the machine.
	LoadGeneratorCPUSeconds float64 `json:"load_generator_cpu_seconds"`
	// OtherCPUSeconds is the CPU time of every process that the tool did
	// not start (and, with --url, of the gateway) in the measured window.
	// On a shared machine it is the load that competed with the benchmark.
	OtherCPUSeconds float64 `json:"other_processes_cpu_seconds"`
	// Process is nil when the tool did not start the gateway (--url).
	Process *processReport `json:"process,omitempty"`
	Single  *singleReport  `json:"single_connection,omitempty"`
}

// processReport contains the /proc figures of a gateway the tool started.
type processReport struct {
	CPUSeconds          float64 `json:"cpu_seconds"`
	CPUMicrosPerRequest float64 `json:"cpu_us_per_request"`
	PeakRSSMiB          float64 `json:"peak_rss_mib"`
	IdleRSSMiB          float64 `json:"idle_rss_mib"`
	// BrokerCPUSeconds is the shared broker's CPU time in this variant's
	// measured window.
	BrokerCPUSeconds float64 `json:"broker_cpu_seconds"`
	// StartToReadyMs is the time from process start to the first 200 of
	// /readyz (squarebot) or to the ready line (bench children).
	StartToReadyMs float64 `json:"start_to_ready_ms"`
	// ExitCode and Log are set per run only.
	ExitCode *int        `json:"exit_code,omitempty"`
	Log      *logSummary `json:"log,omitempty"`
}

// singleReport contains the figures of the single-connection run.
type singleReport struct {
	RequestsPerSecond float64 `json:"requests_per_second"`
	P50Ms             float64 `json:"p50_ms"`
	P99Ms             float64 `json:"p99_ms"`
	Non200            float64 `json:"non_200"`
	Errors            float64 `json:"errors"`
}

// ratioReport compares squarebot with the two baselines. A throughput
// ratio above 1 and a p99 ratio below 1 favour squarebot.
type ratioReport struct {
	ThroughputOverCeiling float64 `json:"throughput_squarebot_over_ceiling"`
	P99OverCeiling        float64 `json:"p99_squarebot_over_ceiling"`
	ThroughputOverObvious float64 `json:"throughput_squarebot_over_obvious"`
	P99OverObvious        float64 `json:"p99_squarebot_over_obvious"`
}

// newVariantReport turns a measured window into a report.
func newVariantReport(name string, result loadResult, loadGeneratorCPU, otherCPU time.Duration) variantReport {
	report := variantReport{
		Name:                    name,
		Requests:                float64(result.Requests),
		RequestsPerSecond:       result.RequestsPerSecond(),
		P50Ms:                   milliseconds(result.Latency.P50),
		P90Ms:                   milliseconds(result.Latency.P90),
		P99Ms:                   milliseconds(result.Latency.P99),
		MaxMs:                   milliseconds(result.Latency.Max),
		Non200:                  float64(result.Non200()),
		Errors:                  float64(result.ErrorCount()),
		StatusCounts:            map[string]int{},
		ErrorClasses:            result.Errors,
		LoadGeneratorCPUSeconds: loadGeneratorCPU.Seconds(),
		OtherCPUSeconds:         otherCPU.Seconds(),
	}
	for status, n := range result.Status {
		report.StatusCounts[strconv.Itoa(status)] = n
	}
	return report
}

// newSingleReport turns a single-connection window into a report.
func newSingleReport(result loadResult) *singleReport {
	return &singleReport{
		RequestsPerSecond: result.RequestsPerSecond(),
		P50Ms:             milliseconds(result.Latency.P50),
		P99Ms:             milliseconds(result.Latency.P99),
		Non200:            float64(result.Non200()),
		Errors:            float64(result.ErrorCount()),
	}
}

// variant returns the report of the named variant, or nil.
func (r runReport) variant(name string) *variantReport {
	for i := range r.Variants {
		if r.Variants[i].Name == name {
			return &r.Variants[i]
		}
	}
	return nil
}

// computeRatios returns squarebot's ratios to both baselines, or nil when
// one of the three variants was not measured.
func (r runReport) computeRatios() *ratioReport {
	squarebot, ceiling, obvious := r.variant(variantSquarebot), r.variant(variantCeiling), r.variant(variantObvious)
	if squarebot == nil || ceiling == nil || obvious == nil {
		return nil
	}
	return &ratioReport{
		ThroughputOverCeiling: ratio(squarebot.RequestsPerSecond, ceiling.RequestsPerSecond),
		P99OverCeiling:        ratio(squarebot.P99Ms, ceiling.P99Ms),
		ThroughputOverObvious: ratio(squarebot.RequestsPerSecond, obvious.RequestsPerSecond),
		P99OverObvious:        ratio(squarebot.P99Ms, obvious.P99Ms),
	}
}

func ratio(numerator, denominator float64) float64 {
	if denominator == 0 {
		return 0
	}
	return numerator / denominator
}

// medianRun returns the median of every figure and ratio over runs, with
// the variants in the order of the first run.
func medianRun(runs []runReport) runReport {
	if len(runs) == 0 {
		return runReport{}
	}
	var result runReport
	for _, first := range runs[0].Variants {
		var same []variantReport
		for _, run := range runs {
			if v := run.variant(first.Name); v != nil {
				same = append(same, *v)
			}
		}
		result.Variants = append(result.Variants, medianVariant(same))
	}
	if runs[0].Ratios != nil {
		result.Ratios = medianRatios(runs)
	}
	return result
}

func medianVariant(reports []variantReport) variantReport {
	m := variantReport{Name: reports[0].Name}
	m.Requests = medianOf(reports, func(v variantReport) float64 { return v.Requests })
	m.RequestsPerSecond = medianOf(reports, func(v variantReport) float64 { return v.RequestsPerSecond })
	m.P50Ms = medianOf(reports, func(v variantReport) float64 { return v.P50Ms })
	m.P90Ms = medianOf(reports, func(v variantReport) float64 { return v.P90Ms })
	m.P99Ms = medianOf(reports, func(v variantReport) float64 { return v.P99Ms })
	m.MaxMs = medianOf(reports, func(v variantReport) float64 { return v.MaxMs })
	m.Non200 = medianOf(reports, func(v variantReport) float64 { return v.Non200 })
	m.Errors = medianOf(reports, func(v variantReport) float64 { return v.Errors })
	m.LoadGeneratorCPUSeconds = medianOf(reports, func(v variantReport) float64 { return v.LoadGeneratorCPUSeconds })
	m.OtherCPUSeconds = medianOf(reports, func(v variantReport) float64 { return v.OtherCPUSeconds })
	if reports[0].Process != nil {
		m.Process = medianProcess(reports)
	}
	if reports[0].Single != nil {
		m.Single = medianSingle(reports)
	}
	return m
}

func medianProcess(reports []variantReport) *processReport {
	figure := func(get func(*processReport) float64) float64 {
		return medianOf(reports, func(v variantReport) float64 { return get(v.Process) })
	}
	return &processReport{
		CPUSeconds:          figure(func(p *processReport) float64 { return p.CPUSeconds }),
		CPUMicrosPerRequest: figure(func(p *processReport) float64 { return p.CPUMicrosPerRequest }),
		PeakRSSMiB:          figure(func(p *processReport) float64 { return p.PeakRSSMiB }),
		IdleRSSMiB:          figure(func(p *processReport) float64 { return p.IdleRSSMiB }),
		BrokerCPUSeconds:    figure(func(p *processReport) float64 { return p.BrokerCPUSeconds }),
		StartToReadyMs:      figure(func(p *processReport) float64 { return p.StartToReadyMs }),
	}
}

func medianSingle(reports []variantReport) *singleReport {
	figure := func(get func(*singleReport) float64) float64 {
		return medianOf(reports, func(v variantReport) float64 { return get(v.Single) })
	}
	return &singleReport{
		RequestsPerSecond: figure(func(s *singleReport) float64 { return s.RequestsPerSecond }),
		P50Ms:             figure(func(s *singleReport) float64 { return s.P50Ms }),
		P99Ms:             figure(func(s *singleReport) float64 { return s.P99Ms }),
		Non200:            figure(func(s *singleReport) float64 { return s.Non200 }),
		Errors:            figure(func(s *singleReport) float64 { return s.Errors }),
	}
}

func medianRatios(runs []runReport) *ratioReport {
	figure := func(get func(*ratioReport) float64) float64 {
		return medianOf(runs, func(r runReport) float64 { return get(r.Ratios) })
	}
	return &ratioReport{
		ThroughputOverCeiling: figure(func(r *ratioReport) float64 { return r.ThroughputOverCeiling }),
		P99OverCeiling:        figure(func(r *ratioReport) float64 { return r.P99OverCeiling }),
		ThroughputOverObvious: figure(func(r *ratioReport) float64 { return r.ThroughputOverObvious }),
		P99OverObvious:        figure(func(r *ratioReport) float64 { return r.P99OverObvious }),
	}
}

// writeJSON writes the report as indented JSON.
func writeJSON(w io.Writer, report *benchReport) error {
	encoder := json.NewEncoder(w)
	encoder.SetIndent("", "  ")
	return encoder.Encode(report)
}

// writeText writes the report as tables for a terminal or a Markdown code
// block.
func writeText(w io.Writer, report *benchReport) {
	writeHeader(w, report)
	for i, run := range report.Runs {
		fmt.Fprintf(w, "\nRun %d of %d\n", i+1, len(report.Runs))
		writeRun(w, run)
	}
	fmt.Fprintf(w, "\nMedian of %d run(s)\n", len(report.Runs))
	writeRun(w, report.Median)
	fmt.Fprintf(w, "\nTargets (median of %d run(s))\n", len(report.Runs))
	writeTargets(w, report.Targets)
	fmt.Fprintln(w, "\nProblems seen")
	if len(report.Problems) == 0 {
		fmt.Fprintln(w, "  none: every request got a 200 response, and no log of a child process reached WARN")
	}
	for _, problem := range report.Problems {
		fmt.Fprintln(w, "  -", problem)
	}
}

func writeHeader(w io.Writer, report *benchReport) {
	s, m := report.Settings, report.Machine
	fmt.Fprintln(w, "Squarebot load test")
	fmt.Fprintf(w, "  load:     %d keep-alive connections, one request in flight each; %gs measured after a %gs warm-up; then 1 connection for %gs; runs: %d\n",
		s.Connections, s.DurationSeconds, s.WarmupSeconds, s.SingleDurationSeconds, s.Runs)
	fmt.Fprintf(w, "  mix:      %s\n", report.Mix)
	fmt.Fprintf(w, "  machine:  %d CPUs, %s, %s; load average before %s, after %s\n",
		m.CPUs, m.CPUModel, m.GoVersion, m.LoadAverageBefore, m.LoadAverageAfter)
	fmt.Fprintf(w, "  mode:     %s; pinning: %s\n", s.Mode, s.Pinning)
	if s.SquarebotSource != "" {
		fmt.Fprintf(w, "  build:    squarebot from %s\n", s.SquarebotSource)
	}
	fmt.Fprintln(w, "  columns:  CPU s is the gateway's utime+stime in the measured window; broker CPU s the shared broker's;")
	fmt.Fprintln(w, "            load-gen CPU s this tool's; others CPU s every other process on the machine (a busy machine skews the figures)")
	if b := report.Broker; b != nil {
		blackhole := "off"
		if b.Blackhole {
			blackhole = "on"
		}
		fmt.Fprintf(w, "  broker:   one kfake broker and schema registry process (pid %d, blackhole produce %s, peak RSS %.1f MiB)\n", b.PID, blackhole, b.PeakRSSMiB)
		fmt.Fprintln(w, "            serves every variant of every run; \"broker CPU s\" is its CPU time in each variant's measured window,")
		fmt.Fprintln(w, "            and is not included in the variant's own \"CPU s\"")
	}
}

func writeRun(w io.Writer, run runReport) {
	table := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(table, "variant\treq/s\tp50 ms\tp90 ms\tp99 ms\tmax ms\tnon-200\terrors\tCPU s\tCPU µs/req\tpeak RSS MiB\tidle RSS MiB\tbroker CPU s\tload-gen CPU s\tothers CPU s")
	for _, v := range run.Variants {
		processCells := "-\t-\t-\t-\t-"
		if p := v.Process; p != nil {
			processCells = fmt.Sprintf("%.2f\t%.0f\t%.1f\t%.1f\t%.2f", p.CPUSeconds, p.CPUMicrosPerRequest, p.PeakRSSMiB, p.IdleRSSMiB, p.BrokerCPUSeconds)
		}
		fmt.Fprintf(table, "%s\t%.0f\t%.2f\t%.2f\t%.2f\t%.2f\t%g\t%g\t%s\t%.2f\t%.2f\n",
			v.Name, v.RequestsPerSecond, v.P50Ms, v.P90Ms, v.P99Ms, v.MaxMs, v.Non200, v.Errors, processCells, v.LoadGeneratorCPUSeconds, v.OtherCPUSeconds)
	}
	table.Flush()

	var statuses []string
	for _, v := range run.Variants {
		if len(v.StatusCounts) > 0 || len(v.ErrorClasses) > 0 {
			statuses = append(statuses, fmt.Sprintf("%s %s", v.Name, countSummary(v.StatusCounts, v.ErrorClasses)))
		}
	}
	if len(statuses) > 0 {
		fmt.Fprintf(w, "responses:      %s\n", strings.Join(statuses, "; "))
	}

	var singles []string
	for _, v := range run.Variants {
		if v.Single != nil {
			singles = append(singles, fmt.Sprintf("%s p50 %.2f ms, p99 %.2f ms, %.0f req/s", v.Name, v.Single.P50Ms, v.Single.P99Ms, v.Single.RequestsPerSecond))
		}
	}
	if len(singles) > 0 {
		fmt.Fprintf(w, "1 connection:   %s\n", strings.Join(singles, "; "))
	}
	var ready []string
	for _, v := range run.Variants {
		if v.Process == nil {
			continue
		}
		method := "ready line"
		if v.Name == variantSquarebot {
			method = "/readyz"
		}
		ready = append(ready, fmt.Sprintf("%s %.0f ms (%s)", v.Name, v.Process.StartToReadyMs, method))
	}
	if len(ready) > 0 {
		fmt.Fprintf(w, "start to ready: %s\n", strings.Join(ready, "; "))
	}
	if r := run.Ratios; r != nil {
		fmt.Fprintf(w, "ratios:         squarebot/ceiling throughput %.2f, p99 %.2f; squarebot/obvious throughput %.2f, p99 %.2f\n",
			r.ThroughputOverCeiling, r.P99OverCeiling, r.ThroughputOverObvious, r.P99OverObvious)
	}
}

func writeTargets(w io.Writer, targets []targetCheck) {
	table := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, t := range targets {
		fmt.Fprintf(table, "  %s\t%s\t%s\n", t.Verdict, t.Target, t.Measured)
	}
	table.Flush()
}

// statusSummary formats status counts other than 200, such as "503×12".
func statusSummary(counts map[string]int) string {
	others := map[string]int{}
	for status, n := range counts {
		if status != "200" {
			others[status] = n
		}
	}
	return formatCounts(others)
}

// classSummary formats error classes, such as "reset×1, timeout×3".
func classSummary(counts map[string]int) string {
	return formatCounts(counts)
}

// countSummary formats every status code and error class of a window,
// such as "200×84000, 503×12, timeout×3".
func countSummary(statuses, errorClasses map[string]int) string {
	all := map[string]int{}
	for status, n := range statuses {
		all[status] = n
	}
	for class, n := range errorClasses {
		all[class] = n
	}
	return formatCounts(all)
}

func formatCounts(counts map[string]int) string {
	parts := make([]string, 0, len(counts))
	for name, n := range counts {
		parts = append(parts, fmt.Sprintf("%s×%d", name, n))
	}
	slices.Sort(parts)
	return strings.Join(parts, ", ")
}
