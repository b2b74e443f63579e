package consumer_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hamba/avro/v2"
	"github.com/riferrei/srclient"

	"github.com/lsst-sqre/squarebot/pkg/consumer"
	"github.com/lsst-sqre/squarebot/pkg/devstack"
	"github.com/lsst-sqre/squarebot/pkg/records"
	"github.com/lsst-sqre/squarebot/pkg/route"
	"github.com/lsst-sqre/squarebot/pkg/schema"
)

// messageTopic is the topic whose subjects the tests register under.
const messageTopic = route.DefaultMessageChannelTopic

// testRegistry is the project's dev registry with the embedded schemas
// registered. It is served twice on loopback. Decoders use URL, which has
// the test's middleware, and registration goes to an unwrapped server.
type testRegistry struct {
	// URL is the base URL that decoders use.
	URL string
	// Catalog contains the ids of the embedded schemas.
	Catalog schema.Catalog
	// Admin registers schemas without passing through the middleware.
	Admin *srclient.SchemaRegistryClient

	lookups atomic.Int64
}

// startRegistry starts the registry and registers the embedded schemas of
// the default topics with FORWARD_TRANSITIVE compatibility. middleware
// wraps the handler behind URL, outermost last.
func startRegistry(t *testing.T, middleware ...func(http.Handler) http.Handler) *testRegistry {
	t.Helper()
	registry := &testRegistry{}
	inner := devstack.NewRegistry()

	admin := httptest.NewServer(inner)
	t.Cleanup(admin.Close)
	registry.Admin = srclient.NewSchemaRegistryClient(admin.URL)
	registry.Admin.CodecCreationEnabled(false)

	var handler http.Handler = registry.countLookups(inner)
	for _, wrap := range middleware {
		handler = wrap(handler)
	}
	server := httptest.NewServer(handler)
	t.Cleanup(server.Close)
	registry.URL = server.URL

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	catalog, err := schema.Register(ctx, registry.Admin, route.DefaultTopics().Bindings(), "FORWARD_TRANSITIVE", true)
	if err != nil {
		t.Fatalf("registering embedded schemas: %v", err)
	}
	registry.Catalog = catalog
	return registry
}

// countLookups counts GET /schemas/ids/ requests, the ones a Decoder makes.
func (r *testRegistry) countLookups(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, request *http.Request) {
		if request.Method == http.MethodGet && strings.HasPrefix(request.URL.Path, "/schemas/ids/") {
			r.lookups.Add(1)
		}
		next.ServeHTTP(w, request)
	})
}

// Lookups returns the number of schema requests by id so far.
func (r *testRegistry) Lookups() int64 { return r.lookups.Load() }

// Register registers text under subject and returns its id.
func (r *testRegistry) Register(t *testing.T, subject, text string) int {
	t.Helper()
	registered, err := r.Admin.CreateSchema(subject, text, srclient.Avro)
	if err != nil {
		t.Fatalf("registering schema under %s: %v", subject, err)
	}
	return registered.ID()
}

// Decoder returns a Decoder for the registry.
func (r *testRegistry) Decoder(t *testing.T, options ...consumer.Option) *consumer.Decoder {
	t.Helper()
	decoder, err := consumer.NewDecoder(r.URL, options...)
	if err != nil {
		t.Fatalf("creating decoder: %v", err)
	}
	return decoder
}

// evolveSchema returns the embedded schema file with edit applied to its
// top-level fields, as JSON text.
func evolveSchema(t *testing.T, file string, edit func(fields []any) []any) string {
	t.Helper()
	source, err := schema.Load(file)
	if err != nil {
		t.Fatal(err)
	}
	var document map[string]any
	if err := json.Unmarshal([]byte(source.Text), &document); err != nil {
		t.Fatal(err)
	}
	document["fields"] = edit(document["fields"].([]any))
	text, err := json.Marshal(document)
	if err != nil {
		t.Fatal(err)
	}
	return string(text)
}

// insertField returns fields with field inserted after the field named
// after.
func insertField(t *testing.T, fields []any, after string, field map[string]any) []any {
	t.Helper()
	for i, existing := range fields {
		if existing.(map[string]any)["name"] == after {
			return append(fields[:i+1:i+1], append([]any{field}, fields[i+1:]...)...)
		}
	}
	t.Fatalf("schema has no field %s", after)
	return nil
}

