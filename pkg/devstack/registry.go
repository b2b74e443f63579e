package devstack

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode"

	"github.com/hamba/avro/v2"
)

// contentType is the media type of every response, as Confluent Schema
// Registry sends it for API version 1.
const contentType = "application/vnd.schemaregistry.v1+json"

// maxBodyBytes caps a request body so that a runaway client cannot exhaust
// memory. A larger body gets 413.
const maxBodyBytes = 8 << 20

// latestVersion is the version number that selects a subject's newest
// version, as "latest" and -1 do in Confluent's API.
const latestVersion = -1

// schemaTypeAvro is the only schema type the registry accepts. A request
// that omits schemaType means Avro.
const schemaTypeAvro = "AVRO"

// Registry is an in-memory schema registry for Avro schemas that speaks
// Confluent Schema Registry's REST API. It is an http.Handler and is safe for
// concurrent use.
//
// Deletes work as in Confluent. A soft delete hides a version from listings
// and compatibility checks, and a permanent delete (?permanent=true) of a
// soft-deleted version removes it. An ID keeps naming the same schema even
// after a permanent delete.
type Registry struct {
	mux *http.ServeMux

	mu            sync.Mutex
	globalLevel   compatibilityLevel
	subjectLevels map[string]compatibilityLevel
	subjects      map[string]*subject
	// schemas holds every schema ever registered, at index ID-1.
	schemas       []*schemaRecord
	idsByIdentity map[string]int
}

// schemaRecord is one registered schema, shared by every subject version
// whose schema has the same identity.
type schemaRecord struct {
	id int
	// text is the compact JSON form that compactSchema returns.
	text string
	// references carry exact version numbers, because resolution replaces
	// -1 with the latest version.
	references []reference
	// dependencies are the schemas that references name, with their own
	// dependencies first, in the order that parseAvro needs.
	dependencies []*schemaRecord
	identity     string
	parsed       avro.Schema
}

// reference names a type defined by another subject's schema.
type reference struct {
	Name    string `json:"name"`
	Subject string `json:"subject"`
	Version int    `json:"version"`
}

// subject is the version history of one subject. The methods of *subject
// accept a nil receiver, which stands for a subject that has no versions.
type subject struct {
	// versions is in ascending order and includes soft-deleted versions.
	versions []*version
}

// version is one numbered entry of a subject.
type version struct {
	number  int
	schema  *schemaRecord
	deleted bool
}

// NewRegistry returns an empty registry whose global compatibility level is
// BACKWARD, Confluent's default.
func NewRegistry() *Registry {
	r := &Registry{
		globalLevel:   levelBackward,
		subjectLevels: make(map[string]compatibilityLevel),
		subjects:      make(map[string]*subject),
		idsByIdentity: make(map[string]int),
	}
	r.mux = r.routes()
	return r
}

// ServeHTTP serves Confluent Schema Registry's REST API.
func (r *Registry) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	r.mux.ServeHTTP(w, req)
}

// handlerFunc handles one API call. It returns the value to encode as the
// JSON response body, or an error, which writeError maps to a response.
type handlerFunc func(req *http.Request) (any, error)

func (r *Registry) routes() *http.ServeMux {
	routes := []struct {
		method  string
		path    string
		handler handlerFunc
	}{
		{http.MethodGet, "/{$}", getRoot},
		{http.MethodGet, "/subjects", r.listSubjects},
		{http.MethodPost, "/subjects/{subject}", r.lookupSchema},
		{http.MethodDelete, "/subjects/{subject}", r.deleteSubject},
		{http.MethodGet, "/subjects/{subject}/versions", r.listVersions},
		{http.MethodPost, "/subjects/{subject}/versions", r.registerSchema},
		{http.MethodGet, "/subjects/{subject}/versions/{version}", r.getVersion},
		{http.MethodDelete, "/subjects/{subject}/versions/{version}", r.deleteVersion},
		{http.MethodGet, "/subjects/{subject}/versions/{version}/schema", r.getVersionSchema},
		{http.MethodGet, "/schemas/ids/{id}", r.getSchemaByID},
		{http.MethodGet, "/schemas/ids/{id}/schema", r.getRawSchemaByID},
		{http.MethodGet, "/schemas/ids/{id}/versions", r.listSchemaVersions},
		{http.MethodGet, "/schemas/types", listSchemaTypes},
		{http.MethodGet, "/config", r.getGlobalConfig},
		{http.MethodPut, "/config", r.putGlobalConfig},
		{http.MethodDelete, "/config", r.deleteGlobalConfig},
		{http.MethodGet, "/config/{subject}", r.getSubjectConfig},
		{http.MethodPut, "/config/{subject}", r.putSubjectConfig},
		{http.MethodDelete, "/config/{subject}", r.deleteSubjectConfig},
		{http.MethodPost, "/compatibility/subjects/{subject}/versions", r.checkAgainstSubject},
		{http.MethodPost, "/compatibility/subjects/{subject}/versions/{version}", r.checkAgainstVersion},
	}

	mux := http.NewServeMux()
	allowed := make(map[string][]string)
	for _, route := range routes {
		mux.Handle(route.method+" "+route.path, serveJSON(route.handler))
		allowed[route.path] = append(allowed[route.path], route.method)
	}

	// A pattern without a method is less specific than the same path with
	// one, so these catch only the methods that the table leaves out. They
	// replace ServeMux's plain-text 405 and 404 with JSON errors.
	for path, methods := range allowed {
		mux.Handle(path, methodNotAllowed(methods))
	}
	mux.Handle("/", serveJSON(func(*http.Request) (any, error) {
		return nil, &apiError{status: http.StatusNotFound, code: http.StatusNotFound, message: "HTTP 404 Not Found"}
	}))
	return mux
}

