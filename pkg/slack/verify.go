package slack

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/lsst-sqre/squarebot/pkg/secret"
)

// Request headers that carry Slack's signature.
const (
	HeaderSignature = "X-Slack-Signature"
	HeaderTimestamp = "X-Slack-Request-Timestamp"
)

// DefaultMaxSkew is how far a request timestamp may lie from the local clock,
// in the past or in the future, before the request is rejected as a replay.
// Slack's documentation recommends five minutes.
const DefaultMaxSkew = 5 * time.Minute

// signatureVersion prefixes the signed base string and the signature.
const signatureVersion = "v0"

// Reasons why a request fails verification. Each is a sentinel to match with
// errors.Is; Reason turns it into a short class for logs and metric labels.
var (
	// ErrMissingSignature means a signature or timestamp header is absent or empty.
	ErrMissingSignature = errors.New("missing signature headers")
	// ErrMalformedSignature means a header is repeated, the signature is not
	// "v0=" followed by 64 hexadecimal digits, or the timestamp is not a
	// non-negative integer.
	ErrMalformedSignature = errors.New("malformed signature headers")
	// ErrStaleTimestamp means the timestamp lies outside the allowed skew.
	ErrStaleTimestamp = errors.New("request timestamp outside the allowed window")
	// ErrSignatureMismatch means no configured secret produces the signature.
	ErrSignatureMismatch = errors.New("signature mismatch")
)

// Reason returns the class of a verification error: "missing",
// "malformed", "stale" or "mismatch", or "other" for any other error.
// The set is fixed, so the result is safe as a metric label.
func Reason(err error) string {
	switch {
	case errors.Is(err, ErrMissingSignature):
		return "missing"
	case errors.Is(err, ErrMalformedSignature):
		return "malformed"
	case errors.Is(err, ErrStaleTimestamp):
		return "stale"
	case errors.Is(err, ErrSignatureMismatch):
		return "mismatch"
	default:
		return "other"
	}
}

// Verifier checks X-Slack-Signature against one or more signing secrets.
// Accepting several secrets lets an operator rotate a secret without
// downtime. A Verifier is safe for concurrent use.
type Verifier struct {
	secrets [][]byte
	maxSkew time.Duration
	now     func() time.Time
	macs    []sync.Pool
}

// VerifierOption changes a Verifier built by NewVerifier.
type VerifierOption func(*Verifier)

// WithMaxSkew sets the allowed distance between a request's timestamp and
// the local clock. The default is DefaultMaxSkew.
func WithMaxSkew(skew time.Duration) VerifierOption {
	return func(v *Verifier) { v.maxSkew = skew }
}

// WithClock replaces time.Now, for tests.
func WithClock(now func() time.Time) VerifierOption {
	return func(v *Verifier) { v.now = now }
}

// NewVerifier returns a Verifier that accepts a signature made with any of
// secrets. It returns an error when secrets is empty or one of them is
// empty, so verification can never pass by default.
func NewVerifier(secrets []secret.Value, options ...VerifierOption) (*Verifier, error) {
	if len(secrets) == 0 {
		return nil, errors.New("no signing secret configured")
	}
	verifier := &Verifier{maxSkew: DefaultMaxSkew, now: time.Now}
	for i, value := range secrets {
		if !value.IsSet() {
			return nil, fmt.Errorf("signing secret %d of %d is empty", i+1, len(secrets))
		}
		verifier.secrets = append(verifier.secrets, []byte(value.Reveal()))
	}
	verifier.macs = make([]sync.Pool, len(verifier.secrets))
	for i, key := range verifier.secrets {
		verifier.macs[i].New = func() any { return hmac.New(sha256.New, key) }
	}
	for _, option := range options {
		option(verifier)
	}
	return verifier, nil
}

// Verify checks the signature headers of a request against body, the raw
// request body exactly as received. It returns nil or an error matching one
// of the Err* sentinels. The comparison takes constant time.
func (v *Verifier) Verify(header http.Header, body []byte) error {
	signatures := header.Values(HeaderSignature)
	timestamps := header.Values(HeaderTimestamp)
	if len(signatures) == 0 || len(timestamps) == 0 || signatures[0] == "" || timestamps[0] == "" {
		return ErrMissingSignature
	}
	if len(signatures) > 1 || len(timestamps) > 1 {
		return fmt.Errorf("%w: header repeated", ErrMalformedSignature)
	}
	timestamp := timestamps[0]

	seconds, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil || seconds < 0 {
		return fmt.Errorf("%w: timestamp is not a non-negative integer", ErrMalformedSignature)
	}
	want, err := decodeSignature(signatures[0])
	if err != nil {
		return err
	}
	skew := v.now().Sub(time.Unix(seconds, 0))
	if skew > v.maxSkew || skew < -v.maxSkew {
		return ErrStaleTimestamp
	}

	var sum [sha256.Size]byte
	matched := 0
	for i := range v.secrets {
		mac := v.macs[i].Get().(hash.Hash)
		mac.Reset()
		writeBase(mac, timestamp, body)
		matched |= subtle.ConstantTimeCompare(mac.Sum(sum[:0]), want[:])
		v.macs[i].Put(mac)
	}
	if matched == 0 {
		return ErrSignatureMismatch
	}
	return nil
}

// decodeSignature parses "v0=" followed by the hex digest.
func decodeSignature(value string) ([sha256.Size]byte, error) {
	var digest [sha256.Size]byte
	prefix := signatureVersion + "="
	if len(value) != len(prefix)+hex.EncodedLen(sha256.Size) || value[:len(prefix)] != prefix {
		return digest, fmt.Errorf("%w: signature is not %s followed by %d hex digits", ErrMalformedSignature, prefix, hex.EncodedLen(sha256.Size))
	}
	if _, err := hex.Decode(digest[:], []byte(value[len(prefix):])); err != nil {
		return digest, fmt.Errorf("%w: signature is not hexadecimal", ErrMalformedSignature)
	}
	return digest, nil
}

// writeBase writes Slack's base string "v0:{timestamp}:{body}".
func writeBase(mac hash.Hash, timestamp string, body []byte) {
	mac.Write([]byte(signatureVersion + ":"))
	mac.Write([]byte(timestamp))
	mac.Write([]byte(":"))
	mac.Write(body)
}

// Sign returns the X-Slack-Signature value for body sent at timestamp (Unix
// seconds as a decimal string), as Slack computes it. Squarebot uses it in
// `squarebot send`, the load tool and tests.
func Sign(signingSecret secret.Value, timestamp string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(signingSecret.Reveal()))
	writeBase(mac, timestamp, body)
	return signatureVersion + "=" + hex.EncodeToString(mac.Sum(nil))
}

// SignRequest sets the timestamp and signature headers of req for body,
// signed now with signingSecret.
func SignRequest(req *http.Request, signingSecret secret.Value, body []byte, now time.Time) {
	timestamp := strconv.FormatInt(now.Unix(), 10)
	req.Header.Set(HeaderTimestamp, timestamp)
	req.Header.Set(HeaderSignature, Sign(signingSecret, timestamp, body))
}
