package schema

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/riferrei/srclient"

	"github.com/lsst-sqre/squarebot/pkg/secret"
)

// ClientConfig configures a registry client.
type ClientConfig struct {
	// URL is the registry's base URL.
	URL string
	// Username and Password are HTTP basic auth credentials, or empty.
	Username string
	Password secret.Value
	// CAFile is a PEM file with the CA of an https registry; empty uses
	// the system CAs.
	CAFile string
	// Timeout bounds each request. Default 10 s.
	Timeout time.Duration
}

// Client talks to a Confluent-compatible schema registry. It embeds the
// srclient client for registration and adds the compatibility queries
// srclient lacks.
type Client struct {
	*srclient.SchemaRegistryClient
	config ClientConfig
	http   *http.Client
}

// NewClient returns a Client for config.
func NewClient(config ClientConfig) (*Client, error) {
	httpClient, err := HTTPClient(config)
	if err != nil {
		return nil, err
	}
	client := srclient.NewSchemaRegistryClient(strings.TrimSuffix(config.URL, "/"), srclient.WithClient(httpClient))
	client.CodecCreationEnabled(false)
	if config.Username != "" {
		client.SetCredentials(config.Username, config.Password.Reveal())
	}
	return &Client{SchemaRegistryClient: client, config: config, http: httpClient}, nil
}

// HTTPClient returns an HTTP client with the timeout and CA of config.
func HTTPClient(config ClientConfig) (*http.Client, error) {
	if config.Timeout == 0 {
		config.Timeout = 10 * time.Second
	}
	transport := http.DefaultTransport.(*http.Transport).Clone()
	if config.CAFile != "" {
		pem, err := os.ReadFile(config.CAFile)
		if err != nil {
			return nil, fmt.Errorf("registry.ca_file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("registry.ca_file: %s contains no PEM certificate", config.CAFile)
		}
		transport.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	return &http.Client{Timeout: config.Timeout, Transport: transport}, nil
}

// Compatibility returns the compatibility level in force for subject: its
// own level, else the registry's global level.
func (c *Client) Compatibility(ctx context.Context, subject string) (string, error) {
	var answer struct {
		CompatibilityLevel string `json:"compatibilityLevel"`
	}
	path := "/config/" + url.PathEscape(subject) + "?defaultToGlobal=true"
	if err := c.do(ctx, http.MethodGet, path, nil, &answer, subject); err != nil {
		return "", err
	}
	return answer.CompatibilityLevel, nil
}

// CheckLatest queries the registry whether text may be registered as the next
// version of subject under the subject's compatibility level. It returns
// the registry's messages when it is not. A subject with no versions
// returns a *RegistryError with code 40401.
func (c *Client) CheckLatest(ctx context.Context, subject, text string) (compatible bool, messages []string, err error) {
	request, err := json.Marshal(map[string]string{"schema": text, "schemaType": "AVRO"})
	if err != nil {
		return false, nil, err
	}
	var answer struct {
		IsCompatible bool     `json:"is_compatible"`
		Messages     []string `json:"messages"`
	}
	path := "/compatibility/subjects/" + url.PathEscape(subject) + "/versions/latest?verbose=true"
	if err := c.do(ctx, http.MethodPost, path, request, &answer, subject); err != nil {
		return false, nil, err
	}
	return answer.IsCompatible, answer.Messages, nil
}

// do sends one request and decodes a 2xx answer into out, or returns a
// *RegistryError for an error answer.
func (c *Client) do(ctx context.Context, method, path string, body []byte, out any, subject string) error {
	request, err := http.NewRequestWithContext(ctx, method, strings.TrimSuffix(c.config.URL, "/")+path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	request.Header.Set("Content-Type", "application/vnd.schemaregistry.v1+json")
	request.Header.Set("Accept", "application/vnd.schemaregistry.v1+json")
	if c.config.Username != "" {
		request.SetBasicAuth(c.config.Username, c.config.Password.Reveal())
	}
	response, err := c.http.Do(request)
	if err != nil {
		return fmt.Errorf("subject %s: %w", subject, err)
	}
	defer response.Body.Close()
	data, err := io.ReadAll(io.LimitReader(response.Body, 1<<20))
	if err != nil {
		return fmt.Errorf("subject %s: reading registry response: %w", subject, err)
	}
	if response.StatusCode/100 != 2 {
		var answer struct {
			Code    int    `json:"error_code"`
			Message string `json:"message"`
		}
		if json.Unmarshal(data, &answer) != nil || answer.Code == 0 {
			answer.Code, answer.Message = response.StatusCode, response.Status
		}
		return &RegistryError{Subject: subject, Code: answer.Code, Message: answer.Message}
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("subject %s: decoding registry response: %w", subject, err)
	}
	return nil
}
