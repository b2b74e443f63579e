// Package secret holds a string type for credentials that redacts itself
// wherever it could be printed: fmt verbs, JSON and log/slog.
package secret

import "log/slog"

// redacted replaces a set secret in every printed form.
const redacted = "[REDACTED]"

// Value is a credential such as a signing secret or a password. Its String,
// GoString, MarshalJSON and LogValue methods never return the content, only
// whether it is set. Call Reveal where the plain value is needed.
type Value string

// Reveal returns the plain secret. Pass the result only to the code that
// uses the credential, never to a logger or an error message.
func (v Value) Reveal() string { return string(v) }

// IsSet reports whether the secret is non-empty.
func (v Value) IsSet() bool { return v != "" }

// String returns "[REDACTED]" for a set secret and "" for an empty one.
func (v Value) String() string {
	if v == "" {
		return ""
	}
	return redacted
}

// GoString keeps %#v from printing the secret.
func (v Value) GoString() string { return v.String() }

// MarshalJSON encodes the redacted form.
func (v Value) MarshalJSON() ([]byte, error) { return []byte(`"` + v.String() + `"`), nil }

// MarshalText encodes the redacted form, for YAML and other text encoders.
func (v Value) MarshalText() ([]byte, error) { return []byte(v.String()), nil }

// LogValue logs the redacted form.
func (v Value) LogValue() slog.Value { return slog.StringValue(v.String()) }
