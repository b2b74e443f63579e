package main

import "testing"

func sampleMedian() runReport {
	run := runReport{Variants: []variantReport{
		{Name: variantCeiling, RequestsPerSecond: 10000, P99Ms: 4},
		{Name: variantObvious, RequestsPerSecond: 3000, P99Ms: 30},
		{
			Name: variantSquarebot, RequestsPerSecond: 5000, P99Ms: 12,
			Process: &processReport{PeakRSSMiB: 50, IdleRSSMiB: 45, StartToReadyMs: 300},
			Single:  &singleReport{P50Ms: 0.5},
		},
	}}
	run.Ratios = run.computeRatios()
	return run
}

func TestCheckTargets(t *testing.T) {
	checks := checkTargets(sampleMedian(), 64)

	want := []string{verdictPass, verdictPass, verdictFail, verdictPass, verdictPass, verdictFail, verdictPass}
	if len(checks) != len(want) {
		t.Fatalf("got %d checks, want %d", len(checks), len(want))
	}
	for i, check := range checks {
		if check.Verdict != want[i] {
			t.Errorf("%s: verdict %s (measured %s), want %s", check.Target, check.Verdict, check.Measured, want[i])
		}
	}
}

func TestCheckTargetsOtherConnectionCount(t *testing.T) {
	checks := checkTargets(sampleMedian(), 16)

	if checks[2].Verdict != verdictNotApplicable {
		t.Errorf("p99 target at 16 connections: verdict %s, want n/a", checks[2].Verdict)
	}
}

func TestComputeRatios(t *testing.T) {
	ratios := sampleMedian().Ratios

	if ratios.ThroughputOverCeiling != 0.5 || ratios.ThroughputOverObvious != 5000.0/3000 {
		t.Errorf("throughput ratios = %g and %g, want 0.5 and %g", ratios.ThroughputOverCeiling, ratios.ThroughputOverObvious, 5000.0/3000)
	}
	if ratios.P99OverCeiling != 3 || ratios.P99OverObvious != 0.4 {
		t.Errorf("p99 ratios = %g and %g, want 3 and 0.4", ratios.P99OverCeiling, ratios.P99OverObvious)
	}
}

func TestMedianRun(t *testing.T) {
	runs := []runReport{sampleMedian(), sampleMedian(), sampleMedian()}
	runs[0].Variants[2].RequestsPerSecond = 4000
	runs[1].Variants[2].RequestsPerSecond = 7000
	for i := range runs {
		runs[i].Ratios = runs[i].computeRatios()
	}

	got := medianRun(runs)

	if v := got.variant(variantSquarebot); v.RequestsPerSecond != 5000 {
		t.Errorf("median squarebot req/s = %g, want 5000", v.RequestsPerSecond)
	}
	if got.Ratios.ThroughputOverCeiling != 0.5 {
		t.Errorf("median throughput ratio = %g, want 0.5", got.Ratios.ThroughputOverCeiling)
	}
}
