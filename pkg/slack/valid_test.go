package slack_test

import (
	"encoding/binary"
	"encoding/json"
	"strings"
	"testing"

	"github.com/lsst-sqre/squarebot/pkg/slack"
	"github.com/lsst-sqre/squarebot/test/fixtures"
)

// validJSONCases are documents at the edges of the JSON grammar, each
// checked against encoding/json.Valid rather than a hand-written verdict.
var validJSONCases = []string{
	``, ` `, `{}`, `[]`, ` {} `, "\t\r\n[]\n", `{`, `}`, `[`, `]`, `{]`, `[}`,
	`{"a":1}`, `{"a":1,}`, `{,"a":1}`, `{"a" : 1 , "b" : [ ] }`, `{"a"}`, `{"a":}`, `{a:1}`,
	`{"a":1 "b":2}`, `{1:2}`, `{"a":1}}`, `{"a":1}x`, `{} {}`, `[1,2,3]`, `[1,,2]`, `[,1]`, `[1,]`,
	`[[[]]]`, `[[[]]`, `[{"a":[{"b":{}}]}]`,
	`true`, `false`, `null`, `tru`, `nul`, `nulll`, `True`, `[true,false,null]`, `[truefalse]`,
	`0`, `-0`, `01`, `-01`, `1.`, `1.5`, `.5`, `-`, `-a`, `1e`, `1e+`, `1e5`, `1E-5`, `1.5e+10`,
	`1.e5`, `123456789012345678901234567890`, `+1`, `0x10`, `1 2`, `[1 2]`, `-0.0e-0`,
	`""`, `"a"`, `"`, `"abc`, `"\"`, `"\\"`, `"\/\b\f\n\r\t"`, `"\u00e9"`, `"\u00E9"`, `"\u00g9"`,
	`"\u00e"`, `"\x41"`, `"\a"`, "\"\t\"", "\"\x00\"", "\"\x1f\"", "\"\x7f\"", "\"caf\xc3\xa9\"",
	"\"\xff\xfe\"", `"a" "b"`, `{"\u0061":"\ud83d\ude00"}`, `{"a":"b\"}"}`,
}

func TestValidJSONMatchesEncodingJSON(t *testing.T) {
	for _, document := range validJSONCases {
		if got, want := slack.ValidJSON([]byte(document)), json.Valid([]byte(document)); got != want {
			t.Errorf("validJSON(%q) = %t, encoding/json.Valid = %t", document, got, want)
		}
	}
}

func TestValidJSONNestingLimit(t *testing.T) {
	for _, depth := range []int{slack.MaxJSONDepth - 1, slack.MaxJSONDepth, slack.MaxJSONDepth + 1} {
		for _, document := range []string{
			strings.Repeat("[", depth) + strings.Repeat("]", depth),
			strings.Repeat(`{"a":`, depth-1) + "{}" + strings.Repeat("}", depth-1),
			strings.Repeat(`[{"a":`, depth/2) + "1" + strings.Repeat("}]", depth/2),
		} {
			got, want := slack.ValidJSON([]byte(document)), json.Valid([]byte(document))
			if got != want {
				t.Errorf("depth %d, %.12s...: validJSON = %t, encoding/json.Valid = %t", depth, document, got, want)
			}
		}
	}
	if slack.ValidJSON([]byte(strings.Repeat("[", slack.MaxJSONDepth+1) + strings.Repeat("]", slack.MaxJSONDepth+1))) {
		t.Error("validJSON accepted nesting deeper than the limit")
	}
}

func TestValidJSONFixtures(t *testing.T) {
	cases, err := fixtures.Load()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		if !strings.HasSuffix(c.File, ".json") {
			continue
		}
		raw := fixtures.MustRead(t, c.File)
		if !slack.ValidJSON(raw) {
			t.Errorf("%s: validJSON rejected a fixture", c.File)
		}
		// A truncated document gets the same verdict from both.
		for cut := 1; cut < len(raw); cut += 7 {
			truncated := raw[:len(raw)-cut]
			if got, want := slack.ValidJSON(truncated), json.Valid(truncated); got != want {
				t.Errorf("%s cut by %d bytes: validJSON = %t, encoding/json.Valid = %t", c.File, cut, got, want)
			}
		}
	}
}

// FuzzValidJSON compares validJSON with encoding/json.Valid on any input.
func FuzzValidJSON(f *testing.F) {
	for _, document := range validJSONCases {
		f.Add([]byte(document))
	}
	cases, err := fixtures.Load()
	if err != nil {
		f.Fatal(err)
	}
	for _, c := range cases {
		f.Add(fixtures.MustRead(f, c.File))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if got, want := slack.ValidJSON(data), json.Valid(data); got != want {
			t.Errorf("validJSON(%q) = %t, encoding/json.Valid = %t", data, got, want)
		}
	})
}

func BenchmarkValidJSON(b *testing.B) {
	body := fixtures.MustBody(b, "events/app_mention_rich_text_blocks.json")
	for _, bench := range []struct {
		name  string
		valid func([]byte) bool
	}{
		{"encoding_json", json.Valid},
		{"validJSON", slack.ValidJSON},
	} {
		b.Run(bench.name, func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				if !bench.valid(body) {
					b.Fatal("rejected a valid body")
				}
			}
		})
	}
}

// TestHasStringSpecialEveryByte places each byte value at each position
// of an otherwise plain word and compares hasStringSpecial with the
// byte-at-a-time rule.
func TestHasStringSpecialEveryByte(t *testing.T) {
	for position := range 8 {
		for c := range 256 {
			word := []byte("aaaaaaaa")
			word[position] = byte(c)
			want := c < 0x20 || c == '"' || c == '\\'
			if got := slack.HasStringSpecial(binary.LittleEndian.Uint64(word)); got != want {
				t.Errorf("byte %#02x at %d: hasStringSpecial = %t, want %t", c, position, got, want)
			}
		}
	}
}
