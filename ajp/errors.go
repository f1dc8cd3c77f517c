package ajp

import "errors"

// Sentinel errors. Callers test them with errors.Is.
var (
	// ErrBadMagic is returned for a packet that does not start with the
	// expected magic (0x1234 from the web server, "AB" from the container).
	ErrBadMagic = errors.New("ajp: bad packet magic")
	// ErrTooLarge is returned for a packet longer than the packet size.
	ErrTooLarge = errors.New("ajp: packet too large")
	// ErrTruncated is returned when the stream ends inside a packet.
	ErrTruncated = errors.New("ajp: truncated packet")
	// ErrMalformed is returned for a payload that does not decode.
	ErrMalformed = errors.New("ajp: malformed message")
)
