package transport

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"net"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/rs/zerolog"

	"github.com/gomcat/gomcat/runtime/lifecycle"
)

const ackReadSize = 4 << 10 // per-connection ack read buffer

// PeerStats are the counters of one destination of a Sender.
type PeerStats struct {
	Addr           string
	Connected      bool
	QueuedBytes    int    // bytes queued or written and not yet acknowledged
	QueuedMessages int    // messages queued or written and not yet acknowledged
	Sent           uint64 // frames written, re-sends included
	SentBytes      uint64 // bytes of those frames (sealing included), counted after each successful write
	Acked          uint64 // messages the peer confirmed
	Failed         uint64 // messages given up on (returned as errors or reported to OnError)
	Reconnects     uint64 // connections made after a lost or failed one
}

// Sender sends messages to peers over one persistent connection per peer
// (Tomcat's ReplicationTransmitter), preserving per-peer send order in
// every mode. Safe for concurrent use. Create it with NewSender; it dials
// on demand; stop it with Stop.
type Sender struct {
	cfg       Config
	log       zerolog.Logger
	epoch     uint64
	nextID    atomic.Uint64
	waitItems sync.Pool // items with a done channel (async ones are per peer)
	maxBody   int       // largest payload that fits a frame
	sealers   *sealers  // nil unless sealed; opens acks and greetings

	// view is a read-only copy of peers for lock-free lookups; it is
	// replaced (under mu) whenever peers changes.
	view atomic.Pointer[map[string]*peer]

	mu     sync.Mutex // guards peers and closed; taken before any peer.mu
	peers  map[string]*peer
	closed bool

	wg sync.WaitGroup

	dial func(ctx context.Context, addr string) (net.Conn, error) // nil: TCP; tests swap it
}

// NewSender validates cfg and returns a Sender. It opens no connection.
func NewSender(cfg Config) (*Sender, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	var b [8]byte
	rand.Read(b[:])
	if cfg.Self.UniqueID == ([16]byte{}) {
		rand.Read(cfg.Self.UniqueID[:])
	}
	s := &Sender{
		cfg:     cfg,
		log:     cfg.Logger.With().Str("component", "transport").Logger(),
		epoch:   binary.BigEndian.Uint64(b[:]),
		maxBody: cfg.MaxFrameSize - envHeaderLen,
		peers:   make(map[string]*peer),
	}
	sl, err := sealersFor(&s.cfg)
	if err != nil {
		return nil, err
	}
	if s.sealers = sl; sl != nil {
		s.maxBody -= sealedOverhead
	}
	s.publishLocked()
	s.waitItems.New = func() any { return &item{done: make(chan error, 1)} }
	return s, nil
}

// Send sends m to the receiver at addr ("host:port") and blocks according
// to m.Options: async (8) until the message is queued; use_ack|sync (6)
// until the peer's handler returned (its error comes back as a
// *RemoteError); otherwise until the peer received it. Each wait is
// bounded by ctx and Config.Timeout: a full queue gives ErrQueueFull, a
// missing ack ErrTimeout (the message may still arrive). Messages to one
// addr arrive in Send order, whatever their modes. Concurrency-safe.
func (s *Sender) Send(ctx context.Context, addr string, m Message) error {
	if len(m.Payload) > s.maxBody {
		return fmt.Errorf("send to %s: %w (%d bytes)", addr, ErrTooLarge, len(m.Payload))
	}
	opts := m.Options
	if opts&(OptAsync|OptUseAck|OptSync) == 0 {
		opts |= OptUseAck // Tomcat's SEND_OPTIONS_DEFAULT
	}
	return s.send(ctx, addr, typeData, m.Channel, opts, m.Payload)
}

// Ping sends a probe through addr's queue and waits for its ack: nil
// means the peer is alive and has received everything sent before.
func (s *Sender) Ping(ctx context.Context, addr string) error {
	return s.send(ctx, addr, typePing, 0, OptUseAck, nil)
}

func (s *Sender) send(ctx context.Context, addr string, typ frameType, ch Channel, opts int, payload []byte) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("send to %s: %w", addr, err)
	}
	p, err := s.peer(addr)
	if err != nil {
		return fmt.Errorf("send to %s: %w", addr, err)
	}
	v := p.encode(typ, ch, opts, payload)
	if opts&OptAsync != 0 {
		if _, err := p.enqueue(ctx, v, nil); err != nil {
			p.arena.release(v.ck) // never queued, never written
			return fmt.Errorf("send to %s: %w", addr, err)
		}
		return nil
	}
	it, err := p.enqueue(ctx, v, s.waitItems.Get().(*item))
	if err != nil {
		p.arena.release(v.ck)
		s.putItem(it)
		return fmt.Errorf("send to %s: %w", addr, err)
	}
	return p.wait(ctx, it)
}

