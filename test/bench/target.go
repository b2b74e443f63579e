package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strings"
)

// target is a gateway that the load generator may send requests to.
type target struct {
	// Host is the Host header: the host and port of the URL as given.
	Host string
	// Addr is the loopback address and port that every connection dials,
	// resolved once so that a name cannot resolve elsewhere later.
	Addr string
	// PathPrefix is the URL's path without a trailing slash, such as
	// "/squarebot" for http://127.0.0.1:8080/squarebot.
	PathPrefix string
}

// lookupFunc resolves a host name to its addresses, as
// net.Resolver.LookupNetIP does.
type lookupFunc func(ctx context.Context, host string) ([]netip.Addr, error)

// errNotLoopback means a URL's host is or resolves to an address outside
// 127.0.0.0/8 and ::1. The load tool sends traffic to loopback only.
var errNotLoopback = errors.New("not a loopback address")

// parseTarget checks that rawURL is an http URL with a port whose host is a
// loopback address or a name that resolves only to loopback addresses, and
// returns the target to dial.
func parseTarget(ctx context.Context, rawURL string, lookup lookupFunc) (target, error) {
	parsed, err := url.Parse(rawURL)
	if err != nil {
		return target{}, fmt.Errorf("--url %q: %w", rawURL, err)
	}
	if parsed.Scheme != "http" {
		return target{}, fmt.Errorf("--url %q: scheme must be http, not %q", rawURL, parsed.Scheme)
	}
	if parsed.User != nil || parsed.RawQuery != "" || parsed.Fragment != "" {
		return target{}, fmt.Errorf("--url %q: remove the user, query or fragment", rawURL)
	}
	host, port := parsed.Hostname(), parsed.Port()
	if host == "" || port == "" {
		return target{}, fmt.Errorf("--url %q: give a host and a port, such as http://127.0.0.1:8080", rawURL)
	}

	address, err := resolveLoopback(ctx, host, lookup)
	if err != nil {
		return target{}, fmt.Errorf("--url %q: %w", rawURL, err)
	}
	return target{
		Host:       parsed.Host,
		Addr:       net.JoinHostPort(address.String(), port),
		PathPrefix: strings.TrimSuffix(parsed.EscapedPath(), "/"),
	}, nil
}

// resolveLoopback returns host's first address when every address of host
// is a loopback address. An IP literal is not looked up.
func resolveLoopback(ctx context.Context, host string, lookup lookupFunc) (netip.Addr, error) {
	if literal, err := netip.ParseAddr(host); err == nil {
		if !literal.Unmap().IsLoopback() {
			return netip.Addr{}, fmt.Errorf("%s is %w", host, errNotLoopback)
		}
		return literal.Unmap(), nil
	}
	addresses, err := lookup(ctx, host)
	if err != nil {
		return netip.Addr{}, fmt.Errorf("resolving %s: %w", host, err)
	}
	if len(addresses) == 0 {
		return netip.Addr{}, fmt.Errorf("resolving %s: no address", host)
	}
	for _, address := range addresses {
		if !address.Unmap().IsLoopback() {
			return netip.Addr{}, fmt.Errorf("%s resolves to %s, which is %w", host, address, errNotLoopback)
		}
	}
	return addresses[0].Unmap(), nil
}

// systemLookup resolves names with the system resolver.
func systemLookup(ctx context.Context, host string) ([]netip.Addr, error) {
	return net.DefaultResolver.LookupNetIP(ctx, "ip", host)
}
