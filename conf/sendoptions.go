package conf

import (
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
)

// sendOptionNames maps Tomcat's option names to bits, in the order
// FormatSendOptions writes them ("use_ack,sync", as people write it).
var sendOptionNames = []struct {
	name, alias string
	bit         int
}{
	{"async", "asynchronous", SendAsync},
	{"use_ack", "", SendUseAck},
	{"sync", "synchronized_ack", SendSyncAck},
	{"byte", "byte_message", SendByteMessage},
	{"udp", "", SendUDP},
	{"multicast", "", SendMulticast},
	{"secure", "", SendSecure},
}

// ParseSendOptions reads a channelSendOptions value as Tomcat does: an
// integer ("8", "6"), or names separated by commas and OR-ed together
// ("async", "use_ack,sync"). Names: asynchronous|async,
// synchronized_ack|sync, use_ack, byte_message|byte, multicast, secure,
// udp; case does not matter.
func ParseSendOptions(s string) (int, error) {
	s = strings.TrimSpace(s)
	if n, err := strconv.Atoi(s); err == nil {
		if n < 0 || n > 0xffff {
			return 0, fmt.Errorf("%d is out of range (0..65535)", n)
		}
		return n, nil
	}
	opts := 0
	for part := range strings.SplitSeq(s, ",") {
		part = strings.ToLower(strings.TrimSpace(part))
		found := false
		for _, o := range sendOptionNames {
			if part == o.name || (o.alias != "" && part == o.alias) {
				opts |= o.bit
				found = true
				break
			}
		}
		if !found {
			return 0, fmt.Errorf("unknown send option %q (a number, or names joined by commas: async, use_ack, sync, byte, udp, multicast, secure)", part)
		}
	}
	return opts, nil
}

// FormatSendOptions renders bits as Tomcat names, e.g. "use_ack,sync";
// 0 renders as "none".
func FormatSendOptions(opts int) string {
	var names []string
	for _, o := range sendOptionNames {
		if opts&o.bit != 0 {
			names = append(names, o.name)
			opts &^= o.bit
		}
	}
	if opts != 0 {
		names = append(names, fmt.Sprintf("0x%x", opts))
	}
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ",")
}

// ParseKey decodes a cluster key written as hex (Tomcat's EncryptInterceptor
// encryptionKey format): 32, 48 or 64 hex digits for a 16, 24 or 32 byte
// AES key.
func ParseKey(s string) ([]byte, error) {
	b, err := hex.DecodeString(strings.TrimSpace(s))
	if err != nil {
		return nil, fmt.Errorf("not hexadecimal (32, 48 or 64 hex digits)")
	}
	if !validKeyLen(len(b)) {
		return nil, fmt.Errorf("%d bytes (16, 24 or 32 bytes: 32, 48 or 64 hex digits)", len(b))
	}
	return b, nil
}

func validKeyLen(n int) bool { return n == 16 || n == 24 || n == 32 }
