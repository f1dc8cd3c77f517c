package session

import (
	"encoding"
	"errors"
	"fmt"
	"math/big"
	"reflect"
	"sync"
	"time"

	"github.com/fxamacker/cbor/v2"
)

// maxDepth bounds how deeply a value may nest (pointers, interfaces, slices,
// maps, struct fields). The CBOR encoder recurses without a cycle check, so a
// cyclic value would overflow the stack and kill the process; Set walks the
// value first and rejects anything deeper. The decoder allows decodeDepth
// CBOR levels, more than maxDepth can produce.
const (
	maxDepth    = 200
	decodeDepth = 256
)

var (
	// encMode: times keep their nanoseconds (RFC 3339 text under tag 0) and
	// maps are sorted, so equal values encode to equal bytes on every node.
	encMode = mustEncMode(cbor.EncOptions{
		Sort:    cbor.SortCoreDeterministic,
		Time:    cbor.TimeRFC3339Nano,
		TimeTag: cbor.EncTagRequired,
	})
	// decMode: the tuned decoding Get uses: integers as int64, maps as
	// map[string]any, tag 0/1 as time.Time, invalid UTF-8 let through (Go
	// strings may hold it), no element-count limits (Set had none either).
	decMode = mustDecMode(cbor.DecOptions{
		DefaultMapType:   reflect.TypeOf(map[string]any(nil)),
		IntDec:           cbor.IntDecConvertSignedOrFail,
		UTF8:             cbor.UTF8DecodeInvalid,
		MaxNestedLevels:  decodeDepth,
		MaxArrayElements: 2147483647,
		MaxMapPairs:      2147483647,
	})
	// looseMode is Get's fallback for the few values decMode refuses: maps
	// with non-string keys (→ map[any]any) and integers above MaxInt64
	// (→ uint64). Whatever Set accepted, Get can return.
	looseMode = mustDecMode(cbor.DecOptions{
		UTF8:             cbor.UTF8DecodeInvalid,
		MaxNestedLevels:  decodeDepth,
		MaxArrayElements: 2147483647,
		MaxMapPairs:      2147483647,
	})
)

func mustEncMode(o cbor.EncOptions) cbor.EncMode {
	m, err := o.EncMode()
	if err != nil {
		panic("session: cbor enc options: " + err.Error())
	}
	return m
}

func mustDecMode(o cbor.DecOptions) cbor.DecMode {
	m, err := o.DecMode()
	if err != nil {
		panic("session: cbor dec options: " + err.Error())
	}
	return m
}

// Encode returns the CBOR encoding Set stores for v. Errors wrap
// ErrUnencodable.
func Encode(v any) ([]byte, error) {
	if err := checkValue(v); err != nil {
		return nil, err
	}
	b, err := encMode.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUnencodable, err)
	}
	return b, nil
}

// Decode decodes one stored attribute value the way Get does.
func Decode(b []byte) (any, error) {
	var v any
	err := decMode.Unmarshal(b, &v)
	if err == nil {
		return v, nil
	}
	if te := (*cbor.UnmarshalTypeError)(nil); errors.As(err, &te) {
		v = nil
		if looseMode.Unmarshal(b, &v) == nil {
			return v, nil
		}
	}
	return nil, err
}

// DecodeInto decodes one stored attribute value into *dst, as GetAs does.
func DecodeInto(b []byte, dst any) error {
	return decMode.Unmarshal(b, dst)
}

// WellFormed reports whether b is exactly one well-formed CBOR data item
// (what SetRaw accepts); stores check the bytes they read back with it.
func WellFormed(b []byte) error { return wellFormed(b) }

// wellFormed reports whether b is exactly one well-formed CBOR data item.
func wellFormed(b []byte) error {
	if err := decMode.Wellformed(b); err != nil {
		return fmt.Errorf("%w: %w", ErrUnencodable, err)
	}
	return nil
}

// checkValue rejects values that would make the encoder recurse forever.
func checkValue(v any) error {
	switch v.(type) {
	case nil, string, []byte, bool, int, int8, int16, int32, int64,
		uint, uint8, uint16, uint32, uint64, float32, float64,
		time.Time, time.Duration:
		return nil
	}
	rv := reflect.ValueOf(v)
	if !mayNest(rv.Type()) {
		return nil
	}
	return walk(rv, 0)
}

func walk(v reflect.Value, depth int) error {
	if depth > maxDepth {
		return fmt.Errorf("%w: nested deeper than %d levels (cyclic?)", ErrUnencodable, maxDepth)
	}
	if !mayNest(v.Type()) {
		return nil
	}
	switch v.Kind() {
	case reflect.Interface, reflect.Pointer:
		if v.IsNil() {
			return nil
		}
		return walk(v.Elem(), depth+1)
	case reflect.Slice, reflect.Array:
		for i := range v.Len() {
			if err := walk(v.Index(i), depth+1); err != nil {
				return err
			}
		}
	case reflect.Map:
		it := v.MapRange()
		for it.Next() {
			if err := walk(it.Key(), depth+1); err != nil {
				return err
			}
			if err := walk(it.Value(), depth+1); err != nil {
				return err
			}
		}
	case reflect.Struct:
		t := v.Type()
		for i := range t.NumField() {
			if encodedField(t.Field(i)) {
				if err := walk(v.Field(i), depth+1); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// encodedField reports whether the CBOR encoder may look at the field.
func encodedField(f reflect.StructField) bool {
	if !f.IsExported() && !f.Anonymous {
		return false
	}
	tag, ok := f.Tag.Lookup("cbor")
	if !ok {
		tag = f.Tag.Get("json")
	}
	return tag != "-"
}

var nestCache sync.Map // reflect.Type → bool

// mayNest reports whether values of t can nest without a bound the type
// itself sets: t reaches an interface or itself.
func mayNest(t reflect.Type) bool {
	if v, ok := nestCache.Load(t); ok {
		return v.(bool)
	}
	r := typeMayNest(t, map[reflect.Type]bool{})
	nestCache.Store(t, r)
	return r
}

var (
	typeMarshaler       = reflect.TypeFor[cbor.Marshaler]()
	typeBinaryMarshaler = reflect.TypeFor[encoding.BinaryMarshaler]()
	typeBigInt          = reflect.TypeFor[big.Int]()
)

func typeMayNest(t reflect.Type, onPath map[reflect.Type]bool) bool {
	if t.Implements(typeMarshaler) || t.Implements(typeBinaryMarshaler) || t == typeBigInt {
		return false // encoded by its own method; the encoder does not descend
	}
	if onPath[t] {
		return true // recursive type
	}
	onPath[t] = true
	defer delete(onPath, t)
	switch t.Kind() {
	case reflect.Interface:
		return true
	case reflect.Pointer, reflect.Slice, reflect.Array:
		return typeMayNest(t.Elem(), onPath)
	case reflect.Map:
		return typeMayNest(t.Key(), onPath) || typeMayNest(t.Elem(), onPath)
	case reflect.Struct:
		for i := range t.NumField() {
			if f := t.Field(i); encodedField(f) && typeMayNest(f.Type, onPath) {
				return true
			}
		}
	}
	return false
}
