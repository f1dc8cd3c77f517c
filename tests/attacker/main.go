//go:build e2e

// Command attacker is the adversarial e2e suite's attacker: it runs one
// bounded attack against a cluster node and prints what happened. Every
// attack is bounded in count and time by its flags.
//
//	attacker heartbeat --group G:P --bind IP --name N --id HEX|random --host IP --port P
//	         [--started MS] [--shutdown] [--members K] [--listen|--receiver|--blackhole]
//	         [--every D] [--for D]
//	attacker conns   --to ADDR --count N [--hello NAME] [--hold D]
//	attacker trickle --to ADDR --conns N [--claim BYTES] [--for D]
//	attacker send    --to ADDR --as NAME --id HEX --kind delta|rename|expire|getall|filestart
//	         [--count N] [--session ID] [--context C] [--wait D]
//
// Output lines (one per attack, parsed by the tests): "HEARTBEAT sent=..",
// "RECV channel=.. kind=.. count=..", "CONNS opened=.. refused=.. closed=..",
// "TRICKLE conns=.. closed=..", "SEND ok=.. failed=.. err=..".
package main

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fxamacker/cbor/v2"
	"golang.org/x/net/ipv4"

	"github.com/gomcat/gomcat/deltamgr"
	"github.com/gomcat/gomcat/mcast"
	"github.com/gomcat/gomcat/transport"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: attacker heartbeat|conns|trickle|send [flags]")
		os.Exit(2)
	}
	cmds := map[string]func([]string) error{"heartbeat": heartbeat, "conns": conns, "trickle": trickle, "send": send}
	f := cmds[os.Args[1]]
	if f == nil {
		fmt.Fprintf(os.Stderr, "attacker: unknown command %q\n", os.Args[1])
		os.Exit(2)
	}
	if err := f(os.Args[2:]); err != nil {
		fmt.Fprintln(os.Stderr, "attacker:", err)
		os.Exit(1)
	}
}

func parseID(s string) ([16]byte, error) {
	var id [16]byte
	if s == "random" || s == "" {
		_, _ = rand.Read(id[:])
		return id, nil
	}
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != 16 {
		return id, fmt.Errorf("id %q: want 32 hex digits", s)
	}
	copy(id[:], b)
	return id, nil
}

