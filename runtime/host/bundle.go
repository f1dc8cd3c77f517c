package host

import (
	"archive/zip"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// BundleExt is the file extension of bundles in appBase.
const BundleExt = ".gar"

// Bundle is a checked bundle (.gar): a zip archive with META-INF/app.xml
// and static files. OpenBundle and ReadBundle check every entry before
// returning one; Unpack checks again while writing (actual sizes, CRCs).
type Bundle struct {
	File     string   // path it was opened from ("" for ReadBundle)
	Manifest Manifest // decoded META-INF/app.xml
	SHA256   string   // hex digest of the whole archive
	Size     int64    // archive bytes
	Files    int      // regular file entries, manifest included
	Bytes    int64    // declared uncompressed bytes of all files
	Warnings []string // harmless oddities (unknown manifest attributes)

	lim    BundleLimits
	zr     *zip.Reader
	closer io.Closer
}

// OpenBundle opens and checks a bundle file. Close it when done.
func OpenBundle(file string, lim BundleLimits) (*Bundle, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		return nil, &BundleError{File: file, Msg: "not a regular file", Err: ErrNotBundle}
	}
	b, err := readBundle(f, fi.Size(), lim, file)
	if err != nil {
		f.Close()
		return nil, err
	}
	b.closer = f
	return b, nil
}

// ReadBundle checks a bundle held in r (size bytes). Close is a no-op.
func ReadBundle(r io.ReaderAt, size int64, lim BundleLimits) (*Bundle, error) {
	return readBundle(r, size, lim, "")
}

// Close releases the bundle's file.
func (b *Bundle) Close() error {
	if b.closer == nil {
		return nil
	}
	return b.closer.Close()
}

func readBundle(r io.ReaderAt, size int64, lim BundleLimits, file string) (*Bundle, error) {
	lim = lim.orDefault()
	bad := func(entry, msg string, sentinel error) error {
		return &BundleError{File: file, Entry: entry, Msg: msg, Err: sentinel}
	}
	if size > lim.MaxArchiveBytes {
		return nil, bad("", fmt.Sprintf("archive is %d bytes, more than the limit of %d", size, lim.MaxArchiveBytes), ErrBundleTooLarge)
	}
	zr, err := zip.NewReader(r, size)
	if err != nil && !errors.Is(err, zip.ErrInsecurePath) {
		return nil, bad("", "not a zip archive: "+err.Error(), ErrNotBundle)
	}
	if len(zr.File) > lim.MaxEntries {
		return nil, bad("", fmt.Sprintf("%d entries, more than the limit of %d", len(zr.File), lim.MaxEntries), ErrBundleTooLarge)
	}
	b := &Bundle{File: file, Size: size, lim: lim, zr: zr}
	seen := make(map[string]bool, len(zr.File))
	files := make(map[string]bool, len(zr.File))
	var manifest *zip.File
	for _, f := range zr.File {
		name, isDir, why := checkEntryName(f.Name)
		if why != "" {
			return nil, bad(f.Name, why, ErrUnsafeEntry)
		}
		mode := f.Mode()
		switch {
		case mode&fs.ModeSymlink != 0:
			return nil, bad(f.Name, "is a symbolic link (bundles hold regular files and directories only)", ErrUnsafeEntry)
		case mode.IsDir() || isDir:
			if !isDir || !(mode.IsDir() || mode.Type() == 0) {
				return nil, bad(f.Name, "directory entry without a trailing slash, or file entry with one", ErrUnsafeEntry)
			}
		case !mode.IsRegular():
			return nil, bad(f.Name, fmt.Sprintf("is a special file (%v)", mode.Type()), ErrUnsafeEntry)
		}
		key := strings.ToLower(name)
		if seen[key] {
			return nil, bad(f.Name, "appears twice (names are compared ignoring case)", ErrUnsafeEntry)
		}
		seen[key] = true
		if isDir {
			continue
		}
		files[key] = true
		if f.UncompressedSize64 > uint64(lim.MaxEntryBytes) {
			return nil, bad(f.Name, fmt.Sprintf("is %d bytes, more than the limit of %d", f.UncompressedSize64, lim.MaxEntryBytes), ErrBundleTooLarge)
		}
		b.Files++
		b.Bytes += int64(f.UncompressedSize64)
		if b.Bytes > lim.MaxTotalBytes {
			return nil, bad("", fmt.Sprintf("unpacks to more than the limit of %d bytes", lim.MaxTotalBytes), ErrBundleTooLarge)
		}
		if name == ManifestName {
			manifest = f
		}
	}
	// A file may not also be the parent of another entry ("a" and "a/b").
	for _, f := range zr.File {
		name, _, _ := checkEntryName(f.Name)
		for dir := path.Dir(name); dir != "."; dir = path.Dir(dir) {
			if files[strings.ToLower(dir)] {
				return nil, bad(f.Name, fmt.Sprintf("lies under %q, which is a file", dir), ErrUnsafeEntry)
			}
		}
	}
	if manifest == nil {
		return nil, bad("", "has no "+ManifestName+" (create bundles with `gomcat bundle create`)", ErrBadManifest)
	}
	data, err := readEntry(manifest, 64<<10)
	if err != nil {
		return nil, bad(ManifestName, err.Error(), ErrBadManifest)
	}
	m, warns, err := ParseManifest(data)
	if err != nil {
		return nil, &BundleError{File: file, Entry: ManifestName, Msg: strings.TrimPrefix(err.Error(), ErrBadManifest.Error()+": "), Err: ErrBadManifest}
	}
	b.Manifest, b.Warnings = m, warns

	h := sha256.New()
	if _, err := io.Copy(h, io.NewSectionReader(r, 0, size)); err != nil {
		return nil, bad("", "read: "+err.Error(), ErrNotBundle)
	}
	b.SHA256 = hex.EncodeToString(h.Sum(nil))
	return b, nil
}

