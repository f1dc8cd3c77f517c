package ajp

import (
	"fmt"
	"strconv"
)

// Header is one header (or request attribute) as it travels: name and value.
type Header struct{ Name, Value string }

// ForwardRequest is AJP13_FORWARD_REQUEST: one HTTP request from the web
// server. Header names sent by code come out lower case ("cookie").
type ForwardRequest struct {
	Method     string // "GET"; from stored_method when the code is 0xFF
	Protocol   string // "HTTP/1.1"
	URI        string // the path, without the query string
	RemoteAddr string
	RemoteHost string
	ServerName string
	ServerPort int
	IsSSL      bool
	Headers    []Header
	Attributes Attributes
}

// Attributes are a forward request's optional attributes.
type Attributes struct {
	Context, ServletPath string // sent by old web servers; unused
	RemoteUser, AuthType string
	QueryString          string // without the '?'
	Route                string // the lb member's route (jvm_route)
	SSLCert              string // PEM client certificate
	SSLCipher            string
	SSLSession           string
	SSLKeySize           int  // 0 = not sent
	HasSecret            bool // the secret attribute was present
	Secret               string
	// Request are the req_attribute pairs (AJP_REMOTE_PORT, …) in order.
	Request []Header
}

// Kind of a payload (its first byte); 0 for an empty payload.
func KindOf(p []byte) Kind {
	if len(p) == 0 {
		return 0
	}
	return Kind(p[0])
}

// decoder reads a payload. The first error sticks; later reads return
// zero values, so decoders check d.err once at the end.
type decoder struct {
	p   []byte
	off int
	err error
}

func (d *decoder) fail(format string, args ...any) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: "+format+" at offset %d", append([]any{ErrMalformed}, append(args, d.off)...)...)
	}
}

func (d *decoder) byte() byte {
	if d.err != nil {
		return 0
	}
	if d.off >= len(d.p) {
		d.fail("short byte")
		return 0
	}
	b := d.p[d.off]
	d.off++
	return b
}

func (d *decoder) peekInt() int {
	if d.err != nil || d.off+2 > len(d.p) {
		return 0
	}
	return int(d.p[d.off])<<8 | int(d.p[d.off+1])
}

func (d *decoder) int() int {
	if d.err != nil {
		return 0
	}
	if d.off+2 > len(d.p) {
		d.fail("short integer")
		return 0
	}
	v := d.peekInt()
	d.off += 2
	return v
}

// bytes reads a length-prefixed, NUL-terminated string (nil for the null
// string 0xFFFF). The result aliases the payload.
func (d *decoder) bytes() []byte {
	n := d.int()
	if d.err != nil || n == 0xFFFF {
		return nil
	}
	if d.off+n+1 > len(d.p) {
		d.fail("string of %d bytes past the end", n)
		return nil
	}
	b := d.p[d.off : d.off+n]
	d.off += n + 1 // the NUL
	return b
}

func (d *decoder) str() string { return string(d.bytes()) }

// encoder appends to a payload.
type encoder struct{ b []byte }

func (e *encoder) byte(v byte) { e.b = append(e.b, v) }
func (e *encoder) int(v int)   { e.b = append(e.b, byte(v>>8), byte(v)) }
func (e *encoder) str(s string) {
	e.int(len(s))
	e.b = append(e.b, s...)
	e.b = append(e.b, 0)
}
func (e *encoder) strBytes(s []byte) {
	e.int(len(s))
	e.b = append(e.b, s...)
	e.b = append(e.b, 0)
}

func boolByte(v bool) byte {
	if v {
		return 1
	}
	return 0
}

