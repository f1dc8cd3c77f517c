package balancer

import (
	"bytes"
	"errors"
	"fmt"
)

// framer follows one node connection's responses byte by byte, so that no
// byte the node sends outside the response to the request in flight is ever
// handed to http.Transport (which would read it as the next request's
// response: a desync). It is pure: guardConn feeds it what the socket reads
// and what the Transport writes. It is stricter than net/http: anything
// ambiguous (Content-Length with Transfer-Encoding, two different lengths,
// obs-fold, a transfer coding other than chunked) is an error, and the
// connection is closed rather than reused.
type framer struct {
	st      frameState
	head    bool // the request in flight is HEAD: no body follows its response
	limit   int  // bytes allowed for one response head (status line + headers)
	used    int  // head bytes seen so far
	line    []byte
	status  int
	cl      int64 // Content-Length, -1: none
	chunked bool
	n1xx    int
	remain  int64 // bytes left of the body (stBody) or of the chunk (stChunkData)
}

type frameState uint8

const (
	stIdle       frameState = iota // no request in flight: any byte read is unsolicited
	stStatus                       // request written, reading the status line
	stHeader                       // reading header lines
	stBody                         // Content-Length body
	stChunkSize                    // chunk-size line
	stChunkData                    // chunk data
	stChunkCRLF                    // CRLF after chunk data (remain counts its bytes)
	stTrailer                      // trailer lines after the last chunk
	stUntilClose                   // body ends with the connection: never reused
	stTunnel                       // 101 Switching Protocols: bytes pass as they are
)

// errDesync marks a connection on which the node sent bytes outside a response.
var errDesync = errors.New("balancer: node sent bytes outside a response")

const maxChunkLine = 4096

func newFramer(headLimit int) framer {
	return framer{limit: headLimit, cl: -1}
}

// idle reports whether a new request may be written.
func (f *framer) idle() bool { return f.st == stIdle }

// passthrough reports whether bytes are no longer framed (tunnel, or a body
// read until close, after which nothing else may be sent).
func (f *framer) passthrough() bool { return f.st == stTunnel || f.st == stUntilClose }

// request starts a request: p is the first bytes the Transport writes. It
// fails unless p starts with a request line's method and a space.
func (f *framer) request(p []byte) error {
	sp := bytes.IndexByte(p, ' ')
	if sp <= 0 || sp > 20 {
		return fmt.Errorf("%w: write without a request line", errDesync)
	}
	for _, c := range p[:sp] {
		if c < 'A' || c > 'Z' {
			return fmt.Errorf("%w: write without a request line", errDesync)
		}
	}
	*f = framer{st: stStatus, head: string(p[:sp]) == "HEAD", limit: f.limit, cl: -1, line: f.line[:0]}
	return nil
}

// feed consumes the bytes of p that belong to the response in flight and
// returns how many that is. n < len(p) only when the response ended inside
// p (the rest is not the node's to send). In stIdle it consumes nothing.
func (f *framer) feed(p []byte) (n int, err error) {
	for n < len(p) {
		switch f.st {
		case stIdle:
			return n, nil
		case stTunnel, stUntilClose:
			return len(p), nil
		case stBody, stChunkData:
			k := int64(len(p) - n)
			if k > f.remain {
				k = f.remain
			}
			n += int(k)
			f.remain -= k
			if f.remain == 0 {
				if f.st == stBody {
					f.st = stIdle
				} else {
					f.st, f.remain = stChunkCRLF, 2
				}
			}
		case stChunkCRLF:
			want := byte('\r')
			if f.remain == 1 {
				want = '\n'
			}
			if p[n] != want {
				return n, fmt.Errorf("%w: malformed chunked encoding", errDesync)
			}
			n++
			if f.remain--; f.remain == 0 {
				f.st = stChunkSize
			}
		default: // line-oriented states
			i := bytes.IndexByte(p[n:], '\n')
			chunk := p[n:]
			if i >= 0 {
				chunk = p[n : n+i+1]
			}
			lim := maxChunkLine
			if f.st == stStatus || f.st == stHeader || f.st == stTrailer {
				f.used += len(chunk)
				if f.used > f.limit {
					return n, fmt.Errorf("%w: response head over %d bytes", errDesync, f.limit)
				}
				lim = f.limit
			}
			if len(f.line)+len(chunk) > lim {
				return n, fmt.Errorf("%w: line over %d bytes", errDesync, lim)
			}
			f.line = append(f.line, chunk...)
			n += len(chunk)
			if i < 0 {
				return n, nil
			}
			line := bytes.TrimSuffix(bytes.TrimSuffix(f.line, []byte("\n")), []byte("\r"))
			err := f.onLine(line)
			f.line = f.line[:0]
			if err != nil {
				return n, err
			}
		}
	}
	return n, nil
}