// heartbeat sends forged heartbeats: one member, or --members K of them
// (names NAME-i, random ids, ports PORT+i), each with an optional
// listener on its port so that probes answer.
func heartbeat(args []string) error {
	fs := flag.NewFlagSet("heartbeat", flag.ExitOnError)
	group := fs.String("group", "228.0.0.4:45564", "multicast group")
	bind := fs.String("bind", "", "IP of the interface to send on")
	name := fs.String("name", "evil", "member name")
	idHex := fs.String("id", "random", "unique id (32 hex digits)")
	host := fs.String("host", "", "advertised receiver IP")
	port := fs.Int("port", 4000, "advertised receiver port")
	started := fs.Int64("started", 0, "start time, unix ms (0: now; negative: now minus that)")
	url := fs.String("url", "", "advertised HTTP URL")
	domain := fs.String("domain", "", "cluster domain")
	shutdown := fs.Bool("shutdown", false, "send goodbyes")
	members := fs.Int("members", 1, "number of members (flood)")
	listen := fs.Bool("listen", false, "accept and close on each member's port")
	receiver := fs.Bool("receiver", false, "run a transport receiver on the port and count what arrives")
	blackhole := fs.Bool("blackhole", false, "accept on the port and never answer")
	every := fs.Duration("every", 500*time.Millisecond, "heartbeat interval")
	dur := fs.Duration("for", 5*time.Second, "how long")
	fs.Parse(args)
	if *members < 1 || *members > 2000 || *dur > 2*time.Minute {
		return errors.New("members 1..2000, for <= 2m")
	}
	id0, err := parseID(*idHex)
	if err != nil {
		return err
	}
	st := *started
	switch {
	case st == 0:
		st = time.Now().UnixMilli()
	case st < 0:
		st = time.Now().UnixMilli() + st
	}
	ctx, cancel := context.WithTimeout(context.Background(), *dur)
	defer cancel()
	var lns []net.Listener
	defer func() {
		for _, l := range lns {
			l.Close()
		}
	}()
	var recvd sync.Map // "channel kind" -> *atomic.Int64
	for i := range *members {
		addr := net.JoinHostPort(*host, strconv.Itoa(*port+i))
		switch {
		case *receiver:
			tc := transport.DefaultConfig()
			tc.Address, tc.Port, tc.AutoBind = *host, *port+i, 1
			r, err := transport.NewReceiver(tc, transport.HandlerFunc(func(_ context.Context, _ transport.Peer, m *transport.Message) error {
				k := fmt.Sprintf("channel=%d kind=%s", m.Channel, kindOf(m))
				v, _ := recvd.LoadOrStore(k, new(atomic.Int64))
				v.(*atomic.Int64).Add(1)
				return nil
			}))
			if err != nil {
				return err
			}
			if err := r.Start(ctx); err != nil {
				return err
			}
			defer r.Stop(context.Background())
		case *listen, *blackhole:
			l, err := net.Listen("tcp", addr)
			if err != nil {
				return err
			}
			lns = append(lns, l)
			hold := *blackhole
			go func() {
				for {
					c, err := l.Accept()
					if err != nil {
						return
					}
					if !hold {
						c.Close()
						continue
					}
					go func() { // never answers; closed when the attack ends
						<-ctx.Done()
						c.Close()
					}()
				}
			}()
		}
	}
	gaddr, err := net.ResolveUDPAddr("udp4", *group)
	if err != nil {
		return err
	}
	uc, err := net.ListenPacket("udp4", net.JoinHostPort(*bind, "0"))
	if err != nil {
		return err
	}
	defer uc.Close()
	pc := ipv4.NewPacketConn(uc)
	if ifi := ifaceOf(*bind); ifi != nil {
		_ = pc.SetMulticastInterface(ifi)
	}
	_ = pc.SetMulticastTTL(1)
	ip := net.ParseIP(*host).To4()
	sent := 0
	t := time.NewTicker(*every)
	defer t.Stop()
	for {
		for i := range *members {
			id := id0
			n := *name
			if *members > 1 {
				binary.BigEndian.PutUint32(id[12:], uint32(i))
				n = fmt.Sprintf("%s-%d", *name, i)
			}
			payload, err := mcast.EncodePayload(nil, mcast.Payload{Protocol: mcast.ProtocolVersion, Name: n, HTTPURL: *url, StartedAt: st})
			if err != nil {
				return err
			}
			h := mcast.Heartbeat{Alive: time.Now().UnixMilli() - st, Port: *port + i, SecurePort: -1, UDPPort: -1, Host: ip,
				Domain: []byte(*domain), UniqueID: id, Payload: payload}
			if *shutdown {
				h.Command = mcast.ShutdownCommand
			}
			b, err := h.AppendTo(nil)
			if err != nil {
				return err
			}
			if _, err := pc.WriteTo(b, nil, gaddr); err == nil {
				sent++
			}
		}
		select {
		case <-ctx.Done():
			fmt.Printf("HEARTBEAT sent=%d\n", sent)
			recvd.Range(func(k, v any) bool {
				fmt.Printf("RECV %s count=%d\n", k, v.(*atomic.Int64).Load())
				return true
			})
			return nil
		case <-t.C:
		}
	}
}

func ifaceOf(ip string) *net.Interface {
	ifs, _ := net.Interfaces()
	for i := range ifs {
		addrs, _ := ifs[i].Addrs()
		for _, a := range addrs {
			if n, ok := a.(*net.IPNet); ok && n.IP.String() == ip {
				return &ifs[i]
			}
		}
	}
	return nil
}