// DecodeForwardRequest decodes a forward request payload (prefix code
// included).
func DecodeForwardRequest(p []byte) (*ForwardRequest, error) {
	d := &decoder{p: p}
	if k := Kind(d.byte()); d.err == nil && k != KindForwardRequest {
		return nil, fmt.Errorf("%w: %s, want forward-request", ErrMalformed, k)
	}
	fr := &ForwardRequest{}
	mc := d.byte()
	if mc != methodStored {
		if int(mc) >= len(methods) || methods[mc] == "" {
			d.fail("unknown method code %d", mc)
		} else {
			fr.Method = methods[mc]
		}
	}
	fr.Protocol = d.str()
	fr.URI = d.str()
	fr.RemoteAddr = d.str()
	fr.RemoteHost = d.str()
	fr.ServerName = d.str()
	fr.ServerPort = d.int()
	fr.IsSSL = d.byte() != 0
	n := d.int()
	if d.err == nil && n > (len(p)-d.off)/4 { // a header takes at least 4 bytes
		d.fail("%d headers cannot fit", n)
	}
	if d.err == nil && n > 0 {
		fr.Headers = make([]Header, 0, n)
	}
	for i := 0; i < n && d.err == nil; i++ {
		var name string
		if c := d.peekInt(); c&0xFF00 == 0xA000 {
			d.int()
			if c&0xFF >= len(requestHeaders) || requestHeaders[c&0xFF] == "" {
				d.fail("unknown request header code %#04x", c)
				break
			}
			name = requestHeaders[c&0xFF]
		} else {
			name = d.str()
		}
		fr.Headers = append(fr.Headers, Header{Name: name, Value: d.str()})
	}
	a := &fr.Attributes
	for d.err == nil {
		code := d.byte()
		if d.err != nil {
			break
		}
		switch code {
		case attrAreDone:
			if fr.Method == "" && d.err == nil {
				d.fail("method code 0xFF without a stored_method attribute")
			}
			if d.err != nil {
				return nil, d.err
			}
			return fr, nil
		case attrContext:
			a.Context = d.str()
		case attrServletPath:
			a.ServletPath = d.str()
		case attrRemoteUser:
			a.RemoteUser = d.str()
		case attrAuthType:
			a.AuthType = d.str()
		case attrQueryString:
			a.QueryString = d.str()
		case attrRoute:
			a.Route = d.str()
		case attrSSLCert:
			a.SSLCert = d.str()
		case attrSSLCipher:
			a.SSLCipher = d.str()
		case attrSSLSession:
			a.SSLSession = d.str()
		case attrReqAttribute:
			name := d.str()
			a.Request = append(a.Request, Header{Name: name, Value: d.str()})
		case attrSSLKeySize:
			a.SSLKeySize = d.int()
		case attrSecret:
			a.HasSecret, a.Secret = true, d.str()
		case attrStoredMethod:
			m := d.str()
			if mc == methodStored {
				fr.Method = m
			}
		default:
			d.fail("unknown attribute code %#02x", code)
		}
	}
	if d.err == nil {
		d.fail("no request terminator")
	}
	return nil, d.err
}

// Append appends the forward request's payload (what mod_jk sends).
func (fr *ForwardRequest) Append(dst []byte) []byte {
	e := encoder{dst}
	e.byte(byte(KindForwardRequest))
	mc := MethodCode(fr.Method)
	e.byte(mc)
	e.str(fr.Protocol)
	e.str(fr.URI)
	e.str(fr.RemoteAddr)
	e.str(fr.RemoteHost)
	e.str(fr.ServerName)
	e.int(fr.ServerPort)
	e.byte(boolByte(fr.IsSSL))
	e.int(len(fr.Headers))
	for _, h := range fr.Headers {
		if c := headerCode(requestHeaders[:], h.Name); c != 0 {
			e.int(c)
		} else {
			e.str(h.Name)
		}
		e.str(h.Value)
	}
	a := &fr.Attributes
	opt := func(code byte, v string) {
		if v != "" {
			e.byte(code)
			e.str(v)
		}
	}
	opt(attrContext, a.Context)
	opt(attrServletPath, a.ServletPath)
	opt(attrRemoteUser, a.RemoteUser)
	opt(attrAuthType, a.AuthType)
	opt(attrQueryString, a.QueryString)
	opt(attrRoute, a.Route)
	opt(attrSSLCert, a.SSLCert)
	opt(attrSSLCipher, a.SSLCipher)
	opt(attrSSLSession, a.SSLSession)
	if a.SSLKeySize != 0 {
		e.byte(attrSSLKeySize)
		e.int(a.SSLKeySize)
	}
	for _, h := range a.Request {
		e.byte(attrReqAttribute)
		e.str(h.Name)
		e.str(h.Value)
	}
	if a.HasSecret {
		e.byte(attrSecret)
		e.str(a.Secret)
	}
	if mc == methodStored {
		e.byte(attrStoredMethod)
		e.str(fr.Method)
	}
	e.byte(attrAreDone)
	return e.b
}

// SendHeaders is AJP13_SEND_HEADERS: the response's status and headers.
type SendHeaders struct {
	Status  int
	Reason  string // Tomcat sends the status code's digits; never empty (mod_jk needs one)
	Headers []Header
}

// Append appends the payload. Names with a code are sent by code.
func (sh *SendHeaders) Append(dst []byte) []byte {
	e := encoder{dst}
	e.byte(byte(KindSendHeaders))
	e.int(sh.Status)
	r := sh.Reason
	if r == "" {
		r = strconv.Itoa(sh.Status)
	}
	e.str(r)
	e.int(len(sh.Headers))
	for _, h := range sh.Headers {
		if c := headerCode(responseHeaders[:], h.Name); c != 0 {
			e.int(c)
		} else {
			e.str(h.Name)
		}
		e.str(h.Value)
	}
	return e.b
}

