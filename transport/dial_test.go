package transport

import (
	"fmt"
	"net"
	"os"
	"syscall"
	"testing"
	"time"
)

func TestBackoff(t *testing.T) {
	for failures, want := range map[int]time.Duration{
		0: 0, 1: 0, 2: backoffMin, 3: 2 * backoffMin, 4: 4 * backoffMin, 8: 64 * backoffMin, 9: backoffMax, 100: backoffMax,
	} {
		if got := backoff(failures); got != want {
			t.Errorf("backoff(%d) = %v, want %v", failures, got, want)
		}
	}
}

func TestDialPolicy(t *testing.T) {
	t0 := time.Unix(1_700_000_000, 0)
	type ev struct {
		at      time.Duration // since t0
		what    string        // refused, failed (dial), lost (connection), connected, acked, dialNow
		want    verdict       // for failures
		wait    time.Duration // wait before the next dial, after the event
		recover bool          // acked: ended an outage
	}
	tests := []struct {
		name string
		evs  []ev
	}{
		{"a lost connection redials at once, then backs off", []ev{
			{at: 0, what: "lost", want: verdict{first: true}, wait: 0},
			{at: 0, what: "failed", want: verdict{}, wait: backoffMin},
			{at: 10 * time.Millisecond, what: "failed", want: verdict{}, wait: 2 * backoffMin},
			{at: 30 * time.Millisecond, what: "connected", wait: 0},
			{at: 31 * time.Millisecond, what: "acked", recover: true},
			{at: 40 * time.Millisecond, what: "lost", want: verdict{first: true}, wait: 0},
		}},
		{"an outage of Timeout gives up", []ev{
			{at: 0, what: "failed", want: verdict{first: true}},
			{at: 2 * time.Second, what: "failed", want: verdict{}, wait: backoffMin},
			{at: 3 * time.Second, what: "failed", want: verdict{giveUp: true}, wait: 2 * backoffMin},
			{at: 3 * time.Second, what: "connected", wait: 2 * backoffMin},
			{at: 4 * time.Second, what: "lost", want: verdict{giveUp: true}, wait: 4 * backoffMin}, // no ack came: still the same outage
		}},
		{"refusals fail waited sends after the grace", []ev{
			{at: 0, what: "lost", want: verdict{first: true}},
			{at: 0, what: "refused", want: verdict{}, wait: backoffMin},
			{at: 10 * time.Millisecond, what: "refused", want: verdict{refusing: true, failWaited: true}, wait: 2 * backoffMin},
			{at: 10 * time.Millisecond, what: "dialNow", wait: 0},
			{at: 11 * time.Millisecond, what: "refused", want: verdict{failWaited: true}, wait: 4 * backoffMin},
			{at: 20 * time.Millisecond, what: "failed", want: verdict{}, wait: 8 * backoffMin}, // a timeout resets the refusals
			{at: 100 * time.Millisecond, what: "refused", want: verdict{}, wait: 16 * backoffMin},
		}},
		{"refusing past Timeout gives up instead", []ev{
			{at: 0, what: "refused", want: verdict{first: true}},
			{at: 3 * time.Second, what: "refused", want: verdict{giveUp: true, refusing: true}, wait: backoffMin},
		}},
		{"an ack while up changes nothing", []ev{
			{at: 0, what: "connected"},
			{at: time.Second, what: "acked", recover: false},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := dialPolicy{timeout: 3 * time.Second}
			for i, e := range tt.evs {
				now := t0.Add(e.at)
				var got verdict
				switch e.what {
				case "refused", "failed":
					got = d.failed(now, true, e.what == "refused")
				case "lost":
					got = d.failed(now, false, false)
				case "connected":
					d.connected()
				case "acked":
					if r := d.acked(); r != e.recover {
						t.Fatalf("event %d: acked() = %v, want %v", i, r, e.recover)
					}
				case "dialNow":
					d.dialNow()
				}
				if got != e.want {
					t.Fatalf("event %d (%s at %v): verdict %+v, want %+v", i, e.what, e.at, got, e.want)
				}
				if w := d.wait(now); w != e.wait {
					t.Fatalf("event %d (%s at %v): wait %v, want %v", i, e.what, e.at, w, e.wait)
				}
			}
		})
	}
}

func TestRefused(t *testing.T) {
	for _, tt := range []struct {
		err  error
		want bool
	}{
		{&net.OpError{Op: "dial", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}, true},
		{fmt.Errorf("x: %w", syscall.EHOSTUNREACH), true},
		{syscall.ENETUNREACH, true},
		{syscall.ETIMEDOUT, false},
		{os.ErrDeadlineExceeded, false},
	} {
		if got := refused(tt.err); got != tt.want {
			t.Errorf("refused(%v) = %v, want %v", tt.err, got, tt.want)
		}
	}
}
