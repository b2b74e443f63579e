package main

import (
	"encoding/json"
	"net/url"
	"testing"

	"github.com/hamba/avro/v2"

	"github.com/lsst-sqre/squarebot/pkg/route"
)

// TestObviousEncodesEveryPayload checks that the baseline routes and
// encodes every payload of the mix, so the obvious variant responds 200 to
// all of them rather than failing fast.
func TestObviousEncodesEveryPayload(t *testing.T) {
	parsed, _, err := parseObviousSchemas()
	if err != nil {
		t.Fatal(err)
	}
	server := &obviousServer{schemas: parsed, ids: map[string]int{}}
	payloads, err := loadPayloads()
	if err != nil {
		t.Fatal(err)
	}

	for _, p := range payloads {
		t.Run(p.Name, func(t *testing.T) {
			record := obviousRecordOf(t, server, p)

			for _, part := range []struct {
				schema avro.Schema
				value  map[string]any
			}{{record.keySchema, record.key}, {record.valueSchema, record.value}} {
				framed, err := server.encode(record.topic, part.schema, part.value)
				if err != nil {
					t.Fatalf("encode: %v", err)
				}
				var decoded map[string]any
				if err := avro.Unmarshal(part.schema, framed[5:], &decoded); err != nil {
					t.Fatalf("decode: %v", err)
				}
			}
		})
	}
}

func obviousRecordOf(t *testing.T, server *obviousServer, p payload) obviousRecord {
	t.Helper()
	if p.Class == classInteraction {
		form, err := url.ParseQuery(string(p.Body))
		if err != nil {
			t.Fatal(err)
		}
		raw := form.Get("payload")
		var decoded map[string]any
		if err := json.Unmarshal([]byte(raw), &decoded); err != nil {
			t.Fatal(err)
		}
		return server.interactionRecord(decoded, raw)
	}
	var envelope map[string]any
	if err := json.Unmarshal(p.Body, &envelope); err != nil {
		t.Fatal(err)
	}
	record, ok := server.eventRecord(envelope, p.Body)
	if !ok {
		t.Fatal("event not routed")
	}
	if p.Class == classMention && record.topic != route.DefaultAppMentionTopic {
		t.Errorf("topic = %s, want %s", record.topic, route.DefaultAppMentionTopic)
	}
	return record
}
