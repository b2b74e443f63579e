package devstack_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/riferrei/srclient"

	"github.com/lsst-sqre/squarebot/pkg/devstack"
)

const registryType = "application/vnd.schemaregistry.v1+json"

// Versions of one record. The names describe how each differs from userV1.
const (
	userV1 = `{"type":"record","name":"User","namespace":"test","doc":"A user.",` +
		`"fields":[{"name":"id","type":"string"}]}`
	userV1Spaced = "{\n  \"type\": \"record\",\n  \"name\": \"User\",\n  \"namespace\": \"test\",\n" +
		"  \"doc\": \"A user.\",\n  \"fields\": [ { \"name\": \"id\", \"type\": \"string\" } ]\n}"
	userAddedDefault = `{"type":"record","name":"User","namespace":"test","doc":"A user.",` +
		`"fields":[{"name":"id","type":"string"},{"name":"email","type":"string","default":""}]}`
	userAddedNoDefault = `{"type":"record","name":"User","namespace":"test","doc":"A user.",` +
		`"fields":[{"name":"id","type":"string"},{"name":"email","type":"string"}]}`
	userOtherDoc = `{"type":"record","name":"User","namespace":"test","doc":"Another doc.",` +
		`"fields":[{"name":"id","type":"string"}]}`
)

type response struct {
	status int
	header http.Header
	body   []byte
}

type errorBody struct {
	ErrorCode int    `json:"error_code"`
	Message   string `json:"message"`
}

type versionBody struct {
	Subject    string            `json:"subject"`
	ID         int               `json:"id"`
	Version    int               `json:"version"`
	Schema     string            `json:"schema"`
	References []json.RawMessage `json:"references"`
}

func newServer(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(devstack.NewRegistry())
	t.Cleanup(srv.Close)
	return srv
}

// call sends a request with Confluent's media type when body is not empty.
func call(t *testing.T, srv *httptest.Server, method, path, body string) response {
	t.Helper()
	return callWithType(t, srv, method, path, body, registryType)
}

func callWithType(t *testing.T, srv *httptest.Server, method, path, body, mediaType string) response {
	t.Helper()
	r, err := send(t.Context(), srv, method, path, body, mediaType)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// send is call for goroutines other than the test's, which must not call
// t.Fatal.
func send(ctx context.Context, srv *httptest.Server, method, path, body, mediaType string) (response, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	var reader io.Reader
	if body != "" {
		reader = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, srv.URL+path, reader)
	if err != nil {
		return response{}, fmt.Errorf("building %s %s: %w", method, path, err)
	}
	if body != "" && mediaType != "" {
		req.Header.Set("Content-Type", mediaType)
	}

	resp, err := srv.Client().Do(req)
	if err != nil {
		return response{}, fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return response{}, fmt.Errorf("reading %s %s: %w", method, path, err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: data}, nil
}

func decode[T any](t *testing.T, r response) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(r.body, &v); err != nil {
		t.Fatalf("decoding %q: %v", r.body, err)
	}
	return v
}

// schemaBody returns a registration body for an Avro schema.
func schemaBody(schema string) string {
	data, err := json.Marshal(map[string]string{"schema": schema})
	if err != nil {
		panic(err) // A map of strings always marshals.
	}
	return string(data)
}

// register registers schema under subject and returns its ID.
func register(t *testing.T, srv *httptest.Server, subject, schema string) int {
	t.Helper()
	r := call(t, srv, http.MethodPost, "/subjects/"+url.PathEscape(subject)+"/versions", schemaBody(schema))
	if r.status != http.StatusOK {
		t.Fatalf("registering under %q: status %d, body %s", subject, r.status, r.body)
	}
	return decode[struct {
		ID int `json:"id"`
	}](t, r).ID
}

func setLevel(t *testing.T, srv *httptest.Server, subject, level string) {
	t.Helper()
	r := call(t, srv, http.MethodPut, "/config/"+url.PathEscape(subject), `{"compatibility":"`+level+`"}`)
	if r.status != http.StatusOK {
		t.Fatalf("setting level %s on %q: status %d, body %s", level, subject, r.status, r.body)
	}
}

// checkError asserts the HTTP status and Confluent's error_code.
func checkError(t *testing.T, r response, status, code int) {
	t.Helper()
	if r.status != status {
		t.Errorf("status = %d, want %d (body %s)", r.status, status, r.body)
	}
	if got := decode[errorBody](t, r).ErrorCode; got != code {
		t.Errorf("error_code = %d, want %d (body %s)", got, code, r.body)
	}
}

func TestRegisterFirstSchema(t *testing.T) {
	srv := newServer(t)

	r := call(t, srv, http.MethodPost, "/subjects/users-value/versions", schemaBody(userV1))

	if r.status != http.StatusOK {
		t.Fatalf("status = %d, body %s", r.status, r.body)
	}
	if got := string(r.body); got != "{\"id\":1}\n" {
		t.Errorf("body = %q, want {\"id\":1}", got)
	}
	versions := decode[[]int](t, call(t, srv, http.MethodGet, "/subjects/users-value/versions", ""))
	if !slices.Equal(versions, []int{1}) {
		t.Errorf("versions = %v, want [1]", versions)
	}
}

func TestRegisterSameSchemaAgain(t *testing.T) {
	srv := newServer(t)
	first := register(t, srv, "users-value", userV1)

	again := register(t, srv, "users-value", userV1Spaced)

	if again != first {
		t.Errorf("id = %d, want %d", again, first)
	}
	versions := decode[[]int](t, call(t, srv, http.MethodGet, "/subjects/users-value/versions", ""))
	if !slices.Equal(versions, []int{1}) {
		t.Errorf("versions = %v, want [1]", versions)
	}
}

func TestRegisterKeepsDocInIdentity(t *testing.T) {
	srv := newServer(t)
	first := register(t, srv, "users-value", userV1)

	other := register(t, srv, "users-value", userOtherDoc)

	if other == first {
		t.Errorf("id = %d for a schema with another doc, want a new id", other)
	}
}

func TestRegisterSharesIDAcrossSubjects(t *testing.T) {
	srv := newServer(t)
	first := register(t, srv, "a-value", userV1)

	second := register(t, srv, "b-value", userV1Spaced)

	if second != first {
		t.Errorf("id under second subject = %d, want %d", second, first)
	}
}

func TestRegisterNewVersion(t *testing.T) {
	srv := newServer(t)
	register(t, srv, "users-value", userV1)

	id := register(t, srv, "users-value", userAddedDefault)

	if id != 2 {
		t.Errorf("id = %d, want 2", id)
	}
	versions := decode[[]int](t, call(t, srv, http.MethodGet, "/subjects/users-value/versions", ""))
	if !slices.Equal(versions, []int{1, 2}) {
		t.Errorf("versions = %v, want [1 2]", versions)
	}
}

func TestRegisterErrors(t *testing.T) {
	tests := []struct {
		name      string
		body      string
		mediaType string
		status    int
		code      int
		message   string
	}{
		{
			name:   "schema not JSON",
			body:   `{"schema":"{not json"}`,
			status: http.StatusUnprocessableEntity,
			code:   42201,
		},
		{
			name:   "unknown Avro type",
			body:   `{"schema":"{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"a\",\"type\":\"nope\"}]}"}`,
			status: http.StatusUnprocessableEntity,
			code:   42201,
		},
		{
			name:   "empty schema",
			body:   `{"schema":""}`,
			status: http.StatusUnprocessableEntity,
			code:   42201,
		},
		{
			name:    "protobuf",
			body:    `{"schema":"syntax = \"proto3\";","schemaType":"PROTOBUF"}`,
			status:  http.StatusUnprocessableEntity,
			code:    42201,
			message: "only AVRO",
		},
		{
			name:   "malformed body",
			body:   `{"schema":`,
			status: http.StatusBadRequest,
			code:   400,
		},
		{
			name:   "schema of wrong JSON type",
			body:   `{"schema":5}`,
			status: http.StatusBadRequest,
			code:   400,
		},
		{
			name:   "missing body",
			body:   "",
			status: http.StatusUnprocessableEntity,
			code:   422,
		},
		{
			name:      "unsupported media type",
			body:      schemaBody(userV1),
			mediaType: "text/plain",
			status:    http.StatusUnsupportedMediaType,
			code:      415,
		},
		{
			name:    "incompatible",
			body:    schemaBody(userAddedNoDefault),
			status:  http.StatusConflict,
			code:    409,
			message: "email",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newServer(t)
			register(t, srv, "users-value", userV1)
			mediaType := tt.mediaType
			if mediaType == "" {
				mediaType = registryType
			}

			r := callWithType(t, srv, http.MethodPost, "/subjects/users-value/versions", tt.body, mediaType)

			checkError(t, r, tt.status, tt.code)
			if msg := decode[errorBody](t, r).Message; !strings.Contains(msg, tt.message) {
				t.Errorf("message = %q, want it to contain %q", msg, tt.message)
			}
			versions := decode[[]int](t, call(t, srv, http.MethodGet, "/subjects/users-value/versions", ""))
			if !slices.Equal(versions, []int{1}) {
				t.Errorf("versions = %v, want [1]", versions)
			}
		})
	}
}

