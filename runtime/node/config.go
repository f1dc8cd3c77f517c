package node

import (
	"errors"
	"time"

	"github.com/rs/zerolog"

	"github.com/gomcat/gomcat/conf"
)

// Config configures a Node. Pass by value.
type Config struct {
	// Server is the loaded model with environment and flag overrides
	// already applied and validated (conf.Load, Apply, Validate). Required.
	Server *conf.Server
	// Home is the node's home; relative paths of the model resolve against
	// it. Default: Server.Home.
	Home string
	// ShutdownGrace bounds how long Stop lets in-flight HTTP requests
	// finish before closing their connections. Default: 30s.
	ShutdownGrace time.Duration
	// ShutdownReadTimeout bounds reading the command on the shutdown port.
	// Default: 10s.
	ShutdownReadTimeout time.Duration
	// OwnsProcess says the process exits when Run returns (gomcat run): a
	// `gomcat stop` waiting on the shutdown port is then released by the
	// process exit rather than by the end of Stop, so it returns once the
	// process is gone. Default: false (the node is embedded; Stop's end
	// answers "stopped").
	OwnsProcess bool
	// Logger. Default: zerolog.Nop().
	Logger zerolog.Logger
}

// DefaultConfig returns the defaults (Server still to be set).
func DefaultConfig() Config {
	return Config{ShutdownGrace: 30 * time.Second, ShutdownReadTimeout: 10 * time.Second, Logger: zerolog.Nop()}
}

// Validate checks the config.
func (c Config) Validate() error {
	if c.Server == nil {
		return errors.New("node: Config.Server is required")
	}
	if c.Server.Engine() == nil {
		return ErrNoEngine
	}
	if c.Home == "" && c.Server.Home == "" {
		return errors.New("node: Config.Home is required")
	}
	return nil
}

func (c *Config) fill() {
	d := DefaultConfig()
	if c.ShutdownGrace <= 0 {
		c.ShutdownGrace = d.ShutdownGrace
	}
	if c.ShutdownReadTimeout <= 0 {
		c.ShutdownReadTimeout = d.ShutdownReadTimeout
	}
	if c.Home == "" && c.Server != nil {
		c.Home = c.Server.Home
	}
}
