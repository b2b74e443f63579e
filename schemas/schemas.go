// Package schemas embeds the Avro schemas of Squarebot's Kafka records.
//
// The .avsc files in this folder are the source of truth for the record
// contract: the gateway registers them, the Go types in pkg/records are
// generated from them, and backend teams generate their consumers from them.
package schemas

import "embed"

// FS contains every .avsc file of this folder, at the top level.
//
//go:embed *.avsc
var FS embed.FS
