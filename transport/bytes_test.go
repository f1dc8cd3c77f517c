package transport

import (
	"bytes"
	"testing"
	"testing/synctest"
)

// TestByteCounters: a peer's SentBytes grows by each frame's bytes, by
// the payload's growth exactly for a bigger frame, in the direct-write
// path and the writer's; the receiver reads every one of those bytes.
func TestByteCounters(t *testing.T) {
	t.Run("plain", func(t *testing.T) { inBubble(t, func(t *testing.T, pn *pipeNet) { testByteCounters(t, pn, nil) }) })
	t.Run("sealed", func(t *testing.T) {
		inBubble(t, func(t *testing.T, pn *pipeNet) { testByteCounters(t, pn, bytes.Repeat([]byte{5}, 32)) })
	})
}

func testByteCounters(t *testing.T, pn *pipeNet, key []byte) {
	c := testConfig(t)
	c.Key = key
	r := startPipeReceiver(t, pn, c, &seqChecker{})
	s := newPipeSender(t, pn, c)
	addr := r.Addr().String()
	ctx := ctxT(t)
	send := func(i uint64, opts, size int) (sent, recv uint64) {
		t.Helper()
		before, rb := s.Stats(), r.Stats().BytesReceived
		if err := s.Send(ctx, addr, seqMsg(i, opts, size)); err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
		synctest.Wait()
		var b0 uint64
		if len(before) > 0 {
			b0 = before[0].SentBytes
		}
		return s.Stats()[0].SentBytes - b0, r.Stats().BytesReceived - rb
	}
	send(0, OptUseAck, 100) // dials; the hello is the receiver's, not a frame
	d1, r1 := send(1, OptUseAck, 100)
	d2, r2 := send(2, OptUseAck, 600)
	if d1 < 100 || d2 != d1+500 {
		t.Fatalf("frame bytes: %d for 100 payload bytes, %d for 600", d1, d2)
	}
	t.Logf("frame of 100 payload bytes: %d bytes", d1)
	if r1 != d1 || r2 != d2 {
		t.Fatalf("receiver read %d and %d bytes, sender wrote %d and %d", r1, r2, d1, d2)
	}
	before := s.Stats()[0].SentBytes
	for i := uint64(3); i < 53; i++ {
		if err := s.Send(ctx, addr, seqMsg(i, OptAsync, 64)); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Ping(ctx, addr); err != nil {
		t.Fatal(err)
	}
	synctest.Wait()
	st := s.Stats()[0]
	if got := st.SentBytes - before; got < 50*64 {
		t.Fatalf("50 async frames of 64 payload bytes: %d bytes counted", got)
	}
	if rs := r.Stats(); rs.BytesReceived <= st.SentBytes {
		t.Fatalf("receiver read %d bytes, sender wrote %d frame bytes (and a hello)", rs.BytesReceived, st.SentBytes)
	}
}
