package redismgr

import (
	"strings"
	"testing"
)

// FuzzDecodeHash: whatever a (corrupt or hostile) server returns for a
// session hash, decodeHash returns a Record or an error, never panics, and
// keeps only well-formed attribute values.
func FuzzDecodeHash(f *testing.F) {
	f.Add("version\x001\x00creationTime\x001700000000000\x00sessionAttr:a\x00\x01")
	f.Add("version\x00x")
	f.Add("sessionAttr:b\x00\xff\x00version\x002")
	f.Add("maxInactiveInterval\x0099999999999999\x00version\x001")
	f.Fuzz(func(t *testing.T, flat string) {
		kv := strings.Split(flat, "\x00")
		st, err := decodeHash("id", kv)
		if err != nil {
			return
		}
		if st.rec.ID != "id" {
			t.Fatalf("id %q", st.rec.ID)
		}
		for k, v := range st.rec.Attrs {
			if len(v) == 0 {
				t.Fatalf("attribute %q empty", k)
			}
		}
	})
}
