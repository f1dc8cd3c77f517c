package ajp

import (
	"bytes"
	"errors"
	"io"
	"os"
	"reflect"
	"strings"
	"testing"
)

// modJKRequest is a forward request as mod_jk 1.2.48 sends it for
// "GET /shop/cart?x=1" with a session cookie (headers by code and by name,
// the req_attributes mod_jk always adds, a route and a secret).
func modJKRequest() *ForwardRequest {
	return &ForwardRequest{
		Method: "GET", Protocol: "HTTP/1.1", URI: "/shop/cart",
		RemoteAddr: "127.0.0.1", RemoteHost: "127.0.0.1", ServerName: "localhost", ServerPort: 80,
		Headers: []Header{
			{"host", "localhost"}, {"user-agent", "curl/7.88.1"}, {"accept", "*/*"},
			{"cookie", "JSESSIONID=5B4C0000000000000000000000009A.node1"},
			{"X-Forwarded-For", "203.0.113.7"},
		},
		Attributes: Attributes{
			QueryString: "x=1", Route: "node1", HasSecret: true, Secret: "s3cret",
			Request: []Header{{AttrRemotePort, "51234"}, {AttrLocalAddr, "127.0.0.1"}},
		},
	}
}

func TestForwardRequestRoundTrip(t *testing.T) {
	ssl := modJKRequest()
	ssl.IsSSL = true
	ssl.Attributes.SSLCipher, ssl.Attributes.SSLSession, ssl.Attributes.SSLKeySize = "TLS_AES_128_GCM_SHA256", "abcd", 128
	ssl.Attributes.SSLCert = "-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n"
	ssl.Attributes.Request = append(ssl.Attributes.Request, Header{AttrSSLProtocol, "TLSv1.3"})
	ssl.Attributes.RemoteUser, ssl.Attributes.AuthType = "alice", "Basic"
	post := modJKRequest()
	post.Method = "POST"
	post.Headers = append(post.Headers, Header{"content-length", "5"}, Header{"content-type", "text/plain"})
	odd := modJKRequest()
	odd.Method = "PATCH" // no code: travels as stored_method
	odd.Headers = nil
	odd.Attributes = Attributes{}
	for _, tc := range []struct {
		name string
		fr   *ForwardRequest
	}{{"get", modJKRequest()}, {"ssl", ssl}, {"post", post}, {"stored method", odd}} {
		t.Run(tc.name, func(t *testing.T) {
			p := tc.fr.Append(nil)
			if KindOf(p) != KindForwardRequest {
				t.Fatalf("kind %v", KindOf(p))
			}
			got, err := DecodeForwardRequest(p)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.fr) {
				t.Fatalf("round trip:\n got %+v\nwant %+v", got, tc.fr)
			}
		})
	}
}

// Header names with a code go as 0xA0NN, others as strings; a header name
// that happens to be 7 or 8 bytes long is not mistaken for a code
// (Tomcat bug 5861).
func TestForwardRequestHeaderEncoding(t *testing.T) {
	fr := &ForwardRequest{Method: "GET", Protocol: "HTTP/1.1", URI: "/", Headers: []Header{{"Cookie", "a=b"}, {"X-Seven", "7"}}}
	p := fr.Append(nil)
	if !bytes.Contains(p, []byte{0xA0, 0x09, 0, 3, 'a', '=', 'b', 0}) {
		t.Fatalf("cookie not sent by code: % x", p)
	}
	got, err := DecodeForwardRequest(p)
	if err != nil {
		t.Fatal(err)
	}
	want := []Header{{"cookie", "a=b"}, {"X-Seven", "7"}}
	if !reflect.DeepEqual(got.Headers, want) {
		t.Fatalf("headers %v, want %v", got.Headers, want)
	}
}

func TestMethodCodes(t *testing.T) {
	for m, c := range map[string]byte{"OPTIONS": 1, "GET": 2, "HEAD": 3, "POST": 4, "PUT": 5, "DELETE": 6, "MKACTIVITY": 27, "PATCH": 0xFF} {
		if got := MethodCode(m); got != c {
			t.Errorf("MethodCode(%s) = %d, want %d", m, got, c)
		}
	}
}

