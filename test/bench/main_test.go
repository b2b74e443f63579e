package main

import (
	"io"
	"strings"
	"testing"
)

func TestParseOptionsDefaults(t *testing.T) {
	opts, err := parseOptions(nil, io.Discard)

	if err != nil {
		t.Fatal(err)
	}
	if opts.Connections != 64 || opts.Duration.String() != "10s" || opts.Warmup.String() != "2s" {
		t.Errorf("defaults = -c %d -d %s -warmup %s, want 64, 10s, 2s", opts.Connections, opts.Duration, opts.Warmup)
	}
	if strings.Join(opts.Variants, ",") != "ceiling,obvious,squarebot" {
		t.Errorf("variants = %v, want ceiling, obvious and squarebot", opts.Variants)
	}
	if opts.URL != "" || !opts.Blackhole || opts.Pin {
		t.Errorf("defaults: url %q, blackhole %t, pin %t; want embedded, blackhole on, pinning off", opts.URL, opts.Blackhole, opts.Pin)
	}
}

func TestParseOptionsRejects(t *testing.T) {
	tests := map[string][]string{
		"duration above 120s":   {"-d", "121s"},
		"zero duration":         {"-d", "0s"},
		"zero connections":      {"-c", "0"},
		"too many runs":         {"--runs", "11"},
		"unknown variant":       {"--variants", "ceiling,fast"},
		"url without secret":    {"--url", "http://127.0.0.1:8080"},
		"url and embedded":      {"--url", "http://127.0.0.1:8080", "--secret", "s", "--embedded"},
		"not embedded, no url":  {"--embedded=false"},
		"request limit too low": {"-c", "64", "-n", "10"},
		"extra argument":        {"now"},
	}
	for name, args := range tests {
		t.Run(name, func(t *testing.T) {
			t.Setenv("SQUAREBOT_SLACK_SIGNING_SECRETS", "")

			if _, err := parseOptions(args, io.Discard); err == nil {
				t.Errorf("parseOptions(%q) returned no error", args)
			}
		})
	}
}

func TestParseOptionsURLSecretFromEnvironment(t *testing.T) {
	t.Setenv("SQUAREBOT_SLACK_SIGNING_SECRETS", "first, second")

	opts, err := parseOptions([]string{"--url", "http://127.0.0.1:8080"}, io.Discard)

	if err != nil {
		t.Fatal(err)
	}
	if opts.Secret.Reveal() != "first" {
		t.Errorf("secret = %q, want the first of the environment variable", opts.Secret.Reveal())
	}
}