func (f *framer) onLine(line []byte) error {
	switch f.st {
	case stStatus:
		return f.statusLine(line)
	case stHeader:
		if len(line) == 0 {
			return f.endOfHead()
		}
		return f.headerLine(line)
	case stChunkSize:
		return f.chunkSize(line)
	case stTrailer:
		if len(line) == 0 {
			f.st = stIdle
		}
	}
	return nil
}

func (f *framer) statusLine(line []byte) error {
	// HTTP/1.x NNN[ reason]
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) || line[8] != ' ' || (len(line) > 12 && line[12] != ' ') {
		return fmt.Errorf("%w: malformed status line", errDesync)
	}
	code := 0
	for _, c := range line[9:12] {
		if c < '0' || c > '9' {
			return fmt.Errorf("%w: malformed status code", errDesync)
		}
		code = code*10 + int(c-'0')
	}
	if code < 100 {
		return fmt.Errorf("%w: status code %d", errDesync, code)
	}
	f.status, f.cl, f.chunked = code, -1, false
	f.st = stHeader
	return nil
}

func (f *framer) headerLine(line []byte) error {
	if line[0] == ' ' || line[0] == '\t' {
		return fmt.Errorf("%w: folded header line", errDesync)
	}
	name, val, ok := bytes.Cut(line, []byte(":"))
	if !ok || len(name) == 0 || bytes.ContainsAny(name, " \t") {
		return fmt.Errorf("%w: malformed header line", errDesync)
	}
	val = bytes.Trim(val, " \t")
	switch {
	case bytes.EqualFold(name, []byte("Content-Length")):
		if len(val) == 0 || len(val) > 18 {
			return fmt.Errorf("%w: bad Content-Length", errDesync)
		}
		var v int64
		for _, c := range val {
			if c < '0' || c > '9' {
				return fmt.Errorf("%w: bad Content-Length", errDesync)
			}
			v = v*10 + int64(c-'0')
		}
		if f.cl >= 0 && f.cl != v {
			return fmt.Errorf("%w: two different Content-Lengths", errDesync)
		}
		f.cl = v
	case bytes.EqualFold(name, []byte("Transfer-Encoding")):
		if f.chunked || !bytes.EqualFold(val, []byte("chunked")) {
			return fmt.Errorf("%w: unsupported Transfer-Encoding %q", errDesync, val)
		}
		f.chunked = true
	}
	return nil
}

func (f *framer) endOfHead() error {
	if f.chunked && f.cl >= 0 {
		return fmt.Errorf("%w: both Content-Length and Transfer-Encoding", errDesync)
	}
	f.used = 0
	switch {
	case f.status == 101:
		f.st = stTunnel
	case f.status < 200:
		if f.n1xx++; f.n1xx > 5 {
			return fmt.Errorf("%w: too many 1xx responses", errDesync)
		}
		f.st = stStatus // the final response follows
	case f.head || f.status == 204 || f.status == 304:
		f.st = stIdle
	case f.chunked:
		f.st = stChunkSize
	case f.cl == 0:
		f.st = stIdle
	case f.cl > 0:
		f.st, f.remain = stBody, f.cl
	default:
		f.st = stUntilClose
	}
	return nil
}

func (f *framer) chunkSize(line []byte) error {
	if i := bytes.IndexByte(line, ';'); i >= 0 {
		line = line[:i]
	}
	line = bytes.TrimRight(line, " \t")
	if len(line) == 0 || len(line) > 16 {
		return fmt.Errorf("%w: bad chunk size", errDesync)
	}
	var v int64
	for _, c := range line {
		var d byte
		switch {
		case c >= '0' && c <= '9':
			d = c - '0'
		case c >= 'a' && c <= 'f':
			d = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			d = c - 'A' + 10
		default:
			return fmt.Errorf("%w: bad chunk size", errDesync)
		}
		v = v<<4 | int64(d)
	}
	if v < 0 {
		return fmt.Errorf("%w: chunk size overflows", errDesync)
	}
	if v == 0 {
		f.st = stTrailer
		return nil
	}
	f.st, f.remain = stChunkData, v
	return nil
}
