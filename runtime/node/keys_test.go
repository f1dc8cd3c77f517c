package node

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"github.com/gomcat/gomcat/conf"
	"github.com/gomcat/gomcat/internal/seal"
)

func TestCheckClusterKey(t *testing.T) {
	const head = `<Server port="-1"><Service name="Catalina"><Engine name="Catalina" defaultHost="localhost" jvmRoute="n1">`
	const tail = `<Host name="localhost" appBase="webapps"/></Engine></Service></Server>`
	mcast := func(clusterAttrs, bind, recv string) string {
		return `<Cluster className="SimpleTcpCluster"` + clusterAttrs + `><Channel className="GroupChannel">` +
			`<Membership className="McastService" address="228.0.0.4" port="45564" bind="` + bind + `"/>` +
			`<Receiver className="NioReceiver" address="` + recv + `" port="4000"/></Channel></Cluster>`
	}
	tests := []struct {
		name, cluster, want string // want: "" passes, else a substring of the error
	}{
		{"no cluster", "", ""},
		{"loopback", mcast("", "127.0.0.1", "auto"), ""},
		{"loopback receiver on 127.0.0.2", mcast("", "127.0.0.1", "127.0.0.2"), ""},
		{"bind off loopback", mcast("", "192.0.2.1", "auto"), "membership bound to 192.0.2.1; receiver address auto"},
		{"receiver on every interface", mcast("", "127.0.0.1", "0.0.0.0"), "receiver on every interface"},
		{"receiver off loopback", mcast("", "127.0.0.1", "192.0.2.1"), "receiver bound to 192.0.2.1"},
		{"bare cluster", `<Cluster className="SimpleTcpCluster"/>`, "membership bound to the default interface"},
		{"key", mcast(` key="000102030405060708090a0b0c0d0e0f"`, "192.0.2.1", "auto"), ""},
		{"key file", mcast(` keyFile="conf/cluster.key"`, "192.0.2.1", "auto"), ""},
		{"insecure", mcast(` insecure="true"`, "192.0.2.1", "auto"), ""},
		{"static off loopback", `<Cluster className="SimpleTcpCluster"><Channel className="GroupChannel">` +
			`<Membership className="StaticMembershipService"><Member host="192.0.2.7" port="4000"/></Membership>` +
			`<Receiver className="NioReceiver" address="127.0.0.1" port="4000"/></Channel></Cluster>`, "static member 192.0.2.7"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _, err := conf.Parse("server.xml", []byte(head+tt.cluster+tail))
			if err != nil {
				t.Fatal(err)
			}
			err = CheckClusterKey(s)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if !errors.Is(err, ErrNoClusterKey) || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "gomcat keygen") {
				t.Fatalf("got %v, want ErrNoClusterKey naming %q and gomcat keygen", err, tt.want)
			}
		})
	}
}

// The watcher swaps the ring's keys when the file changes and keeps them
// when the new file is unusable.
func TestKeyWatcherReload(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "cluster.key")
	old, nu := seal.NewKey(), seal.NewKey()
	write := func(b []byte, mode os.FileMode) {
		t.Helper()
		if err := os.WriteFile(path, b, mode); err != nil {
			t.Fatal(err)
		}
		os.Chmod(path, mode)
	}
	write(seal.FormatKeyFile(old), 0o600)
	ring, err := clusterKeys(&conf.Cluster{KeyFile: path}, func(p string) string { return p })
	if err != nil {
		t.Fatal(err)
	}
	w := newKeyWatcher(path, ring, zerolog.New(zerolog.NewTestWriter(t)))
	w.reload(false)
	if ids := ring.IDs(); len(ids) != 1 || ids[0] != seal.ID(old) {
		t.Fatalf("unchanged file: %v", ids)
	}
	write(seal.FormatKeyFile(old, nu), 0o600)
	w.reload(false)
	if ids := ring.IDs(); len(ids) != 2 || ring.SendID() != seal.ID(old) {
		t.Fatalf("after adding a key: %v", ids)
	}
	write(seal.FormatKeyFile(nu, old), 0o600)
	w.reload(false)
	if ring.SendID() != seal.ID(nu) {
		t.Fatalf("after promoting: seals with %v", ring.SendID())
	}
	write([]byte("not a key\n"), 0o600)
	w.reload(false)
	if ring.SendID() != seal.ID(nu) || len(ring.IDs()) != 2 {
		t.Fatalf("a broken file changed the keys: %v", ring.IDs())
	}
	write(seal.FormatKeyFile(nu), 0o644)
	w.reload(true)
	if len(ring.IDs()) != 2 {
		t.Fatalf("a world-readable file was loaded: %v", ring.IDs())
	}
	write(seal.FormatKeyFile(nu), 0o600)
	w.reload(true)
	if ids := ring.IDs(); len(ids) != 1 || ids[0] != seal.ID(nu) {
		t.Fatalf("after retiring: %v", ids)
	}
}
