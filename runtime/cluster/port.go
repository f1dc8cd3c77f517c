package cluster

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/gomcat/gomcat/runtime/lifecycle"
	"github.com/gomcat/gomcat/transport"
)

// DeliverFunc receives one message from the member named from (its name in
// the transport hello). It is called on the sending peer's connection
// goroutine, one message at a time per peer, in send order; its error goes
// back to a use_ack|sync sender. The from member may not be a member yet
// (membership can lag the first message by a heartbeat).
//
// msg is valid only during the call: it is the connection's read buffer
// (transport.Config.BorrowPayload), overwritten by the next messages. A
// DeliverFunc must copy, or decode into copies, what it keeps, and must
// not hand msg to another goroutine. Decoding with fxamacker/cbor is
// enough: byte strings and RawMessages are copied out of the input.
type DeliverFunc func(ctx context.Context, from string, msg []byte) error

// Handle registers deliver for channel ch (nil unregisters). Register before
// Start: a message on a channel without a handler is refused and counted.
// ChannelProbe (3) is the cluster's own (announce) and cannot be taken.
// deliver's msg is valid only during the call (see DeliverFunc).
func (c *Cluster) Handle(ch transport.Channel, deliver DeliverFunc) {
	if ch == transport.ChannelProbe {
		panic("cluster: channel 3 (probe) is reserved for the cluster")
	}
	if deliver == nil {
		c.handlers[ch].Store(nil)
		return
	}
	c.handlers[ch].Store(&deliver)
}

// Port returns the seam for channel ch that deltamgr.Cluster and
// farmdeploy.Cluster describe. Ports are cheap values; all methods are safe
// for concurrent use.
func (c *Cluster) Port(ch transport.Channel) *Port { return &Port{c: c, ch: ch} }

// Port is the cluster as one consumer (one channel) sees it.
type Port struct {
	c  *Cluster
	ch transport.Channel
}

// Self returns this member's name. Does not block.
func (p *Port) Self() string { return p.c.cfg.Name }

// Members returns the live peers (suspects included), oldest first by
// (StartedAt, UniqueID). Does not block.
func (p *Port) Members() []string { return p.c.view.Load().names() }

// Seniors returns the live peers that started before this member, oldest
// first; every member computes the same order from heartbeat values. Does
// not block.
func (p *Port) Seniors() []string { return p.c.view.Load().seniors() }

// Send sends msg to the member named to on the port's channel. opts are
// Tomcat's channelSendOptions (8 async: returns once queued; 2 use_ack:
// once received; 6 use_ack|sync: once the peer's DeliverFunc returned, its
// error as a *transport.RemoteError); 0 uses Config.SendOptions. A name
// that is not a member, or a member that disappeared meanwhile, fails with
// ErrNoSuchMember. Blocks as opts say, bounded by ctx and the transport
// Timeout.
func (p *Port) Send(ctx context.Context, to string, msg []byte, opts int) error {
	return p.c.send(ctx, p.ch, to, msg, opts)
}

// Broadcast sends msg to every member (concurrently unless async or a
// single member: then on the caller's goroutine) and
// returns errors.Join of the failures, each naming its member. No members
// is not an error.
func (p *Port) Broadcast(ctx context.Context, msg []byte, opts int) error {
	return p.c.broadcast(ctx, p.ch, msg, opts)
}

func (c *Cluster) send(ctx context.Context, ch transport.Channel, to string, msg []byte, opts int) error {
	cs := &c.st.channels[ch]
	err := c.sendTo(ctx, ch, to, msg, opts)
	if err != nil {
		cs.failures.Add(1)
		return err
	}
	cs.sent.Add(1)
	return nil
}

func (c *Cluster) sendTo(ctx context.Context, ch transport.Channel, to string, msg []byte, opts int) error {
	if to == c.cfg.Name {
		return fmt.Errorf("send to %s: %w", to, ErrSelf)
	}
	if c.life.State() == lifecycle.Stopped {
		return fmt.Errorf("send to %s: %w", to, ErrClosed)
	}
	r := c.view.Load().byName[to]
	if r == nil {
		return fmt.Errorf("send to %s: %w", to, ErrNoSuchMember)
	}
	if opts == 0 {
		opts = c.cfg.SendOptions
	}
	err := c.sender.Send(ctx, r.addr, transport.Message{Channel: ch, Options: opts, Payload: msg})
	if err == nil {
		return nil
	}
	if cur := c.view.Load().byName[to]; cur == nil || cur.gen != r.gen {
		return fmt.Errorf("send to %s: %w: %w", to, ErrNoSuchMember, err)
	}
	if unreachable(err) {
		c.nudge(to, r.gen)
	}
	return fmt.Errorf("send to %s: %w", to, err)
}

func (c *Cluster) broadcast(ctx context.Context, ch transport.Channel, msg []byte, opts int) error {
	v := c.view.Load()
	if len(v.members) == 0 {
		c.log.Debug().Msg("No members in cluster, ignoring message")
		return nil
	}
	if opts == 0 {
		opts = c.cfg.SendOptions
	}
	errs := make([]error, len(v.members))
	if opts&transport.OptAsync != 0 || len(v.members) == 1 { // only queues, or one wait: no need for goroutines
		for i, r := range v.members {
			errs[i] = c.send(ctx, ch, r.m.Name, msg, opts)
		}
		return errors.Join(errs...)
	}
	var wg sync.WaitGroup
	for i, r := range v.members {
		wg.Go(func() { errs[i] = c.send(ctx, ch, r.m.Name, msg, opts) })
	}
	wg.Wait()
	return errors.Join(errs...)
}

// nudge asks the event loop to probe a member a send could not reach
// (Tomcat: a send failure marks the member suspect). Never blocks.
func (c *Cluster) nudge(name string, gen uint64) {
	select {
	case c.nudges <- nudge{name: name, gen: gen}:
	default:
	}
}

// unreachable reports send errors that may mean the member died: the
// detector probes it (a probe that answers changes nothing).
func unreachable(err error) bool {
	return errors.Is(err, transport.ErrUnreachable) || errors.Is(err, transport.ErrTimeout) ||
		errors.Is(err, transport.ErrQueueFull)
}

// asyncFailed is the Sender's OnError: an async message was lost.
func (c *Cluster) asyncFailed(addr string, m *transport.Message, err error) {
	c.st.channels[m.Channel].asyncFailures.Add(1)
	if r := c.view.Load().byAddr[addr]; r != nil && unreachable(err) {
		c.nudge(r.m.Name, r.gen)
	}
}

// serve is the Receiver's Handler: it routes by channel.
func (c *Cluster) serve(ctx context.Context, from transport.Peer, m *transport.Message) error {
	cs := &c.st.channels[m.Channel]
	cs.received.Add(1)
	if m.Channel == transport.ChannelProbe {
		return c.onAnnounce(from, m.Payload)
	}
	if !c.fromMember(from, m.Channel) {
		return fmt.Errorf("%w: %s", ErrNotMember, from.Name)
	}
	d := c.handlers[m.Channel].Load()
	if d == nil {
		c.st.unknownChannel.Add(1)
		return fmt.Errorf("%w %d", ErrUnknownChannel, m.Channel)
	}
	if err := (*d)(ctx, from.Name, m.Payload); err != nil {
		cs.deliverErrors.Add(1)
		return err
	}
	return nil
}
