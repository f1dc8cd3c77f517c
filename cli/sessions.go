package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	ucli "github.com/urfave/cli/v2"

	"github.com/gomcat/gomcat/runtime/admin"
	"github.com/gomcat/gomcat/runtime/node"
)

func sessionsCommand() *ucli.Command {
	return &ucli.Command{
		Name:        "sessions",
		Usage:       "list a running node's sessions, or expire one (through its admin listener); migrate them into Redis",
		ArgsUsage:   "[list | expire ID]",
		Subcommands: []*ucli.Command{migrateCommand()},
		Description: "Like Tomcat's Manager app: 'list' (the default) shows every context's sessions\n" +
			"(id, age, idle, size, primary or backup); 'expire ID' invalidates one on every member.\n" +
			"The admin address comes from the running node (HOME/logs/gomcat.json) unless --admin is given;\n" +
			"a token, if the listener needs one, from its tokenFile or --token-file.",
		Flags: []ucli.Flag{
			homeFlag(),
			&ucli.StringFlag{Name: "admin", Usage: "admin listener HOST:PORT (default: the running node's)"},
			&ucli.StringFlag{Name: "path", Usage: "context path (default: every context for list, / for expire)"},
			&ucli.StringFlag{Name: "token-file", Usage: "file holding the admin token"},
			&ucli.DurationFlag{Name: "timeout", Value: 10 * time.Second, Usage: "how long to wait for the node"},
		},
		Action: func(c *ucli.Context) error {
			base, token, err := adminTarget(c)
			if err != nil {
				return err
			}
			ctx, cancel := context.WithTimeout(c.Context, c.Duration("timeout"))
			defer cancel()
			cl := adminClient{base: base, token: token}
			switch op := c.Args().First(); op {
			case "", "list":
				return listSessions(ctx, c.App.Writer, cl, c.String("path"))
			case "expire":
				id := c.Args().Get(1)
				if id == "" {
					return errors.New("expire: which session? gomcat sessions expire ID")
				}
				path := c.String("path")
				if path == "" {
					path = "/"
				}
				var out map[string]any
				if err := cl.get(ctx, "/manager/json/expire", url.Values{"path": {path}, "id": {id}}, &out); err != nil {
					return err
				}
				fmt.Fprintf(c.App.Writer, "expired session %s of context %s\n", id, path)
				return nil
			default:
				return fmt.Errorf("unknown operation %q (list or expire ID)", op)
			}
		},
	}
}

// adminTarget is the admin base URL and token for the command.
func adminTarget(c *ucli.Context) (base, token string, err error) {
	tokenFile := c.String("token-file")
	if a := c.String("admin"); a != "" {
		base = "http://" + a
	} else {
		dir, err := home(c)
		if err != nil {
			return "", "", err
		}
		ri, err := node.ReadRunInfo(dir)
		if errors.Is(err, fs.ErrNotExist) {
			return "", "", fmt.Errorf("%s: no running node (no logs/%s); start it, or pass --admin HOST:PORT", dir, node.RunInfoFile)
		}
		if err != nil {
			return "", "", err
		}
		if ri.Admin == "" {
			return "", "", fmt.Errorf("%s: the running node has no admin listener (add one with gomcat start --admin 127.0.0.1:PORT)", dir)
		}
		base = ri.Admin
		if tokenFile == "" {
			tokenFile = ri.AdminTokenFile
		}
	}
	if tokenFile != "" {
		b, err := os.ReadFile(tokenFile)
		if err != nil {
			return "", "", fmt.Errorf("admin token: %w", err)
		}
		token = strings.TrimSpace(string(b))
	}
	return base, token, nil
}

type adminClient struct{ base, token string }

func (a adminClient) get(ctx context.Context, path string, q url.Values, v any) error {
	u := a.base + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	if a.token != "" {
		req.Header.Set("Authorization", "Bearer "+a.token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("admin listener: %w", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 32<<20))
	if err != nil {
		return fmt.Errorf("admin listener: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		var e struct{ Error string }
		if json.Unmarshal(b, &e) == nil && e.Error != "" {
			return fmt.Errorf("%s", e.Error)
		}
		return fmt.Errorf("admin listener: %s: %s", resp.Status, strings.TrimSpace(string(b)))
	}
	return json.Unmarshal(b, v)
}

func listSessions(ctx context.Context, w io.Writer, cl adminClient, only string) error {
	var ctxs []admin.ContextInfo
	if err := cl.get(ctx, "/manager/json/list", nil, &ctxs); err != nil {
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CONTEXT\tID\tAGE\tIDLE\tSIZE\tROLE")
	found := false
	for _, ci := range ctxs {
		if only != "" && ci.Path != only {
			continue
		}
		found = true
		var ss []admin.SessionInfo
		if err := cl.get(ctx, "/manager/json/sessions", url.Values{"path": {ci.Path}, "host": {ci.Host}}, &ss); err != nil {
			return err
		}
		for _, s := range ss {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\n", ci.Path, s.ID, s.Age, s.Idle, s.Size, s.Role)
		}
	}
	if only != "" && !found {
		return fmt.Errorf("no context at path %s", only)
	}
	return tw.Flush()
}
