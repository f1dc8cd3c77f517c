package mcast

import "context"

// Observer listens to the group without ever sending: the same events as a
// Service, and Members() that includes foreign (Tomcat) members, marked.
// It serves `gomcat members` and the balancer (which must skip Foreign
// members: they carry no HTTPURL). Safe for concurrent use.
type Observer struct{ s *Service }

// NewObserver validates cfg (Local is ignored) and allocates an Observer.
func NewObserver(cfg Config) (*Observer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	s, err := newService(cfg, true)
	if err != nil {
		return nil, err
	}
	return &Observer{s: s}, nil
}

// Start joins the group and starts listening; it does not wait.
func (o *Observer) Start(ctx context.Context) error { return o.s.Start(ctx) }

// Stop leaves the group, stops the goroutines and closes Events. Idempotent.
func (o *Observer) Stop(ctx context.Context) error { return o.s.Stop(ctx) }

// Events delivers changes of Gomcat members (none for foreign ones).
func (o *Observer) Events() <-chan Event { return o.s.Events() }

// Members returns every live member, foreign ones included, oldest first.
func (o *Observer) Members() []Member { return o.s.Members() }

// Stats returns the counters (Sent stays 0).
func (o *Observer) Stats() Stats { return o.s.Stats() }
