// Package schema loads Squarebot's embedded Avro schemas, registers them
// with a Confluent-compatible schema registry, and encodes records in the
// Confluent wire format.
//
// Registration happens once, at start-up; the resulting Catalog holds the
// schema ids, so encoding a record never calls the registry. The package
// does not decode records into Go types with schema resolution.
package schema

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strings"
	"sync"

	"github.com/hamba/avro/v2"

	"github.com/lsst-sqre/squarebot/schemas"
)

// Pair names the key and value schema files of a topic, as found in the
// schemas folder.
type Pair struct {
	Key   string
	Value string
}

// The two record layouts. Mention and message topics share ChannelPair.
var (
	ChannelPair     = Pair{Key: "slack_channel_key.avsc", Value: "slack_message_event.avsc"}
	InteractionPair = Pair{Key: "slack_interaction_key.avsc", Value: "slack_interaction.avsc"}
)

// Binding ties a topic to its pair of schemas.
type Binding struct {
	Topic string
	Pair  Pair
}

// KeySubject returns the subject of the topic's key schema under the
// Confluent TopicNameStrategy.
func (b Binding) KeySubject() string { return b.Topic + "-key" }

// ValueSubject returns the subject of the topic's value schema under the
// Confluent TopicNameStrategy.
func (b Binding) ValueSubject() string { return b.Topic + "-value" }

// Source is one embedded schema file.
type Source struct {
	// Name is the file name, for example "slack_channel_key.avsc".
	Name string
	// Text is the file content, the schema as registered.
	Text string
	// Schema is the parsed schema.
	Schema avro.Schema
}

// Embedded returns the schemas embedded in the binary, sorted by file name.
func Embedded() ([]Source, error) {
	names, err := fs.Glob(schemas.FS, "*.avsc")
	if err != nil {
		return nil, err
	}
	slices.Sort(names)
	sources := make([]Source, 0, len(names))
	for _, name := range names {
		source, err := Load(name)
		if err != nil {
			return nil, err
		}
		sources = append(sources, source)
	}
	return sources, nil
}

// Load reads and parses one embedded schema file. Each call parses with a
// fresh cache, so two versions of a record name never collide.
func Load(name string) (Source, error) {
	text, err := fs.ReadFile(schemas.FS, name)
	if err != nil {
		return Source{}, fmt.Errorf("reading schema %s: %w", name, err)
	}
	parsed, err := avro.ParseWithCache(string(text), "", &avro.SchemaCache{})
	if err != nil {
		return Source{}, fmt.Errorf("parsing schema %s: %w", name, err)
	}
	return Source{Name: name, Text: string(text), Schema: parsed}, nil
}

// Confluent wire format: a zero magic byte, then the schema id as a 4-byte
// big-endian integer, then the Avro binary encoding.
const (
	magicByte   = 0
	frameHeader = 5
)

// ErrNotFramed means a record is too short or does not start with the
// Confluent magic byte.
var ErrNotFramed = errors.New("record is not in the Confluent wire format")

// AppendFrame appends the wire-format header for schemaID to dst.
func AppendFrame(dst []byte, schemaID int) []byte {
	dst = append(dst, magicByte)
	return binary.BigEndian.AppendUint32(dst, uint32(schemaID))
}

// SplitFrame returns the schema id and Avro payload of a framed record.
func SplitFrame(record []byte) (schemaID int, payload []byte, err error) {
	if len(record) < frameHeader || record[0] != magicByte {
		return 0, nil, ErrNotFramed
	}
	return int(binary.BigEndian.Uint32(record[1:frameHeader])), record[frameHeader:], nil
}

// Codec encodes values of one registered schema.
type Codec struct {
	// ID is the registry's id of the schema.
	ID int
	// Schema is the parsed schema.
	Schema avro.Schema
}

