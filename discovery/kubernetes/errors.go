package kubernetes

import "errors"

var (
	// ErrBackoff is wrapped by Targets while the provider waits after a
	// failure before asking the API again.
	ErrBackoff = errors.New("kubernetes: backing off after a failure")
	// ErrForbidden is wrapped when the API answers 403: the service account
	// may not list pods in the namespace (see deploy/kubernetes for the Role).
	ErrForbidden = errors.New("kubernetes: forbidden")
	// ErrTooLarge is wrapped when the API's answer exceeds Config.MaxBody.
	ErrTooLarge = errors.New("kubernetes: answer too large")
)
