package bench

import "errors"

var (
	// ErrConfig wraps every invalid setting of a Config.
	ErrConfig = errors.New("bench: invalid configuration")
	// ErrNoStandaloneInit is returned by the default InitHome for a
	// standalone home: "gomcat init" has no flag for it; the command line
	// passes its own InitHome.
	ErrNoStandaloneInit = errors.New("bench: cannot create a standalone home without ReplicationConfig.InitHome")
	// ErrNodeStart means a node the bench launched did not start.
	ErrNodeStart = errors.New("bench: node did not start")
)