// Encode returns value in the Confluent wire format.
func (c Codec) Encode(value any) ([]byte, error) {
	payload, err := avro.Marshal(c.Schema, value)
	if err != nil {
		return nil, fmt.Errorf("encoding %s: %w", c.Schema.(avro.NamedSchema).FullName(), err)
	}
	record := make([]byte, 0, frameHeader+len(payload))
	record = AppendFrame(record, c.ID)
	return append(record, payload...), nil
}

// Frame is an encoded wire-format record in a pooled buffer. Call Release
// once the bytes are no longer used, such as after the producer copied
// them; Bytes must not be used after Release.
type Frame struct {
	writer *avro.Writer
}

// Bytes returns the wire-format record.
func (f *Frame) Bytes() []byte { return f.writer.Buffer() }

// Release returns the buffer to the pool. It is safe on a nil Frame.
func (f *Frame) Release() {
	if f == nil || f.writer == nil {
		return
	}
	// A buffer grown by a rare large record is dropped, so the pool does
	// not pin that much memory per idle buffer.
	if cap(f.writer.Buffer()) <= maxPooledFrame {
		framePool.Put(f.writer)
	}
	f.writer = nil
}

// maxPooledFrame is the largest buffer kept for reuse, in bytes.
const maxPooledFrame = 256 << 10

var framePool = sync.Pool{New: func() any { return avro.NewWriter(nil, 2048) }}

// EncodeFrame encodes value in the Confluent wire format into a pooled
// buffer, avoiding the copy and allocation of Encode on the request path.
func (c Codec) EncodeFrame(value any) (*Frame, error) {
	writer := framePool.Get().(*avro.Writer)
	writer.Reset(nil)
	writer.Error = nil
	var header [frameHeader]byte
	_, _ = writer.Write(AppendFrame(header[:0], c.ID))
	writer.WriteVal(c.Schema, value)
	if err := writer.Error; err != nil {
		writer.Error = nil
		framePool.Put(writer)
		return nil, fmt.Errorf("encoding %s: %w", c.Schema.(avro.NamedSchema).FullName(), err)
	}
	return &Frame{writer: writer}, nil
}

// TopicCodecs holds the key and value codecs of one topic.
type TopicCodecs struct {
	Key   Codec
	Value Codec
}

// Catalog maps each topic to its codecs. It is built once by Register and
// only read afterwards, so it is safe for concurrent use.
type Catalog map[string]TopicCodecs

// EncodeFrames encodes a key and a value for topic into pooled buffers;
// release both frames when done.
func (c Catalog) EncodeFrames(topic string, key, value any) (keyFrame, valueFrame *Frame, err error) {
	codecs, ok := c[topic]
	if !ok {
		return nil, nil, fmt.Errorf("no schemas registered for topic %q", topic)
	}
	if keyFrame, err = codecs.Key.EncodeFrame(key); err != nil {
		return nil, nil, err
	}
	if valueFrame, err = codecs.Value.EncodeFrame(value); err != nil {
		keyFrame.Release()
		return nil, nil, err
	}
	return keyFrame, valueFrame, nil
}

// Encode encodes a key and a value for topic.
func (c Catalog) Encode(topic string, key, value any) (keyBytes, valueBytes []byte, err error) {
	codecs, ok := c[topic]
	if !ok {
		return nil, nil, fmt.Errorf("no schemas registered for topic %q", topic)
	}
	if keyBytes, err = codecs.Key.Encode(key); err != nil {
		return nil, nil, err
	}
	if valueBytes, err = codecs.Value.Encode(value); err != nil {
		return nil, nil, err
	}
	return keyBytes, valueBytes, nil
}

// Compatibility levels a subject can have, as the registry names them.
var compatibilityLevels = []string{
	"NONE", "BACKWARD", "BACKWARD_TRANSITIVE", "FORWARD", "FORWARD_TRANSITIVE", "FULL", "FULL_TRANSITIVE",
}

// ValidCompatibility reports whether level is a registry compatibility level.
func ValidCompatibility(level string) bool {
	return slices.Contains(compatibilityLevels, level)
}

// CompatibilityLevels returns the accepted levels joined for messages.
func CompatibilityLevels() string { return strings.Join(compatibilityLevels, ", ") }
