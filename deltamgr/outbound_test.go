package deltamgr

import (
	"testing"
	"time"
)

// RequestCompleted's decision, without a cluster: one message or none.
func TestOutboundTable(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	set := func() Delta { var d Delta; d.Set("k", []byte{1}); return d }
	cases := []struct {
		name                string
		primary, announced  bool
		last                time.Duration // before now
		d                   Delta
		mi                  time.Duration
		want                Kind
		wantNew, wantMISent bool
	}{
		{"new session, no changes: CREATED", true, false, 0, Delta{}, 30 * time.Minute, KindCreated, true, true},
		{"new session with changes: one DELTA", true, false, 0, set(), 30 * time.Minute, KindDelta, true, true},
		{"new session, principal only: DELTA", true, false, 0, Delta{PrincipalSet: true, Principal: "ann"}, 30 * time.Minute, KindDelta, true, true},
		{"changes: DELTA", true, true, 0, set(), 30 * time.Minute, KindDelta, false, false},
		{"read after another member served it: ACCESSED", false, true, 0, Delta{}, 30 * time.Minute, KindAccessed, false, false},
		{"read, replicas would expire: ACCESSED", true, true, 16 * time.Minute, Delta{}, 30 * time.Minute, KindAccessed, false, false},
		{"read, recently replicated: nothing", true, true, 14 * time.Minute, Delta{}, 30 * time.Minute, 0, false, false},
		{"read, never expires: nothing", true, true, 1000 * time.Hour, Delta{}, 0, 0, false, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := tc.d
			got := outbound(tc.primary, tc.announced, now.Add(-tc.last), &d, tc.mi, now)
			if got != tc.want || d.New != tc.wantNew || d.MaxInactiveSet != tc.wantMISent {
				t.Fatalf("kind %v new %v miSet %v; want %v %v %v", got, d.New, d.MaxInactiveSet, tc.want, tc.wantNew, tc.wantMISent)
			}
		})
	}
}
