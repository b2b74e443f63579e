package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/spf13/cobra"

	"github.com/lsst-sqre/squarebot/pkg/consumer"
	"github.com/lsst-sqre/squarebot/pkg/kafka"
	"github.com/lsst-sqre/squarebot/pkg/schema"
)

// tailOptions are the flags of `squarebot tail`.
type tailOptions struct {
	configFile    string
	topics        []string
	fromBeginning bool
	max           int
	bootstrap     string
	registryURL   string
	noSlackJSON   bool
}

// tailLine is one printed record.
type tailLine struct {
	Topic     string            `json:"topic"`
	Partition int32             `json:"partition"`
	Offset    int64             `json:"offset"`
	Timestamp string            `json:"timestamp"`
	Key       any               `json:"key"`
	Value     any               `json:"value"`
	Headers   map[string]string `json:"headers"`
}

func newTailCommand(stdout, stderr io.Writer) *cobra.Command {
	var options tailOptions
	command := &cobra.Command{
		Use:   "tail",
		Short: "Print the records on Squarebot's topics as JSON lines",
		Long: "Consume Squarebot's topics and print each record as one JSON line (topic, partition, offset, " +
			"timestamp, key, value, headers), decoded with the writer schema from the registry, as a " +
			"backend consumer would see it. Kafka and registry settings come from --config and SQUAREBOT_* " +
			"variables as for serve. It joins a fresh consumer group and commits nothing.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runTail(cmd.Context(), options, stdout, stderr)
		},
	}
	flags := command.Flags()
	flags.StringVar(&options.configFile, "config", "", "YAML configuration file, as for serve")
	flags.StringSliceVar(&options.topics, "topic", nil, "topic to read; repeat for several (default: the six configured topics)")
	flags.BoolVar(&options.fromBeginning, "from-beginning", false, "start at the first record instead of the end")
	flags.IntVar(&options.max, "max", 0, "stop after this many records; 0 runs until interrupted")
	flags.StringVar(&options.bootstrap, "bootstrap-servers", "", "Kafka brokers (default: kafka.bootstrap_servers)")
	flags.StringVar(&options.registryURL, "registry-url", "", "schema registry base URL (default: registry.url)")
	flags.BoolVar(&options.noSlackJSON, "no-slack-json", false, "print slack_json, the original Slack JSON, as an empty string")
	return command
}

func runTail(ctx context.Context, options tailOptions, stdout, stderr io.Writer) error {
	v, err := newViper(options.configFile)
	if err != nil {
		return err
	}
	logger, err := newLogger(stderr, v.GetString("log.level"), v.GetString("log.format"))
	if err != nil {
		return err
	}
	config, err := loadConfig(v)
	if err != nil {
		return err
	}
	if options.bootstrap != "" {
		config.Kafka.BootstrapServers = options.bootstrap
	}
	if options.registryURL != "" {
		config.Registry.URL = options.registryURL
	}
	if config.Registry.URL == "" {
		return usageError{errors.New("registry.url is missing: pass --registry-url or set SQUAREBOT_REGISTRY_URL")}
	}
	topics := options.topics
	if len(topics) == 0 {
		topics = slices.Compact(slices.Sorted(slices.Values(config.Topics.Names())))
	}

	httpClient, err := schema.HTTPClient(config.Registry.ClientConfig())
	if err != nil {
		return err
	}
	decoderOptions := []consumer.Option{consumer.WithHTTPClient(httpClient)}
	if config.Registry.Username != "" {
		decoderOptions = append(decoderOptions, consumer.WithBasicAuth(config.Registry.Username, config.Registry.Password.Reveal()))
	}
	decoder, err := consumer.NewDecoder(config.Registry.URL, decoderOptions...)
	if err != nil {
		return err
	}
	tailer, err := kafka.NewTailer(config.Kafka, topics, options.fromBeginning, logger.With("component", "kafka"))
	if err != nil {
		return err
	}
	defer tailer.Close()

	encoder := json.NewEncoder(stdout)
	encoder.SetEscapeHTML(false)
	for printed := 0; options.max == 0 || printed < options.max; printed++ {
		record, err := tailer.Next(ctx)
		if errors.Is(err, context.Canceled) {
			return nil
		}
		if err != nil {
			return err
		}
		line, err := decodeTailLine(ctx, decoder, record, record.Topic == config.Topics.Interaction, options.noSlackJSON)
		if err != nil {
			return fmt.Errorf("%s partition %d offset %d: %w", record.Topic, record.Partition, record.Offset, err)
		}
		if err := encoder.Encode(line); err != nil {
			return err
		}
	}
	return nil
}

func decodeTailLine(ctx context.Context, decoder *consumer.Decoder, record *kafka.Record, interaction, noSlackJSON bool) (tailLine, error) {
	line := tailLine{
		Topic:     record.Topic,
		Partition: record.Partition,
		Offset:    record.Offset,
		Timestamp: record.Timestamp.UTC().Format("2006-01-02T15:04:05.000Z07:00"),
		Headers:   map[string]string{},
	}
	for _, header := range record.Headers {
		line.Headers[header.Key] = string(header.Value)
	}
	if interaction {
		key, value, err := decoder.DecodeInteraction(ctx, record.Key, record.Value)
		if err != nil {
			return line, err
		}
		if noSlackJSON {
			value.SlackJSON = ""
		}
		line.Key, line.Value = key, value
		return line, nil
	}
	key, value, err := decoder.DecodeMessage(ctx, record.Key, record.Value)
	if err != nil {
		return line, err
	}
	if noSlackJSON {
		value.SlackJSON = ""
	}
	line.Key, line.Value = key, value
	return line, nil
}
