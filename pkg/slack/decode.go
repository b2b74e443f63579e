package slack

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
	"unsafe"
)

// jsonReader decodes a document that validJSON accepted, so it checks
// only what validation leaves open: the JSON type of each value it
// decodes. It reads values straight into Squarebot's structs with the
// rules of encoding/json. A type mismatch is an error. A null leaves a
// string, number or boolean unchanged and sets a pointer or slice to nil.
// A repeated key decodes again into the same field. Keys match field names
// exactly, or else case-insensitively. The fuzz targets of ParseEventEnvelope
// and ParseInteractionForm, and the tests named MatchesEncodingJSON,
// compare it with encoding/json.
type jsonReader struct {
	data []byte
	pos  int
	err  error
}

// errJSONType is the cause of every mismatch between a value's JSON type
// and its field's Go type.
var errJSONType = errors.New("JSON value of the wrong type")

// fail records the first error and returns false, so decoders can stop.
func (r *jsonReader) fail(field string) bool {
	if r.err == nil {
		r.err = fmt.Errorf("%w for field %s at offset %d", errJSONType, field, r.pos)
	}
	return false
}

// next returns the first byte of the next token, after any whitespace.
func (r *jsonReader) next() byte {
	r.pos = skipJSONSpace(r.data, r.pos)
	if r.pos >= len(r.data) {
		return 0
	}
	return r.data[r.pos]
}

// object calls field for each key of the object at the reader, which must
// consume the key's value, and stops early once an error is recorded.
// The key passed on is decoded and is valid only during the call.
func (r *jsonReader) object(field func(key []byte)) {
	r.pos++ // {
	if r.next() == '}' {
		r.pos++
		return
	}
	for r.err == nil {
		r.pos = skipJSONSpace(r.data, r.pos)
		start := r.pos + 1
		end, _ := scanJSONString(r.data, start)
		key := r.data[start : end-1]
		if bytes.IndexByte(key, '\\') >= 0 {
			key = []byte(r.unquote(r.data[start-1 : end]))
		}
		r.pos = end
		r.next()
		r.pos++ // :
		r.next()
		field(key)
		if r.err != nil {
			return
		}
		if r.next() == '}' {
			r.pos++
			return
		}
		r.pos++ // ,
	}
}

// array calls element for each element of the array at the reader, which
// must consume it.
func (r *jsonReader) array(element func()) {
	r.pos++ // [
	if r.next() == ']' {
		r.pos++
		return
	}
	for r.err == nil {
		element()
		if r.err != nil {
			return
		}
		if r.next() == ']' {
			r.pos++
			return
		}
		r.pos++ // ,
	}
}

// skip moves past the value at the reader.
func (r *jsonReader) skip() {
	switch r.next() {
	case '"':
		r.pos, _ = scanJSONString(r.data, r.pos+1)
	case '{', '[':
		depth := 0
		for {
			for !containerByte[r.data[r.pos]] {
				r.pos++
			}
			switch r.data[r.pos] {
			case '"':
				r.pos, _ = scanJSONString(r.data, r.pos+1)
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
			}
			r.pos++
			if depth == 0 {
				return
			}
		}
	default:
		// A number or a literal ends at the first delimiter.
		for r.pos < len(r.data) {
			switch r.data[r.pos] {
			case ',', '}', ']', ' ', '\t', '\n', '\r':
				return
			}
			r.pos++
		}
	}
}

// containerByte marks the bytes that skip must look at inside an object or
// array: quotes and brackets. Validation has checked everything else.
var containerByte = func() (table [256]bool) {
	for _, c := range []byte(`"{}[]`) {
		table[c] = true
	}
	return table
}()

// isNull consumes a null and reports whether there was one.
func (r *jsonReader) isNull() bool {
	if r.next() == 'n' {
		r.pos += len("null")
		return true
	}
	return false
}

// unquote decodes a quoted JSON string with escapes as encoding/json does,
// including its replacement of invalid surrogates.
func (r *jsonReader) unquote(quoted []byte) string {
	var value string
	if err := json.Unmarshal(quoted, &value); err != nil && r.err == nil {
		r.err = err
	}
	return value
}

// stringValue reads a string. ok is false for null, and for any other type
// after recording the error.
func (r *jsonReader) stringValue(field string) (value string, ok bool) {
	switch r.next() {
	case '"':
		start := r.pos
		end, _ := scanJSONString(r.data, start+1)
		r.pos = end
		raw := r.data[start+1 : end-1]
		if bytes.IndexByte(raw, '\\') < 0 && utf8.Valid(raw) {
			return string(raw), true
		}
		return r.unquote(r.data[start:end]), true
	case 'n':
		r.isNull()
		return "", false
	default:
		return "", r.fail(field)
	}
}

