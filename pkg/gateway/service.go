package gateway

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/pprof"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/lsst-sqre/squarebot/pkg/kafka"
	"github.com/lsst-sqre/squarebot/pkg/route"
	"github.com/lsst-sqre/squarebot/pkg/schema"
	"github.com/lsst-sqre/squarebot/pkg/slack"
)

// Service is a running Squarebot gateway: the public and admin listeners,
// the Kafka producer and the schema catalog.
type Service struct {
	config   Config
	logger   *slog.Logger
	registry *prometheus.Registry
	metrics  *metrics
	handler  *handler

	public      *http.Server
	admin       *http.Server
	publicLn    net.Listener
	adminLn     net.Listener
	producer    atomic.Pointer[kafka.Producer]
	ready       atomic.Bool
	stopping    atomic.Bool
	pipelineSet atomic.Pointer[pipeline]
}

// pipeline contains the catalog and publisher that handlers use once start-up is done.
type pipeline struct {
	catalog   schema.Catalog
	publisher Publisher
}

// New validates config, binds both listeners and returns a Service that is
// not yet serving. Start serving with Run.
func New(config Config, logger *slog.Logger) (*Service, error) {
	if config.Kafka.MessageMaxBytes == 0 {
		config.Kafka.MessageMaxBytes = LargestRecord(config.HTTP.MaxBodyBytes)
	}
	config.Kafka.Defaults()
	if err := config.Validate(); err != nil {
		return nil, fmt.Errorf("invalid configuration:\n%w", err)
	}
	verifier, err := slack.NewVerifier(config.SigningSecrets)
	if err != nil {
		return nil, err
	}

	s := &Service{config: config, logger: logger, registry: prometheus.NewRegistry()}
	s.registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	s.metrics = newMetrics(s.registry)
	s.metrics.prepare(config.Topics.Names(), []string{"event", "interaction"})
	s.handler = &handler{
		verifier:     verifier,
		router:       route.NewRouter(config.Topics),
		logger:       logger,
		metrics:      s.metrics,
		maxBodyBytes: config.HTTP.MaxBodyBytes,
		ackTimeout:   config.AckTimeout,
		pipeline:     &s.pipelineSet,
	}
	if config.DedupWindow > 0 {
		s.handler.delivered = newDeliveredEvents(config.DedupWindow, config.DedupMaxEvents)
	}

	stats := newKafkaStats(s.registry)
	producer, err := kafka.NewProducer(config.Kafka, logger.With("component", "kafka"), kafka.WithStatsHandler(stats.observe))
	if err != nil {
		return nil, err
	}
	s.producer.Store(producer)

	if s.publicLn, err = net.Listen("tcp", config.HTTP.Addr); err != nil {
		producer.Close()
		return nil, fmt.Errorf("listening on http.addr %s: %w", config.HTTP.Addr, err)
	}
	if s.adminLn, err = net.Listen("tcp", config.Admin.Addr); err != nil {
		producer.Close()
		s.publicLn.Close()
		return nil, fmt.Errorf("listening on admin.addr %s: %w", config.Admin.Addr, err)
	}
	echoServer := newEcho(s.handler, config.HTTP.PathPrefix, newInFlightLimit(config.HTTP.MaxInFlight, s.metrics, logger))
	s.public = &http.Server{
		Handler:           echoServer,
		ReadHeaderTimeout: config.HTTP.ReadHeaderTimeout,
		ReadTimeout:       config.HTTP.ReadTimeout,
		WriteTimeout:      config.HTTP.WriteTimeout,
		IdleTimeout:       config.HTTP.IdleTimeout,
		MaxHeaderBytes:    config.HTTP.MaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelDebug),
	}
	s.admin = &http.Server{
		Handler:           s.adminHandler(),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       120 * time.Second,
	}
	return s, nil
}

// PublicAddr returns the address the Slack endpoints listen on.
func (s *Service) PublicAddr() string { return s.publicLn.Addr().String() }

// AdminAddr returns the address of the admin listener.
func (s *Service) AdminAddr() string { return s.adminLn.Addr().String() }

// Ready reports whether the schemas are registered, a broker responded
// and no shutdown or fatal producer error has happened.
func (s *Service) Ready() bool {
	if !s.ready.Load() || s.stopping.Load() {
		return false
	}
	producer := s.producer.Load()
	return producer == nil || producer.Fatal() == nil
}

// Run serves until ctx ends, then shuts down in order: readiness turns
// false, the public listener stops accepting and in-flight requests
// finish, the producer is flushed, and everything is closed, all within
// Config.ShutdownTimeout. Until start-up completes, Slack requests get
// 503. Run returns an error when a listener fails or start-up cannot
// succeed, such as when the registry rejects a schema.
func (s *Service) Run(ctx context.Context) error {
	serveErrors := make(chan error, 2)
	go func() { serveErrors <- serve(s.public, s.publicLn) }()
	go func() { serveErrors <- serve(s.admin, s.adminLn) }()
	s.logger.Info("listening", "http_addr", s.PublicAddr(), "admin_addr", s.AdminAddr(),
		"path_prefix", s.config.HTTP.PathPrefix)

	startCtx, cancelStart := context.WithCancel(ctx)
	defer cancelStart()
	startErrors := make(chan error, 1)
	go func() { startErrors <- s.start(startCtx) }()

	var runErr error
	started := false
	for waiting := true; waiting; {
		select {
		case <-ctx.Done():
			waiting = false
		case err := <-serveErrors:
			runErr, waiting = err, false
		case err := <-startErrors:
			// A finished start-up keeps the service running; a failed one
			// stops it, unless the failure is the stop signal itself.
			started = true
			if err != nil {
				if ctx.Err() == nil {
					runErr = err
				}
				waiting = false
			}
		}
	}
	cancelStart()
	// Start-up may be inside a registry or broker request; wait for it so
	// the producer is not closed under it, but not past the budget.
	if !started {
		select {
		case <-startErrors:
		case <-time.After(s.config.ShutdownTimeout):
			s.logger.Warn("start-up did not stop within the shutdown budget")
		}
	}
	return errors.Join(runErr, s.shutdown())
}

