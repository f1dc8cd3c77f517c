// Command embed is your own gomcat binary: it registers an app called
// "shop" and runs the stock command line, so every gomcat command works:
//
//	go run ./examples/embed init --home /tmp/shop-node --http-port 8093 --shutdown-port 8007
//	cat > /tmp/shop-node/conf/Catalina/localhost/shop.xml <<'XML'
//	<Context app="shop" distributable="true"/>
//	XML
//	go run ./examples/embed start --home /tmp/shop-node
//	curl -c jar -b jar 'http://127.0.0.1:8093/shop/add?item=tea'
//
// The app keeps a basket in the session; basket values are CBOR-encoded,
// so they survive failover to another node of a cluster unchanged.
package main

import (
	"encoding/json"
	"net/http"
	"os"

	"github.com/gomcat/gomcat/cli"
	"github.com/gomcat/gomcat/runtime/host"
	"github.com/gomcat/gomcat/runtime/session"
)

// Basket is what the shop keeps per visitor.
type Basket struct {
	Items []string `cbor:"items" json:"items"`
}

func shop(ctx host.AppContext) (http.Handler, error) {
	mux := http.NewServeMux()
	show := func(w http.ResponseWriter, b Basket) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"node": ctx.JvmRoute, "basket": b.Items})
	}
	mux.HandleFunc("/add", func(w http.ResponseWriter, r *http.Request) {
		s, err := session.Ensure(r)
		if err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		b, _, _ := session.GetAs[Basket](s, "basket")
		b.Items = append(b.Items, r.URL.Query().Get("item"))
		if err := s.Set("basket", b); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		show(w, b)
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		var b Basket
		if s := session.From(r); s != nil {
			b, _, _ = session.GetAs[Basket](s, "basket")
		}
		show(w, b)
	})
	return mux, nil
}

func main() {
	host.Register("shop", shop)
	os.Exit(cli.Main(os.Args))
}