// removeField returns fields without the field named name.
func removeField(t *testing.T, fields []any, name string) []any {
	t.Helper()
	for i, existing := range fields {
		if existing.(map[string]any)["name"] == name {
			return append(fields[:i:i], fields[i+1:]...)
		}
	}
	t.Fatalf("schema has no field %s", name)
	return nil
}

// encodeFramed encodes value with the schema text and frames it with id.
func encodeFramed(t *testing.T, text string, id int, value any) []byte {
	t.Helper()
	writer, err := avro.ParseWithCache(text, "", &avro.SchemaCache{})
	if err != nil {
		t.Fatalf("parsing writer schema: %v", err)
	}
	payload, err := avro.Marshal(writer, value)
	if err != nil {
		t.Fatalf("encoding with writer schema: %v", err)
	}
	return append(schema.AppendFrame(nil, id), payload...)
}

// fetcherFunc adapts a function to consumer.SchemaFetcher.
type fetcherFunc func(ctx context.Context, id int) (string, error)

func (f fetcherFunc) FetchSchema(ctx context.Context, id int) (string, error) { return f(ctx, id) }

func TestDecoderSendsBasicAuth(t *testing.T) {
	const username, password = "backend", "registry-password-0123"
	requireAuth := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, request *http.Request) {
			user, pass, ok := request.BasicAuth()
			if !ok || user != username || pass != password {
				w.Header().Set("Content-Type", "application/vnd.schemaregistry.v1+json")
				w.WriteHeader(http.StatusUnauthorized)
				_, _ = w.Write([]byte(`{"error_code":40101,"message":"Unauthorized"}`))
				return
			}
			next.ServeHTTP(w, request)
		})
	}
	registry := startRegistry(t, requireAuth)
	key, value, err := registry.Catalog.Encode(messageTopic, sampleKey(), sampleEvent())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()

	authorized := registry.Decoder(t, consumer.WithBasicAuth(username, password))
	_, _, err = authorized.DecodeMessage(ctx, key, value)
	if err != nil {
		t.Fatalf("decoding with credentials: %v", err)
	}

	rejected := registry.Decoder(t, consumer.WithBasicAuth(username, "wrong-password-4567"))
	_, _, err = rejected.DecodeMessage(ctx, key, value)
	var registryErr *consumer.RegistryError
	if !errors.As(err, &registryErr) {
		t.Fatalf("decoding with a wrong password: got %v, want a *RegistryError", err)
	}
	if registryErr.StatusCode != http.StatusUnauthorized || registryErr.Code != 40101 {
		t.Errorf("registry error: got HTTP %d code %d, want HTTP 401 code 40101", registryErr.StatusCode, registryErr.Code)
	}
	if strings.Contains(err.Error(), "wrong-password-4567") {
		t.Errorf("error contains the password: %v", err)
	}
}

func TestDecoderUsesRegistryPathPrefix(t *testing.T) {
	const prefix = "/apis/ccompat/v7"
	registry := startRegistry(t, func(next http.Handler) http.Handler {
		return http.StripPrefix(prefix, next)
	})
	key, value, err := registry.Catalog.Encode(messageTopic, sampleKey(), sampleEvent())
	if err != nil {
		t.Fatal(err)
	}
	decoder, err := consumer.NewDecoder(registry.URL + prefix + "/")
	if err != nil {
		t.Fatal(err)
	}

	_, event, err := decoder.DecodeMessage(context.Background(), key, value)

	if err != nil {
		t.Fatalf("decoding through a registry under %s: %v", prefix, err)
	}
	if event.SlackJSON != sampleEvent().SlackJSON {
		t.Errorf("slack_json: got %q, want %q", event.SlackJSON, sampleEvent().SlackJSON)
	}
}

