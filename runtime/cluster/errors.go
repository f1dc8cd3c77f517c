package cluster

import "errors"

var (
	// ErrConfig wraps every Config validation problem.
	ErrConfig = errors.New("cluster: invalid config")
	// ErrStarted is returned by a second Start.
	ErrStarted = errors.New("cluster: already started")
	// ErrClosed is returned by Start after Stop and by sends after Stop.
	ErrClosed = errors.New("cluster: closed")
	// ErrNoSuchMember is returned by a send to a name that is not a live
	// member, or whose member disappeared (or restarted) while the send
	// was in flight.
	ErrNoSuchMember = errors.New("cluster: no such member")
	// ErrSelf is returned by a send addressed to this member (Tomcat:
	// "Unable to send message to local member").
	ErrSelf = errors.New("cluster: unable to send message to local member")
	// ErrNotMember refuses a connection or message from a peer whose hello
	// (name, unique id, source IP) matches no live member.
	ErrNotMember = errors.New("cluster: sender is not a member")
	// ErrUnknownChannel is returned to the sender (a fail-ack in sync mode)
	// for a message on a channel nobody registered with Handle.
	ErrUnknownChannel = errors.New("cluster: no handler for channel")
)