func serveJSON(handle handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		req.Body = http.MaxBytesReader(w, req.Body, maxBodyBytes)
		body, err := handle(req)
		if err != nil {
			writeError(w, err)
			return
		}
		writeJSON(w, http.StatusOK, body)
	})
}

func methodNotAllowed(methods []string) http.Handler {
	allow := strings.Join(methods, ", ")
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		w.Header().Set("Allow", allow)
		writeError(w, &apiError{
			status:  http.StatusMethodNotAllowed,
			code:    http.StatusMethodNotAllowed,
			message: "HTTP 405 Method Not Allowed",
		})
	})
}

func getRoot(*http.Request) (any, error) {
	return struct{}{}, nil
}

func listSchemaTypes(*http.Request) (any, error) {
	return []string{schemaTypeAvro}, nil
}

// schemaRequest is the body of registration, look-up and compatibility
// calls. Fields that Confluent added later, such as metadata and ruleSet,
// are ignored.
type schemaRequest struct {
	Schema     string      `json:"schema"`
	SchemaType string      `json:"schemaType"`
	References []reference `json:"references"`
}

// versionResponse describes one subject version. It has no schemaType
// field because srclient and Confluent read a missing one as AVRO, the only
// type here.
type versionResponse struct {
	Subject    string      `json:"subject"`
	Version    int         `json:"version"`
	ID         int         `json:"id"`
	References []reference `json:"references,omitempty"`
	Schema     string      `json:"schema"`
}

func newVersionResponse(subjectName string, v *version) versionResponse {
	return versionResponse{
		Subject:    subjectName,
		Version:    v.number,
		ID:         v.schema.id,
		References: v.schema.references,
		Schema:     v.schema.text,
	}
}

