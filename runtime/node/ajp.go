package node

import (
	"net"

	"github.com/gomcat/gomcat/conf"
	"github.com/gomcat/gomcat/runtime/host"
)

// newAJPConnectors maps the service's <Connector protocol="AJP/1.3">
// elements; they serve the same Engine (apps, sessions, valves) as the
// HTTP connectors.
func (n *Node) newAJPConnectors(svc *conf.Service, h *host.Engine) ([]*host.AJPConnector, error) {
	var out []*host.AJPConnector
	for _, ac := range svc.AJPConnectors {
		c, err := host.NewAJPConnector(host.AJPConfig{
			Address: ac.Address, Port: ac.Port, Secret: ac.Secret, SecretRequired: ac.SecretRequired,
			AllowedRequestAttributes: ac.AllowedRequestAttributesPattern, PacketSize: ac.PacketSize,
			MaxThreads: ac.MaxThreads, MaxConnections: ac.MaxConnections,
			ConnectionTimeout: ac.ConnectionTimeout, KeepAliveTimeout: ac.KeepAliveTimeout,
			ShutdownGrace: n.cfg.ShutdownGrace, Handler: h, Logger: n.log,
		})
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

// AJPAddrs are the bound addresses of the started AJP connectors.
func (n *Node) AJPAddrs() []net.Addr {
	var out []net.Addr
	for _, c := range n.ajps {
		if a := c.Addr(); a != nil {
			out = append(out, a)
		}
	}
	return out
}

// AJPConnectors returns the node's AJP connectors (for stats).
func (n *Node) AJPConnectors() []*host.AJPConnector { return n.ajps }
