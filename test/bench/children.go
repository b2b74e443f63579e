package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/lsst-sqre/squarebot/pkg/devstack"
	"github.com/lsst-sqre/squarebot/pkg/route"
)

// childCommand is the hidden first argument that makes the bench binary
// run one of its child processes instead of the load tool:
//
//	bench __child broker [-blackhole]
//	bench __child ceiling
//	bench __child obvious -kafka ADDR -registry URL
//
// A child listens on free loopback ports, prints "ready" and its addresses
// as one line on standard output, and runs until SIGTERM, SIGINT or the end
// of its standard input, which the parent holds open.
const childCommand = "__child"

// Child kinds.
const (
	childBroker  = "broker"
	childCeiling = "ceiling"
	childObvious = "obvious"
)

// secretEnv passes the signing secret to the obvious child, so that it does
// not show in the process list.
const secretEnv = "SQUAREBOT_BENCH_SIGNING_SECRET"

// runChild runs the child named by args[0] and returns its exit code.
func runChild(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, "bench: missing child kind after", childCommand)
		return 2
	}
	ctx, stop := childContext()
	defer stop()

	var err error
	switch kind := args[0]; kind {
	case childBroker:
		err = runBroker(ctx, args[1:], stdout)
	case childCeiling:
		err = runCeiling(ctx, stdout)
	case childObvious:
		err = runObvious(ctx, args[1:], stdout)
	default:
		err = fmt.Errorf("unknown child kind %q", kind)
	}
	if err != nil {
		fmt.Fprintf(stderr, "bench %s: %v\n", args[0], err)
		return 1
	}
	return 0
}

// childContext returns a context that ends on SIGTERM or SIGINT, or when
// standard input reaches its end because the parent exited.
func childContext() (context.Context, context.CancelFunc) {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	ctx, cancel := context.WithCancel(ctx)
	go func() {
		_, _ = io.Copy(io.Discard, os.Stdin)
		cancel()
	}()
	return ctx, func() { cancel(); stop() }
}

// runBroker runs the kfake broker and the schema registry of package
// devstack, with the six default topics, until ctx ends.
func runBroker(ctx context.Context, args []string, stdout io.Writer) error {
	flags := flag.NewFlagSet(childBroker, flag.ContinueOnError)
	blackhole := flags.Bool("blackhole", true, "acknowledge produced records without storing them")
	if err := flags.Parse(args); err != nil {
		return err
	}
	options := devstack.Options{Topics: route.DefaultTopics().Names()}
	if *blackhole {
		options.KafkaOptions = append(options.KafkaOptions, kfake.BlackholeProduce())
	}
	stack, err := devstack.Start(options)
	if err != nil {
		return err
	}
	defer stack.Close()

	fmt.Fprintf(stdout, "ready %s %s\n", stack.KafkaAddr, stack.RegistryURL)
	<-ctx.Done()
	return nil
}

// runCeiling serves a bare net/http server that reads each request body
// and responds 200 with no body: the fastest any gateway can respond over
// the same HTTP stack.
func runCeiling(ctx context.Context, stdout io.Writer) error {
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusOK)
	})
	return serveUntilDone(ctx, handler, stdout, nil)
}

// serveUntilDone serves handler on a free loopback port, prints the ready
// line, and shuts the server down when ctx ends. cleanup, if not nil, runs
// after the server has stopped.
func serveUntilDone(ctx context.Context, handler http.Handler, stdout io.Writer, cleanup func()) error {
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	server := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      10 * time.Second,
		IdleTimeout:       2 * time.Minute,
	}
	served := make(chan error, 1)
	go func() { served <- server.Serve(listener) }()
	fmt.Fprintf(stdout, "ready %s\n", listener.Addr())

	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err = server.Shutdown(shutdownCtx)
	if cleanup != nil {
		cleanup()
	}
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// parseReadyLine returns the addresses of a child's "ready ADDR..." line.
func parseReadyLine(line string) ([]string, error) {
	fields := strings.Fields(line)
	if len(fields) < 2 || fields[0] != "ready" {
		return nil, fmt.Errorf("unexpected first line %q, want \"ready\" and an address", line)
	}
	return fields[1:], nil
}