func TestRegisterInvalidSubject(t *testing.T) {
	srv := newServer(t)

	r := call(t, srv, http.MethodPost, "/subjects/bad%01name/versions", schemaBody(userV1))

	checkError(t, r, http.StatusUnprocessableEntity, 42208)
}

// Each case registers old and then new under the level. The expectations
// follow the Avro schema resolution rules: a reader field without a default
// must exist in the writer's data.
func TestCompatibilityLevels(t *testing.T) {
	const (
		recordInt  = `{"type":"record","name":"R","fields":[{"name":"a","type":"int"}]}`
		recordLong = `{"type":"record","name":"R","fields":[{"name":"a","type":"long"}]}`
	)
	tests := []struct {
		name   string
		level  string
		old    string
		new    string
		accept bool
	}{
		{"backward add without default", "BACKWARD", userV1, userAddedNoDefault, false},
		{"backward add with default", "BACKWARD", userV1, userAddedDefault, true},
		{"backward remove without default", "BACKWARD", userAddedNoDefault, userV1, true},
		{"backward widen int to long", "BACKWARD", recordInt, recordLong, true},
		{"forward add without default", "FORWARD", userV1, userAddedNoDefault, true},
		{"forward add with default", "FORWARD", userV1, userAddedDefault, true},
		{"forward remove without default", "FORWARD", userAddedNoDefault, userV1, false},
		{"forward remove with default", "FORWARD", userAddedDefault, userV1, true},
		{"forward widen int to long", "FORWARD", recordInt, recordLong, false},
		{"full add with default", "FULL", userV1, userAddedDefault, true},
		{"full add without default", "FULL", userV1, userAddedNoDefault, false},
		{"full remove without default", "FULL", userAddedNoDefault, userV1, false},
		{"none change type", "NONE", recordInt, userV1, true},
		{"backward change type", "BACKWARD", recordInt, userV1, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newServer(t)
			setLevel(t, srv, "s", tt.level)
			register(t, srv, "s", tt.old)

			r := call(t, srv, http.MethodPost, "/subjects/s/versions", schemaBody(tt.new))

			if tt.accept && r.status != http.StatusOK {
				t.Errorf("status = %d, want 200 (body %s)", r.status, r.body)
			}
			if !tt.accept {
				checkError(t, r, http.StatusConflict, 409)
			}
		})
	}
}

// Each case registers all of versions but the last, then the last. The
// last version is compatible with the one before it but not with the first.
func TestTransitiveLevels(t *testing.T) {
	backwardChain := []string{userV1, userAddedDefault, userAddedNoDefault}
	forwardChain := []string{userAddedNoDefault, userAddedDefault, userV1}
	tests := []struct {
		level    string
		versions []string
		accept   bool
	}{
		{"BACKWARD", backwardChain, true},
		{"BACKWARD_TRANSITIVE", backwardChain, false},
		{"FORWARD", forwardChain, true},
		{"FORWARD_TRANSITIVE", forwardChain, false},
		{"FULL_TRANSITIVE", backwardChain, false},
		{"FULL_TRANSITIVE", forwardChain, false},
	}
	for _, tt := range tests {
		t.Run(tt.level, func(t *testing.T) {
			srv := newServer(t)
			setLevel(t, srv, "s", "NONE")
			for _, schema := range tt.versions[:len(tt.versions)-1] {
				register(t, srv, "s", schema)
			}
			setLevel(t, srv, "s", tt.level)

			r := call(t, srv, http.MethodPost, "/subjects/s/versions", schemaBody(tt.versions[len(tt.versions)-1]))

			if tt.accept && r.status != http.StatusOK {
				t.Errorf("status = %d, want 200 (body %s)", r.status, r.body)
			}
			if !tt.accept {
				checkError(t, r, http.StatusConflict, 409)
			}
		})
	}
}

