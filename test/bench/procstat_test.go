package main

import (
	"testing"
	"time"
)

func TestParseCPUTime(t *testing.T) {
	tests := []struct {
		name string
		stat string
		want time.Duration
	}{
		{
			name: "plain command",
			stat: "27607 (cat) R 27604 27604 3175 0 -1 4194304 101 0 0 0 250 130 0 0 20 0 1 0 202174 3133440 406",
			want: 3800 * time.Millisecond,
		},
		{
			name: "command with spaces and parentheses",
			stat: "42 (a (b) c) S 1 42 42 0 -1 4194560 500 0 0 0 7 3 0 0 20 0 9 0 100 100 100",
			want: 100 * time.Millisecond,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseCPUTime(tt.stat)

			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("parseCPUTime = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestParseCPUTimeRejectsMalformed(t *testing.T) {
	for name, stat := range map[string]string{
		"no parenthesis":     "27607 cat R 1 2 3",
		"too few fields":     "27607 (cat) R 1 2 3",
		"utime not a number": "1 (x) R 1 1 1 0 -1 0 0 0 0 0 abc 1 0 0",
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := parseCPUTime(stat); err == nil {
				t.Error("parseCPUTime returned no error")
			}
		})
	}
}

const sampleStatus = `Name:	squarebot
Umask:	0022
State:	S (sleeping)
VmPeak:	 2028308 kB
VmSize:	 2028308 kB
VmHWM:	   65536 kB
VmRSS:	   30720 kB
RssAnon:	   20000 kB
Threads:	12
`

func TestParseMemory(t *testing.T) {
	got, err := parseMemory(sampleStatus)

	if err != nil {
		t.Fatal(err)
	}
	if got.RSS != 30*mebibyte {
		t.Errorf("RSS = %d, want %d", got.RSS, 30*mebibyte)
	}
	if got.PeakRSS != 64*mebibyte {
		t.Errorf("PeakRSS = %d, want %d", got.PeakRSS, 64*mebibyte)
	}
}

func TestParseMemoryZombie(t *testing.T) {
	_, err := parseMemory("Name:\tsquarebot\nState:\tZ (zombie)\n")

	if err == nil {
		t.Error("parseMemory returned no error for a status without VmRSS")
	}
}

func TestParseMemoryRejectsOtherUnit(t *testing.T) {
	_, err := parseMemory("VmHWM:\t 1 MB\nVmRSS:\t 1 MB\n")

	if err == nil {
		t.Error("parseMemory accepted a unit other than kB")
	}
}

func TestParseSystemBusy(t *testing.T) {
	stat := "cpu  111204 10 38859 250431 646 20 455 245 900 5\ncpu0 1 2 3 4 5 6 7 8 9 10\n"

	got, err := parseSystemBusy(stat)

	if err != nil {
		t.Fatal(err)
	}
	// user + nice + system + irq + softirq + steal, without idle, iowait
	// and the guest fields.
	want := time.Duration(111204+10+38859+20+455+245) * 10 * time.Millisecond
	if got != want {
		t.Errorf("parseSystemBusy = %s, want %s", got, want)
	}
}

func TestParseSystemBusyRejectsOtherFirstLine(t *testing.T) {
	_, err := parseSystemBusy("intr 1 2 3\n")

	if err == nil {
		t.Error("parseSystemBusy accepted a first line other than cpu")
	}
}
