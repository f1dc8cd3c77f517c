package deps

import (
	_ "github.com/fxamacker/cbor/v2"
	_ "github.com/rs/zerolog"
	_ "github.com/urfave/cli/v2"
	_ "golang.org/x/net/ipv4"
)
