// Package seal is the AEAD shared by mcast (heartbeats) and transport (frames):
// AES-GCM with a random 12-byte nonce, a unix-millisecond timestamp inside the
// ciphertext, a ±Window freshness check and a bounded cache of nonces seen
// within the window, so a captured message cannot be replayed.
//
// Sealed layout: nonce (12) ‖ GCM(timestamp int64 big-endian ‖ plaintext) incl.
// the 16-byte tag; Overhead = 36 bytes. It follows Tomcat's EncryptInterceptor
// (AES/GCM/NoPadding, replayWindowTime 10000 ms, replayWindowMessageCount 8192)
// but is not byte-compatible with it. Associated data (SealAD/OpenAD) binds a
// message to a context label ("gomcat-mcast", "gomcat-transport") so a heartbeat
// cannot be replayed as a frame.
//
// Main type: Sealer, safe for concurrent use (one mutex guards the replay
// cache; sealing takes no lock). No goroutines.
//
// Replay cache: holds at most Config.ReplayEntries nonces; when full, the entry
// with the oldest timestamp is evicted and any later message whose timestamp
// is not newer than the newest evicted one is rejected (ErrReplay). A receiver
// taking more than ReplayEntries messages per Window from peers with skewed
// clocks can therefore reject good traffic: size the cache for the rate.
// Clocks of the peers must agree within Window.
package seal
