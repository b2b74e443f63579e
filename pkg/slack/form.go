package slack

import (
	"bytes"
	"cmp"
	"fmt"
)

// formPayload returns the decoded value of the payload field of a
// form-encoded body, in a new slice. It accepts and rejects bodies as
// url.ParseQuery does (FuzzFormPayload compares them) but decodes only the
// payload field, once, where url.ParseQuery copies the body into a string
// and decodes every field into a map.
func formPayload(body []byte) ([]byte, error) {
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
		if err := checkFormEscapes(value); err != nil {
			formErr = cmp.Or(formErr, err)
			continue
		}
		if !isFormKey(key, "payload") {
			continue
		}
		payloads++
		if payloads == 1 {
			encoded = value
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
	return appendFormUnescaped(make([]byte, 0, len(encoded)), encoded), nil
}

// checkFormEscapes returns an error when a percent sign in s is not
// followed by two hexadecimal digits, the only error of form decoding.
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
	var decoded [32]byte
	return string(appendFormUnescaped(decoded[:0], key)) == name
}

// appendFormUnescaped appends the decoded s to buffer: "+" becomes a space
// and %XX the byte it encodes. The escapes of s must be valid.
func appendFormUnescaped(buffer, s []byte) []byte {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '+':
			buffer = append(buffer, ' ')
		case '%':
			buffer = append(buffer, hexValue(s[i+1])<<4|hexValue(s[i+2]))
			i += 2
		default:
			buffer = append(buffer, c)
		}
	}
	return buffer
}

func hexValue(c byte) byte {
	switch {
	case c >= 'a':
		return c - 'a' + 10
	case c >= 'A':
		return c - 'A' + 10
	default:
		return c - '0'
	}
}
