package seal

import (
	"fmt"
	"time"
)

// Config tunes a Sealer. The zero value of a field means its default.
type Config struct {
	// Window is how far a timestamp may lie from now, either way. Default: 10s.
	Window time.Duration
	// ReplayEntries bounds the replay cache (nonces). Default: 8192.
	ReplayEntries int
	// Now is the clock. Default: time.Now.
	Now func() time.Time
}

// DefaultConfig returns Tomcat's replay settings: 10 s, 8192 entries.
func DefaultConfig() Config {
	return Config{Window: 10 * time.Second, ReplayEntries: 8192, Now: time.Now}
}

// Validate reports negative settings.
func (c Config) Validate() error {
	if c.Window < 0 {
		return fmt.Errorf("%w: Window %v < 0", ErrConfig, c.Window)
	}
	if c.ReplayEntries < 0 {
		return fmt.Errorf("%w: ReplayEntries %d < 0", ErrConfig, c.ReplayEntries)
	}
	return nil
}

func (c Config) withDefaults() Config {
	d := DefaultConfig()
	if c.Window == 0 {
		c.Window = d.Window
	}
	if c.ReplayEntries == 0 {
		c.ReplayEntries = d.ReplayEntries
	}
	if c.Now == nil {
		c.Now = d.Now
	}
	return c
}
