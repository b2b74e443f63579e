package main

import (
	"io"

	"github.com/spf13/cobra"

	"github.com/lsst-sqre/squarebot/pkg/gateway"
)

func newServeCommand(stderr io.Writer) *cobra.Command {
	var configFile string
	command := &cobra.Command{
		Use:   "serve",
		Short: "Run the gateway against a Kafka cluster and a schema registry",
		Long: "Run the gateway. Settings come from the YAML file given with --config and from " +
			"SQUAREBOT_* environment variables, which take precedence; see docs/configuration.md. " +
			"SIGINT or SIGTERM stops it gracefully.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			v, err := newViper(configFile)
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
			service, err := gateway.New(config, logger.With("component", "gateway"))
			if err != nil {
				return err
			}
			logger.Info("starting squarebot", "version", version, "commit", commit,
				"signing_secrets", len(config.SigningSecrets),
				"sasl_password_set", config.Kafka.SASLPassword.IsSet(),
				"registry_password_set", config.Registry.Password.IsSet())
			return service.Run(cmd.Context())
		},
	}
	command.Flags().StringVar(&configFile, "config", "", "YAML configuration file")
	return command
}
