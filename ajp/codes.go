package ajp

import (
	"strconv"
	"strings"
)

// Kind is a message's prefix code. Append only: these are AJP13's.
type Kind byte

// Prefix codes.
const (
	KindForwardRequest Kind = 2  // web server → container
	KindSendBodyChunk  Kind = 3  // container → web server
	KindSendHeaders    Kind = 4  // container → web server
	KindEndResponse    Kind = 5  // container → web server
	KindGetBodyChunk   Kind = 6  // container → web server
	KindShutdown       Kind = 7  // web server → container (refused)
	KindPing           Kind = 8  // web server → container (unused by mod_jk)
	KindCPong          Kind = 9  // container → web server
	KindCPing          Kind = 10 // web server → container
)

func (k Kind) String() string {
	switch k {
	case KindForwardRequest:
		return "forward-request"
	case KindSendBodyChunk:
		return "send-body-chunk"
	case KindSendHeaders:
		return "send-headers"
	case KindEndResponse:
		return "end-response"
	case KindGetBodyChunk:
		return "get-body-chunk"
	case KindShutdown:
		return "shutdown"
	case KindPing:
		return "ping"
	case KindCPong:
		return "cpong"
	case KindCPing:
		return "cping"
	}
	return "kind(" + strconv.Itoa(int(k)) + ")"
}

// methods by code (1-based; 0xFF = the method travels in the
// stored_method attribute). Append only.
var methods = [...]string{
	1: "OPTIONS", 2: "GET", 3: "HEAD", 4: "POST", 5: "PUT", 6: "DELETE", 7: "TRACE",
	8: "PROPFIND", 9: "PROPPATCH", 10: "MKCOL", 11: "COPY", 12: "MOVE", 13: "LOCK",
	14: "UNLOCK", 15: "ACL", 16: "REPORT", 17: "VERSION-CONTROL", 18: "CHECKIN",
	19: "CHECKOUT", 20: "UNCHECKOUT", 21: "SEARCH", 22: "MKWORKSPACE", 23: "UPDATE",
	24: "LABEL", 25: "MERGE", 26: "BASELINE-CONTROL", 27: "MKACTIVITY",
}

// methodStored says "see the stored_method attribute".
const methodStored = 0xFF

// MethodCode is the code of an HTTP method, or 0xFF (sent as the
// stored_method attribute) for one without a code.
func MethodCode(m string) byte {
	for i, s := range methods {
		if s != "" && s == m {
			return byte(i)
		}
	}
	return methodStored
}

// requestHeaders are the request header names with a code 0xA0NN (NN
// 1-based), lower case as Tomcat reports them. Append only.
var requestHeaders = [...]string{
	1: "accept", 2: "accept-charset", 3: "accept-encoding", 4: "accept-language",
	5: "authorization", 6: "connection", 7: "content-type", 8: "content-length",
	9: "cookie", 10: "cookie2", 11: "host", 12: "pragma", 13: "referer", 14: "user-agent",
}

// responseHeaders are the response header names with a code 0xA0NN.
// Append only.
var responseHeaders = [...]string{
	1: "Content-Type", 2: "Content-Language", 3: "Content-Length", 4: "Date",
	5: "Last-Modified", 6: "Location", 7: "Set-Cookie", 8: "Set-Cookie2",
	9: "Servlet-Engine", 10: "Status", 11: "WWW-Authenticate",
}

func headerCode(table []string, name string) int {
	for i, s := range table {
		if s != "" && strings.EqualFold(s, name) {
			return 0xA000 | i
		}
	}
	return 0
}

// Attribute codes of a forward request. Append only.
const (
	attrContext      = 0x01
	attrServletPath  = 0x02
	attrRemoteUser   = 0x03
	attrAuthType     = 0x04
	attrQueryString  = 0x05
	attrRoute        = 0x06
	attrSSLCert      = 0x07
	attrSSLCipher    = 0x08
	attrSSLSession   = 0x09
	attrReqAttribute = 0x0A
	attrSSLKeySize   = 0x0B
	attrSecret       = 0x0C
	attrStoredMethod = 0x0D
	attrAreDone      = 0xFF
)

// Request attribute names mod_jk and mod_proxy_ajp send as req_attribute
// (Tomcat's Constants.SC_A_REQ_*): they carry what AJP13 has no field for.
const (
	AttrLocalAddr   = "AJP_LOCAL_ADDR"
	AttrRemotePort  = "AJP_REMOTE_PORT"
	AttrSSLProtocol = "AJP_SSL_PROTOCOL"
)
