package host

import (
	"context"
	"crypto/subtle"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/gomcat/gomcat/ajp"
)

// AJPInfo is what a forward request carried beyond plain HTTP. Handlers
// read it with AJPInfoFrom.
type AJPInfo struct {
	RemoteHost string // the client's host name (often its address)
	RemoteUser string // authenticated by the web server
	AuthType   string
	Route      string // the lb member route mod_jk chose (jvm_route)
	SSLCert    string // PEM client certificate
	SSLCipher  string
	SSLSession string
	SSLKeySize int
	// Attributes are the request attributes allowed by
	// allowedRequestAttributesPattern, plus JK_LB_ACTIVATION.
	Attributes map[string]string
}

type ajpInfoKey struct{}

// AJPInfoFrom returns the AJP details of a request that came over an AJP
// connector, or nil.
func AJPInfoFrom(r *http.Request) *AJPInfo {
	i, _ := r.Context().Value(ajpInfoKey{}).(*AJPInfo)
	return i
}

// knownAttributes are request attributes Tomcat accepts whatever the
// pattern: the Servlet names for TLS details and IIS's.
var knownAttributes = map[string]bool{
	"JK_LB_ACTIVATION":                   true,
	"javax.servlet.request.cipher_suite": true, "javax.servlet.request.key_size": true,
	"javax.servlet.request.ssl_session": true, "javax.servlet.request.X509Certificate": true,
	"javax.servlet.request.secure_protocol": true,
	"CERT_ISSUER":                           true, "CERT_SUBJECT": true, "CERT_COOKIE": true, "HTTPS_SERVER_SUBJECT": true,
	"CERT_FLAGS": true, "HTTPS_SECRETKEYSIZE": true, "CERT_SERIALNUMBER": true,
	"HTTPS_SERVER_ISSUER": true, "HTTPS_KEYSIZE": true,
}

// serveRequest runs one forward request and reports whether the
// connection may serve another.
func (ac *ajpConn) serveRequest(log zerolog.Logger, fr *ajp.ForwardRequest) (reuse bool) {
	c := ac.c
	c.stats.requests.Add(1)
	c.threads <- struct{}{}
	defer func() { <-c.threads }()

	r, cl, why := c.buildRequest(ac, fr)
	body := &ajpBody{ac: ac, remaining: cl, first: true}
	w := newAJPResponse(ac, fr.Method == http.MethodHead)
	if why != "" {
		// Refused (Tomcat: 403 and close). The automatic first body packet
		// is not read: the connection closes.
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusForbidden)
		io.WriteString(w, "403 forbidden\n")
		w.finish()
		ac.endResponse(false)
		log.Debug().Str("why", why).Msg("AJP request refused")
		return false
	}
	r.Body = body
	if cl == 0 {
		r.Body = http.NoBody
		body.eof = true
	}
	if !ac.runHandler(log, w, r) {
		w.broken = true
	}
	w.finish()
	if !w.broken && !body.broken {
		// The unread automatic first body packet, or the answer to a
		// get-body-chunk in flight, must be read before the next request.
		if err := body.swallow(); err != nil {
			w.broken = true
		}
	}
	reuse = !w.broken && !body.broken
	if !ac.endResponse(reuse) {
		return false
	}
	return reuse
}

// runHandler calls the handler and recovers its panic like net/http does
// (http.ErrAbortHandler silently). False means the connection must close.
func (ac *ajpConn) runHandler(log zerolog.Logger, w *ajpResponse, r *http.Request) (ok bool) {
	defer func() {
		if v := recover(); v != nil {
			ok = false
			if v != http.ErrAbortHandler {
				log.Error().Str("panic", fmt.Sprint(v)).Str("path", r.URL.Path).Msg("handler panicked")
			}
			if !w.committed {
				w.reset()
				w.WriteHeader(http.StatusInternalServerError)
			}
		}
	}()
	ac.c.cfg.Handler.ServeHTTP(w, r)
	return true
}

