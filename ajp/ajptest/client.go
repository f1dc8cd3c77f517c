// Package ajptest is a minimal AJP13 web-server side (what mod_jk does) for
// tests and benchmarks: it sends forward requests and request bodies over
// one connection and collects the response. No goroutines.
package ajptest

import (
	"fmt"
	"net"
	"net/http"
	"strings"

	"github.com/gomcat/gomcat/ajp"
)

// Client is one AJP connection. Not safe for concurrent use.
type Client struct {
	Conn       net.Conn
	PacketSize int // Default: ajp.DefaultPacketSize.
	buf        []byte
}

// Response is what came back for one request.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
	Reuse  bool // end-response allowed the connection to be reused
}

// Dial connects to an AJP connector.
func Dial(addr string) (*Client, error) {
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		return nil, err
	}
	return &Client{Conn: nc}, nil
}

// Close closes the connection.
func (c *Client) Close() error { return c.Conn.Close() }

func (c *Client) size() int {
	if c.PacketSize == 0 {
		return ajp.DefaultPacketSize
	}
	return c.PacketSize
}

func (c *Client) send(payload []byte) error {
	pkt, err := ajp.Frame(ajp.ToContainer, payload, c.size())
	if err != nil {
		return err
	}
	_, err = c.Conn.Write(pkt)
	return err
}

// CPing sends a CPing and waits for the CPong.
func (c *Client) CPing() error {
	if err := c.send(ajp.AppendCPing(nil)); err != nil {
		return err
	}
	p, err := c.read()
	if err != nil {
		return err
	}
	if ajp.KindOf(p) != ajp.KindCPong {
		return fmt.Errorf("ajptest: %s instead of cpong", ajp.KindOf(p))
	}
	return nil
}

func (c *Client) read() ([]byte, error) {
	if len(c.buf) != c.size() {
		c.buf = make([]byte, c.size())
	}
	return ajp.ReadFrame(c.Conn, ajp.ToServer, c.buf)
}

// Do sends fr and body as mod_jk does (the first body packet unasked when
// a content-length header is present, the rest on get-body-chunk) and
// reads the response to its end-response.
func (c *Client) Do(fr *ajp.ForwardRequest, body []byte) (*Response, error) {
	if err := c.send(fr.Append(nil)); err != nil {
		return nil, err
	}
	known := false
	for _, h := range fr.Headers {
		known = known || strings.EqualFold(h.Name, "content-length")
	}
	max := c.size() - ajp.BodyChunkOverhead
	next := func(n int) []byte {
		n = min(n, max, len(body))
		b := body[:n]
		body = body[n:]
		return b
	}
	if known && len(body) > 0 {
		if err := c.send(ajp.AppendBodyChunk(nil, next(max))); err != nil {
			return nil, err
		}
	}
	res := &Response{Header: http.Header{}}
	for {
		p, err := c.read()
		if err != nil {
			return res, err
		}
		switch ajp.KindOf(p) {
		case ajp.KindSendHeaders:
			sh, err := ajp.DecodeSendHeaders(p)
			if err != nil {
				return res, err
			}
			res.Status = sh.Status
			for _, h := range sh.Headers {
				res.Header.Add(h.Name, h.Value)
			}
		case ajp.KindSendBodyChunk:
			b, err := ajp.DecodeSendBodyChunk(p)
			if err != nil {
				return res, err
			}
			res.Body = append(res.Body, b...)
		case ajp.KindGetBodyChunk:
			n, err := ajp.DecodeGetBodyChunk(p)
			if err != nil {
				return res, err
			}
			if err := c.send(ajp.AppendBodyChunk(nil, next(n))); err != nil {
				return res, err
			}
		case ajp.KindEndResponse:
			res.Reuse, err = ajp.DecodeEndResponse(p)
			return res, err
		default:
			return res, fmt.Errorf("ajptest: unexpected %s", ajp.KindOf(p))
		}
	}
}

// Get builds a GET forward request for uri ("/path?query") on host, with
// the secret (none when "").
func Get(host, uri, secret string, header ...ajp.Header) *ajp.ForwardRequest {
	path, query, _ := strings.Cut(uri, "?")
	fr := &ajp.ForwardRequest{Method: "GET", Protocol: "HTTP/1.1", URI: path, RemoteAddr: "127.0.0.1", RemoteHost: "127.0.0.1",
		ServerName: host, ServerPort: 80, Headers: append([]ajp.Header{{Name: "host", Value: host}}, header...)}
	fr.Attributes.QueryString = query
	fr.Attributes.Request = []ajp.Header{{Name: ajp.AttrRemotePort, Value: "40000"}}
	if secret != "" {
		fr.Attributes.HasSecret, fr.Attributes.Secret = true, secret
	}
	return fr
}
