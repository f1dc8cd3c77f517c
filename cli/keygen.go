package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	ucli "github.com/urfave/cli/v2"

	"github.com/gomcat/gomcat/internal/seal"
)

func keygenCommand() *ucli.Command {
	return &ucli.Command{
		Name:      "keygen",
		Usage:     "make a cluster key file (mode 0600), or step it through a key rotation",
		ArgsUsage: "FILE",
		Description: "Writes FILE with one new random 32-byte key (AES-256). Give every node a copy and set\n" +
			"<Cluster keyFile=\"FILE\"> (or --cluster-key-file). The first key of the file seals, every key\n" +
			"opens; nodes reload the file when it changes (or on SIGHUP). Rotation without downtime, each\n" +
			"step copied to every node before the next:\n" +
			"  1. gomcat keygen --add FILE      adds a new key last: accepted everywhere, not yet used\n" +
			"  2. gomcat keygen --promote FILE  moves the newest key first: every node seals with it\n" +
			"  3. gomcat keygen --retire FILE   keeps only the first key: the old one stops opening\n" +
			"Without FILE (and without a step flag) the key file is printed instead.",
		Flags: []ucli.Flag{
			&ucli.BoolFlag{Name: "force", Usage: "overwrite an existing FILE with a new key"},
			&ucli.BoolFlag{Name: "add", Usage: "rotation step 1: add a new key at the end of FILE"},
			&ucli.BoolFlag{Name: "promote", Usage: "rotation step 2: move the last key of FILE first"},
			&ucli.BoolFlag{Name: "retire", Usage: "rotation step 3: keep only the first key of FILE"},
		},
		Action: func(c *ucli.Context) error {
			steps := 0
			for _, f := range []string{"add", "promote", "retire"} {
				if c.Bool(f) {
					steps++
				}
			}
			if steps > 1 || steps == 1 && c.Bool("force") {
				return errors.New("keygen: give one of --add, --promote, --retire (and no --force with them)")
			}
			path := c.Args().First()
			if c.NArg() > 1 {
				return fmt.Errorf("keygen takes one FILE (got %d arguments)", c.NArg())
			}
			if path == "" {
				if steps > 0 {
					return errors.New("keygen: a rotation step needs the key FILE")
				}
				_, err := c.App.Writer.Write(seal.FormatKeyFile(seal.NewKey()))
				return err
			}
			keys, verb, err := keygenKeys(c, path)
			if err != nil {
				return err
			}
			if err := writeKeyFile(path, keys); err != nil {
				return err
			}
			fmt.Fprintf(c.App.Writer, "%s %s: %d key(s), seals with key id %s\n", verb, path, len(keys), seal.ID(keys[0]))
			return nil
		},
	}
}

// keygenKeys returns the keys FILE should hold after the command, and what
// was done.
func keygenKeys(c *ucli.Context, path string) ([][]byte, string, error) {
	if !c.Bool("add") && !c.Bool("promote") && !c.Bool("retire") {
		if _, err := os.Stat(path); err == nil && !c.Bool("force") {
			return nil, "", fmt.Errorf("%s exists; pass --force to replace its keys (to rotate, use --add, --promote, --retire)", path)
		} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, "", err
		}
		return [][]byte{seal.NewKey()}, "wrote", nil
	}
	keys, err := seal.LoadKeyFile(path)
	if err != nil {
		return nil, "", err
	}
	switch {
	case c.Bool("add"):
		if len(keys) >= seal.MaxFileKeys {
			return nil, "", fmt.Errorf("%s holds %d keys already; retire old ones first", path, len(keys))
		}
		return append(keys, seal.NewKey()), "added a key to", nil
	case c.Bool("promote"):
		if len(keys) < 2 {
			return nil, "", fmt.Errorf("%s has one key: add one first (--add), copy the file to every node, then promote", path)
		}
		last := keys[len(keys)-1]
		return append([][]byte{last}, keys[:len(keys)-1]...), "promoted the newest key of", nil
	default:
		return keys[:1], "retired the old keys of", nil
	}
}

// writeKeyFile writes keys to path with mode 0600, atomically (a node
// reloading it never sees half a file).
func writeKeyFile(path string, keys [][]byte) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, ".cluster-key-*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return err
	}
	if _, err := f.Write(seal.FormatKeyFile(keys...)); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}