// hamba/avro caches compatibility verdicts by canonical-form fingerprint,
// which ignores defaults. A schema that differs from a rejected one only in a
// default must still get its own verdict.
func TestCompatibilityDefaultOnlyDiffers(t *testing.T) {
	srv := newServer(t)
	register(t, srv, "s", userV1)

	rejected := call(t, srv, http.MethodPost, "/compatibility/subjects/s/versions/latest", schemaBody(userAddedNoDefault))
	accepted := call(t, srv, http.MethodPost, "/compatibility/subjects/s/versions/latest", schemaBody(userAddedDefault))

	if decode[map[string]any](t, rejected)["is_compatible"] != false {
		t.Errorf("field without default: body %s, want is_compatible false", rejected.body)
	}
	if decode[map[string]any](t, accepted)["is_compatible"] != true {
		t.Errorf("field with default: body %s, want is_compatible true", accepted.body)
	}
}

// A name that the schema neither defines nor imports through references must
// not resolve to a type that another registration parsed earlier.
func TestUndeclaredNameRejected(t *testing.T) {
	srv := newServer(t)
	register(t, srv, "users-value", userV1)
	const wrapper = `{"type":"record","name":"Wrapper","namespace":"test","fields":[{"name":"u","type":"test.User"}]}`

	r := call(t, srv, http.MethodPost, "/subjects/wrapper-value/versions", schemaBody(wrapper))

	checkError(t, r, http.StatusUnprocessableEntity, 42201)
}

func TestLookupSchema(t *testing.T) {
	srv := newServer(t)
	register(t, srv, "users-value", userV1)
	id := register(t, srv, "users-value", userAddedDefault)

	r := call(t, srv, http.MethodPost, "/subjects/users-value", schemaBody(userAddedDefault))

	if r.status != http.StatusOK {
		t.Fatalf("status = %d, body %s", r.status, r.body)
	}
	got := decode[versionBody](t, r)
	want := versionBody{Subject: "users-value", ID: id, Version: 2, Schema: userAddedDefault}
	if !equalVersion(got, want) {
		t.Errorf("body = %+v, want %+v", got, want)
	}
}

func TestLookupSchemaIgnoresWhitespace(t *testing.T) {
	srv := newServer(t)
	id := register(t, srv, "users-value", userV1)

	r := call(t, srv, http.MethodPost, "/subjects/users-value", schemaBody(userV1Spaced))

	if got := decode[versionBody](t, r).ID; got != id {
		t.Errorf("id = %d, want %d (body %s)", got, id, r.body)
	}
}

func TestLookupSchemaErrors(t *testing.T) {
	srv := newServer(t)
	register(t, srv, "users-value", userV1)

	t.Run("unknown subject", func(t *testing.T) {
		r := call(t, srv, http.MethodPost, "/subjects/nobody", schemaBody(userV1))
		checkError(t, r, http.StatusNotFound, 40401)
	})
	t.Run("unknown schema", func(t *testing.T) {
		r := call(t, srv, http.MethodPost, "/subjects/users-value", schemaBody(userAddedDefault))
		checkError(t, r, http.StatusNotFound, 40403)
	})
	t.Run("invalid schema", func(t *testing.T) {
		r := call(t, srv, http.MethodPost, "/subjects/users-value", `{"schema":"{"}`)
		checkError(t, r, http.StatusUnprocessableEntity, 42201)
	})
}

func TestListSubjects(t *testing.T) {
	srv := newServer(t)

	empty := call(t, srv, http.MethodGet, "/subjects", "")
	register(t, srv, "zeta", userV1)
	register(t, srv, "alpha", userV1)
	filled := call(t, srv, http.MethodGet, "/subjects", "")

	if got := strings.TrimSpace(string(empty.body)); got != "[]" {
		t.Errorf("empty registry: body %q, want []", got)
	}
	if got := decode[[]string](t, filled); !slices.Equal(got, []string{"alpha", "zeta"}) {
		t.Errorf("subjects = %v, want [alpha zeta]", got)
	}
}

func TestListVersionsUnknownSubject(t *testing.T) {
	srv := newServer(t)

	r := call(t, srv, http.MethodGet, "/subjects/nobody/versions", "")

	checkError(t, r, http.StatusNotFound, 40401)
}

func TestGetVersion(t *testing.T) {
	srv := newServer(t)
	first := register(t, srv, "users-value", userV1)
	second := register(t, srv, "users-value", userAddedDefault)
	tests := []struct {
		version string
		want    versionBody
	}{
		{"1", versionBody{Subject: "users-value", ID: first, Version: 1, Schema: userV1}},
		{"2", versionBody{Subject: "users-value", ID: second, Version: 2, Schema: userAddedDefault}},
		{"latest", versionBody{Subject: "users-value", ID: second, Version: 2, Schema: userAddedDefault}},
		{"-1", versionBody{Subject: "users-value", ID: second, Version: 2, Schema: userAddedDefault}},
	}
	for _, tt := range tests {
		t.Run(tt.version, func(t *testing.T) {
			r := call(t, srv, http.MethodGet, "/subjects/users-value/versions/"+tt.version, "")

			if r.status != http.StatusOK {
				t.Fatalf("status = %d, body %s", r.status, r.body)
			}
			if got := decode[versionBody](t, r); !equalVersion(got, tt.want) {
				t.Errorf("body = %+v, want %+v", got, tt.want)
			}
			if _, ok := decode[map[string]any](t, r)["schemaType"]; ok {
				t.Errorf("body %s has schemaType, want it omitted for AVRO", r.body)
			}
		})
	}
}

