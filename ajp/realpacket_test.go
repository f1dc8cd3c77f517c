package ajp

import (
	"bytes"
	"os"
	"testing"
)

// testdata/modjk-1.2.48-cping-get.bin is what Debian's mod_jk 1.2.48
// (ping_mode=A, secret set) sent for
//
//	curl -b JSESSIONID=5B4C…9A.node1 -H 'X-Custom: yes' 'http://127.0.0.1:18050/shop/cart?x=1&y=%20z'
//
// captured on loopback: a CPing, then the forward request.
func TestDecodeRealModJKPackets(t *testing.T) {
	in, err := os.ReadFile("testdata/modjk-1.2.48-cping-get.bin")
	if err != nil {
		t.Fatal(err)
	}
	r := bytes.NewReader(in)
	buf := make([]byte, DefaultPacketSize)
	p, err := ReadFrame(r, ToContainer, buf)
	if err != nil || KindOf(p) != KindCPing {
		t.Fatalf("first packet: %v %v", KindOf(p), err)
	}
	p, err = ReadFrame(r, ToContainer, buf)
	if err != nil {
		t.Fatal(err)
	}
	fr, err := DecodeForwardRequest(p)
	if err != nil {
		t.Fatal(err)
	}
	if fr.Method != "GET" || fr.Protocol != "HTTP/1.1" || fr.URI != "/shop/cart" || fr.RemoteAddr != "127.0.0.1" ||
		fr.RemoteHost != "" || fr.ServerName != "127.0.0.1" || fr.ServerPort != 18050 || fr.IsSSL {
		t.Fatalf("request line: %+v", fr)
	}
	h := map[string]string{}
	for _, x := range fr.Headers {
		h[x.Name] = x.Value
	}
	if h["host"] != "127.0.0.1:18050" || h["cookie"] != "JSESSIONID=5B4C0000000000000000000000009A.node1" ||
		h["X-Custom"] != "yes" || h["content-length"] != "0" || h["user-agent"] != "curl/7.88.1" {
		t.Fatalf("headers: %v", fr.Headers)
	}
	a := fr.Attributes
	if !a.HasSecret || a.Secret != "s3cret" || a.QueryString != "x=1&y=%20z" || len(a.Request) != 3 ||
		a.Request[0].Name != AttrRemotePort || a.Request[1] != (Header{AttrLocalAddr, "127.0.0.1"}) || a.Request[2] != (Header{"JK_LB_ACTIVATION", "ACT"}) {
		t.Fatalf("attributes: %+v", a)
	}
	// Re-encoded (this package orders attributes its own way), it decodes the same.
	again, err := DecodeForwardRequest(fr.Append(nil))
	if err != nil || again.URI != fr.URI || len(again.Headers) != len(fr.Headers) || again.Attributes.Secret != "s3cret" {
		t.Fatalf("re-encoded: %+v, %v", again, err)
	}
}
