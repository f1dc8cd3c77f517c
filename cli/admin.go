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

// membershipFlag is start's and configtest's --membership: the Cluster's
// membership becomes a CloudMembershipService of that provider.
func membershipFlag() ucli.Flag {
	return &ucli.StringFlag{Name: "membership", Usage: "find members through a provider instead of server.xml's membership: `dns:NAME`, dns:NAME@IP:PORT (only that DNS server), dns ($DNS_MEMBERSHIP_SERVICE_NAME) or kubernetes (needs a cluster key)"}
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