func TestGetVersionErrors(t *testing.T) {
	srv := newServer(t)
	register(t, srv, "users-value", userV1)
	tests := []struct {
		name   string
		path   string
		status int
		code   int
	}{
		{"unknown subject", "/subjects/nobody/versions/1", http.StatusNotFound, 40401},
		{"unknown version", "/subjects/users-value/versions/2", http.StatusNotFound, 40402},
		{"zero", "/subjects/users-value/versions/0", http.StatusUnprocessableEntity, 42202},
		{"negative", "/subjects/users-value/versions/-2", http.StatusUnprocessableEntity, 42202},
		{"word", "/subjects/users-value/versions/first", http.StatusUnprocessableEntity, 42202},
		{"too large", "/subjects/users-value/versions/2147483648", http.StatusUnprocessableEntity, 42202},
		{"schema of unknown version", "/subjects/users-value/versions/2/schema", http.StatusNotFound, 40402},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := call(t, srv, http.MethodGet, tt.path, "")

			checkError(t, r, tt.status, tt.code)
		})
	}
}

func TestGetVersionSchema(t *testing.T) {
	srv := newServer(t)
	register(t, srv, "users-value", userV1Spaced)

	r := call(t, srv, http.MethodGet, "/subjects/users-value/versions/latest/schema", "")

	if r.status != http.StatusOK {
		t.Fatalf("status = %d, body %s", r.status, r.body)
	}
	if got := strings.TrimSpace(string(r.body)); got != userV1 {
		t.Errorf("body = %s, want %s", got, userV1)
	}
}

func TestGetSchemaByID(t *testing.T) {
	srv := newServer(t)
	id := register(t, srv, "users-value", userV1)

	r := call(t, srv, http.MethodGet, fmt.Sprintf("/schemas/ids/%d", id), "")

	if r.status != http.StatusOK {
		t.Fatalf("status = %d, body %s", r.status, r.body)
	}
	got := decode[map[string]any](t, r)
	if got["schema"] != userV1 {
		t.Errorf("schema = %v, want %s", got["schema"], userV1)
	}
	if len(got) != 1 {
		t.Errorf("body = %s, want only the schema field", r.body)
	}
}

func TestGetRawSchemaByID(t *testing.T) {
	srv := newServer(t)
	id := register(t, srv, "users-value", userV1)

	r := call(t, srv, http.MethodGet, fmt.Sprintf("/schemas/ids/%d/schema", id), "")

	if got := strings.TrimSpace(string(r.body)); got != userV1 {
		t.Errorf("body = %s, want %s", got, userV1)
	}
}

func TestGetSchemaByIDErrors(t *testing.T) {
	srv := newServer(t)
	register(t, srv, "users-value", userV1)

	for _, path := range []string{"/schemas/ids/2", "/schemas/ids/0", "/schemas/ids/x", "/schemas/ids/2/versions"} {
		t.Run(path, func(t *testing.T) {
			r := call(t, srv, http.MethodGet, path, "")

			checkError(t, r, http.StatusNotFound, 40403)
		})
	}
}

func TestListSchemaVersions(t *testing.T) {
	srv := newServer(t)
	register(t, srv, "b-value", userOtherDoc)
	id := register(t, srv, "b-value", userV1)
	register(t, srv, "a-value", userV1)

	r := call(t, srv, http.MethodGet, fmt.Sprintf("/schemas/ids/%d/versions", id), "")

	want := `[{"subject":"a-value","version":1},{"subject":"b-value","version":2}]`
	if got := strings.TrimSpace(string(r.body)); got != want {
		t.Errorf("body = %s, want %s", got, want)
	}
}

func TestListSchemaTypes(t *testing.T) {
	srv := newServer(t)

	r := call(t, srv, http.MethodGet, "/schemas/types", "")

	if got := decode[[]string](t, r); !slices.Equal(got, []string{"AVRO"}) {
		t.Errorf("types = %v, want [AVRO]", got)
	}
}

func TestGlobalConfig(t *testing.T) {
	srv := newServer(t)

	initial := call(t, srv, http.MethodGet, "/config", "")
	put := call(t, srv, http.MethodPut, "/config", `{"compatibility":"full"}`)
	after := call(t, srv, http.MethodGet, "/config", "")
	deleted := call(t, srv, http.MethodDelete, "/config", "")
	reset := call(t, srv, http.MethodGet, "/config", "")

	if got := strings.TrimSpace(string(initial.body)); got != `{"compatibilityLevel":"BACKWARD"}` {
		t.Errorf("initial: body %s, want BACKWARD", got)
	}
	if got := strings.TrimSpace(string(put.body)); got != `{"compatibility":"FULL"}` {
		t.Errorf("PUT: body %s, want FULL", got)
	}
	if got := strings.TrimSpace(string(after.body)); got != `{"compatibilityLevel":"FULL"}` {
		t.Errorf("after PUT: body %s, want FULL", got)
	}
	if got := strings.TrimSpace(string(deleted.body)); got != `{"compatibilityLevel":"FULL"}` {
		t.Errorf("DELETE: body %s, want the previous level FULL", got)
	}
	if got := strings.TrimSpace(string(reset.body)); got != `{"compatibilityLevel":"BACKWARD"}` {
		t.Errorf("after DELETE: body %s, want BACKWARD", got)
	}
}

func TestConfigInvalidLevel(t *testing.T) {
	srv := newServer(t)

	for _, path := range []string{"/config", "/config/users-value"} {
		for _, body := range []string{`{"compatibility":"SIDEWAYS"}`, `{}`} {
			t.Run(path+" "+body, func(t *testing.T) {
				r := call(t, srv, http.MethodPut, path, body)

				checkError(t, r, http.StatusUnprocessableEntity, 42203)
			})
		}
	}
}

