package cli

import (
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	ucli "github.com/urfave/cli/v2"

	"github.com/gomcat/gomcat/conf"
)

func initCommand() *ucli.Command {
	return &ucli.Command{
		Name:  "init",
		Usage: "create a node home: conf/server.xml (Tomcat's shape, cluster on loopback), the example app at /, webapps/, logs/, work/, temp/",
		Flags: append([]ucli.Flag{
			homeFlag(),
			&ucli.BoolFlag{Name: "force", Usage: "overwrite the files of an existing home"},
		}, overrideFlags()...),
		Action: func(c *ucli.Context) error {
			dir, err := home(c)
			if err != nil {
				return err
			}
			p, err := templateParams(c)
			if err != nil {
				return err
			}
			if err := initHome(dir, p, c.Bool("force")); err != nil {
				return err
			}
			fmt.Fprintf(c.App.Writer, "created node home %s (jvmRoute %s, HTTP port %d, shutdown port %d)\nnext: gomcat configtest --home %s && gomcat run --home %s\n",
				dir, p.JvmRoute, p.HTTPPort, p.ShutdownPort, dir, dir)
			return nil
		},
	}
}

// templateParams are the defaults with the GOMCAT_* environment, then the
// given flags applied.
func templateParams(c *ucli.Context) (conf.TemplateParams, error) {
	p := conf.DefaultTemplateParams()
	env, err := conf.OverridesFromEnv(os.Getenv)
	if err != nil {
		return p, err
	}
	applyEnvParams(&p, env)
	if c.IsSet("jvm-route") {
		p.JvmRoute = c.String("jvm-route")
		if !conf.ValidRoute(p.JvmRoute) {
			return p, fmt.Errorf("--jvm-route %q: letters, digits, '_' and '-' only", p.JvmRoute)
		}
	}
	ints := map[string]*int{"http-port": &p.HTTPPort, "shutdown-port": &p.ShutdownPort, "receiver-port": &p.ReceiverPort, "mcast-port": &p.McastPort, "mcast-ttl": &p.McastTTL}
	for name, dst := range ints {
		if c.IsSet(name) {
			*dst = c.Int(name)
		}
	}
	strs := map[string]*string{"mcast-address": &p.McastAddress, "mcast-bind": &p.McastBind, "domain": &p.Domain, "cluster-key": &p.ClusterKey, "cluster-key-file": &p.KeyFile, "advertise": &p.Advertise}
	for name, dst := range strs {
		if c.IsSet(name) {
			*dst = c.String(name)
		}
	}
	if p.ClusterKey != "" {
		if _, err := conf.ParseKey(p.ClusterKey); err != nil {
			return p, fmt.Errorf("--cluster-key: %w", err)
		}
	}
	if c.IsSet("farm-watch") {
		p.FarmWatch = c.Bool("farm-watch")
	}
	if c.IsSet("admin") {
		if err := setAdminParams(&p, c.String("admin")); err != nil {
			return p, fmt.Errorf("--admin: %w", err)
		}
	}
	if c.IsSet("insecure-cluster") {
		p.Insecure = c.Bool("insecure-cluster")
	}
	if p.ClusterKey != "" && p.KeyFile != "" {
		return p, errors.New("--cluster-key and --cluster-key-file exclude each other: give the key once")
	}
	if c.IsSet("http-address") {
		return p, errors.New("--http-address is not a template setting; edit the Connector's address in conf/server.xml or pass it to gomcat run")
	}
	return p, nil
}

// initHome writes the home's files and directories. An existing, non-empty
// home is refused unless force.
func initHome(dir string, p conf.TemplateParams, force bool) error {
	if entries, err := os.ReadDir(dir); err == nil && len(entries) > 0 && !force {
		return fmt.Errorf("%s already exists and is not empty; pass --force to overwrite its configuration", dir)
	}
	files, err := conf.InitFiles(p)
	if err != nil {
		return err
	}
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		f := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(f), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(f, files[name], 0o600); err != nil {
			return err
		}
	}
	dirs := []string{"conf/Catalina/localhost", "webapps", "logs", "work", "temp"}
	// The farm directories the written configuration names.
	if s, _, err := conf.Load(dir); err == nil {
		if h := s.ClusterHost(); h != nil && h.AppBase != "" {
			dirs = append(dirs, h.AppBase)
		}
		if cl := s.Cluster(); cl != nil && cl.Deployer != nil {
			for _, d := range []string{cl.Deployer.TempDir, cl.Deployer.DeployDir, cl.Deployer.WatchDir} {
				if d != "" {
					dirs = append(dirs, d)
				}
			}
		}
	}
	for _, d := range dirs {
		if !filepath.IsAbs(d) {
			d = filepath.Join(dir, filepath.FromSlash(d))
		}
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	return nil
}

// applyEnvParams fills the template parameters the environment sets.
func applyEnvParams(p *conf.TemplateParams, o conf.Overrides) {
	setS := func(dst *string, v *string) {
		if v != nil {
			*dst = *v
		}
	}
	setI := func(dst *int, v *int) {
		if v != nil {
			*dst = *v
		}
	}
	setS(&p.JvmRoute, o.JvmRoute)
	if o.Admin != nil {
		_ = setAdminParams(p, *o.Admin) // checked by OverridesFromEnv
	}
	setI(&p.HTTPPort, o.HTTPPort)
	setI(&p.ShutdownPort, o.ShutdownPort)
	setI(&p.ReceiverPort, o.ReceiverPort)
	setS(&p.McastAddress, o.McastAddress)
	setI(&p.McastPort, o.McastPort)
	setS(&p.McastBind, o.McastBind)
	setI(&p.McastTTL, o.McastTTL)
	setS(&p.Domain, o.Domain)
	setS(&p.Advertise, o.Advertise)
	if o.ClusterKey != nil {
		p.ClusterKey = hex.EncodeToString(o.ClusterKey)
	}
	if o.FarmWatch != nil {
		p.FarmWatch = *o.FarmWatch
	}
	if o.ClusterKeyFile != nil {
		p.KeyFile = *o.ClusterKeyFile
	}
	if o.InsecureCluster != nil {
		p.Insecure = *o.InsecureCluster
	}
}