// stringInto reads a string into target. A null leaves target unchanged.
func (r *jsonReader) stringInto(target *string, field string) {
	if value, ok := r.stringValue(field); ok {
		*target = value
	}
}

// optionalStringInto reads a string into target. A null sets it to nil.
func (r *jsonReader) optionalStringInto(target **string, field string) {
	if r.next() == 'n' {
		r.isNull()
		*target = nil
		return
	}
	if value, ok := r.stringValue(field); ok {
		*target = &value
	}
}

// int64Into reads an integer into target. A null leaves target unchanged.
func (r *jsonReader) int64Into(target *int64, field string) {
	c := r.next()
	if c == 'n' {
		r.isNull()
		return
	}
	start := r.pos
	if c != '-' && (c < '0' || c > '9') {
		r.fail(field)
		return
	}
	r.skip()
	value, err := strconv.ParseInt(string(r.data[start:r.pos]), 10, 64)
	if err != nil {
		r.pos = start
		r.fail(field)
		return
	}
	*target = value
}

// boolInto reads a boolean into target. A null leaves target unchanged.
func (r *jsonReader) boolInto(target *bool, field string) {
	switch r.next() {
	case 't':
		r.pos += len("true")
		*target = true
	case 'f':
		r.pos += len("false")
		*target = false
	case 'n':
		r.isNull()
	default:
		r.fail(field)
	}
}

// elementCount reads any value as ElementCount.UnmarshalJSON does: the
// number of elements of an array, 0 for anything else.
func (r *jsonReader) elementCount() ElementCount {
	if r.next() != '[' {
		r.skip()
		return 0
	}
	count := 0
	r.array(func() {
		r.skip()
		count++
	})
	return ElementCount(count)
}

// objectInto reads an object with decode, which is called only for an
// object. It reports false after null, or after recording an error for
// any other type.
func (r *jsonReader) objectInto(field string, decode func()) bool {
	switch r.next() {
	case '{':
		decode()
		return true
	case 'n':
		r.isNull()
		return false
	default:
		return r.fail(field)
	}
}

// sliceInto reads an array into *target with element, as encoding/json
// does: the elements decode into the slice's existing elements first, so a
// repeated key merges into them, an empty array gives an empty slice and
// null gives nil.
func sliceInto[T any](r *jsonReader, target *[]T, field string, element func(*T)) {
	switch r.next() {
	case '[':
	case 'n':
		r.isNull()
		*target = nil
		return
	default:
		r.fail(field)
		return
	}
	values := *target
	count := 0
	r.array(func() {
		if count >= len(values) {
			if count >= cap(values) {
				values = slices.Grow(values, 1)
			}
			values = values[:count+1]
		}
		element(&values[count])
		count++
	})
	if count == 0 {
		values = []T{}
	}
	*target = values[:count]
}

// pointerInto reads an object into *target with decode, allocating the
// struct first if *target is nil, as encoding/json does: a repeated key
// decodes into the same struct, and null sets *target to nil.
func pointerInto[T any](r *jsonReader, target **T, field string, decode func(*T)) {
	switch r.next() {
	case '{':
		if *target == nil {
			*target = new(T)
		}
		decode(*target)
	case 'n':
		r.isNull()
		*target = nil
	default:
		r.fail(field)
	}
}

// fieldKey returns the field name that key selects, as encoding/json
// matches keys to struct fields: exactly, or else case-insensitively with
// Unicode simple folding. names are the struct's field names, all
// lowercase ASCII, so a key without upper-case or non-ASCII letters
// matches only exactly. The result is then key itself, not copied, and
// is valid only as long as key.
func fieldKey(key []byte, names []string) string {
	for _, c := range key {
		if c >= utf8.RuneSelf || 'A' <= c && c <= 'Z' {
			for _, name := range names {
				if bytes.EqualFold(key, []byte(name)) {
					return name
				}
			}
			return ""
		}
	}
	return unsafe.String(unsafe.SliceData(key), len(key))
}

// jsonNames returns the JSON names of a struct type's fields.
func jsonNames(value any) []string {
	structType := reflect.TypeOf(value)
	names := make([]string, 0, structType.NumField())
	for i := range structType.NumField() {
		name, _, _ := strings.Cut(structType.Field(i).Tag.Get("json"), ",")
		names = append(names, name)
	}
	return names
}

// The field names of each struct that jsonReader decodes.
var (
	envelopeNames      = jsonNames(EventEnvelope{})
	authorizationNames = jsonNames(Authorization{})
	eventNames         = jsonNames(Event{})
	editedNames        = jsonNames(Edited{})
	nestedMessageNames = jsonNames(NestedMessage{})
	fileNames          = jsonNames(File{})
)

