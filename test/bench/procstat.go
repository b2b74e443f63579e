package main

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// clockTicksPerSecond is USER_HZ, the unit of utime and stime in
// /proc/PID/stat.
//
// NOTE: USER_HZ is 100 on x86 and arm64 Linux, where this tool runs. Other
// architectures may use another value, which would scale every CPU figure.
const clockTicksPerSecond = 100

// mebibyte is the size of one MiB in bytes.
const mebibyte = 1 << 20

// processMemory is a process's resident set size as /proc/PID/status
// reports it, in bytes.
type processMemory struct {
	// RSS is the current resident set size (VmRSS).
	RSS int64
	// PeakRSS is the largest resident set size since the process started
	// (VmHWM, the "high water mark").
	PeakRSS int64
}

// parseCPUTime returns utime+stime from the text of /proc/PID/stat. The
// second field, the command name, is in parentheses and may contain spaces
// and parentheses itself, so the fields are counted from the last ')'.
func parseCPUTime(stat string) (time.Duration, error) {
	end := strings.LastIndexByte(stat, ')')
	if end < 0 {
		return 0, errors.New("stat: no ')' after the command name")
	}
	// After the command name come state (field 3), ..., utime (field 14)
	// and stime (field 15), so utime is the 12th field from here.
	fields := strings.Fields(stat[end+1:])
	const utimeIndex, stimeIndex = 11, 12
	if len(fields) <= stimeIndex {
		return 0, fmt.Errorf("stat: %d fields after the command name, want at least %d", len(fields), stimeIndex+1)
	}
	utime, err := strconv.ParseInt(fields[utimeIndex], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("stat: invalid utime %q", fields[utimeIndex])
	}
	stime, err := strconv.ParseInt(fields[stimeIndex], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("stat: invalid stime %q", fields[stimeIndex])
	}
	return time.Duration(utime+stime) * time.Second / clockTicksPerSecond, nil
}

// parseMemory returns VmRSS and VmHWM from the text of /proc/PID/status,
// where both are given in kB (KiB).
func parseMemory(status string) (processMemory, error) {
	var memory processMemory
	found := 0
	scanner := bufio.NewScanner(strings.NewReader(status))
	for scanner.Scan() {
		name, value, ok := strings.Cut(scanner.Text(), ":")
		if !ok || (name != "VmRSS" && name != "VmHWM") {
			continue
		}
		kibibytes, err := parseKibibytes(value)
		if err != nil {
			return processMemory{}, fmt.Errorf("status: %s: %w", name, err)
		}
		if name == "VmRSS" {
			memory.RSS = kibibytes * 1024
		} else {
			memory.PeakRSS = kibibytes * 1024
		}
		found++
	}
	if found != 2 {
		return processMemory{}, errors.New("status: VmRSS or VmHWM missing (is the process a zombie?)")
	}
	return memory, nil
}

// parseKibibytes parses a value such as "   12345 kB".
func parseKibibytes(value string) (int64, error) {
	number, unit, _ := strings.Cut(strings.TrimSpace(value), " ")
	if unit != "kB" {
		return 0, fmt.Errorf("unit %q is not kB", unit)
	}
	return strconv.ParseInt(number, 10, 64)
}

// readCPUTime returns the user plus system CPU time that process pid and
// all its threads have used so far.
func readCPUTime(pid int) (time.Duration, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	return parseCPUTime(string(data))
}

// readMemory returns the current and peak resident set size of process pid.
func readMemory(pid int) (processMemory, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return processMemory{}, err
	}
	return parseMemory(string(data))
}

// parseSystemBusy returns the CPU time that all CPUs together spent outside
// the idle and iowait states, from the "cpu" line of /proc/stat.
func parseSystemBusy(stat string) (time.Duration, error) {
	line, _, _ := strings.Cut(stat, "\n")
	fields := strings.Fields(line)
	if len(fields) < 5 || fields[0] != "cpu" {
		return 0, errors.New("/proc/stat: first line is not the \"cpu\" total")
	}
	// The fields are user, nice, system, idle, iowait, irq, softirq,
	// steal, guest and guest_nice. Guest time is already part of user
	// time, so it is not added again.
	const idleIndex, iowaitIndex, guestIndex = 3, 4, 8
	var busy int64
	for i, field := range fields[1:] {
		if i == idleIndex || i == iowaitIndex || i >= guestIndex {
			continue
		}
		ticks, err := strconv.ParseInt(field, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("/proc/stat: invalid field %q", field)
		}
		busy += ticks
	}
	return time.Duration(busy) * time.Second / clockTicksPerSecond, nil
}

// readSystemBusy returns the busy CPU time of the whole machine since boot.
func readSystemBusy() (time.Duration, error) {
	data, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, err
	}
	return parseSystemBusy(string(data))
}

// readLoadAverage returns the first line of /proc/loadavg, such as
// "0.52 0.61 0.70 1/345 6789", or "unknown".
func readLoadAverage() string {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	return strings.TrimSpace(string(data))
}

// cpuModel returns the first "model name" of /proc/cpuinfo, or "unknown".
func cpuModel() string {
	data, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "unknown"
	}
	for line := range strings.Lines(string(data)) {
		name, value, ok := strings.Cut(line, ":")
		if ok && strings.TrimSpace(name) == "model name" {
			return strings.TrimSpace(value)
		}
	}
	return "unknown"
}
