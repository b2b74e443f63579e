package main

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/lsst-sqre/squarebot/pkg/devstack"
	"github.com/lsst-sqre/squarebot/pkg/gateway"
)

// devOptions are the flags of `squarebot dev`.
type devOptions struct {
	configFile   string
	httpAddr     string
	adminAddr    string
	kafkaAddr    string
	registryAddr string
}

func newDevCommand(stdout, stderr io.Writer) *cobra.Command {
	var options devOptions
	command := &cobra.Command{
		Use:   "dev",
		Short: "Run the gateway with an in-process Kafka broker and schema registry",
		Long: "Run the whole pipeline on this machine: an in-process Kafka broker (kfake), an in-process " +
			"Confluent-compatible schema registry and the gateway, which talks to the broker through " +
			"librdkafka over TCP as in production. The signing secret comes from " +
			"SQUAREBOT_SLACK_SIGNING_SECRETS, or a random one is generated and printed. " +
			"Other settings are read as by serve. Runs until SIGINT or SIGTERM; all data is lost then.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runDev(cmd, options, stdout, stderr)
		},
	}
	flags := command.Flags()
	flags.StringVar(&options.configFile, "config", "", "YAML configuration file, as for serve")
	flags.StringVar(&options.httpAddr, "http-addr", "127.0.0.1:8080", "listen address of the Slack endpoints")
	flags.StringVar(&options.adminAddr, "admin-addr", "127.0.0.1:9090", "listen address of /healthz, /readyz and /metrics")
	flags.StringVar(&options.kafkaAddr, "kafka-addr", devstack.DefaultKafkaAddr, "listen address of the in-process Kafka broker")
	flags.StringVar(&options.registryAddr, "registry-addr", devstack.DefaultRegistryAddr, "listen address of the in-process schema registry")
	return command
}

func runDev(cmd *cobra.Command, options devOptions, stdout, stderr io.Writer) error {
	v, err := newViper(options.configFile)
	if err != nil {
		return err
	}
	logger, err := newLogger(stderr, v.GetString("log.level"), v.GetString("log.format"))
	if err != nil {
		return err
	}
	generated := ""
	if len(os.Getenv(envName("slack.signing_secrets"))) == 0 && v.GetString("slack.signing_secrets_file") == "" {
		generated, err = randomSecret()
		if err != nil {
			return err
		}
		v.Set("slack.signing_secrets", generated)
	}
	config, err := loadConfig(v)
	if err != nil {
		return err
	}

	stack, err := devstack.Start(devstack.Options{
		KafkaAddr:    options.kafkaAddr,
		RegistryAddr: options.registryAddr,
		Topics:       config.Topics.Names(),
	})
	if err != nil {
		return err
	}
	defer stack.Close()

	config.HTTP.Addr = options.httpAddr
	config.Admin.Addr = options.adminAddr
	config.Kafka.BootstrapServers = stack.KafkaAddr
	config.Registry.URL = stack.RegistryURL
	service, err := gateway.New(config, logger.With("component", "gateway"))
	if err != nil {
		return err
	}
	printDevBanner(stdout, service, stack, config, generated)
	return service.Run(cmd.Context())
}

func printDevBanner(w io.Writer, service *gateway.Service, stack *devstack.Stack, config gateway.Config, generated string) {
	gatewayURL := "http://" + service.PublicAddr() + config.HTTP.PathPrefix
	secretLine := generated
	sendSecret := generated
	if generated == "" {
		secretLine = fmt.Sprintf("from %s (%d configured)", envName("slack.signing_secrets"), len(config.SigningSecrets))
		sendSecret = "$" + envName("slack.signing_secrets")
	}
	fmt.Fprintf(w, `Squarebot dev stack
  gateway:          %s  (POST /slack/event, POST /slack/interaction)
  admin:            http://%s  (/healthz, /readyz, /metrics)
  kafka bootstrap:  %s
  schema registry:  %s
  signing secret:   %s

Send a sample event from another terminal:
  go run ./cmd/squarebot send --url %s --secret %s test/testdata/slack/events/message_im.json
Stop with Ctrl-C; the broker and registry keep nothing.
`, gatewayURL, service.AdminAddr(), stack.KafkaAddr, stack.RegistryURL, secretLine, gatewayURL, sendSecret)
}

// randomSecret returns 32 random hexadecimal digits, the shape of a Slack
// signing secret.
func randomSecret() (string, error) {
	var bytes [16]byte
	if _, err := rand.Read(bytes[:]); err != nil {
		return "", fmt.Errorf("generating a signing secret: %w", err)
	}
	return hex.EncodeToString(bytes[:]), nil
}
