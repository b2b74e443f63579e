package main

import "fmt"

// Targets that squarebot's figures are checked against.
const (
	targetOverObvious    = 1.6
	targetOverCeiling    = 0.45
	targetP99Ms          = 10.0
	targetP99Connections = 64
	targetSingleP50Ms    = 2.0
	targetPeakRSSMiB     = 64.0
	targetIdleRSSMiB     = 40.0
	targetStartToReadyMs = 1000.0
	verdictPass          = "PASS"
	verdictFail          = "FAIL"
	verdictNotApplicable = "n/a"
)

// targetCheck is one target with the measured figure and its verdict.
type targetCheck struct {
	Target   string `json:"target"`
	Measured string `json:"measured"`
	// Verdict is PASS, FAIL or n/a when the figure was not measured.
	Verdict string `json:"verdict"`
}

func verdict(pass bool) string {
	if pass {
		return verdictPass
	}
	return verdictFail
}

// checkTargets checks squarebot's median figures, or those of the --url
// gateway, against every target. connections is the -c of the main load.
func checkTargets(median runReport, connections int) []targetCheck {
	subject := median.variant(variantSquarebot)
	if subject == nil {
		subject = median.variant(variantTarget)
	}
	if subject == nil {
		return nil
	}
	return []targetCheck{
		checkOverObvious(median),
		checkOverCeiling(median),
		checkP99(subject, connections),
		checkSingleP50(subject),
		checkMemory(subject, fmt.Sprintf("peak RSS under load <= %.0f MiB", targetPeakRSSMiB), targetPeakRSSMiB,
			func(p *processReport) float64 { return p.PeakRSSMiB }),
		checkMemory(subject, fmt.Sprintf("idle RSS after start-up <= %.0f MiB", targetIdleRSSMiB), targetIdleRSSMiB,
			func(p *processReport) float64 { return p.IdleRSSMiB }),
		checkStartToReady(subject),
	}
}

func checkOverObvious(median runReport) targetCheck {
	check := targetCheck{Target: fmt.Sprintf("throughput >= %.1f x obvious", targetOverObvious), Verdict: verdictNotApplicable, Measured: "obvious or squarebot not measured"}
	if r := median.Ratios; r != nil {
		check.Measured = fmt.Sprintf("%.2f x (%.0f vs %.0f req/s)", r.ThroughputOverObvious,
			median.variant(variantSquarebot).RequestsPerSecond, median.variant(variantObvious).RequestsPerSecond)
		check.Verdict = verdict(r.ThroughputOverObvious >= targetOverObvious)
	}
	return check
}

func checkOverCeiling(median runReport) targetCheck {
	check := targetCheck{Target: fmt.Sprintf("throughput >= %.0f %% of ceiling", targetOverCeiling*100), Verdict: verdictNotApplicable, Measured: "ceiling or squarebot not measured"}
	if r := median.Ratios; r != nil {
		check.Measured = fmt.Sprintf("%.0f %% (%.0f vs %.0f req/s)", r.ThroughputOverCeiling*100,
			median.variant(variantSquarebot).RequestsPerSecond, median.variant(variantCeiling).RequestsPerSecond)
		check.Verdict = verdict(r.ThroughputOverCeiling >= targetOverCeiling)
	}
	return check
}

func checkP99(subject *variantReport, connections int) targetCheck {
	check := targetCheck{
		Target:   fmt.Sprintf("p99 <= %.0f ms at %d connections", targetP99Ms, targetP99Connections),
		Measured: fmt.Sprintf("%.2f ms at %d connections", subject.P99Ms, connections),
		Verdict:  verdict(subject.P99Ms <= targetP99Ms),
	}
	if connections != targetP99Connections {
		check.Verdict = verdictNotApplicable
	}
	return check
}

func checkSingleP50(subject *variantReport) targetCheck {
	check := targetCheck{Target: fmt.Sprintf("p50 <= %.0f ms at 1 connection", targetSingleP50Ms), Verdict: verdictNotApplicable, Measured: "single-connection run skipped"}
	if s := subject.Single; s != nil {
		check.Measured = fmt.Sprintf("%.2f ms", s.P50Ms)
		check.Verdict = verdict(s.P50Ms <= targetSingleP50Ms)
	}
	return check
}

func checkMemory(subject *variantReport, target string, limit float64, figure func(*processReport) float64) targetCheck {
	check := targetCheck{Target: target, Verdict: verdictNotApplicable, Measured: "process not started by the tool"}
	if p := subject.Process; p != nil {
		check.Measured = fmt.Sprintf("%.1f MiB", figure(p))
		check.Verdict = verdict(figure(p) <= limit)
	}
	return check
}

func checkStartToReady(subject *variantReport) targetCheck {
	check := targetCheck{Target: "start to /readyz <= 1 s", Verdict: verdictNotApplicable, Measured: "process not started by the tool"}
	if p := subject.Process; p != nil {
		check.Measured = fmt.Sprintf("%.0f ms", p.StartToReadyMs)
		check.Verdict = verdict(p.StartToReadyMs <= targetStartToReadyMs)
	}
	return check
}
