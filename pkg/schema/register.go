package schema

import (
	"context"
	"errors"
	"fmt"

	"github.com/riferrei/srclient"
)

// Registrar is the part of a registry client that registration needs.
// *srclient.SchemaRegistryClient implements it.
type Registrar interface {
	ChangeSubjectCompatibilityLevel(subject string, level srclient.CompatibilityLevel) (*srclient.CompatibilityLevel, error)
	CreateSchema(subject string, schema string, schemaType srclient.SchemaType, references ...srclient.Reference) (*srclient.Schema, error)
	LookupSchema(subject string, schema string, schemaType srclient.SchemaType, references ...srclient.Reference) (*srclient.Schema, error)
}

// RegistryError is an error response of the schema registry for one subject.
type RegistryError struct {
	// Subject is the subject the request was about.
	Subject string
	// Code is the registry's error_code, such as 409 for an incompatible
	// schema or 42201 for an invalid one; 0 when the registry was not
	// reached or sent no error body.
	Code int
	// Message is the registry's message.
	Message string
}

func (e *RegistryError) Error() string {
	if e.Code == 0 {
		return fmt.Sprintf("subject %s: %s", e.Subject, e.Message)
	}
	return fmt.Sprintf("subject %s: registry error %d: %s", e.Subject, e.Code, e.Message)
}

// Permanent reports whether retrying the same request cannot succeed: the
// registry rejected the schema or the compatibility level. Confluent
// Schema Registry reports an incompatible schema as 409 in older releases
// and 40901 in newer ones, and invalid input as 422xx.
func (e *RegistryError) Permanent() bool {
	return e.Code == 409 || e.Code/100 == 409 || e.Code/100 == 422
}

// Register sets the compatibility level of each binding's key and value
// subjects and registers the embedded schemas under them. Registering a
// schema that the subject already has returns its existing id, so Register
// is safe to call at every start-up. With register false it only looks the
// schemas up, for deployments that register them from a pipeline; a
// schema the registry lacks is then an error. It returns the catalog of
// schema ids for encoding.
//
// srclient has no context support, so ctx is only checked between
// requests; give the client a timeout.
func Register(ctx context.Context, client Registrar, bindings []Binding, compatibility string, register bool) (Catalog, error) {
	if !ValidCompatibility(compatibility) {
		return nil, fmt.Errorf("invalid compatibility level %q: use one of %s", compatibility, CompatibilityLevels())
	}
	catalog := make(Catalog, len(bindings))
	for _, binding := range bindings {
		key, err := registerOne(ctx, client, binding.KeySubject(), binding.Pair.Key, compatibility, register)
		if err != nil {
			return nil, err
		}
		value, err := registerOne(ctx, client, binding.ValueSubject(), binding.Pair.Value, compatibility, register)
		if err != nil {
			return nil, err
		}
		catalog[binding.Topic] = TopicCodecs{Key: key, Value: value}
	}
	return catalog, nil
}

func registerOne(ctx context.Context, client Registrar, subject, file, compatibility string, register bool) (Codec, error) {
	if err := ctx.Err(); err != nil {
		return Codec{}, err
	}
	source, err := Load(file)
	if err != nil {
		return Codec{}, err
	}
	if !register {
		found, err := client.LookupSchema(subject, source.Text, srclient.Avro)
		if err != nil {
			return Codec{}, registryError(subject, "looking up schema "+file, err)
		}
		return Codec{ID: found.ID(), Schema: source.Schema}, nil
	}
	if _, err := client.ChangeSubjectCompatibilityLevel(subject, srclient.CompatibilityLevel(compatibility)); err != nil {
		return Codec{}, registryError(subject, "setting compatibility level", err)
	}
	registered, err := client.CreateSchema(subject, source.Text, srclient.Avro)
	if err != nil {
		return Codec{}, registryError(subject, "registering schema "+file, err)
	}
	return Codec{ID: registered.ID(), Schema: source.Schema}, nil
}

// registryError keeps the registry's code and message when srclient
// decoded an error body, and wraps transport errors as they are.
func registryError(subject, step string, err error) error {
	var answer srclient.Error
	if errors.As(err, &answer) {
		return &RegistryError{Subject: subject, Code: answer.Code, Message: step + ": " + answer.Message}
	}
	return fmt.Errorf("subject %s: %s: %w", subject, step, err)
}
