package bodylimit

import (
	"errors"
	"time"
)

// Config bounds the reading of one request body.
type Config struct {
	// ReadTimeout bounds each read of a body (Tomcat connectionUploadTimeout,
	// or connectionTimeout with disableUploadTimeout). 0: none. Default: 20s.
	ReadTimeout time.Duration
	// MinRate is the slowest average rate of a body in bytes/s: a body may
	// take at most MinRateGrace + received/MinRate. 0: none. Default: 240
	// (Kestrel's MinRequestBodyDataRate).
	MinRate int64
	// MinRateGrace is the time a body gets before MinRate applies. Default: 5s.
	MinRateGrace time.Duration
	// Buffer is the largest Content-Length read in full before the handler
	// runs; larger and chunked bodies stream as they come. 0: none. Default: 64 KiB.
	Buffer int
}

// DefaultConfig returns the defaults documented on Config.
func DefaultConfig() Config {
	return Config{ReadTimeout: 20 * time.Second, MinRate: 240, MinRateGrace: 5 * time.Second, Buffer: 64 << 10}
}

// Validate reports negative values.
func (c Config) Validate() error {
	if c.ReadTimeout < 0 || c.MinRate < 0 || c.MinRateGrace < 0 || c.Buffer < 0 {
		return errors.New("bodylimit: timeouts, rate and buffer must not be negative")
	}
	return nil
}
