package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
)

// maxLogSamples is how many distinct messages a logSummary keeps.
const maxLogSamples = 5

// logSummary counts the lines of a child's standard error that need a
// reader's attention.
type logSummary struct {
	// Warnings and Errors count JSON log lines (slog's format, as
	// squarebot writes) at level WARN and ERROR.
	Warnings int `json:"warnings"`
	Errors   int `json:"errors"`
	// Other counts lines that are neither JSON nor a librdkafka message,
	// such as a panic or a Go runtime error.
	Other int `json:"other_lines"`
	// Samples contains up to maxLogSamples distinct messages, each with its
	// level.
	Samples []string `json:"samples,omitempty"`
}

// Total returns the number of lines counted.
func (s logSummary) Total() int { return s.Warnings + s.Errors + s.Other }

// summarizeLog reads a child's log file and counts its warning, error and
// non-JSON lines. Info and debug lines are not counted.
func summarizeLog(path string) (logSummary, error) {
	file, err := os.Open(path)
	if err != nil {
		return logSummary{}, err
	}
	defer file.Close()
	var summary logSummary
	scanner := bufio.NewScanner(file)
	scanner.Buffer(make([]byte, 64*1024), 1024*1024)
	for scanner.Scan() {
		summary.add(scanner.Text())
	}
	return summary, scanner.Err()
}

// add counts one log line.
func (s *logSummary) add(line string) {
	line = strings.TrimSpace(line)
	if line == "" {
		return
	}
	if level, ok := librdkafkaLevel(line); ok {
		s.addLevel(level, truncate(line, 160))
		return
	}
	var entry struct {
		Level   string `json:"level"`
		Message string `json:"msg"`
	}
	if err := json.Unmarshal([]byte(line), &entry); err != nil || entry.Level == "" {
		s.Other++
		s.sample("line: " + truncate(line, 160))
		return
	}
	s.addLevel(entry.Level, entry.Message)
}

// addLevel counts a message at level WARN or ERROR and ignores the others.
func (s *logSummary) addLevel(level, message string) {
	switch level {
	case "WARN":
		s.Warnings++
	case "ERROR":
		s.Errors++
	default:
		return
	}
	s.sample(fmt.Sprintf("%s: %s", level, message))
}

// librdkafkaLevel returns the slog level name of a line that librdkafka
// logs to standard error, such as "%4|1718000000.123|FAIL|...": syslog
// severities 0 to 3 are ERROR, 4 is WARN, and 5 to 7 are INFO.
func librdkafkaLevel(line string) (string, bool) {
	if len(line) < 3 || line[0] != '%' || line[2] != '|' || line[1] < '0' || line[1] > '7' {
		return "", false
	}
	switch severity := line[1] - '0'; {
	case severity <= 3:
		return "ERROR", true
	case severity == 4:
		return "WARN", true
	default:
		return "INFO", true
	}
}

func (s *logSummary) sample(message string) {
	if len(s.Samples) < maxLogSamples && !slices.Contains(s.Samples, message) {
		s.Samples = append(s.Samples, message)
	}
}

func truncate(text string, length int) string {
	if len(text) <= length {
		return text
	}
	return text[:length] + "..."
}
