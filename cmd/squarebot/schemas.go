package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/lsst-sqre/squarebot/pkg/gateway"
	"github.com/lsst-sqre/squarebot/pkg/schema"
)

// schemaFlags are the flags shared by the schemas subcommands.
type schemaFlags struct {
	configFile  string
	registryURL string
}

func newSchemasCommand(stdout io.Writer) *cobra.Command {
	var flags schemaFlags
	command := &cobra.Command{
		Use:   "schemas",
		Short: "List, show, register and check the embedded Avro schemas",
		Long: "Work with the Avro schemas embedded in this binary. Subjects follow the TopicNameStrategy " +
			"(<topic>-key, <topic>-value) for the configured topics; registry settings come from --config " +
			"and SQUAREBOT_* variables as for serve, and --registry-url overrides registry.url.",
	}
	persistent := command.PersistentFlags()
	persistent.StringVar(&flags.configFile, "config", "", "YAML configuration file, as for serve")
	persistent.StringVar(&flags.registryURL, "registry-url", "", "schema registry base URL (default: registry.url)")
	command.AddCommand(
		newReferenceCommand(stdout),
		&cobra.Command{
			Use:   "list",
			Short: "Print each subject with its schema file and record name",
			Args:  cobra.NoArgs,
			RunE: func(*cobra.Command, []string) error {
				return listSchemas(flags, stdout)
			},
		},
		&cobra.Command{
			Use:   "show SUBJECT|FILE",
			Short: "Print the schema of a subject (or of a schema file name)",
			Args:  cobra.ExactArgs(1),
			RunE: func(_ *cobra.Command, args []string) error {
				return showSchema(flags, args[0], stdout)
			},
		},
		&cobra.Command{
			Use:   "register",
			Short: "Register the schemas and set each subject's compatibility level",
			Long: "Register every schema under its subjects and set registry.compatibility on each, " +
				"for deployments that register from a pipeline and run serve with " +
				"registry.register_schemas=false.",
			Args: cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				return registerSchemas(cmd.Context(), flags, stdout)
			},
		},
		&cobra.Command{
			Use:   "check",
			Short: "Check that the schemas can be registered without breaking consumers",
			Long: "Ask the registry whether each embedded schema is compatible with the latest version of " +
				"its subject under the subject's compatibility level. Exits with status 1, naming the " +
				"subject and the incompatibility, when a deploy would break consumers. Subjects that do " +
				"not exist yet pass.",
			Args: cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				return checkSchemas(cmd.Context(), flags, stdout)
			},
		},
	)
	return command
}

// schemaSettings loads the configuration the schemas commands need.
func schemaSettings(flags schemaFlags) (gateway.Config, error) {
	v, err := newViper(flags.configFile)
	if err != nil {
		return gateway.Config{}, err
	}
	config, err := loadConfig(v)
	if err != nil {
		return gateway.Config{}, err
	}
	if flags.registryURL != "" {
		config.Registry.URL = flags.registryURL
	}
	return config, nil
}

// subjectSchema is one subject and the schema file it takes.
type subjectSchema struct {
	subject string
	file    string
}

func subjects(config gateway.Config) []subjectSchema {
	var list []subjectSchema
	for _, binding := range config.Topics.Bindings() {
		list = append(list,
			subjectSchema{binding.KeySubject(), binding.Pair.Key},
			subjectSchema{binding.ValueSubject(), binding.Pair.Value})
	}
	return list
}

func listSchemas(flags schemaFlags, stdout io.Writer) error {
	config, err := schemaSettings(flags)
	if err != nil {
		return err
	}
	table := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(table, "SUBJECT\tFILE\tRECORD")
	for _, s := range subjects(config) {
		source, err := schema.Load(s.file)
		if err != nil {
			return err
		}
		fmt.Fprintf(table, "%s\t%s\t%s\n", s.subject, s.file, recordName(source))
	}
	return table.Flush()
}

func recordName(source schema.Source) string {
	if named, ok := source.Schema.(interface{ FullName() string }); ok {
		return named.FullName()
	}
	return ""
}

func showSchema(flags schemaFlags, name string, stdout io.Writer) error {
	config, err := schemaSettings(flags)
	if err != nil {
		return err
	}
	file := ""
	for _, s := range subjects(config) {
		if s.subject == name || s.file == name || strings.TrimSuffix(s.file, ".avsc") == name {
			file = s.file
			break
		}
	}
	if file == "" {
		return usageError{fmt.Errorf("no subject or schema file %q; run squarebot schemas list", name)}
	}
	source, err := schema.Load(file)
	if err != nil {
		return err
	}
	_, err = io.WriteString(stdout, source.Text)
	return err
}

func registryClient(config gateway.Config) (*schema.Client, error) {
	if config.Registry.URL == "" {
		return nil, usageError{errors.New("registry.url is missing: pass --registry-url or set SQUAREBOT_REGISTRY_URL")}
	}
	return schema.NewClient(config.Registry.ClientConfig())
}

func registerSchemas(ctx context.Context, flags schemaFlags, stdout io.Writer) error {
	config, err := schemaSettings(flags)
	if err != nil {
		return err
	}
	client, err := registryClient(config)
	if err != nil {
		return err
	}
	catalog, err := schema.Register(ctx, client, config.Topics.Bindings(), config.Registry.Compatibility, true)
	if err != nil {
		return err
	}
	table := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(table, "SUBJECT\tSCHEMA ID\tCOMPATIBILITY")
	for _, binding := range config.Topics.Bindings() {
		codecs := catalog[binding.Topic]
		fmt.Fprintf(table, "%s\t%d\t%s\n", binding.KeySubject(), codecs.Key.ID, config.Registry.Compatibility)
		fmt.Fprintf(table, "%s\t%d\t%s\n", binding.ValueSubject(), codecs.Value.ID, config.Registry.Compatibility)
	}
	return table.Flush()
}

func checkSchemas(ctx context.Context, flags schemaFlags, stdout io.Writer) error {
	config, err := schemaSettings(flags)
	if err != nil {
		return err
	}
	client, err := registryClient(config)
	if err != nil {
		return err
	}
	failed := 0
	for _, s := range subjects(config) {
		source, err := schema.Load(s.file)
		if err != nil {
			return err
		}
		verdict, err := checkSubject(ctx, client, s.subject, source.Text)
		if err != nil {
			return err
		}
		if !strings.HasPrefix(verdict, "ok") {
			failed++
		}
		fmt.Fprintf(stdout, "%s: %s\n", s.subject, verdict)
	}
	if failed > 0 {
		return fmt.Errorf("%d subject(s) would reject the embedded schemas; consumers would break", failed)
	}
	return nil
}

// checkSubject returns "ok ..." when the schema may be registered, or the
// reasons it may not.
func checkSubject(ctx context.Context, client *schema.Client, subject, text string) (string, error) {
	level, err := client.Compatibility(ctx, subject)
	if err != nil {
		return "", err
	}
	compatible, messages, err := client.CheckLatest(ctx, subject, text)
	var registryErr *schema.RegistryError
	if errors.As(err, &registryErr) && registryErr.Code == 40401 {
		return "ok (new subject)", nil
	}
	if err != nil {
		return "", err
	}
	if compatible {
		return "ok under " + level, nil
	}
	if len(messages) == 0 {
		messages = []string{"the registry gave no reason"}
	}
	return "INCOMPATIBLE under " + level + ": " + strings.Join(messages, "; "), nil
}
