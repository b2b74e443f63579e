package main

import (
	"math"
	"slices"
	"time"
)

// latencySummary contains the percentiles of one measured window.
type latencySummary struct {
	P50 time.Duration
	P90 time.Duration
	P99 time.Duration
	Max time.Duration
}

// summarizeLatencies sorts samples in place and returns their percentiles.
// Every request of the window is a sample, so no histogram rounding
// applies. An empty slice gives zeros.
func summarizeLatencies(samples []time.Duration) latencySummary {
	slices.Sort(samples)
	return latencySummary{
		P50: percentile(samples, 50),
		P90: percentile(samples, 90),
		P99: percentile(samples, 99),
		Max: percentile(samples, 100),
	}
}

// percentile returns the nearest-rank percentile p (0 < p <= 100) of
// sorted: the smallest sample such that at least p % of the samples are
// less than or equal to it. It returns 0 for an empty slice.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(math.Ceil(p / 100 * float64(len(sorted))))
	rank = min(max(rank, 1), len(sorted))
	return sorted[rank-1]
}

// median returns the median of values: the middle value for an odd count
// and the mean of the two middle values for an even count. It returns 0
// for an empty slice and does not change values.
func median(values []float64) float64 {
	if len(values) == 0 {
		return 0
	}
	sorted := slices.Clone(values)
	slices.Sort(sorted)
	middle := len(sorted) / 2
	if len(sorted)%2 == 1 {
		return sorted[middle]
	}
	return (sorted[middle-1] + sorted[middle]) / 2
}

// medianOf returns the median of figure over items.
func medianOf[T any](items []T, figure func(T) float64) float64 {
	values := make([]float64, len(items))
	for i, item := range items {
		values[i] = figure(item)
	}
	return median(values)
}

// milliseconds converts d to fractional milliseconds.
func milliseconds(d time.Duration) float64 {
	return float64(d) / float64(time.Millisecond)
}