func serve(server *http.Server, listener net.Listener) error {
	if err := server.Serve(listener); !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serving on %s: %w", listener.Addr(), err)
	}
	return nil
}

// start registers the schemas and connects the producer, retrying with
// backoff while the registry or the brokers cannot be reached.
func (s *Service) start(ctx context.Context) error {
	producer := s.producer.Load()
	client, err := schema.NewClient(s.config.Registry.ClientConfig())
	if err != nil {
		return err
	}
	var catalog schema.Catalog
	err = retry(ctx, s.logger, "registering schemas", func() error {
		var err error
		catalog, err = schema.Register(ctx, client, s.config.Topics.Bindings(), s.config.Registry.Compatibility, s.config.Registry.RegisterSchemas)
		var registryErr *schema.RegistryError
		if errors.As(err, &registryErr) && registryErr.Permanent() {
			return permanent{err}
		}
		return err
	})
	if err != nil {
		return err
	}
	for _, binding := range s.config.Topics.Bindings() {
		codecs := catalog[binding.Topic]
		s.logger.Info("schemas ready", "topic", binding.Topic, "key_schema_id", codecs.Key.ID, "value_schema_id", codecs.Value.ID)
	}

	err = retry(ctx, s.logger, "connecting to Kafka", func() error {
		pingCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		return producer.Ping(pingCtx)
	})
	if err != nil {
		return err
	}
	s.pipelineSet.Store(&pipeline{catalog: catalog, publisher: producer})
	s.ready.Store(true)
	s.logger.Info("ready", "bootstrap_servers", s.config.Kafka.BootstrapServers, "registry_url", s.config.Registry.URL)
	return nil
}

// permanent marks an error that retrying cannot fix.
type permanent struct{ error }

func (p permanent) Unwrap() error { return p.error }

// retry calls attempt until it succeeds, returns a permanent error, or ctx
// ends, waiting from 250 ms up to 10 s (with jitter) between attempts.
func retry(ctx context.Context, logger *slog.Logger, step string, attempt func() error) error {
	delay := 250 * time.Millisecond
	for tries := 1; ; tries++ {
		err := attempt()
		if err == nil {
			return nil
		}
		var stop permanent
		if errors.As(err, &stop) {
			return fmt.Errorf("%s: %w", step, stop.error)
		}
		wait := delay/2 + rand.N(delay/2+1)
		logger.Warn("start-up step failed; retrying", "step", step, "err", err, "attempt", tries, "retry_in", wait.String())
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s: %w", step, ctx.Err())
		case <-time.After(wait):
		}
		delay = min(delay*2, 10*time.Second)
	}
}

func (s *Service) shutdown() error {
	s.stopping.Store(true)
	s.logger.Info("shutting down", "budget", s.config.ShutdownTimeout.String())
	ctx, cancel := context.WithTimeoutCause(context.Background(), s.config.ShutdownTimeout,
		errors.New("shutdown budget spent"))
	defer cancel()

	var errs []error
	started := time.Now()
	if err := s.public.Shutdown(ctx); err != nil {
		errs = append(errs, fmt.Errorf("draining HTTP requests: %w", err))
	}
	s.logger.Info("listener closed and requests drained", "took", time.Since(started).String())
	if producer := s.producer.Load(); producer != nil {
		remaining := producer.Flush(ctx)
		if remaining > 0 {
			s.logger.Error("records still queued after the shutdown budget; they are lost", "records", remaining)
		}
		s.logger.Info("producer flushed", "records_left", remaining, "took", time.Since(started).String())
		producer.Close()
	}
	adminCtx, cancelAdmin := context.WithTimeout(context.Background(), time.Second)
	defer cancelAdmin()
	if err := s.admin.Shutdown(adminCtx); err != nil {
		errs = append(errs, fmt.Errorf("stopping admin listener: %w", err))
	}
	s.logger.Info("stopped")
	return errors.Join(errs...)
}

func (s *Service) adminHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if !s.Ready() {
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte("not ready\n"))
			return
		}
		_, _ = w.Write([]byte("ready\n"))
	})
	mux.Handle("GET /metrics", promhttp.HandlerFor(s.registry, promhttp.HandlerOpts{Registry: s.registry}))
	if s.config.Admin.Pprof {
		mux.HandleFunc("GET /debug/pprof/", pprof.Index)
		mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("GET /debug/pprof/symbol", pprof.Symbol)
		mux.HandleFunc("GET /debug/pprof/trace", pprof.Trace)
	}
	return mux
}