// DecodeSendHeaders decodes a send-headers payload (prefix included).
func DecodeSendHeaders(p []byte) (*SendHeaders, error) {
	d := &decoder{p: p}
	if k := Kind(d.byte()); d.err == nil && k != KindSendHeaders {
		return nil, fmt.Errorf("%w: %s, want send-headers", ErrMalformed, k)
	}
	sh := &SendHeaders{Status: d.int(), Reason: d.str()}
	n := d.int()
	if d.err == nil && n > (len(p)-d.off)/4 {
		d.fail("%d headers cannot fit", n)
	}
	for i := 0; i < n && d.err == nil; i++ {
		var name string
		if c := d.peekInt(); c&0xFF00 == 0xA000 {
			d.int()
			if c&0xFF >= len(responseHeaders) || responseHeaders[c&0xFF] == "" {
				d.fail("unknown response header code %#04x", c)
				break
			}
			name = responseHeaders[c&0xFF]
		} else {
			name = d.str()
		}
		sh.Headers = append(sh.Headers, Header{Name: name, Value: d.str()})
	}
	if d.err == nil && d.off != len(p) {
		d.fail("%d trailing bytes", len(p)-d.off)
	}
	if d.err != nil {
		return nil, d.err
	}
	return sh, nil
}

// SendBodyChunkOverhead is what a send-body-chunk packet adds to its data:
// header, prefix, length and the trailing NUL. The largest chunk is
// packetSize - SendBodyChunkOverhead.
const SendBodyChunkOverhead = HeaderLen + 1 + 2 + 1

// AppendSendBodyChunk appends a send-body-chunk payload carrying data (an
// empty one is mod_jk's flush).
func AppendSendBodyChunk(dst, data []byte) []byte {
	e := encoder{dst}
	e.byte(byte(KindSendBodyChunk))
	e.strBytes(data)
	return e.b
}

// DecodeSendBodyChunk returns the data of a send-body-chunk payload. The
// trailing NUL Tomcat writes is optional.
func DecodeSendBodyChunk(p []byte) ([]byte, error) {
	d := &decoder{p: p}
	if k := Kind(d.byte()); d.err == nil && k != KindSendBodyChunk {
		return nil, fmt.Errorf("%w: %s, want send-body-chunk", ErrMalformed, k)
	}
	n := d.int()
	if d.err == nil && d.off+n > len(p) {
		d.fail("chunk of %d bytes past the end", n)
	}
	if d.err != nil {
		return nil, d.err
	}
	return p[d.off : d.off+n], nil
}

// AppendEndResponse appends an end-response payload; reuse=false asks the
// web server to close the connection.
func AppendEndResponse(dst []byte, reuse bool) []byte {
	return append(dst, byte(KindEndResponse), boolByte(reuse))
}

// DecodeEndResponse returns an end-response's reuse flag.
func DecodeEndResponse(p []byte) (reuse bool, err error) {
	if len(p) != 2 || Kind(p[0]) != KindEndResponse {
		return false, fmt.Errorf("%w: end-response of %d bytes", ErrMalformed, len(p))
	}
	return p[1] == 1, nil
}

// AppendGetBodyChunk appends a get-body-chunk payload asking for up to n
// bytes of request body.
func AppendGetBodyChunk(dst []byte, n int) []byte {
	return append(dst, byte(KindGetBodyChunk), byte(n>>8), byte(n))
}

// DecodeGetBodyChunk returns the length a get-body-chunk asks for.
func DecodeGetBodyChunk(p []byte) (int, error) {
	if len(p) != 3 || Kind(p[0]) != KindGetBodyChunk {
		return 0, fmt.Errorf("%w: get-body-chunk of %d bytes", ErrMalformed, len(p))
	}
	return int(p[1])<<8 | int(p[2]), nil
}

// BodyChunkOverhead is what a request body packet adds to its data
// (header and length); the largest is packetSize - BodyChunkOverhead.
const BodyChunkOverhead = HeaderLen + 2

// AppendBodyChunk appends a request body packet's payload (no prefix
// code: the web server sends it after the forward request or in answer to
// a get-body-chunk). Empty data is the end of the body.
func AppendBodyChunk(dst, data []byte) []byte {
	if len(data) == 0 {
		return dst
	}
	return append(append(dst, byte(len(data)>>8), byte(len(data))), data...)
}

// DecodeBodyChunk returns a request body packet's data; empty means the
// body ended (an empty packet or a zero length).
func DecodeBodyChunk(p []byte) ([]byte, error) {
	if len(p) == 0 {
		return nil, nil
	}
	if len(p) < 2 {
		return nil, fmt.Errorf("%w: body packet of %d bytes", ErrMalformed, len(p))
	}
	n := int(p[0])<<8 | int(p[1])
	if n > len(p)-2 {
		return nil, fmt.Errorf("%w: body chunk of %d bytes in a packet of %d", ErrMalformed, n, len(p))
	}
	return p[2 : 2+n], nil
}

// AppendCPong appends the container's answer to a CPing.
func AppendCPong(dst []byte) []byte { return append(dst, byte(KindCPong)) }

// AppendCPing appends the web server's liveness probe (mod_jk's
// ping_mode, mod_proxy_ajp's ping=).
func AppendCPing(dst []byte) []byte { return append(dst, byte(KindCPing)) }
