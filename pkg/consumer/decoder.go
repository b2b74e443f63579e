package consumer

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"

	"github.com/hamba/avro/v2"

	"github.com/lsst-sqre/squarebot/pkg/records"
	"github.com/lsst-sqre/squarebot/pkg/schema"
)

// ErrNotFramed means a record is too short for the Confluent wire format or
// does not start with its zero magic byte. It is schema.ErrNotFramed.
var ErrNotFramed = schema.ErrNotFramed

// ErrIncompatibleSchema means the reader schema cannot read records of the
// writer schema, for example because a field changed its type or a reader
// field without a default is missing from the writer.
var ErrIncompatibleSchema = errors.New("incompatible schemas")

// readerFiles maps each generated type that Decode accepts to the embedded
// schema file it was generated from.
var readerFiles = map[reflect.Type]string{
	reflect.TypeFor[*records.SlackChannelKey]():     schema.ChannelPair.Key,
	reflect.TypeFor[*records.SlackMessageEvent]():   schema.ChannelPair.Value,
	reflect.TypeFor[*records.SlackInteractionKey](): schema.InteractionPair.Key,
	reflect.TypeFor[*records.SlackInteraction]():    schema.InteractionPair.Value,
}

// Decoder decodes Confluent-framed Avro records with schema resolution. It
// fetches each writer schema id from the registry once and keeps it for
// its own lifetime. It is safe for concurrent use, and concurrent first
// requests for one id share a single fetch.
//
// A failed fetch is not cached, so the next record with that id tries
// again. An incompatible pair of reader and writer schemas is cached,
// because retrying cannot change the outcome.
type Decoder struct {
	fetcher      SchemaFetcher
	maxFieldSize int
	readers      map[reflect.Type]avro.Schema

	mu          sync.Mutex
	writers     map[int]*writerFetch
	resolutions map[resolutionKey]*resolution
}

// NewDecoder returns a Decoder that fetches writer schemas with
// GET {registryURL}/schemas/ids/{id}. The URL may have a path, as for
// Apicurio's ccompat API, but no credentials, query or fragment.
func NewDecoder(registryURL string, options ...Option) (*Decoder, error) {
	s, err := applyOptions(options)
	if err != nil {
		return nil, err
	}
	fetcher, err := newRegistryFetcher(registryURL, s)
	if err != nil {
		return nil, err
	}
	return newDecoder(fetcher, s)
}

// NewDecoderFromFetcher returns a Decoder that fetches writer schemas with
// fetcher. WithHTTPClient and WithBasicAuth do not apply, because the
// fetcher makes its own requests.
func NewDecoderFromFetcher(fetcher SchemaFetcher, options ...Option) (*Decoder, error) {
	if fetcher == nil {
		return nil, errors.New("schema fetcher is nil")
	}
	s, err := applyOptions(options)
	if err != nil {
		return nil, err
	}
	if s.httpClient != nil || s.basicAuth {
		return nil, errors.New("WithHTTPClient and WithBasicAuth apply only to NewDecoder: configure the SchemaFetcher instead")
	}
	return newDecoder(fetcher, s)
}

func newDecoder(fetcher SchemaFetcher, s settings) (*Decoder, error) {
	readers := make(map[reflect.Type]avro.Schema, len(readerFiles))
	for typ, file := range readerFiles {
		source, err := schema.Load(file)
		if err != nil {
			return nil, fmt.Errorf("loading reader schema: %w", err)
		}
		readers[typ] = source.Schema
	}
	return &Decoder{
		fetcher:      fetcher,
		maxFieldSize: s.maxFieldSize,
		readers:      readers,
		writers:      make(map[int]*writerFetch),
		resolutions:  make(map[resolutionKey]*resolution),
	}, nil
}

