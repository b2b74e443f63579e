package devstack

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
)

// Default addresses of the dev stack, all on loopback.
const (
	DefaultKafkaAddr    = "127.0.0.1:9092"
	DefaultRegistryAddr = "127.0.0.1:8081"
)

// segmentBytes is the kfake partition segment size. kfake's default of
// 100 MiB made produce latency spike by hundreds of milliseconds under
// sustained load on a 2-core machine; 1 MiB segments keep it flat.
const segmentBytes = "1048576"

// maxMessageBytes is the largest batch the kfake broker accepts. kfake's
// default of about 1 MiB is below the gateway's largest record for its
// default body limit (gateway.LargestRecord), so 16 MiB leaves room for
// raised body limits too.
const maxMessageBytes = "16777216"

// Options configures Start. The zero value starts both parts on random
// loopback ports with no topics.
type Options struct {
	// KafkaAddr is the broker's host:port. Port 0 picks a free port.
	// Default "127.0.0.1:0".
	KafkaAddr string
	// RegistryAddr is the registry's host:port. Port 0 picks a free port.
	// Default "127.0.0.1:0".
	RegistryAddr string
	// Topics are created at start with Partitions partitions each.
	Topics []string
	// Partitions is the partition count of each topic. Default 3.
	Partitions int32
	// KafkaOptions are extra kfake options, such as kfake.EnableSASL() or
	// kfake.BlackholeProduce().
	KafkaOptions []kfake.Opt
}

// Stack is a running in-process Kafka broker and schema registry.
type Stack struct {
	// Kafka is the broker; tests can use its control hooks.
	Kafka *kfake.Cluster
	// Registry is the schema registry served at RegistryURL.
	Registry *Registry
	// KafkaAddr is the broker's bootstrap address, host:port.
	KafkaAddr string
	// RegistryURL is the registry's base URL, such as http://127.0.0.1:8081.
	RegistryURL string

	server *http.Server
}

// Start starts a single kfake broker and a registry. Close it when done.
func Start(options Options) (*Stack, error) {
	if options.KafkaAddr == "" {
		options.KafkaAddr = "127.0.0.1:0"
	}
	if options.RegistryAddr == "" {
		options.RegistryAddr = "127.0.0.1:0"
	}
	if options.Partitions == 0 {
		options.Partitions = 3
	}

	cluster, err := startKafka(options)
	if err != nil {
		return nil, err
	}
	listener, err := net.Listen("tcp", options.RegistryAddr)
	if err != nil {
		cluster.Close()
		return nil, fmt.Errorf("starting schema registry on %s: %w", options.RegistryAddr, err)
	}
	registry := NewRegistry()
	server := &http.Server{
		Handler:           registry,
		ReadHeaderTimeout: 5 * time.Second,
		IdleTimeout:       2 * time.Minute,
	}
	go func() { _ = server.Serve(listener) }()

	return &Stack{
		Kafka:       cluster,
		Registry:    registry,
		KafkaAddr:   cluster.ListenAddrs()[0],
		RegistryURL: "http://" + listener.Addr().String(),
		server:      server,
	}, nil
}

func startKafka(options Options) (*kfake.Cluster, error) {
	host, portText, err := net.SplitHostPort(options.KafkaAddr)
	if err != nil {
		return nil, fmt.Errorf("invalid Kafka address %q: %w", options.KafkaAddr, err)
	}
	port, err := strconv.Atoi(portText)
	if err != nil {
		return nil, fmt.Errorf("invalid Kafka port in %q", options.KafkaAddr)
	}
	listen := func(network, _ string) (net.Listener, error) {
		return net.Listen(network, net.JoinHostPort(host, strconv.Itoa(port)))
	}
	kafkaOptions := []kfake.Opt{
		kfake.Ports(port),
		kfake.ListenFn(listen),
		kfake.DefaultNumPartitions(int(options.Partitions)),
		kfake.BrokerConfigs(map[string]string{"log.segment.bytes": segmentBytes, "message.max.bytes": maxMessageBytes}),
	}
	if len(options.Topics) > 0 {
		kafkaOptions = append(kafkaOptions, kfake.SeedTopics(options.Partitions, options.Topics...))
	}
	kafkaOptions = append(kafkaOptions, options.KafkaOptions...)
	cluster, err := kfake.NewCluster(kafkaOptions...)
	if err != nil {
		return nil, fmt.Errorf("starting Kafka broker on %s: %w", options.KafkaAddr, err)
	}
	return cluster, nil
}

// Close stops the registry and the broker.
func (s *Stack) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := s.server.Shutdown(ctx)
	s.Kafka.Close()
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}
