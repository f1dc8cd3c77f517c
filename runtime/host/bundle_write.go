package host

import (
	"archive/zip"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// CreateBundle writes a bundle of dir's files with manifest m to w. The
// manifest is written first; a META-INF/app.xml inside dir is replaced by m.
// Entries are in lexical order. Symbolic links and special files in dir are
// refused, as OpenBundle would refuse them.
func CreateBundle(w io.Writer, dir string, m Manifest) error {
	if err := m.Validate(); err != nil {
		return err
	}
	fi, err := os.Stat(dir)
	if err != nil {
		return err
	}
	if !fi.IsDir() {
		return fmt.Errorf("bundle create: %s is not a directory", dir)
	}
	zw := zip.NewWriter(w)
	mw, err := zw.CreateHeader(&zip.FileHeader{Name: ManifestName, Method: zip.Deflate, Modified: fi.ModTime()})
	if err != nil {
		return err
	}
	if _, err := mw.Write(m.Marshal()); err != nil {
		return err
	}
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil || rel == "." {
			return err
		}
		name := filepath.ToSlash(rel)
		if strings.EqualFold(name, ManifestName) || strings.EqualFold(name, "META-INF") {
			return nil
		}
		if _, _, why := checkEntryName(name); why != "" {
			return fmt.Errorf("bundle create: %s: %s", p, why)
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		switch {
		case info.Mode()&fs.ModeSymlink != 0:
			return fmt.Errorf("bundle create: %s is a symbolic link; bundles hold regular files only", p)
		case info.IsDir():
			_, err := zw.CreateHeader(&zip.FileHeader{Name: name + "/", Modified: info.ModTime()})
			return err
		case !info.Mode().IsRegular():
			return fmt.Errorf("bundle create: %s is not a regular file", p)
		}
		hdr, err := zip.FileInfoHeader(info)
		if err != nil {
			return err
		}
		hdr.Name, hdr.Method = name, zip.Deflate
		hdr.SetMode(0o644)
		fw, err := zw.CreateHeader(hdr)
		if err != nil {
			return err
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		_, err = io.Copy(fw, f)
		return err
	})
	if err != nil {
		return err
	}
	return zw.Close()
}

// WriteBundleFile creates file (atomically: temp file then rename) holding
// a bundle of dir with manifest m.
func WriteBundleFile(file, dir string, m Manifest) error {
	tmp, err := os.CreateTemp(filepath.Dir(file), ".bundle-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := CreateBundle(tmp, dir, m); err != nil {
		tmp.Close()
		return err
	}
	// CreateTemp makes the file private; a bundle is for other nodes and
	// other users (the operator who deploys it) to read.
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), file)
}
