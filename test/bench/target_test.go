package main

import (
	"context"
	"errors"
	"net/netip"
	"testing"
)

// fakeLookup resolves names from a table and fails for any other name, so
// the tests never query a resolver.
func fakeLookup(table map[string][]string) lookupFunc {
	return func(_ context.Context, host string) ([]netip.Addr, error) {
		texts, ok := table[host]
		if !ok {
			return nil, errors.New("no such host")
		}
		addresses := make([]netip.Addr, len(texts))
		for i, text := range texts {
			addresses[i] = netip.MustParseAddr(text)
		}
		return addresses, nil
	}
}

var lookupTable = fakeLookup(map[string][]string{
	"localhost":    {"127.0.0.1", "::1"},
	"gateway.test": {"127.0.0.1", "192.0.2.10"},
	"public.test":  {"203.0.113.7"},
})

func TestParseTargetAcceptsLoopback(t *testing.T) {
	tests := []struct {
		url  string
		want target
	}{
		{url: "http://127.0.0.1:8080", want: target{Host: "127.0.0.1:8080", Addr: "127.0.0.1:8080"}},
		{url: "http://127.1.2.3:8080/", want: target{Host: "127.1.2.3:8080", Addr: "127.1.2.3:8080"}},
		{url: "http://[::1]:8080/squarebot/", want: target{Host: "[::1]:8080", Addr: "[::1]:8080", PathPrefix: "/squarebot"}},
		{url: "http://localhost:9000", want: target{Host: "localhost:9000", Addr: "127.0.0.1:9000"}},
		{url: "http://[::ffff:127.0.0.1]:8080", want: target{Host: "[::ffff:127.0.0.1]:8080", Addr: "127.0.0.1:8080"}},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			got, err := parseTarget(context.Background(), tt.url, lookupTable)

			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("parseTarget = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestParseTargetRejectsOtherHosts(t *testing.T) {
	for _, url := range []string{
		"http://10.0.0.1:8080",
		"http://0.0.0.0:8080",
		"http://[::]:8080",
		"http://169.254.169.254:80",
		"http://public.test:8080",
		"http://gateway.test:8080",
	} {
		t.Run(url, func(t *testing.T) {
			_, err := parseTarget(context.Background(), url, lookupTable)

			if !errors.Is(err, errNotLoopback) {
				t.Errorf("parseTarget error = %v, want errNotLoopback", err)
			}
		})
	}
}

func TestParseTargetRejectsMalformed(t *testing.T) {
	for _, url := range []string{
		"https://127.0.0.1:8443",
		"http://127.0.0.1",
		"127.0.0.1:8080",
		"http://user:pass@127.0.0.1:8080",
		"http://127.0.0.1:8080/?x=1",
		"http://unknown.test:8080",
	} {
		t.Run(url, func(t *testing.T) {
			if _, err := parseTarget(context.Background(), url, lookupTable); err == nil {
				t.Error("parseTarget returned no error")
			}
		})
	}
}
