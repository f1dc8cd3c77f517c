// Package transport carries cluster messages between members over TCP
// (Tomcat's NioReceiver and ReplicationTransmitter): one persistent
// connection per peer, Tribes' frame markers around a versioned Gomcat
// envelope, three send modes (async, use_ack, use_ack|sync), per-peer FIFO
// order in every mode, byte-bounded queues with back-pressure, reconnect
// with back-off, and optional AES-GCM sealing of every frame.
//
// Main types: Receiver (calls a Handler like http.Handler) and Sender
// (Send, Ping, ClosePeer, Stats). frame.go is the pure codec.
//
// Wire: see frame.go. A connection starts with a hello frame (member name,
// unique id, sender epoch); message ids increase per Sender. After a
// broken connection the Sender re-sends what the peer had not
// acknowledged; the Receiver recognises ids it already handled (per
// unique id + epoch) and answers without handling them again, so a retry
// never runs a handler twice. Async messages are confirmed by a
// cumulative ack each time the receiver drains its read buffer, which
// lets the Sender bound memory by bytes not yet acknowledged and report
// what was lost (Config.OnError, PeerStats.Failed). A dead peer fails
// fast: after two refused dials in a row (ECONNREFUSED or unreachable; not
// a timeout) sync and ack sends fail with ErrUnreachable instead of
// waiting for Timeout, later ones after one dial; async ones stay queued.
//
// Hot path: Send copies the payload once, into a per-peer arena chunk
// (arena.go); the writer sends a batch with one writev straight from the
// chunks. The receiver reads as many frames per read as arrived into one
// reused buffer (reader.go) and copies each payload out for the Handler,
// or lends it (Config.BorrowPayload: no allocation per message).
//
// Goroutines:
//   - Receiver: one accept loop and one per connection (reads frames in
//     order, calls the Handler, writes acks). Stop closes the listener and
//     connections and waits for all of them.
//   - Sender: per peer one writer (drains the queue, dials and re-dials)
//     and one ack reader per connection. A Send that finds the writer idle
//     (async: and nothing unacknowledged, and no write in the last
//     linger, 100 µs) writes its own frame (peer.writing is the token).
//     Async frames that follow a write that closely are left to the
//     writer, which waits out the rest of linger so they go in one
//     writev (fewer writes here, fewer reads and wake-ups on the peer);
//     a waited-for Send cuts that wait short.
//     ClosePeer ends a peer's; Stop ends all and waits.
//
// Lock order: Sender.mu before peer.mu before arena.mu; Receiver.mu is
// never held with another lock. No lock is held while calling a Handler
// or Config.OnError.
package transport