// buildRequest maps a forward request to an *http.Request. why is
// non-empty when the request must be refused with 403 (secret or
// attribute); cl is the content length (-1 unknown).
func (c *AJPConnector) buildRequest(ac *ajpConn, fr *ajp.ForwardRequest) (r *http.Request, cl int64, why string) {
	a := &fr.Attributes
	if c.cfg.Secret != "" {
		if !a.HasSecret {
			why = "no secret"
		} else if subtle.ConstantTimeCompare([]byte(a.Secret), []byte(c.cfg.Secret)) != 1 {
			why = "wrong secret"
		}
		if why != "" {
			n := c.stats.secret.Add(1)
			if n&(n-1) == 0 {
				c.log.Warn().Str("peer", ac.nc.RemoteAddr().String()).Str("why", why).Uint64("count", n).
					Msg("AJP request refused (403): the forward request's secret does not match the connector's")
			}
		}
	}
	info := &AJPInfo{RemoteHost: fr.RemoteHost, RemoteUser: a.RemoteUser, AuthType: a.AuthType, Route: a.Route,
		SSLCert: a.SSLCert, SSLCipher: a.SSLCipher, SSLSession: a.SSLSession, SSLKeySize: a.SSLKeySize}
	remotePort, sslProto, seenCL := "0", "", false
	for _, h := range a.Request {
		switch {
		case h.Name == ajp.AttrRemotePort:
			if _, err := strconv.Atoi(h.Value); err == nil {
				remotePort = h.Value
			}
		case h.Name == ajp.AttrLocalAddr:
		case h.Name == ajp.AttrSSLProtocol:
			sslProto = h.Value
		case knownAttributes[h.Name] || (c.attrs != nil && c.attrs.MatchString(h.Name)):
			if info.Attributes == nil {
				info.Attributes = map[string]string{}
			}
			info.Attributes[h.Name] = h.Value
		default:
			if why == "" {
				why = "request attribute " + strconv.Quote(h.Name) + " not allowed"
				n := c.stats.attr.Add(1)
				if n&(n-1) == 0 {
					c.log.Warn().Str("attribute", h.Name).Uint64("count", n).
						Msg("AJP request refused (403): request attribute not allowed by allowedRequestAttributesPattern")
				}
			}
		}
	}

	target := fr.URI
	if a.QueryString != "" {
		target += "?" + a.QueryString
	}
	u, err := url.ParseRequestURI(target)
	if err != nil {
		u = &url.URL{Path: fr.URI, RawQuery: a.QueryString}
	}
	major, minor, ok := http.ParseHTTPVersion(fr.Protocol)
	if !ok {
		major, minor = 1, 1
	}
	ctx := context.WithValue(c.ctx, ajpInfoKey{}, info)
	r = (&http.Request{
		Method: fr.Method, URL: u, RequestURI: target,
		Proto: fr.Protocol, ProtoMajor: major, ProtoMinor: minor,
		Header: make(http.Header, len(fr.Headers)), ContentLength: -1,
		RemoteAddr: net.JoinHostPort(fr.RemoteAddr, remotePort),
	}).WithContext(ctx)
	if r.Proto == "" {
		r.Proto = "HTTP/1.1"
	}
	for _, h := range fr.Headers {
		k := http.CanonicalHeaderKey(h.Name)
		switch k {
		case "Host":
			if r.Host == "" {
				r.Host = h.Value
			}
			continue
		case "Content-Length":
			n, err := strconv.ParseInt(strings.TrimSpace(h.Value), 10, 64)
			if (err != nil || n < 0 || seenCL) && why == "" {
				why = "bad or repeated Content-Length"
			}
			seenCL = true
			cl = n
			r.ContentLength = n
		case "Transfer-Encoding":
			r.TransferEncoding = append(r.TransferEncoding, strings.ToLower(strings.TrimSpace(h.Value)))
			continue
		}
		r.Header.Add(k, h.Value)
	}
	if !seenCL {
		// Unknown length: the body is asked for when read (the web server
		// answers an empty packet when there is none). Like net/http,
		// ContentLength is -1 only when a Transfer-Encoding says a body
		// follows, else 0.
		cl, r.ContentLength = -1, 0
		if len(r.TransferEncoding) > 0 {
			r.ContentLength = -1
		}
	}
	if r.Host == "" {
		r.Host = fr.ServerName
		if fr.ServerPort != 0 && fr.ServerPort != 80 && fr.ServerPort != 443 {
			r.Host = net.JoinHostPort(fr.ServerName, strconv.Itoa(fr.ServerPort))
		}
	}
	if fr.IsSSL {
		r.TLS = &tls.ConnectionState{HandshakeComplete: true, ServerName: fr.ServerName,
			Version: tlsVersion(sslProto), CipherSuite: cipherSuite(a.SSLCipher)}
	}
	return r, cl, why
}

func tlsVersion(s string) uint16 {
	switch s {
	case "TLSv1.3":
		return tls.VersionTLS13
	case "TLSv1.2":
		return tls.VersionTLS12
	case "TLSv1.1":
		return tls.VersionTLS11
	case "TLSv1":
		return tls.VersionTLS10
	}
	return 0
}

