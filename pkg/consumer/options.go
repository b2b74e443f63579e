package consumer

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"
)

// DefaultRegistryTimeout is the timeout of the HTTP client that NewDecoder
// uses when no client is given. It bounds each schema request. A Decoder
// makes one request per schema id, and one more after each failed request.
const DefaultRegistryTimeout = 10 * time.Second

// DefaultMaxFieldSize is the default of WithMaxFieldSize. It is larger than
// Squarebot's default request body limit of 1 MiB, so that the slack_json
// field, which contains the whole request body, still decodes when an
// operator raises that limit.
const DefaultMaxFieldSize = 8 << 20

// Option configures a Decoder.
type Option func(*settings)

// settings are the values that options set.
type settings struct {
	httpClient   *http.Client
	username     string
	password     string
	basicAuth    bool
	maxFieldSize int
}

// WithHTTPClient sets the client for registry requests, for example to add
// TLS settings. The default is a client with DefaultRegistryTimeout. It
// applies only to NewDecoder.
func WithHTTPClient(client *http.Client) Option {
	return func(s *settings) { s.httpClient = client }
}

// WithBasicAuth sends HTTP basic authentication on every registry request,
// for registries that require it, such as Confluent Cloud. Use an https
// registry URL, because basic authentication sends the password in clear
// text. It applies only to NewDecoder. The Decoder keeps the password out of
// its errors.
func WithBasicAuth(username, password string) Option {
	return func(s *settings) {
		s.username = username
		s.password = password
		s.basicAuth = true
	}
}

// WithMaxFieldSize sets the maximum size in bytes of one Avro string or bytes
// value. A record with a longer value fails to decode. The limit also caps
// the memory that a corrupted length prefix can allocate. The default is
// DefaultMaxFieldSize.
func WithMaxFieldSize(bytes int) Option {
	return func(s *settings) { s.maxFieldSize = bytes }
}

func applyOptions(options []Option) (settings, error) {
	s := settings{maxFieldSize: DefaultMaxFieldSize}
	for _, option := range options {
		option(&s)
	}
	if s.basicAuth && s.username == "" {
		return settings{}, errors.New("WithBasicAuth: username is empty")
	}
	if s.maxFieldSize <= 0 {
		return settings{}, fmt.Errorf("WithMaxFieldSize: %d is not a positive number of bytes", s.maxFieldSize)
	}
	return s, nil
}

// newRegistryFetcher validates the registry URL and returns a fetcher that
// calls it with the options' client and credentials.
func newRegistryFetcher(registryURL string, s settings) (*registryFetcher, error) {
	base, err := url.Parse(registryURL)
	if err != nil {
		// The *url.Error quotes the whole URL, which may contain a password,
		// so keep only the reason.
		return nil, fmt.Errorf("invalid registry URL: %w", errors.Unwrap(err))
	}
	if base.Scheme != "http" && base.Scheme != "https" {
		return nil, fmt.Errorf("invalid registry URL %q: the scheme must be http or https", base.Redacted())
	}
	if base.Host == "" {
		return nil, fmt.Errorf("invalid registry URL %q: the host is missing", base.Redacted())
	}
	if base.User != nil {
		return nil, fmt.Errorf("invalid registry URL %q: pass credentials with WithBasicAuth, not in the URL", base.Redacted())
	}
	if base.RawQuery != "" || base.Fragment != "" {
		return nil, fmt.Errorf("invalid registry URL %q: remove the query and fragment", base.Redacted())
	}

	client := s.httpClient
	if client == nil {
		client = &http.Client{Timeout: DefaultRegistryTimeout}
	}
	return &registryFetcher{base: base, client: client, username: s.username, password: s.password}, nil
}
