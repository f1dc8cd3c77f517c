package deltamgr

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gomcat/gomcat/runtime/session"
)

// The answering side, step by step: window, acks in any order, the
// complete message only after every chunk, abort after a failure only
// once nothing is in flight, overdue acks.
func TestServeTable(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	boom := errors.New("boom")
	type step struct {
		do   string // send, exhausted, complete, ack, tick
		seq  int
		err  error
		at   time.Duration
		want action // next() after the step
	}
	cases := []struct {
		name  string
		steps []step
	}{
		{"window of 3, then complete after every ack", []step{
			{do: "send", want: actSend},
			{do: "send", want: actSend},
			{do: "send", want: actWait}, // 3 in flight
			{do: "ack", seq: 2, want: actSend},
			{do: "send", want: actWait},
			{do: "exhausted", want: actWait},
			{do: "ack", seq: 1, want: actWait},
			{do: "ack", seq: 3, want: actWait},
			{do: "ack", seq: 4, want: actComplete},
			{do: "complete", want: actWait},
			{do: "ack", seq: 5, want: actDone},
		}},
		{"nothing to send: complete at once", []step{
			{do: "exhausted", want: actComplete},
			{do: "complete", want: actWait},
			{do: "ack", seq: 1, want: actDone},
		}},
		{"a failed chunk aborts once the others returned", []step{
			{do: "send", want: actSend},
			{do: "send", want: actSend},
			{do: "ack", seq: 1, err: boom, want: actWait},
			{do: "ack", seq: 2, want: actAbort},
		}},
		{"a failed complete aborts", []step{
			{do: "send", want: actSend},
			{do: "exhausted", want: actWait},
			{do: "ack", seq: 1, want: actComplete},
			{do: "complete", want: actWait},
			{do: "ack", seq: 2, err: boom, want: actAbort},
		}},
		{"an overdue ack aborts", []step{
			{do: "send", want: actSend},
			{do: "tick", at: 59 * time.Second, want: actSend},
			{do: "tick", at: time.Minute, want: actWait},
			{do: "ack", seq: 1, err: boom, want: actAbort},
		}},
		{"unknown and repeated acks change nothing", []step{
			{do: "send", want: actSend},
			{do: "ack", seq: 7, err: boom, want: actSend},
			{do: "ack", seq: 1, want: actSend},
			{do: "ack", seq: 1, err: boom, want: actSend},
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := newServe(3, time.Minute)
			for i, st := range tc.steps {
				now := t0.Add(st.at)
				switch st.do {
				case "send":
					s.sent(10, now)
				case "exhausted":
					s.exhausted()
				case "complete":
					s.completeSent(now)
				case "ack":
					s.ack(st.seq, st.err)
				case "tick":
					s.tick(now)
				}
				if got := s.next(); got != st.want {
					t.Fatalf("step %d (%s): next %v, want %v", i, st.do, got, st.want)
				}
			}
		})
	}
}

// The chunker cuts by count and by bytes, carries the record that did not
// fit, skips expired sessions and drops principals unless kept.
func TestChunker(t *testing.T) {
	var list []*session.Session
	for i := range 7 {
		s := session.New(fmt.Sprintf("S%d", i), session.Options{})
		if i == 5 {
			if err := s.Set("big", strings.Repeat("x", 500)); err != nil {
				t.Fatal(err)
			}
		}
		s.SetPrincipal("ann", "FORM")
		list = append(list, s)
	}
	list[2].Expire(false)
	c := chunker{list: list, size: 2, maxBytes: 400}
	var got []string
	for {
		recs, ok := c.next()
		if !ok {
			break
		}
		var ids []string
		for _, r := range recs {
			if r.Principal != "" {
				t.Fatalf("principal kept in %s", r.ID)
			}
			ids = append(ids, r.ID)
		}
		got = append(got, strings.Join(ids, ","))
	}
	if want := "S0,S1|S3,S4|S5|S6"; strings.Join(got, "|") != want {
		t.Fatalf("chunks %v, want %s", got, want)
	}
	c = chunker{list: list[:1], size: 2, maxBytes: 400, principal: true}
	if recs, _ := c.next(); recs[0].Principal != "ann" {
		t.Fatal("principal dropped with ReplicatePrincipal")
	}
}
