package transporttest

import "errors"

var (
	// ErrClosed is returned by a port that left or whose hub is closed.
	ErrClosed = errors.New("transporttest: closed")
	// ErrUnknownMember is returned for a destination that is not a member.
	ErrUnknownMember = errors.New("transporttest: not a member")
	// ErrUnreachable is returned for a destination across a partition, or
	// one that left before delivering.
	ErrUnreachable = errors.New("transporttest: member unreachable")
	// ErrDropped is returned for a non-async message lost to SetDrop.
	ErrDropped = errors.New("transporttest: message dropped")
)
