package slack_test

import (
	"bytes"
	"errors"
	"net/url"
	"strings"
	"testing"

	"github.com/lsst-sqre/squarebot/pkg/slack"
)

// referenceFormPayload extracts the payload field with url.ParseQuery,
// with the checks ParseInteractionForm made before it had a decoder of its
// own.
func referenceFormPayload(body []byte) ([]byte, error) {
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, slack.ErrInvalidForm
	}
	payloads := form["payload"]
	if len(payloads) == 0 || payloads[0] == "" {
		return nil, slack.ErrNoPayloadField
	}
	if len(payloads) > 1 {
		return nil, slack.ErrInvalidForm
	}
	return []byte(payloads[0]), nil
}

// formCases are bodies at the edges of form decoding.
var formCases = []string{
	``, `&`, `&&`, `payload`, `payload=`, `payload=x`, `=x`, `payload=x&`, `&payload=x`, `payload=a+b`,
	`payload=%7B%7D`, `payload=%7b%7d`, `payload=%`, `payload=%7`, `payload=%zz`, `payload=%7g`,
	`payload=x&payload=y`, `payload=&payload=y`, `payload=x&other=%zz`, `other=%zz&payload=x`,
	`payload=x;a=b`, `a=b;c=d&payload=x`, `p%61yload=x`, `p%61yload=x&payload=y`, `pay+load=x`,
	`payload%3D=x`, `payload=x=y`, `%70%61%79%6c%6f%61%64=%7B%22a%22%3A1%7D`, `payload=%25%2B+`,
	`ssl_check=1&token=abc`, `payload=caf%C3%A9`, `payload=%FF`, `PAYLOAD=x`, `payload=x&%=1`,
	`payload=` + strings.Repeat("%41", 1000),
	// url.ParseQuery's limit of 10,000 fields, just under and just over.
	`payload=%7B%7D` + strings.Repeat("&", 9999),
	`payload=%7B%7D` + strings.Repeat("&", 10000),
	strings.Repeat("a=1&", 10000) + `payload=%7B%7D`,
}

func TestFormPayloadMatchesParseQuery(t *testing.T) {
	for _, body := range formCases {
		checkFormPayload(t, []byte(body))
	}
}

// FuzzFormPayload compares formPayload with url.ParseQuery on any body.
func FuzzFormPayload(f *testing.F) {
	for _, body := range formCases {
		f.Add([]byte(body))
	}
	for _, body := range fixtureBodies(f) {
		f.Add(body)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		checkFormPayload(t, body)
	})
}

func checkFormPayload(t *testing.T, body []byte) {
	t.Helper()
	got, err := slack.FormPayload(body)
	want, wantErr := referenceFormPayload(body)
	switch {
	case wantErr != nil && err == nil:
		t.Errorf("formPayload(%q) = %q, want error %v", body, got, wantErr)
	case wantErr == nil && err != nil:
		t.Errorf("formPayload(%q) error = %v, want %q", body, err, want)
	case wantErr != nil && !errors.Is(err, wantErr):
		t.Errorf("formPayload(%q) error = %v, want one matching %v", body, err, wantErr)
	case !bytes.Equal(got, want):
		t.Errorf("formPayload(%q) = %q, want %q", body, got, want)
	}
	if err == nil && len(body) > 0 && len(got) > 0 && &got[0] == &body[0] {
		t.Errorf("formPayload(%q) returned a slice of the body", body)
	}
}
