package bench

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strconv"
)

const alphabet = "0123456789abcdefghijklmnopqrstuvwxyz"

// randomValue returns n characters of [0-9a-z]: safe in a query string.
func randomValue(r *rand.Rand, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[r.IntN(len(alphabet))]
	}
	return b
}

// setURL builds base/set?k=key&v=value and returns the URL bytes and the
// offset of the value in them, so a caller can vary the value in place.
func setURL(base, key string, value []byte) ([]byte, int) {
	u := []byte(joinURL(base, "/set?k="+key+"&v="))
	off := len(u)
	return append(u, value...), off
}

// stamp writes seq in base 36 over the first bytes of v (as many as fit),
// so consecutive writes differ.
func stamp(v []byte, seq uint64) {
	var tmp [13]byte
	s := strconv.AppendUint(tmp[:0], seq, 36)
	n := min(len(s), len(v))
	copy(v[:n], s[len(s)-n:])
}

// setOps returns workers that each own a session (created by a first
// /set before the clock starts) and then write k=<size random bytes,
// different each time> to base/set in a loop.
func setOps(c *http.Client, base string, size int, seed uint64) func(int) (Op, error) {
	return func(i int) (Op, error) {
		r := rand.New(rand.NewPCG(seed, uint64(i)))
		a := newAgent(c)
		u, off := setURL(base, "k", randomValue(r, size))
		if err := a.expect(context.Background(), string(u), "ok "); err != nil {
			return nil, fmt.Errorf("first /set: %w", err)
		}
		if a.cookie == "" {
			return nil, fmt.Errorf("first /set on %s: no %s cookie in the answer", base, CookieName)
		}
		var seq uint64
		return func(ctx context.Context) error {
			seq++
			stamp(u[off:], seq)
			return a.expect(ctx, string(u), "ok ")
		}, nil
	}
}

// fillOps returns workers that each request creates a new session holding
// one value of size bytes (no cookie is sent).
func fillOps(c *http.Client, base string, size int, seed uint64) func(int) (Op, error) {
	return func(i int) (Op, error) {
		r := rand.New(rand.NewPCG(seed, uint64(i)))
		a := newAgent(c)
		u, off := setURL(base, "k", randomValue(r, size))
		var seq uint64
		return func(ctx context.Context) error {
			seq++
			stamp(u[off:], seq)
			a.cookie = ""
			return a.expect(ctx, string(u), "ok ")
		}, nil
	}
}

// getOps returns workers that each set x=<16 random bytes> in their own
// session before the clock starts, then read it back with GET /get?k=x in a
// loop, checking the value (a small GET with a session cookie).
func getOps(c *http.Client, base string, seed uint64) func(int) (Op, error) {
	return func(i int) (Op, error) {
		r := rand.New(rand.NewPCG(seed, uint64(i)))
		a := newAgent(c)
		v := randomValue(r, 16)
		u, _ := setURL(base, "x", v)
		if err := a.expect(context.Background(), string(u), "ok "); err != nil {
			return nil, fmt.Errorf("first /set: %w", err)
		}
		get := joinURL(base, "/get?k=x")
		want := string(v)
		return func(ctx context.Context) error {
			code, body, err := a.get(ctx, get)
			if err != nil {
				return err
			}
			if code != http.StatusOK || string(bytes.TrimSpace(body)) != want {
				return fmt.Errorf("GET %s: %d %q, want 200 %q", get, code, short(string(body)), want)
			}
			return nil
		}, nil
	}
}

// count returns the node's /count (its active sessions).
func count(ctx context.Context, c *http.Client, base string) (int64, error) {
	a := newAgent(c)
	code, body, err := a.get(ctx, joinURL(base, "/count"))
	if err != nil {
		return 0, err
	}
	n, perr := strconv.ParseInt(string(bytes.TrimSpace(body)), 10, 64)
	if code != http.StatusOK || perr != nil {
		return 0, fmt.Errorf("GET %s/count: %d %q", base, code, short(string(body)))
	}
	return n, nil
}
