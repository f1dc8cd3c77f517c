package farmdeploy

import (
	"path/filepath"
	"strings"
)

// bundleExt is the bundle file extension, matched case-insensitively.
const bundleExt = ".gar"

// validName reports whether name is a plain bundle file name: no directory,
// no leading dot, ending in .gar.
func validName(name string) bool {
	if name == "" || len(name) > 255 || name != filepath.Base(name) {
		return false
	}
	if strings.HasPrefix(name, ".") || strings.ContainsAny(name, `/\`+"\x00") {
		return false
	}
	return strings.HasSuffix(strings.ToLower(name), bundleExt) && len(name) > len(bundleExt)
}
