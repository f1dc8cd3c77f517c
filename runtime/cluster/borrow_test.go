package cluster_test

import (
	"bytes"
	"context"
	"fmt"
	"testing"

	"github.com/fxamacker/cbor/v2"

	"github.com/gomcat/gomcat/deltamgr"
	"github.com/gomcat/gomcat/internal/testkit"
	"github.com/gomcat/gomcat/runtime/cluster"
	"github.com/gomcat/gomcat/runtime/session"
	"github.com/gomcat/gomcat/transport"
)

// scribble wraps a DeliverFunc and overwrites msg once it returned, as the
// transport's next read into its buffer would (the cluster lends it).
func scribble(d cluster.DeliverFunc) cluster.DeliverFunc {
	return func(ctx context.Context, from string, msg []byte) error {
		err := d(ctx, from, msg)
		for i := range msg {
			msg[i] = 0xA5
		}
		return err
	}
}

// sessionsNode wires a deltamgr Router and Manager to n's channel 1, the
// way runtime/node does, with the payload scribbled after every Deliver.
func sessionsNode(t *testing.T, n *node, route string, opts int) *deltamgr.Manager {
	t.Helper()
	lg, _ := testkit.NewLogger(t)
	r := deltamgr.NewRouter(lg)
	n.c.Handle(transport.ChannelSessions, scribble(r.Deliver))
	p := n.c.Port(transport.ChannelSessions)
	r.Bind(p)
	cfg := deltamgr.DefaultConfig("localhost#/borrow")
	cfg.Route = route
	cfg.SendOptions = opts
	cfg.Logger = lg
	m, err := deltamgr.New(cfg, p)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Add(m); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Stop(context.Background()) })
	return m
}

// TestBorrowedPayloadNotRetained: the cluster hands DeliverFuncs the
// transport's read buffer (BorrowPayload). deltamgr's Router decodes
// every message into copies, so sessions replicated to b stay intact
// although each message's bytes are overwritten once Deliver returned.
func TestBorrowedPayloadNotRetained(t *testing.T) {
	group, port := testGroup()
	a := mcastNode(t, group, port, "a", nil)
	b := mcastNode(t, group, port, "b", nil)
	ma := sessionsNode(t, a, "a", transport.OptAsync)
	mb := sessionsNode(t, b, "b", transport.OptAsync)
	startAll(t, a, b)
	testkit.WaitFor(t, "a and b see each other", func() bool { return sees(a, "b")() && sees(b, "a")() })
	ctx := t.Context()
	errs := make(chan error, 2) // the junior's state transfer needs the senior started
	go func() { errs <- ma.Start(ctx) }()
	go func() { errs <- mb.Start(ctx) }()
	for range 2 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}

	type want struct {
		id  string
		str string
		bin []byte
	}
	var wants []want
	for i := range 64 {
		s, err := ma.Create(ctx)
		if err != nil {
			t.Fatal(err)
		}
		w := want{id: s.ID(), str: fmt.Sprintf("value-%d-%s", i, bytes.Repeat([]byte{'x'}, i*37)),
			bin: bytes.Repeat([]byte{byte(i)}, 1+i*13)}
		if err := s.Set("str", w.str); err != nil {
			t.Fatal(err)
		}
		if err := s.Set("bin", w.bin); err != nil {
			t.Fatal(err)
		}
		if err := ma.RequestCompleted(ctx, s); err != nil {
			t.Fatal(err)
		}
		wants = append(wants, w)
	}
	last := wants[len(wants)-1]
	testkit.WaitFor(t, "the last session on b", func() bool { return mb.Find(last.id) != nil })
	for _, w := range wants {
		s := mb.Find(w.id)
		if s == nil {
			t.Fatalf("session %s missing on b", w.id)
		}
		str, _ := s.Get("str")
		bin, _, err := session.GetAs[[]byte](s, "bin")
		if err != nil || str != w.str || !bytes.Equal(bin, w.bin) {
			t.Fatalf("session %s on b: str %.40q bin %x (%v); want %.40q %x", w.id, str, bin, err, w.str, w.bin)
		}
	}
}

// TestCBORDecodeCopies pins the library behaviour the consumers rely on
// (deltamgr's Message and session.Record, farmdeploy's chunk Data and
// digests): fxamacker/cbor copies byte strings and RawMessages out of the
// input, so nothing decoded aliases a borrowed payload.
func TestCBORDecodeCopies(t *testing.T) {
	type inner struct {
		B []byte `cbor:"1,keyasint"`
	}
	type msg struct {
		Data  []byte            `cbor:"1,keyasint"`
		Attrs map[string][]byte `cbor:"2,keyasint"`
		Raw   cbor.RawMessage   `cbor:"3,keyasint"`
		List  []inner           `cbor:"4,keyasint"`
		Str   string            `cbor:"5,keyasint"`
	}
	in := msg{Data: []byte("chunk data"), Attrs: map[string][]byte{"k": []byte("attr value")},
		Raw: cbor.RawMessage{0x43, 'r', 'a', 'w'}, List: []inner{{B: []byte("inner")}}, Str: "text"}
	b, err := cbor.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	dm, err := cbor.DecOptions{DupMapKey: cbor.DupMapKeyEnforcedAPF}.DecMode()
	if err != nil {
		t.Fatal(err)
	}
	var out msg
	if err := dm.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	for i := range b {
		b[i] = 0xA5
	}
	if !bytes.Equal(out.Data, in.Data) || !bytes.Equal(out.Attrs["k"], in.Attrs["k"]) ||
		!bytes.Equal(out.Raw, in.Raw) || !bytes.Equal(out.List[0].B, in.List[0].B) || out.Str != in.Str {
		t.Fatalf("decoded values changed with the input: %+v", out)
	}
}
