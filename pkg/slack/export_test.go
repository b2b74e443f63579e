package slack

// Unexported parts that the external tests of this package check.
var (
	ValidJSON        = validJSON
	MaxJSONDepth     = maxJSONDepth
	FormPayload      = formPayload
	HasStringSpecial = hasStringSpecial
)
