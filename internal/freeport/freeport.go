// Package freeport picks free loopback TCP ports for launchers and tests
// that must name a port before the process that binds it starts.
package freeport

import (
	"errors"
	"fmt"
	"net"
	"sync"
)

var (
	mu    sync.Mutex
	given = map[int]bool{} // ports handed out by this process
)

// TCP returns a port on 127.0.0.1 that is free now and that this process
// has not handed out before: the kernel may offer a closed probe's port
// again before the process it was picked for has bound it.
func TCP() (int, error) {
	for range 100 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return 0, fmt.Errorf("free port: %w", err)
		}
		port := ln.Addr().(*net.TCPAddr).Port
		ln.Close()
		mu.Lock()
		fresh := !given[port]
		given[port] = true
		mu.Unlock()
		if fresh {
			return port, nil
		}
	}
	return 0, errors.New("free port: the kernel keeps offering ports already handed out")
}