// kindOf names a received session message's kind ("-" if not one).
func kindOf(m *transport.Message) string {
	if m.Channel != transport.ChannelSessions {
		return "-"
	}
	if dm, err := deltamgr.Decode(m.Payload); err == nil {
		return dm.Kind.String()
	}
	return "?"
}

// conns opens count connections (optionally sending a hello) and holds
// them, then reports how many the node closed.
func conns(args []string) error {
	fs := flag.NewFlagSet("conns", flag.ExitOnError)
	to := fs.String("to", "", "receiver address")
	count := fs.Int("count", 100, "connections")
	helloName := fs.String("hello", "", "send an unsealed hello with this name")
	hold := fs.Duration("hold", 5*time.Second, "how long to hold them")
	fs.Parse(args)
	if *count < 1 || *count > 5000 || *hold > time.Minute {
		return errors.New("count 1..5000, hold <= 1m")
	}
	var opened, refused, closed atomic.Int64
	var wg sync.WaitGroup
	deadline := time.Now().Add(*hold)
	sem := make(chan struct{}, 200)
	for range *count {
		sem <- struct{}{}
		wg.Go(func() {
			d := net.Dialer{Timeout: 2 * time.Second}
			c, err := d.Dial("tcp", *to)
			<-sem
			if err != nil {
				refused.Add(1)
				return
			}
			defer c.Close()
			opened.Add(1)
			if *helloName != "" {
				c.Write(helloFrame(*helloName, [16]byte{1}))
			}
			c.SetReadDeadline(deadline)
			if _, err := io.Copy(io.Discard, c); err == nil || errors.Is(err, net.ErrClosed) || isReset(err) {
				closed.Add(1)
			}
		})
	}
	wg.Wait()
	fmt.Printf("CONNS opened=%d refused=%d closed=%d\n", opened.Load(), refused.Load(), closed.Load())
	return nil
}

func isReset(err error) bool {
	var ne net.Error
	return err != nil && !(errors.As(err, &ne) && ne.Timeout())
}

// helloFrame is an unsealed transport hello.
func helloFrame(name string, id [16]byte) []byte {
	p := append([]byte{byte(len(name))}, name...)
	p = append(p, id[:]...)
	p = binary.BigEndian.AppendUint64(p, 1)
	env := append([]byte{1, 1, 0, 0, 0}, make([]byte, 8)...) // version 1, type hello, id 0
	env = append(env, p...)
	f := binary.BigEndian.AppendUint32([]byte("FLT2002"), uint32(len(env)))
	f = append(f, env...)
	return append(f, "TLF2003"...)
}

