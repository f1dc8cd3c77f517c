package cli

import (
	ucli "github.com/urfave/cli/v2"

	"github.com/gomcat/gomcat/conf"
)

// adminFlag is the admin listener's address, one name for nodes (init,
// start, configtest) and the balancer: --admin HOST:PORT, "off" disables.
func adminFlag() ucli.Flag {
	return &ucli.StringFlag{Name: "admin", Usage: "admin listener HOST:PORT (/metrics, /livez, /readyz, status page, /manager/text/...); \"off\" disables; init default: 127.0.0.1:(HTTP port+1000)"}
}

// setAdminParams fills the init template's admin listener from an --admin value.
func setAdminParams(p *conf.TemplateParams, v string) error {
	addr, port, err := conf.ParseAdmin(v)
	if err != nil {
		return err
	}
	p.AdminAddress, p.AdminPort = addr, port
	return nil
}
