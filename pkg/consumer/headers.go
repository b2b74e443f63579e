package consumer

import "github.com/lsst-sqre/squarebot/pkg/route"

// Header is the constraint of HeaderValue and EventID. It admits both
// franz-go's kgo.RecordHeader and confluent-kafka-go's kafka.Header, whose
// underlying type is this struct, so the package needs neither client.
type Header interface {
	~struct {
		Key   string
		Value []byte
	}
}

// HeaderValue returns the value of the first header named key, and whether
// there is one. Squarebot's header names are the Header constants of package
// route, such as route.HeaderRetryNum.
func HeaderValue[H Header](headers []H, key string) (string, bool) {
	for _, header := range headers {
		plain := struct {
			Key   string
			Value []byte
		}(header)
		if plain.Key == key {
			return string(plain.Value), true
		}
	}
	return "", false
}

// EventID returns the Slack event id that Squarebot puts in the
// slack_event_id header of message and app mention records, or "" when the
// header is missing, as on interaction records. It equals the event_id field
// of the value, so a consumer can deduplicate without decoding.
func EventID[H Header](headers []H) string {
	id, _ := HeaderValue(headers, route.HeaderEventID)
	return id
}
