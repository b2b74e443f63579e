package consumer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// SchemaFetcher fetches the text of a registered schema by its registry id.
// NewDecoder uses a fetcher that calls the registry's REST API, and
// NewDecoderFromFetcher accepts any other implementation, for example one
// backed by another registry client. FetchSchema must be safe for concurrent
// use. When the registry does not have the id, the error should match
// ErrSchemaNotFound with errors.Is. The Decoder adds the id to the error.
type SchemaFetcher interface {
	FetchSchema(ctx context.Context, id int) (string, error)
}

// ErrSchemaNotFound means the registry has no schema with the record's id,
// which usually means the consumer and the producer use different
// registries.
var ErrSchemaNotFound = errors.New("schema not found")

// RegistryError is an error response of the schema registry to a schema
// request. It matches ErrSchemaNotFound when the registry returned error
// code 40403. Its message leaves out the id, which the Decoder's wrapping
// error names.
type RegistryError struct {
	// ID is the requested schema id.
	ID int
	// StatusCode is the HTTP status of the response.
	StatusCode int
	// Code is the registry's error_code, such as 40403 for an unknown id,
	// or 0 when the response had no JSON error body.
	Code int
	// Message is the registry's message, or the start of the body when it
	// was not a JSON error.
	Message string
}

func (e *RegistryError) Error() string {
	if e.Code == 0 {
		return fmt.Sprintf("registry returned HTTP %d: %s", e.StatusCode, e.Message)
	}
	return fmt.Sprintf("registry error %d (HTTP %d): %s", e.Code, e.StatusCode, e.Message)
}

// Is reports whether target is ErrSchemaNotFound and the registry returned
// the schema-not-found code.
func (e *RegistryError) Is(target error) bool {
	return target == ErrSchemaNotFound && e.Code == codeSchemaNotFound
}

// codeSchemaNotFound is the error_code of Confluent Schema Registry, and of
// registries compatible with it, for an unknown schema id.
const codeSchemaNotFound = 40403

// maxSchemaResponseBytes bounds a registry response. Squarebot's schemas
// are under 15 KB of JSON, so the limit leaves room for much larger ones
// and still stops a wrong URL or a broken server from exhausting memory.
const maxSchemaResponseBytes = 8 << 20

// maxErrorMessageBytes bounds the part of a non-JSON error body kept in a
// RegistryError.
const maxErrorMessageBytes = 200

// schemaAcceptTypes lists the media types of Confluent's REST API, newest
// first, then plain JSON for registries that send only that.
const schemaAcceptTypes = "application/vnd.schemaregistry.v1+json, application/vnd.schemaregistry+json, application/json"

// registryFetcher fetches schemas with GET /schemas/ids/{id}.
type registryFetcher struct {
	base     *url.URL
	client   *http.Client
	username string
	password string
}

// schemaResponse is the body of GET /schemas/ids/{id}.
type schemaResponse struct {
	Schema     string            `json:"schema"`
	SchemaType string            `json:"schemaType"`
	References []json.RawMessage `json:"references"`
}

// errorResponse is the error body of Confluent's REST API.
type errorResponse struct {
	Code    int    `json:"error_code"`
	Message string `json:"message"`
}

func (f *registryFetcher) FetchSchema(ctx context.Context, id int) (string, error) {
	address := f.base.JoinPath("schemas", "ids", strconv.Itoa(id))
	request, err := http.NewRequestWithContext(ctx, http.MethodGet, address.String(), nil)
	if err != nil {
		return "", fmt.Errorf("creating request: %w", err)
	}
	request.Header.Set("Accept", schemaAcceptTypes)
	if f.username != "" {
		request.SetBasicAuth(f.username, f.password)
	}

	// The *url.Error of a failed request names the method and URL.
	response, err := f.client.Do(request)
	if err != nil {
		return "", err
	}
	defer response.Body.Close()
	body, err := io.ReadAll(io.LimitReader(response.Body, maxSchemaResponseBytes+1))
	if err != nil {
		return "", fmt.Errorf("reading response: %w", err)
	}
	if len(body) > maxSchemaResponseBytes {
		return "", fmt.Errorf("response is larger than %d bytes", maxSchemaResponseBytes)
	}
	if response.StatusCode != http.StatusOK {
		return "", newRegistryError(id, response.StatusCode, body)
	}
	return parseSchemaResponse(body)
}

func newRegistryError(id, status int, body []byte) *RegistryError {
	var answer errorResponse
	if err := json.Unmarshal(body, &answer); err == nil && answer.Code != 0 {
		return &RegistryError{ID: id, StatusCode: status, Code: answer.Code, Message: answer.Message}
	}
	message := strings.TrimSpace(string(body))
	if len(message) > maxErrorMessageBytes {
		message = strings.ToValidUTF8(message[:maxErrorMessageBytes], "") + "..."
	}
	return &RegistryError{ID: id, StatusCode: status, Message: message}
}

func parseSchemaResponse(body []byte) (string, error) {
	var answer schemaResponse
	if err := json.Unmarshal(body, &answer); err != nil {
		return "", fmt.Errorf("parsing response: %w", err)
	}
	// A response without schemaType is Avro, as in Confluent's API.
	if answer.SchemaType != "" && answer.SchemaType != "AVRO" {
		return "", fmt.Errorf("schema type is %s, but the decoder reads only Avro", answer.SchemaType)
	}
	// Squarebot's schemas have no references. Resolving them would need
	// one more request per referenced subject version.
	if len(answer.References) > 0 {
		return "", errors.New("schema has references, which the decoder does not support")
	}
	if answer.Schema == "" {
		return "", errors.New("response has no schema")
	}
	return answer.Schema, nil
}
