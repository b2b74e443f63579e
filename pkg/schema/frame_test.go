package schema_test

import (
	"bytes"
	"sync"
	"testing"

	"github.com/lsst-sqre/squarebot/pkg/records"
	"github.com/lsst-sqre/squarebot/pkg/schema"
)

func TestEncodeFrameMatchesEncode(t *testing.T) {
	source, err := schema.Load("slack_message_event.avsc")
	if err != nil {
		t.Fatal(err)
	}
	codec := schema.Codec{ID: 7, Schema: source.Schema}
	text := "hello"
	value := &records.SlackMessageEvent{Type: "message", Text: &text, FileIds: []string{"F1"}, SlackJSON: `{"type":"event_callback"}`}

	want, err := codec.Encode(value)
	if err != nil {
		t.Fatal(err)
	}
	frame, err := codec.EncodeFrame(value)
	if err != nil {
		t.Fatal(err)
	}
	defer frame.Release()

	if !bytes.Equal(frame.Bytes(), want) {
		t.Errorf("EncodeFrame = %x, want %x", frame.Bytes(), want)
	}
}

// TestEncodeFrameReuse encodes different values concurrently through the
// pool and checks that no frame contains another's bytes.
func TestEncodeFrameReuse(t *testing.T) {
	source, err := schema.Load("slack_channel_key.avsc")
	if err != nil {
		t.Fatal(err)
	}
	codec := schema.Codec{ID: 1, Schema: source.Schema}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 200 {
				channel := string(rune('A'+g)) + string(rune('a'+i%26))
				key := &records.SlackChannelKey{Channel: &channel}
				want, err := codec.Encode(key)
				if err != nil {
					t.Error(err)
					return
				}
				frame, err := codec.EncodeFrame(key)
				if err != nil {
					t.Error(err)
					return
				}
				if !bytes.Equal(frame.Bytes(), want) {
					t.Errorf("frame for %s = %x, want %x", channel, frame.Bytes(), want)
				}
				frame.Release()
			}
		}()
	}
	wg.Wait()
}

func TestEncodeFrameError(t *testing.T) {
	source, err := schema.Load("slack_channel_key.avsc")
	if err != nil {
		t.Fatal(err)
	}

	_, err = schema.Codec{ID: 1, Schema: source.Schema}.EncodeFrame(42)

	if err == nil {
		t.Error("EncodeFrame accepted an int for a record schema")
	}
}