// envelope decodes an Events API body into e. A body other than an object
// or null is an error.
func (r *jsonReader) envelope(e *EventEnvelope) {
	r.objectInto("", func() {
		r.object(func(key []byte) {
			switch fieldKey(key, envelopeNames) {
			case "type":
				r.stringInto(&e.Type, "type")
			case "challenge":
				r.stringInto(&e.Challenge, "challenge")
			case "team_id":
				r.stringInto(&e.TeamID, "team_id")
			case "context_team_id":
				r.stringInto(&e.ContextTeamID, "context_team_id")
			case "enterprise_id":
				r.stringInto(&e.EnterpriseID, "enterprise_id")
			case "context_enterprise_id":
				r.stringInto(&e.ContextEnterpriseID, "context_enterprise_id")
			case "api_app_id":
				r.stringInto(&e.APIAppID, "api_app_id")
			case "event_id":
				r.stringInto(&e.EventID, "event_id")
			case "event_time":
				r.int64Into(&e.EventTime, "event_time")
			case "is_ext_shared_channel":
				r.boolInto(&e.IsExtSharedChannel, "is_ext_shared_channel")
			case "authorizations":
				sliceInto(r, &e.Authorizations, "authorizations", r.authorization)
			case "event":
				pointerInto(r, &e.Event, "event", r.event)
			case "minute_rate_limited":
				r.int64Into(&e.MinuteRateLimited, "minute_rate_limited")
			default:
				r.skip()
			}
		})
	})
}

func (r *jsonReader) authorization(a *Authorization) {
	r.objectInto("authorizations", func() {
		r.object(func(key []byte) {
			switch fieldKey(key, authorizationNames) {
			case "enterprise_id":
				r.stringInto(&a.EnterpriseID, "enterprise_id")
			case "team_id":
				r.stringInto(&a.TeamID, "team_id")
			case "user_id":
				r.stringInto(&a.UserID, "user_id")
			case "is_bot":
				r.boolInto(&a.IsBot, "is_bot")
			default:
				r.skip()
			}
		})
	})
}

func (r *jsonReader) event(e *Event) {
	r.object(func(key []byte) {
		switch fieldKey(key, eventNames) {
		case "type":
			r.stringInto(&e.Type, "type")
		case "subtype":
			r.stringInto(&e.Subtype, "subtype")
		case "channel":
			r.stringInto(&e.Channel, "channel")
		case "channel_type":
			r.stringInto(&e.ChannelType, "channel_type")
		case "user":
			r.stringInto(&e.User, "user")
		case "bot_id":
			r.stringInto(&e.BotID, "bot_id")
		case "text":
			r.optionalStringInto(&e.Text, "text")
		case "ts":
			r.stringInto(&e.TS, "ts")
		case "thread_ts":
			r.stringInto(&e.ThreadTS, "thread_ts")
		case "parent_user_id":
			r.stringInto(&e.ParentUserID, "parent_user_id")
		case "event_ts":
			r.stringInto(&e.EventTS, "event_ts")
		case "edited":
			pointerInto(r, &e.Edited, "edited", r.edited)
		case "message":
			pointerInto(r, &e.Message, "message", r.nestedMessage)
		case "root":
			pointerInto(r, &e.Root, "root", r.nestedMessage)
		case "previous_message":
			pointerInto(r, &e.PreviousMessage, "previous_message", r.nestedMessage)
		case "deleted_ts":
			r.stringInto(&e.DeletedTS, "deleted_ts")
		case "files":
			sliceInto(r, &e.Files, "files", r.file)
		case "attachments":
			e.Attachments = r.elementCount()
		case "blocks":
			e.Blocks = r.elementCount()
		default:
			r.skip()
		}
	})
}

func (r *jsonReader) edited(edited *Edited) {
	r.object(func(key []byte) {
		switch fieldKey(key, editedNames) {
		case "user":
			r.stringInto(&edited.User, "user")
		case "ts":
			r.stringInto(&edited.TS, "ts")
		default:
			r.skip()
		}
	})
}

func (r *jsonReader) nestedMessage(message *NestedMessage) {
	r.object(func(key []byte) {
		switch fieldKey(key, nestedMessageNames) {
		case "type":
			r.stringInto(&message.Type, "type")
		case "subtype":
			r.stringInto(&message.Subtype, "subtype")
		case "user":
			r.stringInto(&message.User, "user")
		case "bot_id":
			r.stringInto(&message.BotID, "bot_id")
		case "text":
			r.optionalStringInto(&message.Text, "text")
		case "ts":
			r.stringInto(&message.TS, "ts")
		case "thread_ts":
			r.stringInto(&message.ThreadTS, "thread_ts")
		case "edited":
			pointerInto(r, &message.Edited, "edited", r.edited)
		default:
			r.skip()
		}
	})
}

func (r *jsonReader) file(f *File) {
	r.objectInto("files", func() {
		r.object(func(key []byte) {
			if fieldKey(key, fileNames) == "id" {
				r.stringInto(&f.ID, "id")
			} else {
				r.skip()
			}
		})
	})
}
