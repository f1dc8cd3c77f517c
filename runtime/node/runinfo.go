package node

import (
	"encoding/json"
	"errors"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/gomcat/gomcat/conf"
)

// RunInfoFile is the name of the file, beside the pid file in the home's
// logs directory, where a started node publishes its effective settings
// (after environment and flag overrides) for the CLI: `gomcat deploy`
// reads the farm directories from it, `gomcat members --home` the group.
// Written after "Server startup", removed at a clean stop. It never holds
// the cluster key.
const RunInfoFile = "gomcat.json"

// RunInfo is the content of RunInfoFile.
type RunInfo struct {
	PID      int      `json:"pid"`
	Home     string   `json:"home"`
	JvmRoute string   `json:"jvmRoute"`
	URLs     []string `json:"urls"`
	// Ports are the sockets the node listens on, "Element host:port"
	// ("Connector 127.0.0.1:8091", "Server 127.0.0.1:8005" for the
	// shutdown port, "Receiver 127.0.0.1:4001").
	Ports   []string  `json:"ports,omitempty"`
	Started time.Time `json:"started"`
	// Membership is the multicast group; nil without a cluster or with a
	// static membership.
	Membership *RunMembership `json:"membership,omitempty"`
	// Farm is the farm deployer's directories; nil without a <Deployer>.
	Farm *RunFarm `json:"farm,omitempty"`
	// Admin is the admin listener's URL ("http://127.0.0.1:9080"), ""
	// without one; AdminTokenFile the file holding its token, if any.
	Admin          string `json:"admin,omitempty"`
	AdminTokenFile string `json:"adminTokenFile,omitempty"`
}

// RunMembership is the group a node heartbeats on.
type RunMembership struct {
	Address string `json:"address"`
	Port    int    `json:"port"`
	Bind    string `json:"bind"`
	Domain  string `json:"domain"`
	Sealed  bool   `json:"sealed"` // a cluster key is set (the key is not published)
}

// RunFarm is the farm deployer's effective settings (absolute directories).
type RunFarm struct {
	TempDir      string `json:"tempDir"`
	DeployDir    string `json:"deployDir"`
	WatchDir     string `json:"watchDir"`
	WatchEnabled bool   `json:"watchEnabled"`
}

// ReadRunInfo reads home's RunInfoFile. A missing file (the node is not
// running, or has not finished starting) is fs.ErrNotExist.
func ReadRunInfo(home string) (RunInfo, error) {
	var ri RunInfo
	b, err := os.ReadFile(filepath.Join(home, "logs", RunInfoFile))
	if err != nil {
		return ri, err
	}
	return ri, json.Unmarshal(b, &ri)
}

// runInfo describes this node.
func (n *Node) runInfo() RunInfo {
	s := n.cfg.Server
	ri := RunInfo{PID: os.Getpid(), Home: n.cfg.Home, JvmRoute: s.Engine().JvmRoute, URLs: n.URLs(), Ports: n.boundPorts(), Started: time.Now()}
	if ri.Admin = n.AdminURL(); ri.Admin != "" && s.Admin.TokenFile != "" {
		ri.AdminTokenFile = n.abs(s.Admin.TokenFile)
	}
	if cl := s.Cluster(); cl != nil {
		if cl.Membership.ClassName == conf.McastService {
			m := cl.Membership
			ri.Membership = &RunMembership{Address: m.Address, Port: m.Port, Bind: m.Bind, Domain: m.Domain, Sealed: len(cl.Key) > 0}
		}
		if cl.Deployer != nil && n.clus != nil {
			fc := farmConfig(cl, n.clus.farmAppBase, n.abs, n.log)
			ri.Farm = &RunFarm{TempDir: fc.TempDir, DeployDir: fc.DeployDir, WatchDir: fc.WatchDir, WatchEnabled: fc.WatchEnabled}
		}
	}
	return ri
}

func (n *Node) runInfoPath() string { return filepath.Join(n.cfg.Home, "logs", RunInfoFile) }

// writeRunInfo publishes the run info (atomically).
func (n *Node) writeRunInfo() {
	b, err := json.MarshalIndent(n.runInfo(), "", "  ")
	if err == nil {
		tmp := n.runInfoPath() + ".tmp"
		if err = os.WriteFile(tmp, append(b, '\n'), 0o644); err == nil {
			err = os.Rename(tmp, n.runInfoPath())
		}
	}
	if err != nil {
		n.log.Warn().Err(err).Str("file", n.runInfoPath()).Msg("cannot write the run info file")
	}
}

// removeRunInfo removes the run info if it is still this process's.
func (n *Node) removeRunInfo() {
	ri, err := ReadRunInfo(n.cfg.Home)
	if errors.Is(err, fs.ErrNotExist) || err == nil && ri.PID != os.Getpid() {
		return
	}
	_ = os.Remove(n.runInfoPath())
}

// boundPorts lists the sockets this node listens on (RunInfo.Ports).
func (n *Node) boundPorts() []string {
	var out []string
	for _, c := range n.conns {
		if a := c.Addr(); a != nil {
			out = append(out, "Connector "+a.String())
		}
	}
	for _, c := range n.ajps {
		if a := c.Addr(); a != nil {
			out = append(out, "Connector (AJP) "+a.String())
		}
	}
	if a := n.ShutdownAddr(); a != nil {
		out = append(out, "Server "+a.String())
	}
	if cl := n.Cluster(); cl != nil {
		if l := cl.Local(); l.Port > 0 {
			out = append(out, "Receiver "+l.Addr())
		}
	}
	return out
}

// heldPorts is what the node of pid, which holds this home, listens on:
// its run info when it has published it, else this home's configuration.
func (n *Node) heldPorts(pid int) []string {
	if ri, err := ReadRunInfo(n.cfg.Home); err == nil && ri.PID == pid && len(ri.Ports) > 0 {
		return ri.Ports
	}
	s := n.cfg.Server
	var out []string
	for _, c := range s.Service().Connectors {
		out = append(out, "Connector "+net.JoinHostPort(c.Address, strconv.Itoa(c.Port)))
	}
	if s.Port != -1 {
		out = append(out, "Server "+net.JoinHostPort("127.0.0.1", strconv.Itoa(s.Port)))
	}
	if cl := s.Cluster(); cl != nil {
		out = append(out, "Receiver "+net.JoinHostPort(cl.Receiver.Address, strconv.Itoa(cl.Receiver.Port)))
	}
	for i := range out {
		out[i] += " (configured)"
	}
	return out
}
