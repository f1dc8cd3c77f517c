package conf

// Service returns the server's Service (Gomcat runs one), or nil.
func (s *Server) Service() *Service {
	if len(s.Services) == 0 {
		return nil
	}
	return s.Services[0]
}

// Engine returns the Engine of the server's Service, or nil.
func (s *Server) Engine() *Engine {
	if svc := s.Service(); svc != nil {
		return svc.Engine
	}
	return nil
}

// Connector returns the primary HTTP connector (the first one written), or
// nil. It is the one HTTP overrides change and heartbeats advertise.
func (s *Server) Connector() *Connector {
	if svc := s.Service(); svc != nil && len(svc.Connectors) > 0 {
		return svc.Connectors[0]
	}
	return nil
}

// Cluster returns the effective cluster: the Engine's, else the first
// Host's that has one; nil when the node runs without a cluster.
func (s *Server) Cluster() *Cluster {
	c, _ := s.cluster()
	return c
}

// ClusterHost returns the Host the cluster serves for farm deployment: the
// Host holding the <Cluster>, or the Engine's defaultHost when the Cluster
// sits in the Engine. nil without a cluster.
func (s *Server) ClusterHost() *Host {
	_, h := s.cluster()
	return h
}

func (s *Server) cluster() (*Cluster, *Host) {
	e := s.Engine()
	if e == nil {
		return nil, nil
	}
	if e.Cluster != nil {
		return e.Cluster, e.Host(e.DefaultHost)
	}
	for _, h := range e.Hosts {
		if h.Cluster != nil {
			return h.Cluster, h
		}
	}
	return nil, nil
}

// Host returns the Host called name (case-insensitive, like host names), or nil.
func (e *Engine) Host(name string) *Host {
	for _, h := range e.Hosts {
		if equalFoldASCII(h.Name, name) {
			return h
		}
	}
	return nil
}

// Context returns the context with path p ("/" for ROOT), or nil.
func (h *Host) Context(p string) *Context {
	for _, c := range h.Contexts {
		if c.Path == p {
			return c
		}
	}
	return nil
}

func equalFoldASCII(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}