func (r *Registry) listSubjects(req *http.Request) (any, error) {
	includeDeleted := queryFlag(req, "deleted")

	r.mu.Lock()
	defer r.mu.Unlock()

	names := []string{}
	for name, s := range r.subjects {
		if s.latest(includeDeleted) != nil {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	return names, nil
}

func (r *Registry) registerSchema(req *http.Request) (any, error) {
	subjectName := req.PathValue("subject")
	if err := validateSubject(subjectName); err != nil {
		return nil, err
	}
	var body schemaRequest
	if err := decodeBody(req, &body); err != nil {
		return nil, err
	}

	r.mu.Lock()
	defer r.mu.Unlock()

	candidate, err := r.prepareSchema(body)
	if err != nil {
		return nil, err
	}
	s := r.subjects[subjectName]
	if v := s.findSchema(candidate.identity, false); v != nil {
		return idResponse{ID: v.schema.id}, nil
	}
	level := r.levelFor(subjectName)
	if messages := findIncompatibilities(level, candidate.parsed, s.live()); len(messages) > 0 {
		return nil, errIncompatible(subjectName, level, messages)
	}

	record := r.storeSchema(candidate)
	if s == nil {
		s = &subject{}
		r.subjects[subjectName] = s
	}
	s.versions = append(s.versions, &version{number: s.nextNumber(), schema: record})
	return idResponse{ID: record.id}, nil
}

// idResponse is the body that a registration returns.
type idResponse struct {
	ID int `json:"id"`
}

func (r *Registry) lookupSchema(req *http.Request) (any, error) {
	subjectName := req.PathValue("subject")
	includeDeleted := queryFlag(req, "deleted")
	var body schemaRequest
	if err := decodeBody(req, &body); err != nil {
		return nil, err
	}

	r.mu.Lock()
	defer r.mu.Unlock()

	s := r.subjects[subjectName]
	if s.latest(includeDeleted) == nil {
		return nil, errSubjectNotFound(subjectName)
	}
	candidate, err := r.prepareSchema(body)
	if err != nil {
		return nil, err
	}
	v := s.findSchema(candidate.identity, includeDeleted)
	if v == nil {
		return nil, errSchemaNotFound("Schema not found under subject " + strconv.Quote(subjectName))
	}
	return newVersionResponse(subjectName, v), nil
}

func (r *Registry) listVersions(req *http.Request) (any, error) {
	subjectName := req.PathValue("subject")
	includeDeleted := queryFlag(req, "deleted")

	r.mu.Lock()
	defer r.mu.Unlock()

	s := r.subjects[subjectName]
	if s.latest(includeDeleted) == nil {
		return nil, errSubjectNotFound(subjectName)
	}
	numbers := []int{}
	for _, v := range s.versions {
		if includeDeleted || !v.deleted {
			numbers = append(numbers, v.number)
		}
	}
	return numbers, nil
}

func (r *Registry) getVersion(req *http.Request) (any, error) {
	subjectName := req.PathValue("subject")
	v, err := r.findVersion(subjectName, req.PathValue("version"), queryFlag(req, "deleted"))
	if err != nil {
		return nil, err
	}
	return newVersionResponse(subjectName, v), nil
}

// getVersionSchema returns the schema text alone, which is itself JSON.
func (r *Registry) getVersionSchema(req *http.Request) (any, error) {
	v, err := r.findVersion(req.PathValue("subject"), req.PathValue("version"), queryFlag(req, "deleted"))
	if err != nil {
		return nil, err
	}
	return json.RawMessage(v.schema.text), nil
}

// findVersion resolves a version string of a request under the lock.
func (r *Registry) findVersion(subjectName, versionText string, includeDeleted bool) (*version, error) {
	number, err := parseVersion(versionText)
	if err != nil {
		return nil, err
	}

	r.mu.Lock()
	defer r.mu.Unlock()
	return r.lookupVersion(subjectName, number, versionText, includeDeleted)
}

// lookupVersion finds version number of a subject. The caller holds r.mu;
// versionText is the request's spelling of the version, for the error.
func (r *Registry) lookupVersion(subjectName string, number int, versionText string, includeDeleted bool) (*version, error) {
	s := r.subjects[subjectName]
	if s.latest(includeDeleted) == nil {
		return nil, errSubjectNotFound(subjectName)
	}
	v := s.find(number, includeDeleted)
	if v == nil {
		return nil, errVersionNotFound(versionText)
	}
	return v, nil
}

// schemaResponse is the body of GET /schemas/ids/{id}.
type schemaResponse struct {
	Schema     string      `json:"schema"`
	References []reference `json:"references,omitempty"`
}

func (r *Registry) getSchemaByID(req *http.Request) (any, error) {
	record, err := r.findSchemaByID(req.PathValue("id"))
	if err != nil {
		return nil, err
	}
	return schemaResponse{Schema: record.text, References: record.references}, nil
}

func (r *Registry) getRawSchemaByID(req *http.Request) (any, error) {
	record, err := r.findSchemaByID(req.PathValue("id"))
	if err != nil {
		return nil, err
	}
	return json.RawMessage(record.text), nil
}

// subjectVersion is one entry of GET /schemas/ids/{id}/versions.
type subjectVersion struct {
	Subject string `json:"subject"`
	Version int    `json:"version"`
}

func (r *Registry) listSchemaVersions(req *http.Request) (any, error) {
	record, err := r.findSchemaByID(req.PathValue("id"))
	if err != nil {
		return nil, err
	}
	includeDeleted := queryFlag(req, "deleted")

	r.mu.Lock()
	defer r.mu.Unlock()

	uses := []subjectVersion{}
	for name, s := range r.subjects {
		for _, v := range s.versions {
			if v.schema == record && (includeDeleted || !v.deleted) {
				uses = append(uses, subjectVersion{Subject: name, Version: v.number})
			}
		}
	}
	slices.SortFunc(uses, func(a, b subjectVersion) int {
		if c := strings.Compare(a.Subject, b.Subject); c != 0 {
			return c
		}
		return a.Version - b.Version
	})
	return uses, nil
}

// findSchemaByID returns the schema with the ID text while some subject
// version, soft-deleted or not, still uses it. Otherwise, and for an ID that
// is not a number, it returns 40403.
func (r *Registry) findSchemaByID(idText string) (*schemaRecord, error) {
	id, err := strconv.Atoi(idText)
	if err != nil {
		return nil, errSchemaNotFound(fmt.Sprintf("Schema %s not found", idText))
	}

	r.mu.Lock()
	defer r.mu.Unlock()

	if id < 1 || id > len(r.schemas) || !r.inUse(r.schemas[id-1]) {
		return nil, errSchemaNotFound(fmt.Sprintf("Schema %d not found", id))
	}
	return r.schemas[id-1], nil
}

// inUse reports whether any subject version, soft-deleted or not, holds the
// schema.
func (r *Registry) inUse(record *schemaRecord) bool {
	for _, s := range r.subjects {
		for _, v := range s.versions {
			if v.schema == record {
				return true
			}
		}
	}
	return false
}

// levelResponse is the body of a configuration read, and of a delete, which
// returns the level it removed.
type levelResponse struct {
	CompatibilityLevel compatibilityLevel `json:"compatibilityLevel"`
}

// levelUpdate is the body of a configuration update and of its response.
type levelUpdate struct {
	Compatibility string `json:"compatibility"`
}

func (r *Registry) getGlobalConfig(*http.Request) (any, error) {
	r.mu.Lock()
	defer r.mu.Unlock()

	return levelResponse{CompatibilityLevel: r.globalLevel}, nil
}

func (r *Registry) putGlobalConfig(req *http.Request) (any, error) {
	level, err := decodeLevel(req)
	if err != nil {
		return nil, err
	}

	r.mu.Lock()
	defer r.mu.Unlock()

	r.globalLevel = level
	return levelUpdate{Compatibility: string(level)}, nil
}

// deleteGlobalConfig resets the global level to BACKWARD and returns the
// level it replaced.
func (r *Registry) deleteGlobalConfig(*http.Request) (any, error) {
	r.mu.Lock()
	defer r.mu.Unlock()

	previous := r.globalLevel
	r.globalLevel = levelBackward
	return levelResponse{CompatibilityLevel: previous}, nil
}

func (r *Registry) getSubjectConfig(req *http.Request) (any, error) {
	subjectName := req.PathValue("subject")

	r.mu.Lock()
	defer r.mu.Unlock()

	if level, ok := r.subjectLevels[subjectName]; ok {
		return levelResponse{CompatibilityLevel: level}, nil
	}
	if queryFlag(req, "defaultToGlobal") {
		return levelResponse{CompatibilityLevel: r.globalLevel}, nil
	}
	return nil, &apiError{
		status:  http.StatusNotFound,
		code:    40408,
		message: fmt.Sprintf("Subject '%s' does not have subject-level compatibility configured", subjectName),
	}
}

// putSubjectConfig sets a subject's level. The subject need not exist yet,
// so a level can be set before the first registration.
func (r *Registry) putSubjectConfig(req *http.Request) (any, error) {
	subjectName := req.PathValue("subject")
	if err := validateSubject(subjectName); err != nil {
		return nil, err
	}
	level, err := decodeLevel(req)
	if err != nil {
		return nil, err
	}

	r.mu.Lock()
	defer r.mu.Unlock()

	r.subjectLevels[subjectName] = level
	return levelUpdate{Compatibility: string(level)}, nil
}

// deleteSubjectConfig removes a subject's level and returns it. Like
// Confluent, it returns 40401 when the subject has no level of its own.
func (r *Registry) deleteSubjectConfig(req *http.Request) (any, error) {
	subjectName := req.PathValue("subject")

	r.mu.Lock()
	defer r.mu.Unlock()

	level, ok := r.subjectLevels[subjectName]
	if !ok {
		return nil, errSubjectNotFound(subjectName)
	}
	delete(r.subjectLevels, subjectName)
	return levelResponse{CompatibilityLevel: level}, nil
}

func decodeLevel(req *http.Request) (compatibilityLevel, error) {
	var body levelUpdate
	if err := decodeBody(req, &body); err != nil {
		return "", err
	}
	level, ok := parseLevel(body.Compatibility)
	if !ok {
		return "", &apiError{
			status: http.StatusUnprocessableEntity,
			code:   42203,
			message: fmt.Sprintf("Invalid compatibility level %q: use one of NONE, BACKWARD, BACKWARD_TRANSITIVE, "+
				"FORWARD, FORWARD_TRANSITIVE, FULL or FULL_TRANSITIVE", body.Compatibility),
		}
	}
	return level, nil
}

// levelFor returns the subject's own level, or the global level when the
// subject has none.
func (r *Registry) levelFor(subjectName string) compatibilityLevel {
	if level, ok := r.subjectLevels[subjectName]; ok {
		return level
	}
	return r.globalLevel
}

// compatibilityResponse is the body of a compatibility check. Messages is
// present, possibly empty, only when the request asked for ?verbose=true.
type compatibilityResponse struct {
	IsCompatible bool     `json:"is_compatible"`
	Messages     []string `json:"messages,omitzero"`
}

// checkAgainstVersion checks a schema against one version with the
// subject's level. A subject without live versions is 40401, even for
// "latest".
func (r *Registry) checkAgainstVersion(req *http.Request) (any, error) {
	subjectName := req.PathValue("subject")
	versionText := req.PathValue("version")
	number, err := parseVersion(versionText)
	if err != nil {
		return nil, err
	}
	var body schemaRequest
	if err := decodeBody(req, &body); err != nil {
		return nil, err
	}

	r.mu.Lock()
	defer r.mu.Unlock()

	v, err := r.lookupVersion(subjectName, number, versionText, false)
	if err != nil {
		return nil, err
	}
	return r.checkCompatibility(subjectName, body, []*version{v}, queryFlag(req, "verbose"))
}

// checkAgainstSubject runs the check that a registration would run. A
// subject without live versions accepts any valid schema.
func (r *Registry) checkAgainstSubject(req *http.Request) (any, error) {
	subjectName := req.PathValue("subject")
	var body schemaRequest
	if err := decodeBody(req, &body); err != nil {
		return nil, err
	}

	r.mu.Lock()
	defer r.mu.Unlock()

	return r.checkCompatibility(subjectName, body, r.subjects[subjectName].live(), queryFlag(req, "verbose"))
}

// checkCompatibility checks body against versions. With verbose set, an
// invalid schema is reported as incompatible with the reason as its message,
// as Confluent does, in place of a 42201 error.
func (r *Registry) checkCompatibility(subjectName string, body schemaRequest, versions []*version, verbose bool) (any, error) {
	candidate, err := r.prepareSchema(body)
	if err != nil {
		var apiErr *apiError
		if verbose && errors.As(err, &apiErr) {
			return compatibilityResponse{IsCompatible: false, Messages: []string{apiErr.message}}, nil
		}
		return nil, err
	}

	messages := findIncompatibilities(r.levelFor(subjectName), candidate.parsed, versions)
	response := compatibilityResponse{IsCompatible: len(messages) == 0}
	if verbose {
		response.Messages = append([]string{}, messages...)
	}
	return response, nil
}

// deleteSubject soft-deletes every live version, or with ?permanent=true
// removes a subject whose versions are all soft-deleted. It returns the
// version numbers it deleted.
func (r *Registry) deleteSubject(req *http.Request) (any, error) {
	subjectName := req.PathValue("subject")
	permanent := queryFlag(req, "permanent")

	r.mu.Lock()
	defer r.mu.Unlock()

	s := r.subjects[subjectName]
	if s.latest(true) == nil {
		return nil, errSubjectNotFound(subjectName)
	}
	live := s.live()
	if !permanent && len(live) == 0 {
		return nil, &apiError{
			status:  http.StatusNotFound,
			code:    40404,
			message: fmt.Sprintf("Subject '%s' was soft deleted. Set permanent=true to delete it permanently", subjectName),
		}
	}
	if permanent && len(live) > 0 {
		return nil, &apiError{
			status:  http.StatusNotFound,
			code:    40405,
			message: fmt.Sprintf("Subject '%s' must be soft deleted before it is permanently deleted", subjectName),
		}
	}

	targets := live
	if permanent {
		targets = s.versions
	}
	for _, v := range targets {
		if err := r.checkNotReferenced(subjectName, v); err != nil {
			return nil, err
		}
	}

	numbers := make([]int, 0, len(targets))
	for _, v := range targets {
		numbers = append(numbers, v.number)
		v.deleted = true
	}
	if permanent {
		r.removeSubject(subjectName)
	}
	return numbers, nil
}

// deleteVersion soft-deletes one version, or with ?permanent=true removes a
// soft-deleted one. It returns the version number.
func (r *Registry) deleteVersion(req *http.Request) (any, error) {
	subjectName := req.PathValue("subject")
	versionText := req.PathValue("version")
	permanent := queryFlag(req, "permanent")
	number, err := parseVersion(versionText)
	if err != nil {
		return nil, err
	}

	r.mu.Lock()
	defer r.mu.Unlock()

	// A numbered version is looked up among soft-deleted ones too, so that
	// deleting it twice is 40406 rather than 40402. "latest" means the
	// newest live version, except for a permanent delete.
	s := r.subjects[subjectName]
	if s.latest(true) == nil {
		return nil, errSubjectNotFound(subjectName)
	}
	v := s.find(number, permanent || number != latestVersion)
	if v == nil {
		return nil, errVersionNotFound(versionText)
	}
	if !permanent && v.deleted {
		return nil, &apiError{
			status:  http.StatusNotFound,
			code:    40406,
			message: fmt.Sprintf("Subject '%s' version %d was soft deleted. Set permanent=true to delete it permanently", subjectName, v.number),
		}
	}
	if permanent && !v.deleted {
		return nil, &apiError{
			status:  http.StatusNotFound,
			code:    40407,
			message: fmt.Sprintf("Subject '%s' version %d must be soft deleted before it is permanently deleted", subjectName, v.number),
		}
	}
	if err := r.checkNotReferenced(subjectName, v); err != nil {
		return nil, err
	}

	if !permanent {
		v.deleted = true
		return v.number, nil
	}
	s.versions = slices.DeleteFunc(s.versions, func(other *version) bool { return other == v })
	if len(s.versions) == 0 {
		r.removeSubject(subjectName)
	}
	return v.number, nil
}

// removeSubject deletes a subject that has no versions left, and its level,
// as Confluent does after a permanent delete.
func (r *Registry) removeSubject(subjectName string) {
	delete(r.subjects, subjectName)
	delete(r.subjectLevels, subjectName)
}

// checkNotReferenced returns 42206 when a schema that some version still
// uses references v, because deleting v would leave that schema unresolvable
// for clients.
func (r *Registry) checkNotReferenced(subjectName string, v *version) error {
	for _, record := range r.schemas {
		for _, ref := range record.references {
			if ref.Subject == subjectName && ref.Version == v.number && r.inUse(record) {
				return &apiError{
					status: http.StatusUnprocessableEntity,
					code:   42206,
					message: fmt.Sprintf("Subject '%s' version %d is referenced by schema %d. Delete the versions that use that schema first",
						subjectName, v.number, record.id),
				}
			}
		}
	}
	return nil
}

// prepareSchema validates a request's schema and resolves its references.
// It returns the stored record when the registry already holds a schema with
// the same identity, or else a new record with ID 0 that storeSchema can add.
func (r *Registry) prepareSchema(body schemaRequest) (*schemaRecord, error) {
	if body.SchemaType != "" && body.SchemaType != schemaTypeAvro {
		return nil, errInvalidSchema(fmt.Sprintf("Schema type %q is not supported: this registry supports only AVRO", body.SchemaType))
	}
	if strings.TrimSpace(body.Schema) == "" {
		return nil, errInvalidSchema("Invalid schema: the schema is empty")
	}
	text, err := compactSchema(body.Schema)
	if err != nil {
		return nil, errInvalidSchema("Invalid schema: " + err.Error())
	}
	references, dependencies, err := r.resolveReferences(body.References)
	if err != nil {
		return nil, errInvalidSchema("Invalid schema: " + err.Error())
	}

	identity := schemaIdentity(text, references)
	if id, ok := r.idsByIdentity[identity]; ok {
		return r.schemas[id-1], nil
	}
	parsed, err := parseAvro(text, dependencies)
	if err != nil {
		return nil, errInvalidSchema("Invalid schema: " + err.Error())
	}
	return &schemaRecord{
		text:         text,
		references:   references,
		dependencies: dependencies,
		identity:     identity,
		parsed:       parsed,
	}, nil
}

// storeSchema assigns the next ID to a record that prepareSchema created and
// returns it. It returns a stored record unchanged.
func (r *Registry) storeSchema(record *schemaRecord) *schemaRecord {
	if record.id != 0 {
		return record
	}
	r.schemas = append(r.schemas, record)
	record.id = len(r.schemas)
	r.idsByIdentity[record.identity] = record.id
	return record
}

// resolveReferences looks up each reference's live version. It returns the
// references with -1 replaced by the latest version number, and every schema
// they depend on, dependencies first and each once.
func (r *Registry) resolveReferences(refs []reference) ([]reference, []*schemaRecord, error) {
	var (
		resolved     []reference
		dependencies []*schemaRecord
		seen         = make(map[*schemaRecord]bool)
	)
	add := func(record *schemaRecord) {
		if !seen[record] {
			seen[record] = true
			dependencies = append(dependencies, record)
		}
	}

	for _, ref := range refs {
		if ref.Name == "" || ref.Subject == "" {
			return nil, nil, fmt.Errorf("reference %+v needs both a name and a subject", ref)
		}
		v := r.subjects[ref.Subject].find(ref.Version, false)
		if v == nil {
			return nil, nil, fmt.Errorf("reference %q: subject %q has no live version %d", ref.Name, ref.Subject, ref.Version)
		}
		ref.Version = v.number
		resolved = append(resolved, ref)
		for _, dependency := range v.schema.dependencies {
			add(dependency)
		}
		add(v.schema)
	}
	return resolved, dependencies, nil
}

// schemaIdentity returns the key that decides whether two schemas share an
// ID. It combines the compact text and the resolved references.
func schemaIdentity(text string, references []reference) string {
	var key strings.Builder
	key.WriteString(text)
	for _, ref := range references {
		fmt.Fprintf(&key, "\x00%s\x00%s\x00%d", ref.Name, ref.Subject, ref.Version)
	}
	return key.String()
}

// live returns the versions that are not soft-deleted, in ascending order.
func (s *subject) live() []*version {
	if s == nil {
		return nil
	}
	var live []*version
	for _, v := range s.versions {
		if !v.deleted {
			live = append(live, v)
		}
	}
	return live
}

// latest returns the newest version, or nil when there is none.
func (s *subject) latest(includeDeleted bool) *version {
	if s == nil {
		return nil
	}
	for _, v := range slices.Backward(s.versions) {
		if includeDeleted || !v.deleted {
			return v
		}
	}
	return nil
}

// find returns the version with the number, or the newest one for
// latestVersion, or nil when there is none.
func (s *subject) find(number int, includeDeleted bool) *version {
	if number == latestVersion {
		return s.latest(includeDeleted)
	}
	if s == nil {
		return nil
	}
	for _, v := range s.versions {
		if v.number == number && (includeDeleted || !v.deleted) {
			return v
		}
	}
	return nil
}

// findSchema returns the newest version whose schema has the identity.
func (s *subject) findSchema(identity string, includeDeleted bool) *version {
	if s == nil {
		return nil
	}
	for _, v := range slices.Backward(s.versions) {
		if v.schema.identity == identity && (includeDeleted || !v.deleted) {
			return v
		}
	}
	return nil
}

// nextNumber returns the number for a new version. Soft-deleted versions
// keep their numbers, so numbering continues after them.
func (s *subject) nextNumber() int {
	if v := s.latest(true); v != nil {
		return v.number + 1
	}
	return 1
}

// parseVersion parses a version path segment, which is a number from 1 to
// 2^31-1, "latest" or -1.
func parseVersion(text string) (int, error) {
	if strings.EqualFold(text, "latest") {
		return latestVersion, nil
	}
	number, err := strconv.ParseInt(text, 10, 32)
	if err != nil || (number < 1 && number != latestVersion) {
		return 0, &apiError{
			status: http.StatusUnprocessableEntity,
			code:   42202,
			message: fmt.Sprintf("The specified version '%s' is not a valid version id: "+
				"use a number from 1 to 2^31-1, -1 or \"latest\"", text),
		}
	}
	return int(number), nil
}

// validateSubject rejects empty subject names and names with control
// characters with 42208, Confluent's code for an invalid subject.
func validateSubject(name string) error {
	if name == "" || strings.ContainsFunc(name, unicode.IsControl) {
		return &apiError{
			status:  http.StatusUnprocessableEntity,
			code:    42208,
			message: fmt.Sprintf("Invalid subject %q: a subject must be non-empty and contain no control characters", name),
		}
	}
	return nil
}

// queryFlag reports whether the query parameter is "true", ignoring case.
// Any other value, or none, is false.
func queryFlag(req *http.Request, name string) bool {
	return strings.EqualFold(req.URL.Query().Get(name), "true")
}

// acceptedBodyTypes are the request media types that Confluent's resources
// consume. Confluent reads application/octet-stream, the default of clients
// that set no type, as JSON. A request without Content-Type is accepted too.
var acceptedBodyTypes = []string{
	"application/vnd.schemaregistry.v1+json",
	"application/vnd.schemaregistry+json",
	"application/json",
	"application/octet-stream",
}

// decodeBody decodes the JSON request body into v.
//
// The errors match Confluent's REST layer, confluentinc/rest-utils. A body
// that is not valid JSON, or does not fit the expected shape, is 400 with
// error_code 400. A missing body is 422 with error_code 422. A valid body
// with an invalid schema is 42201, which prepareSchema returns.
func decodeBody(req *http.Request, v any) error {
	if err := checkContentType(req.Header.Get("Content-Type")); err != nil {
		return err
	}

	err := json.NewDecoder(req.Body).Decode(v)
	var tooLarge *http.MaxBytesError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &tooLarge):
		return &apiError{
			status:  http.StatusRequestEntityTooLarge,
			code:    http.StatusRequestEntityTooLarge,
			message: fmt.Sprintf("Request body is larger than %d bytes", tooLarge.Limit),
		}
	case errors.Is(err, io.EOF):
		return &apiError{
			status:  http.StatusUnprocessableEntity,
			code:    http.StatusUnprocessableEntity,
			message: "Request body is missing",
		}
	default:
		return &apiError{
			status:  http.StatusBadRequest,
			code:    http.StatusBadRequest,
			message: "Invalid JSON in request body: " + err.Error(),
		}
	}
}