// Decode decodes a Confluent-framed key or value into out, which must be a
// *records.SlackChannelKey, *records.SlackMessageEvent,
// *records.SlackInteractionKey or *records.SlackInteraction. The reader
// schema is the embedded schema that the type was generated from. Use
// DecodeWith for other types.
//
// Decode first sets *out to its zero value, so nothing of an earlier record
// remains in a reused value. After an error, *out may be partly written.
// ctx bounds the registry request, which only the first record of each
// schema id makes.
//
// Errors match ErrNotFramed, ErrSchemaNotFound or ErrIncompatibleSchema
// where those apply, and name the schema id.
func (d *Decoder) Decode(ctx context.Context, record []byte, out any) error {
	reader, ok := d.readers[reflect.TypeOf(out)]
	if !ok {
		return fmt.Errorf("decoding record: no embedded reader schema for %T: use DecodeWith with the schema the type was generated from", out)
	}
	if err := d.decode(ctx, record, reader, out); err != nil {
		return fmt.Errorf("decoding record: %w", err)
	}
	return nil
}

// DecodeWith decodes like Decode, but with readerSchema as the reader
// schema. Use it for types generated from a copy of Squarebot's schemas,
// such as an older version that a consumer pins. out must be a non-nil
// pointer to a type that matches readerSchema.
//
// Resolutions are cached by the identity of readerSchema, so parse it once
// and pass the same value every time. Parsing it for every record makes the
// cache grow without bound. Recursive reader schemas are rejected.
func (d *Decoder) DecodeWith(ctx context.Context, record []byte, readerSchema avro.Schema, out any) error {
	if readerSchema == nil {
		return errors.New("decoding record: reader schema is nil")
	}
	if err := d.decode(ctx, record, readerSchema, out); err != nil {
		return fmt.Errorf("decoding record: %w", err)
	}
	return nil
}

// DecodeMessage decodes the key and value of a record from an app mention
// or message topic.
func (d *Decoder) DecodeMessage(ctx context.Context, key, value []byte) (*records.SlackChannelKey, *records.SlackMessageEvent, error) {
	var channelKey records.SlackChannelKey
	if err := d.decode(ctx, key, d.readers[reflect.TypeFor[*records.SlackChannelKey]()], &channelKey); err != nil {
		return nil, nil, fmt.Errorf("decoding key: %w", err)
	}
	var event records.SlackMessageEvent
	if err := d.decode(ctx, value, d.readers[reflect.TypeFor[*records.SlackMessageEvent]()], &event); err != nil {
		return nil, nil, fmt.Errorf("decoding value: %w", err)
	}
	return &channelKey, &event, nil
}

// DecodeInteraction decodes the key and value of a record from the
// interaction topic.
func (d *Decoder) DecodeInteraction(ctx context.Context, key, value []byte) (*records.SlackInteractionKey, *records.SlackInteraction, error) {
	var interactionKey records.SlackInteractionKey
	if err := d.decode(ctx, key, d.readers[reflect.TypeFor[*records.SlackInteractionKey]()], &interactionKey); err != nil {
		return nil, nil, fmt.Errorf("decoding key: %w", err)
	}
	var interaction records.SlackInteraction
	if err := d.decode(ctx, value, d.readers[reflect.TypeFor[*records.SlackInteraction]()], &interaction); err != nil {
		return nil, nil, fmt.Errorf("decoding value: %w", err)
	}
	return &interactionKey, &interaction, nil
}

func (d *Decoder) decode(ctx context.Context, record []byte, reader avro.Schema, out any) error {
	target := reflect.ValueOf(out)
	if target.Kind() != reflect.Pointer || target.IsNil() {
		return fmt.Errorf("out must be a non-nil pointer, got %T", out)
	}
	id, payload, err := schema.SplitFrame(record)
	if err != nil {
		return fmt.Errorf("%w (length %d)", err, len(record))
	}
	resolved, err := d.resolve(ctx, reader, id)
	if err != nil {
		return err
	}

	// hamba/avro decodes an empty array into a non-empty slice by keeping
	// the old elements, so a reused value would show stale data.
	target.Elem().SetZero()
	if err := resolved.api.Unmarshal(resolved.schema, payload, out); err != nil {
		return fmt.Errorf("schema id %d: reading payload as %s: %w", id, schemaName(reader), err)
	}
	return nil
}
