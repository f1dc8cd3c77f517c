package farmdeploy

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// bundleMode is the mode of bundles in DeployDir: temporary files start
// private (0600) and are opened up once complete.
const bundleMode = 0o644

// hashFile returns the size and SHA-256 of the file at path.
func hashFile(path string) (int64, []byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, nil, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return 0, nil, fmt.Errorf("hash %s: %w", path, err)
	}
	return n, h.Sum(nil), nil
}

// copyInto copies src into dir/name through a temporary file and a rename,
// so readers of dir never see a half-written bundle.
func copyInto(src, dir, name string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	tmp, err := os.CreateTemp(dir, "."+name+".*.part")
	if err != nil {
		return err
	}
	if _, err := io.Copy(tmp, in); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return fmt.Errorf("copy %s: %w", src, err)
	}
	if err := tmp.Chmod(bundleMode); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return os.Rename(tmp.Name(), filepath.Join(dir, name))
}

// moveInto moves src into dir/name atomically, copying when src lies on
// another file system.
func moveInto(src, dir, name string) error {
	if err := os.Chmod(src, bundleMode); err != nil {
		return err
	}
	err := os.Rename(src, filepath.Join(dir, name))
	if err == nil {
		return nil
	}
	var le *os.LinkError
	if !errors.As(err, &le) {
		return err
	}
	if err := copyInto(src, dir, name); err != nil {
		return err
	}
	return os.Remove(src)
}
