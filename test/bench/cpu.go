package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"time"
)

// cpuWindow reads the CPU time of some processes, and the busy time of the
// whole machine, when the measured window opens and closes. A pid of 0 is
// skipped.
type cpuWindow struct {
	pids        []int
	start       []time.Duration
	used        []time.Duration
	systemStart time.Duration
	systemUsed  time.Duration
	err         error
}

func newCPUWindow(pids ...int) *cpuWindow {
	return &cpuWindow{pids: pids, start: make([]time.Duration, len(pids)), used: make([]time.Duration, len(pids))}
}

func (w *cpuWindow) hooks() windowHooks {
	return windowHooks{
		begin: func() { w.systemStart = w.read(w.start) },
		end: func() {
			w.systemUsed = w.read(w.used) - w.systemStart
			for i := range w.used {
				w.used[i] -= w.start[i]
			}
		},
	}
}

// read stores each process's CPU time in into and returns the machine's
// busy time.
func (w *cpuWindow) read(into []time.Duration) time.Duration {
	for i, pid := range w.pids {
		if pid == 0 {
			continue
		}
		used, err := readCPUTime(pid)
		if err != nil && w.err == nil {
			w.err = fmt.Errorf("reading CPU time of pid %d: %w", pid, err)
		}
		into[i] = used
	}
	busy, err := readSystemBusy()
	if err != nil && w.err == nil {
		w.err = fmt.Errorf("reading /proc/stat: %w", err)
	}
	return busy
}

// others returns the CPU time that every process not in pids used in the
// window: on a shared machine, the load that competed with the benchmark.
func (w *cpuWindow) others() time.Duration {
	rest := w.systemUsed
	for _, used := range w.used {
		rest -= used
	}
	return max(rest, 0)
}

// cpuLayout contains the taskset CPU lists of --pin. Empty lists mean no
// pinning.
type cpuLayout struct {
	// gateway is the CPU list of the variant under test.
	gateway string
	// others is the CPU list of the broker and the load generator.
	others string
}

// planCPUs returns the CPU layout: with pin, the gateway under test gets
// CPU 1 alone, and the broker and the load tool share CPU 0. It pins the
// load tool itself at once.
func planCPUs(pin bool) (cpuLayout, error) {
	if !pin {
		return cpuLayout{}, nil
	}
	if runtime.NumCPU() < 2 {
		return cpuLayout{}, errors.New("--pin needs at least 2 CPUs")
	}
	if _, err := exec.LookPath("taskset"); err != nil {
		return cpuLayout{}, errors.New("--pin needs taskset (util-linux), which is not installed")
	}
	layout := cpuLayout{gateway: "1", others: "0"}
	// -a applies to every thread of the load tool, and threads started later
	// inherit the mask.
	output, err := exec.Command("taskset", "-a", "-p", "-c", layout.others, strconv.Itoa(os.Getpid())).CombinedOutput()
	if err != nil {
		return cpuLayout{}, fmt.Errorf("pinning the load tool: %v: %s", err, output)
	}
	return layout, nil
}

func (c cpuLayout) describe() string {
	if c.gateway == "" {
		return "off"
	}
	return fmt.Sprintf("gateway on CPU %s; broker and load generator on CPU %s", c.gateway, c.others)
}
