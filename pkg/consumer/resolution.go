package consumer

import (
	"context"
	"fmt"

	"github.com/hamba/avro/v2"
)

// writerFetch is one fetch of a writer schema. Callers that find it in
// Decoder.writers wait for done and then read schema and err.
type writerFetch struct {
	done   chan struct{}
	schema avro.Schema
	err    error
	// canceled is true when the fetching caller's context ended. The error
	// is then not about the schema, so a waiter fetches again.
	canceled bool
}

// resolutionKey identifies a resolution by the identity of the reader
// schema and the writer's schema id.
type resolutionKey struct {
	reader avro.Schema
	id     int
}

// resolution is the schema that decodes records of one writer schema id
// into one reader schema, with the codec configuration to decode it, or the
// reason why none exists.
type resolution struct {
	schema avro.Schema
	api    avro.API
	err    error
}

// resolve returns the resolution for reader and writer id, building and
// caching it on first use.
func (d *Decoder) resolve(ctx context.Context, reader avro.Schema, id int) (*resolution, error) {
	key := resolutionKey{reader: reader, id: id}
	d.mu.Lock()
	cached, ok := d.resolutions[key]
	d.mu.Unlock()
	if ok {
		return cached, cached.err
	}

	writer, err := d.writer(ctx, id)
	if err != nil {
		return nil, err
	}
	built := d.buildResolution(reader, writer, id)

	// Two callers may have built the same resolution at once. Keep the
	// first, so every caller uses one schema value.
	d.mu.Lock()
	defer d.mu.Unlock()
	if cached, ok := d.resolutions[key]; ok {
		return cached, cached.err
	}
	d.resolutions[key] = built
	return built, built.err
}

func (d *Decoder) buildResolution(reader, writer avro.Schema, id int) *resolution {
	name := schemaName(reader)
	// hamba/avro v2.31.0 recurses without end when it resolves a recursive
	// reader against a recursive writer, and the stack overflow kills the
	// process. A non-recursive reader bounds the recursion.
	if isRecursive(reader) {
		return &resolution{err: fmt.Errorf("reader schema %s is recursive, which the decoder does not support", name)}
	}
	// A SchemaCompatibility caches its results by schema fingerprints,
	// which leave out defaults. A shared checker could reuse a result
	// computed for a reader that differs only in its defaults, so each
	// resolution gets a new one.
	resolved, err := avro.NewSchemaCompatibility().Resolve(reader, writer)
	if err != nil {
		return &resolution{err: fmt.Errorf("schema id %d cannot be read as %s: %w: %w", id, name, ErrIncompatibleSchema, err)}
	}
	// A frozen avro.API caches decoders by schema fingerprint and Go type.
	// The fingerprint of a resolved record covers the defaults of its own
	// fields but not of nested records, so two readers that differ only in
	// a nested default would share a decoder. One API per resolution keeps
	// them apart.
	api := avro.Config{MaxByteSliceSize: d.maxFieldSize}.Freeze()
	return &resolution{schema: resolved, api: api}
}

// writer returns the parsed writer schema with id. The first caller for an
// id fetches it, and concurrent callers wait for that fetch.
func (d *Decoder) writer(ctx context.Context, id int) (avro.Schema, error) {
	for {
		d.mu.Lock()
		fetch, ok := d.writers[id]
		if !ok {
			fetch = &writerFetch{done: make(chan struct{})}
			d.writers[id] = fetch
			d.mu.Unlock()
			d.fetchWriter(ctx, id, fetch)
			return fetch.schema, fetch.err
		}
		d.mu.Unlock()

		select {
		case <-fetch.done:
		case <-ctx.Done():
			return nil, fmt.Errorf("schema id %d: waiting for writer schema: %w", id, context.Cause(ctx))
		}
		if !fetch.canceled {
			return fetch.schema, fetch.err
		}
	}
}

// fetchWriter runs one fetch and publishes its result in fetch. A failed
// fetch leaves the cache, so that a later record tries again.
func (d *Decoder) fetchWriter(ctx context.Context, id int, fetch *writerFetch) {
	// Waiters see this error only if the SchemaFetcher panics.
	fetch.err = fmt.Errorf("schema id %d: schema fetcher panicked", id)
	defer func() {
		if fetch.err != nil {
			d.mu.Lock()
			delete(d.writers, id)
			d.mu.Unlock()
		}
		close(fetch.done)
	}()

	fetch.schema, fetch.err = d.loadWriter(ctx, id)
	fetch.canceled = fetch.err != nil && ctx.Err() != nil
}

func (d *Decoder) loadWriter(ctx context.Context, id int) (avro.Schema, error) {
	text, err := d.fetcher.FetchSchema(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("schema id %d: fetching writer schema: %w", id, err)
	}
	// avro.Parse adds every named type to one process-wide cache, where a
	// reference in one schema version could resolve to a type that another
	// version defined. A fresh cache per schema keeps versions apart.
	writer, err := avro.ParseWithCache(text, "", &avro.SchemaCache{})
	if err != nil {
		return nil, fmt.Errorf("schema id %d: parsing writer schema: %w", id, err)
	}
	return writer, nil
}

// schemaName returns the full name of a named schema and the type of any
// other schema, for messages.
func schemaName(s avro.Schema) string {
	if named, ok := s.(avro.NamedSchema); ok {
		return named.FullName()
	}
	return string(s.Type())
}

// isRecursive reports whether a record of s contains itself, directly or
// through other types.
func isRecursive(s avro.Schema) bool {
	return containsCycle(s, map[string]bool{}, map[string]bool{})
}

// containsCycle walks s depth first. open contains the records on the
// current path, and checked the records already known to be free of cycles.
func containsCycle(s avro.Schema, open, checked map[string]bool) bool {
	switch s := s.(type) {
	case *avro.RefSchema:
		return containsCycle(s.Schema(), open, checked)
	case *avro.RecordSchema:
		name := s.FullName()
		if open[name] {
			return true
		}
		if checked[name] {
			return false
		}
		open[name] = true
		for _, field := range s.Fields() {
			if containsCycle(field.Type(), open, checked) {
				return true
			}
		}
		delete(open, name)
		checked[name] = true
	case *avro.UnionSchema:
		for _, branch := range s.Types() {
			if containsCycle(branch, open, checked) {
				return true
			}
		}
	case *avro.ArraySchema:
		return containsCycle(s.Items(), open, checked)
	case *avro.MapSchema:
		return containsCycle(s.Values(), open, checked)
	}
	return false
}
