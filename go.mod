module github.com/gomcat/gomcat

go 1.26.8

require (
	github.com/fxamacker/cbor/v2 v2.9.0
	github.com/rs/zerolog v1.34.0
	github.com/urfave/cli/v2 v2.27.7
	golang.org/x/net v0.47.0
	golang.org/x/sys v0.38.0
)

require (
	github.com/cpuguy83/go-md2man/v2 v2.0.7 // indirect
	github.com/mattn/go-colorable v0.1.13 // indirect
	github.com/mattn/go-isatty v0.0.19 // indirect
	github.com/russross/blackfriday/v2 v2.1.0 // indirect
	github.com/x448/float16 v0.8.4 // indirect
	github.com/xrash/smetrics v0.0.0-20240521201337-686a1a2994c1 // indirect
)