func checkContentType(header string) error {
	if header == "" {
		return nil
	}
	mediaType, _, err := mime.ParseMediaType(header)
	if err == nil && slices.Contains(acceptedBodyTypes, mediaType) {
		return nil
	}
	return &apiError{
		status:  http.StatusUnsupportedMediaType,
		code:    http.StatusUnsupportedMediaType,
		message: "HTTP 415 Unsupported Media Type",
	}
}

// apiError is an error response: an HTTP status, Confluent's finer
// error_code and a message.
type apiError struct {
	status  int
	code    int
	message string
}

func (e *apiError) Error() string {
	return fmt.Sprintf("%d %d: %s", e.status, e.code, e.message)
}

func errSubjectNotFound(subjectName string) *apiError {
	return &apiError{status: http.StatusNotFound, code: 40401, message: fmt.Sprintf("Subject '%s' not found.", subjectName)}
}

func errVersionNotFound(versionText string) *apiError {
	return &apiError{status: http.StatusNotFound, code: 40402, message: fmt.Sprintf("Version %s not found.", versionText)}
}

func errSchemaNotFound(message string) *apiError {
	return &apiError{status: http.StatusNotFound, code: 40403, message: message}
}

func errInvalidSchema(message string) *apiError {
	return &apiError{status: http.StatusUnprocessableEntity, code: 42201, message: message}
}

