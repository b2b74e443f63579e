// Command squarebot is the Slack-to-Kafka gateway: `squarebot serve` runs
// it in production, `squarebot dev` runs it with an in-process broker and
// schema registry, and `squarebot send` posts a signed Slack payload.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
)

// Build information, set with -ldflags "-X main.version=...".
var (
	version = "dev"
	commit  = "unknown"
	date    = "unknown"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run executes the command line and returns the process exit code: 0 on
// success, 1 when the command failed, 2 for a usage error.
func run(args []string, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	root := newRootCommand(stdout, stderr)
	root.SetArgs(args)
	if err := root.ExecuteContext(ctx); err != nil {
		fmt.Fprintln(stderr, "Error:", err)
		var usage usageError
		if errors.As(err, &usage) {
			return 2
		}
		return 1
	}
	return 0
}

// usageError marks a command-line mistake, which exits with status 2.
type usageError struct{ error }

func (u usageError) Unwrap() error { return u.error }

func newRootCommand(stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:           "squarebot",
		Short:         "Slack-to-Kafka gateway",
		Long:          "Squarebot verifies Slack's signed event and interaction requests, encodes each payload as an Avro record registered in a schema registry, and publishes it to Kafka.",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	root.AddCommand(
		newServeCommand(stderr),
		newDevCommand(stdout, stderr),
		newSendCommand(stdout),
		newSchemasCommand(stdout),
		newTailCommand(stdout, stderr),
		newVersionCommand(stdout),
	)
	return root
}

func newVersionCommand(stdout io.Writer) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version",
		Args:  cobra.NoArgs,
		Run: func(*cobra.Command, []string) {
			fmt.Fprintf(stdout, "squarebot %s (commit %s, built %s)\n", version, commit, date)
		},
	}
}

// newLogger builds the JSON or text logger of log.level and log.format.
func newLogger(w io.Writer, level, format string) (*slog.Logger, error) {
	var slogLevel slog.Level
	if err := slogLevel.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("log.level: %q is not debug, info, warn or error", level)
	}
	options := &slog.HandlerOptions{Level: slogLevel}
	switch strings.ToLower(format) {
	case "json":
		return slog.New(slog.NewJSONHandler(w, options)), nil
	case "text":
		return slog.New(slog.NewTextHandler(w, options)), nil
	default:
		return nil, fmt.Errorf("log.format: %q is not json or text", format)
	}
}
