package bench

import (
	"bufio"
	"strings"
	"testing"
)

// FuzzReadReply: any bytes from the server give a reply or an error, never
// a panic, and a bulk reply is never longer than maxBody.
func FuzzReadReply(f *testing.F) {
	for _, s := range []string{"+OK\r\n", ":42\r\n", "-ERR no\r\n", "$5\r\nhello\r\n", "$-1\r\n", "$99999999999\r\n", "*1\r\n", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		v, err := readReply(bufio.NewReader(strings.NewReader(in)))
		if err == nil && len(v) > maxBody {
			t.Fatalf("reply of %d bytes", len(v))
		}
	})
}

func TestReadReply(t *testing.T) {
	for in, want := range map[string]string{"+PONG\r\n": "PONG", ":7\r\n": "7", "$3\r\nabc\r\n": "abc"} {
		if got, err := readReply(bufio.NewReader(strings.NewReader(in))); err != nil || got != want {
			t.Errorf("readReply(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := readReply(bufio.NewReader(strings.NewReader("-WRONGTYPE x\r\n"))); err == nil || !strings.Contains(err.Error(), "WRONGTYPE") {
		t.Errorf("error reply: %v", err)
	}
}