func TestSubjectConfig(t *testing.T) {
	srv := newServer(t)

	unset := call(t, srv, http.MethodGet, "/config/users-value", "")
	fallback := call(t, srv, http.MethodGet, "/config/users-value?defaultToGlobal=true", "")
	put := call(t, srv, http.MethodPut, "/config/users-value", `{"compatibility":"FORWARD_TRANSITIVE"}`)
	set := call(t, srv, http.MethodGet, "/config/users-value", "")
	deleted := call(t, srv, http.MethodDelete, "/config/users-value", "")
	deletedAgain := call(t, srv, http.MethodDelete, "/config/users-value", "")

	checkError(t, unset, http.StatusNotFound, 40408)
	if msg := decode[errorBody](t, unset).Message; !strings.Contains(msg, "'users-value'") {
		t.Errorf("message = %q, want it to name the subject", msg)
	}
	if got := strings.TrimSpace(string(fallback.body)); got != `{"compatibilityLevel":"BACKWARD"}` {
		t.Errorf("defaultToGlobal: body %s, want BACKWARD", got)
	}
	if got := strings.TrimSpace(string(put.body)); got != `{"compatibility":"FORWARD_TRANSITIVE"}` {
		t.Errorf("PUT: body %s", got)
	}
	if got := strings.TrimSpace(string(set.body)); got != `{"compatibilityLevel":"FORWARD_TRANSITIVE"}` {
		t.Errorf("after PUT: body %s", got)
	}
	if got := strings.TrimSpace(string(deleted.body)); got != `{"compatibilityLevel":"FORWARD_TRANSITIVE"}` {
		t.Errorf("DELETE: body %s, want the removed level", got)
	}
	checkError(t, deletedAgain, http.StatusNotFound, 40401)
}

func TestSubjectConfigOverridesGlobal(t *testing.T) {
	srv := newServer(t)
	register(t, srv, "s", userV1)
	setLevel(t, srv, "s", "NONE")

	r := call(t, srv, http.MethodPost, "/subjects/s/versions", schemaBody(userAddedNoDefault))

	if r.status != http.StatusOK {
		t.Errorf("status = %d, want 200 under NONE (body %s)", r.status, r.body)
	}
}

