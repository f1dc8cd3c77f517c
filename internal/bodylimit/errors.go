package bodylimit

import "errors"

// ErrTooSlow is returned by a body's Read when a read timed out or the body
// fell below the minimum rate. The connection's read side is then dead: the
// server closes it after the handler.
var ErrTooSlow = errors.New("bodylimit: request body too slow")
