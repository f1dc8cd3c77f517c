package logfile

import "errors"

// ErrClosed: Write or Reopen after Close.
var ErrClosed = errors.New("logfile: closed")
