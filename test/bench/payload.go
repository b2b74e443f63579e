package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"

	"github.com/lsst-sqre/squarebot/test/fixtures"
)

// Payload classes and their share of the requests. Each class's share is
// split evenly over its fixtures.
const (
	classMessage     = "message"
	classMention     = "app_mention"
	classInteraction = "interaction"
)

// classShare is one class's share of the request mix.
type classShare struct {
	class   string
	percent int
}

// classShares is the request mix. The message class contains the fixtures of
// all four channel types (channel, group, im and mpim).
var classShares = []classShare{
	{classMessage, 60},
	{classMention, 15},
	{classInteraction, 25},
}

// mixLength is the length of the shuffled request schedule. At 1000 slots
// every fixture gets several slots, so each class's share is met to within
// a fraction of a percent.
const mixLength = 1000

// mixSeed makes the schedule the same in every run and every variant.
const mixSeed = 20240611

// payload is one fixture request, unsigned.
type payload struct {
	// Name is the fixture file name without its folder and extension.
	Name string
	// Class is classMessage, classMention or classInteraction.
	Class string
	// Path is the endpoint, /slack/event or /slack/interaction.
	Path        string
	ContentType string
	Body        []byte
	// EventID is the span of Body that holds the value of the top-level
	// event_id, without quotes, or [-1, -1] for an interaction.
	EventID [2]int
}

// loadPayloads reads every fixture that Squarebot publishes to a message,
// app mention or interaction topic, with its exact HTTP body.
func loadPayloads() ([]payload, error) {
	cases, err := fixtures.Load()
	if err != nil {
		return nil, fmt.Errorf("loading fixtures: %w", err)
	}
	var payloads []payload
	for _, c := range cases {
		class := payloadClass(c)
		if class == "" {
			continue
		}
		body, contentType, err := c.Body()
		if err != nil {
			return nil, fmt.Errorf("fixture %s: %w", c.File, err)
		}
		eventID := [2]int{-1, -1}
		if class != classInteraction {
			if eventID, err = findEventID(body); err != nil {
				return nil, fmt.Errorf("fixture %s: %w", c.File, err)
			}
		}
		payloads = append(payloads, payload{
			Name:        c.Name(),
			Class:       class,
			Path:        c.Endpoint(),
			ContentType: contentType,
			Body:        body,
			EventID:     eventID,
		})
	}
	return payloads, nil
}

// minEventIDLength is the shortest event_id value that findEventID
// accepts: "Ev" and enough base-36 digits for every request of a run.
const minEventIDLength = 2 + 8

// findEventID returns the span of the top-level event_id value in an
// Events API body. The value must occur exactly once in the body, so that
// replacing it cannot change another field.
func findEventID(body []byte) ([2]int, error) {
	var envelope struct {
		EventID string `json:"event_id"`
	}
	if err := json.Unmarshal(body, &envelope); err != nil {
		return [2]int{}, err
	}
	if len(envelope.EventID) < minEventIDLength || !strings.HasPrefix(envelope.EventID, "Ev") {
		return [2]int{}, fmt.Errorf("event_id %q is not Ev followed by at least %d characters", envelope.EventID, minEventIDLength-2)
	}
	quoted := []byte(`"` + envelope.EventID + `"`)
	if bytes.Count(body, quoted) != 1 {
		return [2]int{}, fmt.Errorf("event_id %q occurs more than once in the body", envelope.EventID)
	}
	start := bytes.Index(body, quoted) + 1
	return [2]int{start, start + len(envelope.EventID)}, nil
}

// payloadClass returns the class of a fixture, or "" for a fixture that is
// not published (handshakes, unrouted events, slash commands).
func payloadClass(c fixtures.Case) string {
	if c.Disposition != "publish" {
		return ""
	}
	switch {
	case strings.HasPrefix(c.ExpectedTopic, "message."):
		return classMessage
	case c.ExpectedTopic == "app.mention":
		return classMention
	case c.ExpectedTopic == "interaction":
		return classInteraction
	default:
		return ""
	}
}

// buildMix returns a schedule of payload indices, shuffled with a fixed
// seed, in which each class has its share of classShares. Connections walk
// the schedule from different offsets.
func buildMix(payloads []payload) ([]int, error) {
	byClass := map[string][]int{}
	for i, p := range payloads {
		byClass[p.Class] = append(byClass[p.Class], i)
	}
	mix := make([]int, 0, mixLength)
	for _, share := range classShares {
		indices := byClass[share.class]
		if len(indices) == 0 {
			return nil, fmt.Errorf("no %s fixture found in test/testdata/slack", share.class)
		}
		slots := mixLength * share.percent / 100
		for slot := range slots {
			mix = append(mix, indices[slot%len(indices)])
		}
	}
	random := rand.New(rand.NewPCG(mixSeed, mixSeed))
	random.Shuffle(len(mix), func(i, j int) { mix[i], mix[j] = mix[j], mix[i] })
	return mix, nil
}

// describeMix returns a one-line description of the mix, such as
// "36 fixtures: 60% message (14 fixtures), 15% app_mention (4 fixtures),
// 25% interaction (18 fixtures)".
func describeMix(payloads []payload, mix []int) string {
	counts := map[string]int{}
	fixturesPerClass := map[string]int{}
	for _, i := range mix {
		counts[payloads[i].Class]++
	}
	for _, p := range payloads {
		fixturesPerClass[p.Class]++
	}
	parts := make([]string, 0, len(classShares))
	for _, share := range classShares {
		percent := float64(counts[share.class]) * 100 / float64(len(mix))
		parts = append(parts, fmt.Sprintf("%.0f%% %s (%d fixtures)", percent, share.class, fixturesPerClass[share.class]))
	}
	return fmt.Sprintf("%d fixtures: %s", len(payloads), strings.Join(parts, ", "))
}
