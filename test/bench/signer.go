package main

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/lsst-sqre/squarebot/pkg/secret"
	"github.com/lsst-sqre/squarebot/pkg/slack"
)

// signedTemplate is one payload as a complete HTTP/1.1 request signed with
// one timestamp.
//
// An interaction request is final. An event request gets a new event_id
// for every send, because Squarebot treats a repeated event_id as a Slack
// retry and responds 200 without publishing it, so replaying one id would
// measure its duplicate filter instead of the pipeline. Its signature is then finished
// per request from prefix, the HMAC state over "v0:{timestamp}:" and the
// body up to the event_id, so only the rest of the body is hashed again.
type signedTemplate struct {
	request []byte
	// eventID is the span of the event_id value in request, or [-1, -1].
	eventID [2]int
	// signatureStart is where the hex digest starts in request.
	signatureStart int
	prefix         hash.Hash
}

// signedSet contains every payload's template for one timestamp.
type signedSet struct {
	second    int64
	templates []signedTemplate
}

// signer keeps a signedSet for the current second, so that the load
// generator sends fresh timestamps without signing whole bodies per
// request.
type signer struct {
	secret   secret.Value
	target   target
	payloads []payload
	current  atomic.Pointer[signedSet]
	// sequence numbers the event ids, so each is sent once per invocation.
	sequence atomic.Uint64
	// maxRequestLength is the length of the longest request.
	maxRequestLength int
}

func newSigner(signingSecret secret.Value, to target, payloads []payload) *signer {
	s := &signer{secret: signingSecret, target: to, payloads: payloads}
	s.current.Store(s.sign(time.Now().Unix()))
	for _, template := range s.current.Load().templates {
		s.maxRequestLength = max(s.maxRequestLength, len(template.request))
	}
	return s
}

// run re-signs every payload at the start of each second until ctx ends.
// Requests keep using the previous set while the new one is built, which
// is at most one second old.
func (s *signer) run(ctx context.Context) {
	for {
		next := time.Now().Truncate(time.Second).Add(time.Second)
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Until(next)):
		}
		s.current.Store(s.sign(time.Now().Unix()))
	}
}

// newBuffer returns a buffer that request can fill without growing it.
func (s *signer) newBuffer() []byte {
	return make([]byte, 0, s.maxRequestLength)
}

// request returns the signed request of payload index i. An event request
// is written into buffer with a fresh event_id, so buffer must come from
// newBuffer and must not be shared between goroutines.
func (s *signer) request(i int, buffer []byte) []byte {
	template := &s.current.Load().templates[i]
	if template.eventID[0] < 0 {
		return template.request
	}
	request := append(buffer[:0], template.request...)
	eventID := request[template.eventID[0]:template.eventID[1]]
	writeEventID(eventID, s.sequence.Add(1))

	mac, err := template.prefix.(hash.Cloner).Clone()
	if err != nil {
		panic(fmt.Sprintf("cloning the HMAC state: %v", err))
	}
	mac.Write(request[template.eventID[0]:])
	var sum [sha256.Size]byte
	hex.Encode(request[template.signatureStart:], mac.Sum(sum[:0]))
	return request
}

// writeEventID fills id, which starts with "Ev", with "Ev" and sequence in
// base 36, padded with zeros.
func writeEventID(id []byte, sequence uint64) {
	const digits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	for i := len(id) - 1; i >= 2; i-- {
		id[i] = digits[sequence%36]
		sequence /= 36
	}
}

// sign builds every template with timestamp second.
func (s *signer) sign(second int64) *signedSet {
	timestamp := strconv.FormatInt(second, 10)
	set := &signedSet{second: second, templates: make([]signedTemplate, len(s.payloads))}
	for i, p := range s.payloads {
		set.templates[i] = s.buildTemplate(p, timestamp)
	}
	return set
}

// buildTemplate writes the request line, headers and body of p as Slack
// sends them, signed with timestamp.
func (s *signer) buildTemplate(p payload, timestamp string) signedTemplate {
	var b strings.Builder
	b.Grow(len(p.Body) + 512)
	fmt.Fprintf(&b, "POST %s%s HTTP/1.1\r\n", s.target.PathPrefix, p.Path)
	fmt.Fprintf(&b, "Host: %s\r\n", s.target.Host)
	b.WriteString("User-Agent: squarebot-bench\r\n")
	fmt.Fprintf(&b, "Content-Type: %s\r\n", p.ContentType)
	fmt.Fprintf(&b, "Content-Length: %d\r\n", len(p.Body))
	fmt.Fprintf(&b, "%s: %s\r\n", slack.HeaderTimestamp, timestamp)
	signature := slack.Sign(s.secret, timestamp, p.Body)
	fmt.Fprintf(&b, "%s: %s\r\n\r\n", slack.HeaderSignature, signature)
	bodyStart := b.Len()
	b.Write(p.Body)

	template := signedTemplate{request: []byte(b.String()), eventID: [2]int{-1, -1}}
	if p.EventID[0] < 0 {
		return template
	}
	template.eventID = [2]int{bodyStart + p.EventID[0], bodyStart + p.EventID[1]}
	// The signature header's value is "v0=" and 64 hex digits, and it ends
	// right before the blank line that starts the body.
	template.signatureStart = bodyStart - len("\r\n\r\n") - hex.EncodedLen(sha256.Size)
	template.prefix = hmac.New(sha256.New, []byte(s.secret.Reveal()))
	template.prefix.Write([]byte("v0:" + timestamp + ":"))
	template.prefix.Write(p.Body[:p.EventID[0]])
	return template
}