// checkEntryName returns the entry's clean name (without a trailing slash),
// whether it names a directory, and why it is refused ("" if it is not).
func checkEntryName(n string) (name string, isDir bool, why string) {
	switch {
	case n == "":
		return "", false, "has an empty name"
	case len(n) > 1024:
		return "", false, "has a name longer than 1024 bytes"
	case strings.ContainsRune(n, 0):
		return "", false, "has a NUL byte in its name"
	case strings.Contains(n, "\\"):
		return "", false, "uses a backslash in its name (zip names use /)"
	case strings.HasPrefix(n, "/"), len(n) >= 2 && n[1] == ':':
		return "", false, "is an absolute path"
	}
	isDir = strings.HasSuffix(n, "/")
	name = strings.TrimSuffix(n, "/")
	for _, seg := range strings.Split(name, "/") {
		switch seg {
		case "..":
			return "", false, "escapes the target directory (\"..\")"
		case "", ".":
			return "", false, "has an empty or \".\" path segment"
		}
	}
	return name, isDir, ""
}

func readEntry(f *zip.File, limit int64) ([]byte, error) {
	if f.UncompressedSize64 > uint64(limit) {
		return nil, fmt.Errorf("larger than %d bytes", limit)
	}
	rc, err := f.Open()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	data, err := io.ReadAll(io.LimitReader(rc, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("larger than %d bytes", limit)
	}
	return data, nil
}

// Unpack writes the bundle's files into dest, which must not exist. It
// unpacks into a temporary sibling directory and renames it into place, so
// dest either appears complete or not at all. Sizes are enforced on the
// bytes actually read and every entry's CRC is checked.
func (b *Bundle) Unpack(dest string) (err error) {
	parent := filepath.Dir(dest)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return err
	}
	if _, err := os.Lstat(dest); err == nil {
		return fmt.Errorf("unpack %s: %w", dest, fs.ErrExist)
	}
	tmp, err := os.MkdirTemp(parent, ".unpack-*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			os.RemoveAll(tmp)
		}
	}()
	root, err := os.OpenRoot(tmp)
	if err != nil {
		return err
	}
	defer root.Close()
	var total int64
	for _, f := range b.zr.File {
		name, isDir, why := checkEntryName(f.Name)
		if why != "" {
			return &BundleError{File: b.File, Entry: f.Name, Msg: why, Err: ErrUnsafeEntry}
		}
		if isDir {
			if err := root.MkdirAll(name, 0o755); err != nil {
				return err
			}
			continue
		}
		if dir := path.Dir(name); dir != "." {
			if err := root.MkdirAll(dir, 0o755); err != nil {
				return err
			}
		}
		n, err := b.unpackFile(root, f, name)
		if err != nil {
			return err
		}
		total += n
		if total > b.lim.MaxTotalBytes {
			return &BundleError{File: b.File, Msg: fmt.Sprintf("unpacks to more than the limit of %d bytes", b.lim.MaxTotalBytes), Err: ErrBundleTooLarge}
		}
	}
	if err := root.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, dest)
}

func (b *Bundle) unpackFile(root *os.Root, f *zip.File, name string) (int64, error) {
	rc, err := f.Open()
	if err != nil {
		return 0, &BundleError{File: b.File, Entry: f.Name, Msg: err.Error(), Err: ErrNotBundle}
	}
	defer rc.Close()
	out, err := root.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return 0, err
	}
	n, err := io.Copy(out, io.LimitReader(rc, b.lim.MaxEntryBytes+1))
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return n, &BundleError{File: b.File, Entry: f.Name, Msg: "read: " + err.Error(), Err: ErrNotBundle}
	}
	if n > b.lim.MaxEntryBytes || uint64(n) != f.UncompressedSize64 {
		return n, &BundleError{File: b.File, Entry: f.Name, Msg: fmt.Sprintf("holds %d bytes but declares %d (limit %d)", n, f.UncompressedSize64, b.lim.MaxEntryBytes), Err: ErrBundleTooLarge}
	}
	return n, nil
}