func TestCompatibilityCheck(t *testing.T) {
	srv := newServer(t)
	register(t, srv, "users-value", userV1)
	tests := []struct {
		name string
		path string
		body string
		want string
	}{
		{"compatible", "/versions/latest", schemaBody(userAddedDefault), `{"is_compatible":true}`},
		{"numbered version", "/versions/1", schemaBody(userAddedDefault), `{"is_compatible":true}`},
		{"incompatible", "/versions/latest", schemaBody(userAddedNoDefault), `{"is_compatible":false}`},
		{"verbose compatible", "/versions/latest?verbose=true", schemaBody(userAddedDefault), `{"is_compatible":true,"messages":[]}`},
		{"all versions", "/versions", schemaBody(userAddedNoDefault), `{"is_compatible":false}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := call(t, srv, http.MethodPost, "/compatibility/subjects/users-value"+tt.path, tt.body)

			if got := strings.TrimSpace(string(r.body)); got != tt.want {
				t.Errorf("body = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestCompatibilityCheckVerbose(t *testing.T) {
	srv := newServer(t)
	register(t, srv, "users-value", userV1)

	incompatible := call(t, srv, http.MethodPost, "/compatibility/subjects/users-value/versions/latest?verbose=true",
		schemaBody(userAddedNoDefault))
	invalid := call(t, srv, http.MethodPost, "/compatibility/subjects/users-value/versions/latest?verbose=true",
		`{"schema":"{"}`)

	type verboseBody struct {
		IsCompatible bool     `json:"is_compatible"`
		Messages     []string `json:"messages"`
	}
	got := decode[verboseBody](t, incompatible)
	if got.IsCompatible {
		t.Errorf("incompatible: is_compatible = true")
	}
	if len(got.Messages) != 1 || !strings.Contains(got.Messages[0], "email") {
		t.Errorf("incompatible: messages = %q, want one naming the field email", got.Messages)
	}
	if got := decode[verboseBody](t, invalid); got.IsCompatible || len(got.Messages) != 1 {
		t.Errorf("invalid schema: body %s, want is_compatible false and one message", invalid.body)
	}
}

func TestCompatibilityCheckErrors(t *testing.T) {
	srv := newServer(t)
	register(t, srv, "users-value", userV1)
	tests := []struct {
		name   string
		path   string
		body   string
		status int
		code   int
	}{
		{"unknown subject", "/compatibility/subjects/nobody/versions/latest", schemaBody(userV1), http.StatusNotFound, 40401},
		{"unknown version", "/compatibility/subjects/users-value/versions/7", schemaBody(userV1), http.StatusNotFound, 40402},
		{"invalid version", "/compatibility/subjects/users-value/versions/v1", schemaBody(userV1), http.StatusUnprocessableEntity, 42202},
		{"invalid schema", "/compatibility/subjects/users-value/versions/latest", `{"schema":"{"}`, http.StatusUnprocessableEntity, 42201},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := call(t, srv, http.MethodPost, tt.path, tt.body)

			checkError(t, r, tt.status, tt.code)
		})
	}
}

func TestCompatibilityCheckAllVersionsUnknownSubject(t *testing.T) {
	srv := newServer(t)

	r := call(t, srv, http.MethodPost, "/compatibility/subjects/nobody/versions", schemaBody(userV1))

	if got := strings.TrimSpace(string(r.body)); got != `{"is_compatible":true}` {
		t.Errorf("body = %s, want is_compatible true", got)
	}
}

func TestDeleteSubject(t *testing.T) {
	srv := newServer(t)
	id := register(t, srv, "users-value", userV1)
	register(t, srv, "users-value", userAddedDefault)

	soft := call(t, srv, http.MethodDelete, "/subjects/users-value", "")
	listed := decode[[]string](t, call(t, srv, http.MethodGet, "/subjects", ""))
	listedDeleted := decode[[]string](t, call(t, srv, http.MethodGet, "/subjects?deleted=true", ""))
	versions := call(t, srv, http.MethodGet, "/subjects/users-value/versions", "")
	byIDAfterSoft := call(t, srv, http.MethodGet, fmt.Sprintf("/schemas/ids/%d", id), "")
	softAgain := call(t, srv, http.MethodDelete, "/subjects/users-value", "")
	permanent := call(t, srv, http.MethodDelete, "/subjects/users-value?permanent=true", "")
	byIDAfterPermanent := call(t, srv, http.MethodGet, fmt.Sprintf("/schemas/ids/%d", id), "")
	permanentAgain := call(t, srv, http.MethodDelete, "/subjects/users-value?permanent=true", "")

	if got := strings.TrimSpace(string(soft.body)); got != "[1,2]" {
		t.Errorf("soft delete: body %s, want [1,2]", got)
	}
	if len(listed) != 0 {
		t.Errorf("subjects after soft delete = %v, want none", listed)
	}
	if !slices.Equal(listedDeleted, []string{"users-value"}) {
		t.Errorf("subjects with deleted=true = %v, want [users-value]", listedDeleted)
	}
	checkError(t, versions, http.StatusNotFound, 40401)
	if byIDAfterSoft.status != http.StatusOK {
		t.Errorf("schema by id after soft delete: status %d, want 200", byIDAfterSoft.status)
	}
	checkError(t, softAgain, http.StatusNotFound, 40404)
	if got := strings.TrimSpace(string(permanent.body)); got != "[1,2]" {
		t.Errorf("permanent delete: body %s, want [1,2]", got)
	}
	checkError(t, byIDAfterPermanent, http.StatusNotFound, 40403)
	checkError(t, permanentAgain, http.StatusNotFound, 40401)
}

func TestDeleteSubjectPermanentFirst(t *testing.T) {
	srv := newServer(t)
	register(t, srv, "users-value", userV1)

	r := call(t, srv, http.MethodDelete, "/subjects/users-value?permanent=true", "")

	checkError(t, r, http.StatusNotFound, 40405)
}

func TestDeleteVersion(t *testing.T) {
	srv := newServer(t)
	register(t, srv, "users-value", userV1)
	register(t, srv, "users-value", userAddedDefault)

	deleted := call(t, srv, http.MethodDelete, "/subjects/users-value/versions/latest", "")
	versions := decode[[]int](t, call(t, srv, http.MethodGet, "/subjects/users-value/versions", ""))
	withDeleted := decode[[]int](t, call(t, srv, http.MethodGet, "/subjects/users-value/versions?deleted=true", ""))
	get := call(t, srv, http.MethodGet, "/subjects/users-value/versions/2", "")
	getDeleted := call(t, srv, http.MethodGet, "/subjects/users-value/versions/2?deleted=true", "")
	again := call(t, srv, http.MethodDelete, "/subjects/users-value/versions/2", "")

	if got := strings.TrimSpace(string(deleted.body)); got != "2" {
		t.Errorf("delete: body %s, want 2", got)
	}
	if !slices.Equal(versions, []int{1}) {
		t.Errorf("versions = %v, want [1]", versions)
	}
	if !slices.Equal(withDeleted, []int{1, 2}) {
		t.Errorf("versions with deleted=true = %v, want [1 2]", withDeleted)
	}
	checkError(t, get, http.StatusNotFound, 40402)
	if getDeleted.status != http.StatusOK {
		t.Errorf("get with deleted=true: status %d, want 200", getDeleted.status)
	}
	checkError(t, again, http.StatusNotFound, 40406)
}

func TestDeleteVersionPermanent(t *testing.T) {
	srv := newServer(t)
	register(t, srv, "users-value", userV1)
	register(t, srv, "users-value", userAddedDefault)

	early := call(t, srv, http.MethodDelete, "/subjects/users-value/versions/2?permanent=true", "")
	call(t, srv, http.MethodDelete, "/subjects/users-value/versions/2", "")
	permanent := call(t, srv, http.MethodDelete, "/subjects/users-value/versions/2?permanent=true", "")
	withDeleted := decode[[]int](t, call(t, srv, http.MethodGet, "/subjects/users-value/versions?deleted=true", ""))

	checkError(t, early, http.StatusNotFound, 40407)
	if got := strings.TrimSpace(string(permanent.body)); got != "2" {
		t.Errorf("permanent delete: body %s, want 2", got)
	}
	if !slices.Equal(withDeleted, []int{1}) {
		t.Errorf("versions with deleted=true = %v, want [1]", withDeleted)
	}
}

func TestDeletedVersionSkipsChecks(t *testing.T) {
	const otherRecord = `{"type":"record","name":"Other","fields":[{"name":"a","type":"int"}]}`
	srv := newServer(t)
	setLevel(t, srv, "users-value", "NONE")
	register(t, srv, "users-value", userV1)
	register(t, srv, "users-value", otherRecord)
	call(t, srv, http.MethodDelete, "/subjects/users-value/versions/2", "")
	setLevel(t, srv, "users-value", "BACKWARD")

	// The candidate cannot read data written with version 2, a record of
	// another name, so it passes only if the check skips that version.
	r := call(t, srv, http.MethodPost, "/subjects/users-value/versions", schemaBody(userAddedDefault))

	if r.status != http.StatusOK {
		t.Errorf("status = %d, want 200 (body %s)", r.status, r.body)
	}
}

func TestReregisterDeletedSchema(t *testing.T) {
	srv := newServer(t)
	id := register(t, srv, "users-value", userV1)
	call(t, srv, http.MethodDelete, "/subjects/users-value/versions/1", "")

	again := register(t, srv, "users-value", userV1)
	latest := decode[versionBody](t, call(t, srv, http.MethodGet, "/subjects/users-value/versions/latest", ""))

	if again != id {
		t.Errorf("id = %d, want %d", again, id)
	}
	if latest.Version != 2 {
		t.Errorf("version = %d, want 2 because soft-deleted numbers stay taken", latest.Version)
	}
}

func TestReferences(t *testing.T) {
	const (
		address = `{"type":"record","name":"Address","namespace":"test","fields":[{"name":"city","type":"string"}]}`
		person  = `{"type":"record","name":"Person","namespace":"test","fields":[{"name":"home","type":"test.Address"}]}`
	)
	srv := newServer(t)
	register(t, srv, "address", address)
	body, err := json.Marshal(map[string]any{
		"schema":     person,
		"references": []map[string]any{{"name": "test.Address", "subject": "address", "version": -1}},
	})
	if err != nil {
		t.Fatal(err)
	}

	registered := call(t, srv, http.MethodPost, "/subjects/person/versions", string(body))
	latest := call(t, srv, http.MethodGet, "/subjects/person/versions/latest", "")
	lookup := call(t, srv, http.MethodPost, "/subjects/person", string(body))
	unresolved := call(t, srv, http.MethodPost, "/subjects/person/versions", schemaBody(person))
	deleteReferenced := call(t, srv, http.MethodDelete, "/subjects/address/versions/1", "")

	if registered.status != http.StatusOK {
		t.Fatalf("register: status %d, body %s", registered.status, registered.body)
	}
	want := `"references":[{"name":"test.Address","subject":"address","version":1}]`
	if !strings.Contains(string(latest.body), want) {
		t.Errorf("latest: body %s, want it to contain %s", latest.body, want)
	}
	if lookup.status != http.StatusOK {
		t.Errorf("lookup: status %d, body %s", lookup.status, lookup.body)
	}
	checkError(t, unresolved, http.StatusUnprocessableEntity, 42201)
	checkError(t, deleteReferenced, http.StatusUnprocessableEntity, 42206)
}

func TestRequestContentTypes(t *testing.T) {
	for _, mediaType := range []string{
		"application/vnd.schemaregistry.v1+json",
		"application/vnd.schemaregistry+json",
		"application/json",
		"application/json; charset=utf-8",
		"",
	} {
		t.Run(mediaType, func(t *testing.T) {
			srv := newServer(t)

			r := callWithType(t, srv, http.MethodPost, "/subjects/s/versions", schemaBody(userV1), mediaType)

			if r.status != http.StatusOK {
				t.Errorf("status = %d, want 200 (body %s)", r.status, r.body)
			}
		})
	}
}

func TestResponseContentType(t *testing.T) {
	srv := newServer(t)
	register(t, srv, "s", userV1)

	for _, path := range []string{"/subjects", "/subjects/s/versions/1/schema", "/subjects/nobody/versions", "/nowhere"} {
		t.Run(path, func(t *testing.T) {
			r := call(t, srv, http.MethodGet, path, "")

			if got := r.header.Get("Content-Type"); got != registryType {
				t.Errorf("Content-Type = %q, want %q", got, registryType)
			}
		})
	}
}

func TestRootEndpoint(t *testing.T) {
	srv := newServer(t)

	r := call(t, srv, http.MethodGet, "/", "")

	if r.status != http.StatusOK {
		t.Errorf("status = %d, want 200", r.status)
	}
	if got := strings.TrimSpace(string(r.body)); got != "{}" {
		t.Errorf("body = %s, want {}", got)
	}
}

func TestRequestTooLarge(t *testing.T) {
	srv := newServer(t)
	body := schemaBody(strings.Repeat(" ", 9<<20) + userV1)

	r := call(t, srv, http.MethodPost, "/subjects/s/versions", body)

	checkError(t, r, http.StatusRequestEntityTooLarge, 413)
}

func TestUnknownRoute(t *testing.T) {
	srv := newServer(t)

	r := call(t, srv, http.MethodGet, "/nowhere", "")

	checkError(t, r, http.StatusNotFound, 404)
}

func TestMethodNotAllowed(t *testing.T) {
	srv := newServer(t)

	r := call(t, srv, http.MethodPatch, "/config", `{}`)

	checkError(t, r, http.StatusMethodNotAllowed, 405)
	if got := r.header.Get("Allow"); got != "GET, PUT, DELETE" {
		t.Errorf("Allow = %q, want GET, PUT, DELETE", got)
	}
}

func TestEscapedSubjectName(t *testing.T) {
	srv := newServer(t)
	const name = "team/a b:value"

	register(t, srv, name, userV1)
	subjects := decode[[]string](t, call(t, srv, http.MethodGet, "/subjects", ""))
	latest := decode[versionBody](t, call(t, srv, http.MethodGet, "/subjects/"+url.PathEscape(name)+"/versions/latest", ""))

	if !slices.Equal(subjects, []string{name}) {
		t.Errorf("subjects = %q, want [%q]", subjects, name)
	}
	if latest.Subject != name {
		t.Errorf("subject = %q, want %q", latest.Subject, name)
	}
}

// The round trip uses srclient v0.7.0 unchanged, as squarebot does.
func TestSRClientRoundTrip(t *testing.T) {
	srv := newServer(t)
	client := srclient.CreateSchemaRegistryClient(srv.URL)
	const subject = "squarebot-value"

	created, err := client.CreateSchema(subject, userV1Spaced, srclient.Avro)
	if err != nil {
		t.Fatalf("CreateSchema: %v", err)
	}
	if created.ID() != 1 {
		t.Errorf("CreateSchema: id = %d, want 1", created.ID())
	}
	if created.Schema() != userV1 {
		t.Errorf("CreateSchema: schema = %s, want %s", created.Schema(), userV1)
	}

	byID, err := client.GetSchema(created.ID())
	if err != nil {
		t.Fatalf("GetSchema: %v", err)
	}
	if byID.Schema() != userV1 {
		t.Errorf("GetSchema: schema = %s, want %s", byID.Schema(), userV1)
	}

	compatible, err := client.IsSchemaCompatible(subject, userAddedDefault, "latest", srclient.Avro)
	if err != nil {
		t.Fatalf("IsSchemaCompatible: %v", err)
	}
	if !compatible {
		t.Errorf("IsSchemaCompatible(field with default) = false, want true")
	}
	incompatible, err := client.IsSchemaCompatible(subject, userAddedNoDefault, "1", srclient.Avro)
	if err != nil {
		t.Fatalf("IsSchemaCompatible: %v", err)
	}
	if incompatible {
		t.Errorf("IsSchemaCompatible(field without default) = true, want false")
	}

	second, err := client.CreateSchema(subject, userAddedDefault, srclient.Avro)
	if err != nil {
		t.Fatalf("CreateSchema v2: %v", err)
	}
	latest, err := client.GetLatestSchema(subject)
	if err != nil {
		t.Fatalf("GetLatestSchema: %v", err)
	}
	if latest.ID() != second.ID() {
		t.Errorf("GetLatestSchema: id = %d, want %d", latest.ID(), second.ID())
	}
	if latest.Version() != 2 {
		t.Errorf("GetLatestSchema: version = %d, want 2", latest.Version())
	}

	first, err := client.GetSchemaByVersion(subject, 1)
	if err != nil {
		t.Fatalf("GetSchemaByVersion: %v", err)
	}
	if first.ID() != created.ID() {
		t.Errorf("GetSchemaByVersion: id = %d, want %d", first.ID(), created.ID())
	}

	found, err := client.LookupSchema(subject, userV1Spaced, srclient.Avro)
	if err != nil {
		t.Fatalf("LookupSchema: %v", err)
	}
	if found.ID() != created.ID() || found.Version() != 1 {
		t.Errorf("LookupSchema: id %d version %d, want id %d version 1", found.ID(), found.Version(), created.ID())
	}

	versions, err := client.GetSchemaVersions(subject)
	if err != nil {
		t.Fatalf("GetSchemaVersions: %v", err)
	}
	if !slices.Equal(versions, []int{1, 2}) {
		t.Errorf("GetSchemaVersions = %v, want [1 2]", versions)
	}

	subjects, err := client.GetSubjects()
	if err != nil {
		t.Fatalf("GetSubjects: %v", err)
	}
	if !slices.Equal(subjects, []string{subject}) {
		t.Errorf("GetSubjects = %v, want [%s]", subjects, subject)
	}

	pairs, err := client.GetSubjectVersionsById(second.ID())
	if err != nil {
		t.Fatalf("GetSubjectVersionsById: %v", err)
	}
	if len(pairs) != 1 {
		t.Errorf("GetSubjectVersionsById: %d pairs, want 1", len(pairs))
	}

	global, err := client.GetGlobalCompatibilityLevel()
	if err != nil {
		t.Fatalf("GetGlobalCompatibilityLevel: %v", err)
	}
	if *global != srclient.Backward {
		t.Errorf("GetGlobalCompatibilityLevel = %s, want BACKWARD", *global)
	}
	changed, err := client.ChangeSubjectCompatibilityLevel(subject, srclient.FullTransitive)
	if err != nil {
		t.Fatalf("ChangeSubjectCompatibilityLevel: %v", err)
	}
	if *changed != srclient.FullTransitive {
		t.Errorf("ChangeSubjectCompatibilityLevel = %s, want FULL_TRANSITIVE", *changed)
	}
	level, err := client.GetCompatibilityLevel(subject, false)
	if err != nil {
		t.Fatalf("GetCompatibilityLevel: %v", err)
	}
	if *level != srclient.FullTransitive {
		t.Errorf("GetCompatibilityLevel = %s, want FULL_TRANSITIVE", *level)
	}
	fallback, err := client.GetCompatibilityLevel("unset-value", true)
	if err != nil {
		t.Fatalf("GetCompatibilityLevel(defaultToGlobal): %v", err)
	}
	if *fallback != srclient.Backward {
		t.Errorf("GetCompatibilityLevel(defaultToGlobal) = %s, want BACKWARD", *fallback)
	}

	if err := client.DeleteSubjectByVersion(subject, 2, true); err != nil {
		t.Fatalf("DeleteSubjectByVersion: %v", err)
	}
	if err := client.DeleteSubject(subject, true); err != nil {
		t.Fatalf("DeleteSubject: %v", err)
	}
	client.ResetCache()
	_, err = client.GetLatestSchema(subject)
	var registryErr srclient.Error
	if !errors.As(err, &registryErr) {
		t.Fatalf("GetLatestSchema after delete: error %v, want srclient.Error", err)
	}
	if registryErr.Code != 40401 {
		t.Errorf("GetLatestSchema after delete: code %d, want 40401", registryErr.Code)
	}
}

// Goroutines register at once: each a schema of its own under one subject,
// and all the same schema under subjects of their own. Run with -race.
func TestConcurrentRegistration(t *testing.T) {
	const workers = 8
	srv := newServer(t)
	setLevel(t, srv, "shared", "NONE")

	ownIDs := make([]int, workers)
	commonIDs := make([]int, workers)
	var wg sync.WaitGroup
	for i := range workers {
		wg.Go(func() {
			own := fmt.Sprintf(`{"type":"record","name":"R%d","fields":[{"name":"f","type":"int"}]}`, i)
			id, err := sendRegistration(t, srv, "shared", own)
			if err != nil {
				t.Error(err)
			}
			ownIDs[i] = id
			id, err = sendRegistration(t, srv, fmt.Sprintf("own-%d", i), userV1)
			if err != nil {
				t.Error(err)
			}
			commonIDs[i] = id
			if _, err := send(t.Context(), srv, http.MethodGet, "/subjects", "", ""); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()

	versions := decode[[]int](t, call(t, srv, http.MethodGet, "/subjects/shared/versions", ""))
	if !slices.Equal(versions, []int{1, 2, 3, 4, 5, 6, 7, 8}) {
		t.Errorf("versions = %v, want 1 to 8", versions)
	}
	if distinct := slices.Compact(slices.Sorted(slices.Values(ownIDs))); len(distinct) != workers {
		t.Errorf("ids of distinct schemas = %v, want %d different ids", ownIDs, workers)
	}
	if distinct := slices.Compact(slices.Sorted(slices.Values(commonIDs))); len(distinct) != 1 {
		t.Errorf("ids of one schema = %v, want a single id", commonIDs)
	}
}

// sendRegistration registers schema under subject from any goroutine and
// returns its ID.
func sendRegistration(t *testing.T, srv *httptest.Server, subject, schema string) (int, error) {
	r, err := send(t.Context(), srv, http.MethodPost, "/subjects/"+url.PathEscape(subject)+"/versions",
		schemaBody(schema), registryType)
	if err != nil {
		return 0, err
	}
	if r.status != http.StatusOK {
		return 0, fmt.Errorf("registering under %q: status %d, body %s", subject, r.status, r.body)
	}
	var body struct {
		ID int `json:"id"`
	}
	if err := json.Unmarshal(r.body, &body); err != nil {
		return 0, fmt.Errorf("decoding %q: %w", r.body, err)
	}
	return body.ID, nil
}

func equalVersion(got, want versionBody) bool {
	return got.Subject == want.Subject && got.ID == want.ID && got.Version == want.Version &&
		got.Schema == want.Schema && len(got.References) == len(want.References)
}
