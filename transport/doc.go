// Package transport carries cluster messages between members over TCP
// (Tomcat's NioReceiver and ReplicationTransmitter): one persistent
// connection per peer, Tribes' frame markers around a versioned Gomcat
// envelope, send modes async, use_ack and use_ack|sync, FIFO order per
// peer in every mode, byte-bounded queues with back-pressure, reconnect
// with back-off, and optional AES-GCM sealing of every frame.
//
// Main types: Receiver (calls a Handler) and Sender (Send, Ping, Stats).
//
// Wire: a connection starts with a hello (member name, unique id, sender
// epoch), sealed ones with the receiver's greeting before it (seal.go:
// frames bound to the connection); message ids increase per Sender. After
// a broken connection the Sender re-sends what was not acknowledged and
// the Receiver answers ids it already handled without handling them again.
// Async messages are confirmed by a cumulative ack whenever the receiver
// drains its read buffer, so the Sender bounds memory by unacknowledged
// bytes and reports what was lost (Config.OnError, PeerStats.Failed). After
// two refused dials in a row, sync and ack sends fail with ErrUnreachable
// at once; async ones stay queued until Timeout.
//
// Shape: queue.go is the pure send queue (queued → in flight → finished,
// bytes, cumulative acks, requeue, exactly-once ids), dial.go the pure
// back-off policy, peer.go the Send side, writer.go the connection
// (sealing hooks: peer.seal, peer.open, readAcks; session.next, reply).
//
// Goroutines: the Receiver runs one accept loop and one goroutine per
// connection (reads frames, calls the Handler, writes acks); Stop closes
// the listener and connections and waits. The Sender runs per peer one
// writer, which owns the connection (dials, retires it, writes batches
// with one writev), and per connection one ack reader, which applies acks
// and on an error marks the connection lost for the writer. Send copies
// the payload into the peer's arena; if the writer is idle with nothing
// else queued, Send writes its frame itself (peer.writing is the write
// token), except async frames within 100 µs of a write, which the writer
// batches into one writev. ClosePeer ends a peer's goroutines; Stop all.
//
// Lock order: Sender.mu, then peer.mu, then arena.mu; Receiver.mu is never
// held with another lock, and no lock is held while calling a Handler or
// Config.OnError.
package transport
