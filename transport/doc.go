// Package transport carries cluster messages between members over TCP
// (Tomcat's NioReceiver and ReplicationTransmitter): one persistent
// connection per peer, Tribes' frame markers around a versioned Gomcat
// envelope, send modes async, use_ack and use_ack|sync, FIFO order per
// peer in every mode, byte-bounded queues with back-pressure, reconnect
// with back-off, and optional AES-GCM sealing of every frame.
//
// Main types: Receiver (calls a Handler like http.Handler) and Sender
// (Send, Ping, ClosePeer, Stats). frame.go is the pure codec.
//
// Wire: a connection starts with a hello (member name, unique id, sender
// epoch), sealed ones with the receiver's greeting before it (seal.go:
// frames bound to the connection); message ids increase per Sender. After a broken connection the
// Sender re-sends what was not acknowledged and the Receiver answers ids it
// already handled without handling them again: a handler never runs twice.
// Async messages are confirmed by a cumulative ack whenever the receiver
// drains its read buffer, so the Sender bounds memory by unacknowledged
// bytes and reports what was lost (Config.OnError, PeerStats.Failed). After
// two refused dials in a row, sync and ack sends fail with ErrUnreachable
// at once; async ones stay queued until Timeout.
//
// Hot path: Send copies the payload once into a per-peer arena (arena.go);
// the writer sends a batch with one writev. The receiver reads as many
// frames per read as arrived into one reused buffer (reader.go) and copies
// each payload out, or lends it (Config.BorrowPayload).
//
// Goroutines: the Receiver runs one accept loop and one goroutine per
// connection (reads frames in order, calls the Handler, writes acks); Stop
// closes the listener and connections and waits. The Sender runs, per peer,
// one writer (drains the queue, dials) and one ack reader per connection;
// an idle writer lets a Send write its own frame (peer.writing is the
// token), and async frames within 100 µs of a write are left to the writer
// to go out in one writev. ClosePeer ends a peer's goroutines; Stop ends all.
//
// Lock order: Sender.mu, then peer.mu, then arena.mu; Receiver.mu is never
// held with another lock, and no lock is held while calling a Handler or
// Config.OnError.
package transport