func TestResponsePacketsRoundTrip(t *testing.T) {
	sh := &SendHeaders{Status: 302, Reason: "Found", Headers: []Header{
		{"Content-Type", "text/html"}, {"Set-Cookie", "JSESSIONID=X.node2; Path=/"}, {"Location", "/x"}, {"X-Custom", "1"},
	}}
	p := sh.Append(nil)
	if !bytes.Contains(p, []byte{0xA0, 0x07}) {
		t.Fatalf("Set-Cookie not sent by code: % x", p)
	}
	got, err := DecodeSendHeaders(p)
	if err != nil || !reflect.DeepEqual(got, sh) {
		t.Fatalf("send-headers: %+v, %v", got, err)
	}
	// An empty reason is sent as the status digits (mod_jk needs one).
	got, err = DecodeSendHeaders((&SendHeaders{Status: 204}).Append(nil))
	if err != nil || got.Reason != "204" {
		t.Fatalf("reason %q, %v", got.Reason, err)
	}

	data := bytes.Repeat([]byte("x"), 1000)
	p = AppendSendBodyChunk(nil, data)
	if len(p) != 1+2+len(data)+1 || p[len(p)-1] != 0 {
		t.Fatalf("send-body-chunk layout: %d bytes, last %d", len(p), p[len(p)-1])
	}
	if b, err := DecodeSendBodyChunk(p); err != nil || !bytes.Equal(b, data) {
		t.Fatalf("send-body-chunk: %d bytes, %v", len(b), err)
	}
	for _, reuse := range []bool{true, false} {
		if r, err := DecodeEndResponse(AppendEndResponse(nil, reuse)); err != nil || r != reuse {
			t.Fatalf("end-response %v: %v, %v", reuse, r, err)
		}
	}
	if n, err := DecodeGetBodyChunk(AppendGetBodyChunk(nil, 8186)); err != nil || n != 8186 {
		t.Fatalf("get-body-chunk: %d, %v", n, err)
	}
	if b, err := DecodeBodyChunk(AppendBodyChunk(nil, data)); err != nil || !bytes.Equal(b, data) {
		t.Fatalf("body chunk: %d bytes, %v", len(b), err)
	}
	if b, err := DecodeBodyChunk(AppendBodyChunk(nil, nil)); err != nil || len(b) != 0 {
		t.Fatalf("end of body: %d bytes, %v", len(b), err)
	}
	if b, err := DecodeBodyChunk([]byte{0, 0}); err != nil || len(b) != 0 {
		t.Fatalf("zero-length body chunk: %d bytes, %v", len(b), err)
	}
	if KindOf(AppendCPing(nil)) != KindCPing || KindOf(AppendCPong(nil)) != KindCPong {
		t.Fatal("cping/cpong kinds")
	}
}

func TestFrame(t *testing.T) {
	payload := AppendCPing(nil)
	pkt, err := Frame(ToContainer, payload, DefaultPacketSize)
	if err != nil || !bytes.Equal(pkt, []byte{0x12, 0x34, 0, 1, 10}) {
		t.Fatalf("cping packet % x, %v", pkt, err)
	}
	buf := make([]byte, DefaultPacketSize)
	got, err := ReadFrame(bytes.NewReader(pkt), ToContainer, buf)
	if err != nil || !bytes.Equal(got, payload) {
		t.Fatalf("read % x, %v", got, err)
	}
	pong, _ := Frame(ToServer, AppendCPong(nil), DefaultPacketSize)
	if !bytes.Equal(pong, []byte{'A', 'B', 0, 1, 9}) {
		t.Fatalf("cpong packet % x", pong)
	}
	// Built in place.
	b := AppendFrame(nil, ToServer, 0)
	b = AppendEndResponse(b, true)
	SetFrameLength(b)
	if !bytes.Equal(b, []byte{'A', 'B', 0, 2, 5, 1}) {
		t.Fatalf("in place % x", b)
	}
	// The largest packet: packetSize bytes in all, up to 65536.
	big := make([]byte, MaxPacketSize-HeaderLen-1)
	if _, err := Frame(ToContainer, big, MaxPacketSize); err != nil {
		t.Fatalf("largest packet: %v", err)
	}
	if _, err := Frame(ToContainer, make([]byte, DefaultPacketSize-HeaderLen+1), DefaultPacketSize); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("oversized frame: %v", err)
	}
}

func TestReadFrameLimits(t *testing.T) {
	buf := make([]byte, DefaultPacketSize)
	for _, tc := range []struct {
		name string
		in   []byte
		want error
	}{
		{"empty stream", nil, io.EOF},
		{"bad magic", []byte("GET / HTTP/1.1\r\n"), ErrBadMagic},
		{"container magic to the container", []byte{'A', 'B', 0, 1, 9}, ErrBadMagic},
		{"truncated header", []byte{0x12, 0x34, 0}, ErrTruncated},
		{"truncated payload", []byte{0x12, 0x34, 0, 10, 2, 2}, ErrTruncated},
		{"oversized", []byte{0x12, 0x34, 0x20, 0x00}, ErrTooLarge},
		{"oversized max", []byte{0x12, 0x34, 0xFF, 0xFF}, ErrTooLarge},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := ReadFrame(bytes.NewReader(tc.in), ToContainer, buf); !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
		})
	}
	// A packet of exactly the packet size is fine.
	pkt, _ := Frame(ToContainer, make([]byte, DefaultPacketSize-HeaderLen), DefaultPacketSize)
	if _, err := ReadFrame(bytes.NewReader(pkt), ToContainer, buf); err != nil {
		t.Fatalf("full-size packet: %v", err)
	}
}