// errIncompatible is the 409 of a rejected registration. Its error_code is
// 409, as in older Confluent releases. Recent releases send 40901 there, so
// clients should test the HTTP status.
func errIncompatible(subjectName string, level compatibilityLevel, messages []string) *apiError {
	return &apiError{
		status: http.StatusConflict,
		code:   http.StatusConflict,
		message: fmt.Sprintf("Schema is incompatible with subject '%s' under compatibility level %s: %s",
			subjectName, level, strings.Join(messages, "; ")),
	}
}

// writeError writes err as Confluent's error body. An error that is not an
// *apiError is a bug in this package, so it becomes a 500 with a fixed text.
func writeError(w http.ResponseWriter, err error) {
	var apiErr *apiError
	if !errors.As(err, &apiErr) {
		apiErr = &apiError{status: http.StatusInternalServerError, code: 50001, message: "Internal error in the development schema registry"}
	}
	writeJSON(w, apiErr.status, struct {
		ErrorCode int    `json:"error_code"`
		Message   string `json:"message"`
	}{apiErr.code, apiErr.message})
}

func writeJSON(w http.ResponseWriter, status int, body any) {
	w.Header().Set("Content-Type", contentType)
	w.WriteHeader(status)

	encoder := json.NewEncoder(w)
	encoder.SetEscapeHTML(false)
	// A failed write means that the client has disconnected, so there is no
	// one to report the error to.
	_ = encoder.Encode(body)
}
