package transport

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync/atomic"
	"time"
)

const (
	firstReadBuf = 2 << 10   // a connection's first buffer: the hello fits, nothing bigger is allocated
	readBufSize  = 256 << 10 // a busy connection's buffer; several frames arrive per read
	maxKeepBuf   = 1 << 20   // a buffer grown past this is dropped once empty after a frame that fits readBufSize
	maxHelloBody = 1 << 10   // the hello (sealed or not) must fit: ~1 KiB before admission
)

// Deadline errors of a frameReader; both wrap os.ErrDeadlineExceeded.
var (
	errIdle         = fmt.Errorf("transport: connection idle: %w", os.ErrDeadlineExceeded)
	errFrameTimeout = fmt.Errorf("transport: frame not complete in time: %w", os.ErrDeadlineExceeded)
)

// frameReader reads frames from a stream into one reused buffer, taking
// as many bytes per read as the socket has, so a burst of small frames
// costs one system call and no allocation. The bodies it returns alias
// its buffer and stay valid only until the next call to next.
//
// The buffer starts small (firstReadBuf) and grows only with bytes that
// actually arrived: to readBufSize when reads fill it, and beyond when it
// is full of one frame, at most doubling: a claimed length is never
// allocated up front. A buffer grown past maxKeepBuf is kept while frames
// that big keep coming (a state transfer's chunks would otherwise regrow
// it, copying, for each one) and dropped once empty after a smaller frame.
//
// Deadlines (when conn is set): a frame must arrive whole within timeout
// + length/minRate from its first byte (not per read, so a trickle is
// cut); between frames a connection may stay silent for idle (0: for
// ever) when next is called with idleOK, else (the hello) the frame must
// come whole within timeout.
type frameReader struct {
	rd      io.Reader
	conn    net.Conn // for read deadlines; nil: none
	timeout time.Duration
	idle    time.Duration
	minRate int // bytes/s; <= 0: no allowance for the length
	maxBody int // largest body accepted now (the hello's is small)
	buf     []byte
	r, w    int            // buf[r:w] holds bytes not yet returned
	full    bool           // the last read filled the buffer: grow it up to readBufSize
	big     bool           // the last frame returned did not fit readBufSize
	start   time.Time      // when the frame being read began; zero between frames
	dl      time.Time      // read deadline set on conn; zero if none
	count   *atomic.Uint64 // bytes read are added here; nil: not counted
}

func newFrameReader(rd io.Reader, conn net.Conn, timeout time.Duration, maxBody int) *frameReader {
	return &frameReader{rd: rd, conn: conn, timeout: timeout, maxBody: maxBody, buf: make([]byte, firstReadBuf)}
}

// ready reports whether a complete frame (or a protocol error) is
// buffered, so that next will not read from the stream.
func (fr *frameReader) ready() bool {
	avail := fr.buf[fr.r:fr.w]
	if len(avail) < frameHeaderLen {
		return false
	}
	n, err := frameLength(avail, fr.maxBody)
	return err != nil || len(avail) >= frameHeaderLen+n+len(endMarker)
}

// next returns the body of the next frame. io.EOF means the stream ended
// cleanly between frames; errIdle that it stayed silent for idle;
// errFrameTimeout that a frame did not arrive whole in time.
func (fr *frameReader) next(idleOK bool) ([]byte, error) {
	for {
		avail := fr.buf[fr.r:fr.w]
		need := frameHeaderLen
		if len(avail) >= frameHeaderLen {
			n, err := frameLength(avail, fr.maxBody)
			if err != nil {
				return nil, err
			}
			need = frameHeaderLen + n + len(endMarker)
			if len(avail) >= need {
				end := need - len(endMarker)
				if string(avail[end:need]) != endMarker {
					return nil, &ProtocolError{Reason: "missing end marker"}
				}
				fr.r += need
				fr.start = time.Time{}
				fr.big = need > readBufSize
				return avail[frameHeaderLen:end:end], nil
			}
		} else if k := min(len(avail), len(startMarker)); string(avail[:k]) != startMarker[:k] {
			return nil, &ProtocolError{Reason: "missing start marker"}
		}
		between := len(avail) == 0 && idleOK
		if err := fr.arm(between, need); err != nil {
			return nil, err
		}
		fr.makeRoom(need)
		if err := fr.fill(between); err != nil {
			return nil, err
		}
	}
}

// arm sets the read deadline for the wait ahead: the idle one between
// frames, else the whole-frame one of a frame of need bytes.
func (fr *frameReader) arm(between bool, need int) error {
	if fr.conn == nil || fr.timeout <= 0 {
		return nil
	}
	now := time.Now()
	var dl time.Time
	if between {
		if fr.idle > 0 {
			dl = now.Add(fr.idle)
			// Re-armed lazily: it stays between 3/4 and 1 idle ahead.
			if !fr.dl.IsZero() && fr.dl.Sub(now) >= fr.idle*3/4 && !fr.dl.After(dl) {
				return nil
			}
		}
	} else {
		if fr.start.IsZero() {
			fr.start = now
		}
		allow := fr.timeout
		if fr.minRate > 0 && need > frameHeaderLen {
			allow += time.Duration(int64(need) * int64(time.Second) / int64(fr.minRate))
		}
		dl = fr.start.Add(allow)
	}
	if dl.Equal(fr.dl) {
		return nil
	}
	fr.dl = dl
	return fr.conn.SetReadDeadline(dl)
}

// makeRoom prepares the buffer to receive more of a frame of need bytes
// starting at r.
func (fr *frameReader) makeRoom(need int) {
	if fr.r == fr.w {
		fr.r, fr.w = 0, 0
		if len(fr.buf) > maxKeepBuf && !fr.big {
			fr.buf = make([]byte, readBufSize)
		}
	}
	if fr.r > 0 && fr.r+need > len(fr.buf) {
		fr.w = copy(fr.buf, fr.buf[fr.r:fr.w])
		fr.r = 0
	}
	switch {
	case fr.w == len(fr.buf): // full of one frame's bytes: grow, at most doubling
		fr.resize(min(2*len(fr.buf), max(need, len(fr.buf)+1)))
	case fr.full && len(fr.buf) < readBufSize: // reads fill it: take more per read
		fr.resize(min(2*len(fr.buf), readBufSize))
	}
	fr.full = false
}

func (fr *frameReader) resize(n int) {
	nb := make([]byte, n)
	fr.w = copy(nb, fr.buf[fr.r:fr.w])
	fr.r = 0
	fr.buf = nb
}

// fill reads at least one byte into the buffer.
func (fr *frameReader) fill(between bool) error {
	for empty := 0; empty < 100; {
		n, err := fr.rd.Read(fr.buf[fr.w:])
		fr.w += n
		if n > 0 {
			if fr.count != nil {
				fr.count.Add(uint64(n))
			}
			fr.full = fr.w == len(fr.buf)
			return nil // an error comes back on the next read
		}
		switch {
		case err == nil:
			empty++ // a reader returning nothing again and again is broken
			continue
		case errors.Is(err, os.ErrDeadlineExceeded):
			if between {
				return errIdle
			}
			return errFrameTimeout
		case fr.r == fr.w && errors.Is(err, io.EOF):
			return io.EOF
		}
		return truncated(err)
	}
	return io.ErrNoProgress
}
