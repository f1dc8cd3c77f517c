package proc

import "errors"

// ErrUnsupported: the operation does not exist on this OS (Terminate on
// Windows).
var ErrUnsupported = errors.New("proc: not supported on this OS")