// cipherSuite maps a cipher name (IANA, as httpd's SSL_CIPHER with
// OpenSSL names differs) to its id when Go knows it; 0 otherwise.
func cipherSuite(name string) uint16 {
	for _, cs := range append(tls.CipherSuites(), tls.InsecureCipherSuites()...) {
		if cs.Name == name {
			return cs.ID
		}
	}
	return 0
}

// ajpBody reads a request body in AJP's way: the web server sends the
// first packet unasked when the length is known and positive; after that
// each packet answers one get-body-chunk. Read runs on the handler's
// goroutine; the connection's goroutine is blocked in the handler then.
type ajpBody struct {
	ac        *ajpConn
	remaining int64 // -1 unknown (chunked)
	first     bool  // nothing read yet
	waiting   bool  // a body packet is on its way (asked for, or the first)
	eof       bool
	broken    bool   // a read failed: the connection cannot be reused
	cur       []byte // unread data of the last packet (in store)
	store     []byte
	closed    bool
}

func (b *ajpBody) Read(p []byte) (int, error) {
	if b.closed {
		return 0, http.ErrBodyReadAfterClose
	}
	for len(b.cur) == 0 {
		if b.eof {
			return 0, io.EOF
		}
		if b.broken {
			return 0, io.ErrUnexpectedEOF
		}
		if err := b.refill(); err != nil {
			return 0, err
		}
	}
	n := copy(p, b.cur)
	b.cur = b.cur[n:]
	return n, nil
}

// Close marks the body closed; what is unread stays with the web server
// (it sends only what is asked for), except a packet in flight, which
// serveRequest swallows.
func (b *ajpBody) Close() error {
	b.closed = true
	return nil
}

func (b *ajpBody) refill() error {
	ac := b.ac
	if b.first {
		b.first = false
		b.waiting = b.remaining > 0
	}
	if !b.waiting {
		want := ac.c.cfg.PacketSize - ajp.BodyChunkOverhead
		if b.remaining > 0 && int64(want) > b.remaining {
			want = int(b.remaining)
		}
		if !ac.writePacket(ajp.AppendGetBodyChunk(nil, want)) {
			b.broken = true
			return io.ErrUnexpectedEOF
		}
		b.waiting = true
	}
	ac.readDeadline()
	p, err := ajp.ReadFrame(ac.br, ajp.ToContainer, ac.buf)
	b.waiting = false
	if err != nil {
		b.broken = true
		if errors.Is(err, ajp.ErrBadMagic) || errors.Is(err, ajp.ErrTooLarge) || errors.Is(err, ajp.ErrTruncated) {
			ac.c.protocolError(ac.c.log, err)
		}
		return fmt.Errorf("ajp: read request body: %w", err)
	}
	data, err := ajp.DecodeBodyChunk(p)
	if err != nil {
		b.broken = true
		ac.c.protocolError(ac.c.log, err)
		return err
	}
	if len(data) == 0 {
		b.eof = true
		if b.remaining > 0 {
			b.broken = true
			return io.ErrUnexpectedEOF
		}
		return nil
	}
	if b.remaining >= 0 {
		if int64(len(data)) > b.remaining {
			b.broken = true
			ac.c.protocolError(ac.c.log, fmt.Errorf("%w: body longer than its Content-Length", ajp.ErrMalformed))
			return io.ErrUnexpectedEOF
		}
		b.remaining -= int64(len(data))
		if b.remaining == 0 {
			b.eof = true
		}
	}
	// Copy out: ac.buf is reused by the next read.
	b.store = append(b.store[:0], data...)
	b.cur = b.store
	return nil
}

// swallow reads the body packet still on its way, if any, so the next
// packet on the connection is a new request's.
func (b *ajpBody) swallow() error {
	if b.first && b.remaining > 0 {
		b.first, b.waiting = false, true
	}
	if !b.waiting {
		return nil
	}
	b.waiting = false
	b.ac.readDeadline()
	_, err := ajp.ReadFrame(b.ac.br, ajp.ToContainer, b.ac.buf)
	return err
}

// readDeadline bounds a read made while a request is served.
func (ac *ajpConn) readDeadline() {
	if t := ac.c.cfg.ConnectionTimeout; t > 0 {
		ac.nc.SetReadDeadline(time.Now().Add(t))
	} else {
		ac.nc.SetReadDeadline(time.Time{})
	}
}
