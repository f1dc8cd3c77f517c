package redismgr

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/gomcat/gomcat/runtime/session"
)

// The fields of a session hash (Spring Session's names where it has them).
// Attributes are sessionAttr:<name> with the CBOR bytes as value.
const (
	fCreated     = "creationTime"        // unix ms
	fAccessed    = "lastAccessedTime"    // unix ms
	fMaxInactive = "maxInactiveInterval" // seconds; <= 0 never
	fVersion     = "version"             // bumped by every write
	fPrincipal   = "principal"
	fAuthType    = "authType"
	attrPrefix   = "sessionAttr:"
)

// Limits of a stored hash the decoder accepts.
const (
	maxFields    = 1 << 16
	maxFieldSize = 64 << 20
)

var errBadHash = errors.New("redismgr: malformed session hash")

// stored is one session as read from Redis.
type stored struct {
	rec     session.Record
	version int64
}

// decodeHash turns HGETALL's field/value list into a Record. It checks
// every bound (field count and sizes, numbers, well-formed CBOR values) and
// never panics: the bytes come from the network.
func decodeHash(id string, kv []string) (stored, error) {
	var st stored
	if len(kv)%2 != 0 {
		return st, fmt.Errorf("%w: odd field list", errBadHash)
	}
	if len(kv)/2 > maxFields {
		return st, fmt.Errorf("%w: %d fields", errBadHash, len(kv)/2)
	}
	st.rec.ID = id
	seenVersion := false
	for i := 0; i < len(kv); i += 2 {
		k, v := kv[i], kv[i+1]
		if len(k)+len(v) > maxFieldSize {
			return st, fmt.Errorf("%w: field of %d bytes", errBadHash, len(k)+len(v))
		}
		if name, ok := strings.CutPrefix(k, attrPrefix); ok {
			if err := session.WellFormed([]byte(v)); err != nil {
				return st, fmt.Errorf("%w: attribute %q: %v", errBadHash, name, err)
			}
			if st.rec.Attrs == nil {
				st.rec.Attrs = make(map[string][]byte)
			}
			st.rec.Attrs[name] = []byte(v)
			continue
		}
		var err error
		switch k {
		case fCreated:
			st.rec.Created, err = msNanos(v)
		case fAccessed:
			st.rec.LastAccessed, err = msNanos(v)
		case fMaxInactive:
			var n int64
			n, err = strconv.ParseInt(v, 10, 64)
			if err == nil && (n > 1<<32 || n < -1<<32) {
				err = errors.New("out of range")
			}
			st.rec.MaxInactive = time.Duration(n) * time.Second
		case fVersion:
			st.version, err = strconv.ParseInt(v, 10, 64)
			seenVersion = true
		case fPrincipal:
			st.rec.Principal = v
		case fAuthType:
			st.rec.AuthType = v
		}
		if err != nil {
			return st, fmt.Errorf("%w: %s %q: %v", errBadHash, k, v, err)
		}
	}
	if !seenVersion {
		return st, fmt.Errorf("%w: no version", errBadHash)
	}
	return st, nil
}

func msNanos(v string) (int64, error) {
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return 0, err
	}
	if n < 0 || n > 1<<43 { // year 2248
		return 0, errors.New("out of range")
	}
	return n * int64(time.Millisecond), nil
}

// metaFields returns the non-attribute fields of r as HSET arguments.
func metaFields(r session.Record) []any {
	return []any{
		fCreated, r.Created / int64(time.Millisecond),
		fAccessed, r.LastAccessed / int64(time.Millisecond),
		fMaxInactive, int64(r.MaxInactive / time.Second),
		fPrincipal, r.Principal,
		fAuthType, r.AuthType,
	}
}
