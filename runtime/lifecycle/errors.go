package lifecycle

import "errors"

// ErrStarted is returned by Start on a Group that has already been started.
var ErrStarted = errors.New("lifecycle: already started")