func TestDecodeMalformed(t *testing.T) {
	good := modJKRequest().Append(nil)
	for i := range good {
		// Every truncation of a good request fails cleanly.
		if _, err := DecodeForwardRequest(good[:i]); !errors.Is(err, ErrMalformed) {
			t.Fatalf("truncated at %d: %v", i, err)
		}
	}
	for _, tc := range []struct {
		name string
		p    []byte
	}{
		{"wrong kind", []byte{byte(KindCPing)}},
		{"unknown method", []byte{2, 99}},
		{"huge header count", append([]byte{2, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF}, make([]byte, 100)...)},
		{"stored method missing", (&ForwardRequest{Method: "PATCH"}).Append(nil)[:0]},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := DecodeForwardRequest(tc.p); !errors.Is(err, ErrMalformed) {
				t.Fatalf("got %v", err)
			}
		})
	}
	// 0xFF method with no stored_method attribute.
	p := (&ForwardRequest{Method: "GET", Protocol: "HTTP/1.1", URI: "/"}).Append(nil)
	p[1] = 0xFF
	if _, err := DecodeForwardRequest(p); err == nil || !strings.Contains(err.Error(), "stored_method") {
		t.Fatalf("missing stored method: %v", err)
	}
	if _, err := DecodeSendBodyChunk([]byte{3, 0, 9, 1}); !errors.Is(err, ErrMalformed) {
		t.Fatalf("short chunk: %v", err)
	}
	if _, err := DecodeBodyChunk([]byte{0, 9, 1}); !errors.Is(err, ErrMalformed) {
		t.Fatalf("short body chunk: %v", err)
	}
	if _, err := DecodeSendHeaders([]byte{4, 0, 200, 0xFF, 0xFF, 0, 1, 0xA0, 0x77, 0, 0, 0}); !errors.Is(err, ErrMalformed) {
		t.Fatalf("unknown response header code: %v", err)
	}
}

// FuzzDecode feeds arbitrary bytes to the frame reader and every payload
// decoder: errors are fine, panics and oversized reads are not.
func FuzzDecode(f *testing.F) {
	if real, err := os.ReadFile("testdata/modjk-1.2.48-cping-get.bin"); err == nil {
		f.Add(real) // captured from mod_jk: realpacket_test.go
	}
	for _, fr := range []*ForwardRequest{modJKRequest(), {Method: "PROPFIND", Protocol: "HTTP/1.1", URI: "/dav"}, {Method: "PATCH", URI: "/x"}} {
		pkt, _ := Frame(ToContainer, fr.Append(nil), DefaultPacketSize)
		f.Add(pkt)
	}
	for _, p := range [][]byte{
		AppendCPing(nil), {byte(KindShutdown)}, AppendBodyChunk(nil, []byte("hello")), nil,
		(&SendHeaders{Status: 200, Headers: []Header{{"Content-Type", "text/plain"}, {"X", "y"}}}).Append(nil),
		AppendSendBodyChunk(nil, []byte("body")), AppendEndResponse(nil, true), AppendGetBodyChunk(nil, 8186), AppendCPong(nil),
	} {
		pkt, _ := Frame(ToContainer, p, DefaultPacketSize)
		f.Add(pkt)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		buf := make([]byte, DefaultPacketSize)
		r := bytes.NewReader(in)
		for {
			p, err := ReadFrame(r, ToContainer, buf)
			if err != nil {
				break
			}
			if len(p) > len(buf)-HeaderLen {
				t.Fatalf("payload of %d bytes from a %d-byte buffer", len(p), len(buf))
			}
			if fr, err := DecodeForwardRequest(p); err == nil {
				// What decodes re-encodes to something that decodes the same.
				again, err := DecodeForwardRequest(fr.Append(nil))
				if err != nil {
					t.Fatalf("re-decode: %v", err)
				}
				if again.Method != fr.Method || again.URI != fr.URI || len(again.Headers) != len(fr.Headers) {
					t.Fatalf("re-decode differs: %+v vs %+v", again, fr)
				}
			}
			DecodeSendHeaders(p)
			DecodeSendBodyChunk(p)
			DecodeEndResponse(p)
			DecodeGetBodyChunk(p)
			DecodeBodyChunk(p)
		}
	})
}
