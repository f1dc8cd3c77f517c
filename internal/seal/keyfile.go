package seal

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"strings"
)

// Key file: text, one hex key per line (16, 24 or 32 bytes: 32, 48 or 64
// hex digits); blank lines and lines starting with '#' are comments. The
// first key seals, every key opens. At most MaxFileKeys keys and
// MaxKeyFileSize bytes. LoadKeyFile refuses a file that group or others
// may read or write (like ssh): `gomcat keygen` writes mode 0600.
const (
	MaxFileKeys    = 16
	MaxKeyFileSize = 16 << 10
)

// ParseKeyFile decodes the keys of a key file. Errors name the line.
func ParseKeyFile(b []byte) ([][]byte, error) {
	if len(b) > MaxKeyFileSize {
		return nil, fmt.Errorf("%w: key file is %d bytes, at most %d", ErrKeyFile, len(b), MaxKeyFileSize)
	}
	var keys [][]byte
	seen := make(map[KeyID]int)
	for i, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' {
			continue
		}
		k, err := ParseKey(line)
		if err != nil {
			return nil, fmt.Errorf("%w: line %d: %w", ErrKeyFile, i+1, err)
		}
		id := ID(k)
		if at, dup := seen[id]; dup {
			return nil, fmt.Errorf("%w: line %d: the key of line %d again", ErrKeyFile, i+1, at)
		}
		seen[id] = i + 1
		if keys = append(keys, k); len(keys) > MaxFileKeys {
			return nil, fmt.Errorf("%w: more than %d keys", ErrKeyFile, MaxFileKeys)
		}
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("%w: no key in the file", ErrKeyFile)
	}
	return keys, nil
}

// LoadKeyFile reads and parses path, refusing a file whose permissions
// let group or others read or write it.
func LoadKeyFile(path string) ([][]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrKeyFile, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrKeyFile, err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%w: %s is not a regular file", ErrKeyFile, path)
	}
	if m := fi.Mode().Perm(); m&0o077 != 0 {
		return nil, fmt.Errorf("%w: %s has mode %04o: group and others must have no access (chmod 600 %s)", ErrKeyFile, path, m, path)
	}
	b, err := io.ReadAll(io.LimitReader(f, MaxKeyFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrKeyFile, err)
	}
	keys, err := ParseKeyFile(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return keys, nil
}

// NewKey returns a random 32-byte cluster key.
func NewKey() []byte {
	k := make([]byte, 32)
	_, _ = rand.Read(k) // never fails (crypto/rand crashes the program instead)
	return k
}

// FormatKeyFile returns the text of a key file holding keys, the sealing
// key first, each line annotated with its id.
func FormatKeyFile(keys ...[]byte) []byte {
	var b bytes.Buffer
	b.WriteString("# gomcat cluster key file: one hex key per line; the first seals, all open.\n")
	b.WriteString("# Give every node the same file (mode 0600). Rotation: README, \"Cluster keys\".\n")
	for _, k := range keys {
		fmt.Fprintf(&b, "# key id %s\n%s\n", ID(k), hex.EncodeToString(k))
	}
	return b.Bytes()
}