func TestDecoderReportsNonJSONRegistryError(t *testing.T) {
	registry := startRegistry(t, func(http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			http.Error(w, "upstream connect error", http.StatusBadGateway)
		})
	})
	_, value, err := registry.Catalog.Encode(messageTopic, sampleKey(), sampleEvent())
	if err != nil {
		t.Fatal(err)
	}

	err = registry.Decoder(t).Decode(context.Background(), value, &records.SlackMessageEvent{})

	var registryErr *consumer.RegistryError
	if !errors.As(err, &registryErr) {
		t.Fatalf("got %v, want a *RegistryError", err)
	}
	if registryErr.StatusCode != http.StatusBadGateway || registryErr.Code != 0 {
		t.Errorf("registry error: got HTTP %d code %d, want HTTP 502 code 0", registryErr.StatusCode, registryErr.Code)
	}
	if registryErr.Message != "upstream connect error" {
		t.Errorf("message: got %q, want the response body", registryErr.Message)
	}
	if errors.Is(err, consumer.ErrSchemaNotFound) {
		t.Errorf("a 502 matches ErrSchemaNotFound: %v", err)
	}
}

func TestNewDecoderRejectsInvalidSettings(t *testing.T) {
	tests := []struct {
		name    string
		url     string
		options []consumer.Option
		want    string
	}{
		{name: "empty URL", url: "", want: "scheme must be http or https"},
		{name: "host without scheme", url: "registry:8081", want: "scheme must be http or https"},
		{name: "other scheme", url: "ftp://127.0.0.1:8081", want: "scheme must be http or https"},
		{name: "missing host", url: "http://", want: "host is missing"},
		{name: "unparsable URL", url: "http://[::1", want: "invalid registry URL"},
		{name: "credentials in URL", url: "http://backend:url-password@127.0.0.1:8081", want: "WithBasicAuth"},
		{name: "query", url: "http://127.0.0.1:8081?subject=x", want: "remove the query"},
		{name: "empty username", url: "http://127.0.0.1:8081", options: []consumer.Option{consumer.WithBasicAuth("", "p")}, want: "username is empty"},
		{name: "zero field size", url: "http://127.0.0.1:8081", options: []consumer.Option{consumer.WithMaxFieldSize(0)}, want: "not a positive number"},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			decoder, err := consumer.NewDecoder(test.url, test.options...)

			if err == nil {
				t.Fatalf("got a decoder %v, want an error", decoder)
			}
			if !strings.Contains(err.Error(), test.want) {
				t.Errorf("error %q does not contain %q", err, test.want)
			}
			if strings.Contains(err.Error(), "url-password") {
				t.Errorf("error contains the password: %v", err)
			}
		})
	}
}

func TestNewDecoderFromFetcherRejectsHTTPOptions(t *testing.T) {
	fetcher := fetcherFunc(func(context.Context, int) (string, error) { return "", nil })
	tests := []struct {
		name    string
		fetcher consumer.SchemaFetcher
		options []consumer.Option
		want    string
	}{
		{name: "nil fetcher", fetcher: nil, want: "fetcher is nil"},
		{name: "HTTP client", fetcher: fetcher, options: []consumer.Option{consumer.WithHTTPClient(http.DefaultClient)}, want: "apply only to NewDecoder"},
		{name: "basic auth", fetcher: fetcher, options: []consumer.Option{consumer.WithBasicAuth("u", "p")}, want: "apply only to NewDecoder"},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			_, err := consumer.NewDecoderFromFetcher(test.fetcher, test.options...)

			if err == nil || !strings.Contains(err.Error(), test.want) {
				t.Errorf("got error %v, want one containing %q", err, test.want)
			}
		})
	}
}

func TestDecoderRejectsUnsupportedSchemaResponse(t *testing.T) {
	tests := []struct {
		name string
		body string
		want string
	}{
		{name: "Protobuf schema", body: `{"schema":"syntax = \"proto3\";","schemaType":"PROTOBUF"}`, want: "reads only Avro"},
		{name: "schema references", body: `{"schema":"\"string\"","references":[{"name":"x","subject":"x","version":1}]}`, want: "has references"},
		{name: "empty schema", body: `{}`, want: "has no schema"},
		{name: "not JSON", body: `<html>`, want: "parsing response"},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			registry := startRegistry(t, func(http.Handler) http.Handler {
				return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
					_, _ = w.Write([]byte(test.body))
				})
			})
			_, value, err := registry.Catalog.Encode(messageTopic, sampleKey(), sampleEvent())
			if err != nil {
				t.Fatal(err)
			}

			err = registry.Decoder(t).Decode(context.Background(), value, &records.SlackMessageEvent{})

			if err == nil || !strings.Contains(err.Error(), test.want) {
				t.Errorf("got %v, want an error containing %q", err, test.want)
			}
		})
	}
}
