package main

import (
	"testing"
	"time"
)

func TestPercentileNearestRank(t *testing.T) {
	samples := make([]time.Duration, 100)
	for i := range samples {
		samples[i] = time.Duration(i+1) * time.Millisecond
	}
	tests := []struct {
		p    float64
		want time.Duration
	}{
		{p: 50, want: 50 * time.Millisecond},
		{p: 90, want: 90 * time.Millisecond},
		{p: 99, want: 99 * time.Millisecond},
		{p: 99.9, want: 100 * time.Millisecond},
		{p: 100, want: 100 * time.Millisecond},
		{p: 0.1, want: time.Millisecond},
	}
	for _, tt := range tests {
		if got := percentile(samples, tt.p); got != tt.want {
			t.Errorf("percentile(%g) = %s, want %s", tt.p, got, tt.want)
		}
	}
}

func TestPercentileSmallSets(t *testing.T) {
	if got := percentile(nil, 50); got != 0 {
		t.Errorf("percentile of no samples = %s, want 0", got)
	}
	single := []time.Duration{7 * time.Millisecond}
	if got := percentile(single, 99); got != 7*time.Millisecond {
		t.Errorf("percentile of one sample = %s, want 7ms", got)
	}
	odd := []time.Duration{1, 2, 3}
	if got := percentile(odd, 50); got != 2 {
		t.Errorf("p50 of 1, 2, 3 = %d, want 2", got)
	}
}

func TestSummarizeLatenciesSorts(t *testing.T) {
	samples := []time.Duration{9, 3, 7, 1, 5, 2, 8, 4, 10, 6}

	got := summarizeLatencies(samples)

	want := latencySummary{P50: 5, P90: 9, P99: 10, Max: 10}
	if got != want {
		t.Errorf("summarizeLatencies = %+v, want %+v", got, want)
	}
}

func TestMedian(t *testing.T) {
	tests := []struct {
		name   string
		values []float64
		want   float64
	}{
		{name: "empty", values: nil, want: 0},
		{name: "odd count", values: []float64{3, 1, 2}, want: 2},
		{name: "even count", values: []float64{4, 1, 3, 2}, want: 2.5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := median(tt.values); got != tt.want {
				t.Errorf("median(%v) = %g, want %g", tt.values, got, tt.want)
			}
		})
	}
}

func TestMedianKeepsOrder(t *testing.T) {
	values := []float64{3, 1, 2}

	median(values)

	if values[0] != 3 || values[1] != 1 || values[2] != 2 {
		t.Errorf("median reordered its input to %v", values)
	}
}
