package freeport

import "testing"

func TestTCPNeverRepeats(t *testing.T) {
	seen := map[int]bool{}
	for range 200 {
		p, err := TCP()
		if err != nil {
			t.Fatal(err)
		}
		if seen[p] {
			t.Fatalf("port %d handed out twice", p)
		}
		seen[p] = true
	}
}
