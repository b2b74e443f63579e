package slack

import (
	"bytes"
	"cmp"
	"fmt"
)

// maxFormFields is the most fields a form may have, url.ParseQuery's
// default limit.
const maxFormFields = 10000

// formPayload returns the decoded value of the payload field of a
// form-encoded body, in a new slice. It accepts and rejects bodies as
// url.ParseQuery does with its default limit of fields (FuzzFormPayload
// compares them) but decodes only the
// payload field, once, where url.ParseQuery copies the body into a string
// and decodes every field into a map.
func formPayload(body []byte) ([]byte, error) {
	if bytes.Count(body, []byte{'&'}) >= maxFormFields {
		return nil, fmt.Errorf("%w: more than %d fields", ErrInvalidForm, maxFormFields)
	}
	var (
		encoded  []byte // the first payload field, still encoded
		payloads int
		formErr  error
	)
	for rest := body; len(rest) > 0; {
		var field []byte
		field, rest, _ = bytes.Cut(rest, []byte{'&'})
		if bytes.IndexByte(field, ';') >= 0 {
			formErr = fmt.Errorf("%w: semicolon used as a field separator", ErrInvalidForm)
			continue
		}
		if len(field) == 0 {
			continue
		}
		key, value, _ := bytes.Cut(field, []byte{'='})
		if err := checkFormEscapes(key); err != nil {
			formErr = cmp.Or(formErr, err)
			continue
		}
		isPayload := isFormKey(key, "payload")
		if isPayload && payloads == 0 {
			// formUnescape checks this field's escapes when it decodes it.
			payloads++
			encoded = value
			continue
		}
		if err := checkFormEscapes(value); err != nil {
			formErr = cmp.Or(formErr, err)
			continue
		}
		if isPayload {
			payloads++
		}
	}
	switch {
	case formErr != nil:
		return nil, formErr
	case payloads == 0 || len(encoded) == 0:
		return nil, ErrNoPayloadField
	case payloads > 1:
		return nil, fmt.Errorf("%w: payload field repeated", ErrInvalidForm)
	}
	payload, ok := formUnescape(encoded)
	if !ok {
		return nil, checkFormEscapes(encoded)
	}
	return payload, nil
}

// formUnescape decodes s into a new slice in one pass: "+" becomes a
// space and %XX the byte it encodes. ok is false when an escape is not
// followed by two hexadecimal digits.
func formUnescape(s []byte) (decoded []byte, ok bool) {
	decoded = make([]byte, len(s))
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '+':
			c = ' '
		case '%':
			if i+2 >= len(s) {
				return nil, false
			}
			high, low := hexDigitValue[s[i+1]], hexDigitValue[s[i+2]]
			if high|low > 0x0f {
				return nil, false
			}
			c = high<<4 | low
			i += 2
		}
		decoded[n] = c
		n++
	}
	return decoded[:n], true
}

// checkFormEscapes returns an error when a percent sign in s is not
// followed by two hexadecimal digits, the only way decoding a field fails.
func checkFormEscapes(s []byte) error {
	for i := bytes.IndexByte(s, '%'); i >= 0; {
		if i+2 >= len(s) || !isHexDigit(s[i+1]) || !isHexDigit(s[i+2]) {
			escape := s[i:min(i+3, len(s))]
			return fmt.Errorf("%w: invalid escape %q", ErrInvalidForm, escape)
		}
		next := bytes.IndexByte(s[i+3:], '%')
		if next < 0 {
			break
		}
		i += 3 + next
	}
	return nil
}

// isFormKey reports whether the encoded key decodes to name. The escapes
// of key must be valid.
func isFormKey(key []byte, name string) bool {
	if bytes.IndexByte(key, '%') < 0 && bytes.IndexByte(key, '+') < 0 {
		return string(key) == name
	}
	// Each byte of the name takes at most three bytes encoded.
	if len(key) > 3*len(name) {
		return false
	}
	decoded, ok := formUnescape(key)
	return ok && string(decoded) == name
}
