package transport

import (
	"errors"
	"io"
	"net"
	"os"
	"time"
)

const (
	readBufSize = 256 << 10 // receiver read buffer; several frames arrive per read
	maxKeepBuf  = 1 << 20   // a buffer grown past this is dropped once empty
)

// frameReader reads frames from a stream into one reused buffer, taking
// as many bytes per read as the socket has, so a burst of small frames
// costs one system call and no allocation. The bodies it returns alias
// its buffer and stay valid only until the next call to next.
//
// The buffer grows only when it is full of one frame's bytes that have
// actually arrived, at most doubling: a claimed length is never
// allocated up front.
type frameReader struct {
	rd      io.Reader
	conn    net.Conn // for read deadlines; nil: none
	timeout time.Duration
	maxBody int
	buf     []byte // buf[r:w] holds bytes not yet returned
	r, w    int
	dl      time.Time // read deadline set on conn; zero if none
}

func newFrameReader(rd io.Reader, conn net.Conn, timeout time.Duration, maxBody int) *frameReader {
	return &frameReader{rd: rd, conn: conn, timeout: timeout, maxBody: maxBody, buf: make([]byte, readBufSize)}
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
// cleanly between frames. With idleOK, a connection may stay silent
// between frames for any time; without it (the hello) the frame must
// start within the timeout. Once a frame has started, each read must
// bring bytes within the timeout.
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
				return avail[frameHeaderLen:end:end], nil
			}
		} else if k := min(len(avail), len(startMarker)); string(avail[:k]) != startMarker[:k] {
			return nil, &ProtocolError{Reason: "missing start marker"}
		}
		fr.makeRoom(need)
		if err := fr.fill(idleOK); err != nil {
			return nil, err
		}
	}
}

// makeRoom prepares the buffer to receive more of a frame of need bytes
// starting at r.
func (fr *frameReader) makeRoom(need int) {
	if fr.r == fr.w {
		fr.r, fr.w = 0, 0
		if len(fr.buf) > maxKeepBuf {
			fr.buf = make([]byte, readBufSize)
		}
	}
	if fr.r > 0 && fr.r+need > len(fr.buf) {
		fr.w = copy(fr.buf, fr.buf[fr.r:fr.w])
		fr.r = 0
	}
	if fr.w == len(fr.buf) { // full of one frame's bytes: grow, at most doubling
		nb := make([]byte, min(2*len(fr.buf), need))
		copy(nb, fr.buf[:fr.w])
		fr.buf = nb
	}
}

// fill reads at least one byte into the buffer.
func (fr *frameReader) fill(idleOK bool) error {
	for empty := 0; empty < 100; {
		if fr.conn != nil && fr.timeout > 0 {
			// Refresh the deadline lazily: it stays between 3/4 and 1
			// timeout ahead, without a system call per read.
			if now := time.Now(); fr.dl.IsZero() || fr.dl.Sub(now) < fr.timeout*3/4 {
				fr.dl = now.Add(fr.timeout)
				if err := fr.conn.SetReadDeadline(fr.dl); err != nil {
					return err
				}
			}
		}
		n, err := fr.rd.Read(fr.buf[fr.w:])
		fr.w += n
		if n > 0 {
			return nil // an error comes back on the next read
		}
		switch {
		case err == nil:
			empty++ // a reader returning nothing again and again is broken
			continue
		case idleOK && fr.r == fr.w && errors.Is(err, os.ErrDeadlineExceeded):
			fr.dl = time.Time{} // quiet between frames: fine, wait again
			continue
		case fr.r == fr.w && errors.Is(err, io.EOF):
			return io.EOF
		}
		return truncated(err)
	}
	return io.ErrNoProgress
}