// ClosePeer drops addr (its member disappeared): the connection is closed
// and messages not yet acknowledged fail with ErrPeerClosed (waiting
// callers get it, async ones go to OnError). A later Send dials again.
func (s *Sender) ClosePeer(addr string) {
	s.mu.Lock()
	p := s.peers[addr]
	delete(s.peers, addr)
	s.publishLocked()
	s.mu.Unlock()
	if p != nil {
		p.close(ErrPeerClosed)
	}
}

// Stats returns the counters of every known peer, sorted by address.
func (s *Sender) Stats() []PeerStats {
	s.mu.Lock()
	ps := make([]*peer, 0, len(s.peers))
	for _, p := range s.peers {
		ps = append(ps, p)
	}
	s.mu.Unlock()
	out := make([]PeerStats, 0, len(ps))
	for _, p := range ps {
		out = append(out, p.stats())
	}
	slices.SortFunc(out, func(a, b PeerStats) int {
		switch {
		case a.Addr < b.Addr:
			return -1
		case a.Addr > b.Addr:
			return 1
		}
		return 0
	})
	return out
}

// Stop closes every peer (pending messages fail with ErrClosed) and waits
// for the sender's goroutines, or for ctx. Idempotent.
func (s *Sender) Stop(ctx context.Context) error {
	s.mu.Lock()
	s.closed = true
	ps := s.peers
	s.peers = make(map[string]*peer)
	s.publishLocked()
	s.mu.Unlock()
	for _, p := range ps {
		p.close(ErrClosed)
	}
	if err := lifecycle.Wait(ctx, &s.wg); err != nil {
		return fmt.Errorf("transport: stop sender: %w", err)
	}
	return nil
}

// peer returns addr's peer, creating it and its writer on first use.
func (s *Sender) peer(addr string) (*peer, error) {
	if p := (*s.view.Load())[addr]; p != nil {
		return p, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, ErrClosed
	}
	if p := s.peers[addr]; p != nil {
		return p, nil
	}
	ctx, cancel := context.WithCancel(context.Background())
	p := &peer{
		s:      s,
		addr:   addr,
		log:    s.log.With().Str("peer", addr).Logger(),
		ctx:    ctx,
		cancel: cancel,
		wake:   make(chan struct{}, 1),
		dial:   dialPolicy{timeout: s.cfg.Timeout},
	}
	s.peers[addr] = p
	s.publishLocked()
	s.wg.Go(p.run)
	return p, nil
}

// publishLocked makes the current peers visible to lock-free lookups;
// s.mu is held.
func (s *Sender) publishLocked() {
	m := make(map[string]*peer, len(s.peers))
	for a, p := range s.peers {
		m[a] = p
	}
	s.view.Store(&m)
}

// encode encodes a message into a buffer from the peer's arena (the one
// copy of the payload; the writer sends it from there) and returns the
// item to enqueue, by value.
func (p *peer) encode(typ frameType, ch Channel, opts int, payload []byte) item {
	n := envHeaderLen + len(payload)
	if p.s.cfg.Key == nil {
		n += frameOverhead
	}
	v := item{typ: typ, ch: ch, opts: opts}
	v.buf, v.ck, v.off = p.arena.reserve(n)
	e := envelope{typ: typ, ch: ch, opts: uint16(opts), payload: payload}
	if p.s.cfg.Key != nil {
		v.buf = appendEnvelope(v.buf, &e)
	} else {
		v.buf = endFrame(appendEnvelope(beginFrame(v.buf), &e), 0)
	}
	return v
}

// setID writes the id into the encoded item.
func (s *Sender) setID(it *item, id uint64) {
	it.id = id
	off := envIDOffset
	if s.cfg.Key == nil {
		off += frameHeaderLen
	}
	binary.BigEndian.PutUint64(it.buf[off:], id)
}

// message rebuilds the Message of an item for OnError.
func (s *Sender) message(it *item) *Message {
	m := &Message{Channel: it.ch, Options: it.opts, ID: it.id}
	if s.cfg.Key != nil {
		m.Payload = it.buf[envHeaderLen:]
	} else {
		m.Payload = it.buf[frameHeaderLen+envHeaderLen : len(it.buf)-len(endMarker)]
	}
	return m
}

// putItem recycles a waited-for item once its waiter has the result.
// Its chunk reference was released (or deliberately kept) by then.
func (s *Sender) putItem(it *item) {
	*it = item{done: it.done} // done was drained by the waiter
	s.waitItems.Put(it)
}
