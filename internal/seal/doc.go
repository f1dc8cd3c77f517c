// Package seal is the AEAD shared by mcast (heartbeats) and transport
// (frames): cluster keys, the keys derived from them, and sealing.
//
// Keys: a Ring holds the cluster keys (16, 24 or 32 bytes each; a key file
// lists them, keyfile.go); the first seals, all open, so a cluster rotates
// by adding a key everywhere, then making it first, then dropping the old
// one. Ring.Set swaps the set atomically (reload without restart). Each
// cluster key yields an AES-256 key per Purpose (heartbeat, transport,
// farm) with HKDF-SHA256, and a 4-byte KeyID that travels in the clear.
//
// Sealed layout (format 2): key id (4) ‖ nonce (12) ‖ GCM(timestamp int64
// big-endian unix ms ‖ plaintext) incl. the 16-byte tag; Overhead = 40
// bytes. After Tomcat's EncryptInterceptor (AES/GCM, replayWindowTime
// 10000 ms, replayWindowMessageCount 8192), not byte-compatible with it.
// Callers bind a message to its context in the associated data (sender and
// receiver identities, incarnation, direction): see mcast and transport.
//
// Main type: Sealer (one Purpose over a Ring), safe for concurrent use: one
// mutex guards its replay cache; sealing takes no lock. No goroutines.
//
// Replay cache: one per Sealer (a receiver shares one across its
// connections); at most Config.ReplayEntries nonces; when full, the entry
// with the oldest timestamp is evicted and any later message whose
// timestamp is not newer than the newest evicted one is rejected
// (ErrReplay). Size the cache for the message rate of the Window; clocks of
// the peers must agree within Window.
package seal