// trickle opens conns connections that claim a frame of claim bytes and
// send it one byte per second.
func trickle(args []string) error {
	fs := flag.NewFlagSet("trickle", flag.ExitOnError)
	to := fs.String("to", "", "receiver address")
	n := fs.Int("conns", 40, "connections")
	claim := fs.Int("claim", 15<<20, "claimed frame body length")
	dur := fs.Duration("for", 10*time.Second, "how long")
	fs.Parse(args)
	if *n < 1 || *n > 1000 || *dur > time.Minute {
		return errors.New("conns 1..1000, for <= 1m")
	}
	var closed atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for range *n {
		wg.Go(func() {
			c, err := net.DialTimeout("tcp", *to, 2*time.Second)
			if err != nil {
				return
			}
			defer c.Close()
			c.Write(binary.BigEndian.AppendUint32([]byte("FLT2002"), uint32(*claim)))
			for time.Since(start) < *dur {
				c.SetWriteDeadline(time.Now().Add(time.Second))
				if _, err := c.Write([]byte{1}); err != nil {
					closed.Add(1)
					return
				}
				c.SetReadDeadline(time.Now().Add(time.Second))
				if _, err := c.Read(make([]byte, 1)); err != nil && !isTimeout(err) {
					closed.Add(1)
					return
				}
			}
		})
	}
	wg.Wait()
	fmt.Printf("TRICKLE conns=%d closed=%d\n", *n, closed.Load())
	return nil
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// send sends forged messages with a transport Sender whose hello says
// --as/--id, synchronously (use_ack|sync), and reports the outcome.
func send(args []string) error {
	fs := flag.NewFlagSet("send", flag.ExitOnError)
	to := fs.String("to", "", "receiver address")
	as := fs.String("as", "evil", "name in the hello")
	idHex := fs.String("id", "random", "unique id in the hello")
	kinds := fs.String("kind", "delta", "delta|rename|expire|getall|filestart, or a comma list (one message each)")
	count := fs.Int("count", 1, "messages")
	sid := fs.String("session", "", "session id")
	ctxName := fs.String("context", "localhost#", "session manager")
	wait := fs.Duration("wait", 0, "retry the first message until it succeeds or this passes")
	async := fs.Bool("async", false, "send asynchronously after the first")
	fs.Parse(args)
	if *count < 1 || *count > 50000 || *wait > time.Minute {
		return errors.New("count 1..50000, wait <= 1m")
	}
	id, err := parseID(*idHex)
	if err != nil {
		return err
	}
	tc := transport.DefaultConfig()
	tc.Self = transport.Peer{Name: *as, UniqueID: id}
	tc.Timeout = time.Second
	s, err := transport.NewSender(tc)
	if err != nil {
		return err
	}
	defer s.Stop(context.Background())
	ok, failed := 0, 0
	var last error
	deadline := time.Now().Add(*wait)
	list := strings.Split(*kinds, ",")
	if len(list) > 1 {
		*count = len(list)
	}
	for i := range *count {
		ch, payload := message(list[min(i, len(list)-1)], i, *sid, *ctxName)
		opts := 6
		if *async && i > 0 {
			opts = 8
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err := s.Send(ctx, *to, transport.Message{Channel: ch, Options: opts, Payload: payload})
		cancel()
		for i == 0 && err != nil && time.Now().Before(deadline) {
			time.Sleep(200 * time.Millisecond)
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			err = s.Send(ctx, *to, transport.Message{Channel: ch, Options: opts, Payload: payload})
			cancel()
		}
		if err != nil {
			failed++
			last = err
			if i == 0 && *count > 1 && len(list) == 1 {
				break // not admitted: the rest would fail the same way
			}
			continue
		}
		ok++
	}
	fmt.Printf("SEND ok=%d failed=%d err=%q\n", ok, failed, fmt.Sprint(last))
	return nil
}

// message builds forged message i of kind.
func message(kind string, i int, sid, ctxName string) (transport.Channel, []byte) {
	now := time.Now().UnixMilli()
	var m deltamgr.Message
	switch kind {
	case "filestart":
		sum := sha256.Sum256(nil)
		b, _ := cbor.Marshal(map[int]any{1: 1, 2: 1, 3: uint64(i + 1), 4: fmt.Sprintf("evil%d.gar", i), 5: 1 << 20, 6: sum[:]})
		return transport.ChannelFarm, b
	case "delta":
		v, _ := cbor.Marshal("pwned")
		m = deltamgr.Message{Kind: deltamgr.KindDelta, SessionID: sid, Created: time.Now().UnixNano(),
			Delta: &deltamgr.Delta{Attrs: []deltamgr.AttrOp{{Name: "k", Value: v}}, MaxInactive: -1, MaxInactiveSet: true}}
	case "rename":
		m = deltamgr.Message{Kind: deltamgr.KindChangeSessionID, SessionID: sid, NewID: "EVIL" + sid}
	case "expire":
		m = deltamgr.Message{Kind: deltamgr.KindExpired, SessionID: sid}
	case "getall":
		m = deltamgr.Message{Kind: deltamgr.KindGetAllSessions, Transfer: uint64(i + 1)}
	}
	m.Version, m.Context, m.Timestamp = deltamgr.Version, ctxName, now
	b, _ := deltamgr.Encode(&m)
	return transport.ChannelSessions, b
}
