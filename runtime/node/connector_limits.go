package node

import (
	"time"

	"github.com/gomcat/gomcat/conf"
)

// uploadTimeout is the per-read timeout of request bodies: Tomcat's
// connectionTimeout unless disableUploadTimeout="false" asks for
// connectionUploadTimeout. <= 0 in the model means none (-1 for host).
func uploadTimeout(c *conf.Connector) time.Duration {
	d := c.ConnectionTimeout
	if !c.DisableUploadTimeout {
		d = c.ConnectionUploadTimeout
	}
	if d <= 0 {
		return -1
	}
	return d
}

// minUploadRate maps the model's rate (<= 0: none) to host's (-1: none).
func minUploadRate(c *conf.Connector) int64 {
	if c.MinUploadRate <= 0 {
		return -1
	}
	return int64(c.MinUploadRate)
}
